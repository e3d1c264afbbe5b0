//! Request errors, each carrying the exact text Redis replies with.

use std::fmt;

/// A request that breaks the protocol or one of the [`crate::Limits`].
///
/// After any of these the connection cannot be resynchronised: the server
/// sends [`ProtocolError::reply_text`] (when there is one) and closes that one
/// connection, as Redis does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// `*N` whose `N` is not an integer or is above the argument limit.
    InvalidMultibulkLength,
    /// `$N` whose `N` is not an integer, negative, or above the bulk limit.
    InvalidBulkLength,
    /// More arguments than an unauthenticated client may send.
    UnauthenticatedMultibulkLength,
    /// A longer bulk than an unauthenticated client may send.
    UnauthenticatedBulkLength,
    /// An array element that does not start with `$`; holds the byte found.
    ExpectedDollar(u8),
    /// No `\r` within the inline limit after `*`.
    MultibulkCountTooLong,
    /// No `\r` within the inline limit after an array element started.
    BulkCountTooLong,
    /// No `\n` within the inline limit in an inline request.
    InlineRequestTooLong,
    /// An inline request with an unterminated quote, or a closing quote not
    /// followed by a space.
    UnbalancedQuotes,
    /// More unparsed bytes buffered than the query buffer limit allows.
    /// Redis closes such a client without a reply, and so does Shoal.
    QueryBufferLimit,
}

impl ProtocolError {
    /// The text after `-ERR Protocol error: `, except for [`Self::ExpectedDollar`]
    /// whose found byte is appended by [`Self::reply_text`].
    fn detail(&self) -> &'static str {
        match self {
            ProtocolError::InvalidMultibulkLength => "invalid multibulk length",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::UnauthenticatedMultibulkLength => "unauthenticated multibulk length",
            ProtocolError::UnauthenticatedBulkLength => "unauthenticated bulk length",
            ProtocolError::ExpectedDollar(_) => "expected '$', got '",
            ProtocolError::MultibulkCountTooLong => "too big mbulk count string",
            ProtocolError::BulkCountTooLong => "too big bulk count string",
            ProtocolError::InlineRequestTooLong => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in request",
            ProtocolError::QueryBufferLimit => "query buffer limit reached",
        }
    }

    /// The error reply Redis sends for this error (without the leading `-`
    /// and trailing CRLF), or `None` where Redis closes without replying.
    pub fn reply_text(&self) -> Option<ErrorText> {
        if *self == ProtocolError::QueryBufferLimit {
            return None;
        }
        let mut text = ErrorText::default();
        text.push(b"ERR Protocol error: ");
        text.push(self.detail().as_bytes());
        if let ProtocolError::ExpectedDollar(found) = *self {
            // Redis maps CR and LF to spaces so the reply stays one line.
            let shown = if found == b'\r' || found == b'\n' {
                b' '
            } else {
                found
            };
            text.push(&[shown, b'\'']);
        }
        Some(text)
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Protocol error: ")?;
        f.write_str(self.detail())?;
        if let ProtocolError::ExpectedDollar(found) = *self {
            write!(f, "{}'", std::ascii::escape_default(found))?;
        }
        Ok(())
    }
}

impl std::error::Error for ProtocolError {}

/// Capacity of [`ErrorText`]: the longest protocol error text fits.
const ERROR_TEXT_CAPACITY: usize = 64;

/// The text of a protocol error reply, held on the stack.
#[derive(Debug, Clone, Copy)]
pub struct ErrorText {
    bytes: [u8; ERROR_TEXT_CAPACITY],
    len: usize,
}

impl Default for ErrorText {
    fn default() -> Self {
        ErrorText {
            bytes: [0; ERROR_TEXT_CAPACITY],
            len: 0,
        }
    }
}

impl ErrorText {
    fn push(&mut self, part: &[u8]) {
        let end = self.len + part.len();
        assert!(
            end <= ERROR_TEXT_CAPACITY,
            "protocol error text outgrew its buffer"
        );
        self.bytes[self.len..end].copy_from_slice(part);
        self.len = end;
    }

    /// The reply text, e.g. `ERR Protocol error: invalid bulk length`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}
