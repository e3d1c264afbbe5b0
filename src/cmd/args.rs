//! Argument parsing shared by many commands.

use super::ctx::errors;

/// Parses an integer argument as Redis does (`string2ll`).
pub fn int_arg(arg: &[u8]) -> Result<i64, &'static [u8]> {
    shoal_protocol::parse_i64(arg).ok_or(errors::NOT_INTEGER)
}

/// A float from client text, or `None`.
pub fn parse_float(arg: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(arg).ok()?;
    if text.is_empty()
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace)
    {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let value = match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => {
            if lower.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        _ if lower.contains("nan") || lower.contains("inf") => return None,
        _ => text.parse::<f64>().ok()?,
    };
    (!value.is_nan()).then_some(value)
}

/// Case-insensitive option comparison.
pub fn is(arg: &[u8], option: &str) -> bool {
    arg.eq_ignore_ascii_case(option.as_bytes())
}
