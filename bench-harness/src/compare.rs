//! `shoal-bench compare`: the same workload against several servers, in
//! alternation, with medians and ratios to the first server.
//!
//! Each server command is started once, pinned to `--server-cpu`, in its
//! own session with autogroup nice -20 (see `process`). Each run is a
//! child `shoal-bench` pinned to `--client-cpu` the same way, driving one
//! server with the workload's flags and `--server-pid`, so it reports the
//! server's utime + stime per operation over exactly the measured part.
//! Runs alternate between servers round by round (the order rotates), so
//! drift on a shared machine falls on all of them alike. Every server
//! started is stopped at the end, on error, on panic and on Ctrl-C.
//!
//! CPU time per operation is the fair figure when the load generator
//! saturates its core before the server does: then ops/sec measures the
//! client, while CPU per operation still measures the server.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::args::{self, Config, Parsed};
use crate::conn::Setup;
use crate::error::{BenchError, Result};
use crate::plot::{self, PlotData};
use crate::process::{self, ChildGuard, CpuSet, Isolation};
use crate::report;
use crate::signals;
use crate::stats::median;
use crate::words;

/// The percentiles every run reports, and the plot shows.
const PERCENTILES: [f64; 5] = [50.0, 90.0, 99.0, 99.9, 99.99];
/// Default workloads: GETs over 50 connections at pipeline 1 and 16.
const DEFAULT_WORKLOADS: [(&str, &str); 2] = [
    (
        "get-P1",
        "-t 1 -c 50 --pipeline 1 --ratio 0:1 --key-maximum 99999 --prefill --test-time 5",
    ),
    (
        "get-P16",
        "-t 1 -c 50 --pipeline 16 --ratio 0:1 --key-maximum 99999 --prefill --test-time 5",
    ),
];
/// Flags a workload may not set: compare sets them for each run.
const RESERVED: &[&str] = &[
    "-s",
    "-h",
    "-p",
    "-u",
    "--server",
    "--host",
    "--port",
    "--uri",
    "--server-pid",
    "--json-out-file",
    "--json-out",
    "-o",
    "--out-file",
    "-x",
    "--run-count",
];

const USAGE: &str = "Usage: shoal-bench compare --server [NAME=]COMMAND [--server ...] [options]

Starts each server command (it must take --port N), runs each workload
against each server in alternation --runs times, and reports medians and
ratios to the first server: ops/sec, latency percentiles, and the server's
CPU time per operation (utime+stime from /proc over total_commands_processed).

  --server [NAME=]COMMAND   e.g. \"shoal=target/release/shoal-server --port 7001 --threads 1\"
  --workload [NAME=]FLAGS   shoal-bench flags (default: get-P1 and get-P16, 50
                            connections, 5 s each, prefilled 100000 keys)
  --runs N                  runs per server and workload (default: 3)
  --server-cpu LIST         CPUs for the servers (default: 0)
  --client-cpu LIST         CPUs for the load (default: 1)
  --out-dir DIR             where compare.md, compare.json and the plots go
                            (default: shoal-bench-results)
  --title TEXT              the plot's title
  --bench-bin PATH          the shoal-bench that drives each run (default: this one)
  --run-timeout SECS        longest a run may take (default: 300)
  --startup-timeout SECS    longest a server may take to answer PING (default: 20)
";

/// A server to start.
#[derive(Debug, Clone)]
struct ServerSpec {
    name: String,
    argv: Vec<String>,
    port: u16,
}

/// A workload to run.
#[derive(Debug, Clone)]
struct WorkloadSpec {
    name: String,
    flags: Vec<String>,
}

/// What `compare` was asked to do.
#[derive(Debug, Clone)]
struct Options {
    servers: Vec<ServerSpec>,
    workloads: Vec<WorkloadSpec>,
    runs: u32,
    server_cpus: CpuSet,
    client_cpus: CpuSet,
    out_dir: PathBuf,
    title: String,
    bench_bin: PathBuf,
    run_timeout: Duration,
    startup_timeout: Duration,
}

/// One run's figures, read from the child's JSON.
#[derive(Debug, Clone, Default)]
struct Sample {
    ops_per_sec: f64,
    avg_ms: f64,
    percentiles_ms: Vec<f64>,
    max_ms: f64,
    cpu_us_per_op: Option<f64>,
    errors: u64,
    lost: u64,
}

/// Runs the subcommand.
pub fn main(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return Ok(());
    }
    let options = parse(args)?;
    signals::install();
    std::fs::create_dir_all(&options.out_dir)
        .map_err(|e| BenchError::io(format!("creating {}", options.out_dir.display()), e))?;
    let scratch = std::env::temp_dir().join(format!("shoal-bench-compare-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| BenchError::io(format!("creating {}", scratch.display()), e))?;
    let outcome = run(&options, &scratch);
    // Best effort: the scratch files only matter while running.
    let _ = std::fs::remove_dir_all(&scratch);
    outcome
}

fn parse(args: &[String]) -> Result<Options> {
    let exe = std::env::current_exe().map_err(|e| BenchError::io("finding this program", e))?;
    let mut options = Options {
        servers: Vec::new(),
        workloads: Vec::new(),
        runs: 3,
        server_cpus: CpuSet(vec![0]),
        client_cpus: CpuSet(vec![1]),
        out_dir: PathBuf::from("shoal-bench-results"),
        title: String::new(),
        bench_bin: exe,
        run_timeout: Duration::from_secs(300),
        startup_timeout: Duration::from_secs(20),
    };
    let mut at = 0;
    while at < args.len() {
        let flag = args[at].as_str();
        let value = args
            .get(at + 1)
            .ok_or_else(|| BenchError::usage(format!("compare: {flag} needs a value")))?;
        match flag {
            "--server" => options.servers.push(server_spec(value)?),
            "--workload" => options.workloads.push(workload_spec(value)?),
            "--runs" => options.runs = count(flag, value)?,
            "--server-cpu" => options.server_cpus = CpuSet::parse(value)?,
            "--client-cpu" => options.client_cpus = CpuSet::parse(value)?,
            "--out-dir" => options.out_dir = PathBuf::from(value),
            "--title" => options.title = value.clone(),
            "--bench-bin" => options.bench_bin = PathBuf::from(value),
            "--run-timeout" => {
                options.run_timeout = Duration::from_secs(count(flag, value)?.into())
            }
            "--startup-timeout" => {
                options.startup_timeout = Duration::from_secs(count(flag, value)?.into())
            }
            _ => {
                return Err(BenchError::usage(format!(
                    "compare: unknown flag {flag}\n{USAGE}"
                )))
            }
        }
        at += 2;
    }
    if options.servers.is_empty() {
        return Err(BenchError::usage(format!(
            "compare: give at least one --server\n{USAGE}"
        )));
    }
    if options.workloads.is_empty() {
        for (name, flags) in DEFAULT_WORKLOADS {
            options
                .workloads
                .push(workload_spec(&format!("{name}={flags}"))?);
        }
    }
    if options.title.is_empty() {
        let names: Vec<&str> = options.servers.iter().map(|s| s.name.as_str()).collect();
        options.title = names.join(" vs ");
    }
    Ok(options)
}

fn count(flag: &str, value: &str) -> Result<u32> {
    match value.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(BenchError::usage(format!(
            "compare: {flag} needs a positive number"
        ))),
    }
}

/// `NAME=` before a command line, if the text before `=` is a plain name.
fn split_name(text: &str) -> (Option<&str>, &str) {
    if let Some((name, rest)) = text.split_once('=') {
        let plain = !name.is_empty()
            && !name.starts_with('-')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if plain {
            return (Some(name), rest);
        }
    }
    (None, text)
}

fn server_spec(text: &str) -> Result<ServerSpec> {
    let (name, line) = split_name(text);
    let argv = words::split_strings(line)?;
    let Some(program) = argv.first() else {
        return Err(BenchError::usage("compare: --server needs a command"));
    };
    let port = argv
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| argv.get(i + 1))
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| BenchError::usage(format!("compare: {line:?} needs --port N")))?;
    Ok(ServerSpec {
        name: name.map_or_else(|| process::program_name(program), str::to_string),
        argv,
        port,
    })
}

fn workload_spec(text: &str) -> Result<WorkloadSpec> {
    let (name, line) = split_name(text);
    let flags = words::split_strings(line)?;
    if let Some(flag) = flags.iter().find(|f| {
        let name = f.split('=').next().unwrap_or(f);
        let short = name.get(..2).filter(|_| !name.starts_with("--"));
        RESERVED.contains(&name) || short.is_some_and(|s| RESERVED.contains(&s))
    }) {
        return Err(BenchError::usage(format!(
            "compare: workload {line:?} sets {flag}, which compare sets for each run"
        )));
    }
    // Read the flags now, so a typo fails before any server starts.
    match args::parse(&flags)? {
        Parsed::Run(_) => {}
        _ => {
            return Err(BenchError::usage(format!(
                "compare: {line:?} is not a workload"
            )))
        }
    }
    Ok(WorkloadSpec {
        name: name.map_or_else(|| line.to_string(), str::to_string),
        flags,
    })
}

/// Starts the servers, runs everything, writes the reports.
fn run(options: &Options, scratch: &Path) -> Result<()> {
    let mut servers = Vec::with_capacity(options.servers.len());
    for spec in &options.servers {
        servers.push(start_server(spec, options, scratch)?);
    }
    let mut samples: Vec<Vec<Vec<Sample>>> =
        vec![vec![Vec::new(); options.servers.len()]; options.workloads.len()];
    for (w, workload) in options.workloads.iter().enumerate() {
        for round in 0..options.runs as usize {
            for offset in 0..servers.len() {
                let s = (round + offset) % servers.len();
                let sample = run_one(
                    options,
                    workload,
                    &options.servers[s],
                    &mut servers[s],
                    scratch,
                )?;
                eprintln!(
                    "{} / {} / run {}: {:.0} ops/sec, p50 {:.3} ms, p99 {:.3} ms, server CPU {}",
                    workload.name,
                    options.servers[s].name,
                    round + 1,
                    sample.ops_per_sec,
                    sample.percentiles_ms.first().copied().unwrap_or(0.0),
                    sample.percentiles_ms.get(2).copied().unwrap_or(0.0),
                    sample
                        .cpu_us_per_op
                        .map_or("n/a".into(), |c| format!("{c:.3} µs/op")),
                );
                samples[w][s].push(sample);
            }
        }
    }
    for server in &mut servers {
        server.stop();
    }
    write_reports(options, &samples)
}

fn start_server(spec: &ServerSpec, options: &Options, scratch: &Path) -> Result<ChildGuard> {
    let log_path = scratch.join(format!("{}.log", spec.name));
    let log = File::create(&log_path)
        .map_err(|e| BenchError::io(format!("creating {}", log_path.display()), e))?;
    let isolation = Isolation {
        cpus: Some(options.server_cpus.clone()),
        new_session: true,
        autogroup_boost: true,
    };
    let child = process::spawn(&spec.argv, &isolation, &log)?;
    let mut guard = ChildGuard::new(spec.name.clone(), child, true);
    note_boost(&spec.name, guard.pid());
    let mut config = Config {
        host: "127.0.0.1".into(),
        port: spec.port,
        ..Config::default()
    };
    config.connect_timeout = Some(Duration::from_secs(1));
    let deadline = Instant::now() + options.startup_timeout;
    loop {
        if Setup::open(&config)
            .and_then(|mut s| s.call(&[b"PING"]))
            .is_ok()
        {
            return Ok(guard);
        }
        if let Some(status) = guard.try_wait() {
            return Err(BenchError::protocol(format!(
                "{} exited ({status}) before answering PING; its output:\n{}",
                spec.name,
                tail(&log_path)
            )));
        }
        if signals::stop_requested() {
            return Err(BenchError::interrupted(
                "interrupted while starting servers",
            ));
        }
        if Instant::now() >= deadline {
            return Err(BenchError::protocol(format!(
                "{} did not answer PING on port {} within {:.0} s; its output:\n{}",
                spec.name,
                spec.port,
                options.startup_timeout.as_secs_f64(),
                tail(&log_path)
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Says so when the autogroup could not be given nice -20.
fn note_boost(name: &str, pid: u32) {
    match process::autogroup_nice(pid) {
        Some(-20) => {}
        Some(nice) => eprintln!(
            "note: {name} runs at autogroup nice {nice}, not -20 (no permission?); timings may suffer from other load"
        ),
        None => eprintln!("note: no autogroup for {name} (kernel without autogroup?)"),
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn run_one(
    options: &Options,
    workload: &WorkloadSpec,
    spec: &ServerSpec,
    server: &mut ChildGuard,
    scratch: &Path,
) -> Result<Sample> {
    if let Some(status) = server.try_wait() {
        return Err(BenchError::protocol(format!(
            "{} exited ({status}) between runs",
            spec.name
        )));
    }
    let json_path = scratch.join("run.json");
    let log_path = scratch.join("run.log");
    let _ = std::fs::remove_file(&json_path);
    let percentiles: Vec<String> = PERCENTILES
        .iter()
        .map(|p| report::percentile_text(*p))
        .collect();
    let mut argv = vec![options.bench_bin.display().to_string()];
    argv.extend(workload.flags.iter().cloned());
    argv.extend([
        "-s".into(),
        "127.0.0.1".into(),
        "-p".into(),
        spec.port.to_string(),
        "--server-pid".into(),
        server.pid().to_string(),
        "--hide-histogram".into(),
        "--print-percentiles".into(),
        percentiles.join(","),
        "--json-out-file".into(),
        json_path.display().to_string(),
    ]);
    let log = File::create(&log_path)
        .map_err(|e| BenchError::io(format!("creating {}", log_path.display()), e))?;
    let isolation = Isolation {
        cpus: Some(options.client_cpus.clone()),
        new_session: true,
        autogroup_boost: true,
    };
    let child = process::spawn(&argv, &isolation, &log)?;
    let mut load = ChildGuard::new(format!("shoal-bench against {}", spec.name), child, true);
    let status = load.wait_timeout(options.run_timeout, signals::stop_requested)?;
    if !status.success() {
        return Err(BenchError::protocol(format!(
            "the run of {:?} against {} failed ({status}):\n{}",
            workload.name,
            spec.name,
            tail(&log_path)
        )));
    }
    let text = std::fs::read_to_string(&json_path)
        .map_err(|e| BenchError::io(format!("reading {}", json_path.display()), e))?;
    let document: Value = serde_json::from_str(&text)
        .map_err(|e| BenchError::protocol(format!("{}: {e}", json_path.display())))?;
    sample(&document["ALL STATS"]).ok_or_else(|| {
        BenchError::protocol(format!("{}: no ALL STATS totals", json_path.display()))
    })
}

/// Reads one run's figures from its `ALL STATS` section.
fn sample(stats: &Value) -> Option<Sample> {
    let totals = &stats["Totals"];
    let quantiles = &totals["Percentile Latencies"];
    Some(Sample {
        ops_per_sec: totals["Ops/sec"].as_f64()?,
        avg_ms: totals["Average Latency"].as_f64()?,
        percentiles_ms: PERCENTILES
            .iter()
            .map(|p| quantiles[report::json_percentile_key(*p)].as_f64())
            .collect::<Option<Vec<f64>>>()?,
        max_ms: totals["Max Latency"].as_f64()?,
        cpu_us_per_op: stats["Server"]["CPU usec/op"].as_f64(),
        errors: totals["Errors"].as_u64()? + totals["Connection Errors"].as_u64().unwrap_or(0),
        lost: totals["Lost"].as_u64().unwrap_or(0),
    })
}

/// Medians of one (workload, server) cell.
#[derive(Debug, Clone, Default)]
struct Medians {
    ops_per_sec: f64,
    avg_ms: f64,
    percentiles_ms: Vec<f64>,
    max_ms: f64,
    cpu_us_per_op: Option<f64>,
    errors: u64,
    lost: u64,
}

fn medians(samples: &[Sample]) -> Medians {
    let of = |f: &dyn Fn(&Sample) -> f64| {
        median(&samples.iter().map(f).collect::<Vec<_>>()).unwrap_or(0.0)
    };
    let cpu: Vec<f64> = samples.iter().filter_map(|s| s.cpu_us_per_op).collect();
    Medians {
        ops_per_sec: of(&|s| s.ops_per_sec),
        avg_ms: of(&|s| s.avg_ms),
        percentiles_ms: (0..PERCENTILES.len())
            .map(|i| of(&|s| s.percentiles_ms.get(i).copied().unwrap_or(0.0)))
            .collect(),
        max_ms: of(&|s| s.max_ms),
        cpu_us_per_op: median(&cpu),
        errors: samples.iter().map(|s| s.errors).sum(),
        lost: samples.iter().map(|s| s.lost).sum(),
    }
}

fn write_reports(options: &Options, samples: &[Vec<Vec<Sample>>]) -> Result<()> {
    let cells: Vec<Vec<Medians>> = samples
        .iter()
        .map(|per_server| per_server.iter().map(|s| medians(s)).collect())
        .collect();
    let table = markdown_table(options, &cells);
    let header = header(options);
    print!("{header}\n{table}");
    let stem = options.out_dir.join("compare");
    let plot = plot::write(&plot_data(options, &cells), &stem);
    for note in &plot.notes {
        eprintln!("note: {note}");
    }
    let mut markdown = format!("{header}\n{table}");
    for path in plot.svg.iter().chain(plot.png.iter()) {
        let _ = writeln!(markdown, "\nPlot: {}", path.display());
    }
    write_file(&stem.with_extension("md"), &markdown)?;
    let summary = summary_json(options, samples, &cells);
    let text = serde_json::to_string_pretty(&summary)
        .map_err(|e| BenchError::protocol(format!("encoding JSON: {e}")))?;
    write_file(&stem.with_extension("json"), &(text + "\n"))?;
    eprintln!("wrote {}.md, {}.json", stem.display(), stem.display());
    for path in plot.svg.iter().chain(plot.png.iter()) {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| BenchError::io(format!("writing {}", path.display()), e))
}

/// Date, CPU, pinning and commands, for the record.
fn header(options: &Options) -> String {
    let mut out = format!(
        "Date: {} · CPU: {} ({} logical CPUs) · servers on CPU {:?}, load on CPU {:?} · median of {} runs each, alternating\n\n",
        utc_date(SystemTime::now()),
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        options.server_cpus.0,
        options.client_cpus.0,
        options.runs,
    );
    for server in &options.servers {
        let _ = writeln!(
            out,
            "- server `{}`: `{}`",
            server.name,
            words::join(&server.argv)
        );
    }
    for workload in &options.workloads {
        let _ = writeln!(
            out,
            "- workload `{}`: `shoal-bench {}`",
            workload.name,
            words::join(&workload.flags)
        );
    }
    out
}

fn markdown_table(options: &Options, cells: &[Vec<Medians>]) -> String {
    let mut out = String::from(
        "| workload | server | ops/sec | × first | avg ms | p50 ms | p90 ms | p99 ms | p99.9 ms | p99.99 ms | max ms | server CPU µs/op | × first | errors | lost |\n",
    );
    out.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (w, per_server) in cells.iter().enumerate() {
        let first = &per_server[0];
        for (s, cell) in per_server.iter().enumerate() {
            let ratio = |a: f64, b: f64| {
                if b > 0.0 {
                    format!("{:.2}", a / b)
                } else {
                    "n/a".into()
                }
            };
            let cpu = cell
                .cpu_us_per_op
                .map_or("n/a".into(), |c| format!("{c:.3}"));
            let cpu_ratio = match (cell.cpu_us_per_op, first.cpu_us_per_op) {
                (Some(a), Some(b)) => ratio(a, b),
                _ => "n/a".into(),
            };
            let mut row = format!(
                "| {} | {} | {:.0} | {} | {:.3} |",
                options.workloads[w].name,
                options.servers[s].name,
                cell.ops_per_sec,
                ratio(cell.ops_per_sec, first.ops_per_sec),
                cell.avg_ms
            );
            for p in &cell.percentiles_ms {
                let _ = write!(row, " {p:.3} |");
            }
            let _ = writeln!(
                row,
                " {:.3} | {cpu} | {cpu_ratio} | {} | {} |",
                cell.max_ms, cell.errors, cell.lost
            );
            out.push_str(&row);
        }
    }
    out
}

fn plot_data(options: &Options, cells: &[Vec<Medians>]) -> PlotData {
    let mut percentiles: Vec<String> = PERCENTILES
        .iter()
        .map(|p| format!("p{}", report::percentile_text(*p)))
        .collect();
    percentiles.push("max".into());
    PlotData {
        title: options.title.clone(),
        servers: options.servers.iter().map(|s| s.name.clone()).collect(),
        workloads: options.workloads.iter().map(|w| w.name.clone()).collect(),
        ops_per_sec: cells
            .iter()
            .map(|r| r.iter().map(|c| Some(c.ops_per_sec)).collect())
            .collect(),
        cpu_us_per_op: cells
            .iter()
            .map(|r| r.iter().map(|c| c.cpu_us_per_op).collect())
            .collect(),
        percentiles,
        latency_ms: cells
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| {
                        let mut values = c.percentiles_ms.clone();
                        values.push(c.max_ms);
                        values
                    })
                    .collect()
            })
            .collect(),
    }
}

fn summary_json(options: &Options, samples: &[Vec<Vec<Sample>>], cells: &[Vec<Medians>]) -> Value {
    let mut results = Vec::new();
    for (w, per_server) in cells.iter().enumerate() {
        for (s, cell) in per_server.iter().enumerate() {
            let runs: Vec<Value> = samples[w][s]
                .iter()
                .map(|r| json!({"ops_per_sec": r.ops_per_sec, "percentiles_ms": r.percentiles_ms, "max_ms": r.max_ms, "cpu_us_per_op": r.cpu_us_per_op}))
                .collect();
            results.push(json!({
                "workload": options.workloads[w].name,
                "server": options.servers[s].name,
                "median": {
                    "ops_per_sec": cell.ops_per_sec,
                    "avg_ms": cell.avg_ms,
                    "percentiles": PERCENTILES.iter().zip(&cell.percentiles_ms).map(|(p, v)| (report::json_percentile_key(*p), json!(v))).collect::<serde_json::Map<_, _>>(),
                    "max_ms": cell.max_ms,
                    "cpu_us_per_op": cell.cpu_us_per_op,
                },
                "errors": cell.errors,
                "lost": cell.lost,
                "runs": runs,
            }));
        }
    }
    json!({
        "date": utc_date(SystemTime::now()),
        "cpu": cpu_model(),
        "server_cpus": options.server_cpus.0,
        "client_cpus": options.client_cpus.0,
        "runs": options.runs,
        "servers": options.servers.iter().map(|s| json!({"name": s.name, "command": s.argv})).collect::<Vec<_>>(),
        "workloads": options.workloads.iter().map(|w| json!({"name": w.name, "flags": w.flags})).collect::<Vec<_>>(),
        "results": results,
    })
}

/// The first `model name` of /proc/cpuinfo.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// `YYYY-MM-DD` in UTC.
pub fn utc_date(time: SystemTime) -> String {
    let days = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// algorithm: shift to years starting in March, split into 400-year eras).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_specs_take_a_name_and_their_port() {
        let spec = server_spec("redis-server --port 7002 --save ''").unwrap();
        assert_eq!((spec.name.as_str(), spec.port), ("redis-server", 7002));
        assert_eq!(spec.argv, ["redis-server", "--port", "7002", "--save", ""]);
        let spec = server_spec("shoal=/x/shoal-server --port 7001 --threads 1").unwrap();
        assert_eq!(spec.name, "shoal");
        assert!(server_spec("redis-server --save ''").is_err());
    }

    #[test]
    fn workloads_may_not_set_what_compare_sets() {
        assert!(workload_spec("p1=-t 1 -c 5 --pipeline 1").is_ok());
        assert!(workload_spec("-p 6379 -t 1").is_err());
        assert!(workload_spec("--json-out-file=x -t 1").is_err());
        assert!(workload_spec("-p6379").is_err());
        assert!(workload_spec("--no-such-flag").is_err());
    }

    #[test]
    fn medians_are_taken_per_figure() {
        let sample = |ops: f64, cpu: Option<f64>| Sample {
            ops_per_sec: ops,
            percentiles_ms: vec![ops / 1000.0; PERCENTILES.len()],
            cpu_us_per_op: cpu,
            ..Sample::default()
        };
        let cell = medians(&[
            sample(3.0, Some(1.0)),
            sample(1.0, None),
            sample(2.0, Some(3.0)),
        ]);
        assert_eq!(cell.ops_per_sec, 2.0);
        assert_eq!(cell.percentiles_ms[0], 0.002);
        assert_eq!(cell.cpu_us_per_op, Some(2.0));
    }

    #[test]
    fn samples_are_read_from_the_run_json() {
        let document = json!({"ALL STATS": {
            "Totals": {"Ops/sec": 10.0, "Average Latency": 0.5, "Max Latency": 2.0, "Errors": 1,
                       "Connection Errors": 1, "Lost": 0,
                       "Percentile Latencies": {"p50.000": 0.4, "p90.000": 0.6, "p99.000": 1.0, "p99.900": 1.5, "p99.990": 1.9}},
            "Server": {"CPU usec/op": 3.5}}});
        let sample = sample(&document["ALL STATS"]).unwrap();
        assert_eq!(sample.percentiles_ms, [0.4, 0.6, 1.0, 1.5, 1.9]);
        assert_eq!((sample.errors, sample.cpu_us_per_op), (2, Some(3.5)));
    }

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_411), (2025, 11, 19));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
