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
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

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
            return port;
        }
    }
    panic!("no free port in {TEST_PORTS:?}");
}
