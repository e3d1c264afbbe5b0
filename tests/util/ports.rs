//! Ports for the servers tests start, reserved across every test process.
//!
//! Test binaries run in parallel, and a port that is merely free when one
//! picks it can be picked by another before its server binds it: one test
//! then talks to the other's server, or to nobody once that server exits.
//! Each port handed out here is reserved with an advisory lock on a file
//! named after it, held until the process exits (the kernel drops it even
//! when the process dies), so no two test processes ever hold one port.
//! Shared by the workspace's test crates through `#[path]`.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Ports handed to test servers: below Linux's ephemeral range
/// (32768–60999), so no client connection's local port sits on one.
const TEST_PORTS: std::ops::Range<u16> = 20000..32000;

/// The lock files this process holds; they stay open until it exits.
static HELD: Mutex<Vec<File>> = Mutex::new(Vec::new());

/// The directory holding one lock file per reserved port.
fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("shoal-test-ports")
}

/// Reserves `port` for this process if no other holds it.
fn reserve(port: u16) -> bool {
    let path = lock_dir().join(format!("{port}.lock"));
    let Ok(file) = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
    else {
        return false;
    };
    // SAFETY: flock(2) on a descriptor this function owns; it only reads
    // the descriptor and the flags.
    let locked = unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(&file),
            libc::LOCK_EX | libc::LOCK_NB,
        )
    } == 0;
    if !locked {
        return false;
    }
    HELD.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(file);
    true
}

/// A port reserved for this process that nothing listens on now. Ports
/// are tried in turn from a point derived from the PID, so parallel test
/// processes mostly start far apart; the lock settles any overlap.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    std::fs::create_dir_all(lock_dir()).expect("a directory for port lock files");
    let span = u32::from(TEST_PORTS.end - TEST_PORTS.start);
    let base = std::process::id().wrapping_mul(7919) % span;
    for _ in 0..span {
        let offset = (base + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = TEST_PORTS.start + offset as u16;
        // Check the listener first: a port some other program uses is
        // skipped without leaving a lock behind.
        if TcpListener::bind(("127.0.0.1", port)).is_ok() && reserve(port) {
            // A port whose earlier connections the kernel still remembers
            // (TIME_WAIT, FIN_WAIT2 after a killed server) can reset a new
            // client that happens to reuse one's client port: leave it.
            if sockets_on_port(port) == "none" {
                return port;
            }
        }
    }
    panic!("no free port in {TEST_PORTS:?}");
}

/// The sockets on 127.0.0.1 using `port` at either end, from
/// `/proc/net/tcp`: each one's state and the other end's port.
pub fn sockets_on_port(port: u16) -> String {
    const STATES: [&str; 12] = [
        "?",
        "ESTABLISHED",
        "SYN_SENT",
        "SYN_RECV",
        "FIN_WAIT1",
        "FIN_WAIT2",
        "TIME_WAIT",
        "CLOSE",
        "CLOSE_WAIT",
        "LAST_ACK",
        "LISTEN",
        "CLOSING",
    ];
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return "unknown (no /proc/net/tcp)".into();
    };
    let port_of = |address: &str| {
        address
            .split_once(':')
            .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok())
    };
    let mut found = Vec::new();
    for line in table.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(local), Some(remote), Some(state)) =
            (fields.get(1), fields.get(2), fields.get(3))
        else {
            continue;
        };
        let state = usize::from_str_radix(state, 16)
            .ok()
            .and_then(|code| STATES.get(code))
            .unwrap_or(&"?");
        let (local, remote) = (port_of(local), port_of(remote));
        if local == Some(port) {
            found.push(format!("{state} (peer port {})", remote.unwrap_or(0)));
        } else if remote == Some(port) {
            found.push(format!("{state} (a client on port {})", local.unwrap_or(0)));
        }
    }
    if found.is_empty() {
        "none".into()
    } else {
        found.join(", ")
    }
}

/// Connect attempts before a refused connection fails a test.
const CONNECT_ATTEMPTS: usize = 5;
/// The pause between refused connect attempts.
const CONNECT_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// A TCP connection to 127.0.0.1:`port`, a refusal tried again as
/// [`retry_refused`] does.
pub fn try_connect_stream(port: u16) -> std::io::Result<TcpStream> {
    retry_refused(
        port,
        || TcpStream::connect(("127.0.0.1", port)),
        |error| error.kind() == ErrorKind::ConnectionRefused,
    )
}

/// Runs `connect` (any client's way of connecting to `port`) and, while it
/// fails with what `refused` calls a refusal, runs it again a few times: a
/// connect to a listening test server has been refused, rarely, once the
/// port had served earlier connections. Each refusal is reported with the
/// sockets the kernel then held on the port, so a server that really
/// stopped listening still fails, with the evidence.
pub fn retry_refused<T, E>(
    port: u16,
    mut connect: impl FnMut() -> Result<T, E>,
    refused: impl Fn(&E) -> bool,
) -> Result<T, E> {
    let mut attempt = 1;
    loop {
        match connect() {
            Err(error) if refused(&error) => {
                let sockets = sockets_on_port(port);
                eprintln!(
                    "connect to port {port} refused (attempt {attempt}); its sockets: {sockets}"
                );
                if attempt == CONNECT_ATTEMPTS {
                    return Err(error);
                }
                attempt += 1;
                std::thread::sleep(CONNECT_RETRY_PAUSE);
            }
            result => return result,
        }
    }
}
