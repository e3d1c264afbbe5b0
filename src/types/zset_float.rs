//! Scores from client text, read exactly as Redis reads them: through C's
//! `strtod` in the C locale, with the checks Redis adds around it.
//!
//! Redis parses scores (`ZADD`, `ZINCRBY`, `WEIGHTS`) with
//! `getDoubleFromObject` and score ranges (`ZRANGEBYSCORE`, `ZCOUNT`, ...)
//! with `zslParseRange`; both call `strtod`, which accepts more than Rust's
//! `f64::from_str` (hexadecimal floats, `infinity`, leading blanks in
//! ranges) and reports overflow and underflow through `errno`. This module
//! emulates glibc's `strtod` prefix rules and leaves the decimal conversion
//! itself to Rust, which rounds correctly as glibc does.

/// What `strtod` made of its input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strtod {
    /// The value converted (0 when nothing was).
    pub value: f64,
    /// Bytes consumed: where C's `endptr` points; 0 when nothing converted.
    pub consumed: usize,
    /// `errno == ERANGE`: the text named a finite number too large
    /// (`value` is infinite) or too small (`value` is 0) for a double.
    pub out_of_range: bool,
}

/// C's `isspace` in the C locale.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn count_while(text: &[u8], from: usize, accept: impl Fn(u8) -> bool) -> usize {
    text[from.min(text.len())..]
        .iter()
        .take_while(|&&byte| accept(byte))
        .count()
}

/// Converts the longest prefix of `text` that C's `strtod` would, stopping
/// at a NUL byte as C does.
pub fn strtod(text: &[u8]) -> Strtod {
    let nothing = Strtod {
        value: 0.0,
        consumed: 0,
        out_of_range: false,
    };
    let mut at = count_while(text, 0, is_c_space);
    let negative = text.get(at) == Some(&b'-');
    if matches!(text.get(at), Some(b'-' | b'+')) {
        at += 1;
    }
    let rest = &text[at..];
    let sign = if negative { -1.0 } else { 1.0 };
    if starts_with_ignore_case(rest, b"inf") {
        let len = if starts_with_ignore_case(rest, b"infinity") {
            8
        } else {
            3
        };
        return Strtod {
            value: sign * f64::INFINITY,
            consumed: at + len,
            out_of_range: false,
        };
    }
    if starts_with_ignore_case(rest, b"nan") {
        let mut len = 3;
        // `nan(chars)` takes the parenthesised part too when it is closed.
        if rest.get(3) == Some(&b'(') {
            let inner = count_while(rest, 4, |byte| byte.is_ascii_alphanumeric() || byte == b'_');
            if rest.get(4 + inner) == Some(&b')') {
                len = 5 + inner;
            }
        }
        return Strtod {
            value: f64::NAN,
            consumed: at + len,
            out_of_range: false,
        };
    }
    let parsed = if let Some(hex) = hex_prefix(rest) {
        parse_hex(rest, hex)
    } else {
        parse_decimal(rest)
    };
    match parsed {
        None => nothing,
        Some((magnitude, len, out_of_range)) => Strtod {
            value: sign * magnitude,
            consumed: at + len,
            out_of_range,
        },
    }
}

/// Where the hexadecimal digits start, if `text` is a hexadecimal float
/// (`0x` followed by a digit, or by a point and a digit).
fn hex_prefix(text: &[u8]) -> Option<usize> {
    if text.len() < 3 || text[0] != b'0' || !matches!(text[1], b'x' | b'X') {
        return None;
    }
    let digit_at = |index: usize| text.get(index).is_some_and(u8::is_ascii_hexdigit);
    (digit_at(2) || (text[2] == b'.' && digit_at(3))).then_some(2)
}

/// The length of an exponent (`e-12`, `p+3`) at `at`, or 0 when the marker
/// is not followed by digits (C then leaves it unconsumed).
fn exponent_len(text: &[u8], at: usize, markers: [u8; 2]) -> usize {
    if !text.get(at).is_some_and(|byte| markers.contains(byte)) {
        return 0;
    }
    let mut len = 1;
    if matches!(text.get(at + 1), Some(b'-' | b'+')) {
        len += 1;
    }
    let digits = count_while(text, at + len, |byte| byte.is_ascii_digit());
    if digits == 0 {
        0
    } else {
        len + digits
    }
}

/// A decimal float without sign: (magnitude, length, out of range).
fn parse_decimal(text: &[u8]) -> Option<(f64, usize, bool)> {
    let integer = count_while(text, 0, |byte| byte.is_ascii_digit());
    let mut len = integer;
    let mut fraction = 0;
    if text.get(len) == Some(&b'.') {
        fraction = count_while(text, len + 1, |byte| byte.is_ascii_digit());
        if integer + fraction > 0 {
            len += 1 + fraction;
        }
    }
    if integer + fraction == 0 {
        return None;
    }
    let mantissa_nonzero = text[..len]
        .iter()
        .any(|&byte| (b'1'..=b'9').contains(&byte));
    len += exponent_len(text, len, [b'e', b'E']);
    let body = std::str::from_utf8(&text[..len]).expect("digits, point and exponent are ASCII");
    let value: f64 = body
        .parse()
        .expect("a digit sequence with an optional exponent parses");
    let out_of_range = value.is_infinite() || (value == 0.0 && mantissa_nonzero);
    Some((value, len, out_of_range))
}

/// Hexadecimal significant digits kept: 16 fill a u64; the rest only
/// shift the exponent (their bits lie below a double's precision).
const HEX_DIGITS_KEPT: usize = 16;

/// A hexadecimal float without sign, digits from `start`.
fn parse_hex(text: &[u8], start: usize) -> Option<(f64, usize, bool)> {
    let mut mantissa: u64 = 0;
    let mut kept = 0;
    let mut exponent: i64 = 0;
    let mut at = start;
    let mut seen_point = false;
    while let Some(&byte) = text.get(at) {
        let digit = match byte {
            b'.' if !seen_point => {
                seen_point = true;
                at += 1;
                continue;
            }
            _ => match (byte as char).to_digit(16) {
                Some(digit) => u64::from(digit),
                None => break,
            },
        };
        if kept < HEX_DIGITS_KEPT {
            if mantissa != 0 || digit != 0 {
                mantissa = mantissa << 4 | digit;
                kept += 1;
            }
            if seen_point {
                exponent -= 4;
            }
        } else if !seen_point {
            exponent += 4;
        }
        at += 1;
    }
    let binary = exponent_len(text, at, [b'p', b'P']);
    if binary > 0 {
        let digits = &text[at + 1..at + binary];
        let value: i64 = std::str::from_utf8(digits)
            .ok()
            .and_then(|digits| digits.parse().ok())
            .unwrap_or(if digits.first() == Some(&b'-') {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            });
        exponent = exponent.saturating_add(value);
    }
    let value = scale_by_power_of_two(mantissa as f64, exponent);
    let out_of_range = value.is_infinite() || (value == 0.0 && mantissa != 0);
    Some((value, at + binary, out_of_range))
}

/// `value × 2^exponent`, in steps that stay exact until the result itself
/// overflows or underflows.
fn scale_by_power_of_two(mut value: f64, mut exponent: i64) -> f64 {
    const STEP: i64 = 1000;
    while exponent > STEP && value.is_finite() && value != 0.0 {
        value *= 2f64.powi(STEP as i32);
        exponent -= STEP;
    }
    while exponent < -STEP && value != 0.0 {
        value *= 2f64.powi(-STEP as i32);
        exponent += STEP;
    }
    value * 2f64.powi(exponent as i32)
}

/// A score as Redis's `getDoubleFromObject` reads it: the whole argument
/// must convert, with no leading blank, no overflow or underflow to zero,
/// and no NaN.
pub fn parse_score(arg: &[u8]) -> Option<f64> {
    if arg.first().is_none_or(|&byte| is_c_space(byte)) {
        return None;
    }
    let parsed = strtod(arg);
    let lost = parsed.out_of_range && (parsed.value.is_infinite() || parsed.value == 0.0);
    (parsed.consumed == arg.len() && !lost && !parsed.value.is_nan()).then_some(parsed.value)
}

/// One end of a score range as Redis's `zslParseRange` reads it: `(`
/// makes it exclusive, the rest goes to `strtod` as a C string (so up to a
/// NUL byte), which must take all of it; blanks before the number, an
/// empty number (0) and out-of-range values pass, NaN does not.
pub fn parse_range_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let text = arg.split(|&byte| byte == 0).next().unwrap_or(&[]);
    let (body, exclusive) = match text.split_first() {
        Some((b'(', rest)) => (rest, true),
        _ => (text, false),
    };
    let parsed = strtod(body);
    (parsed.consumed == body.len() && !parsed.value.is_nan()).then_some((parsed.value, exclusive))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc's strtod, for comparison.
    fn libc_strtod(text: &[u8]) -> (f64, usize) {
        let mut owned = text.to_vec();
        owned.push(0);
        let mut end: *mut libc::c_char = std::ptr::null_mut();
        // SAFETY: `owned` is NUL-terminated and outlives the call; strtod
        // only reads up to the NUL and writes the end pointer we pass.
        let value = unsafe { libc::strtod(owned.as_ptr().cast(), &mut end) };
        let consumed = end as usize - owned.as_ptr() as usize;
        (value, consumed)
    }

    #[test]
    fn agrees_with_libc_on_prefixes() {
        let cases: &[&[u8]] = &[
            b"1",
            b"-1.5",
            b"+2",
            b" 3",
            b"\t-4e2x",
            b"1e",
            b"1e+",
            b"1e+5",
            b".5",
            b"5.",
            b".",
            b"-",
            b"+",
            b"",
            b"abc",
            b"inf",
            b"-Infinity",
            b"infinit",
            b"nan",
            b"NaN(12)x",
            b"nan(",
            b"0x10",
            b"0x",
            b"0x.8",
            b"0x1p3",
            b"0x1P-2",
            b"0x1p",
            b"0xg",
            b"1e400",
            b"1e-400",
            b"4e-320",
            b"00012",
            b"1.2.3",
            b"1_0",
            b"0x1.8p1",
            b"-0",
            b"1 ",
            b"12\x0034",
            b"123456789012345678901234567890",
            b"0x123456789abcdef0123",
            b"0.000001e-2",
        ];
        for &case in cases {
            let ours = strtod(case);
            let (value, consumed) = libc_strtod(case);
            assert_eq!(ours.consumed, consumed, "consumed of {case:?}");
            if value.is_nan() {
                assert!(ours.value.is_nan(), "{case:?}");
            } else {
                assert_eq!(ours.value.to_bits(), value.to_bits(), "value of {case:?}");
            }
        }
    }

    #[test]
    fn scores_are_checked_as_redis_checks_them() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"4e-320"), Some(4e-320));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"1e400",
            b"1e-400",
            b"1e",
            b"1\x002",
        ] {
            assert_eq!(parse_score(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn range_bounds_take_what_strtod_takes() {
        assert_eq!(parse_range_bound(b"(1"), Some((1.0, true)));
        assert_eq!(parse_range_bound(b""), Some((0.0, false)));
        assert_eq!(parse_range_bound(b"("), Some((0.0, true)));
        assert_eq!(parse_range_bound(b" 2"), Some((2.0, false)));
        assert_eq!(parse_range_bound(b"1e400"), Some((f64::INFINITY, false)));
        assert_eq!(parse_range_bound(b"3\x00junk"), Some((3.0, false)));
        for bad in [&b"(("[..], b"nan", b"2 ", b"x", b" "] {
            assert_eq!(parse_range_bound(bad), None, "{bad:?}");
        }
    }
}
