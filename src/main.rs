//! `shoal-server`: a Redis-compatible key-value server, one worker per core.

mod client;
mod cmd;
mod config;
mod glob;
mod reactor;
mod server;
mod shard;
mod slot;
mod worker;

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-v" | "--version") => {
            println!(
                "shoal-server v={} (Redis {} compatible)",
                env!("CARGO_PKG_VERSION"),
                worker::REDIS_VERSION
            );
            return ExitCode::SUCCESS;
        }
        Some("-h" | "--help") => {
            println!("Usage: shoal-server [/path/to/redis.conf] [--option value ...]");
            println!("       shoal-server --port 7000 --threads 4 --save ''");
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let (config, warnings) = match config::Config::from_args(&args) {
        Ok(parsed) => parsed,
        Err(error) => {
            eprintln!("shoal-server: {error}");
            return ExitCode::from(1);
        }
    };
    for warning in warnings {
        eprintln!("shoal-server: warning: {warning}");
    }
    match server::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("shoal-server: {message}");
            ExitCode::from(1)
        }
    }
}
