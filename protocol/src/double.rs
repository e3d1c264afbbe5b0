//! Doubles as Redis 7.0 prints them in replies: C's `%.17g`, and `inf`/`-inf`.

use std::io::Write;

/// Room for the longest `%.17g` text, e.g. `-2.2250738585072014e-308`.
const DOUBLE_TEXT_CAPACITY: usize = 32;
/// Significant digits `%.17g` prints, enough to round-trip every double.
const SIGNIFICANT_DIGITS: i32 = 17;

/// A formatted double, held on the stack.
#[derive(Debug, Clone, Copy)]
pub struct DoubleText {
    bytes: [u8; DOUBLE_TEXT_CAPACITY],
    len: usize,
}

impl DoubleText {
    /// The text, e.g. `1.1000000000000001`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn push(&mut self, byte: u8) {
        assert!(
            self.len < DOUBLE_TEXT_CAPACITY,
            "double text outgrew its buffer"
        );
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    fn push_all(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|&byte| self.push(byte));
    }
}

/// Formats `value` exactly as glibc's `printf("%.17g")` does, which is what
/// Redis 7.0 sends for scores and other doubles, without allocating.
pub fn format_double(value: f64) -> DoubleText {
    let mut text = DoubleText {
        bytes: [0; DOUBLE_TEXT_CAPACITY],
        len: 0,
    };
    // glibc prints the sign of negative zero and of a negative NaN too.
    if value.is_sign_negative() {
        text.push(b'-');
    }
    if value.is_nan() {
        text.push_all(b"nan");
        return text;
    }
    if value.is_infinite() {
        text.push_all(b"inf");
        return text;
    }
    if value == 0.0 {
        text.push(b'0');
        return text;
    }
    // Rust prints the correctly rounded 17 significant digits in scientific
    // form; %g then only chooses where the point goes and trims zeros.
    let mut scientific = [0u8; DOUBLE_TEXT_CAPACITY];
    let written = {
        let mut cursor = &mut scientific[..];
        write!(cursor, "{:.16e}", value.abs())
            .expect("a double's scientific text fits in 32 bytes");
        DOUBLE_TEXT_CAPACITY - cursor.len()
    };
    let scientific = &scientific[..written];
    let e_at = scientific
        .iter()
        .position(|&b| b == b'e')
        .expect("scientific text has an exponent");
    let exponent: i32 = std::str::from_utf8(&scientific[e_at + 1..])
        .ok()
        .and_then(|text| text.parse().ok())
        .expect("the exponent is a decimal integer");
    let mut digits = [0u8; SIGNIFICANT_DIGITS as usize];
    let mantissa = scientific[..e_at].iter().filter(|b| b.is_ascii_digit());
    for (slot, &digit) in digits.iter_mut().zip(mantissa) {
        *slot = digit;
    }
    // %g drops trailing zeros of the significant digits (no '#' flag).
    let kept = digits
        .iter()
        .rposition(|&d| d != b'0')
        .map_or(1, |last| last + 1);
    let digits = &digits[..kept];
    if (-4..SIGNIFICANT_DIGITS).contains(&exponent) {
        push_fixed(&mut text, digits, exponent);
    } else {
        push_exponential(&mut text, digits, exponent);
    }
    text
}

fn push_fixed(text: &mut DoubleText, digits: &[u8], exponent: i32) {
    if exponent < 0 {
        text.push_all(b"0.");
        (0..(-exponent - 1)).for_each(|_| text.push(b'0'));
        text.push_all(digits);
        return;
    }
    let integer_len = exponent as usize + 1;
    for i in 0..integer_len {
        text.push(digits.get(i).copied().unwrap_or(b'0'));
    }
    if digits.len() > integer_len {
        text.push(b'.');
        text.push_all(&digits[integer_len..]);
    }
}

fn push_exponential(text: &mut DoubleText, digits: &[u8], exponent: i32) {
    text.push(digits[0]);
    if digits.len() > 1 {
        text.push(b'.');
        text.push_all(&digits[1..]);
    }
    text.push(b'e');
    text.push(if exponent < 0 { b'-' } else { b'+' });
    let magnitude = exponent.unsigned_abs();
    if magnitude < 10 {
        text.push(b'0');
    }
    let mut buffer = itoa::Buffer::new();
    text.push_all(buffer.format(magnitude).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::format_double;
    use proptest::prelude::*;

    fn libc_g17(value: f64) -> String {
        let mut buffer = [0u8; 64];
        // SAFETY: the buffer is 64 bytes, snprintf writes at most that many
        // including the NUL, and the format takes exactly one double.
        let len = unsafe {
            libc::snprintf(
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                c"%.17g".as_ptr(),
                value,
            )
        };
        String::from_utf8_lossy(&buffer[..len as usize]).into_owned()
    }

    fn shoal(value: f64) -> String {
        String::from_utf8_lossy(format_double(value).as_bytes()).into_owned()
    }

    #[test]
    fn matches_redis_examples() {
        assert_eq!(shoal(1.1), "1.1000000000000001");
        assert_eq!(shoal(3.0), "3");
        assert_eq!(shoal(-0.0), "-0");
        assert_eq!(shoal(0.0), "0");
        assert_eq!(shoal(f64::INFINITY), "inf");
        assert_eq!(shoal(f64::NEG_INFINITY), "-inf");
        assert_eq!(shoal(1e17), "1e+17");
        assert_eq!(shoal(1e16), "10000000000000000");
        assert_eq!(shoal(0.0001), "0.0001");
        assert_eq!(shoal(0.00001), "1.0000000000000001e-05");
        assert_eq!(shoal(f64::MIN_POSITIVE), "2.2250738585072014e-308");
        assert_eq!(shoal(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(shoal(5e-324), "4.9406564584124654e-324");
    }

    #[test]
    fn agrees_with_libc_on_edge_values() {
        for value in [
            1.5,
            -2.25,
            123456789.0,
            0.1,
            1e-4,
            9.99999e-5,
            1e21,
            12345678901234567.0,
            0.3,
        ] {
            assert_eq!(shoal(value), libc_g17(value), "{value:e}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_libc_on_any_bits(bits in any::<u64>()) {
            let value = f64::from_bits(bits);
            prop_assume!(!value.is_nan());
            prop_assert_eq!(shoal(value), libc_g17(value));
        }

        #[test]
        fn agrees_with_libc_on_everyday_scores(value in -1e9f64..1e9) {
            prop_assert_eq!(shoal(value), libc_g17(value));
        }
    }
}
