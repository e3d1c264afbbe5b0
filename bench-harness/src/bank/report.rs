//! What a bank run measured, as text and as JSON.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Value};

use super::args::{BankConfig, Mode};
use super::client::Tally;
use crate::report::{json_percentile_key, percentile_text};
use crate::stats::ns_to_ms;

/// The results of one bank run.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The mode run.
    pub mode: Mode,
    /// Accounts.
    pub accounts: u64,
    /// Clients in total.
    pub clients: u32,
    /// Threads.
    pub threads: u32,
    /// From the first request to the last reply.
    pub elapsed: Duration,
    /// The counts and latencies.
    pub tally: Tally,
    /// utime + stime of `--server-pid` over the run.
    pub server_cpu: Option<Duration>,
    /// The sum of all balances after the run.
    pub sum: i64,
    /// What the sum must be.
    pub expected_sum: i64,
    /// Whether Ctrl-C cut the run short.
    pub interrupted: bool,
}

impl Summary {
    /// Committed transfers per second.
    pub fn transfers_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.tally.committed as f64 / secs
        } else {
            0.0
        }
    }

    /// Conflicts over commit attempts (EXEC or COMMIT sent), 0 to 1.
    pub fn conflict_rate(&self) -> f64 {
        if self.tally.attempts == 0 {
            0.0
        } else {
            self.tally.conflicts as f64 / self.tally.attempts as f64
        }
    }

    /// The server's CPU microseconds per committed transfer.
    pub fn server_usec_per_transfer(&self) -> Option<f64> {
        self.server_cpu
            .map(|cpu| cpu.as_secs_f64() * 1e6 / self.tally.committed.max(1) as f64)
    }

    /// Whether the balances still add up.
    pub fn sum_ok(&self) -> bool {
        self.sum == self.expected_sum
    }

    /// Whether the run counts: balances add up, and no errors.
    pub fn passed(&self) -> bool {
        self.sum_ok() && self.tally.errors == 0
    }

    fn latency_ms(&self, percentile: f64) -> f64 {
        ns_to_ms(self.tally.latency_ns.value_at_percentile(percentile))
    }
}

/// The report as text.
pub fn text(summary: &Summary, percentiles: &[f64]) -> String {
    let tally = &summary.tally;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "bank: mode {}, {} accounts, {} clients over {} threads, {:.2} s{}",
        summary.mode.name(),
        summary.accounts,
        summary.clients,
        summary.threads,
        summary.elapsed.as_secs_f64(),
        if summary.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "Transfers/s (committed)  {:.0}",
        summary.transfers_per_sec()
    );
    let _ = writeln!(out, "Committed transfers      {}", tally.committed);
    let _ = writeln!(out, "Commit attempts          {}", tally.attempts);
    let _ = writeln!(
        out,
        "Conflicts (retried)      {} ({:.2}% of attempts)",
        tally.conflicts,
        summary.conflict_rate() * 100.0
    );
    let _ = writeln!(out, "Declined (funds short)   {}", tally.declined);
    let _ = writeln!(out, "Errors                   {}", tally.errors);
    for sample in &tally.error_samples {
        let _ = writeln!(out, "  error: {sample}");
    }
    if tally.errors > tally.error_samples.len() as u64 {
        let _ = writeln!(
            out,
            "  ... and {} more",
            tally.errors - tally.error_samples.len() as u64
        );
    }
    let mut latency = format!(
        "Latency per committed transfer, ms: avg {:.3}",
        tally.latency_ns.mean() / 1e6
    );
    for &p in percentiles {
        let _ = write!(
            latency,
            "  p{} {:.3}",
            percentile_text(p),
            summary.latency_ms(p)
        );
    }
    let _ = write!(latency, "  max {:.3}", ns_to_ms(tally.latency_ns.max()));
    let _ = writeln!(out, "{latency}");
    if let Some(usec) = summary.server_usec_per_transfer() {
        let _ = writeln!(out, "Server CPU per transfer  {usec:.2} µs");
    }
    let _ = writeln!(
        out,
        "Sum of balances          {} (expected {}): {}",
        summary.sum,
        summary.expected_sum,
        if summary.sum_ok() { "OK" } else { "MISMATCH" }
    );
    out
}

/// The report as JSON.
pub fn json(summary: &Summary, config: &BankConfig) -> Value {
    let tally = &summary.tally;
    let mut percentiles = serde_json::Map::new();
    for &p in &config.percentiles {
        percentiles.insert(json_percentile_key(p), json!(summary.latency_ms(p)));
    }
    json!({
        "configuration": {
            "argv": config.argv,
            "server": config.host,
            "port": config.port,
            "mode": summary.mode.name(),
            "accounts": summary.accounts,
            "start_balance": config.start_balance,
            "max_amount": config.max_amount,
            "clients": summary.clients,
            "threads": summary.threads,
            "test_time_secs": config.test_time.as_secs_f64(),
            "seed": config.seed,
        },
        "bank": {
            "elapsed_secs": summary.elapsed.as_secs_f64(),
            "transfers_per_sec": summary.transfers_per_sec(),
            "committed": tally.committed,
            "attempts": tally.attempts,
            "conflicts": tally.conflicts,
            "conflict_rate": summary.conflict_rate(),
            "declined": tally.declined,
            "errors": tally.errors,
            "error_samples": tally.error_samples,
            "latency_ms": {
                "average": tally.latency_ns.mean() / 1e6,
                "max": ns_to_ms(tally.latency_ns.max()),
                "percentiles": percentiles,
            },
            "server_cpu_usec_per_transfer": summary.server_usec_per_transfer(),
            "sum": summary.sum,
            "expected_sum": summary.expected_sum,
            "sum_ok": summary.sum_ok(),
            "interrupted": summary.interrupted,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        let mut tally = Tally {
            committed: 900,
            attempts: 1000,
            conflicts: 100,
            declined: 4,
            ..Tally::default()
        };
        for us in 1..=900u64 {
            tally.latency_ns.record(us * 1_000).unwrap();
        }
        Summary {
            mode: Mode::Begin,
            accounts: 10,
            clients: 4,
            threads: 2,
            elapsed: Duration::from_secs(2),
            tally,
            server_cpu: Some(Duration::from_millis(9)),
            sum: 10_000,
            expected_sum: 10_000,
            interrupted: false,
        }
    }

    #[test]
    fn rates_and_cpu_per_transfer() {
        let s = summary();
        assert!((s.transfers_per_sec() - 450.0).abs() < 1e-9);
        assert!((s.conflict_rate() - 0.1).abs() < 1e-9);
        assert!((s.server_usec_per_transfer().unwrap() - 10.0).abs() < 1e-9);
        assert!(s.passed());
        let mut empty = summary();
        empty.tally = Tally::default();
        assert_eq!(empty.conflict_rate(), 0.0);
        assert_eq!(empty.transfers_per_sec(), 0.0);
    }

    #[test]
    fn text_shows_every_figure_and_the_sum_verdict() {
        let mut s = summary();
        let report = text(&s, &[50.0, 99.0]);
        for needle in [
            "mode begin",
            "Transfers/s (committed)  450",
            "Committed transfers      900",
            "Commit attempts          1000",
            "100 (10.00% of attempts)",
            "Declined (funds short)   4",
            "Errors                   0",
            "p50 0.45",
            "p99 0.89",
            "Server CPU per transfer  10.00 µs",
            "10000 (expected 10000): OK",
        ] {
            assert!(report.contains(needle), "{needle:?} not in\n{report}");
        }
        s.sum = 9_999;
        for n in 0..7 {
            s.tally.error(format!("boom {n}"));
        }
        assert!(!s.passed());
        let report = text(&s, &[50.0]);
        assert!(report.contains("MISMATCH"));
        assert!(report.contains("error: boom 0"));
        assert!(report.contains("... and 2 more"));
    }

    #[test]
    fn json_carries_the_same_figures() {
        let s = summary();
        let config = BankConfig {
            percentiles: vec![50.0, 99.9],
            ..BankConfig::default()
        };
        let value = json(&s, &config);
        let bank = &value["bank"];
        assert_eq!(bank["committed"], 900);
        assert_eq!(bank["conflicts"], 100);
        assert_eq!(bank["sum_ok"], true);
        assert!((bank["conflict_rate"].as_f64().unwrap() - 0.1).abs() < 1e-9);
        assert!(bank["latency_ms"]["percentiles"]["p99.900"].is_number());
        assert_eq!(value["configuration"]["mode"], "begin");
    }
}
