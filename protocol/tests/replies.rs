//! The reply encoder: every RESP3 type, and the RESP2 form Redis sends instead.

use shoal_protocol::{ProtocolError, Reply, ReplyEncoder, ReplyParser, RespVersion};

fn encode(version: RespVersion, write: impl Fn(&mut ReplyEncoder)) -> String {
    let mut encoder = ReplyEncoder::new(version);
    write(&mut encoder);
    String::from_utf8(encoder.as_bytes().to_vec()).expect("test replies are UTF-8")
}

fn both(write: impl Fn(&mut ReplyEncoder)) -> (String, String) {
    (
        encode(RespVersion::Resp2, &write),
        encode(RespVersion::Resp3, &write),
    )
}

#[test]
fn scalars_common_to_both_protocols() {
    assert_eq!(both(|e| e.ok()), ("+OK\r\n".into(), "+OK\r\n".into()));
    assert_eq!(both(|e| e.simple_string(b"PONG")).1, "+PONG\r\n");
    assert_eq!(both(|e| e.error(b"ERR boom")).0, "-ERR boom\r\n");
    assert_eq!(both(|e| e.integer(-42)).1, ":-42\r\n");
    assert_eq!(both(|e| e.integer(i64::MIN)).0, ":-9223372036854775808\r\n");
    assert_eq!(both(|e| e.bulk(b"a\r\nb")).0, "$4\r\na\r\nb\r\n");
    assert_eq!(both(|e| e.bulk(b"")).1, "$0\r\n\r\n");
    assert_eq!(both(|e| e.array(2)).0, "*2\r\n");
}

#[test]
fn line_replies_cannot_break_framing() {
    assert_eq!(both(|e| e.error(b"ERR a\r\nb")).0, "-ERR a  b\r\n");
    assert_eq!(both(|e| e.simple_string(b"x\ny")).1, "+x y\r\n");
}

#[test]
fn protocol_errors_are_encoded_as_redis_sends_them() {
    let (resp2, _) = both(|e| e.protocol_error(&ProtocolError::ExpectedDollar(b'x')));
    assert_eq!(resp2, "-ERR Protocol error: expected '$', got 'x'\r\n");
    assert_eq!(
        both(|e| e.protocol_error(&ProtocolError::QueryBufferLimit)).0,
        ""
    );
}

#[test]
fn null_is_a_null_bulk_or_null_array_in_resp2() {
    assert_eq!(both(|e| e.null()), ("$-1\r\n".into(), "_\r\n".into()));
    assert_eq!(both(|e| e.null_array()), ("*-1\r\n".into(), "_\r\n".into()));
}

#[test]
fn map_is_a_flat_array_in_resp2() {
    let write = |e: &mut ReplyEncoder| {
        e.map(2);
        e.bulk(b"a");
        e.integer(1);
        e.bulk(b"b");
        e.integer(2);
    };
    assert_eq!(both(write).0, "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n");
    assert_eq!(both(write).1, "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:2\r\n");
}

#[test]
fn set_and_push_are_arrays_in_resp2() {
    assert_eq!(both(|e| e.set(3)), ("*3\r\n".into(), "~3\r\n".into()));
    assert_eq!(both(|e| e.push(3)), ("*3\r\n".into(), ">3\r\n".into()));
}

#[test]
fn double_is_a_bulk_string_in_resp2() {
    assert_eq!(
        both(|e| e.double(1.1)),
        (
            "$18\r\n1.1000000000000001\r\n".into(),
            ",1.1000000000000001\r\n".into()
        )
    );
    assert_eq!(
        both(|e| e.double(f64::INFINITY)),
        ("$3\r\ninf\r\n".into(), ",inf\r\n".into())
    );
    assert_eq!(
        both(|e| e.double(f64::NEG_INFINITY)),
        ("$4\r\n-inf\r\n".into(), ",-inf\r\n".into())
    );
    assert_eq!(both(|e| e.double(3.0)).1, ",3\r\n");
}

#[test]
fn boolean_is_an_integer_in_resp2() {
    assert_eq!(
        both(|e| e.boolean(true)),
        (":1\r\n".into(), "#t\r\n".into())
    );
    assert_eq!(
        both(|e| e.boolean(false)),
        (":0\r\n".into(), "#f\r\n".into())
    );
}

#[test]
fn big_number_is_a_bulk_string_in_resp2() {
    let digits = b"3492890328409238509324850943850943825024385";
    assert_eq!(
        both(|e| e.big_number(digits)),
        (
            "$43\r\n3492890328409238509324850943850943825024385\r\n".into(),
            "(3492890328409238509324850943850943825024385\r\n".into()
        )
    );
}

#[test]
fn verbatim_is_a_bulk_string_of_the_text_in_resp2() {
    assert_eq!(
        both(|e| e.verbatim(b"txt", b"Some string")),
        (
            "$11\r\nSome string\r\n".into(),
            "=15\r\ntxt:Some string\r\n".into()
        )
    );
}

#[test]
fn attributes_are_dropped_whole_in_resp2() {
    let write = |e: &mut ReplyEncoder| {
        e.array(2);
        e.attribute(1);
        e.simple_string(b"key-popularity");
        e.map(1);
        e.bulk(b"a");
        e.array(2);
        e.double(0.5);
        e.null();
        e.integer(7);
        e.integer(8);
    };
    assert_eq!(both(write).0, "*2\r\n:7\r\n:8\r\n");
    assert_eq!(
        both(write).1,
        "*2\r\n|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n*2\r\n,0.5\r\n_\r\n:7\r\n:8\r\n"
    );
}

#[test]
fn the_buffer_is_reused_after_a_partial_write() {
    let mut encoder = ReplyEncoder::new(RespVersion::Resp2);
    encoder.ok();
    encoder.integer(5);
    encoder.consume(3);
    assert_eq!(encoder.as_bytes(), b"\r\n:5\r\n");
    encoder.clear();
    assert!(encoder.is_empty());
    encoder.set_version(RespVersion::Resp3);
    encoder.null();
    assert_eq!(encoder.as_bytes(), b"_\r\n");
}

#[test]
fn the_reply_parser_reads_every_resp3_type() {
    let mut encoder = ReplyEncoder::new(RespVersion::Resp3);
    encoder.array(12);
    encoder.simple_string(b"OK");
    encoder.error(b"ERR x");
    encoder.integer(3);
    encoder.bulk(b"b");
    encoder.null();
    encoder.map(1);
    encoder.bulk(b"k");
    encoder.boolean(true);
    encoder.set(1);
    encoder.double(2.5);
    encoder.big_number(b"123456789012345678901234567890");
    encoder.verbatim(b"mkd", b"# hi");
    encoder.push(1);
    encoder.integer(9);
    encoder.attribute(1);
    encoder.bulk(b"ttl");
    encoder.integer(100);
    encoder.bulk(b"v");
    encoder.boolean(false);
    let bytes = encoder.as_bytes();
    let (reply, used) = ReplyParser::default()
        .parse(bytes)
        .unwrap()
        .expect("complete");
    assert_eq!(used, bytes.len());
    assert_eq!(
        reply,
        Reply::Array(vec![
            Reply::Simple(b"OK".to_vec()),
            Reply::Error(b"ERR x".to_vec()),
            Reply::Integer(3),
            Reply::Bulk(b"b".to_vec()),
            Reply::Null,
            Reply::Map(vec![(Reply::Bulk(b"k".to_vec()), Reply::Boolean(true))]),
            Reply::Set(vec![Reply::Double(2.5)]),
            Reply::BigNumber(b"123456789012345678901234567890".to_vec()),
            Reply::Verbatim {
                format: *b"mkd",
                text: b"# hi".to_vec()
            },
            Reply::Push(vec![Reply::Integer(9)]),
            Reply::Attributed {
                attributes: vec![(Reply::Bulk(b"ttl".to_vec()), Reply::Integer(100))],
                value: Box::new(Reply::Bulk(b"v".to_vec())),
            },
            Reply::Boolean(false),
        ])
    );
    for cut in 0..bytes.len() {
        assert_eq!(
            ReplyParser::default().parse(&bytes[..cut]),
            Ok(None),
            "prefix of {cut} bytes"
        );
    }
}

#[test]
fn an_attribute_inside_a_dropped_attribute_is_dropped_too() {
    let write = |e: &mut ReplyEncoder| {
        e.attribute(1);
        e.attribute(0);
        e.simple_string(b"k");
        e.simple_string(b"v");
        e.simple_string(b"x");
    };
    assert_eq!(both(write).0, "+x\r\n");
    assert_eq!(both(write).1, "|1\r\n|0\r\n+k\r\n+v\r\n+x\r\n");
}
