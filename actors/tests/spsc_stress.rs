//! Two threads hammer one small ring: every message arrives once, in order.

mod util;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use shoal_actors::spsc::{self, Receiver, Sender};
use util::{scaled, Backoff};

/// Small, so that the ring is full and empty, and wraps, all the time.
const RING_CAPACITY: usize = 64;

/// Sends `1..=last` using single sends, batches from an iterator and batches
/// from a queue in turn, spinning while the ring is full. Returns how many
/// attempts found the ring full.
fn produce(mut tx: Sender<u64>, last: u64) -> u64 {
    let mut full_count = 0;
    let mut backoff = Backoff::default();
    let mut next = 1u64;
    let mut queue = VecDeque::with_capacity(RING_CAPACITY);
    let mut turn = 0u64;
    while next <= last || !queue.is_empty() {
        turn += 1;
        let sent = match turn % 3 {
            0 if queue.is_empty() => {
                let batch_len = 1 + turn % 48;
                let end = (next + batch_len).min(last + 1);
                let mut batch = next..end;
                let sent = tx.send_from_iter(&mut batch);
                next += sent as u64;
                sent
            }
            1 if queue.is_empty() => match tx.try_send(next) {
                Ok(()) => {
                    next += 1;
                    1
                }
                Err(refused) => {
                    assert_eq!(refused, next, "a full ring gives the same message back");
                    0
                }
            },
            _ => {
                let batch_len = 1 + turn % 100;
                while queue.len() < batch_len as usize && next <= last {
                    queue.push_back(next);
                    next += 1;
                }
                tx.send_batch(&mut queue)
            }
        };
        if sent == 0 {
            full_count += 1;
            backoff.snooze();
        } else {
            backoff.reset();
        }
    }
    full_count
}

/// Receives until `last` arrives, checking each message is the one after the
/// previous, with single receives and drains in turn. Returns the count and
/// how many attempts found the ring empty.
fn consume(mut rx: Receiver<u64>, last: u64) -> (u64, u64) {
    let mut empty_count = 0;
    let mut backoff = Backoff::default();
    let mut expected = 1u64;
    let mut turn = 0usize;
    while expected <= last {
        turn += 1;
        let got = if turn % 2 == 0 {
            match rx.try_recv() {
                Some(msg) => {
                    assert_eq!(msg, expected, "lost, duplicated or reordered");
                    expected += 1;
                    1
                }
                None => 0,
            }
        } else {
            rx.drain(1 + turn % 80, |msg| {
                assert_eq!(msg, expected, "lost, duplicated or reordered");
                expected += 1;
            })
        };
        if got == 0 {
            empty_count += 1;
            backoff.snooze();
        } else {
            backoff.reset();
        }
    }
    assert!(rx.try_recv().is_none(), "nothing after the last message");
    (expected - 1, empty_count)
}

#[test]
fn spsc_stress_delivers_every_message_once_in_order() {
    let last = scaled(20_000_000, 5_000_000);
    let (tx, rx) = spsc::channel::<u64>(RING_CAPACITY);
    let started = Instant::now();
    let producer = thread::spawn(move || produce(tx, last));
    let consumer = thread::spawn(move || consume(rx, last));
    let full_count = producer.join().expect("producer");
    let (received, empty_count) = consumer.join().expect("consumer");
    let elapsed = started.elapsed();
    assert_eq!(received, last);
    eprintln!(
        "spsc stress: {last} messages through a {RING_CAPACITY}-slot ring in {:.3} s \
         ({:.1} ns/message); ring found full {full_count} times, empty {empty_count} times",
        elapsed.as_secs_f64(),
        elapsed.as_nanos() as f64 / last as f64
    );
}

/// Counts its drops in a shared counter.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// The consumer takes `received_total` messages and quits while the producer
/// still sends `left_in_ring` more, which always fit: whichever end goes last
/// drops what is queued, and every message is dropped exactly once.
#[test]
fn spsc_stress_drops_every_message_exactly_once_when_the_consumer_quits() {
    let received_total = scaled(1_000_000, 200_000) as usize;
    let left_in_ring = RING_CAPACITY - 5;
    let sent_total = received_total + left_in_ring;
    let drops = Arc::new(AtomicUsize::new(0));
    for round in 0..4 {
        drops.store(0, Ordering::Relaxed);
        let (mut tx, mut rx) = spsc::channel::<Counted>(RING_CAPACITY);
        let counter = Arc::clone(&drops);
        let producer = thread::spawn(move || {
            let mut backoff = Backoff::default();
            for _ in 0..sent_total {
                let mut msg = Counted(Arc::clone(&counter));
                while let Err(refused) = tx.try_send(msg) {
                    msg = refused;
                    backoff.snooze();
                }
                backoff.reset();
            }
        });
        let consumer = thread::spawn(move || {
            let mut received = 0;
            let mut backoff = Backoff::default();
            while received < received_total {
                match rx.drain(17.min(received_total - received), drop) {
                    0 => backoff.snooze(),
                    n => {
                        received += n;
                        backoff.reset();
                    }
                }
            }
        });
        consumer.join().expect("consumer");
        producer.join().expect("producer");
        assert_eq!(drops.load(Ordering::Relaxed), sent_total, "round {round}");
    }
}
