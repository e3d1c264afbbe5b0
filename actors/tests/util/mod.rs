//! Helpers shared by the stress tests: a parker that implements `Wake`, and a
//! spin-then-yield backoff for threads that poll a ring.
// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use shoal_actors::Wake;

/// How long a worker may sleep before the test calls it a lost wake-up: far
/// above any scheduling delay, far below a CI job's timeout.
pub const LOST_WAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Stands in for a reactor's eventfd: a sticky permit under a mutex. A wake
/// that arrives before `park` makes `park` return at once.
#[derive(Debug, Default)]
pub struct Parker {
    permit: Mutex<bool>,
    ready: Condvar,
    wakes: AtomicUsize,
}

impl Wake for Parker {
    fn wake(&self) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        *self.permit.lock().expect("parker lock") = true;
        self.ready.notify_one();
    }
}

/// Why `Parker::park` returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Parked {
    /// A wake arrived (now or before the call).
    Woken,
    /// Another thread failed; give up.
    Abandoned,
    /// Nobody woke us within [`LOST_WAKE_TIMEOUT`].
    TimedOut,
}

impl Parker {
    /// Blocks until woken, until `abandon` is set, or for at most
    /// [`LOST_WAKE_TIMEOUT`], and consumes the permit.
    pub fn park(&self, abandon: &AtomicBool) -> Parked {
        let deadline = Instant::now() + LOST_WAKE_TIMEOUT;
        let mut permit = self.permit.lock().expect("parker lock");
        while !*permit {
            if abandon.load(Ordering::Relaxed) {
                return Parked::Abandoned;
            }
            let now = Instant::now();
            if now >= deadline {
                return Parked::TimedOut;
            }
            let slice = (deadline - now).min(Duration::from_millis(50));
            permit = self
                .ready
                .wait_timeout(permit, slice)
                .expect("parker lock")
                .0;
        }
        *permit = false;
        Parked::Woken
    }

    /// How many times `wake` was called.
    pub fn wakes(&self) -> usize {
        self.wakes.load(Ordering::Relaxed)
    }
}

/// Spins briefly, then yields the CPU: the test machine may have fewer cores
/// than the test has busy threads.
#[derive(Debug, Default)]
pub struct Backoff {
    spins: u32,
}

impl Backoff {
    /// Waits a little longer each call.
    pub fn snooze(&mut self) {
        if self.spins < 6 {
            for _ in 0..(1 << self.spins) {
                std::hint::spin_loop();
            }
            self.spins += 1;
        } else {
            std::thread::yield_now();
        }
    }

    /// Starts over after progress.
    pub fn reset(&mut self) {
        self.spins = 0;
    }
}

/// Messages for a stress test: many in release builds, fewer in debug ones so
/// `cargo test` stays quick.
pub fn scaled(release: u64, debug: u64) -> u64 {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}
