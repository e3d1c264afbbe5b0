//! Parsing a pipeline allocates nothing: every argument is a slice of the
//! connection's buffer. Counted with a global allocator that counts calls.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use shoal_protocol::{encode_inline_request, encode_request, RequestParser};

struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

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

    let before = ALLOCATIONS.load(Ordering::Relaxed);
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
    let after = ALLOCATIONS.load(Ordering::Relaxed);

    assert_eq!(commands, PIPELINE_COMMANDS);
    assert_eq!(total_args, 250 * (3 + 2 + 8 + 3));
    assert_eq!(
        after - before,
        0,
        "parsing allocated {} times",
        after - before
    );
}
