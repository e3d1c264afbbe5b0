//! What every SCAN-family command (SCAN, HSCAN, SSCAN, ZSCAN) parses the
//! same way: the cursor and the COUNT and MATCH options.

use super::args::{int_arg, is};
use super::ctx::errors;

/// Redis's reply to a cursor that is not a number.
pub const INVALID_CURSOR: &[u8] = b"ERR invalid cursor";
/// COUNT when none is given.
pub const COUNT_DEFAULT: usize = 10;

/// Parses a cursor as Redis's `parseScanCursorOrReply` does with `strtoul`:
/// an optional sign (a negative value wraps), decimal digits, nothing else,
/// no overflow; empty means 0.
pub fn parse_cursor(text: &[u8]) -> Option<u64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if !digits.iter().all(u8::is_ascii_digit) || (digits.is_empty() && !text.is_empty()) {
        return None;
    }
    let mut value: u64 = 0;
    for &digit in digits {
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// COUNT and MATCH of HSCAN, SSCAN and ZSCAN.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions<'a> {
    /// COUNT, at least 1.
    pub count: usize,
    /// MATCH, unless absent or `*` (which matches everything).
    pub pattern: Option<&'a [u8]>,
}

/// Parses COUNT and MATCH after the cursor as Redis's `scanGenericCommand`
/// does; `also` gets a chance at any other option first (SCAN's TYPE) and
/// says whether it took it. The error is Redis's reply.
pub fn parse_options<'a>(
    options: &[&'a [u8]],
    mut also: impl FnMut(&'a [u8], &'a [u8]) -> bool,
) -> Result<ScanOptions<'a>, &'static [u8]> {
    let mut parsed = ScanOptions {
        count: COUNT_DEFAULT,
        pattern: None,
    };
    let mut index = 0;
    while index < options.len() {
        let Some(&value) = options.get(index + 1) else {
            return Err(errors::SYNTAX);
        };
        let option = options[index];
        if is(option, "COUNT") {
            let count = int_arg(value)?;
            if count < 1 {
                return Err(errors::SYNTAX);
            }
            parsed.count = usize::try_from(count).unwrap_or(usize::MAX);
        } else if is(option, "MATCH") {
            parsed.pattern = (value != b"*").then_some(value);
        } else if !also(option, value) {
            return Err(errors::SYNTAX);
        }
        index += 2;
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_as_strtoul_reads_them() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"42"), Some(42));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b"18446744073709551616"[..],
            b" 1",
            b"1 ",
            b"1x",
            b"0x1",
            b"-",
            b"+",
            b"a",
        ] {
            assert_eq!(
                parse_cursor(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn options_come_in_pairs_with_redis_errors() {
        let none = |_: &[u8], _: &[u8]| false;
        let parsed = parse_options(&[b"MATCH", b"a*", b"count", b"5"], none).expect("valid");
        assert_eq!((parsed.count, parsed.pattern), (5, Some(&b"a*"[..])));
        let parsed = parse_options(&[b"MATCH", b"*"], none).expect("valid");
        assert_eq!((parsed.count, parsed.pattern), (COUNT_DEFAULT, None));
        assert_eq!(parse_options(&[b"COUNT"], none).err(), Some(errors::SYNTAX));
        assert_eq!(
            parse_options(&[b"COUNT", b"0"], none).err(),
            Some(errors::SYNTAX)
        );
        assert_eq!(
            parse_options(&[b"COUNT", b"x"], none).err(),
            Some(errors::NOT_INTEGER)
        );
        assert_eq!(
            parse_options(&[b"TYPE", b"hash"], none).err(),
            Some(errors::SYNTAX)
        );
    }
}
