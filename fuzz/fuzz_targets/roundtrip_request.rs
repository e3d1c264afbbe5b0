//! Commands of arbitrary bytes, encoded as clients encode them (RESP arrays
//! or quoted inline lines, mixed in one pipeline), must parse back exactly,
//! however the stream is cut into reads.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use shoal_protocol::{
    encode_inline_request, encode_request, parse_in_pieces, Limits, RequestParser,
};

/// Most arguments per command, the name included.
const MAX_ARGS: usize = 8;

#[derive(Debug, Arbitrary)]
struct Request {
    /// Sent as an inline line instead of a RESP array.
    inline: bool,
    name: Vec<u8>,
    /// Truncated to `MAX_ARGS - 1`.
    args: Vec<Vec<u8>>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    requests: Vec<Request>,
    /// Where reads end, modulo the stream length plus one.
    cuts: Vec<u16>,
    /// Also feed the stream one byte per read.
    every_byte: bool,
}

fuzz_target!(|input: Input| {
    let mut expected: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut stream = Vec::new();
    for request in &input.requests {
        let mut command = vec![request.name.clone()];
        command.extend(request.args.iter().take(MAX_ARGS - 1).cloned());
        let args: Vec<&[u8]> = command.iter().map(Vec::as_slice).collect();
        if request.inline {
            encode_inline_request(&args, &mut stream);
        } else {
            encode_request(&args, &mut stream);
        }
        expected.push(command);
    }
    // An inline line is refused once a read holds more than this much of it
    // without its end; keep every line below it whatever the cuts.
    if stream.len() > Limits::default().max_inline_len_bytes {
        return;
    }

    let mut cuts: Vec<usize> = input
        .cuts
        .iter()
        .map(|&cut| usize::from(cut) % (stream.len() + 1))
        .collect();
    cuts.sort_unstable();
    check(&stream, &[], &expected);
    check(&stream, &cuts, &expected);
    if input.every_byte {
        let every: Vec<usize> = (1..stream.len()).collect();
        check(&stream, &every, &expected);
    }
});

fn check(stream: &[u8], cuts: &[usize], expected: &[Vec<Vec<u8>>]) {
    let mut parser = RequestParser::default();
    let (commands, error) = parse_in_pieces(&mut parser, stream, cuts);
    assert_eq!(
        error,
        None,
        "split at {cuts:?}, stream {:?}",
        String::from_utf8_lossy(stream)
    );
    assert_eq!(
        commands,
        expected,
        "split at {cuts:?}, stream {:?}",
        String::from_utf8_lossy(stream)
    );
    assert!(
        !parser.has_partial(),
        "a complete stream left a partial command"
    );
}
