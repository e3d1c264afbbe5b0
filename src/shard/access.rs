//! What a key lookup records, as Redis's `lookupKey` does: the key's access
//! clock (LRU seconds, or under an LFU `maxmemory-policy` a logarithmic
//! frequency counter with its last decrement time) and the keyspace hit and
//! miss counters INFO shows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How a command looks a key up, which decides what the lookup records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// A write command's lookup: refreshes the access clock, counts nothing.
    Write,
    /// A read command's lookup: refreshes the access clock and counts a hit
    /// or a miss.
    Read,
    /// A read that leaves the access clock alone (EXISTS, TYPE, TTL, OBJECT)
    /// but still counts a hit or a miss.
    Peek,
}

/// Which access clock keys keep, from `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessPolicy {
    /// Seconds of the last access (`OBJECT IDLETIME`).
    Lru,
    /// Redis's LFU: an 8-bit logarithmic counter in the low byte and the
    /// minute of its last decrement above it (`OBJECT FREQ`).
    Lfu {
        /// `lfu-log-factor`: higher makes the counter grow more slowly.
        log_factor: u32,
        /// `lfu-decay-time`: minutes per decrement of an idle counter.
        decay_minutes: u32,
    },
}

/// The counter a new key starts with under LFU, so it is not evicted at once.
pub const LFU_INIT_VAL: u8 = 5;
/// Redis keeps the decrement time in 16 bits of minutes.
const LFU_MINUTES_MASK: u64 = 0xffff;

impl AccessPolicy {
    /// The access clock of a key created now.
    pub fn initial_clock(self, now_ms: u64) -> u32 {
        match self {
            AccessPolicy::Lru => lru_seconds(now_ms),
            AccessPolicy::Lfu { .. } => lfu_clock(lfu_minutes(now_ms), LFU_INIT_VAL),
        }
    }

    /// Records one access in `clock`; `random` draws the LFU increment.
    pub fn touch(self, clock: &mut u32, now_ms: u64, random: &mut u64) {
        match self {
            AccessPolicy::Lru => *clock = lru_seconds(now_ms),
            AccessPolicy::Lfu { log_factor, .. } => {
                let counter = self.lfu_counter(*clock, now_ms);
                let counter = lfu_log_increment(counter, log_factor, next_unit(random));
                *clock = lfu_clock(lfu_minutes(now_ms), counter);
            }
        }
    }

    /// The LFU counter of `clock` after the decay due by now, as
    /// `OBJECT FREQ` shows it.
    pub fn lfu_counter(self, clock: u32, now_ms: u64) -> u8 {
        let AccessPolicy::Lfu { decay_minutes, .. } = self else {
            return 0;
        };
        let counter = (clock & 0xff) as u8;
        if decay_minutes == 0 {
            return counter;
        }
        // Masked: a clock written under LRU (seconds, 32 bits) read after a
        // switch to LFU must not reach past the 16 bits of minutes.
        let last = u64::from(clock >> 8) & LFU_MINUTES_MASK;
        let now = lfu_minutes(now_ms);
        // The minutes wrap at 16 bits, as Redis's LFUTimeElapsed allows.
        let elapsed = if now >= last {
            now - last
        } else {
            LFU_MINUTES_MASK - last + now
        };
        let periods = elapsed / u64::from(decay_minutes);
        counter.saturating_sub(periods.min(255) as u8)
    }
}

/// Seconds since the access clock was last set under LRU.
pub fn idle_seconds(clock: u32, now_ms: u64) -> u64 {
    u64::from(lru_seconds(now_ms).wrapping_sub(clock))
}

fn lru_seconds(now_ms: u64) -> u32 {
    (now_ms / 1000) as u32
}

fn lfu_minutes(now_ms: u64) -> u64 {
    (now_ms / 60_000) & LFU_MINUTES_MASK
}

fn lfu_clock(minutes: u64, counter: u8) -> u32 {
    ((minutes as u32) << 8) | u32::from(counter)
}

/// Redis's LFULogIncr: the higher the counter, the less likely a step.
fn lfu_log_increment(counter: u8, log_factor: u32, unit: f64) -> u8 {
    if counter == u8::MAX {
        return counter;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let probability = 1.0 / (base * f64::from(log_factor) + 1.0);
    if unit < probability {
        counter + 1
    } else {
        counter
    }
}

/// The next number of a xorshift state (never zero).
pub fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A uniform draw in [0, 1) from a xorshift state.
fn next_unit(state: &mut u64) -> f64 {
    (next_random(state) >> 11) as f64 / (1u64 << 53) as f64
}

/// Counters one shard adds to and INFO sums: each written by its shard's
/// worker alone, so a load and a store, no read-modify-write.
#[derive(Debug, Default)]
pub struct ShardCounters {
    /// Keys removed because their time passed.
    pub expired_keys: AtomicU64,
    /// Read lookups that found their key.
    pub keyspace_hits: AtomicU64,
    /// Read lookups that did not.
    pub keyspace_misses: AtomicU64,
}

impl ShardCounters {
    /// Zeros every counter (CONFIG RESETSTAT).
    pub fn reset(&self) {
        for counter in [
            &self.expired_keys,
            &self.keyspace_hits,
            &self.keyspace_misses,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

/// Adds one to a counter only one thread writes.
#[inline]
pub fn bump(counter: &AtomicU64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// What a shard's lookups need besides the keys: the policy in force, the
/// counters and the random state for LFU increments.
#[derive(Debug, Clone)]
pub struct Tracking {
    /// The access clock kept, refreshed from the configuration.
    pub policy: AccessPolicy,
    /// Counters INFO reads.
    pub counters: Arc<ShardCounters>,
    /// Xorshift state for LFU increments; never zero.
    pub random: u64,
}

impl Tracking {
    /// Tracking under LRU with `counters`, seeded by `seed`.
    pub fn new(counters: Arc<ShardCounters>, seed: u64) -> Tracking {
        Tracking {
            policy: AccessPolicy::Lru,
            counters,
            random: seed | 1,
        }
    }

    /// Counts a read lookup's outcome.
    #[inline]
    pub fn count(&self, lookup: Lookup, found: bool) {
        if lookup == Lookup::Write {
            return;
        }
        bump(if found {
            &self.counters.keyspace_hits
        } else {
            &self.counters.keyspace_misses
        });
    }

    /// Counts a key removed by expiry.
    #[inline]
    pub fn count_expired(&self) {
        bump(&self.counters.expired_keys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LFU: AccessPolicy = AccessPolicy::Lfu {
        log_factor: 10,
        decay_minutes: 1,
    };

    #[test]
    fn new_keys_start_at_the_initial_frequency_and_grow_on_access() {
        let now_ms = 1_700_000_000_000;
        let mut clock = LFU.initial_clock(now_ms);
        assert_eq!(LFU.lfu_counter(clock, now_ms), LFU_INIT_VAL);
        let mut random = 42;
        // At the initial value the step is certain.
        LFU.touch(&mut clock, now_ms, &mut random);
        assert_eq!(LFU.lfu_counter(clock, now_ms), LFU_INIT_VAL + 1);
        // A hundred more accesses with factor 10 grow it slowly, not by 100.
        (0..100).for_each(|_| LFU.touch(&mut clock, now_ms, &mut random));
        let counter = LFU.lfu_counter(clock, now_ms);
        assert!(counter > LFU_INIT_VAL + 1 && counter < 30, "{counter}");
    }

    #[test]
    fn frequency_decays_one_step_per_decay_period() {
        let now_ms = 1_700_000_000_000;
        let clock = LFU.initial_clock(now_ms);
        assert_eq!(
            LFU.lfu_counter(clock, now_ms + 3 * 60_000),
            LFU_INIT_VAL - 3
        );
        assert_eq!(LFU.lfu_counter(clock, now_ms + 600 * 60_000), 0);
    }

    #[test]
    fn an_lru_clock_read_under_lfu_gives_some_counter_without_overflow() {
        let now_ms = 1_700_000_000_000;
        // Counters read from seconds are meaningless but must not panic
        // (Redis too says the data takes time to adjust after a switch).
        let mut clock = AccessPolicy::Lru.initial_clock(now_ms);
        let mut random = 7;
        let _ = LFU.lfu_counter(clock, now_ms);
        LFU.touch(&mut clock, now_ms, &mut random);
        let _ = LFU.lfu_counter(u32::MAX, now_ms);
        // Once touched under LFU, the clock holds a real counter.
        assert!(LFU.lfu_counter(clock, now_ms) > 0);
    }

    #[test]
    fn counter_saturates_at_255() {
        assert_eq!(lfu_log_increment(255, 0, 0.0), 255);
        assert_eq!(lfu_log_increment(254, 0, 0.99), 255);
    }

    #[test]
    fn idle_time_counts_seconds_since_the_last_access() {
        let now_ms = 1_700_000_000_000;
        let clock = AccessPolicy::Lru.initial_clock(now_ms);
        assert_eq!(idle_seconds(clock, now_ms + 2_500), 2);
    }
}
