//! `cargo bench -p shoal-protocol`: parse 64-command pipelines of
//! `SET key:NNNNNN <64-byte value>` and `GET key:NNNNNN`, and report
//! nanoseconds per command, throughput, and heap allocations per command.
//!
//! A plain harness (no criterion): each sample parses the pipeline enough
//! times to run for about 50 ms; the median of the samples is reported.

use std::hint::black_box;
use std::time::{Duration, Instant};

use shoal_protocol::{encode_request, RequestParser};

#[path = "../tests/support/counting_alloc.rs"]
mod counting_alloc;

const PIPELINE_COMMANDS: usize = 64;
const SAMPLES: usize = 21;
const SAMPLE_TIME: Duration = Duration::from_millis(50);

fn pipeline(with_value: bool) -> Vec<u8> {
    let value = [b'v'; 64];
    let mut wire = Vec::new();
    for i in 0..PIPELINE_COMMANDS {
        let key = format!("key:{:06}", i * 7919 % 1_000_000);
        if with_value {
            encode_request(&[b"SET", key.as_bytes(), &value], &mut wire);
        } else {
            encode_request(&[b"GET", key.as_bytes()], &mut wire);
        }
    }
    wire
}

/// Parses the whole pipeline once; returns the argument bytes seen so the
/// work cannot be optimised away.
fn parse_pipeline(parser: &mut RequestParser, wire: &mut [u8]) -> usize {
    let mut seen = 0;
    let len = wire.len();
    let mut requests = parser.parse(black_box(wire));
    while let Some(request) = requests.next_command() {
        let command = request.expect("benchmark pipeline is valid");
        seen += black_box(command.args())
            .iter()
            .map(|arg| arg.len())
            .sum::<usize>();
    }
    drop(requests);
    assert_eq!(parser.consumed(), len);
    seen
}

fn measure(name: &str, mut wire: Vec<u8>) {
    let mut parser = RequestParser::default();
    // Calibrate how many pipelines fit in one sample.
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed() < SAMPLE_TIME {
        black_box(parse_pipeline(&mut parser, &mut wire));
        rounds += 1;
    }
    let mut per_command_ns = Vec::with_capacity(SAMPLES);
    let allocations_before = counting_alloc::allocations();
    for _ in 0..SAMPLES {
        let start = Instant::now();
        for _ in 0..rounds {
            black_box(parse_pipeline(&mut parser, &mut wire));
        }
        per_command_ns
            .push(start.elapsed().as_nanos() as f64 / (rounds as f64 * PIPELINE_COMMANDS as f64));
    }
    let allocations = counting_alloc::allocations() - allocations_before;
    per_command_ns.sort_by(f64::total_cmp);
    let median = per_command_ns[SAMPLES / 2];
    let best = per_command_ns[0];
    let bytes_per_command = wire.len() as f64 / PIPELINE_COMMANDS as f64;
    let commands = rounds * SAMPLES as u64 * PIPELINE_COMMANDS as u64;
    println!(
        "{name:<28} {median:>7.2} ns/command (best {best:.2})  {:>6.2} GB/s  {:.1} bytes/command  {} allocations in {} commands",
        bytes_per_command / median,
        bytes_per_command,
        allocations,
        commands
    );
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: keep that quick.
    if !std::env::args().any(|arg| arg == "--bench") {
        let mut wire = pipeline(false);
        parse_pipeline(&mut RequestParser::default(), &mut wire);
        return;
    }
    println!("parse a pipeline of {PIPELINE_COMMANDS} commands, median of {SAMPLES} samples");
    measure("GET key:NNNNNN", pipeline(false));
    measure("SET key:NNNNNN <64 bytes>", pipeline(true));
}
