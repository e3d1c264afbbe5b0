//! The request parser: every complete command in a buffer, as slices of it.

use smallvec::SmallVec;

use crate::error::ProtocolError;
use crate::inline::split_inline_args;
use crate::limits::Limits;
use crate::number::parse_i64;

/// Arguments a [`Command`] holds without a heap allocation; more spill.
pub const INLINE_ARGS: usize = 8;

/// (offset from the start of the command, length) of each argument.
pub(crate) type ArgSpans = SmallVec<[(usize, usize); INLINE_ARGS]>;

/// One parsed request: its arguments, borrowed from the parsed buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command<'b> {
    args: SmallVec<[&'b [u8]; INLINE_ARGS]>,
}

impl<'b> Command<'b> {
    /// Every argument, the command name first. Never empty.
    pub fn args(&self) -> &[&'b [u8]] {
        &self.args
    }

    /// The command name as the client sent it (any case).
    pub fn name(&self) -> &'b [u8] {
        self.args[0]
    }

    /// The number of arguments including the name.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Always false: a command has at least its name. Present for clippy.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }
}

/// Which framing the command being parsed uses; Redis decides by its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Unknown,
    Multibulk,
    Inline,
}

/// How far a partly received command was parsed, so that the next call
/// resumes there instead of scanning it again. Offsets count from the
/// command's first byte, which is the first byte of the next buffer.
#[derive(Debug)]
struct Progress {
    framing: Framing,
    /// Arguments the `*N` header announced; 0 until it is parsed.
    argc: usize,
    /// Arguments complete so far.
    spans: ArgSpans,
    /// The next byte to parse.
    pos: usize,
    /// The length of the next bulk, once its `$N` line is parsed.
    bulk_len: Option<usize>,
    /// Where the search for the current line's end resumes.
    scan_from: usize,
}

impl Progress {
    fn new() -> Self {
        Progress {
            framing: Framing::Unknown,
            argc: 0,
            spans: ArgSpans::new(),
            pos: 0,
            bulk_len: None,
            scan_from: 0,
        }
    }

    fn reset(&mut self) {
        self.framing = Framing::Unknown;
        self.argc = 0;
        self.spans.clear();
        self.pos = 0;
        self.bulk_len = None;
        self.scan_from = 0;
    }
}

/// What one attempt to parse a command found.
enum Step {
    /// The command is incomplete; progress is saved.
    NeedMore,
    /// A complete command of this many bytes; its spans are in the progress.
    Complete(usize),
    /// This many bytes were consumed without producing a command (`*0`, `*-1`
    /// or an empty inline line), as Redis skips them.
    Skipped(usize),
    /// An inline line ends `line_len` bytes in and the command `total` bytes in;
    /// it still needs splitting, which needs the buffer mutably.
    InlineLine { line_len: usize, total: usize },
}

/// A resumable, pipelined RESP request parser for one connection.
///
/// Call [`RequestParser::parse`] with every byte the connection has buffered
/// that no earlier call consumed, drain [`RequestParser::consumed`] bytes
/// from the front of that buffer afterwards, and call again when more bytes
/// arrive. A partly received command is resumed where it stopped.
#[derive(Debug)]
pub struct RequestParser {
    limits: Limits,
    auth_required: bool,
    consumed: usize,
    progress: Progress,
}

impl Default for RequestParser {
    fn default() -> Self {
        RequestParser::new(Limits::default())
    }
}

impl RequestParser {
    /// A parser that enforces `limits`.
    pub fn new(limits: Limits) -> Self {
        RequestParser {
            limits,
            auth_required: false,
            consumed: 0,
            progress: Progress::new(),
        }
    }

    /// The limits this parser enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Replaces the limits (`CONFIG SET` of a protocol limit).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Whether the client must still authenticate; while it must, the
    /// tighter unauthenticated limits apply, as in Redis.
    pub fn set_auth_required(&mut self, required: bool) {
        self.auth_required = required;
    }

    /// Bytes the last [`RequestParser::parse`] consumed: complete commands and
    /// skipped empty requests. The caller drops them before the next call.
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// Whether a partly received command is waiting for more bytes.
    pub fn has_partial(&self) -> bool {
        self.progress.framing != Framing::Unknown
    }

    /// A cursor over every complete command in `buf`: it yields them in
    /// order, then `None` when the rest is incomplete, or an error after
    /// which the connection must close.
    ///
    /// `buf` must start at the first byte that earlier calls did not consume.
    /// It is taken mutably because quoted inline arguments are unescaped in
    /// place; RESP arrays are never modified.
    pub fn parse<'p, 'b>(&'p mut self, buf: &'b mut [u8]) -> Requests<'p, 'b> {
        self.consumed = 0;
        Requests {
            parser: self,
            rest: buf,
            current: Command {
                args: SmallVec::new(),
            },
            failed: false,
        }
    }

    fn step(&mut self, buf: &[u8]) -> Result<Step, ProtocolError> {
        debug_assert!(!buf.is_empty());
        if self.progress.framing == Framing::Unknown {
            self.progress.framing = if buf[0] == b'*' {
                Framing::Multibulk
            } else {
                Framing::Inline
            };
        }
        let step = match self.progress.framing {
            Framing::Multibulk => self.step_multibulk(buf)?,
            _ => self.step_inline(buf)?,
        };
        if matches!(step, Step::NeedMore) && buf.len() > self.limits.max_query_buffer_bytes {
            return Err(ProtocolError::QueryBufferLimit);
        }
        Ok(step)
    }

    fn step_inline(&mut self, buf: &[u8]) -> Result<Step, ProtocolError> {
        let progress = &mut self.progress;
        let Some(found) = memchr::memchr(b'\n', &buf[progress.scan_from..]) else {
            if buf.len() > self.limits.max_inline_len_bytes {
                return Err(ProtocolError::InlineRequestTooLong);
            }
            progress.scan_from = buf.len();
            return Ok(Step::NeedMore);
        };
        let newline = progress.scan_from + found;
        let line_len = if newline > 0 && buf[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        Ok(Step::InlineLine {
            line_len,
            total: newline + 1,
        })
    }

    /// Finds the `\r` ending the line at `progress.pos` and requires the byte
    /// after it, as Redis does (it skips that byte without checking it).
    /// `None` means more bytes are needed; `too_long` is the error when no
    /// `\r` comes within the inline limit.
    fn find_line_end(
        &mut self,
        buf: &[u8],
        too_long: ProtocolError,
    ) -> Result<Option<usize>, ProtocolError> {
        let progress = &mut self.progress;
        match memchr::memchr(b'\r', &buf[progress.scan_from..]) {
            None => {
                if buf.len() - progress.pos > self.limits.max_inline_len_bytes {
                    return Err(too_long);
                }
                progress.scan_from = buf.len();
                Ok(None)
            }
            Some(found) => {
                let cr = progress.scan_from + found;
                progress.scan_from = cr;
                Ok((cr + 2 <= buf.len()).then_some(cr))
            }
        }
    }

    fn step_multibulk(&mut self, buf: &[u8]) -> Result<Step, ProtocolError> {
        if self.progress.argc == 0 {
            let Some(cr) = self.find_line_end(buf, ProtocolError::MultibulkCountTooLong)? else {
                return Ok(Step::NeedMore);
            };
            let count = parse_i64(&buf[1..cr]).ok_or(ProtocolError::InvalidMultibulkLength)?;
            if count > 0 && count as u64 > self.limits.max_args as u64 {
                return Err(ProtocolError::InvalidMultibulkLength);
            }
            if self.auth_required
                && count > 0
                && count as u64 > self.limits.unauthenticated_max_args as u64
            {
                return Err(ProtocolError::UnauthenticatedMultibulkLength);
            }
            if count <= 0 {
                return Ok(Step::Skipped(cr + 2));
            }
            let progress = &mut self.progress;
            progress.argc = count as usize;
            progress.pos = cr + 2;
            progress.scan_from = progress.pos;
        }
        while self.progress.spans.len() < self.progress.argc {
            let bulk_len = match self.progress.bulk_len {
                Some(len) => len,
                None => match self.parse_bulk_header(buf)? {
                    Some(len) => len,
                    None => return Ok(Step::NeedMore),
                },
            };
            let progress = &mut self.progress;
            if buf.len() - progress.pos < bulk_len + 2 {
                return Ok(Step::NeedMore);
            }
            progress.spans.push((progress.pos, bulk_len));
            // Redis skips the two bytes after a bulk without checking them.
            progress.pos += bulk_len + 2;
            progress.scan_from = progress.pos;
            progress.bulk_len = None;
        }
        Ok(Step::Complete(self.progress.pos))
    }

    /// Parses the `$N` line at `progress.pos`; `None` means more bytes are needed.
    fn parse_bulk_header(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        let Some(cr) = self.find_line_end(buf, ProtocolError::BulkCountTooLong)? else {
            return Ok(None);
        };
        let pos = self.progress.pos;
        if buf[pos] != b'$' {
            return Err(ProtocolError::ExpectedDollar(buf[pos]));
        }
        let len = parse_i64(&buf[pos + 1..cr])
            .and_then(|len| usize::try_from(len).ok())
            .filter(|&len| len <= self.limits.max_bulk_len_bytes)
            .ok_or(ProtocolError::InvalidBulkLength)?;
        if self.auth_required && len > self.limits.unauthenticated_max_bulk_len_bytes {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        let progress = &mut self.progress;
        progress.pos = cr + 2;
        progress.scan_from = progress.pos;
        progress.bulk_len = Some(len);
        Ok(Some(len))
    }
}

/// Reads a decimal length of at most 18 digits ending in `\r` plus one more
/// byte at `pos`: the value and the offset after the line. `None` for
/// anything unusual, which the resumable path then judges.
#[inline(always)]
fn scan_length_line(buf: &[u8], mut pos: usize) -> Option<(usize, usize)> {
    const DIGITS_MAX: usize = 18;
    let start = pos;
    let mut value = 0usize;
    loop {
        let byte = *buf.get(pos)?;
        if byte == b'\r' {
            break;
        }
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 || (digit == 0 && pos == start && buf.get(pos + 1) != Some(&b'\r')) {
            return None;
        }
        value = value * 10 + usize::from(digit);
        pos += 1;
        if pos - start > DIGITS_MAX {
            return None;
        }
    }
    if pos == start || pos + 1 >= buf.len() {
        return None;
    }
    Some((value, pos + 2))
}

/// Scans a complete RESP array of bulk strings at the start of `buf` into
/// `spans`; returns its length, or `None` if it is incomplete, malformed or
/// near a limit.
#[inline]
fn scan_complete_multibulk(buf: &[u8], limits: &Limits, spans: &mut ArgSpans) -> Option<usize> {
    debug_assert_eq!(buf.first(), Some(&b'*'));
    let (argc, mut pos) = scan_length_line(buf, 1)?;
    if argc == 0 || argc > limits.max_args {
        return None;
    }
    for _ in 0..argc {
        if *buf.get(pos)? != b'$' {
            return None;
        }
        let (len, start) = scan_length_line(buf, pos + 1)?;
        if len > limits.max_bulk_len_bytes || buf.len() - start < len + 2 {
            return None;
        }
        spans.push((start, len));
        pos = start + len + 2;
    }
    Some(pos)
}

/// The commands of one [`RequestParser::parse`] call, in the order sent.
///
/// A lending cursor rather than an [`Iterator`]: each command is built in
/// place in the cursor and lent out, so no command is moved or copied.
/// Its argument slices borrow the buffer, not the cursor, and may be kept.
/// The cursor borrows the buffer until it is dropped.
#[derive(Debug)]
pub struct Requests<'p, 'b> {
    parser: &'p mut RequestParser,
    rest: &'b mut [u8],
    current: Command<'b>,
    failed: bool,
}

impl<'b> Requests<'_, 'b> {
    /// The next complete command; `None` when the rest of the buffer holds
    /// no complete command; or an error, after which the connection must
    /// close and every later call returns `None`.
    #[inline]
    pub fn next_command(&mut self) -> Option<Result<&Command<'b>, ProtocolError>> {
        if self.failed {
            return None;
        }
        match self.advance() {
            Ok(true) => Some(Ok(&self.current)),
            Ok(false) => None,
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }

    /// Bytes of the buffer consumed so far: every command yielded and every
    /// skipped empty request. A caller that stops before handling the last
    /// command it was given can note this first and drain only that much;
    /// the next parse starts cleanly at that command.
    pub fn consumed(&self) -> usize {
        self.parser.consumed
    }

    /// Splits the first `len` bytes off the unparsed rest.
    fn take_front(&mut self, len: usize) -> &'b mut [u8] {
        let (front, rest) = std::mem::take(&mut self.rest).split_at_mut(len);
        self.rest = rest;
        self.parser.consumed += len;
        self.parser.progress.reset();
        front
    }

    /// Makes `current` the command whose arguments lie at `spans` in `bytes`.
    #[inline(always)]
    fn fill_current(&mut self, spans: &ArgSpans, bytes: &'b [u8]) {
        debug_assert!(!spans.is_empty());
        let args = &mut self.current.args;
        args.clear();
        for &(start, len) in spans {
            args.push(&bytes[start..start + len]);
        }
    }

    /// The common case in one pass: a complete, well-formed RESP array at
    /// the front of the buffer, no partial state, no special limits.
    /// Anything else falls through to the resumable path, which parses it
    /// from the start with the exact error semantics.
    #[inline(always)]
    fn advance_fast(&mut self) -> bool {
        let parser = &*self.parser;
        if parser.progress.framing != Framing::Unknown
            || parser.auth_required
            || self.rest.first() != Some(&b'*')
        {
            return false;
        }
        let mut spans = ArgSpans::new();
        let Some(len) = scan_complete_multibulk(self.rest, &parser.limits, &mut spans) else {
            return false;
        };
        let (front, rest) = std::mem::take(&mut self.rest).split_at_mut(len);
        self.rest = rest;
        self.parser.consumed += len;
        self.fill_current(&spans, front);
        true
    }

    /// Parses the next command into `current`; false when none is complete.
    #[inline(always)]
    fn advance(&mut self) -> Result<bool, ProtocolError> {
        if self.advance_fast() {
            return Ok(true);
        }
        while !self.rest.is_empty() {
            match self.parser.step(self.rest)? {
                Step::NeedMore => return Ok(false),
                Step::Skipped(len) => {
                    self.take_front(len);
                }
                Step::Complete(len) => {
                    let spans = std::mem::take(&mut self.parser.progress.spans);
                    let bytes: &'b [u8] = self.take_front(len);
                    self.fill_current(&spans, bytes);
                    self.parser.progress.spans = spans;
                    self.parser.progress.spans.clear();
                    return Ok(true);
                }
                Step::InlineLine { line_len, total } => {
                    let mut spans = std::mem::take(&mut self.parser.progress.spans);
                    let front = self.take_front(total);
                    let split = split_inline_args(&mut front[..line_len], &mut spans);
                    let bytes: &'b [u8] = front;
                    let complete = split.is_ok() && !spans.is_empty();
                    if complete {
                        self.fill_current(&spans, bytes);
                    }
                    spans.clear();
                    self.parser.progress.spans = spans;
                    split?;
                    if complete {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }
}
