//! The reactor: how a worker waits for its sockets. One small interface
//! with two backends, so the rest of the server does not know which runs:
//! `epoll` (through `mio`) everywhere, and `io_uring` where the kernel
//! offers it.
//!
//! The interface is completion-shaped so both fit: the worker learns that
//! a connection has bytes (`Readable`) and asks for them (`recv`), hands
//! over output (`send`, which may keep the buffer until it is written) and
//! learns when it may hand over more (`Writable`).

pub mod epoll;
pub mod uring;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::config::IoBackend;

/// How long accepting waits after a failure that is not the connection's
/// own (EMFILE, ENOMEM, ...), so a full descriptor table is not retried in
/// a busy loop; the connections wait in the listen backlog meanwhile.
pub const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// A connection's index inside its reactor; never reused while any
/// operation on the old connection can still complete.
pub type ConnId = usize;

/// Something the worker must act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A new connection was accepted.
    Accepted {
        /// Its id.
        conn: ConnId,
        /// The client's address.
        peer: SocketAddr,
        /// Our address it connected to.
        local: SocketAddr,
    },
    /// Bytes (or the end of the stream) are waiting: call `recv`.
    Readable {
        /// The connection.
        conn: ConnId,
    },
    /// Output handed to `send` was written: more may be handed over.
    Writable {
        /// The connection.
        conn: ConnId,
    },
}

/// Whether a connection is still open after `recv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvStatus {
    /// More may come.
    Open,
    /// The peer closed or the connection failed; close it.
    Closed,
}

/// Socket options for accepted connections.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnOptions {
    /// TCP keepalive idle time; 0 leaves keepalive off.
    pub keepalive_s: u64,
}

/// One worker's I/O.
pub trait Reactor: Send {
    /// The backend's name, for logs and INFO (`epoll`, `io_uring`).
    fn name(&self) -> &'static str;

    /// Waits until something happens or `timeout` passes (`None`: forever;
    /// zero: just look) and appends what happened to `events`. A wake-up
    /// from another worker ends the wait without an event.
    fn poll(&mut self, timeout: Option<Duration>, events: &mut Vec<Event>) -> io::Result<()>;

    /// Appends the bytes received on `conn` (at most about `limit` bytes
    /// this call) to `buf`.
    fn recv(&mut self, conn: ConnId, buf: &mut Vec<u8>, limit: usize) -> RecvStatus;

    /// Sends from the front of `out`, removing what the reactor has written
    /// or taken over; what stays in `out` is handed over after the next
    /// `Writable`. Err: the connection failed; close it.
    fn send(&mut self, conn: ConnId, out: &mut Vec<u8>) -> io::Result<()>;

    /// Bytes handed over by `send` and not yet written.
    fn unsent(&self, conn: ConnId) -> usize;

    /// Closes `conn` once operations in flight on it have finished; its id
    /// is not reused before then. No event for it follows.
    fn close(&mut self, conn: ConnId);

    /// Stops accepting connections (shutdown).
    fn stop_accepting(&mut self);
}

/// Wakes a worker blocked in its reactor from another thread.
pub type Waker = Arc<dyn shoal_actors::Wake>;

/// Creates one worker's reactor over its listening sockets, with the
/// backend the configuration asks for. `Auto` takes io_uring when this
/// kernel has everything the backend needs (it probes the ring's
/// operations) and falls back to epoll otherwise, saying why once.
pub fn create(
    backend: IoBackend,
    listeners: Vec<std::net::TcpListener>,
    options: ConnOptions,
) -> Result<(Box<dyn Reactor>, Waker), String> {
    match backend {
        IoBackend::Uring => {
            let (reactor, waker) =
                uring::UringReactor::new(listeners, options).map_err(|error| {
                    let why = uring::UringReactor::explain(&error);
                    format!("io-backend uring: io_uring is unavailable: {why}")
                })?;
            log_once(&format!(
                "io-backend uring: io_uring ring set up with {}",
                reactor.setup_description()
            ));
            Ok((Box::new(reactor), waker))
        }
        IoBackend::Epoll => create_epoll(listeners, options),
        IoBackend::Auto => {
            // The listeners go to whichever backend is built: keep a copy
            // (the same sockets) for the fallback.
            let spare = listeners
                .iter()
                .map(std::net::TcpListener::try_clone)
                .collect::<io::Result<Vec<_>>>()
                .map_err(|error| format!("duplicating listening sockets: {error}"))?;
            match uring::UringReactor::new(listeners, options) {
                Ok((reactor, waker)) => {
                    log_once(&format!(
                        "io-backend auto: the io_uring probe succeeded ({}); using io_uring",
                        reactor.setup_description()
                    ));
                    Ok((Box::new(reactor), waker))
                }
                Err(error) => {
                    let why = uring::UringReactor::explain(&error);
                    log_once(&format!(
                        "io-backend auto: io_uring is unavailable ({why}); using epoll"
                    ));
                    create_epoll(spare, options)
                }
            }
        }
    }
}

fn create_epoll(
    listeners: Vec<std::net::TcpListener>,
    options: ConnOptions,
) -> Result<(Box<dyn Reactor>, Waker), String> {
    let (reactor, waker) = epoll::EpollReactor::new(listeners, options)
        .map_err(|error| format!("creating the epoll reactor: {error}"))?;
    Ok((Box::new(reactor), waker))
}

/// Logs a backend choice once per process: every worker makes the same
/// one, and a line per worker would only repeat it (a worker that chose
/// differently still gets its own line).
fn log_once(line: &str) {
    static LOGGED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut logged) = LOGGED.lock() else {
        return;
    };
    if !logged.iter().any(|seen| seen == line) {
        eprintln!("shoal-server: {line}");
        logged.push(line.to_owned());
    }
}
