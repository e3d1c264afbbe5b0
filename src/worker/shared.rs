//! What all workers share: settings, counters, ids and the stop signal.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::config::Config;
use crate::shard::{AccessPolicy, ShardCounters, ShardSettings};

/// One command's counters for INFO commandstats, side by side so that
/// counting a call touches one cache line.
#[derive(Debug, Default)]
pub struct CommandCounters {
    /// Calls.
    pub calls: AtomicU64,
    /// Microseconds spent.
    pub usec: AtomicU64,
}

/// Counters one worker writes and INFO reads, on their own cache line.
#[derive(Debug)]
#[repr(align(128))]
pub struct WorkerStats {
    /// Calls and time per command, indexed like the command table.
    pub per_command: Box<[CommandCounters]>,
    /// Commands executed whose client is on this worker.
    pub commands: AtomicU64,
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections refused by maxclients.
    pub rejected: AtomicU64,
    /// Error replies sent.
    pub errors: AtomicU64,
    /// Bytes read from clients.
    pub net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub net_output_bytes: AtomicU64,
    /// Expiries, hits and misses of this worker's shard.
    pub keyspace: Arc<ShardCounters>,
    /// Commands per second over the last samples (INFO instantaneous_ops_per_sec).
    pub ops_per_sec: AtomicU64,
    /// Clients connected to this worker.
    pub clients: AtomicUsize,
    /// Clients of this worker in a blocking command.
    pub blocked_clients: AtomicUsize,
}

impl WorkerStats {
    /// Zeroed counters for `commands` commands.
    pub fn new(commands: usize) -> WorkerStats {
        WorkerStats {
            per_command: (0..commands).map(|_| CommandCounters::default()).collect(),
            commands: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            net_input_bytes: AtomicU64::new(0),
            net_output_bytes: AtomicU64::new(0),
            keyspace: Arc::default(),
            ops_per_sec: AtomicU64::new(0),
            clients: AtomicUsize::new(0),
            blocked_clients: AtomicUsize::new(0),
        }
    }
}

/// Adds `amount` to a counter only its own worker writes: a load and a
/// store, no atomic read-modify-write on the command path.
#[inline]
pub fn bump(counter: &AtomicU64, amount: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(amount),
        Ordering::Relaxed,
    );
}

/// State shared by every worker.
pub struct Shared {
    /// The configuration (CONFIG GET/SET).
    pub config: Mutex<Config>,
    /// Number of workers (and shards).
    pub workers: usize,
    /// Logical databases.
    pub databases: usize,
    /// The next client id.
    pub next_client_id: AtomicU64,
    /// The next transaction id; multi-shard commands are ordered by it.
    pub next_tx: AtomicU64,
    /// Set to stop every worker.
    pub shutdown: AtomicBool,
    /// Per-worker counters.
    pub stats: Vec<WorkerStats>,
    /// When the server started.
    pub started: Instant,
    /// The placement plan text, for the log and INFO.
    pub placement: String,
    /// The TCP port.
    pub port: u16,
    /// The I/O backend the workers run (`io_uring`, `epoll`), for INFO.
    pub io_backend: &'static str,
    /// The slow log.
    pub slowlog: Mutex<super::slowlog::SlowLog>,
    /// `slowlog-log-slower-than` in microseconds (negative: off), cached
    /// so the per-command check takes no lock.
    pub slowlog_threshold_us: AtomicI64,
    /// Grows whenever CONFIG SET changes something shards cache (the access
    /// policy, encoding limits); each worker compares it to its copy once
    /// per shard command and reloads only when it moved.
    pub settings_epoch: AtomicU64,
    /// `slowlog-max-len`, cached likewise.
    pub slowlog_max_len: AtomicUsize,
    /// Clients in MONITOR mode: (worker, client id).
    pub monitors: Mutex<Vec<(usize, u64)>>,
    /// How many clients monitor, read on every command without a lock.
    pub monitor_count: AtomicUsize,
    /// Wakes every worker (shutdown).
    pub wakers: Mutex<Vec<Arc<dyn shoal_actors::Wake>>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.workers)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Refreshes the cached copies of settings read on every command.
    pub fn refresh_cached_settings(&self) {
        if let Ok(config) = self.config.lock() {
            self.slowlog_threshold_us
                .store(config.slowlog_log_slower_than_us(), Ordering::Relaxed);
            self.slowlog_max_len
                .store(config.slowlog_max_len() as usize, Ordering::Relaxed);
        }
        self.settings_epoch.fetch_add(1, Ordering::Release);
    }

    /// What shards cache from the configuration: the access policy and the
    /// encoding limits.
    pub fn shard_settings(&self) -> ShardSettings {
        let Ok(config) = self.config.lock() else {
            return ShardSettings::default();
        };
        let policy = match config.lfu_settings() {
            Some((log_factor, decay_minutes)) => AccessPolicy::Lfu {
                log_factor,
                decay_minutes,
            },
            None => AccessPolicy::Lru,
        };
        ShardSettings {
            policy,
            limits: config.encoding_limits(),
        }
    }

    /// Total over workers of one counter.
    pub fn total(&self, field: impl Fn(&WorkerStats) -> &AtomicU64) -> u64 {
        self.stats
            .iter()
            .map(|stats| field(stats).load(Ordering::Relaxed))
            .sum()
    }

    /// Clients connected now.
    pub fn connected_clients(&self) -> usize {
        self.stats
            .iter()
            .map(|stats| stats.clients.load(Ordering::Relaxed))
            .sum()
    }

    /// Asks every worker to stop.
    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        if let Ok(wakers) = self.wakers.lock() {
            wakers.iter().for_each(|waker| waker.wake());
        }
    }
}
