//! A worker: one thread pinned to one core that owns one shard and the
//! connections it accepted, and talks to the other workers by mailbox.

pub mod begin;
mod blocking;
mod changes;
mod command_cmd;
mod config_cmd;
mod dispatch;
mod fanout;
mod info;
mod local;
mod locking;
pub mod locks;
pub mod msg;
pub mod multi;
mod orphans;
mod shardside;
pub mod shared;
pub mod slowlog;
mod tx;
mod versions;

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ahash::AHashMap;
use shoal_actors::Endpoint;

use crate::client::Client;
use crate::reactor::{ConnId, Event, Reactor, RecvStatus};
use crate::shard::Shard;
use fanout::FanOutState;
pub use local::REDIS_VERSION;
use locks::LockTable;
use msg::Msg;
pub use shared::Shared;
use tx::TxState;

/// Bytes taken from one connection per loop turn before others get a turn.
const RECV_TURN_BYTES: usize = 256 * 1024;
/// Most messages taken from one peer per loop turn, so one busy peer cannot
/// starve the sockets.
const DRAIN_PER_PEER_MAX: usize = 256;
/// Rounds of resuming stalled pipelines per loop turn.
const RESUME_ROUNDS_MAX: usize = 64;
/// Samples averaged for instantaneous_ops_per_sec, as Redis's `STATS_METRIC_SAMPLES`.
const OPS_SAMPLES: usize = 16;
/// How often the active expiry cycle and idle timeouts run.
const CRON_INTERVAL: Duration = Duration::from_millis(100);

/// What Redis answers a client from another host while protected mode is on.
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Protected mode, as Redis has it: with no password set, only clients on
/// the loopback interface are served.
fn protected_mode_denies(protected: bool, password_set: bool, peer: std::net::SocketAddr) -> bool {
    let loopback = match peer.ip() {
        std::net::IpAddr::V4(ip) => ip.is_loopback(),
        std::net::IpAddr::V6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    };
    protected && !password_set && !loopback
}

/// A connection's client state; the socket belongs to the reactor.
struct Conn {
    client: Client,
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
    /// The `Shared::settings_epoch` the shard's settings were loaded at.
    settings_epoch: u64,
    locks: LockTable,
    endpoint: Endpoint<Msg>,
    /// Messages for a full mailbox, per peer, sent as room appears.
    outbox: Vec<VecDeque<Msg>>,
    /// Messages to this worker's own shard.
    inbox_self: VecDeque<Msg>,
    reactor: Box<dyn Reactor>,
    /// Client state by the reactor's connection id.
    conns: Vec<Option<Conn>>,
    by_client_id: AHashMap<u64, usize>,
    fanouts: AHashMap<u64, FanOutState>,
    txs: AHashMap<u64, TxState>,
    /// EXECs of this worker's clients waiting for their locks.
    execs: AHashMap<u64, multi::ExecTx>,
    /// COMMITs of this worker's clients in two-phase commit.
    commits: AHashMap<u64, begin::CommitTx>,
    /// Versions of this shard's watched and transaction-read keys.
    versions: versions::KeyVersions,
    /// Who waits on this shard's keys (blocking commands).
    registry: blocking::Registry,
    /// This worker's clients in a blocking command, by client id.
    blocked: AHashMap<u64, blocking::BlockedClient>,
    /// Entries of `blocked` a shard has registered as waiters.
    registered_blocks: usize,
    /// Blocked clients that left while their retry ran, until its outcome.
    orphans: AHashMap<u64, blocking::BlockedClient>,
    /// (deadline, client) of the blocked clients with a timeout.
    block_deadlines: std::collections::BTreeSet<(u64, u64)>,
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
    /// Unsent reply bytes a client may keep for at most `soft_limit_ms` (0: no limit).
    soft_limit_bytes: u64,
    /// How long the soft output limit may be exceeded.
    soft_limit_ms: u64,
    /// Connections to read again next turn (they had more than a turn's worth).
    reread: Vec<usize>,
    /// Connections whose pipeline barrier completed: parse on.
    resume: Vec<usize>,
    /// Messages taken from the mailboxes this turn (kept for its capacity).
    incoming: Vec<Msg>,
    /// Commands-per-second samples, one per cron run (a ring).
    ops_samples: [u64; OPS_SAMPLES],
    /// The next sample's position in the ring.
    ops_next: usize,
    /// When the last sample was taken, and the command count then.
    ops_last: (u64, u64),
}

/// What starting a worker needs.
pub struct WorkerSetup {
    /// Worker index.
    pub id: usize,
    /// Shared state.
    pub shared: Arc<Shared>,
    /// This worker's mailboxes.
    pub endpoint: Endpoint<Msg>,
    /// Its reactor, already listening, created before the mesh so its
    /// waker could be shared.
    pub reactor: Box<dyn Reactor>,
}

impl Worker {
    /// Builds a worker; runs nothing yet.
    pub fn new(setup: WorkerSetup) -> std::io::Result<Worker> {
        let WorkerSetup {
            id,
            shared,
            endpoint,
            reactor,
        } = setup;
        let workers = shared.workers;
        let databases = shared.databases;
        let counters = shared.stats[id].keyspace.clone();
        let (limits, output_limit_bytes, soft_limit_bytes, soft_limit_ms) = {
            let config = shared
                .config
                .lock()
                .map_err(|_| std::io::Error::other("configuration lock poisoned"))?;
            let limits = shoal_protocol::Limits {
                max_bulk_len_bytes: config.proto_max_bulk_len_bytes() as usize,
                max_query_buffer_bytes: config.client_query_buffer_limit_bytes() as usize,
                ..shoal_protocol::Limits::default()
            };
            let normal = config.client_output_buffer_limits().normal;
            let soft_limit_ms = u64::from(normal.soft_limit_seconds) * 1000;
            (
                limits,
                normal.hard_limit_bytes,
                normal.soft_limit_bytes,
                soft_limit_ms,
            )
        };
        Ok(Worker {
            id,
            shared,
            shard: Shard::new(id, databases, counters),
            settings_epoch: u64::MAX,
            locks: LockTable::default(),
            endpoint,
            outbox: (0..workers).map(|_| VecDeque::new()).collect(),
            inbox_self: VecDeque::new(),
            reactor,
            conns: Vec::new(),
            by_client_id: AHashMap::new(),
            fanouts: AHashMap::new(),
            txs: AHashMap::new(),
            execs: AHashMap::new(),
            commits: AHashMap::new(),
            versions: versions::KeyVersions::default(),
            registry: blocking::Registry::default(),
            blocked: AHashMap::default(),
            registered_blocks: 0,
            orphans: AHashMap::default(),
            block_deadlines: std::collections::BTreeSet::new(),
            next_token: 0,
            now_ms: unix_ms(),
            dirty: Vec::new(),
            paused: Vec::new(),
            limits,
            output_limit_bytes,
            soft_limit_bytes,
            soft_limit_ms,
            reread: Vec::new(),
            resume: Vec::new(),
            incoming: Vec::new(),
            ops_samples: [0; OPS_SAMPLES],
            ops_next: 0,
            ops_last: (unix_ms(), 0),
        })
    }

    fn stats(&self) -> &shared::WorkerStats {
        &self.shared.stats[self.id]
    }

    /// Runs the event loop until shutdown.
    pub fn run(mut self) {
        let mut events = Vec::new();
        let mut last_cron_ms = self.now_ms;
        let mut stopping = false;
        loop {
            let idle = self.inbox_self.is_empty()
                && self.resume.is_empty()
                && self.outbox.iter().all(VecDeque::is_empty)
                && self.dirty.is_empty()
                && self.reread.is_empty();
            let may_sleep = idle && self.endpoint.prepare_sleep();
            let timeout = if may_sleep {
                self.until_next_block_deadline()
                    .map_or(CRON_INTERVAL, |until| until.min(CRON_INTERVAL))
            } else {
                Duration::ZERO
            };
            events.clear();
            if let Err(error) = self.reactor.poll(Some(timeout), &mut events) {
                eprintln!(
                    "shoal-server: worker {} {} wait failed: {error}",
                    self.id,
                    self.reactor.name()
                );
                return;
            }
            if may_sleep {
                self.endpoint.woke();
            }
            self.now_ms = unix_ms();
            for slot in std::mem::take(&mut self.reread) {
                self.read_conn(slot);
            }
            for &event in &events {
                match event {
                    Event::Accepted { conn, peer, local } => self.add_conn(conn, peer, local),
                    Event::Readable { conn } => self.read_conn(conn),
                    Event::Writable { conn } => self.mark_dirty(conn),
                }
            }
            self.drain_messages();
            if !self.block_deadlines.is_empty() {
                self.expire_blocks();
            }
            // A pipeline of barriers on the home shard completes one per
            // round; bounded so other connections get their turn.
            for _ in 0..RESUME_ROUNDS_MAX {
                if self.resume.is_empty() {
                    break;
                }
                for slot in std::mem::take(&mut self.resume) {
                    self.process_input(slot);
                }
                self.drain_messages();
            }
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
                    self.reactor.stop_accepting();
                }
                if self.dirty.is_empty() {
                    self.close_all();
                    return;
                }
            }
        }
    }

    fn add_conn(&mut self, conn: ConnId, peer: std::net::SocketAddr, local: std::net::SocketAddr) {
        let (max_clients, password_set, protected) =
            self.shared
                .config
                .lock()
                .map_or((10_000, false, true), |config| {
                    (
                        config.max_clients() as usize,
                        config
                            .requirepass()
                            .is_some_and(|password| !password.is_empty()),
                        config.protected_mode(),
                    )
                });
        if protected_mode_denies(protected, password_set, peer) {
            shared::bump(&self.stats().rejected, 1);
            let _ = self.reactor.send(conn, &mut PROTECTED_MODE_DENIED.to_vec());
            self.reactor.close(conn);
            return;
        }
        if self.shared.connected_clients() >= max_clients {
            shared::bump(&self.stats().rejected, 1);
            let _ = self.reactor.send(
                conn,
                &mut b"-ERR max number of clients reached\r\n".to_vec(),
            );
            self.reactor.close(conn);
            return;
        }
        if self.conns.len() <= conn {
            self.conns.resize_with(conn + 1, || None);
        }
        debug_assert!(
            self.conns[conn].is_none(),
            "the reactor reuses only closed ids"
        );
        let id = self.shared.next_client_id.fetch_add(1, Ordering::Relaxed);
        let mut client = Client::new(
            id,
            peer.to_string(),
            local.to_string(),
            self.now_ms,
            !password_set,
        );
        client.parser.set_limits(self.limits);
        client.parser.set_auth_required(password_set);
        self.conns[conn] = Some(Conn { client });
        self.by_client_id.insert(id, conn);
        shared::bump(&self.stats().connections, 1);
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
            // behind full mailboxes. Read this connection once there is room.
            if !self.paused.contains(&slot) {
                self.paused.push(slot);
            }
            return;
        }
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let before = conn.client.query.len();
        let status = self
            .reactor
            .recv(slot, &mut conn.client.query, RECV_TURN_BYTES);
        let read = conn.client.query.len() - before;
        shared::bump(&self.stats().net_input_bytes, read as u64);
        if read >= RECV_TURN_BYTES && status == RecvStatus::Open && !self.reread.contains(&slot) {
            self.reread.push(slot);
        }
        if read > 0 {
            self.process_input(slot);
        }
        if status == RecvStatus::Closed {
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
        let out = conn.client.out.bytes_mut();
        let before = out.len();
        let failed = self.reactor.send(slot, out).is_err();
        let taken = before - out.len();
        let left = out.len() + self.reactor.unsent(slot);
        shared::bump(&self.shared.stats[self.id].net_output_bytes, taken as u64);
        // A client that sends but never reads: past the hard limit it is
        // disconnected, as Redis's client-output-buffer-limit does.
        let over_limit = self.output_limit_bytes > 0 && left as u64 > self.output_limit_bytes;
        // Above the soft limit for longer than allowed: closed by the cron.
        if self.soft_limit_bytes > 0 && left as u64 > self.soft_limit_bytes {
            conn.client
                .over_soft_limit_since_ms
                .get_or_insert(self.now_ms);
        } else {
            conn.client.over_soft_limit_since_ms = None;
        }
        let done = conn.client.close_after_reply && left == 0 && conn.client.pending.is_empty();
        if failed || done || over_limit {
            self.close_conn(slot);
        }
    }

    fn close_conn(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::take) else {
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
        self.drop_block(conn.client.id);
        // A client that leaves mid-transaction is rolled back; nobody
        // depends on the keys it watched any more.
        let mut client = conn.client;
        if let Some(txn) = client.txn.take() {
            self.forget_transaction(*txn);
        }
        let watched = std::mem::take(&mut client.watched);
        self.untrack_keys(watched.into_iter().map(|watched| watched.key), None);
        self.reactor.close(slot);
        self.by_client_id.remove(&client.id);
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
        // Reused between turns so receiving allocates nothing.
        let mut incoming = std::mem::take(&mut self.incoming);
        self.endpoint
            .drain(DRAIN_PER_PEER_MAX, |_from, msg| incoming.push(msg));
        for msg in incoming.drain(..) {
            self.handle_msg(msg);
        }
        self.incoming = incoming;
        let mut turns = 0;
        while let Some(msg) = self.inbox_self.pop_front() {
            self.handle_msg(msg);
            turns += 1;
            if turns > DRAIN_PER_PEER_MAX * 4 {
                break;
            }
        }
    }

    /// Reloads the shard's cached settings if CONFIG SET changed them: one
    /// atomic load per shard command when nothing changed.
    fn refresh_shard_settings(&mut self) {
        let epoch = self.shared.settings_epoch.load(Ordering::Acquire);
        if epoch != self.settings_epoch {
            self.settings_epoch = epoch;
            self.shard.apply_settings(self.shared.shard_settings());
        }
    }

    fn cron(&mut self) {
        self.shard.active_expire_cycle(self.now_ms);
        self.abort_overdue_transactions();
        self.sample_ops_per_sec();
        if self.soft_limit_bytes > 0 {
            let limit_ms = self.soft_limit_ms;
            let now_ms = self.now_ms;
            let over: Vec<usize> = self
                .conns
                .iter()
                .enumerate()
                .filter_map(|(slot, conn)| conn.as_ref().map(|conn| (slot, conn)))
                .filter(|(_, conn)| {
                    conn.client
                        .over_soft_limit_since_ms
                        .is_some_and(|since| now_ms.saturating_sub(since) > limit_ms)
                })
                .map(|(slot, _)| slot)
                .collect();
            over.into_iter().for_each(|slot| self.close_conn(slot));
        }
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

    /// Records one throughput sample, as Redis's `trackInstantaneousMetric`
    /// does, and publishes the average of the last samples.
    fn sample_ops_per_sec(&mut self) {
        let commands = self.stats().commands.load(Ordering::Relaxed);
        let (last_ms, last_commands) = self.ops_last;
        let elapsed_ms = self.now_ms.saturating_sub(last_ms);
        let done = commands.saturating_sub(last_commands);
        if let Some(rate) = (done * 1000).checked_div(elapsed_ms) {
            self.ops_samples[self.ops_next] = rate;
            self.ops_next = (self.ops_next + 1) % OPS_SAMPLES;
            let average = self.ops_samples.iter().sum::<u64>() / OPS_SAMPLES as u64;
            self.stats().ops_per_sec.store(average, Ordering::Relaxed);
        }
        self.ops_last = (self.now_ms, commands);
    }

    fn new_token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }
}

#[cfg(test)]
mod tests {
    use super::protected_mode_denies;

    #[test]
    fn protected_mode_serves_only_loopback_clients_without_a_password() {
        let local = "127.0.0.1:5000".parse().unwrap();
        let local6 = "[::1]:5000".parse().unwrap();
        let remote = "10.1.2.3:5000".parse().unwrap();
        assert!(!protected_mode_denies(true, false, local));
        assert!(!protected_mode_denies(true, false, local6));
        assert!(protected_mode_denies(true, false, remote));
        assert!(
            !protected_mode_denies(true, true, remote),
            "a password lifts it"
        );
        assert!(
            !protected_mode_denies(false, false, remote),
            "protected-mode no lifts it"
        );
    }
}
