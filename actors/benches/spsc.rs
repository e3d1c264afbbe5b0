//! Nanoseconds per message through one SPSC ring between two threads.
//!
//! `cargo bench -p shoal-actors --bench spsc`. Three shapes: one message per
//! send and receive (the worst case: a counter store per message), batches of
//! 32 each way (one store per batch, as the server's loop sends), and a
//! ping-pong of one message (the cross-core round-trip latency, spinning, no
//! sleep). Each runs a few times; the best and median runs are printed.
//! Threads are not pinned, so on a loaded machine figures vary.

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use shoal_actors::spsc::{self, Receiver, Sender};

const MESSAGES: u64 = 20_000_000;
const PING_PONGS: u64 = 1_000_000;
const RING_CAPACITY: usize = 1024;
const BATCH_LEN: usize = 32;
const RUNS: usize = 5;

fn one_by_one(mut tx: Sender<u64>, mut rx: Receiver<u64>) -> Duration {
    let started = Instant::now();
    let consumer = thread::spawn(move || {
        let mut sum = 0u64;
        let mut received = 0;
        while received < MESSAGES {
            match rx.try_recv() {
                Some(msg) => {
                    sum = sum.wrapping_add(msg);
                    received += 1;
                }
                None => std::hint::spin_loop(),
            }
        }
        black_box(sum)
    });
    for msg in 0..MESSAGES {
        let mut msg = msg;
        while let Err(refused) = tx.try_send(msg) {
            msg = refused;
            std::hint::spin_loop();
        }
    }
    consumer.join().expect("consumer");
    started.elapsed()
}

fn batched(mut tx: Sender<u64>, mut rx: Receiver<u64>) -> Duration {
    let started = Instant::now();
    let consumer = thread::spawn(move || {
        let mut sum = 0u64;
        let mut received = 0u64;
        while received < MESSAGES {
            let got = rx.drain(BATCH_LEN, |msg| sum = sum.wrapping_add(msg));
            if got == 0 {
                std::hint::spin_loop();
            }
            received += got as u64;
        }
        black_box(sum)
    });
    let mut messages = 0..MESSAGES;
    while !messages.is_empty() {
        let mut batch = messages.by_ref().take(BATCH_LEN).peekable();
        while batch.peek().is_some() {
            if tx.send_from_iter(&mut batch) == 0 {
                std::hint::spin_loop();
            }
        }
    }
    consumer.join().expect("consumer");
    started.elapsed()
}

fn ping_pong() -> Duration {
    let (mut ping_tx, mut ping_rx) = spsc::channel::<u64>(1);
    let (mut pong_tx, mut pong_rx) = spsc::channel::<u64>(1);
    let echo = thread::spawn(move || {
        for _ in 0..PING_PONGS {
            let msg = loop {
                match ping_rx.try_recv() {
                    Some(msg) => break msg,
                    None => std::hint::spin_loop(),
                }
            };
            pong_tx.try_send(msg).expect("one message in flight");
        }
    });
    let started = Instant::now();
    for n in 0..PING_PONGS {
        ping_tx.try_send(n).expect("one message in flight");
        while pong_rx.try_recv().is_none() {
            std::hint::spin_loop();
        }
    }
    let elapsed = started.elapsed();
    echo.join().expect("echo");
    elapsed
}

fn report(name: &str, per: u64, unit: &str, mut runs: Vec<Duration>) {
    runs.sort();
    let ns = |d: Duration| d.as_nanos() as f64 / per as f64;
    println!(
        "{name:<28} best {:>7.2} ns/{unit}   median {:>7.2} ns/{unit}",
        ns(runs[0]),
        ns(runs[runs.len() / 2])
    );
}

fn main() {
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "spsc ring, capacity {RING_CAPACITY}, {MESSAGES} u64 messages, {cores} cores, {RUNS} runs"
    );
    let runs = (0..RUNS)
        .map(|_| {
            let (tx, rx) = spsc::channel(RING_CAPACITY);
            one_by_one(tx, rx)
        })
        .collect();
    report("one message per call", MESSAGES, "message", runs);
    let runs = (0..RUNS)
        .map(|_| {
            let (tx, rx) = spsc::channel(RING_CAPACITY);
            batched(tx, rx)
        })
        .collect();
    report(
        &format!("batches of {BATCH_LEN}"),
        MESSAGES,
        "message",
        runs,
    );
    let runs = (0..RUNS).map(|_| ping_pong()).collect();
    report("ping-pong round trip", PING_PONGS, "round trip", runs);
}
