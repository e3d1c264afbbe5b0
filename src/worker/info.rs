//! INFO's text, in Redis's format so `redis-cli INFO`, `redis-cli --stat`
//! and exporters read it.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::local::REDIS_VERSION;
use super::shared::Shared;

/// The sections INFO was asked for.
#[derive(Debug, Clone)]
pub struct Sections {
    names: Vec<String>,
    all: bool,
}

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "keyspace",
];

impl Sections {
    /// From INFO's arguments: none means `default`.
    pub fn parse(args: &[&[u8]]) -> Sections {
        let mut names: Vec<String> = args
            .iter()
            .map(|arg| String::from_utf8_lossy(arg).to_ascii_lowercase())
            .collect();
        let all = names
            .iter()
            .any(|name| name == "all" || name == "everything");
        if names.is_empty() || names.iter().any(|name| name == "default") {
            names.extend(DEFAULT_SECTIONS.iter().map(|name| name.to_string()));
        }
        Sections { names, all }
    }

    fn wants(&self, section: &str) -> bool {
        self.all || self.names.iter().any(|name| name == section)
    }

    /// Whether the keyspace section (which needs every shard) is wanted.
    pub fn wants_keyspace(&self) -> bool {
        self.wants("keyspace")
    }
}

/// Resident set size in bytes, from /proc.
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|text| {
            text.split_whitespace()
                .nth(1)
                .and_then(|pages| pages.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// User and system CPU seconds of the process.
fn cpu_seconds() -> (f64, f64) {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    (seconds(usage.ru_utime), seconds(usage.ru_stime))
}

/// Renders the requested sections; `keyspace` has per-database (keys,
/// keys with expiry) when that section is wanted.
pub fn render(shared: &Shared, sections: &Sections, keyspace: Option<&[(usize, usize)]>) -> String {
    let mut text = String::new();
    let mut section = |name: &str, title: &str, body: String| {
        if sections.wants(name) {
            if !text.is_empty() {
                text.push_str("\r\n");
            }
            let _ = write!(text, "# {title}\r\n{body}");
        }
    };
    let uptime = shared.started.elapsed().as_secs();
    let (maxclients, hz) = shared
        .config
        .lock()
        .map_or((10_000, 10), |config| (config.max_clients(), config.hz()));
    section(
        "server",
        "Server",
        format!(
            "redis_version:{REDIS_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmultiplexing_api:{}\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{:040x}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:{hz}\r\nconfigured_hz:{hz}\r\nexecutable:shoal-server\r\nconfig_file:\r\nshoal_workers:{}\r\nshoal_placement:{}\r\n",
            std::env::consts::OS,
            std::env::consts::ARCH,
            shared.io_backend,
            std::process::id(),
            shared.started.elapsed().as_nanos() ^ u128::from(std::process::id()),
            shared.port,
            super::unix_ms() * 1000,
            uptime / 86400,
            shared.workers,
            shared.placement.replace('\n', "; "),
        ),
    );
    section(
        "clients",
        "Clients",
        format!(
            "connected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{maxclients}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n",
            shared.connected_clients(),
            shared
                .stats
                .iter()
                .map(|stats| stats.blocked_clients.load(Ordering::Relaxed))
                .sum::<usize>(),
        ),
    );
    let rss = rss_bytes();
    section(
        "memory",
        "Memory",
        format!("used_memory:{rss}\r\nused_memory_human:{:.2}M\r\nused_memory_rss:{rss}\r\nused_memory_peak:{rss}\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\nmem_fragmentation_ratio:1.00\r\nlazyfree_pending_objects:0\r\n", rss as f64 / 1048576.0),
    );
    section(
        "persistence",
        "Persistence",
        "loading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\nrdb_last_bgsave_status:ok\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\n".to_string(),
    );
    section(
        "stats",
        "Stats",
        format!(
            "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:0\r\npubsub_patterns:0\r\ntotal_error_replies:{}\r\ntracking_total_keys:0\r\n",
            shared.total(|s| &s.connections),
            shared.total(|s| &s.commands),
            shared.total(|s| &s.ops_per_sec),
            shared.total(|s| &s.net_input_bytes),
            shared.total(|s| &s.net_output_bytes),
            shared.total(|s| &s.rejected),
            shared.total(|s| &s.keyspace.expired_keys),
            shared.total(|s| &s.keyspace.keyspace_hits),
            shared.total(|s| &s.keyspace.keyspace_misses),
            shared.total(|s| &s.errors),
        ),
    );
    section(
        "replication",
        "Replication",
        "role:master\r\nconnected_slaves:0\r\nmaster_repl_offset:0\r\n".to_string(),
    );
    let (user, system) = cpu_seconds();
    section(
        "cpu",
        "CPU",
        format!("used_cpu_sys:{system:.6}\r\nused_cpu_user:{user:.6}\r\n"),
    );
    let mut stats_body = String::new();
    for (index, spec) in crate::cmd::COMMANDS.iter().enumerate() {
        let calls: u64 = shared
            .stats
            .iter()
            .map(|stats| stats.per_command[index].calls.load(Ordering::Relaxed))
            .sum();
        if calls == 0 {
            continue;
        }
        let usec: u64 = shared
            .stats
            .iter()
            .map(|stats| stats.per_command[index].usec.load(Ordering::Relaxed))
            .sum();
        let _ = write!(
            stats_body,
            "cmdstat_{}:calls={calls},usec={usec},usec_per_call={:.2},rejected_calls=0,failed_calls=0\r\n",
            spec.name,
            usec as f64 / calls as f64
        );
    }
    section("commandstats", "Commandstats", stats_body);
    if let Some(counts) = keyspace {
        let mut body = String::new();
        for (db, (keys, expires)) in counts.iter().enumerate() {
            if *keys > 0 {
                let _ = write!(body, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
            }
        }
        section("keyspace", "Keyspace", body);
    }
    text
}
