//! `shoal-server`: a Redis-compatible key-value server, one worker per core.

mod client;
mod cmd;
mod config;
mod glob;
mod server;
mod shard;
mod slot;
mod worker;

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
