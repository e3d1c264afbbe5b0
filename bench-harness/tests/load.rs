//! Drives real servers for a few seconds and checks that the counts add
//! up: every request sent got a reply, and the server saw each one.

mod util;

use shoal_bench::args::Config;
use shoal_bench::runner::{self, RunResult};

fn run(config: &Config) -> RunResult {
    runner::run_once(config, 1).expect("the run completes")
}

/// Every request got a reply, none lost, no connection dropped.
fn assert_all_answered(result: &RunResult, expected_sent: Option<u64>) {
    let totals = &result.totals;
    assert_eq!(totals.sent, totals.replies, "sent vs replies");
    assert_eq!(result.lost, 0, "lost requests");
    assert_eq!(result.connection_errors, 0, "connection errors");
    assert_eq!(
        totals.latency_ns.len(),
        totals.replies,
        "one latency per reply"
    );
    let rows_sent: u64 = result.rows.iter().map(|r| r.stats.sent).sum();
    assert_eq!(rows_sent, totals.sent, "rows add up to the totals");
    if let Some(expected) = expected_sent {
        assert_eq!(totals.sent, expected);
    }
}

/// A fixed request count: 2 threads × 4 connections × 3000 requests.
fn requests_mode(port: u16, pid: u32) -> RunResult {
    let mut config = util::config(
        port,
        "-t 2 -c 4 --pipeline 8 -n 3000 --ratio 1:3 --key-maximum 999 --distinct-client-seed",
    );
    config.server_pid = Some(pid);
    let result = run(&config);
    assert_all_answered(&result, Some(24_000));
    assert_eq!(result.totals.errors, 0, "{:?}", result.first_error);
    // Ratio 1:3 per connection: 750 SETs and 2250 GETs each.
    assert_eq!(result.rows[0].stats.replies, 6_000);
    assert_eq!(result.rows[1].stats.replies, 18_000);
    let gets = &result.rows[1].stats;
    assert_eq!(gets.hits + gets.misses, 18_000);
    let server = result.server.expect("--server-pid gives server usage");
    let commands = server.commands.expect("INFO total_commands_processed");
    assert!(commands.abs_diff(24_000) <= 2, "server counted {commands}");
    result
}

/// A timed, open-loop run with templates over RESP3.
fn timed_open_loop(port: u16) {
    let mut config = util::config(
        port,
        "-t 1 -c 10 --pipeline 4 --test-time 2 --rate 10000 -P resp3 --key-maximum 99 --key-pattern S:S",
    );
    config.commands = vec![
        shoal_bench::args::CommandSpec {
            line: "SET __key__ __data__".into(),
            ratio: 1,
            key_pattern: shoal_bench::keys::KeyPattern::Parallel,
        },
        shoal_bench::args::CommandSpec {
            line: "GET __key__".into(),
            ratio: 1,
            key_pattern: shoal_bench::keys::KeyPattern::Parallel,
        },
    ];
    let result = run(&config);
    assert_all_answered(&result, None);
    assert_eq!(result.totals.errors, 0, "{:?}", result.first_error);
    // 10 000 requests/s for 2 s, give or take the last partial interval.
    let sent = result.totals.sent as f64;
    assert!((sent - 20_000.0).abs() < 1_000.0, "sent {sent}");
    // Each connection SETs a key, then GETs the same key: every GET hits.
    let gets = &result.rows[1].stats;
    assert_eq!(gets.misses, 0);
    assert_eq!(gets.hits, gets.replies);
}

/// Error replies are counted as errors, never dropped.
fn errors_are_counted(port: u16) {
    let mut config = util::config(port, "-t 1 -c 2 -n 500 --pipeline 4");
    config.commands = vec![shoal_bench::args::CommandSpec {
        line: "NOSUCHCOMMAND __key__".into(),
        ratio: 1,
        key_pattern: shoal_bench::keys::KeyPattern::Random,
    }];
    let result = run(&config);
    assert_all_answered(&result, Some(1_000));
    assert_eq!(result.totals.errors, 1_000);
    let first = result.first_error.expect("the error text is kept");
    assert!(
        first.to_ascii_lowercase().contains("unknown command"),
        "{first}"
    );
}

#[test]
fn counts_add_up_against_shoal_server() {
    let server = util::start_shoal();
    requests_mode(server.port, server.guard.pid());
    timed_open_loop(server.port);
    errors_are_counted(server.port);
}

#[test]
fn counts_add_up_against_redis_server() {
    if !util::have_redis() {
        return;
    }
    let server = util::start_redis();
    requests_mode(server.port, server.guard.pid());
    timed_open_loop(server.port);
    errors_are_counted(server.port);
}
