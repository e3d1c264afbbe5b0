//! Shared helpers for integration tests: start real servers on free ports
//! (killed by PID when dropped) and talk RESP to them over TCP.
#![allow(dead_code)]

pub mod diff;
#[path = "ports.rs"]
mod ports;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shoal_protocol::{encode_request, Reply, ReplyParser};

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a test waits for one reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// A server process started by a test, killed and reaped on drop.
pub struct ServerProcess {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    /// Where its standard error goes: shown if it dies on its own.
    log: std::path::PathBuf,
}

pub use ports::free_port;
#[allow(unused_imports)]
pub use ports::{retry_refused, sockets_on_port, try_connect_stream};

/// Generates `name::threads_1` and `name::threads_4`, each calling `body`
/// with that worker count.
#[allow(unused_macros)]
macro_rules! with_1_and_4_threads {
    ($($name:ident => $body:ident;)*) => {$(
        mod $name {
            #[test]
            fn threads_1() {
                super::$body(1)
            }

            #[test]
            fn threads_4() {
                super::$body(4)
            }
        }
    )*};
}
#[allow(unused_imports)]
pub(crate) use with_1_and_4_threads;

/// How many ports a server is tried on before a test gives up: a port some
/// program outside the tests takes between the check and the bind makes
/// the server exit, and it is started again on the next one.
const START_ATTEMPTS: usize = 5;

impl ServerProcess {
    /// Starts `program` with the arguments `args(port)` builds, on a free
    /// port, trying again on another when the process exits before it
    /// listens (its port was taken meanwhile).
    /// With `open_files`, the process starts under that `RLIMIT_NOFILE`
    /// (soft and hard), as after `ulimit -n`.
    fn spawn(
        program: &str,
        open_files: Option<u64>,
        args: impl Fn(&str) -> Vec<String>,
    ) -> ServerProcess {
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let args = args(&port.to_string());
            if let Some(server) = ServerProcess::spawn_on(program, &args, port, open_files) {
                return server;
            }
        }
        panic!("{program} exited before listening, {START_ATTEMPTS} times");
    }

    /// Starts `program` with `args`, which make it listen on `port`; `None`
    /// if it exits before it listens.
    fn spawn_on<S: AsRef<std::ffi::OsStr>>(
        program: &str,
        args: &[S],
        port: u16,
        open_files: Option<u64>,
    ) -> Option<ServerProcess> {
        let log = std::env::temp_dir().join(format!(
            "shoal-test-server-{}-{port}.log",
            std::process::id()
        ));
        let stderr = std::fs::File::create(&log).map_or_else(|_| Stdio::null(), Stdio::from);
        let mut command = Command::new(program);
        command.args(args).stdout(Stdio::null()).stderr(stderr);
        if let Some(limit) = open_files {
            let limit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            // SAFETY: the closure runs in the forked child before exec and
            // calls only setrlimit, which is async-signal-safe, on a value
            // it owns.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {program}: {error}"));
        let mut server = ServerProcess { child, port, log };
        server.wait_listening(program).then_some(server)
    }

    /// Waits until the server accepts connections; false if it exited.
    /// shoal-server must also have said it is ready: it prints that once
    /// every worker's listener exists, while one listener is enough to
    /// answer the first connection.
    fn wait_listening(&mut self, program: &str) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        let says_ready = program.ends_with("shoal-server");
        loop {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return false;
            }
            let ready = !says_ready
                || std::fs::read_to_string(&self.log)
                    .is_ok_and(|said| said.contains("ready to accept connections"));
            if ready && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                // The port is reserved for this process, so what answers
                // is the child, unless it exited after all.
                return matches!(self.child.try_wait(), Ok(None));
            }
            assert!(
                Instant::now() < deadline,
                "{program} did not listen on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the `shoal-server` built with this test on a free port, with
    /// `--io-backend $SHOAL_TEST_IO_BACKEND` when that variable is set (so
    /// the whole suite can run against each reactor backend).
    pub fn shoal(extra: &[&str]) -> ServerProcess {
        ServerProcess::shoal_with_open_files(None, extra)
    }

    /// [`ServerProcess::shoal`] under an `RLIMIT_NOFILE` of `open_files`.
    pub fn shoal_with_open_files(open_files: Option<u64>, extra: &[&str]) -> ServerProcess {
        let backend = std::env::var("SHOAL_TEST_IO_BACKEND").ok();
        ServerProcess::spawn(env!("CARGO_BIN_EXE_shoal-server"), open_files, |port| {
            let mut args = vec!["--port", port, "--bind", "127.0.0.1"];
            if let Some(backend) = backend.as_deref() {
                args.extend_from_slice(&["--io-backend", backend]);
            }
            args.extend_from_slice(extra);
            args.into_iter().map(String::from).collect()
        })
    }

    /// Starts Debian's `redis-server` (persistence off) on a free port.
    pub fn redis(extra: &[&str]) -> ServerProcess {
        ServerProcess::redis_with_open_files(None, extra)
    }

    /// [`ServerProcess::redis`] under an `RLIMIT_NOFILE` of `open_files`.
    pub fn redis_with_open_files(open_files: Option<u64>, extra: &[&str]) -> ServerProcess {
        ServerProcess::spawn("redis-server", open_files, |port| {
            let mut args = vec![
                "--port",
                port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ];
            args.extend_from_slice(extra);
            args.into_iter().map(String::from).collect()
        })
    }

    /// A new client connection.
    pub fn connect(&self) -> Client {
        Client::connect(self.port)
    }

    /// The PID, for reading its CPU time or sending signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // A server that died on its own (a crash) says why in the test's
        // output; one that is still running is stopped here.
        if let Ok(Some(status)) = self.child.try_wait() {
            if !status.success() {
                let said = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: String = said
                    .chars()
                    .rev()
                    .take(4000)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                eprintln!(
                    "the server on port {} exited by itself ({status}); its last output:\n{tail}",
                    self.port
                );
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// What waiting for one reply found.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadOutcome {
    /// A complete reply.
    Reply(Reply),
    /// The server closed the connection.
    Closed,
    /// Nothing complete arrived in time.
    TimedOut,
}

/// A RESP client over one TCP connection.
pub struct Client {
    stream: TcpStream,
    received: Vec<u8>,
}

impl Client {
    /// Connects to 127.0.0.1:`port`, trying again when the connection is
    /// refused (see [`try_connect_stream`]).
    pub fn connect(port: u16) -> Client {
        let stream = try_connect_stream(port)
            .unwrap_or_else(|error| panic!("connect to port {port}: {error}"));
        Client::over(stream)
    }

    /// A client over a connected stream.
    pub fn over(stream: TcpStream) -> Client {
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .expect("read timeout");
        // A server that stops reading fails the test instead of hanging it.
        stream
            .set_write_timeout(Some(REPLY_TIMEOUT))
            .expect("write timeout");
        stream.set_nodelay(true).expect("nodelay");
        Client {
            stream,
            received: Vec::new(),
        }
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.try_send_raw(bytes).expect("send");
    }

    /// Sends raw bytes, reporting a failed write (the server closed the
    /// connection while they were still going out) instead of panicking.
    pub fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends one command as a RESP array, reporting a failed write (the
    /// server closed the connection) instead of panicking.
    pub fn try_send(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        let mut wire = Vec::new();
        encode_request(args, &mut wire);
        self.stream.write_all(&wire)
    }

    /// Sends one command as a RESP array.
    pub fn send(&mut self, args: &[&[u8]]) {
        let mut wire = Vec::new();
        encode_request(args, &mut wire);
        self.send_raw(&wire);
    }

    /// Reads the next reply; `None` if the server closed the connection.
    pub fn read_reply(&mut self) -> Option<Reply> {
        match self.read_reply_within(REPLY_TIMEOUT) {
            ReadOutcome::Reply(reply) => Some(reply),
            ReadOutcome::Closed => None,
            ReadOutcome::TimedOut => panic!("no reply within {REPLY_TIMEOUT:?}"),
        }
    }

    /// Reads the next reply, reporting a close or a silence longer than
    /// `timeout` (at least one socket read timeout, `REPLY_TIMEOUT`, when the
    /// server sends nothing at all) instead of panicking.
    pub fn read_reply_within(&mut self, timeout: Duration) -> ReadOutcome {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some((reply, used)) = ReplyParser::default()
                .parse(&self.received)
                .expect("valid RESP")
            {
                self.received.drain(..used);
                return ReadOutcome::Reply(reply);
            }
            if Instant::now() >= deadline {
                return ReadOutcome::TimedOut;
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return ReadOutcome::Closed,
                Ok(read) => self.received.extend_from_slice(&chunk[..read]),
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) if error.kind() == ErrorKind::ConnectionReset => {
                    return ReadOutcome::Closed
                }
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    return ReadOutcome::TimedOut
                }
                Err(error) => panic!("reading a reply: {error}"),
            }
        }
    }

    /// Sends one command and returns its reply.
    pub fn call(&mut self, args: &[&str]) -> Reply {
        let args: Vec<&[u8]> = args.iter().map(|arg| arg.as_bytes()).collect();
        self.send(&args);
        self.read_reply().expect("the server closed the connection")
    }

    /// Whether the server closed the connection (reads until EOF or timeout).
    pub fn is_closed(&mut self) -> bool {
        self.read_reply().is_none()
    }
}

// ---------------------------------------------------------------------------
// Process lifetime: exit status, signals, start-up failures, memory
// ---------------------------------------------------------------------------

/// How a server run that was expected to stop by itself ended.
#[derive(Debug)]
pub struct Exited {
    /// Its exit status.
    pub status: std::process::ExitStatus,
    /// What it wrote to standard error.
    pub stderr: String,
}

/// Runs `shoal-server` with exactly `args` (no port or bind added) and
/// waits up to `timeout` for it to exit; a server still running then is
/// killed and the test fails.
pub fn shoal_exit(args: &[&str], timeout: Duration) -> Exited {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shoal-server"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start shoal-server");
    let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
    // Read standard error on a thread so a chatty server cannot block on a
    // full pipe while we wait for it.
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("shoal-server {args:?} still ran after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = reader.join().expect("the stderr reader does not panic");
    Exited { status, stderr }
}

impl ServerProcess {
    /// Starts `shoal-server` with a configuration file as its first
    /// argument, then `extra`; `port` is the port the file sets.
    pub fn shoal_with_config_file(
        path: &std::path::Path,
        port: u16,
        extra: &[&str],
    ) -> ServerProcess {
        let path_text = path.to_str().expect("a UTF-8 temporary path");
        let backend = std::env::var("SHOAL_TEST_IO_BACKEND").ok();
        let mut args = vec![path_text];
        // After the file, so the backend under test wins, as in `shoal`.
        if let Some(backend) = backend.as_deref() {
            args.extend_from_slice(&["--io-backend", backend]);
        }
        args.extend_from_slice(extra);
        ServerProcess::spawn_on(env!("CARGO_BIN_EXE_shoal-server"), &args, port, None)
            .unwrap_or_else(|| panic!("shoal-server {args:?} exited before listening"))
    }

    /// Sends `signal` (`libc::SIGTERM`, ...) to the process.
    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.pid()).expect("a PID fits pid_t");
        // SAFETY: kill(2) on the PID of a child we have not reaped yet, so
        // the PID cannot have been reused by another process.
        let result = unsafe { libc::kill(pid, signal) };
        assert_eq!(result, 0, "kill({pid}, {signal}) failed");
    }

    /// Waits up to `timeout` for the process to exit by itself: its exit
    /// status, or `None` if it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The process's peak resident memory (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status")
    }
}

/// A file in the temporary directory, removed on drop.
pub struct TempFile {
    /// Where it is.
    pub path: std::path::PathBuf,
}

impl TempFile {
    /// Writes `contents` to a new file whose name includes `tag`, this
    /// process's id and a counter, so parallel tests never share one.
    pub fn new(tag: &str, contents: &str) -> TempFile {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "shoal-test-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, contents).expect("write a temporary file");
        TempFile { path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

// ---------------------------------------------------------------------------
// Keys and shards
// ---------------------------------------------------------------------------

/// The shard `shoal-server --threads shards` keeps `key` on: CRC16-XMODEM
/// of the key mod 16384 (no hash tags in keys the tests use), then slot
/// ranges split evenly between shards, as `src/slot.rs` does.
pub fn key_shard(key: &[u8], shards: usize) -> usize {
    const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);
    assert!(
        !key.contains(&b'{'),
        "key_shard does not model hash tags: {key:?}"
    );
    let slot = usize::from(CRC16.checksum(key) % 16384);
    slot * shards / 16384
}

/// The first keys named `{prefix}{n}` (n = 0, 1, ...) that land on
/// different shards, one per shard, `count` of them (`count <= shards`).
pub fn keys_on_distinct_shards(prefix: &str, count: usize, shards: usize) -> Vec<String> {
    assert!(
        count <= shards,
        "cannot spread {count} keys over {shards} shards"
    );
    let mut seen = vec![false; shards];
    let mut keys = Vec::new();
    for n in 0.. {
        let key = format!("{prefix}{n}");
        let shard = key_shard(key.as_bytes(), shards);
        if !seen[shard] {
            seen[shard] = true;
            keys.push(key);
            if keys.len() == count {
                break;
            }
        }
    }
    keys
}

// ---------------------------------------------------------------------------
// More client operations
// ---------------------------------------------------------------------------

impl Client {
    /// Sends every command, then reads every reply: one pipelined round trip.
    pub fn pipeline(&mut self, commands: &[Vec<String>]) -> Vec<Reply> {
        let mut wire = Vec::new();
        for command in commands {
            let args: Vec<&[u8]> = command.iter().map(|arg| arg.as_bytes()).collect();
            encode_request(&args, &mut wire);
        }
        self.send_raw(&wire);
        commands
            .iter()
            .map(|_| self.read_reply().expect("the server closed the connection"))
            .collect()
    }

    /// Closes the connection with a TCP reset (SO_LINGER 0) instead of a FIN.
    pub fn reset(self) {
        socket2::SockRef::from(&self.stream)
            .set_linger(Some(Duration::ZERO))
            .expect("set SO_LINGER");
        drop(self);
    }

    /// Half-closes: the server reads end of input, replies can still come.
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
    }

    /// Reads and discards bytes until the server closes the connection:
    /// the number of bytes read, or `None` if it still was open after
    /// `timeout`.
    pub fn drain_until_closed(&mut self, timeout: Duration) -> Option<usize> {
        let deadline = Instant::now() + timeout;
        let mut total = self.received.len();
        self.received.clear();
        let mut chunk = vec![0u8; 256 * 1024];
        let closed = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break false;
            }
            self.stream
                .set_read_timeout(Some(left.min(REPLY_TIMEOUT)))
                .expect("read timeout");
            match self.stream.read(&mut chunk) {
                Ok(0) => break true,
                Ok(read) => total += read,
                Err(error) if error.kind() == ErrorKind::ConnectionReset => break true,
                Err(error)
                    if matches!(
                        error.kind(),
                        ErrorKind::Interrupted | ErrorKind::WouldBlock | ErrorKind::TimedOut
                    ) => {}
                Err(error) => panic!("reading until closed: {error}"),
            }
        };
        self.stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .expect("read timeout");
        closed.then_some(total)
    }

    /// Whether nothing arrives within `wait` and the connection stays open.
    pub fn is_silent_for(&mut self, wait: Duration) -> bool {
        if !self.received.is_empty() {
            return false;
        }
        self.stream
            .set_read_timeout(Some(wait))
            .expect("read timeout");
        let mut byte = [0u8; 1];
        let silent = match self.stream.read(&mut byte) {
            Ok(0) => false,
            Ok(_) => {
                self.received.push(byte[0]);
                false
            }
            Err(error) => matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        };
        self.stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .expect("read timeout");
        silent
    }
}

/// The `field:value` line of an INFO reply's text, as a number.
pub fn info_field(reply: &Reply, field: &str) -> Option<i64> {
    let Reply::Bulk(text) = reply else {
        return None;
    };
    let text = String::from_utf8_lossy(text);
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.trim().parse().ok())
}

/// A reply as text for assertion messages: bytes shown as (lossy) UTF-8.
pub fn show(reply: &Reply) -> String {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    match reply {
        Reply::Simple(bytes) => format!("+{}", text(bytes)),
        Reply::Error(bytes) => format!("-{}", text(bytes)),
        Reply::Bulk(bytes) => format!("{:?}", text(bytes)),
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
            let items: Vec<String> = items.iter().map(show).collect();
            format!("[{}]", items.join(", "))
        }
        other => format!("{other:?}"),
    }
}
