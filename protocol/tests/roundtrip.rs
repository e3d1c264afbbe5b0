//! Property tests: commands a client encodes come back out of the parser
//! unchanged, however the bytes are split across reads.

use proptest::prelude::*;
use shoal_protocol::{
    encode_inline_request, encode_request, parse_in_pieces, OwnedCommand, ReplyEncoder,
    ReplyParser, RequestParser, RespVersion,
};

fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..12),
        1 => proptest::collection::vec(any::<u8>(), 0..300),
        1 => proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'"'), Just(b'\''), Just(b'\\'), Just(b' '), Just(0u8)], 0..6),
    ]
}

/// A command and whether to send it inline rather than as a RESP array.
fn command() -> impl Strategy<Value = (OwnedCommand, bool)> {
    (proptest::collection::vec(arg(), 1..12), any::<bool>())
}

fn encode(commands: &[(OwnedCommand, bool)]) -> Vec<u8> {
    let mut wire = Vec::new();
    for (args, inline) in commands {
        let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        if *inline {
            encode_inline_request(&args, &mut wire);
        } else {
            encode_request(&args, &mut wire);
        }
    }
    wire
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn commands_survive_a_split_at_every_byte(commands in proptest::collection::vec(command(), 1..6)) {
        let wire = encode(&commands);
        let expected: Vec<OwnedCommand> = commands.iter().map(|(args, _)| args.clone()).collect();
        for cut in 0..=wire.len() {
            let (parsed, error) = parse_in_pieces(&mut RequestParser::default(), &wire, &[cut]);
            prop_assert_eq!(error, None);
            prop_assert_eq!(&parsed, &expected, "split at {}", cut);
        }
        let every_byte: Vec<usize> = (1..wire.len()).collect();
        let (parsed, error) = parse_in_pieces(&mut RequestParser::default(), &wire, &every_byte);
        prop_assert_eq!(error, None);
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn random_splits_agree_with_one_shot_parsing(input in proptest::collection::vec(
        prop_oneof![any::<u8>(), Just(b'*'), Just(b'$'), Just(b'\r'), Just(b'\n'), Just(b'1'), Just(b'2')], 0..200),
        mut cuts in proptest::collection::vec(0usize..200, 0..8)) {
        cuts.sort_unstable();
        let one_shot = parse_in_pieces(&mut RequestParser::default(), &input, &[]);
        let pieces = parse_in_pieces(&mut RequestParser::default(), &input, &cuts);
        prop_assert_eq!(one_shot, pieces);
    }

    #[test]
    fn bulk_replies_round_trip_in_both_protocols(items in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..10)) {
        for version in [RespVersion::Resp2, RespVersion::Resp3] {
            let mut encoder = ReplyEncoder::new(version);
            encoder.array(items.len());
            items.iter().for_each(|item| encoder.bulk(item));
            let (reply, used) = ReplyParser::default().parse(encoder.as_bytes()).unwrap().expect("complete reply");
            prop_assert_eq!(used, encoder.len());
            let expected = shoal_protocol::Reply::Array(items.iter().cloned().map(shoal_protocol::Reply::Bulk).collect());
            prop_assert_eq!(reply, expected);
        }
    }
}
