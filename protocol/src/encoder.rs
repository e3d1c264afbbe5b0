//! The reply encoder: every RESP3 type, downgraded to RESP2 as Redis does.

use crate::double::format_double;
use crate::error::ProtocolError;

/// The protocol a client speaks: RESP2 until it sends `HELLO 3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RespVersion {
    /// RESP2: no maps, sets, doubles, booleans, big numbers or attributes.
    #[default]
    Resp2,
    /// RESP3, negotiated with `HELLO 3`.
    Resp3,
}

/// Writes replies into a reusable output buffer.
///
/// Aggregates are written as a header (`array(n)`) followed by their `n`
/// elements (`2n` for maps and attributes), so a handler streams a reply
/// without building a tree. For RESP2 clients each RESP3 type becomes what
/// Redis sends them: maps become flat arrays, sets and pushes arrays,
/// doubles, big numbers and verbatim strings bulk strings, booleans the
/// integers 1 and 0, and nulls `$-1` (or `*-1` for a null array).
/// Attributes have no RESP2 form; for RESP2 clients they and everything
/// inside them are left out.
#[derive(Debug, Default)]
pub struct ReplyEncoder {
    out: Vec<u8>,
    version: RespVersion,
    /// Elements still to be dropped because they belong to an attribute
    /// written for a RESP2 client.
    discard_elements: usize,
}

impl ReplyEncoder {
    /// An empty encoder for a client speaking `version`.
    pub fn new(version: RespVersion) -> Self {
        ReplyEncoder {
            out: Vec::new(),
            version,
            discard_elements: 0,
        }
    }

    /// The protocol replies are encoded for.
    pub fn version(&self) -> RespVersion {
        self.version
    }

    /// Switches protocol (`HELLO 2`, `HELLO 3`); takes effect for the next reply.
    pub fn set_version(&mut self, version: RespVersion) {
        self.version = version;
    }

    /// The encoded bytes not yet taken.
    pub fn as_bytes(&self) -> &[u8] {
        &self.out
    }

    /// The number of encoded bytes not yet taken.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether nothing is waiting to be sent.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Drops the first `sent` bytes, after a partial write to the socket.
    pub fn consume(&mut self, sent: usize) {
        self.out.drain(..sent);
    }

    /// The encoded bytes, for the transport to send from and drain.
    pub fn bytes_mut(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// Takes the encoded bytes out, leaving the encoder empty.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Drops everything, keeping the buffer's capacity for reuse.
    pub fn clear(&mut self) {
        self.out.clear();
    }

    /// Counts one element against an attribute being dropped for RESP2;
    /// `children` are the elements an aggregate header brings with it.
    /// Returns true when this element must be left out.
    #[inline]
    fn dropped(&mut self, children: usize) -> bool {
        if self.discard_elements == 0 {
            return false;
        }
        self.discard_elements = self.discard_elements - 1 + children;
        true
    }

    fn line(&mut self, prefix: u8, body: &[u8]) {
        self.out.reserve(body.len() + 3);
        self.out.push(prefix);
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\r\n");
    }

    /// Writes `body` as one line, with CR and LF turned into spaces so a
    /// message can never break the framing.
    fn sanitized_line(&mut self, prefix: u8, body: &[u8]) {
        self.out.reserve(body.len() + 3);
        self.out.push(prefix);
        self.out.extend(body.iter().map(|&byte| {
            if byte == b'\r' || byte == b'\n' {
                b' '
            } else {
                byte
            }
        }));
        self.out.extend_from_slice(b"\r\n");
    }

    fn number_line(&mut self, prefix: u8, value: i64) {
        let mut digits = itoa::Buffer::new();
        self.line(prefix, digits.format(value).as_bytes());
    }

    fn length_line(&mut self, prefix: u8, len: usize) {
        let mut digits = itoa::Buffer::new();
        self.line(prefix, digits.format(len).as_bytes());
    }

    fn bulk_body(&mut self, body: &[u8]) {
        self.length_line(b'$', body.len());
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\r\n");
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.simple_string(b"OK");
    }

    /// A simple string (`+text`); CR and LF become spaces.
    pub fn simple_string(&mut self, text: &[u8]) {
        if !self.dropped(0) {
            self.sanitized_line(b'+', text);
        }
    }

    /// An error (`-CODE message`); `message` starts with its code, e.g.
    /// `ERR wrong number of arguments`. CR and LF become spaces.
    pub fn error(&mut self, message: &[u8]) {
        if !self.dropped(0) {
            self.sanitized_line(b'-', message);
        }
    }

    /// The reply Redis sends for a protocol error; nothing for an error that
    /// closes the connection silently.
    pub fn protocol_error(&mut self, error: &ProtocolError) {
        if let Some(text) = error.reply_text() {
            self.error(text.as_bytes());
        }
    }

    /// An integer (`:n`).
    pub fn integer(&mut self, value: i64) {
        if !self.dropped(0) {
            self.number_line(b':', value);
        }
    }

    /// A bulk string (`$len`, then the bytes).
    pub fn bulk(&mut self, body: &[u8]) {
        if !self.dropped(0) {
            self.bulk_body(body);
        }
    }

    /// A null: `_` in RESP3, the null bulk `$-1` in RESP2.
    pub fn null(&mut self) {
        if !self.dropped(0) {
            self.out.extend_from_slice(match self.version {
                RespVersion::Resp2 => b"$-1\r\n",
                RespVersion::Resp3 => b"_\r\n",
            });
        }
    }

    /// A null where an array was expected: `_` in RESP3, `*-1` in RESP2.
    pub fn null_array(&mut self) {
        if !self.dropped(0) {
            self.out.extend_from_slice(match self.version {
                RespVersion::Resp2 => b"*-1\r\n",
                RespVersion::Resp3 => b"_\r\n",
            });
        }
    }

    /// An array header; `len` elements follow.
    pub fn array(&mut self, len: usize) {
        if !self.dropped(len) {
            self.length_line(b'*', len);
        }
    }

    /// A map header; `pairs` key-value pairs (2 × `pairs` elements) follow.
    /// RESP2: a flat array of 2 × `pairs` elements.
    pub fn map(&mut self, pairs: usize) {
        if !self.dropped(2 * pairs) {
            match self.version {
                RespVersion::Resp2 => self.length_line(b'*', 2 * pairs),
                RespVersion::Resp3 => self.length_line(b'%', pairs),
            }
        }
    }

    /// A set header; `len` elements follow. RESP2: an array.
    pub fn set(&mut self, len: usize) {
        if !self.dropped(len) {
            match self.version {
                RespVersion::Resp2 => self.length_line(b'*', len),
                RespVersion::Resp3 => self.length_line(b'~', len),
            }
        }
    }

    /// A push header (out-of-band data such as pub/sub messages); `len`
    /// elements follow. RESP2: an array.
    pub fn push(&mut self, len: usize) {
        if !self.dropped(len) {
            match self.version {
                RespVersion::Resp2 => self.length_line(b'*', len),
                RespVersion::Resp3 => self.length_line(b'>', len),
            }
        }
    }

    /// An attribute header; `pairs` key-value pairs follow, then the element
    /// they describe. RESP2 has no attributes: the pairs are left out.
    pub fn attribute(&mut self, pairs: usize) {
        if self.discard_elements > 0 {
            // An attribute is not an element of what encloses it (it comes
            // before the element it describes): its pairs only add to
            // what is being dropped.
            self.discard_elements += 2 * pairs;
            return;
        }
        match self.version {
            RespVersion::Resp2 => self.discard_elements = 2 * pairs,
            RespVersion::Resp3 => self.length_line(b'|', pairs),
        }
    }

    /// A double (`,1.5`), printed as Redis 7.0 prints it (`%.17g`, `inf`).
    /// RESP2: a bulk string of the same text.
    pub fn double(&mut self, value: f64) {
        if self.dropped(0) {
            return;
        }
        let text = format_double(value);
        match self.version {
            RespVersion::Resp2 => self.bulk_body(text.as_bytes()),
            RespVersion::Resp3 => self.line(b',', text.as_bytes()),
        }
    }

    /// A boolean (`#t`, `#f`). RESP2: the integer 1 or 0.
    pub fn boolean(&mut self, value: bool) {
        if self.dropped(0) {
            return;
        }
        self.out.extend_from_slice(match (self.version, value) {
            (RespVersion::Resp2, true) => b":1\r\n",
            (RespVersion::Resp2, false) => b":0\r\n",
            (RespVersion::Resp3, true) => b"#t\r\n",
            (RespVersion::Resp3, false) => b"#f\r\n",
        });
    }

    /// A big number (`(digits`). RESP2: a bulk string of the digits.
    pub fn big_number(&mut self, digits: &[u8]) {
        if self.dropped(0) {
            return;
        }
        match self.version {
            RespVersion::Resp2 => self.bulk_body(digits),
            RespVersion::Resp3 => self.sanitized_line(b'(', digits),
        }
    }

    /// A verbatim string (`=len`, `fmt:`, text) whose three-byte format is
    /// e.g. `txt` or `mkd`. RESP2: a bulk string of the text alone.
    pub fn verbatim(&mut self, format: &[u8; 3], text: &[u8]) {
        if self.dropped(0) {
            return;
        }
        match self.version {
            RespVersion::Resp2 => self.bulk_body(text),
            RespVersion::Resp3 => {
                self.length_line(b'=', text.len() + 4);
                self.out.extend_from_slice(format);
                self.out.push(b':');
                self.out.extend_from_slice(text);
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// Bytes already encoded elsewhere (a cached reply), appended verbatim.
    pub fn raw(&mut self, encoded: &[u8]) {
        debug_assert_eq!(
            self.discard_elements, 0,
            "raw bytes cannot be counted as elements"
        );
        self.out.extend_from_slice(encoded);
    }
}
