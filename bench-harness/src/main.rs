//! `shoal-bench`: a memtier_benchmark-compatible load generator
//! (`shoal-bench -s HOST -p PORT …`), plus `shoal-bench bank`,
//! `shoal-bench compare` and `shoal-bench flamegraph`.

use std::io::Write;
use std::process::ExitCode;

use shoal_bench::args::{self, Config, Parsed};
use shoal_bench::error::{BenchError, ErrorKind, Result};
use shoal_bench::{bank, compare, flamegraph, report, runner, signals};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("bank") => bank::main(&args[1..]),
        Some("compare") => compare::main(&args[1..]),
        Some("flamegraph") => flamegraph::main(&args[1..]),
        _ => bench(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("shoal-bench: {error}");
            match error.kind {
                ErrorKind::Usage => ExitCode::from(2),
                ErrorKind::Interrupted => ExitCode::from(130),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

fn bench(args: &[String]) -> Result<()> {
    let config = match args::parse(args)? {
        Parsed::Help => {
            print!("{}", args::usage());
            return Ok(());
        }
        Parsed::Version => {
            println!("shoal-bench {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Parsed::Run(config) => *config,
    };
    signals::install();
    if config.show_config {
        eprintln!("{config:#?}");
    }
    let results = runner::run_benchmark(&config)?;
    let (text, sections) = render(&config, &results);
    match &config.out_file {
        Some(path) => std::fs::write(path, &text)
            .map_err(|e| BenchError::io(format!("writing {}", path.display()), e))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| BenchError::io("writing the report", e))?;
        }
    }
    if let Some(path) = &config.json_out_file {
        let document = report::json_document(&config, sections);
        let text = serde_json::to_string_pretty(&document)
            .map_err(|e| BenchError::protocol(format!("encoding JSON: {e}")))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| BenchError::io(format!("writing {}", path.display()), e))?;
    }
    if results.iter().any(|r| r.interrupted) {
        return Err(BenchError::interrupted(
            "interrupted: the figures above cover the time run",
        ));
    }
    Ok(())
}

/// The text report and the JSON sections, titled as memtier titles them.
fn render(
    config: &Config,
    results: &[runner::RunResult],
) -> (String, Vec<(String, serde_json::Value)>) {
    let mut text = String::new();
    let mut sections = Vec::new();
    let mut add = |title: String, result: &runner::RunResult, text: &mut String| {
        text.push_str(&report::table(result, &config.percentiles, &title));
        text.push_str(&report::summary(result));
        if !config.hide_histogram {
            text.push_str(&report::histogram(result));
        }
        sections.push((title, report::json_stats(result, &config.percentiles)));
    };
    if results.len() == 1 {
        add("ALL STATS".into(), &results[0], &mut text);
        return (text, sections);
    }
    if config.print_all_runs {
        for (index, result) in results.iter().enumerate() {
            add(format!("RUN #{} RESULTS", index + 1), result, &mut text);
        }
    }
    let by_rate = |a: &&runner::RunResult, b: &&runner::RunResult| {
        a.ops_per_sec().total_cmp(&b.ops_per_sec())
    };
    if let Some(best) = results.iter().max_by(by_rate) {
        add("BEST RUN RESULTS".into(), best, &mut text);
    }
    if let Some(worst) = results.iter().min_by(by_rate) {
        add("WORST RUN RESULTS".into(), worst, &mut text);
    }
    if let Some(all) = report::aggregate(results) {
        add(
            format!("AGGREGATED AVERAGE RESULTS ({} runs)", results.len()),
            &all,
            &mut text,
        );
    }
    (text, sections)
}
