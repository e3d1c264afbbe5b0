//! A cheap stopwatch for timing every command (INFO commandstats, SLOWLOG).
//!
//! Two clock reads per command are a measurable share of a cheap command's
//! cost when they go through `clock_gettime` (about 5 % of SET at pipeline
//! 16). Where the kernel itself keeps time with the CPU's time-stamp counter
//! (clock source `tsc`, which it only picks when the counter is constant
//! and synchronized), reading that counter directly gives the same clock
//! for a few nanoseconds. Elsewhere the stopwatch falls back to `Instant`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Counter ticks per microsecond; 0 until calibrated (then `Instant` is used).
static TICKS_PER_US: AtomicU64 = AtomicU64::new(0);
/// How long calibration watches the counter against the system clock.
const CALIBRATION: Duration = Duration::from_millis(20);

/// A point in time to measure from.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    start: u64,
}

/// Ticks of the fallback clock: nanoseconds since the first reading.
fn instant_ticks() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

#[cfg(target_arch = "x86_64")]
fn counter() -> u64 {
    // SAFETY: RDTSC has no preconditions on x86-64; it only reads a register.
    unsafe { std::arch::x86_64::_rdtsc() }
}

#[cfg(not(target_arch = "x86_64"))]
fn counter() -> u64 {
    instant_ticks()
}

fn kernel_uses_tsc() -> bool {
    cfg!(target_arch = "x86_64")
        && std::fs::read_to_string(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
        )
        .is_ok_and(|source| source.trim() == "tsc")
}

/// Measures the counter's rate against the system clock, once, at start-up;
/// leaves the `Instant` fallback in place where the counter is not the
/// kernel's clock.
pub fn calibrate() {
    if !kernel_uses_tsc() {
        return;
    }
    let (wall_start, ticks_start) = (Instant::now(), counter());
    std::thread::sleep(CALIBRATION);
    let (elapsed, ticks) = (wall_start.elapsed(), counter().wrapping_sub(ticks_start));
    let per_us = ticks / (elapsed.as_micros().max(1) as u64);
    if per_us > 0 {
        TICKS_PER_US.store(per_us, Ordering::Relaxed);
    }
}

impl Stopwatch {
    /// Starts measuring now.
    #[inline]
    pub fn start() -> Stopwatch {
        let start = if TICKS_PER_US.load(Ordering::Relaxed) > 0 {
            counter()
        } else {
            instant_ticks()
        };
        Stopwatch { start }
    }

    /// Whole microseconds since `start`.
    #[inline]
    pub fn elapsed_us(&self) -> u64 {
        let per_us = TICKS_PER_US.load(Ordering::Relaxed);
        match counter().saturating_sub(self.start).checked_div(per_us) {
            Some(elapsed_us) => elapsed_us,
            None => instant_ticks().saturating_sub(self.start) / 1000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_sleep_within_a_few_milliseconds() {
        calibrate();
        let stopwatch = Stopwatch::start();
        std::thread::sleep(Duration::from_millis(30));
        let elapsed_us = stopwatch.elapsed_us();
        assert!(
            (29_000..80_000).contains(&elapsed_us),
            "30 ms measured as {elapsed_us} us"
        );
    }
}
