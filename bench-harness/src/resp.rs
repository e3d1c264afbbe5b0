//! Finding where one reply ends, without allocating or building it.
//!
//! The load generator needs three facts per reply: its length in bytes, and
//! whether it was an error or a null (a GET miss). [`scan_reply`] walks any
//! RESP2 or RESP3 reply iteratively, counting the elements still owed, so
//! nesting depth costs no stack. Building a `Reply` tree (what
//! `shoal_protocol::ReplyParser` does) would cost an allocation per reply.

use shoal_protocol::parse_i64;

/// The largest reply the scanner accepts; past it the connection is
/// treated as broken rather than buffering without bound.
pub const REPLY_BYTES_MAX: usize = 256 * 1024 * 1024;

/// Aggregates may announce at most this many elements in total.
const ELEMENTS_MAX: u64 = 1 << 32;

/// What kind of top-level reply was scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// Any reply that is not one of the others.
    Value,
    /// `-ERR …` or RESP3's blob error `!`.
    Error,
    /// `$-1`, `*-1` or RESP3's `_`: for a GET, a miss.
    Null,
    /// RESP3's out-of-band `>` push, which answers no request.
    Push,
}

/// One complete reply at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    /// Its length in bytes.
    pub len: usize,
    /// What it was.
    pub kind: ReplyKind,
}

/// The bytes are not RESP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    /// What was wrong, and where.
    pub message: String,
}

fn invalid(what: &str, at: usize) -> ScanError {
    ScanError {
        message: format!("invalid reply: {what} at byte {at}"),
    }
}

/// Finds the first complete reply in `buf`: `Ok(None)` if it is not all
/// there yet.
#[inline]
pub fn scan_reply(buf: &[u8]) -> Result<Option<Scanned>, ScanError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let mut kind = match first {
        b'-' | b'!' => ReplyKind::Error,
        b'_' => ReplyKind::Null,
        b'>' => ReplyKind::Push,
        _ => ReplyKind::Value,
    };
    let mut at = 0;
    let mut owed: u64 = 1;
    while owed > 0 {
        let element_start = at;
        let Some(&tag) = buf.get(at) else {
            return Ok(None);
        };
        let Some((line_end, next)) = line(buf, at + 1)? else {
            return Ok(None);
        };
        let text = &buf[at + 1..line_end];
        owed -= 1;
        at = next;
        match tag {
            b'+' | b'-' | b':' | b',' | b'#' | b'(' | b'_' => {}
            b'$' | b'=' | b'!' => match length(text, at)? {
                None if tag == b'$' => {
                    if element_start == 0 {
                        kind = ReplyKind::Null;
                    }
                }
                None => return Err(invalid("negative length", at)),
                Some(len) => {
                    let end = at + len + 2;
                    if end > REPLY_BYTES_MAX {
                        return Err(invalid("reply too large", at));
                    }
                    if buf.len() < end {
                        return Ok(None);
                    }
                    if &buf[end - 2..end] != b"\r\n" {
                        return Err(invalid("blob not followed by CRLF", end - 2));
                    }
                    at = end;
                }
            },
            b'*' | b'~' | b'>' | b'%' | b'|' => match length(text, at)? {
                None if tag == b'*' => {
                    if element_start == 0 {
                        kind = ReplyKind::Null;
                    }
                }
                None => return Err(invalid("negative length", at)),
                Some(count) => {
                    let count = count as u64;
                    owed += match tag {
                        b'%' => count * 2,
                        // Attribute pairs, then the value they describe.
                        b'|' => count * 2 + 1,
                        _ => count,
                    };
                    if owed > ELEMENTS_MAX {
                        return Err(invalid("too many elements", at));
                    }
                }
            },
            _ => return Err(invalid("unknown reply type", at)),
        }
    }
    Ok(Some(Scanned { len: at, kind }))
}

/// The line starting at `start`: where its CR is and where the next
/// element starts.
#[inline]
fn line(buf: &[u8], start: usize) -> Result<Option<(usize, usize)>, ScanError> {
    let Some(rest) = buf.get(start..) else {
        return Ok(None);
    };
    match memchr::memchr(b'\n', rest) {
        None if rest.len() > 64 * 1024 => Err(invalid("line too long", start)),
        None => Ok(None),
        Some(offset) => {
            let lf = start + offset;
            if lf == start || buf[lf - 1] != b'\r' {
                return Err(invalid("LF without CR", lf));
            }
            Ok(Some((lf - 1, lf + 1)))
        }
    }
}

/// A length field: `None` for `-1`.
#[inline]
fn length(text: &[u8], at: usize) -> Result<Option<usize>, ScanError> {
    match parse_i64(text) {
        Some(-1) => Ok(None),
        Some(len) if len >= 0 && (len as u64) <= REPLY_BYTES_MAX as u64 => Ok(Some(len as usize)),
        _ => Err(invalid("bad length", at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(bytes: &[u8]) -> Option<Scanned> {
        scan_reply(bytes).unwrap()
    }

    #[test]
    fn simple_replies_and_their_kinds() {
        assert_eq!(
            scan(b"+OK\r\nrest"),
            Some(Scanned {
                len: 5,
                kind: ReplyKind::Value
            })
        );
        assert_eq!(scan(b"-ERR no\r\n").map(|s| s.kind), Some(ReplyKind::Error));
        assert_eq!(scan(b":12\r\n").map(|s| s.len), Some(5));
        assert_eq!(scan(b"$-1\r\n").map(|s| s.kind), Some(ReplyKind::Null));
        assert_eq!(scan(b"*-1\r\n").map(|s| s.kind), Some(ReplyKind::Null));
        assert_eq!(scan(b"_\r\n").map(|s| s.kind), Some(ReplyKind::Null));
        assert_eq!(scan(b"$3\r\nabc\r\n").map(|s| s.len), Some(9));
        assert_eq!(scan(b"$0\r\n\r\n").map(|s| s.kind), Some(ReplyKind::Value));
    }

    #[test]
    fn aggregates_are_walked_to_their_end() {
        let reply = b"*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n%1\r\n+k\r\n~1\r\n#t\r\nnext";
        let scanned = scan(reply).unwrap();
        assert_eq!(scanned.len, reply.len() - 4);
        // A null inside an array does not make the reply a null.
        assert_eq!(scanned.kind, ReplyKind::Value);
        assert_eq!(scan(b"*0\r\n").map(|s| s.len), Some(4));
        let attributed = b"|1\r\n+a\r\n+b\r\n:5\r\n";
        assert_eq!(scan(attributed).map(|s| s.len), Some(attributed.len()));
        assert_eq!(
            scan(b">2\r\n+x\r\n+y\r\n").map(|s| s.kind),
            Some(ReplyKind::Push)
        );
        assert_eq!(
            scan(b"!3\r\nbad\r\n").map(|s| s.kind),
            Some(ReplyKind::Error)
        );
    }

    #[test]
    fn every_strict_prefix_is_incomplete() {
        let reply = b"*2\r\n$5\r\nhello\r\n%1\r\n+a\r\n,1.5\r\n";
        for cut in 0..reply.len() {
            assert_eq!(scan_reply(&reply[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(scan(reply).map(|s| s.len), Some(reply.len()));
    }

    #[test]
    fn malformed_replies_are_errors() {
        assert!(scan_reply(b"?x\r\n").is_err());
        assert!(scan_reply(b"$3\r\nabcd\r\n").is_err());
        assert!(scan_reply(b"$x\r\n").is_err());
        assert!(scan_reply(b"+OK\n").is_err());
        assert!(scan_reply(b"~-1\r\n").is_err());
    }
}
