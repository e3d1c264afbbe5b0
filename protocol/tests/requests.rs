//! The request parser: framing, pipelining, resumption and every error.

use shoal_protocol::{parse_in_pieces, Limits, OwnedCommand, ProtocolError, RequestParser};

fn parse(input: &[u8]) -> (Vec<OwnedCommand>, Option<ProtocolError>) {
    parse_in_pieces(&mut RequestParser::default(), input, &[])
}

fn parse_with(limits: Limits, input: &[u8]) -> (Vec<OwnedCommand>, Option<ProtocolError>) {
    parse_in_pieces(&mut RequestParser::new(limits), input, &[])
}

fn cmd(args: &[&str]) -> OwnedCommand {
    args.iter().map(|arg| arg.as_bytes().to_vec()).collect()
}

fn error_text(error: ProtocolError) -> String {
    String::from_utf8(
        error
            .reply_text()
            .expect("error has a reply")
            .as_bytes()
            .to_vec(),
    )
    .unwrap()
}

#[test]
fn resp_array_of_bulk_strings_is_one_command() {
    let (commands, error) = parse(b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
    assert_eq!(commands, vec![cmd(&["SET", "key", "value"])]);
    assert_eq!(error, None);
}

#[test]
fn bulk_strings_are_binary_safe() {
    let (commands, _) = parse(b"*2\r\n$4\r\na\r\nb\r\n$0\r\n\r\n");
    assert_eq!(commands, vec![vec![b"a\r\nb".to_vec(), Vec::new()]]);
}

#[test]
fn a_pipeline_yields_every_command_in_one_call() {
    let mut parser = RequestParser::default();
    let mut buf =
        b"*1\r\n$4\r\nPING\r\nECHO hi\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPI".to_vec();
    let mut names = Vec::new();
    {
        let mut requests = parser.parse(&mut buf);
        while let Some(command) = requests.next_command() {
            names.push(command.expect("valid").name().to_vec());
        }
    }
    assert_eq!(
        names,
        vec![b"PING".to_vec(), b"ECHO".to_vec(), b"GET".to_vec()]
    );
    assert_eq!(parser.consumed(), buf.len() - b"*1\r\n$4\r\nPI".len());
    assert!(parser.has_partial());
}

#[test]
fn a_partial_command_resumes_when_the_rest_arrives() {
    let mut parser = RequestParser::default();
    let mut buf = b"*2\r\n$3\r\nGET\r\n$3\r\nke".to_vec();
    assert!(parser.parse(&mut buf).next_command().is_none());
    assert_eq!(parser.consumed(), 0);
    buf.extend_from_slice(b"y\r\n");
    let mut commands: Vec<OwnedCommand> = Vec::new();
    {
        let mut requests = parser.parse(&mut buf);
        while let Some(command) = requests.next_command() {
            commands.push(
                command
                    .unwrap()
                    .args()
                    .iter()
                    .map(|arg| arg.to_vec())
                    .collect(),
            );
        }
    }
    assert_eq!(commands, vec![cmd(&["GET", "key"])]);
    assert_eq!(parser.consumed(), buf.len());
    assert!(!parser.has_partial());
}

#[test]
fn every_split_point_gives_the_same_commands() {
    let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$11\r\nhello world\r\nGET \"k\"\r\n*0\r\n\r\n*1\r\n$4\r\nPING\r\n";
    let expected = vec![
        cmd(&["SET", "k", "hello world"]),
        cmd(&["GET", "k"]),
        cmd(&["PING"]),
    ];
    for cut in 0..=input.len() {
        for second in cut..=input.len() {
            let (commands, error) =
                parse_in_pieces(&mut RequestParser::default(), input, &[cut, second]);
            assert_eq!(
                (&commands, error),
                (&expected, None),
                "cuts at {cut} and {second}"
            );
        }
    }
}

#[test]
fn empty_and_negative_arrays_are_skipped_as_redis_does() {
    let (commands, error) = parse(b"*0\r\n*-1\r\n*-7\r\n*1\r\n$4\r\nPING\r\n");
    assert_eq!((commands, error), (vec![cmd(&["PING"])], None));
}

#[test]
fn the_two_bytes_after_a_bulk_are_skipped_unchecked_as_redis_does() {
    let (commands, error) = parse(b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n");
    assert_eq!(
        (commands, error),
        (vec![cmd(&["PING"]), cmd(&["PING"])], None)
    );
}

#[test]
fn inline_commands_split_on_whitespace() {
    let (commands, error) = parse(b"  SET   key\tvalue  \r\nPING\n\r\n\n");
    assert_eq!(
        (commands, error),
        (vec![cmd(&["SET", "key", "value"]), cmd(&["PING"])], None)
    );
}

#[test]
fn inline_double_quotes_take_escapes() {
    let (commands, error) = parse(b"SET \"a b\" \"\\x41\\n\\t\\\"\\\\\\q\" \"\"\r\n");
    assert_eq!(error, None);
    assert_eq!(
        commands,
        vec![vec![
            b"SET".to_vec(),
            b"a b".to_vec(),
            b"A\n\t\"\\q".to_vec(),
            Vec::new()
        ]]
    );
}

#[test]
fn inline_single_quotes_take_only_escaped_quotes() {
    let (commands, error) = parse(b"SET 'it\\'s' '\\n'\r\n");
    assert_eq!(error, None);
    assert_eq!(
        commands,
        vec![vec![b"SET".to_vec(), b"it's".to_vec(), b"\\n".to_vec()]]
    );
}

#[test]
fn inline_quotes_may_start_inside_a_word() {
    let (commands, error) = parse(b"SET a\"b c\"\r\n");
    assert_eq!((commands, error), (vec![cmd(&["SET", "ab c"])], None));
}

#[test]
fn inline_line_ends_at_a_nul_byte() {
    let (commands, error) = parse(b"ECHO ab\0cd\r\n");
    assert_eq!((commands, error), (vec![cmd(&["ECHO", "ab"])], None));
}

#[test]
fn unbalanced_quotes_are_a_protocol_error() {
    for input in [
        &b"SET \"abc\r\n"[..],
        b"SET 'abc\r\n",
        b"SET \"a\"b\r\n",
        b"SET 'a'b\r\n",
        b"GET \"\\\r\n",
    ] {
        let (commands, error) = parse(input);
        assert!(commands.is_empty());
        assert_eq!(
            error,
            Some(ProtocolError::UnbalancedQuotes),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    assert_eq!(
        error_text(ProtocolError::UnbalancedQuotes),
        "ERR Protocol error: unbalanced quotes in request"
    );
}

#[test]
fn commands_before_an_error_are_still_returned() {
    let (commands, error) = parse(b"PING\r\n*1\r\nfoo\r\n");
    assert_eq!(commands, vec![cmd(&["PING"])]);
    assert_eq!(error, Some(ProtocolError::ExpectedDollar(b'f')));
}

#[test]
fn every_protocol_error_has_redis_text() {
    let cases: &[(&[u8], ProtocolError, &str)] = &[
        (
            b"*abc\r\n",
            ProtocolError::InvalidMultibulkLength,
            "invalid multibulk length",
        ),
        (
            b"*2147483648\r\n",
            ProtocolError::InvalidMultibulkLength,
            "invalid multibulk length",
        ),
        (
            b"*01\r\n",
            ProtocolError::InvalidMultibulkLength,
            "invalid multibulk length",
        ),
        (
            b"*1\r\n$-1\r\n",
            ProtocolError::InvalidBulkLength,
            "invalid bulk length",
        ),
        (
            b"*1\r\n$x\r\n",
            ProtocolError::InvalidBulkLength,
            "invalid bulk length",
        ),
        (
            b"*1\r\n$536870913\r\n",
            ProtocolError::InvalidBulkLength,
            "invalid bulk length",
        ),
        (
            b"*1\r\nfoo\r\n",
            ProtocolError::ExpectedDollar(b'f'),
            "expected '$', got 'f'",
        ),
        (
            b"*1\r\n\r\n\r\n",
            ProtocolError::ExpectedDollar(b'\r'),
            "expected '$', got ' '",
        ),
    ];
    for (input, expected, text) in cases {
        let (commands, error) = parse(input);
        assert!(commands.is_empty());
        assert_eq!(
            error,
            Some(*expected),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(error_text(*expected), format!("ERR Protocol error: {text}"));
    }
}

#[test]
fn lines_without_an_end_are_bounded_by_the_inline_limit() {
    let long = vec![b'a'; 64 * 1024 + 1];
    let (_, error) = parse(&long);
    assert_eq!(error, Some(ProtocolError::InlineRequestTooLong));
    let at_limit = vec![b'a'; 64 * 1024];
    assert_eq!(parse(&at_limit).1, None);

    let mut mbulk = b"*".to_vec();
    mbulk.extend(std::iter::repeat_n(b'1', 64 * 1024 + 1));
    assert_eq!(parse(&mbulk).1, Some(ProtocolError::MultibulkCountTooLong));

    let mut bulk = b"*1\r\n$".to_vec();
    bulk.extend(std::iter::repeat_n(b'1', 64 * 1024 + 1));
    assert_eq!(parse(&bulk).1, Some(ProtocolError::BulkCountTooLong));

    for (error, text) in [
        (
            ProtocolError::InlineRequestTooLong,
            "too big inline request",
        ),
        (
            ProtocolError::MultibulkCountTooLong,
            "too big mbulk count string",
        ),
        (ProtocolError::BulkCountTooLong, "too big bulk count string"),
    ] {
        assert_eq!(error_text(error), format!("ERR Protocol error: {text}"));
    }
}

#[test]
fn configured_limits_apply() {
    let limits = Limits {
        max_bulk_len_bytes: 4,
        max_args: 2,
        max_inline_len_bytes: 8,
        ..Limits::default()
    };
    assert_eq!(
        parse_with(limits, b"*1\r\n$5\r\nhello\r\n").1,
        Some(ProtocolError::InvalidBulkLength)
    );
    assert_eq!(
        parse_with(limits, b"*1\r\n$4\r\nhell\r\n"),
        (vec![cmd(&["hell"])], None)
    );
    assert_eq!(
        parse_with(limits, b"*3\r\n").1,
        Some(ProtocolError::InvalidMultibulkLength)
    );
    assert_eq!(
        parse_with(limits, b"123456789").1,
        Some(ProtocolError::InlineRequestTooLong)
    );
}

#[test]
fn a_full_query_buffer_closes_without_a_reply() {
    let limits = Limits {
        max_query_buffer_bytes: 16,
        ..Limits::default()
    };
    let (_, error) = parse_with(limits, b"*1\r\n$100\r\n0123456789");
    assert_eq!(error, Some(ProtocolError::QueryBufferLimit));
    assert!(ProtocolError::QueryBufferLimit.reply_text().is_none());
}

#[test]
fn unauthenticated_clients_get_tighter_limits() {
    let mut parser = RequestParser::default();
    parser.set_auth_required(true);
    let (_, error) = parse_in_pieces(&mut parser, b"*11\r\n", &[]);
    assert_eq!(error, Some(ProtocolError::UnauthenticatedMultibulkLength));
    let mut parser = RequestParser::default();
    parser.set_auth_required(true);
    let (_, error) = parse_in_pieces(&mut parser, b"*1\r\n$16385\r\n", &[]);
    assert_eq!(error, Some(ProtocolError::UnauthenticatedBulkLength));
    assert_eq!(
        error_text(ProtocolError::UnauthenticatedBulkLength),
        "ERR Protocol error: unauthenticated bulk length"
    );
    assert_eq!(
        error_text(ProtocolError::UnauthenticatedMultibulkLength),
        "ERR Protocol error: unauthenticated multibulk length"
    );
}

#[test]
fn a_large_bulk_waits_for_all_its_bytes() {
    let value = vec![b'v'; 100_000];
    let mut input = format!("*2\r\n$3\r\nSET\r\n${}\r\n", value.len()).into_bytes();
    input.extend_from_slice(&value);
    input.extend_from_slice(b"\r\n");
    let cuts: Vec<usize> = (0..input.len()).step_by(4096).collect();
    let (commands, error) = parse_in_pieces(&mut RequestParser::default(), &input, &cuts);
    assert_eq!(error, None);
    assert_eq!(commands, vec![vec![b"SET".to_vec(), value]]);
}
