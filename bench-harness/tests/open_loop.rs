//! Open loop measures latency from when each request was due, so a server
//! stall shows in the percentiles (no coordinated omission); closed loop,
//! which waits for the stalled reply before sending more, hides it.

mod util;

use std::time::Duration;

use shoal_bench::runner;

const STALL: Duration = Duration::from_millis(300);

fn p90_ms(flags: &str) -> (f64, u64) {
    let port = util::stalling_server(200, STALL);
    let mut config = util::config(port, flags);
    config.commands = vec![shoal_bench::args::CommandSpec {
        line: "SET __key__ __data__".into(),
        ratio: 1,
        key_pattern: shoal_bench::keys::KeyPattern::Random,
    }];
    let result = runner::run_once(&config, 1).expect("the run completes");
    assert_eq!(result.totals.sent, result.totals.replies);
    assert_eq!(result.lost, 0);
    (result.totals.percentile_ms(90.0), result.totals.replies)
}

#[test]
fn open_loop_counts_the_stall_against_every_request_due_during_it() {
    // 1000 requests/s for 1.5 s: about 300 of 1500 fall due inside the stall,
    // so more than a tenth of the latencies exceed 100 ms.
    let (p90, replies) = p90_ms("-t 1 -c 1 --test-time 1.5 --rate 1000");
    assert!((1_300..=1_600).contains(&replies), "{replies} replies");
    assert!(p90 > 100.0, "open-loop p90 {p90} ms hides the stall");
}

#[test]
fn closed_loop_sees_the_stall_once() {
    let (p90, _) = p90_ms("-t 1 -c 1 --test-time 1.5");
    assert!(p90 < 50.0, "closed-loop p90 {p90} ms");
}
