//! A worker: one thread pinned to one core that owns one shard and the
//! connections it accepted, and talks to the other workers by mailbox.

mod command_cmd;
mod config_cmd;
mod dispatch;
mod fanout;
mod info;
mod local;
pub mod locks;
pub mod msg;
mod shardside;
pub mod shared;
pub mod slowlog;
mod tx;

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ahash::AHashMap;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use shoal_actors::Endpoint;

use crate::client::Client;
use crate::shard::Shard;
use fanout::FanOutState;
pub use local::REDIS_VERSION;
use locks::LockTable;
use msg::Msg;
pub use shared::Shared;
use tx::TxState;

/// The cross-worker wake-up's token.
const WAKER: Token = Token(0);
/// Listening sockets' tokens start here; client tokens follow them.
const LISTENER_BASE: usize = 1;
/// Most listening sockets per worker (one per bind address).
const LISTENERS_MAX: usize = 16;
/// The first client token: client tokens are slab indexes + this.
const CONN_BASE: usize = LISTENER_BASE + LISTENERS_MAX;
/// Bytes read per `read` call.
const READ_CHUNK_BYTES: usize = 16 * 1024;
/// Most messages taken from one peer per loop turn, so one busy peer cannot
/// starve the sockets.
const DRAIN_PER_PEER_MAX: usize = 256;
/// How often the active expiry cycle and idle timeouts run.
const CRON_INTERVAL: Duration = Duration::from_millis(100);

/// Wakes a worker blocked in `epoll_wait`.
struct MioWake(Waker);

impl shoal_actors::Wake for MioWake {
    fn wake(&self) {
        // A failed wake leaves the worker to its next timeout; nothing to do.
        let _ = self.0.wake();
    }
}

/// A connection: the socket and the client state.
struct Conn {
    stream: TcpStream,
    client: Client,
    /// Whether WRITABLE interest is registered (output is backed up).
    want_write: bool,
}

/// Unix time in milliseconds.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// One worker's state.
pub struct Worker {
    id: usize,
    shared: Arc<Shared>,
    shard: Shard,
    locks: LockTable,
    endpoint: Endpoint<Msg>,
    /// Messages for a full mailbox, per peer, sent as room appears.
    outbox: Vec<VecDeque<Msg>>,
    /// Messages to this worker's own shard.
    inbox_self: VecDeque<Msg>,
    poll: Poll,
    listeners: Vec<TcpListener>,
    conns: Vec<Option<Conn>>,
    free_slots: Vec<usize>,
    by_client_id: AHashMap<u64, usize>,
    fanouts: AHashMap<u64, FanOutState>,
    txs: AHashMap<u64, TxState>,
    next_token: u64,
    now_ms: u64,
    /// Connections with replies to write this turn.
    dirty: Vec<usize>,
    /// Connections not read while mailboxes were backed up; read them
    /// once there is room again.
    paused: Vec<usize>,
    /// Protocol limits for new clients (from the configuration).
    limits: shoal_protocol::Limits,
    /// Most unsent reply bytes a client may have (0: no limit).
    output_limit_bytes: u64,
    /// TCP keepalive interval for accepted connections (0: off).
    keepalive_s: u64,
}

/// What starting a worker needs.
pub struct WorkerSetup {
    /// Worker index.
    pub id: usize,
    /// Shared state.
    pub shared: Arc<Shared>,
    /// This worker's mailboxes.
    pub endpoint: Endpoint<Msg>,
    /// Its poller, created before the mesh so its waker could be shared.
    pub poll: Poll,
    /// Its listening sockets (SO_REUSEPORT), one per bind address.
    pub listeners: Vec<std::net::TcpListener>,
}

/// Creates a poller and the waker other workers use to wake it.
pub fn new_poll() -> std::io::Result<(Poll, Arc<dyn shoal_actors::Wake>)> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    Ok((poll, Arc::new(MioWake(waker))))
}

impl Worker {
    /// Builds a worker; runs nothing yet.
    pub fn new(setup: WorkerSetup) -> std::io::Result<Worker> {
        let WorkerSetup {
            id,
            shared,
            endpoint,
            poll,
            listeners: std_listeners,
        } = setup;
        assert!(
            std_listeners.len() <= LISTENERS_MAX,
            "too many bind addresses"
        );
        let mut listeners = Vec::new();
        for (index, listener) in std_listeners.into_iter().enumerate() {
            listener.set_nonblocking(true)?;
            let mut listener = TcpListener::from_std(listener);
            poll.registry().register(
                &mut listener,
                Token(LISTENER_BASE + index),
                Interest::READABLE,
            )?;
            listeners.push(listener);
        }
        let workers = shared.workers;
        let databases = shared.databases;
        let (limits, output_limit_bytes, keepalive_s) = {
            let config = shared
                .config
                .lock()
                .map_err(|_| std::io::Error::other("configuration lock poisoned"))?;
            let limits = shoal_protocol::Limits {
                max_bulk_len_bytes: config.proto_max_bulk_len_bytes() as usize,
                max_query_buffer_bytes: config.client_query_buffer_limit_bytes() as usize,
                ..shoal_protocol::Limits::default()
            };
            (
                limits,
                config.client_output_buffer_limits().normal.hard_limit_bytes,
                config.tcp_keepalive_s(),
            )
        };
        Ok(Worker {
            id,
            shared,
            shard: Shard::new(id, databases),
            locks: LockTable::default(),
            endpoint,
            outbox: (0..workers).map(|_| VecDeque::new()).collect(),
            inbox_self: VecDeque::new(),
            poll,
            listeners,
            conns: Vec::new(),
            free_slots: Vec::new(),
            by_client_id: AHashMap::new(),
            fanouts: AHashMap::new(),
            txs: AHashMap::new(),
            next_token: 0,
            now_ms: unix_ms(),
            dirty: Vec::new(),
            paused: Vec::new(),
            limits,
            output_limit_bytes,
            keepalive_s,
        })
    }

    fn stats(&self) -> &shared::WorkerStats {
        &self.shared.stats[self.id]
    }

    /// Runs the event loop until shutdown.
    pub fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut last_cron_ms = self.now_ms;
        let mut stopping = false;
        loop {
            let idle = self.inbox_self.is_empty()
                && self.outbox.iter().all(VecDeque::is_empty)
                && self.dirty.is_empty();
            let may_sleep = idle && self.endpoint.prepare_sleep();
            let timeout = if may_sleep {
                Some(CRON_INTERVAL)
            } else {
                Some(Duration::ZERO)
            };
            if let Err(error) = self.poll.poll(&mut events, timeout) {
                if error.kind() != ErrorKind::Interrupted {
                    eprintln!("shoal-server: worker {} poll failed: {error}", self.id);
                    return;
                }
            }
            if may_sleep {
                self.endpoint.woke();
            }
            self.now_ms = unix_ms();
            for event in events.iter() {
                match event.token() {
                    WAKER => {}
                    Token(token) if token < CONN_BASE => self.accept_all(token - LISTENER_BASE),
                    Token(token) => {
                        let slot = token - CONN_BASE;
                        if event.is_readable() || event.is_read_closed() || event.is_error() {
                            self.read_conn(slot);
                        }
                        if event.is_writable() {
                            self.mark_dirty(slot);
                        }
                    }
                }
            }
            self.drain_messages();
            self.flush_outbox();
            if !self.paused.is_empty() && !self.backpressured() {
                for slot in std::mem::take(&mut self.paused) {
                    self.read_conn(slot);
                }
            }
            self.write_dirty();
            self.endpoint.flush_wakes();
            if self.now_ms.saturating_sub(last_cron_ms) >= CRON_INTERVAL.as_millis() as u64 {
                last_cron_ms = self.now_ms;
                self.cron();
            }
            if self.shared.shutdown.load(Ordering::Relaxed) {
                if !stopping {
                    stopping = true;
                    for listener in &mut self.listeners {
                        let _ = self.poll.registry().deregister(listener);
                    }
                }
                if self.dirty.is_empty() {
                    self.close_all();
                    return;
                }
            }
        }
    }

    fn accept_all(&mut self, index: usize) {
        loop {
            let Some(listener) = self.listeners.get(index) else {
                return;
            };
            match listener.accept() {
                Ok((stream, peer)) => self.add_conn(stream, peer),
                Err(error) if error.kind() == ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    fn add_conn(&mut self, mut stream: TcpStream, peer: std::net::SocketAddr) {
        let (max_clients, password_set) =
            self.shared.config.lock().map_or((10_000, false), |config| {
                (
                    config.max_clients() as usize,
                    config
                        .requirepass()
                        .is_some_and(|password| !password.is_empty()),
                )
            });
        if self.shared.connected_clients() >= max_clients {
            self.stats().rejected.fetch_add(1, Ordering::Relaxed);
            let _ = stream.write(b"-ERR max number of clients reached\r\n");
            return;
        }
        let _ = stream.set_nodelay(true);
        if self.keepalive_s > 0 {
            let keepalive =
                socket2::TcpKeepalive::new().with_time(Duration::from_secs(self.keepalive_s));
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        }
        let slot = self.free_slots.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if self
            .poll
            .registry()
            .register(&mut stream, Token(slot + CONN_BASE), Interest::READABLE)
            .is_err()
        {
            self.free_slots.push(slot);
            return;
        }
        let id = self.shared.next_client_id.fetch_add(1, Ordering::Relaxed);
        let laddr = stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let mut client = Client::new(id, peer.to_string(), laddr, self.now_ms, !password_set);
        client.parser.set_limits(self.limits);
        client.parser.set_auth_required(password_set);
        self.conns[slot] = Some(Conn {
            stream,
            client,
            want_write: false,
        });
        self.by_client_id.insert(id, slot);
        self.stats().connections.fetch_add(1, Ordering::Relaxed);
        self.stats().clients.fetch_add(1, Ordering::Relaxed);
    }

    fn mark_dirty(&mut self, slot: usize) {
        if !self.dirty.contains(&slot) {
            self.dirty.push(slot);
        }
    }

    fn read_conn(&mut self, slot: usize) {
        if self.backpressured() {
            // Leave the bytes in the socket: the commands would only queue
            // behind full mailboxes. Epoll is edge-triggered, so remember
            // to read this connection once there is room.
            if !self.paused.contains(&slot) {
                self.paused.push(slot);
            }
            return;
        }
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let mut closed = false;
        let mut read_total = 0usize;
        loop {
            let query = &mut conn.client.query;
            let len = query.len();
            query.resize(len + READ_CHUNK_BYTES, 0);
            match conn.stream.read(&mut query[len..]) {
                Ok(0) => {
                    query.truncate(len);
                    closed = true;
                    break;
                }
                Ok(read) => {
                    query.truncate(len + read);
                    read_total += read;
                    if read < READ_CHUNK_BYTES {
                        break;
                    }
                }
                Err(error) => {
                    query.truncate(len);
                    if error.kind() == ErrorKind::Interrupted {
                        continue;
                    }
                    closed = error.kind() != ErrorKind::WouldBlock;
                    break;
                }
            }
        }
        self.stats()
            .net_input_bytes
            .fetch_add(read_total as u64, Ordering::Relaxed);
        if read_total > 0 {
            self.process_input(slot);
        }
        if closed {
            self.close_conn(slot);
        }
    }

    fn write_dirty(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        for slot in dirty {
            self.write_conn(slot);
        }
    }

    fn write_conn(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let mut written = 0;
        let mut failed = false;
        while written < conn.client.out.len() {
            match conn.stream.write(&conn.client.out.as_bytes()[written..]) {
                Ok(0) => {
                    failed = true;
                    break;
                }
                Ok(n) => written += n,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        conn.client.out.consume(written);
        self.shared.stats[self.id]
            .net_output_bytes
            .fetch_add(written as u64, Ordering::Relaxed);
        let backed_up = !conn.client.out.is_empty();
        // A client that sends but never reads: past the hard limit it is
        // disconnected, as Redis's client-output-buffer-limit does.
        let over_limit =
            self.output_limit_bytes > 0 && conn.client.out.len() as u64 > self.output_limit_bytes;
        if backed_up != conn.want_write {
            let interest = if backed_up {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let _ = self.poll.registry().reregister(
                &mut conn.stream,
                Token(slot + CONN_BASE),
                interest,
            );
            conn.want_write = backed_up;
        }
        let done = conn.client.close_after_reply && !backed_up && conn.client.pending.is_empty();
        if failed || done || over_limit {
            self.close_conn(slot);
        }
    }

    fn close_conn(&mut self, slot: usize) {
        let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else {
            return;
        };
        if conn.client.monitor {
            if let Ok(mut monitors) = self.shared.monitors.lock() {
                monitors.retain(|&(_, id)| id != conn.client.id);
                self.shared
                    .monitor_count
                    .store(monitors.len(), Ordering::Relaxed);
            }
        }
        let _ = self.poll.registry().deregister(&mut conn.stream);
        self.by_client_id.remove(&conn.client.id);
        self.free_slots.push(slot);
        self.stats().clients.fetch_sub(1, Ordering::Relaxed);
    }

    fn close_all(&mut self) {
        for slot in 0..self.conns.len() {
            self.close_conn(slot);
        }
    }

    /// Delivers a message to worker `to`, queueing it if the mailbox is full.
    fn deliver(&mut self, to: usize, msg: Msg) {
        if to == self.id {
            self.inbox_self.push_back(msg);
            return;
        }
        if !self.outbox[to].is_empty() {
            self.outbox[to].push_back(msg);
            return;
        }
        if let Err(msg) = self.endpoint.try_send_deferred(to, msg) {
            self.outbox[to].push_back(msg);
        }
    }

    fn flush_outbox(&mut self) {
        for to in 0..self.outbox.len() {
            if !self.outbox[to].is_empty() {
                let mut queue = std::mem::take(&mut self.outbox[to]);
                self.endpoint.send_batch_deferred(to, &mut queue);
                self.outbox[to] = queue;
            }
        }
    }

    /// Whether mailboxes are backed up so far that reading sockets must
    /// pause: the commands they carry would only queue behind.
    fn backpressured(&self) -> bool {
        let limit = self.endpoint.capacity();
        self.outbox.iter().any(|queue| queue.len() >= limit)
    }

    fn drain_messages(&mut self) {
        let mut incoming = Vec::new();
        self.endpoint
            .drain(DRAIN_PER_PEER_MAX, |from, msg| incoming.push((from, msg)));
        for (from, msg) in incoming {
            self.handle_msg(from, msg);
        }
        let mut turns = 0;
        while let Some(msg) = self.inbox_self.pop_front() {
            self.handle_msg(self.id, msg);
            turns += 1;
            if turns > DRAIN_PER_PEER_MAX * 4 {
                break;
            }
        }
    }

    fn cron(&mut self) {
        let removed = self.shard.active_expire_cycle(self.now_ms);
        let _ = removed;
        self.stats()
            .expired_keys
            .store(self.shard.expiry.expired_keys, Ordering::Relaxed);
        let timeout_s = self
            .shared
            .config
            .lock()
            .map_or(0, |config| config.timeout_s());
        if timeout_s > 0 {
            let limit_ms = timeout_s * 1000;
            let idle: Vec<usize> = self
                .conns
                .iter()
                .enumerate()
                .filter_map(|(slot, conn)| conn.as_ref().map(|conn| (slot, conn)))
                .filter(|(_, conn)| {
                    conn.client.pending.is_empty()
                        && self.now_ms.saturating_sub(conn.client.last_active_ms) > limit_ms
                })
                .map(|(slot, _)| slot)
                .collect();
            idle.into_iter().for_each(|slot| self.close_conn(slot));
        }
    }

    fn new_token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }
}
