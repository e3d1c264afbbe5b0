//! The epoll backend, through `mio`: readiness turned into the reactor's
//! completion-shaped interface. Reads and writes happen in `recv` and
//! `send`, straight between the socket and the worker's buffers.

use std::io::{self, ErrorKind, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use super::{ConnId, ConnOptions, Event, Reactor, RecvStatus, Waker, ACCEPT_RETRY};

/// The wake-up's token.
const WAKER: Token = Token(0);
/// Listening sockets' tokens start here.
const LISTENER_BASE: usize = 1;
/// Most listening sockets (one per bind address).
pub const LISTENERS_MAX: usize = 16;
/// Connection tokens are their id plus this.
const CONN_BASE: usize = LISTENER_BASE + LISTENERS_MAX;
/// Bytes asked of one `read` call.
const READ_CHUNK_BYTES: usize = 16 * 1024;
/// Readiness events taken per wait.
const EVENTS_MAX: usize = 1024;

struct MioWake(mio::Waker);

impl shoal_actors::Wake for MioWake {
    fn wake(&self) {
        // A failed wake leaves the worker to its next timeout.
        let _ = self.0.wake();
    }
}

struct Conn {
    stream: TcpStream,
    /// The peer shut its side (or the socket failed): read to the end.
    hung_up: bool,
    /// Whether WRITABLE interest is registered (output backed up).
    want_write: bool,
}

/// The epoll reactor of one worker.
pub struct EpollReactor {
    poll: Poll,
    events: Events,
    listeners: Vec<TcpListener>,
    /// When to accept again after a failure (EMFILE, ...): epoll is
    /// edge-triggered, so the connections already waiting would otherwise
    /// wait for the next one to arrive.
    accept_retry_at: Option<Instant>,
    conns: Vec<Option<Conn>>,
    free: Vec<ConnId>,
    options: ConnOptions,
    /// Reads land here first: reading straight into the worker's buffer
    /// would mean zero-filling its spare room before every read.
    scratch: Box<[u8]>,
}

impl EpollReactor {
    /// A reactor listening on `listeners`, and the waker for other workers.
    pub fn new(
        listeners: Vec<std::net::TcpListener>,
        options: ConnOptions,
    ) -> io::Result<(EpollReactor, Waker)> {
        assert!(listeners.len() <= LISTENERS_MAX, "too many bind addresses");
        let poll = Poll::new()?;
        let waker: Waker = Arc::new(MioWake(mio::Waker::new(poll.registry(), WAKER)?));
        let mut registered = Vec::new();
        for (index, listener) in listeners.into_iter().enumerate() {
            listener.set_nonblocking(true)?;
            let mut listener = TcpListener::from_std(listener);
            poll.registry().register(
                &mut listener,
                Token(LISTENER_BASE + index),
                Interest::READABLE,
            )?;
            registered.push(listener);
        }
        let reactor = EpollReactor {
            poll,
            events: Events::with_capacity(EVENTS_MAX),
            listeners: registered,
            accept_retry_at: None,
            conns: Vec::new(),
            free: Vec::new(),
            options,
            scratch: vec![0; READ_CHUNK_BYTES].into_boxed_slice(),
        };
        Ok((reactor, waker))
    }

    fn accept_all(&mut self, index: usize, events: &mut Vec<Event>) {
        loop {
            let Some(listener) = self.listeners.get(index) else {
                return;
            };
            match listener.accept() {
                Ok((stream, peer)) => {
                    if let Some(event) = self.add_conn(stream, peer) {
                        events.push(event);
                    }
                }
                // A connection reset while it waited is that client's
                // failure: go on with the others.
                Err(error)
                    if matches!(
                        error.kind(),
                        ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                    ) => {}
                Err(error) if error.kind() == ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.accept_retry_at = Some(Instant::now() + ACCEPT_RETRY);
                    return;
                }
            }
        }
    }

    fn add_conn(&mut self, mut stream: TcpStream, peer: std::net::SocketAddr) -> Option<Event> {
        let _ = stream.set_nodelay(true);
        if self.options.keepalive_s > 0 {
            let keepalive = socket2::TcpKeepalive::new()
                .with_time(Duration::from_secs(self.options.keepalive_s));
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        }
        let local = stream.local_addr().ok()?;
        let conn = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if self
            .poll
            .registry()
            .register(&mut stream, Token(conn + CONN_BASE), Interest::READABLE)
            .is_err()
        {
            self.free.push(conn);
            return None;
        }
        self.conns[conn] = Some(Conn {
            stream,
            hung_up: false,
            want_write: false,
        });
        Some(Event::Accepted { conn, peer, local })
    }
}

impl Reactor for EpollReactor {
    fn name(&self) -> &'static str {
        "epoll"
    }

    fn poll(&mut self, timeout: Option<Duration>, events: &mut Vec<Event>) -> io::Result<()> {
        let timeout = match self.accept_retry_at {
            Some(retry_at) => {
                let until_retry = retry_at.saturating_duration_since(Instant::now());
                Some(timeout.map_or(until_retry, |timeout| timeout.min(until_retry)))
            }
            None => timeout,
        };
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(error) => return Err(error),
        }
        if self
            .accept_retry_at
            .is_some_and(|retry_at| Instant::now() >= retry_at)
        {
            self.accept_retry_at = None;
            for index in 0..self.listeners.len() {
                self.accept_all(index, events);
            }
        }
        let ready: Vec<(Token, bool, bool, bool)> = self
            .events
            .iter()
            .map(|event| {
                let hung_up = event.is_read_closed() || event.is_error();
                (
                    event.token(),
                    event.is_readable() || hung_up,
                    hung_up,
                    event.is_writable(),
                )
            })
            .collect();
        for (token, readable, hung_up, writable) in ready {
            match token {
                WAKER => {}
                Token(token) if token < CONN_BASE => self.accept_all(token - LISTENER_BASE, events),
                Token(token) => {
                    let conn = token - CONN_BASE;
                    if hung_up {
                        if let Some(open) = self.conns.get_mut(conn).and_then(Option::as_mut) {
                            open.hung_up = true;
                        }
                    }
                    if readable {
                        events.push(Event::Readable { conn });
                    }
                    if writable {
                        events.push(Event::Writable { conn });
                    }
                }
            }
        }
        Ok(())
    }

    fn recv(&mut self, conn: ConnId, buf: &mut Vec<u8>, limit: usize) -> RecvStatus {
        let Some(open) = self.conns.get_mut(conn).and_then(Option::as_mut) else {
            return RecvStatus::Closed;
        };
        let mut received = 0;
        loop {
            match open.stream.read(&mut self.scratch) {
                Ok(0) => return RecvStatus::Closed,
                Ok(read) => {
                    buf.extend_from_slice(&self.scratch[..read]);
                    received += read;
                    // Epoll is edge-triggered: a short read means drained,
                    // unless the peer also hung up, whose end-of-stream
                    // will not be reported again: read on to it. Past the
                    // limit the caller comes back rather than hogging.
                    if (read < self.scratch.len() && !open.hung_up) || received >= limit {
                        return RecvStatus::Open;
                    }
                }
                Err(error) => match error.kind() {
                    ErrorKind::Interrupted => {}
                    ErrorKind::WouldBlock => return RecvStatus::Open,
                    _ => return RecvStatus::Closed,
                },
            }
        }
    }

    fn send(&mut self, id: ConnId, out: &mut Vec<u8>) -> io::Result<()> {
        let registry_token = Token(id + CONN_BASE);
        let Some(conn) = self.conns.get_mut(id).and_then(Option::as_mut) else {
            return Err(io::Error::from(ErrorKind::NotConnected));
        };
        let mut written = 0;
        let mut result = Ok(());
        while written < out.len() {
            match conn.stream.write(&out[written..]) {
                Ok(0) => {
                    result = Err(io::Error::from(ErrorKind::WriteZero));
                    break;
                }
                Ok(n) => written += n,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        out.drain(..written);
        let backed_up = !out.is_empty() && result.is_ok();
        if backed_up != conn.want_write {
            let interest = if backed_up {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let _ = self
                .poll
                .registry()
                .reregister(&mut conn.stream, registry_token, interest);
            conn.want_write = backed_up;
        }
        result
    }

    fn unsent(&self, _conn: ConnId) -> usize {
        // Epoll writes synchronously: nothing is held inside the reactor.
        0
    }

    fn close(&mut self, conn: ConnId) {
        if let Some(mut closing) = self.conns.get_mut(conn).and_then(Option::take) {
            let _ = self.poll.registry().deregister(&mut closing.stream);
            self.free.push(conn);
        }
    }

    fn stop_accepting(&mut self) {
        for listener in &mut self.listeners {
            let _ = self.poll.registry().deregister(listener);
        }
        self.listeners.clear();
    }
}
