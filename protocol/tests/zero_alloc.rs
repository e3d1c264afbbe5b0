//! Parsing a pipeline allocates nothing: every argument is a slice of the
//! connection's buffer. Counted with a global allocator that counts calls.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use shoal_protocol::{encode_inline_request, encode_request, RequestParser};

const PIPELINE_COMMANDS: usize = 1000;

fn pipeline() -> Vec<u8> {
    let value = [b'x'; 64];
    let mut wire = Vec::new();
    for i in 0..PIPELINE_COMMANDS {
        let key = format!("key:{i:06}");
        match i % 4 {
            0 => encode_request(&[b"SET", key.as_bytes(), &value], &mut wire),
            1 => encode_request(&[b"GET", key.as_bytes()], &mut wire),
            2 => encode_request(
                &[b"MSET", b"a", b"1", b"b", b"2", b"c", b"3", key.as_bytes()],
                &mut wire,
            ),
            _ => encode_inline_request(
                &[b"SET", key.as_bytes(), b"with \"quotes\" and \\x escapes"],
                &mut wire,
            ),
        }
    }
    wire
}

#[test]
fn parsing_a_pipeline_of_1000_commands_allocates_nothing() {
    let mut wire = pipeline();
    let mut parser = RequestParser::default();
    // Split the pipeline mid-command too, so resumption is counted.
    let split = wire.len() / 2 + 3;
    let mut total_args = 0;
    let mut commands = 0;

    let before = counting_alloc::allocations();
    {
        let mut requests = parser.parse(&mut wire[..split]);
        while let Some(request) = requests.next_command() {
            let command = request.expect("valid pipeline");
            commands += 1;
            total_args += command.len();
        }
    }
    let consumed = parser.consumed();
    let mut requests = parser.parse(&mut wire[consumed..]);
    while let Some(request) = requests.next_command() {
        let command = request.expect("valid pipeline");
        commands += 1;
        total_args += command.len();
    }
    let after = counting_alloc::allocations();

    assert_eq!(commands, PIPELINE_COMMANDS);
    assert_eq!(total_args, 250 * (3 + 2 + 8 + 3));
    assert_eq!(
        after - before,
        0,
        "parsing allocated {} times",
        after - before
    );
}
