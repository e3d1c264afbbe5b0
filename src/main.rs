//! `shoal-server`: a Redis-compatible key-value server.
//!
//! For now a small thread-per-connection server over `shoal-protocol` that
//! answers the connection commands; the worker-per-core reactor, shards and
//! data commands described in DESIGN.md are being built on top of it.

mod conn;

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;

/// Where to listen, from `--port` and `--bind` as `redis-server` takes them.
struct Options {
    port: u16,
    bind: Vec<String>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        port: 6379,
        bind: vec!["127.0.0.1".into(), "::1".into()],
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("option '{flag}' needs a value"))
        };
        match flag.as_str() {
            "--port" => {
                let text = value()?;
                options.port = text.parse().map_err(|_| format!("invalid port '{text}'"))?;
            }
            "--bind" => options.bind = value()?.split_whitespace().map(str::to_owned).collect(),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_options(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("shoal-server: {message}");
            return ExitCode::from(1);
        }
    };
    let mut listeners = Vec::new();
    for host in &options.bind {
        let address: SocketAddr = match format!("{host}:{}", options.port)
            .parse()
            .or_else(|_| format!("[{host}]:{}", options.port).parse::<SocketAddr>())
        {
            Ok(address) => address,
            Err(_) => {
                eprintln!("shoal-server: invalid bind address '{host}'");
                return ExitCode::from(1);
            }
        };
        match TcpListener::bind(address) {
            Ok(listener) => listeners.push(listener),
            // ::1 is missing on hosts without IPv6; Redis carries on likewise.
            Err(error) if address.is_ipv6() && !listeners.is_empty() => {
                eprintln!("shoal-server: not listening on {address}: {error}");
            }
            Err(error) => {
                eprintln!("shoal-server: cannot listen on {address}: {error}");
                return ExitCode::from(1);
            }
        }
    }
    eprintln!(
        "shoal-server: ready to accept connections on port {}",
        options.port
    );
    let mut accept_threads = Vec::new();
    for listener in listeners {
        accept_threads.push(std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || conn::serve(stream));
            }
        }));
    }
    for thread in accept_threads {
        let _ = thread.join();
    }
    ExitCode::SUCCESS
}
