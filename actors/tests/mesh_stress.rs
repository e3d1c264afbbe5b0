//! Worker threads mail each other through the mesh and sleep whenever they
//! run out of work: every message arrives once, in order per pair, and no
//! worker sleeps through a wake-up (which would show as a timed-out park).

mod util;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use shoal_actors::{mesh, Endpoint, Wake};
use util::{scaled, Parked, Parker};

/// What one worker did, for the final checks and the printed figures.
#[derive(Debug, Default)]
struct WorkerReport {
    /// `received[from]`: messages from `from`, each checked in order.
    received: Vec<u64>,
    sleeps: u64,
    refused_sends: u64,
}

/// Marks the test failed for every thread if this worker panics, so that its
/// peers stop waiting for messages it will never send.
struct FailOnPanic<'a>(&'a AtomicBool);

impl Drop for FailOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// Builds a mesh whose wakers are parkers, and starts one thread per worker
/// running `body(endpoint, parker, failed)`.
fn run_workers<F>(workers: usize, capacity: usize, body: F) -> Vec<(WorkerReport, usize)>
where
    F: Fn(Endpoint<u64>, &Parker, &AtomicBool) -> WorkerReport + Send + Sync + 'static,
{
    let parkers: Vec<Arc<Parker>> = (0..workers).map(|_| Arc::default()).collect();
    let wakers = parkers
        .iter()
        .map(|p| Arc::clone(p) as Arc<dyn Wake>)
        .collect();
    let endpoints = mesh::<u64>(workers, capacity, wakers);
    let failed = Arc::new(AtomicBool::new(false));
    let body = Arc::new(body);
    let threads: Vec<_> = endpoints
        .into_iter()
        .zip(parkers.iter().cloned())
        .map(|(endpoint, parker)| {
            let (failed, body) = (Arc::clone(&failed), Arc::clone(&body));
            thread::spawn(move || {
                let _guard = FailOnPanic(&failed);
                body(endpoint, &parker, &failed)
            })
        })
        .collect();
    let reports: Vec<WorkerReport> = threads
        .into_iter()
        .map(|t| t.join().expect("worker thread"))
        .collect();
    reports
        .into_iter()
        .zip(parkers.iter().map(|p| p.wakes()))
        .collect()
}

/// Sleeps as the server's loop will: only if `prepare_sleep` allows, and
/// then until a peer wakes us. A park that times out is a lost wake-up.
fn sleep(endpoint: &mut Endpoint<u64>, parker: &Parker, failed: &AtomicBool) -> bool {
    if !endpoint.prepare_sleep() {
        return false;
    }
    match parker.park(failed) {
        Parked::Woken => {}
        Parked::Abandoned => panic!("worker {}: another worker failed", endpoint.id()),
        Parked::TimedOut => panic!(
            "worker {}: lost wake-up (pending mail: {}, {:?})",
            endpoint.id(),
            endpoint.has_pending(),
            endpoint
        ),
    }
    endpoint.woke();
    true
}

/// Sends the next messages for `to`, at most `burst`, in one of three ways
/// chosen by `turn`. `next[to]` counts messages handed to the mesh or queued
/// in `queue` (which keeps the refused ones). Returns how many went out.
fn send_some(
    endpoint: &mut Endpoint<u64>,
    to: usize,
    queue: &mut VecDeque<u64>,
    next: &mut u64,
    last: u64,
    turn: usize,
    refused_sends: &mut u64,
) -> usize {
    let burst = 1 + (turn + to) % 12;
    let mode = (turn + endpoint.id()) % 3;
    if mode == 2 || !queue.is_empty() {
        while queue.len() < burst && *next < last {
            *next += 1;
            queue.push_back(*next);
        }
        let sent = if turn % 2 == 0 {
            endpoint.send_batch(to, queue)
        } else {
            endpoint.send_batch_deferred(to, queue)
        };
        *refused_sends += u64::from(!queue.is_empty());
        return sent;
    }
    let mut sent = 0;
    while sent < burst && *next < last {
        let msg = *next + 1;
        let result = if mode == 0 {
            endpoint.try_send(to, msg)
        } else {
            endpoint.try_send_deferred(to, msg)
        };
        if let Err(refused) = result {
            assert_eq!(refused, msg, "a full mailbox gives the same message back");
            *refused_sends += 1;
            break;
        }
        *next = msg;
        sent += 1;
    }
    sent
}

/// One worker of the all-to-all test: sends `1..=last` to every peer and
/// expects the same from each, sleeping whenever a turn does nothing.
fn all_to_all_worker(
    mut endpoint: Endpoint<u64>,
    parker: &Parker,
    failed: &AtomicBool,
    last: u64,
) -> WorkerReport {
    let workers = endpoint.workers();
    let me = endpoint.id();
    let mut report = WorkerReport {
        received: vec![0; workers],
        ..WorkerReport::default()
    };
    let mut next = vec![0u64; workers];
    let mut queues: Vec<VecDeque<u64>> = (0..workers).map(|_| VecDeque::new()).collect();
    let mut turn = 0usize;
    loop {
        turn += 1;
        assert!(
            !failed.load(Ordering::Relaxed),
            "worker {me}: another worker failed"
        );
        let received = &mut report.received;
        let got = endpoint.drain(1 + turn % 40, |from, msg| {
            assert_eq!(
                msg,
                received[from] + 1,
                "worker {me}: from {from}: out of order"
            );
            received[from] = msg;
        });
        let mut sent = 0;
        for to in (0..workers).filter(|&to| to != me) {
            if next[to] < last || !queues[to].is_empty() {
                sent += send_some(
                    &mut endpoint,
                    to,
                    &mut queues[to],
                    &mut next[to],
                    last,
                    turn,
                    &mut report.refused_sends,
                );
            }
        }
        endpoint.flush_wakes();
        let all_sent =
            (0..workers).all(|to| to == me || (next[to] == last && queues[to].is_empty()));
        let all_received = (0..workers).all(|from| from == me || report.received[from] == last);
        if all_sent && all_received {
            return report;
        }
        if got == 0 && sent == 0 && sleep(&mut endpoint, parker, failed) {
            report.sleeps += 1;
        }
    }
}

#[test]
fn mesh_all_to_all_delivers_every_message_in_order_and_wakes_every_sleeper() {
    const WORKERS: usize = 4;
    let last = scaled(1_000_000, 300_000);
    let started = Instant::now();
    let results = run_workers(WORKERS, 16, move |endpoint, parker, failed| {
        all_to_all_worker(endpoint, parker, failed, last)
    });
    let elapsed = started.elapsed();
    for (me, (report, _)) in results.iter().enumerate() {
        for from in (0..WORKERS).filter(|&from| from != me) {
            assert_eq!(report.received[from], last, "worker {me} from {from}");
        }
    }
    let total = last * (WORKERS * (WORKERS - 1)) as u64;
    let sleeps: Vec<u64> = results.iter().map(|(r, _)| r.sleeps).collect();
    let wakes: Vec<usize> = results.iter().map(|(_, w)| *w).collect();
    let refused: Vec<u64> = results.iter().map(|(r, _)| r.refused_sends).collect();
    eprintln!(
        "mesh all-to-all: {WORKERS} workers, {total} messages in {:.3} s ({:.1} ns/message); \
         sleeps {sleeps:?}, wakes {wakes:?}, refused sends {refused:?}",
        elapsed.as_secs_f64(),
        elapsed.as_nanos() as f64 / total as f64
    );
}

/// Two workers bat one message back and forth, each sleeping while the other
/// holds it, so nearly every message races a sleep. Worker 0 sends the odd
/// numbers `1..2 * rounds`, worker 1 the even ones up to `2 * rounds`; each
/// answers `n` with `n + 1`.
fn ping_pong_worker(
    mut endpoint: Endpoint<u64>,
    parker: &Parker,
    failed: &AtomicBool,
    rounds: u64,
) -> WorkerReport {
    let me = endpoint.id();
    let peer = 1 - me;
    let mut report = WorkerReport {
        received: vec![0; 2],
        ..WorkerReport::default()
    };
    let mut expected = if me == 0 { 2 } else { 1 };
    if me == 0 {
        endpoint.try_send(peer, 1).expect("empty mailbox");
    }
    while report.received[peer] < rounds {
        let mut got = None;
        endpoint.drain(usize::MAX, |from, msg| {
            assert_eq!(from, peer);
            assert!(got.replace(msg).is_none(), "one message in flight");
        });
        let Some(msg) = got else {
            if sleep(&mut endpoint, parker, failed) {
                report.sleeps += 1;
            }
            continue;
        };
        assert_eq!(msg, expected, "worker {me}: out of order");
        expected += 2;
        report.received[peer] += 1;
        if msg == 2 * rounds {
            break;
        }
        // Alternate between the immediate and the deferred wake.
        if msg % 4 < 2 {
            endpoint.try_send(peer, msg + 1).expect("empty mailbox");
        } else {
            endpoint
                .try_send_deferred(peer, msg + 1)
                .expect("empty mailbox");
            endpoint.flush_wakes();
        }
    }
    report
}

#[test]
fn mesh_ping_pong_wakes_the_peer_for_every_message() {
    let rounds = scaled(200_000, 50_000);
    let started = Instant::now();
    let results = run_workers(2, 4, move |endpoint, parker, failed| {
        ping_pong_worker(endpoint, parker, failed, rounds)
    });
    let elapsed = started.elapsed();
    assert_eq!(results[0].0.received[1], rounds);
    assert_eq!(results[1].0.received[0], rounds);
    let sleeps: Vec<u64> = results.iter().map(|(r, _)| r.sleeps).collect();
    let wakes: Vec<usize> = results.iter().map(|(_, w)| *w).collect();
    eprintln!(
        "mesh ping-pong: {rounds} round trips in {:.3} s ({:.1} us/round trip); sleeps {sleeps:?}, wakes {wakes:?}",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / rounds as f64
    );
}
