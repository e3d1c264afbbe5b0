//! Inline requests (`SET k "a b"\r\n`), split into arguments the way Redis's
//! `sdssplitargs` does, but in place: unescaped arguments are written over
//! the raw text they came from, so no argument is copied elsewhere.

use crate::error::ProtocolError;
use crate::parser::ArgSpans;

/// Whitespace as C's `isspace` sees it in the "C" locale.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Splits one inline request line (without its line ending) into arguments,
/// unescaping quoted ones in place, and appends their positions to `spans`.
///
/// Redis treats the line as a C string, so a NUL byte ends it.
pub(crate) fn split_inline_args(
    line: &mut [u8],
    spans: &mut ArgSpans,
) -> Result<(), ProtocolError> {
    let end = memchr::memchr(0, line).unwrap_or(line.len());
    let line = &mut line[..end];
    let mut pos = 0;
    loop {
        while pos < line.len() && is_space(line[pos]) {
            pos += 1;
        }
        if pos == line.len() {
            return Ok(());
        }
        let start = pos;
        let (next, written) = unescape_token(line, pos)?;
        spans.push((start, written));
        pos = next;
    }
}

/// Reads one token starting at `pos`, writing its unescaped bytes from `pos`
/// onwards. Returns where scanning resumes and how many bytes were written.
///
/// Every byte written consumes at least one byte read, so the write cursor
/// never passes the read cursor and unread text is never overwritten.
fn unescape_token(line: &mut [u8], mut pos: usize) -> Result<(usize, usize), ProtocolError> {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Double,
        Single,
    }
    let at = |line: &[u8], i: usize| line.get(i).copied().unwrap_or(0);
    let start = pos;
    let mut write = pos;
    let mut quote = Quote::None;
    loop {
        debug_assert!(write <= pos);
        let byte = at(line, pos);
        let mut out = None;
        let mut done = false;
        match quote {
            Quote::Double => {
                let hex = (hex_value(at(line, pos + 2)), hex_value(at(line, pos + 3)));
                if byte == b'\\' && at(line, pos + 1) == b'x' && hex.0.is_some() && hex.1.is_some()
                {
                    out = hex.0.zip(hex.1).map(|(high, low)| high * 16 + low);
                    pos += 3;
                } else if byte == b'\\' && at(line, pos + 1) != 0 {
                    pos += 1;
                    out = Some(match line[pos] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if byte == b'"' {
                    closing_quote_ok(at(line, pos + 1))?;
                    done = true;
                } else if byte == 0 {
                    return Err(ProtocolError::UnbalancedQuotes);
                } else {
                    out = Some(byte);
                }
            }
            Quote::Single => {
                if byte == b'\\' && at(line, pos + 1) == b'\'' {
                    pos += 1;
                    out = Some(b'\'');
                } else if byte == b'\'' {
                    closing_quote_ok(at(line, pos + 1))?;
                    done = true;
                } else if byte == 0 {
                    return Err(ProtocolError::UnbalancedQuotes);
                } else {
                    out = Some(byte);
                }
            }
            Quote::None => match byte {
                b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                b'"' => quote = Quote::Double,
                b'\'' => quote = Quote::Single,
                other => out = Some(other),
            },
        }
        if let Some(value) = out {
            line[write] = value;
            write += 1;
        }
        if at(line, pos) != 0 {
            pos += 1;
        }
        if done {
            return Ok((pos, write - start));
        }
    }
}

/// A closing quote must be followed by a space or the end of the line.
fn closing_quote_ok(next: u8) -> Result<(), ProtocolError> {
    if next != 0 && !is_space(next) {
        return Err(ProtocolError::UnbalancedQuotes);
    }
    Ok(())
}
