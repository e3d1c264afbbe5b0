//! Helpers shared by the integration tests: finding (or building)
//! `shoal-server`, starting real servers on free ports, and stopping them
//! by PID however a test ends.

#![allow(dead_code)]

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use shoal_bench::args::{self, Config, Parsed};
use shoal_bench::conn::Setup;
use shoal_bench::process::{self, ChildGuard, Isolation};

/// How long a server may take to answer PING.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// A running server; dropping it stops the process.
pub struct Server {
    /// Stops the process on drop, also when a test panics.
    pub guard: ChildGuard,
    /// The port it listens on.
    pub port: u16,
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench-harness sits inside the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// `shoal-server` from the target directory (debug, then release), built
/// with `cargo build --bin shoal-server` if neither is there.
pub fn shoal_server() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let target = target_dir();
        for profile in ["debug", "release"] {
            let path = target.join(profile).join("shoal-server");
            if path.is_file() {
                return path;
            }
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--bin", "shoal-server"])
            .current_dir(workspace_root())
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building shoal-server failed");
        target.join("debug").join("shoal-server")
    })
    .clone()
}

/// Whether `redis-server` can be run; prints a note when not.
pub fn have_redis() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        eprintln!("note: redis-server is not on PATH; skipping the Redis half of this test");
    }
    found
}

#[path = "../../../tests/util/ports.rs"]
mod ports;
pub use ports::free_port;

/// Starts `argv` (a server command without its port) on a free port.
fn start(name: &str, argv: &[&str]) -> Server {
    let mut last_error = String::new();
    // A freed port can be taken by someone else before the server binds it.
    for _ in 0..3 {
        let port = free_port();
        let mut command: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
        command.extend(["--port".into(), port.to_string()]);
        let log_path = std::env::temp_dir().join(format!("shoal-bench-{name}-{port}.log"));
        let log = File::create(&log_path).expect("a log file");
        let isolation = Isolation {
            cpus: None,
            new_session: true,
            autogroup_boost: false,
        };
        let child = process::spawn(&command, &isolation, &log).expect("the server starts");
        let mut guard = ChildGuard::new(name, child, true);
        match wait_ready(port, &mut guard) {
            Ok(()) => return Server { guard, port },
            Err(error) => {
                last_error = format!(
                    "{error}: {}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                )
            }
        }
    }
    panic!("{name} did not start: {last_error}");
}

fn wait_ready(port: u16, guard: &mut ChildGuard) -> Result<(), String> {
    let config = config(port, "");
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while Instant::now() < deadline {
        if Setup::open(&config)
            .and_then(|mut s| s.call(&[b"PING"]))
            .is_ok()
        {
            return Ok(());
        }
        if let Some(status) = guard.try_wait() {
            return Err(format!("exited with {status}"));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err("no PING reply in time".into())
}

/// A `shoal-server` with one worker thread.
pub fn start_shoal() -> Server {
    let binary = shoal_server();
    let binary = binary.to_str().expect("a UTF-8 path");
    start(
        "shoal-server",
        &[binary, "--bind", "127.0.0.1", "--threads", "1"],
    )
}

/// A `redis-server` that saves nothing.
pub fn start_redis() -> Server {
    start(
        "redis-server",
        &[
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    )
}

/// Flags (split on blanks) aimed at 127.0.0.1:`port`.
pub fn config(port: u16, flags: &str) -> Config {
    let mut words: Vec<String> = flags.split_whitespace().map(String::from).collect();
    words.extend([
        "-s".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
    ]);
    match args::parse(&words) {
        Ok(Parsed::Run(config)) => *config,
        other => panic!("{flags:?} is not a run: {other:?}"),
    }
}

/// A stand-in server that answers `+OK` to every request, but once, after
/// `stall_after` requests, stops answering for `stall`. It counts requests
/// by their `*` array headers, which is enough for the templates the tests
/// send (keys and values hold no `*`). Returns its port.
pub fn stalling_server(stall_after: u64, stall: Duration) -> u16 {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").expect("an ephemeral port");
    let port = listener.local_addr().expect("a bound address").port();
    std::thread::spawn(move || {
        // One connection is served; the thread ends when the client leaves.
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut seen = 0u64;
        let mut stalled = false;
        let mut buf = [0u8; 4096];
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let requests = buf[..n].iter().filter(|&&b| b == b'*').count() as u64;
            seen += requests;
            if !stalled && seen > stall_after {
                stalled = true;
                std::thread::sleep(stall);
            }
            let replies = b"+OK\r\n".repeat(requests as usize);
            if stream.write_all(&replies).is_err() {
                return;
            }
        }
    });
    port
}
