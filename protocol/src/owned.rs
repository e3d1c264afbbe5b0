//! An owning convenience over [`RequestParser`] for tests, fuzzers and tools
//! where copying arguments does not matter.

use crate::error::ProtocolError;
use crate::parser::RequestParser;

/// A parsed request with its arguments copied out of the buffer.
pub type OwnedCommand = Vec<Vec<u8>>;

/// Parses every complete command in `buf` into `out`, then drains the bytes
/// consumed from the front of `buf`, as a connection would between reads.
/// Commands before an error are still appended.
pub fn drain_commands(
    parser: &mut RequestParser,
    buf: &mut Vec<u8>,
    out: &mut Vec<OwnedCommand>,
) -> Result<(), ProtocolError> {
    let mut result = Ok(());
    {
        let mut requests = parser.parse(buf);
        while let Some(request) = requests.next_command() {
            match request {
                Ok(command) => out.push(command.args().iter().map(|arg| arg.to_vec()).collect()),
                Err(error) => result = Err(error),
            }
        }
    }
    let consumed = parser.consumed();
    buf.drain(..consumed);
    result
}

/// Feeds `input` to a fresh parser in pieces cut at `cuts` (byte offsets,
/// ascending), as if each piece arrived in its own read, and returns every
/// command parsed and the error that ended the stream, if any.
pub fn parse_in_pieces(
    parser: &mut RequestParser,
    input: &[u8],
    cuts: &[usize],
) -> (Vec<OwnedCommand>, Option<ProtocolError>) {
    let mut buf = Vec::new();
    let mut commands = Vec::new();
    let mut start = 0;
    let ends = cuts
        .iter()
        .copied()
        .filter(|&cut| cut <= input.len())
        .chain([input.len()]);
    for end in ends {
        if end < start {
            continue;
        }
        buf.extend_from_slice(&input[start..end]);
        start = end;
        if let Err(error) = drain_commands(parser, &mut buf, &mut commands) {
            return (commands, Some(error));
        }
    }
    (commands, None)
}
