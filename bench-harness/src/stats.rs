//! Counters and latency histograms: per command while a thread runs, then
//! merged into the report's rows and totals.
//!
//! Latencies are recorded in nanoseconds into an HdrHistogram with three
//! significant digits (0.1% resolution) up to [`LATENCY_NS_MAX`]; longer
//! ones saturate at the top rather than being lost.

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::resp::ReplyKind;

/// The longest latency the histograms resolve; longer ones count as this.
pub const LATENCY_NS_MAX: u64 = 60_000_000_000;
/// Significant digits kept by the histograms.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency histogram in nanoseconds.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_NS_MAX, SIGNIFICANT_DIGITS)
        .expect("constant bounds are valid: 1 <= low, high >= 2 × low, 3 digits")
}

/// What one command (or one report row) did.
#[derive(Debug, Clone)]
pub struct CmdStats {
    /// Requests sent.
    pub sent: u64,
    /// Replies received, errors included.
    pub replies: u64,
    /// Error replies.
    pub errors: u64,
    /// Non-null replies, for GETs.
    pub hits: u64,
    /// Null replies, for GETs.
    pub misses: u64,
    /// Request bytes written.
    pub bytes_tx: u64,
    /// Reply bytes read.
    pub bytes_rx: u64,
    /// Latency of every reply, in nanoseconds.
    pub latency_ns: Histogram<u64>,
}

impl Default for CmdStats {
    fn default() -> Self {
        CmdStats {
            sent: 0,
            replies: 0,
            errors: 0,
            hits: 0,
            misses: 0,
            bytes_tx: 0,
            bytes_rx: 0,
            latency_ns: new_histogram(),
        }
    }
}

impl CmdStats {
    /// Counts one reply of `len` bytes that took `latency_ns`.
    #[inline]
    pub fn record_reply(&mut self, kind: ReplyKind, len: usize, latency_ns: u64) {
        self.replies += 1;
        self.bytes_rx += len as u64;
        match kind {
            ReplyKind::Error => self.errors += 1,
            ReplyKind::Null => self.misses += 1,
            ReplyKind::Value | ReplyKind::Push => self.hits += 1,
        }
        self.latency_ns.saturating_record(latency_ns.max(1));
    }

    /// Adds `other`'s counts and latencies into this one.
    pub fn merge(&mut self, other: &CmdStats) {
        self.sent += other.sent;
        self.replies += other.replies;
        self.errors += other.errors;
        self.hits += other.hits;
        self.misses += other.misses;
        self.bytes_tx += other.bytes_tx;
        self.bytes_rx += other.bytes_rx;
        // Both histograms share bounds, so adding cannot fail; if it did the
        // totals would be wrong, which is worth stopping for.
        self.latency_ns
            .add(&other.latency_ns)
            .expect("histograms with equal bounds add");
    }

    /// Latency at `percentile` (0–100), in milliseconds.
    pub fn percentile_ms(&self, percentile: f64) -> f64 {
        ns_to_ms(self.latency_ns.value_at_percentile(percentile))
    }

    /// Mean latency in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        self.latency_ns.mean() / 1e6
    }

    /// Largest latency in milliseconds.
    pub fn max_ms(&self) -> f64 {
        ns_to_ms(self.latency_ns.max())
    }

    /// Smallest latency in milliseconds.
    pub fn min_ms(&self) -> f64 {
        ns_to_ms(self.latency_ns.min())
    }

    /// Replies per second over `elapsed`.
    pub fn per_second(&self, count: u64, elapsed: Duration) -> f64 {
        let secs = elapsed.as_secs_f64();
        if secs > 0.0 {
            count as f64 / secs
        } else {
            0.0
        }
    }
}

/// Nanoseconds as milliseconds.
pub fn ns_to_ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// The median of `values` (mean of the middle two for an even count);
/// `None` when empty. NaNs sort last.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within(value: f64, expected: f64, relative: f64) -> bool {
        (value - expected).abs() <= expected * relative
    }

    #[test]
    fn percentiles_of_a_uniform_spread_land_where_expected() {
        let mut stats = CmdStats::default();
        // 1..=10_000 microseconds, one reply each.
        for us in 1..=10_000u64 {
            stats.record_reply(ReplyKind::Value, 5, us * 1_000);
        }
        assert_eq!(stats.replies, 10_000);
        assert!(
            within(stats.percentile_ms(50.0), 5.0, 0.002),
            "{}",
            stats.percentile_ms(50.0)
        );
        assert!(within(stats.percentile_ms(90.0), 9.0, 0.002));
        assert!(within(stats.percentile_ms(99.0), 9.9, 0.002));
        assert!(within(stats.percentile_ms(99.9), 9.99, 0.002));
        assert!(within(stats.max_ms(), 10.0, 0.001));
        assert!(within(stats.min_ms(), 0.001, 0.001));
        assert!(within(stats.mean_ms(), 5.0005, 0.001));
    }

    #[test]
    fn a_single_stall_shows_in_the_tail_not_the_median() {
        let mut stats = CmdStats::default();
        for _ in 0..9_999 {
            stats.record_reply(ReplyKind::Value, 5, 100_000);
        }
        stats.record_reply(ReplyKind::Value, 5, 2_000_000_000);
        assert!(within(stats.percentile_ms(50.0), 0.1, 0.001));
        assert!(within(stats.percentile_ms(99.99), 0.1, 0.001));
        assert!(within(stats.max_ms(), 2_000.0, 0.001));
    }

    #[test]
    fn latencies_past_the_top_saturate_rather_than_vanish() {
        let mut stats = CmdStats::default();
        stats.record_reply(ReplyKind::Value, 1, u64::MAX);
        stats.record_reply(ReplyKind::Value, 1, 0);
        assert_eq!(stats.latency_ns.len(), 2);
        assert!(stats.max_ms() >= ns_to_ms(LATENCY_NS_MAX) * 0.999);
    }

    #[test]
    fn merging_adds_counts_and_distributions() {
        let mut fast = CmdStats::default();
        let mut slow = CmdStats::default();
        for _ in 0..100 {
            fast.record_reply(ReplyKind::Value, 10, 1_000);
            slow.record_reply(ReplyKind::Error, 20, 1_000_000);
        }
        slow.record_reply(ReplyKind::Null, 5, 1_000_000);
        fast.sent = 100;
        slow.sent = 101;
        fast.merge(&slow);
        assert_eq!(
            (fast.sent, fast.replies, fast.errors, fast.misses, fast.hits),
            (201, 201, 100, 1, 100)
        );
        assert_eq!(fast.bytes_rx, 100 * 10 + 100 * 20 + 5);
        assert!(within(fast.percentile_ms(40.0), 0.001, 0.001));
        assert!(within(fast.percentile_ms(60.0), 1.0, 0.001));
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
