//! One benchmark from flags to results: the prefill pass, `--run-count`
//! runs, and the server's CPU time per operation around each run.

use std::io::IsTerminal;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::args::{CommandSpec, Config, Length, Pace};
use crate::conn::{info_field, Setup};
use crate::engine;
use crate::error::{BenchError, Result};
use crate::keys::KeyPattern;
use crate::proc_stat;
use crate::stats::CmdStats;
use crate::template::Breakdown;

/// Prefill pipelines at least this deep: it is not measured, only waited for.
const PREFILL_PIPELINE_MIN: u32 = 32;

/// One row of the report.
#[derive(Debug, Clone)]
pub struct Row {
    /// `Sets`, `Gets`, `Hsets`… or a template line.
    pub label: String,
    /// The row's counts and latencies.
    pub stats: CmdStats,
    /// Whether hits and misses mean something for this row.
    pub counts_hits: bool,
}

/// The server's cost over one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerUsage {
    /// utime + stime the server used during the run.
    pub cpu: Duration,
    /// Growth of INFO's `total_commands_processed`, if it could be read.
    pub commands: Option<u64>,
    /// CPU microseconds per command (per reply where INFO was unavailable).
    pub usec_per_op: f64,
}

/// The results of one run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Per-command rows, in report order.
    pub rows: Vec<Row>,
    /// Everything together.
    pub totals: CmdStats,
    /// From the start to the last reply.
    pub elapsed: Duration,
    /// Connections lost.
    pub connection_errors: u64,
    /// Requests that got no reply.
    pub lost: u64,
    /// The first error reply or connection failure.
    pub first_error: Option<String>,
    /// Whether Ctrl-C cut the run short.
    pub interrupted: bool,
    /// The server's CPU use, with `--server-pid`.
    pub server: Option<ServerUsage>,
    /// Start time, milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// A `--command` run (memtier prints no hit/miss columns then).
    pub arbitrary: bool,
}

impl RunResult {
    /// Total replies per second.
    pub fn ops_per_sec(&self) -> f64 {
        self.totals.per_second(self.totals.replies, self.elapsed)
    }
}

/// Prefills if asked, then runs `--run-count` times.
pub fn run_benchmark(config: &Config) -> Result<Vec<RunResult>> {
    if config.prefill {
        prefill(config)?;
    }
    let mut results = Vec::with_capacity(config.run_count as usize);
    for run in 1..=config.run_count {
        let result = run_once(config, run)?;
        let interrupted = result.interrupted;
        results.push(result);
        if interrupted {
            break;
        }
    }
    Ok(results)
}

/// Runs the workload once; `run` numbers the progress line.
pub fn run_once(config: &Config, run: u32) -> Result<RunResult> {
    let workload = config.workload()?;
    let started_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut before: Option<Result<Snapshot>> = None;
    let show_progress = std::io::stderr().is_terminal();
    let outcome = engine::run(
        config,
        &workload,
        &mut || before = config.server_pid.map(|pid| snapshot(config, pid)),
        &mut |replies, elapsed| {
            if show_progress {
                eprint!(
                    "\r[RUN #{run} {:.0} secs] {replies} replies, {:.0} ops/sec (avg)   ",
                    elapsed.as_secs_f64(),
                    replies as f64 / elapsed.as_secs_f64().max(1e-9)
                );
            }
        },
    )?;
    if show_progress {
        eprintln!();
    }
    let server = match (config.server_pid, before) {
        (Some(pid), Some(before)) => {
            let replies = outcome.stats.iter().map(|s| s.replies).sum();
            Some(usage(&before?, &snapshot(config, pid)?, replies))
        }
        _ => None,
    };
    let mut rows: Vec<Row> = workload
        .rows
        .iter()
        .map(|label| Row {
            label: label.clone(),
            stats: CmdStats::default(),
            counts_hits: false,
        })
        .collect();
    let mut totals = CmdStats::default();
    for (template, stats) in outcome.stats.iter().enumerate() {
        let row = &mut rows[workload.row_of[template]];
        row.stats.merge(stats);
        row.counts_hits |= workload.counts_hits[template];
        totals.merge(stats);
    }
    Ok(RunResult {
        rows,
        totals,
        elapsed: outcome.elapsed,
        connection_errors: outcome.connection_errors,
        lost: outcome.lost,
        first_error: outcome.first_error,
        interrupted: outcome.interrupted,
        server,
        started_unix_ms,
        arbitrary: workload.arbitrary,
    })
}

/// SETs every key of the range once, split over the connections, before
/// anything is measured.
pub fn prefill(config: &Config) -> Result<()> {
    let mut fill = config.clone();
    fill.commands = vec![CommandSpec {
        line: "SET __key__ __data__".into(),
        ratio: 1,
        key_pattern: KeyPattern::Parallel,
    }];
    fill.breakdown = Breakdown::Command;
    fill.length = Length::AllKeys;
    fill.pace = Pace::Closed;
    fill.pipeline = fill.pipeline.max(PREFILL_PIPELINE_MIN);
    fill.server_pid = None;
    if fill.keys.len() < fill.connections() {
        fill.threads = 1;
        fill.clients = 1;
    }
    let started = Instant::now();
    let result = run_once(&fill, 0)?;
    let keys = result.totals.replies;
    eprintln!(
        "prefill: {keys} keys set in {:.2} s ({} errors, {} lost)",
        started.elapsed().as_secs_f64(),
        result.totals.errors,
        result.lost
    );
    if result.interrupted {
        return Err(BenchError::interrupted("interrupted during the prefill"));
    }
    if result.totals.errors > 0 || result.lost > 0 {
        return Err(BenchError::protocol(format!(
            "prefill failed: {} errors, {} lost; first: {}",
            result.totals.errors,
            result.lost,
            result.first_error.unwrap_or_default()
        )));
    }
    Ok(())
}

/// The server's CPU time and command count at one moment.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    cpu: Duration,
    commands: Option<u64>,
}

fn snapshot(config: &Config, pid: u32) -> Result<Snapshot> {
    let commands = Setup::open(config)
        .and_then(|mut setup| setup.request(&[b"INFO", b"stats"]))
        .ok()
        .and_then(|reply| info_field(&reply, "total_commands_processed"))
        .and_then(|text| text.parse().ok());
    Ok(Snapshot {
        cpu: proc_stat::cpu_time(pid)?,
        commands,
    })
}

fn usage(before: &Snapshot, after: &Snapshot, replies: u64) -> ServerUsage {
    let cpu = after.cpu.saturating_sub(before.cpu);
    // INFO counts itself: one command, in `after` only.
    let commands = match (before.commands, after.commands) {
        (Some(b), Some(a)) if a > b => Some(a - b - 1),
        _ => None,
    };
    let ops = commands.unwrap_or(replies).max(1);
    ServerUsage {
        cpu,
        commands,
        usec_per_op: cpu.as_secs_f64() * 1e6 / ops as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_per_op_divides_by_the_commands_the_server_counted() {
        let before = Snapshot {
            cpu: Duration::from_millis(1_000),
            commands: Some(100),
        };
        let after = Snapshot {
            cpu: Duration::from_millis(1_500),
            commands: Some(100 + 250_000 + 1),
        };
        let usage = usage(&before, &after, 999);
        assert_eq!(usage.commands, Some(250_000));
        assert!((usage.usec_per_op - 2.0).abs() < 1e-9);
        let no_info = Snapshot {
            cpu: Duration::from_millis(1_500),
            commands: None,
        };
        assert!((super::usage(&before, &no_info, 500_000).usec_per_op - 1.0).abs() < 1e-9);
    }
}
