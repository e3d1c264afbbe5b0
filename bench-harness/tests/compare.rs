//! `shoal-bench compare` end to end: two servers, one short workload, the
//! reports written and every server stopped afterwards.

mod util;

use std::net::TcpStream;
use std::process::Command;

#[test]
fn compare_reports_both_servers_and_stops_them() {
    let redis = util::have_redis();
    let shoal = util::shoal_server();
    let (port_a, port_b) = (util::free_port(), util::free_port());
    let out_dir =
        std::env::temp_dir().join(format!("shoal-bench-compare-test-{}", std::process::id()));
    let second = if redis {
        format!("redis=redis-server --bind 127.0.0.1 --port {port_b} --save '' --appendonly no")
    } else {
        format!(
            "shoal2={} --bind 127.0.0.1 --port {port_b} --threads 1",
            shoal.display()
        )
    };
    let output = Command::new(env!("CARGO_BIN_EXE_shoal-bench"))
        .args([
            "compare",
            "--runs",
            "2",
            "--server-cpu",
            "0",
            "--client-cpu",
            "0",
        ])
        .args([
            "--server",
            &format!(
                "shoal={} --bind 127.0.0.1 --port {port_a} --threads 1",
                shoal.display()
            ),
        ])
        .args(["--server", &second])
        .args([
            "--workload",
            "get=-t 1 -c 4 --ratio 1:1 --key-maximum 999 --test-time 0.5",
        ])
        .arg("--out-dir")
        .arg(&out_dir)
        .output()
        .expect("shoal-bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("| get |"))
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(
        rows[0].contains("| shoal | ") && rows[0].contains("| 1.00 |"),
        "{}",
        rows[0]
    );
    for row in &rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        // Errors and lost are the last two columns: both zero.
        assert_eq!(
            &cells[cells.len() - 3..cells.len() - 1],
            ["0", "0"],
            "{row}"
        );
    }
    let summary = std::fs::read_to_string(out_dir.join("compare.json")).expect("compare.json");
    let summary: serde_json::Value = serde_json::from_str(&summary).expect("valid JSON");
    assert_eq!(summary["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        summary["results"][0]["runs"].as_array().map(Vec::len),
        Some(2)
    );
    assert!(summary["results"][1]["median"]["cpu_us_per_op"]
        .as_f64()
        .is_some());
    assert!(out_dir.join("compare.md").is_file());
    // Both servers are gone: nothing answers on their ports.
    for port in [port_a, port_b] {
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still open"
        );
    }
    let _ = std::fs::remove_dir_all(out_dir);
}
