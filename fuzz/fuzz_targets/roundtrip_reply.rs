//! Reply trees written with `ReplyEncoder` for RESP3 and for RESP2 must parse
//! back with `ReplyParser` as the same tree (RESP3) or as the downgrade the
//! encoder documents (RESP2), taking exactly the bytes written; a proper
//! prefix of them must parse as incomplete.

#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use shoal_protocol::{format_double, ProtocolError, Reply, ReplyEncoder, ReplyParser, RespVersion};

/// Aggregates nest at most this deep (an attribute's value counts as a level).
const MAX_DEPTH: usize = 4;
/// Most elements (or pairs) of one aggregate.
const MAX_WIDTH: usize = 8;
/// Most nodes in one tree, so a small input cannot ask for a huge reply.
const MAX_NODES: usize = 256;
/// Prefixes of the encoding checked for "incomplete".
const PREFIXES: usize = 8;

/// What a handler can write.
#[derive(Debug)]
enum Node {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    ProtocolError(ProtocolError),
    Integer(i64),
    Bulk(Vec<u8>),
    Null,
    NullArray,
    Array(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Set(Vec<Node>),
    Push(Vec<Node>),
    Double(f64),
    Boolean(bool),
    BigNumber(Vec<u8>),
    Verbatim([u8; 3], Vec<u8>),
    Attributed(Vec<(Node, Node)>, Box<Node>),
}

/// A parsed reply with doubles as their text, so trees compare with `==`
/// (the parser reads doubles back from text; NaN never equals itself).
#[derive(Debug, PartialEq)]
enum Shape {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Integer(i64),
    Bulk(Vec<u8>),
    Null,
    NullArray,
    Array(Vec<Shape>),
    Map(Vec<(Shape, Shape)>),
    Set(Vec<Shape>),
    Double(Vec<u8>),
    Boolean(bool),
    BigNumber(Vec<u8>),
    Verbatim([u8; 3], Vec<u8>),
    Push(Vec<Shape>),
    Attributed(Vec<(Shape, Shape)>, Box<Shape>),
    BlobError(Vec<u8>),
}

struct Generator<'a, 'u> {
    u: &'a mut Unstructured<'u>,
    nodes: usize,
}

impl Generator<'_, '_> {
    fn node(&mut self, depth: usize) -> arbitrary::Result<Node> {
        self.nodes += 1;
        let leaf_only = depth >= MAX_DEPTH || self.nodes >= MAX_NODES;
        let kinds = if leaf_only { 12 } else { 17 };
        Ok(match self.u.choose_index(kinds)? {
            0 => Node::Simple(self.u.arbitrary()?),
            1 => Node::Error(self.u.arbitrary()?),
            2 => Node::ProtocolError(self.protocol_error()?),
            3 => Node::Integer(self.u.arbitrary()?),
            4 => Node::Bulk(self.u.arbitrary()?),
            5 => Node::Null,
            6 => Node::NullArray,
            7 => Node::Double(self.double()?),
            8 => Node::Boolean(self.u.arbitrary()?),
            9 => Node::BigNumber(self.u.arbitrary()?),
            10 => Node::Verbatim(self.u.arbitrary()?, self.u.arbitrary()?),
            11 => Node::Integer(i64::from(self.u.arbitrary::<i8>()?)),
            12 => Node::Array(self.elements(depth)?),
            13 => Node::Set(self.elements(depth)?),
            14 => Node::Push(self.elements(depth)?),
            15 => Node::Map(self.pairs(depth)?),
            _ => Node::Attributed(self.pairs(depth)?, Box::new(self.node(depth + 1)?)),
        })
    }

    fn width(&mut self) -> arbitrary::Result<usize> {
        self.u.int_in_range(0..=MAX_WIDTH)
    }

    fn elements(&mut self, depth: usize) -> arbitrary::Result<Vec<Node>> {
        (0..self.width()?).map(|_| self.node(depth + 1)).collect()
    }

    fn pairs(&mut self, depth: usize) -> arbitrary::Result<Vec<(Node, Node)>> {
        (0..self.width()?)
            .map(|_| Ok((self.node(depth + 1)?, self.node(depth + 1)?)))
            .collect()
    }

    /// Any bit pattern (NaN, infinities, subnormals) or an everyday score.
    fn double(&mut self) -> arbitrary::Result<f64> {
        Ok(if self.u.arbitrary()? {
            f64::from_bits(self.u.arbitrary()?)
        } else {
            f64::from(self.u.arbitrary::<i32>()?) / 1000.0
        })
    }

    fn protocol_error(&mut self) -> arbitrary::Result<ProtocolError> {
        // Every error that has a reply; QueryBufferLimit closes silently.
        Ok(match self.u.choose_index(9)? {
            0 => ProtocolError::InvalidMultibulkLength,
            1 => ProtocolError::InvalidBulkLength,
            2 => ProtocolError::UnauthenticatedMultibulkLength,
            3 => ProtocolError::UnauthenticatedBulkLength,
            4 => ProtocolError::ExpectedDollar(self.u.arbitrary()?),
            5 => ProtocolError::MultibulkCountTooLong,
            6 => ProtocolError::BulkCountTooLong,
            7 => ProtocolError::InlineRequestTooLong,
            _ => ProtocolError::UnbalancedQuotes,
        })
    }
}

fn encode(node: &Node, out: &mut ReplyEncoder) {
    match node {
        Node::Simple(text) => out.simple_string(text),
        Node::Error(text) => out.error(text),
        Node::ProtocolError(error) => out.protocol_error(error),
        Node::Integer(value) => out.integer(*value),
        Node::Bulk(body) => out.bulk(body),
        Node::Null => out.null(),
        Node::NullArray => out.null_array(),
        Node::Array(items) => {
            out.array(items.len());
            items.iter().for_each(|item| encode(item, out));
        }
        Node::Set(items) => {
            out.set(items.len());
            items.iter().for_each(|item| encode(item, out));
        }
        Node::Push(items) => {
            out.push(items.len());
            items.iter().for_each(|item| encode(item, out));
        }
        Node::Map(pairs) => {
            out.map(pairs.len());
            encode_pairs(pairs, out);
        }
        Node::Double(value) => out.double(*value),
        Node::Boolean(value) => out.boolean(*value),
        Node::BigNumber(digits) => out.big_number(digits),
        Node::Verbatim(format, text) => out.verbatim(format, text),
        Node::Attributed(pairs, value) => {
            out.attribute(pairs.len());
            encode_pairs(pairs, out);
            encode(value, out);
        }
    }
}

fn encode_pairs(pairs: &[(Node, Node)], out: &mut ReplyEncoder) {
    for (key, value) in pairs {
        encode(key, out);
        encode(value, out);
    }
}

/// The encoder writes simple strings, errors and RESP3 big numbers on one
/// line, with CR and LF turned into spaces.
fn one_line(text: &[u8]) -> Vec<u8> {
    text.iter()
        .map(|&byte| {
            if byte == b'\r' || byte == b'\n' {
                b' '
            } else {
                byte
            }
        })
        .collect()
}

fn double_text(value: f64) -> Vec<u8> {
    // The parser reads `-nan` back as NaN without a sign.
    if value.is_nan() {
        return b"nan".to_vec();
    }
    format_double(value).as_bytes().to_vec()
}

/// What `node` must parse back as for a client speaking `version`.
fn expected(node: &Node, version: RespVersion) -> Shape {
    let resp3 = version == RespVersion::Resp3;
    let all = |items: &[Node]| {
        items
            .iter()
            .map(|item| expected(item, version))
            .collect::<Vec<_>>()
    };
    let pairs = |pairs: &[(Node, Node)]| {
        pairs
            .iter()
            .map(|(key, value)| (expected(key, version), expected(value, version)))
            .collect::<Vec<_>>()
    };
    match node {
        Node::Simple(text) => Shape::Simple(one_line(text)),
        Node::Error(text) => Shape::Error(one_line(text)),
        Node::ProtocolError(error) => Shape::Error(
            error
                .reply_text()
                .expect("only errors with replies are generated")
                .as_bytes()
                .to_vec(),
        ),
        Node::Integer(value) => Shape::Integer(*value),
        Node::Bulk(body) => Shape::Bulk(body.clone()),
        Node::Null => Shape::Null,
        Node::NullArray if resp3 => Shape::Null,
        Node::NullArray => Shape::NullArray,
        Node::Array(items) => Shape::Array(all(items)),
        Node::Set(items) if resp3 => Shape::Set(all(items)),
        Node::Push(items) if resp3 => Shape::Push(all(items)),
        Node::Set(items) | Node::Push(items) => Shape::Array(all(items)),
        Node::Map(entries) if resp3 => Shape::Map(pairs(entries)),
        Node::Map(entries) => Shape::Array(
            entries
                .iter()
                .flat_map(|(key, value)| [expected(key, version), expected(value, version)])
                .collect(),
        ),
        Node::Double(value) if resp3 => Shape::Double(double_text(*value)),
        Node::Double(value) => Shape::Bulk(format_double(*value).as_bytes().to_vec()),
        Node::Boolean(value) if resp3 => Shape::Boolean(*value),
        Node::Boolean(value) => Shape::Integer(i64::from(*value)),
        Node::BigNumber(digits) if resp3 => Shape::BigNumber(one_line(digits)),
        Node::BigNumber(digits) => Shape::Bulk(digits.clone()),
        Node::Verbatim(format, text) if resp3 => Shape::Verbatim(*format, text.clone()),
        Node::Verbatim(_, text) => Shape::Bulk(text.clone()),
        Node::Attributed(entries, value) if resp3 => {
            Shape::Attributed(pairs(entries), Box::new(expected(value, version)))
        }
        // RESP2 has no attributes: only the value they describe is sent.
        Node::Attributed(_, value) => expected(value, version),
    }
}

fn shape(reply: &Reply) -> Shape {
    let all = |items: &[Reply]| items.iter().map(shape).collect::<Vec<_>>();
    let pairs = |pairs: &[(Reply, Reply)]| {
        pairs
            .iter()
            .map(|(key, value)| (shape(key), shape(value)))
            .collect()
    };
    match reply {
        Reply::Simple(text) => Shape::Simple(text.clone()),
        Reply::Error(text) => Shape::Error(text.clone()),
        Reply::Integer(value) => Shape::Integer(*value),
        Reply::Bulk(body) => Shape::Bulk(body.clone()),
        Reply::Null => Shape::Null,
        Reply::NullArray => Shape::NullArray,
        Reply::Array(items) => Shape::Array(all(items)),
        Reply::Map(entries) => Shape::Map(pairs(entries)),
        Reply::Set(items) => Shape::Set(all(items)),
        Reply::Double(value) => Shape::Double(double_text(*value)),
        Reply::Boolean(value) => Shape::Boolean(*value),
        Reply::BigNumber(digits) => Shape::BigNumber(digits.clone()),
        Reply::Verbatim { format, text } => Shape::Verbatim(*format, text.clone()),
        Reply::Push(items) => Shape::Push(all(items)),
        Reply::Attributed { attributes, value } => {
            Shape::Attributed(pairs(attributes), Box::new(shape(value)))
        }
        Reply::BlobError(message) => Shape::BlobError(message.clone()),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mut generator = Generator {
        u: &mut u,
        nodes: 0,
    };
    let Ok(tree) = generator.node(0) else {
        return;
    };
    let prefixes: Vec<u16> = (0..PREFIXES).map_while(|_| u.arbitrary().ok()).collect();
    for version in [RespVersion::Resp3, RespVersion::Resp2] {
        check(&tree, version, &prefixes);
    }
});

fn check(tree: &Node, version: RespVersion, prefixes: &[u16]) {
    let want = expected(tree, version);
    let parser = ReplyParser::default();

    // Twice in one buffer, as pipelined replies are: the second must not be
    // affected by anything the first left behind in the encoder.
    let mut encoder = ReplyEncoder::new(version);
    encode(tree, &mut encoder);
    let one = encoder.len();
    encode(tree, &mut encoder);
    let bytes = encoder.as_bytes();
    assert_eq!(
        bytes.len(),
        2 * one,
        "{version:?}: the same reply encoded to different lengths"
    );

    let mut at = 0;
    for nth in 0..2 {
        let (reply, used) = match parser.parse(&bytes[at..]) {
            Ok(Some(parsed)) => parsed,
            other => panic!(
                "{version:?} reply #{nth} of {tree:?} did not parse: {other:?}\nbytes: {:?}",
                String::from_utf8_lossy(&bytes[at..])
            ),
        };
        assert_eq!(
            shape(&reply),
            want,
            "{version:?} reply #{nth} of {tree:?}\nbytes: {:?}",
            String::from_utf8_lossy(&bytes[at..])
        );
        assert_eq!(
            used, one,
            "{version:?} reply #{nth} took {used} of {one} bytes: {tree:?}"
        );
        at += used;
    }

    // A client that has read only part of a reply must wait for the rest.
    let whole = &bytes[..one];
    let last = [one.saturating_sub(1), one / 2];
    for len in prefixes
        .iter()
        .map(|&len| usize::from(len) % one.max(1))
        .chain(last)
    {
        if len < one {
            assert_eq!(
                parser.parse(&whole[..len]),
                Ok(None),
                "{version:?}: the first {len} of {one} bytes are not incomplete: {tree:?}"
            );
        }
    }
}
