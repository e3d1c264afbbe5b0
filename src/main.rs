//! `shoal-server`: a Redis-compatible key-value server, one worker per core.

mod client;
mod cmd;
mod config;
mod fd_limit;
mod glob;
mod reactor;
mod server;
mod shard;
mod slot;
mod stopwatch;
mod types;
mod worker;

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v3's `mi_option_purge_delay` (its position in `mi_option_e`;
/// the Rust bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Returns freed memory to the OS promptly: with mimalloc's default delay a
/// keyspace that grew by doubling its tables keeps the old tables' pages,
/// which showed as 45% more RSS than Redis for 1,000,000 keys. (The arena
/// commit default is compiled in: see .cargo/config.toml.)
fn tune_allocator() {
    // SAFETY: mi_option_set only stores an option value, read by mimalloc
    // each time it considers purging; the option exists in v3, which this
    // crate builds.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

/// A panic anywhere stops the whole server, as a Redis crash does: a
/// worker thread that died alone would leave its listener closed and its
/// clients reset while the rest answers, a half-alive server no
/// supervisor restarts.
fn abort_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        eprintln!("shoal-server: a thread panicked; stopping the server");
        std::process::abort();
    }));
}

fn main() -> ExitCode {
    tune_allocator();
    abort_on_panic();
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
