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

/// Microseconds per counter tick in 32.32 fixed point, so that converting
/// is a multiplication, not a division; 0 until calibrated (then `Instant`
/// is used).
static US_PER_TICK_FIXED: AtomicU64 = AtomicU64::new(0);
/// Fractional bits of `US_PER_TICK_FIXED`.
const FIXED_BITS: u32 = 32;
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
    let micros = elapsed.as_micros().max(1) as u64;
    // (micros << 32) / ticks, in u128 so nothing overflows.
    let fixed = ((u128::from(micros) << FIXED_BITS) / u128::from(ticks.max(1))) as u64;
    if fixed > 0 {
        US_PER_TICK_FIXED.store(fixed, Ordering::Relaxed);
    }
}

impl Stopwatch {
    /// Starts measuring now.
    #[inline]
    pub fn start() -> Stopwatch {
        let start = if US_PER_TICK_FIXED.load(Ordering::Relaxed) > 0 {
            counter()
        } else {
            instant_ticks()
        };
        Stopwatch { start }
    }

    /// Whole microseconds since `start`.
    #[inline]
    pub fn elapsed_us(&self) -> u64 {
        self.read().1
    }

    /// Whole microseconds since `start` or the last lap, and starts the
    /// next lap now: timing commands run one after another takes one clock
    /// read per command instead of two.
    #[inline]
    pub fn lap_us(&mut self) -> u64 {
        let (now, elapsed_us) = self.read();
        self.start = now;
        elapsed_us
    }

    /// One clock read: the reading, and whole microseconds since `start`.
    #[inline]
    fn read(&self) -> (u64, u64) {
        let fixed = US_PER_TICK_FIXED.load(Ordering::Relaxed);
        if fixed > 0 {
            let now = counter();
            (now, ticks_to_us(now.saturating_sub(self.start), fixed))
        } else {
            let now = instant_ticks();
            (now, now.saturating_sub(self.start) / 1000)
        }
    }
}

/// Counter ticks in whole microseconds at `fixed` microseconds per tick
/// (32.32 fixed point).
#[inline]
fn ticks_to_us(ticks: u64, fixed: u64) -> u64 {
    ((u128::from(ticks) * u128::from(fixed)) >> FIXED_BITS) as u64
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

    #[test]
    fn laps_add_up_to_the_whole() {
        calibrate();
        let whole = Stopwatch::start();
        let mut laps = whole;
        let mut total_us = 0;
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(10));
            let lap_us = laps.lap_us();
            assert!(
                (9_000..60_000).contains(&lap_us),
                "10 ms lap measured as {lap_us} us"
            );
            total_us += lap_us;
        }
        let whole_us = whole.elapsed_us();
        assert!(
            whole_us >= total_us && whole_us - total_us <= 3,
            "{whole_us} vs {total_us}"
        );
    }
}
