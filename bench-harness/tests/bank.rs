//! `shoal-bench bank` against real servers for about two seconds: transfers
//! are committed, conflicts are retried, and the balances still add up.

mod util;

use std::time::Duration;

use shoal_bench::bank::args::{BankConfig, Mode};
use shoal_bench::bank::{self, report::Summary};

fn config(port: u16, mode: Mode) -> BankConfig {
    BankConfig {
        host: "127.0.0.1".into(),
        port,
        mode,
        clients: 16,
        threads: 2,
        accounts: 100,
        test_time: Duration::from_secs(2),
        ..BankConfig::default()
    }
}

fn assert_sound(summary: &Summary) {
    print!("{}", bank::report::text(summary, &[50.0, 99.0]));
    assert_eq!(summary.sum, 100 * 1000, "the balances add up");
    assert!(summary.sum_ok());
    assert_eq!(summary.tally.errors, 0, "{:?}", summary.tally.error_samples);
    assert!(summary.tally.committed > 0, "no transfer was committed");
    assert_eq!(
        summary.tally.attempts,
        summary.tally.committed + summary.tally.conflicts,
        "every attempt committed or conflicted"
    );
    assert_eq!(
        summary.tally.latency_ns.len(),
        summary.tally.committed,
        "one latency per committed transfer"
    );
}

#[test]
fn multi_mode_against_redis_keeps_the_sum() {
    if !util::have_redis() {
        return;
    }
    let redis = util::start_redis();
    let mut config = config(redis.port, Mode::Multi);
    config.server_pid = Some(redis.guard.pid());
    let summary = bank::run(&config).expect("the run completes");
    assert_sound(&summary);
    assert!(summary.server_usec_per_transfer().unwrap() > 0.0);
    // Two hot accounts and 16 clients: WATCH must see conflicts.
    let mut hot = config;
    hot.accounts = 2;
    hot.start_balance = 50_000;
    hot.test_time = Duration::from_secs(1);
    let summary = bank::run(&hot).expect("the run completes");
    assert!(
        summary.sum_ok(),
        "{} != {}",
        summary.sum,
        summary.expected_sum
    );
    assert_eq!(summary.tally.errors, 0, "{:?}", summary.tally.error_samples);
    assert!(
        summary.tally.conflicts > 0,
        "no conflict on two hot accounts"
    );
}

#[test]
fn begin_mode_against_shoal_keeps_the_sum_where_begin_exists() {
    let shoal = util::start_shoal();
    let config = config(shoal.port, Mode::Begin);
    match bank::supports_begin(&config).expect("the server answers") {
        Err(why) => {
            println!("skipped: this shoal-server has no BEGIN/COMMIT yet ({why})");
        }
        Ok(()) => assert_sound(&bank::run(&config).expect("the run completes")),
    }
}

#[test]
fn begin_mode_is_refused_with_the_reason_where_begin_is_missing() {
    if !util::have_redis() {
        return;
    }
    let redis = util::start_redis();
    let error = bank::run(&config(redis.port, Mode::Begin)).unwrap_err();
    assert!(
        error.message.contains("BEGIN") && error.message.contains("unknown command"),
        "{}",
        error.message
    );
}
