//! The client side of replies: a RESP2/RESP3 reply parser for tests,
//! fuzzers and the load generator. Unlike the request parser it copies:
//! clients keep replies after the buffer moves on.

use std::fmt;

use crate::number::parse_i64;

/// One parsed reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+text`
    Simple(Vec<u8>),
    /// `-CODE message`
    Error(Vec<u8>),
    /// `:n`
    Integer(i64),
    /// `$len` and bytes
    Bulk(Vec<u8>),
    /// `_`, or RESP2's null bulk `$-1`
    Null,
    /// RESP2's null array `*-1`
    NullArray,
    /// `*n`
    Array(Vec<Reply>),
    /// `%n` key-value pairs
    Map(Vec<(Reply, Reply)>),
    /// `~n`
    Set(Vec<Reply>),
    /// `,value`
    Double(f64),
    /// `#t` or `#f`
    Boolean(bool),
    /// `(digits`
    BigNumber(Vec<u8>),
    /// `=len` and `fmt:text`
    Verbatim {
        /// The three-byte format, e.g. `txt`.
        format: [u8; 3],
        /// The text after the format.
        text: Vec<u8>,
    },
    /// `>n` out-of-band data
    Push(Vec<Reply>),
    /// `|n` pairs describing the reply that follows them
    Attributed {
        /// The attribute pairs.
        attributes: Vec<(Reply, Reply)>,
        /// The reply they describe.
        value: Box<Reply>,
    },
    /// `!len` and a message
    BlobError(Vec<u8>),
}

/// A reply stream that is not valid RESP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyError {
    /// What was wrong, and at which byte offset.
    pub message: String,
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ReplyError {}

/// Nesting deeper than this is refused rather than risking the stack.
const DEFAULT_MAX_DEPTH: usize = 64;
/// Aggregates announcing more elements than this are refused.
const DEFAULT_MAX_ELEMENTS: usize = 1 << 24;

/// A stateless reply parser: it parses from the start of the buffer each time.
#[derive(Debug, Clone, Copy)]
pub struct ReplyParser {
    max_depth: usize,
    max_elements: usize,
}

impl Default for ReplyParser {
    fn default() -> Self {
        ReplyParser {
            max_depth: DEFAULT_MAX_DEPTH,
            max_elements: DEFAULT_MAX_ELEMENTS,
        }
    }
}

type Parsed<T> = Result<Option<(T, usize)>, ReplyError>;

fn invalid<T>(what: &str, at: usize) -> Result<T, ReplyError> {
    Err(ReplyError {
        message: format!("{what} at byte {at}"),
    })
}

impl ReplyParser {
    /// Parses the first complete reply in `buf`: `Ok(None)` if it is not all
    /// there yet, else the reply and the bytes it took.
    pub fn parse(&self, buf: &[u8]) -> Parsed<Reply> {
        self.parse_at(buf, 0, 0)
    }

    fn line(buf: &[u8], start: usize) -> Result<Option<(&[u8], usize)>, ReplyError> {
        match memchr::memchr(b'\r', &buf[start..]) {
            None => Ok(None),
            Some(offset) => {
                let cr = start + offset;
                match buf.get(cr + 1) {
                    None => Ok(None),
                    Some(b'\n') => Ok(Some((&buf[start..cr], cr + 2))),
                    Some(_) => invalid("CR not followed by LF", cr),
                }
            }
        }
    }

    fn length(&self, text: &[u8], at: usize) -> Result<Option<usize>, ReplyError> {
        match parse_i64(text) {
            Some(-1) => Ok(None),
            Some(len) if len >= 0 && (len as u64) <= self.max_elements as u64 * 1024 => {
                Ok(Some(len as usize))
            }
            _ => invalid("bad length", at),
        }
    }

    fn parse_at(&self, buf: &[u8], start: usize, depth: usize) -> Parsed<Reply> {
        if depth > self.max_depth {
            return invalid("nesting too deep", start);
        }
        let Some(&kind) = buf.get(start) else {
            return Ok(None);
        };
        let Some((text, next)) = Self::line(buf, start + 1)? else {
            return Ok(None);
        };
        let reply = match kind {
            b'+' => Reply::Simple(text.to_vec()),
            b'-' => Reply::Error(text.to_vec()),
            b':' => {
                Reply::Integer(parse_i64(text).map_or_else(|| invalid("bad integer", start), Ok)?)
            }
            b'#' => match text {
                b"t" => Reply::Boolean(true),
                b"f" => Reply::Boolean(false),
                _ => return invalid("bad boolean", start),
            },
            b',' => {
                Reply::Double(parse_double(text).map_or_else(|| invalid("bad double", start), Ok)?)
            }
            b'(' => Reply::BigNumber(text.to_vec()),
            b'_' if text.is_empty() => Reply::Null,
            b'$' | b'=' | b'!' => return self.blob(buf, kind, text, start, next),
            b'*' | b'~' | b'>' => return self.sequence(buf, kind, text, start, next, depth),
            b'%' | b'|' => return self.pairs_reply(buf, kind, text, start, next, depth),
            _ => return invalid("unknown reply type", start),
        };
        Ok(Some((reply, next)))
    }

    fn blob(&self, buf: &[u8], kind: u8, text: &[u8], start: usize, next: usize) -> Parsed<Reply> {
        let Some(len) = self.length(text, start)? else {
            return if kind == b'$' {
                Ok(Some((Reply::Null, next)))
            } else {
                invalid("negative length", start)
            };
        };
        if buf.len() < next + len + 2 {
            return Ok(None);
        }
        if &buf[next + len..next + len + 2] != b"\r\n" {
            return invalid("blob not followed by CRLF", next + len);
        }
        let body = &buf[next..next + len];
        let reply = match kind {
            b'$' => Reply::Bulk(body.to_vec()),
            b'!' => Reply::BlobError(body.to_vec()),
            _ => {
                if len < 4 || body[3] != b':' {
                    return invalid("verbatim string without format", next);
                }
                Reply::Verbatim {
                    format: [body[0], body[1], body[2]],
                    text: body[4..].to_vec(),
                }
            }
        };
        Ok(Some((reply, next + len + 2)))
    }

    fn elements(
        &self,
        buf: &[u8],
        mut next: usize,
        count: usize,
        depth: usize,
    ) -> Parsed<Vec<Reply>> {
        if count > self.max_elements {
            return invalid("too many elements", next);
        }
        let mut items = Vec::with_capacity(count.min(1024));
        for _ in 0..count {
            let Some((item, after)) = self.parse_at(buf, next, depth + 1)? else {
                return Ok(None);
            };
            items.push(item);
            next = after;
        }
        Ok(Some((items, next)))
    }

    fn sequence(
        &self,
        buf: &[u8],
        kind: u8,
        text: &[u8],
        start: usize,
        next: usize,
        depth: usize,
    ) -> Parsed<Reply> {
        let Some(count) = self.length(text, start)? else {
            return if kind == b'*' {
                Ok(Some((Reply::NullArray, next)))
            } else {
                invalid("negative length", start)
            };
        };
        let Some((items, after)) = self.elements(buf, next, count, depth)? else {
            return Ok(None);
        };
        let reply = match kind {
            b'*' => Reply::Array(items),
            b'~' => Reply::Set(items),
            _ => Reply::Push(items),
        };
        Ok(Some((reply, after)))
    }

    fn pairs_reply(
        &self,
        buf: &[u8],
        kind: u8,
        text: &[u8],
        start: usize,
        next: usize,
        depth: usize,
    ) -> Parsed<Reply> {
        let Some(count) = self.length(text, start)? else {
            return invalid("negative length", start);
        };
        let Some(doubled) = count.checked_mul(2) else {
            return invalid("too many elements", start);
        };
        let Some((items, after)) = self.elements(buf, next, doubled, depth)? else {
            return Ok(None);
        };
        let mut items = items.into_iter();
        let mut pairs = Vec::with_capacity(count);
        while let (Some(key), Some(value)) = (items.next(), items.next()) {
            pairs.push((key, value));
        }
        if kind == b'%' {
            return Ok(Some((Reply::Map(pairs), after)));
        }
        let Some((value, end)) = self.parse_at(buf, after, depth + 1)? else {
            return Ok(None);
        };
        Ok(Some((
            Reply::Attributed {
                attributes: pairs,
                value: Box::new(value),
            },
            end,
        )))
    }
}

fn parse_double(text: &[u8]) -> Option<f64> {
    match text {
        b"inf" => Some(f64::INFINITY),
        b"-inf" => Some(f64::NEG_INFINITY),
        b"nan" | b"-nan" => Some(f64::NAN),
        _ => std::str::from_utf8(text).ok()?.parse().ok(),
    }
}
