//! Arbitrary bytes into the request parser: it must never panic, and a stream
//! fed in pieces (one read each) must parse exactly as when it arrives at once.
//!
//! Input layout: two header bytes, then the stream.
//! - `header[0] & 3` picks how the stream is cut: 0 at every byte, 1 every
//!   `header[1] + 1` bytes, 2 and 3 at up to 32 pseudo-random offsets
//!   (seeded by both header bytes; repeats allowed, which feeds an empty read).
//! - `header[0] & 4` makes the client unauthenticated for the parser with
//!   reduced limits, so the unauthenticated limits are exercised too.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shoal_protocol::{
    encode_request, parse_in_pieces, Limits, OwnedCommand, ProtocolError, RequestParser,
};

const HEADER_LEN: usize = 2;

/// Small enough that fuzz inputs (4 KiB at most by default) cross every
/// limit; the query buffer limit is below the bulk limit so that a partly
/// received bulk can reach it.
const REDUCED: Limits = Limits {
    max_bulk_len_bytes: 1024,
    max_args: 16,
    max_inline_len_bytes: 64,
    max_query_buffer_bytes: 512,
    unauthenticated_max_args: 10,
    unauthenticated_max_bulk_len_bytes: 256,
};

type Parsed = (Vec<OwnedCommand>, Option<ProtocolError>);

fuzz_target!(|input: &[u8]| {
    if input.len() < HEADER_LEN {
        return;
    }
    let (header, data) = input.split_at(HEADER_LEN);
    let cuts = cut_points(header, data.len());
    let auth_required = header[0] & 4 != 0;

    // Default limits.
    let whole = parse_in_pieces(&mut RequestParser::default(), data, &[]);
    let pieces = parse_in_pieces(&mut RequestParser::default(), data, &cuts);
    touch_error(&whole.1);
    touch_error(&pieces.1);
    // A line longer than the inline limit that does end further on is refused
    // when a read stops before its end but accepted when it all arrives at
    // once (Redis behaves the same), so agreement holds for inputs no longer
    // than that limit. The query buffer limit (1 GiB) is out of reach.
    if data.len() <= Limits::default().max_inline_len_bytes {
        assert_eq!(whole, pieces, "split at {cuts:?}");
    }

    // What was parsed, sent again as RESP arrays, parses to the same commands.
    let mut encoded = Vec::new();
    for command in &whole.0 {
        let args: Vec<&[u8]> = command.iter().map(Vec::as_slice).collect();
        encode_request(&args, &mut encoded);
    }
    let again = parse_in_pieces(&mut RequestParser::default(), &encoded, &[]);
    assert_eq!(
        again,
        (whole.0.clone(), None),
        "re-encoded commands parse differently"
    );

    // Reduced limits.
    let reduced_whole = parse_reduced(data, &[], auth_required);
    let reduced_pieces = parse_reduced(data, &cuts, auth_required);
    touch_error(&reduced_whole.1);
    touch_error(&reduced_pieces.1);
    check_reduced(&whole, &reduced_whole, &reduced_pieces, &cuts);
});

fn parse_reduced(data: &[u8], cuts: &[usize], auth_required: bool) -> Parsed {
    let mut parser = RequestParser::new(REDUCED);
    parser.set_auth_required(auth_required);
    parse_in_pieces(&mut parser, data, cuts)
}

/// Errors raised because a read ended before a line or command did: whether
/// they happen depends on where the stream was cut.
fn depends_on_cuts(error: &Option<ProtocolError>) -> bool {
    matches!(
        error,
        Some(
            ProtocolError::QueryBufferLimit
                | ProtocolError::InlineRequestTooLong
                | ProtocolError::MultibulkCountTooLong
                | ProtocolError::BulkCountTooLong
        )
    )
}

/// The properties that hold under limits:
///
/// - Limits only add errors; they never change how bytes parse. So a parser
///   with reduced limits yields a prefix of what the default parser yields
///   from the same stream, and all of it when it reports no error.
/// - Every limit check that depends on the buffered length fires, for the
///   one-shot parse, only when nothing after the current command's start
///   ends it; the piecewise parser, holding the same bytes at its last read,
///   would fire then too (if it got that far). So the piecewise parse stops
///   no later than the one-shot parse, and where it stops for a reason that
///   does not depend on the cuts (or does not stop), both agree exactly.
fn check_reduced(default_whole: &Parsed, whole: &Parsed, pieces: &Parsed, cuts: &[usize]) {
    assert!(
        default_whole.0.starts_with(&whole.0),
        "reduced limits yielded commands the default limits did not: {:?} vs {:?}",
        whole,
        default_whole
    );
    if whole.1.is_none() {
        assert_eq!(
            whole, default_whole,
            "no limit was hit, yet the parses differ"
        );
    }
    assert!(
        whole.0.starts_with(&pieces.0),
        "split at {cuts:?}, the reduced parser yielded commands the one-shot parse did not: {:?} vs {:?}",
        pieces,
        whole
    );
    if !depends_on_cuts(&pieces.1) {
        assert_eq!(whole, pieces, "split at {cuts:?}");
    }
}

/// Formats the error both ways, as a server replying with it would.
fn touch_error(error: &Option<ProtocolError>) {
    if let Some(error) = error {
        let _ = error.to_string();
        if let Some(text) = error.reply_text() {
            assert!(!text.as_bytes().contains(&b'\r') && !text.as_bytes().contains(&b'\n'));
        }
    }
}

fn cut_points(header: &[u8], len: usize) -> Vec<usize> {
    match header[0] & 3 {
        0 => (1..len).collect(),
        1 => {
            let stride = usize::from(header[1]) + 1;
            (1..)
                .map(|i| i * stride)
                .take_while(|&cut| cut < len)
                .collect()
        }
        _ => {
            let mut state = u64::from(u16::from_le_bytes([header[0], header[1]])) | 1 << 32;
            let count = 1 + usize::from(header[1] & 31);
            let mut cuts: Vec<usize> = (0..count)
                .map(|_| (splitmix64(&mut state) % (len as u64 + 1)) as usize)
                .collect();
            cuts.sort_unstable();
            cuts
        }
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
