//! The results as memtier prints them: a table with a row per command type
//! and a `Totals` row (ops/sec the first figure after the type), the
//! latency distribution, and the same figures as JSON.
//!
//! Additions to memtier's table sit after its columns, so a script that
//! reads memtier's columns by position still finds them (given the same
//! `--print-percentiles`): `Max Latency` and `Errors` after `KB/sec`, and a
//! summary of counts below the table.

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::args::Config;
use crate::runner::{Row, RunResult};
use crate::stats::{ns_to_ms, CmdStats};

/// The column label memtier gives a percentile: `p50 Latency`, `p99.9 Latency`.
pub fn percentile_label(percentile: f64) -> String {
    format!("p{} Latency", percentile_text(percentile))
}

/// A percentile with the decimals it needs (up to three): 50, 99.9, 99.99.
pub fn percentile_text(percentile: f64) -> String {
    let mut text = format!("{percentile:.3}");
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    text
}

/// The JSON key memtier gives a percentile: `p50.000`.
pub fn json_percentile_key(percentile: f64) -> String {
    format!("p{percentile:.3}")
}

/// One cell: a number, or `---` where there is nothing to show.
fn cell(out: &mut String, width: usize, decimals: usize, value: Option<f64>) {
    match value {
        Some(value) => {
            let _ = write!(out, "{value:>width$.decimals$} ");
        }
        None => {
            let _ = write!(out, "{:>width$} ", "---");
        }
    }
}

/// The summary table under `title` (`ALL STATS`, `BEST RUN RESULTS`…).
pub fn table(result: &RunResult, percentiles: &[f64], title: &str) -> String {
    let type_width = result
        .rows
        .iter()
        .map(|r| r.label.len())
        .chain([6])
        .max()
        .unwrap_or(6)
        + 1;
    let hits = !result.arbitrary;
    let mut header = format!("{:<type_width$} {:>12} ", "Type", "Ops/sec");
    let mut rule = format!("{} {} ", "-".repeat(type_width), "-".repeat(12));
    let mut columns = vec![];
    if hits {
        columns.extend(["Hits/sec".to_string(), "Misses/sec".to_string()]);
    }
    columns.push("Avg. Latency".into());
    columns.extend(percentiles.iter().map(|&p| percentile_label(p)));
    columns.push("KB/sec".into());
    columns.push("Max Latency".into());
    columns.push("Errors".into());
    for column in &columns {
        let width = column_width(column);
        let _ = write!(header, "{column:>width$} ");
        let _ = write!(rule, "{} ", "-".repeat(width));
    }
    let mut out = format!("\n\n{title}\n{}\n", "=".repeat(rule.len()));
    out.push_str(header.trim_end());
    out.push('\n');
    out.push_str(rule.trim_end());
    out.push('\n');
    for row in &result.rows {
        row_line(&mut out, result, row, type_width, percentiles);
    }
    let totals = Row {
        label: "Totals".into(),
        stats: result.totals.clone(),
        counts_hits: true,
    };
    row_line(&mut out, result, &totals, type_width, percentiles);
    out
}

fn column_width(label: &str) -> usize {
    match label {
        "Hits/sec" | "Misses/sec" | "KB/sec" | "Errors" => 12,
        _ => label.len().max(15),
    }
}

fn row_line(
    out: &mut String,
    result: &RunResult,
    row: &Row,
    type_width: usize,
    percentiles: &[f64],
) {
    let stats = &row.stats;
    let elapsed = result.elapsed;
    let mut line = format!("{:<type_width$} ", row.label);
    cell(
        &mut line,
        12,
        2,
        Some(stats.per_second(stats.replies, elapsed)),
    );
    if !result.arbitrary {
        let gets: u64 = result
            .rows
            .iter()
            .filter(|r| r.counts_hits)
            .map(|r| r.stats.hits)
            .sum();
        let misses: u64 = result
            .rows
            .iter()
            .filter(|r| r.counts_hits)
            .map(|r| r.stats.misses)
            .sum();
        let (hits, misses) = match (row.label.as_str(), row.counts_hits) {
            ("Totals", _) => (Some(gets), Some(misses)),
            (_, true) => (Some(stats.hits), Some(stats.misses)),
            _ => (None, None),
        };
        cell(&mut line, 12, 2, hits.map(|h| stats.per_second(h, elapsed)));
        cell(
            &mut line,
            12,
            2,
            misses.map(|m| stats.per_second(m, elapsed)),
        );
    }
    let has = !stats.latency_ns.is_empty();
    cell(&mut line, 15, 5, has.then(|| stats.mean_ms()));
    for &p in percentiles {
        let width = column_width(&percentile_label(p));
        cell(&mut line, width, 5, has.then(|| stats.percentile_ms(p)));
    }
    let kb = (stats.bytes_rx + stats.bytes_tx) as f64 / 1024.0;
    cell(&mut line, 12, 2, Some(stats.per_second(1, elapsed) * kb));
    cell(&mut line, 15, 5, has.then(|| stats.max_ms()));
    cell(&mut line, 12, 0, Some(stats.errors as f64));
    out.push_str(line.trim_end());
    out.push('\n');
}

/// Counts below the table: what was sent, answered, failed and lost, and
/// the server's CPU time per operation.
pub fn summary(result: &RunResult) -> String {
    let totals = &result.totals;
    let mut out =
        format!(
        "\nRequests: {} sent, {} replies ({} errors), {} lost, {} connection errors, {:.3} s{}\n",
        totals.sent,
        totals.replies,
        totals.errors,
        result.lost,
        result.connection_errors,
        result.elapsed.as_secs_f64(),
        if result.interrupted { " (interrupted)" } else { "" }
    );
    if let Some(error) = &result.first_error {
        let _ = writeln!(out, "First error: {error}");
    }
    if let Some(server) = &result.server {
        let basis = match server.commands {
            Some(commands) => format!("{commands} commands (INFO total_commands_processed)"),
            None => format!("{} replies (INFO unavailable)", totals.replies),
        };
        let _ = writeln!(
            out,
            "Server CPU: {:.3} usec/op ({:.3} s utime+stime over {basis})",
            server.usec_per_op,
            server.cpu.as_secs_f64()
        );
    }
    out
}

/// The latency distribution per row, memtier's `Request Latency
/// Distribution` (cumulative percent at quantile steps).
pub fn histogram(result: &RunResult) -> String {
    let mut out = String::from("\n\nRequest Latency Distribution\n");
    let _ = writeln!(out, "{:<8} {:>12} {:>12}", "Type", "<= msec", "Percent");
    out.push_str(&"-".repeat(72));
    out.push('\n');
    for row in result
        .rows
        .iter()
        .filter(|r| !r.stats.latency_ns.is_empty())
    {
        let name = row.label.trim_end_matches('s').to_ascii_uppercase();
        for step in row.stats.latency_ns.iter_quantiles(2) {
            let _ = writeln!(
                out,
                "{:<8} {:>12.3} {:>12.2}",
                name,
                ns_to_ms(step.value_iterated_to()),
                step.quantile_iterated_to() * 100.0
            );
        }
        out.push_str("---\n");
    }
    out
}

/// One row (or the totals) as memtier's JSON object.
fn json_row(stats: &CmdStats, result: &RunResult, percentiles: &[f64], hits: bool) -> Value {
    let elapsed = result.elapsed;
    let has = !stats.latency_ns.is_empty();
    let latency = |value: f64| if has { round3(value) } else { 0.0 };
    let mut quantiles = Map::new();
    for &p in percentiles {
        quantiles.insert(
            json_percentile_key(p),
            json!(latency(stats.percentile_ms(p))),
        );
    }
    let kb = (stats.bytes_rx + stats.bytes_tx) as f64 / 1024.0;
    json!({
        "Count": stats.replies,
        "Ops/sec": round2(stats.per_second(stats.replies, elapsed)),
        "Hits/sec": round2(if hits { stats.per_second(stats.hits, elapsed) } else { 0.0 }),
        "Misses/sec": round2(if hits { stats.per_second(stats.misses, elapsed) } else { 0.0 }),
        "Sent": stats.sent,
        "Errors": stats.errors,
        "Latency": latency(stats.mean_ms()),
        "Average Latency": latency(stats.mean_ms()),
        "Min Latency": latency(stats.min_ms()),
        "Max Latency": latency(stats.max_ms()),
        "KB/sec": round2(stats.per_second(1, elapsed) * kb),
        "Percentile Latencies": quantiles,
    })
}

/// One run's figures as memtier's JSON section (`ALL STATS` and the like).
pub fn json_stats(result: &RunResult, percentiles: &[f64]) -> Value {
    let mut section = Map::new();
    for row in &result.rows {
        section.insert(
            row.label.clone(),
            json_row(&row.stats, result, percentiles, row.counts_hits),
        );
    }
    let mut totals = json_row(&result.totals, result, percentiles, false);
    let gets = result.rows.iter().filter(|r| r.counts_hits);
    let (hits, misses) = gets.fold((0, 0), |(h, m), r| (h + r.stats.hits, m + r.stats.misses));
    totals["Hits/sec"] = json!(round2(result.totals.per_second(hits, result.elapsed)));
    totals["Misses/sec"] = json!(round2(result.totals.per_second(misses, result.elapsed)));
    totals["Connection Errors"] = json!(result.connection_errors);
    totals["Lost"] = json!(result.lost);
    section.insert("Totals".into(), totals);
    section.insert(
        "Runtime".into(),
        json!({
            "Start time": result.started_unix_ms,
            "Finish time": result.started_unix_ms + result.elapsed.as_millis() as u64,
            "Total duration": result.elapsed.as_millis() as u64,
            "Time unit": "MILLISECONDS",
            "Interrupted": result.interrupted,
        }),
    );
    if let Some(error) = &result.first_error {
        section.insert("First Error".into(), json!(error));
    }
    if let Some(server) = &result.server {
        section.insert(
            "Server".into(),
            json!({
                "CPU seconds": server.cpu.as_secs_f64(),
                "Commands processed": server.commands,
                "CPU usec/op": server.usec_per_op,
            }),
        );
    }
    Value::Object(section)
}

/// The whole JSON document: configuration, then one section per title.
pub fn json_document(config: &Config, sections: Vec<(String, Value)>) -> Value {
    let mut document = Map::new();
    document.insert(
        "configuration".into(),
        json!({
            "server": config.host,
            "port": config.port,
            "threads": config.threads,
            "clients": config.clients,
            "pipeline": config.pipeline,
            "arguments": config.argv,
        }),
    );
    for (title, section) in sections {
        document.insert(title, section);
    }
    Value::Object(document)
}

/// Several runs merged: counts and latencies added, time summed, so that
/// ops/sec is the average rate over all runs.
pub fn aggregate(results: &[RunResult]) -> Option<RunResult> {
    let (first, rest) = results.split_first()?;
    let mut total = first.clone();
    for result in rest {
        for (row, other) in total.rows.iter_mut().zip(&result.rows) {
            row.stats.merge(&other.stats);
        }
        total.totals.merge(&result.totals);
        total.elapsed += result.elapsed;
        total.connection_errors += result.connection_errors;
        total.lost += result.lost;
        total.interrupted |= result.interrupted;
        total.server = None;
    }
    Some(total)
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::ReplyKind;
    use std::time::Duration;

    fn result() -> RunResult {
        let mut sets = CmdStats::default();
        let mut gets = CmdStats::default();
        for _ in 0..1000 {
            sets.sent += 1;
            sets.record_reply(ReplyKind::Value, 5, 200_000);
            gets.sent += 3;
            gets.record_reply(ReplyKind::Value, 40, 100_000);
            gets.record_reply(ReplyKind::Null, 5, 100_000);
            gets.record_reply(ReplyKind::Error, 20, 300_000);
        }
        let mut totals = sets.clone();
        totals.merge(&gets);
        RunResult {
            rows: vec![
                Row {
                    label: "Sets".into(),
                    stats: sets,
                    counts_hits: false,
                },
                Row {
                    label: "Gets".into(),
                    stats: gets,
                    counts_hits: true,
                },
                Row {
                    label: "Waits".into(),
                    stats: CmdStats::default(),
                    counts_hits: false,
                },
            ],
            totals,
            elapsed: Duration::from_secs(2),
            connection_errors: 0,
            lost: 0,
            first_error: None,
            interrupted: false,
            server: None,
            started_unix_ms: 0,
            arbitrary: false,
        }
    }

    #[test]
    fn percentile_labels_match_memtier() {
        assert_eq!(percentile_label(50.0), "p50 Latency");
        assert_eq!(percentile_label(99.9), "p99.9 Latency");
        assert_eq!(percentile_label(99.99), "p99.99 Latency");
        assert_eq!(json_percentile_key(99.9), "p99.900");
    }

    #[test]
    fn the_table_has_memtier_rows_and_ops_per_sec_second() {
        let text = table(&result(), &[50.0, 99.0], "ALL STATS");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2], "ALL STATS");
        assert!(lines[4].starts_with("Type"));
        let totals: Vec<&str> = lines
            .iter()
            .find(|l| l.starts_with("Totals"))
            .unwrap()
            .split_whitespace()
            .collect();
        // 4000 replies over 2 s; hits 1000 and misses 1000 over 2 s.
        assert_eq!(totals[1], "2000.00");
        assert_eq!((totals[2], totals[3]), ("500.00", "500.00"));
        assert_eq!(*totals.last().unwrap(), "1000");
        let waits = lines.iter().find(|l| l.starts_with("Waits")).unwrap();
        assert!(waits.contains("---"));
    }

    #[test]
    fn json_totals_carry_counts_and_percentiles() {
        let value = json_stats(&result(), &[50.0, 99.9]);
        let totals = &value["Totals"];
        assert_eq!(totals["Count"], 4000);
        assert_eq!(totals["Sent"], 4000);
        assert_eq!(totals["Errors"], 1000);
        assert_eq!(totals["Ops/sec"], 2000.0);
        assert_eq!(totals["Percentile Latencies"]["p50.000"], 0.1);
        assert_eq!(totals["Percentile Latencies"]["p99.900"], 0.3);
        assert_eq!(value["Gets"]["Misses/sec"], 500.0);
    }

    #[test]
    fn aggregation_sums_counts_and_time() {
        let once = result();
        let twice = aggregate(&[once.clone(), once]).unwrap();
        assert_eq!(twice.totals.replies, 8000);
        assert_eq!(twice.elapsed, Duration::from_secs(4));
        assert!((twice.ops_per_sec() - 2000.0).abs() < 1e-9);
    }
}
