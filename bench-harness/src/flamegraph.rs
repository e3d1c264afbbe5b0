//! `shoal-bench flamegraph`: `perf script` output in, flamegraph SVG out,
//! through the `inferno` crate, so profiling needs no extra install.
//!
//! ```text
//! perf script -i perf.data | shoal-bench flamegraph --title shoal-server > flame.svg
//! ```

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};

use inferno::collapse::perf::{Folder, Options as CollapseOptions};
use inferno::collapse::Collapse;
use inferno::flamegraph::{self, Options as FlameOptions};

use crate::error::{BenchError, Result};

const USAGE: &str = "Usage: shoal-bench flamegraph [--input FILE] [--output FILE] [--title TEXT]
Reads `perf script` output (stdin by default), writes a flamegraph SVG (stdout by default).
";

/// Runs the subcommand.
pub fn main(args: &[String]) -> Result<()> {
    let mut input: Option<String> = None;
    let mut output: Option<String> = None;
    let mut title = String::from("Flame Graph");
    let mut at = 0;
    while at < args.len() {
        let value = || {
            args.get(at + 1)
                .cloned()
                .ok_or_else(|| BenchError::usage(format!("{} needs a value", args[at])))
        };
        match args[at].as_str() {
            "--input" | "-i" => input = Some(value()?),
            "--output" | "-o" => output = Some(value()?),
            "--title" => title = value()?,
            "--help" | "-h" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => {
                return Err(BenchError::usage(format!(
                    "flamegraph: unknown flag {other}\n{USAGE}"
                )))
            }
        }
        at += 2;
    }
    let reader: Box<dyn Read> = match &input {
        Some(path) => {
            Box::new(File::open(path).map_err(|e| BenchError::io(format!("opening {path}"), e))?)
        }
        None => Box::new(io::stdin()),
    };
    let writer: Box<dyn Write> = match &output {
        Some(path) => {
            Box::new(File::create(path).map_err(|e| BenchError::io(format!("creating {path}"), e))?)
        }
        None => Box::new(io::stdout()),
    };
    render(BufReader::new(reader), BufWriter::new(writer), &title)
}

/// Collapses `perf script` text into folded stacks, then draws them.
pub fn render(perf_script: impl io::BufRead, svg: impl Write, title: &str) -> Result<()> {
    let mut folded = Vec::new();
    Folder::from(CollapseOptions::default())
        .collapse(perf_script, &mut folded)
        .map_err(|e| BenchError::io("collapsing perf script output", e))?;
    if folded.is_empty() {
        return Err(BenchError::protocol(
            "no stacks in the perf script output (was perf record run with -g?)",
        ));
    }
    let text = String::from_utf8_lossy(&folded);
    let mut options = FlameOptions::default();
    options.title = title.to_string();
    flamegraph::from_lines(&mut options, text.lines(), svg)
        .map_err(|e| BenchError::io("drawing the flamegraph", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_script_stacks_become_an_svg() {
        let script = "shoal-server 100 [000] 1.000001: 250000 cpu-clock:\n\
                      \tffffffff81000001 do_syscall_64+0x1 ([kernel.kallsyms])\n\
                      \t55555555a001 shoal::worker::run+0x11 (/bin/shoal-server)\n\
                      \t55555555b001 main+0x21 (/bin/shoal-server)\n\n\
                      shoal-server 100 [000] 1.000251: 250000 cpu-clock:\n\
                      \t55555555a001 shoal::worker::run+0x11 (/bin/shoal-server)\n\
                      \t55555555b001 main+0x21 (/bin/shoal-server)\n\n";
        let mut svg = Vec::new();
        render(script.as_bytes(), &mut svg, "test").unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("shoal::worker::run"));
    }

    #[test]
    fn empty_input_is_an_error_not_an_empty_graph() {
        assert!(render(&b""[..], Vec::new(), "t").is_err());
    }
}
