// Accessors exist for every implemented option; the ones later features
// read (persistence, logging, eviction) are not called yet.
#![allow(dead_code)]
//! The server's configuration, read the way `redis-server` reads its own:
//! `shoal-server [config-file] [--name value ...]`.
//!
//! - The optional first argument, when it does not start with `-`, names a
//!   redis.conf-style file: one `name arg...` per line, `#` comments, blank
//!   lines, and arguments quoted as Redis's `sdssplitargs` quotes them.
//! - Each `--name` flag is then turned into one more configuration line, its
//!   values quoted so that they arrive byte for byte, exactly as Redis builds
//!   its "options" string; later lines override earlier ones.
//!
//! Every option is one row of [`OPTIONS`]: name (and Redis's alias), kind of
//! value, default, whether `CONFIG SET` may change it, and whether Shoal
//! implements it or only accepts it so that any real redis.conf loads (those
//! produce one warning each). Loading, `CONFIG GET`, `CONFIG SET`, the
//! warnings and the typed accessors are all derived from that table. Redis's
//! rows follow the `standardConfig` table of Redis 7.0 in its order, so the
//! two can be compared line by line.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::glob::glob_match;

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

/// A configuration file larger than this is refused rather than read: real
/// ones are a few hundred kilobytes at most.
const CONFIG_FILE_MAX_BYTES: u64 = 16 << 20;
/// Redis's `CONFIG_BINDADDR_MAX`.
const BIND_ADDRESSES_MAX: usize = 16;
/// Redis accepts any `hz` but runs within `CONFIG_MIN_HZ..=CONFIG_MAX_HZ`.
const HZ_MIN: i128 = 1;
const HZ_MAX: i128 = 500;
/// The most worker threads `threads` may ask for.
const THREADS_MAX: i128 = 1024;
/// The highest CPU number `cpus` may name (Linux's largest `NR_CPUS`).
const CPU_ID_MAX: u32 = 8191;
/// The largest per-mailbox capacity, in messages.
const MAILBOX_CAPACITY_MAX: i128 = 1 << 20;

const INT_MIN: i128 = i32::MIN as i128;
const INT_MAX: i128 = i32::MAX as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// The server's configuration: one validated value per row of [`OPTIONS`],
/// read through typed accessors such as [`Config::port`].
#[derive(Clone)]
pub struct Config {
    values: Vec<Value>,
    config_file: Option<PathBuf>,
}

/// Why the configuration could not be loaded. Its text names the option and
/// where it was set; the binary prints it and exits with status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// `loglevel`: which messages the server logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Much that is rarely useful.
    Verbose,
    /// What a production server should log.
    Notice,
    /// Only what is important or critical.
    Warning,
}

/// `io-backend`: how worker threads wait for sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoBackend {
    /// io_uring where the kernel offers it, epoll otherwise.
    Auto,
    /// io_uring, or fail to start.
    Uring,
    /// epoll.
    Epoll,
}

/// One `bind` address. Redis marks addresses that may be unavailable (such as
/// `::1` on hosts without IPv6) with a leading `-`; those are skipped with a
/// warning rather than stopping the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindAddress {
    /// The address without its `-`; `*` means every IPv4 address and `::*`
    /// every IPv6 one.
    pub host: String,
    /// Whether failing to listen on it is not fatal.
    pub optional: bool,
}

/// The output buffer limit of one class of clients; 0 disables a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputBufferLimit {
    /// A client whose pending output exceeds this is disconnected at once.
    pub hard_limit_bytes: u64,
    /// A client whose pending output stays above this for
    /// `soft_limit_seconds` is disconnected.
    pub soft_limit_bytes: u64,
    /// How long the soft limit may be exceeded.
    pub soft_limit_seconds: u32,
}

/// `client-output-buffer-limit`, per class of client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOutputBufferLimits {
    /// Ordinary clients.
    pub normal: OutputBufferLimit,
    /// Replicas (Redis's "slave" class).
    pub replica: OutputBufferLimit,
    /// Clients subscribed to at least one channel or pattern.
    pub pubsub: OutputBufferLimit,
}

impl Default for Config {
    /// Every option at its default, as `redis-server` starts without a file
    /// (except `bind`, see its row).
    fn default() -> Self {
        let values = OPTIONS.iter().map(default_value).collect();
        Config {
            values,
            config_file: None,
        }
    }
}

impl Config {
    /// Reads the command line (without the program name) and the
    /// configuration file it names. Returns the configuration and the
    /// warnings to log: one per ignored option that was set.
    pub fn from_args(args: &[String]) -> Result<(Config, Vec<String>), ConfigError> {
        let mut loader = Loader {
            config: Config::default(),
            seen: HashSet::new(),
            warned: HashSet::new(),
            warnings: Vec::new(),
        };
        let (config_file, flags) = match args.first() {
            Some(first) if !first.starts_with('-') => (Some(Path::new(first)), &args[1..]),
            _ => (None, args),
        };
        if let Some(path) = config_file {
            let text = read_config_file(path)?;
            loader.load_text(&text, &Source::File(path))?;
            loader.config.config_file =
                Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
        }
        let options = options_from_flags(flags, config_file.is_some())?;
        loader.load_text(&options, &Source::CommandLine)?;
        Ok((loader.config, loader.warnings))
    }

    /// `CONFIG GET pattern`: every option whose name (or alias) matches the
    /// glob, ignoring case, as `(name, value)` in table order with values
    /// rendered as Redis renders them. A pattern without `*`, `?` or `[` is
    /// looked up directly, finds hidden options too and is echoed as given.
    pub fn get(&self, pattern: &[u8]) -> Vec<(String, String)> {
        self.get_many(&[pattern])
    }

    /// `CONFIG GET pattern [pattern ...]`: the union of [`Config::get`] over
    /// the patterns, each option once.
    pub fn get_many(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut found: Vec<(String, usize)> = Vec::new();
        let already_found = |found: &[(String, usize)], name: &[u8]| {
            found
                .iter()
                .any(|(key, _)| key.as_bytes().eq_ignore_ascii_case(name))
        };
        for &pattern in patterns {
            if !pattern.iter().any(|byte| b"[*?".contains(byte)) {
                if let Some(row) = find_option(pattern) {
                    if !already_found(&found, pattern) {
                        found.push((String::from_utf8_lossy(pattern).into_owned(), row.index));
                    }
                }
                continue;
            }
            for (index, spec) in OPTIONS.iter().enumerate().filter(|(_, spec)| !spec.hidden) {
                for name in spec.names() {
                    if !already_found(&found, name.as_bytes())
                        && glob_match(pattern, name.as_bytes(), true)
                    {
                        found.push((name.to_owned(), index));
                    }
                }
            }
        }
        found
            .into_iter()
            .map(|(name, index)| (name, render(&OPTIONS[index].kind, &self.values[index])))
            .collect()
    }

    /// `CONFIG SET name value`. The error is the reply Redis 7.0 sends,
    /// without the leading `-`.
    pub fn set(&mut self, name: &[u8], value: &[u8]) -> Result<(), String> {
        self.set_many(&[(name, value)])
    }

    /// `CONFIG SET name value [name value ...]`: all of them or none, with
    /// Redis's checks in Redis's order (unknown, immutable or protected, and
    /// repeated names first; then each value).
    pub fn set_many(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), String> {
        let rows = self.rows_to_set(pairs)?;
        let mut updated = self.clone();
        for (row, (_, value)) in rows.iter().zip(pairs) {
            let spec = &OPTIONS[row.index];
            let args = split_set_value(&spec.kind, value);
            updated.values[row.index] =
                parse_value(&spec.kind, &args, &self.values[row.index], false).map_err(
                    |reason| {
                        format!(
                            "ERR CONFIG SET failed (possibly related to argument '{}') - {reason}",
                            row.name
                        )
                    },
                )?;
        }
        *self = updated;
        Ok(())
    }

    /// The rows `CONFIG SET` names, or Redis's error for the first name that
    /// is unknown, may not be set, or repeats an earlier one.
    fn rows_to_set(&self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<Row>, String> {
        let mut rows: Vec<Row> = Vec::with_capacity(pairs.len());
        for &(name, _) in pairs {
            let Some(row) = find_option(name) else {
                return Err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                    reply_safe(name)
                ));
            };
            let spec = &OPTIONS[row.index];
            let refusal = if !spec.mutable {
                Some("can't set immutable config")
            } else if spec.protected && !self.protected_configs_allowed() {
                Some("can't set protected config")
            } else if rows
                .iter()
                .any(|earlier| earlier.index == row.index && earlier.name == row.name)
            {
                // Redis tells a name from its alias here, so "CONFIG SET
                // replica-priority 1 slave-priority 2" is not a repeat.
                Some("duplicate parameter")
            } else {
                None
            };
            if let Some(reason) = refusal {
                return Err(format!(
                    "ERR CONFIG SET failed (possibly related to argument '{}') - {reason}",
                    reply_safe(name)
                ));
            }
            rows.push(row);
        }
        Ok(rows)
    }

    /// Whether `CONFIG SET` may change `dir` and `dbfilename`. Redis also
    /// allows it to local clients under "local"; this layer does not know
    /// where a client connects from, so only "yes" allows it.
    fn protected_configs_allowed(&self) -> bool {
        self.code(ENABLE_PROTECTED_CONFIGS) == PROTECTED_ACTION_YES
    }
}

// Typed accessors for the options Shoal implements. Each value was checked
// against its row's bounds when it was set, which the conversions rely on.
impl Config {
    /// `port`: the TCP port to listen on; 0 means do not listen on TCP.
    pub fn port(&self) -> u16 {
        u16::try_from(self.number(PORT)).expect("the port row bounds it to 0..=65535")
    }

    /// `bind`: the addresses to listen on. Empty means no TCP listener at
    /// all, as in Redis (`bind ""`).
    pub fn bind_addresses(&self) -> Vec<BindAddress> {
        let to_address = |word: &Vec<u8>| match word.strip_prefix(b"-") {
            Some(host) => BindAddress {
                host: String::from_utf8_lossy(host).into_owned(),
                optional: true,
            },
            None => BindAddress {
                host: String::from_utf8_lossy(word).into_owned(),
                optional: false,
            },
        };
        self.words(BIND).iter().map(to_address).collect()
    }

    /// `protected-mode`: while no password is set, refuse clients that do
    /// not connect over loopback (Redis 7 no longer looks at `bind` here).
    pub fn protected_mode(&self) -> bool {
        self.flag(PROTECTED_MODE)
    }

    /// `databases`: how many logical databases SELECT can choose from.
    pub fn databases(&self) -> usize {
        usize::try_from(self.number(DATABASES)).expect("the databases row bounds it to 1..=INT_MAX")
    }

    /// `requirepass`: the password of the default user; `None` when empty.
    pub fn requirepass(&self) -> Option<&[u8]> {
        Some(self.text(REQUIREPASS)).filter(|password| !password.is_empty())
    }

    /// `timeout`: close a client idle for this long; 0 never does.
    pub fn timeout_s(&self) -> u64 {
        u64::try_from(self.number(TIMEOUT)).expect("the timeout row bounds it to 0..=INT_MAX")
    }

    /// `tcp-keepalive`: the TCP keepalive period; 0 disables keepalives.
    pub fn tcp_keepalive_s(&self) -> u64 {
        u64::try_from(self.number(TCP_KEEPALIVE))
            .expect("the tcp-keepalive row bounds it to 0..=INT_MAX")
    }

    /// `maxclients`: the most clients connected at once.
    pub fn max_clients(&self) -> u64 {
        u64::try_from(self.number(MAXCLIENTS))
            .expect("the maxclients row bounds it to 1..=UINT_MAX")
    }

    /// `proto-max-bulk-len`: the longest bulk string a request may carry.
    pub fn proto_max_bulk_len_bytes(&self) -> u64 {
        u64::try_from(self.number(PROTO_MAX_BULK_LEN))
            .expect("the proto-max-bulk-len row bounds it to 1mb..=LONG_MAX")
    }

    /// `client-query-buffer-limit`: the most unparsed input kept per client.
    pub fn client_query_buffer_limit_bytes(&self) -> u64 {
        u64::try_from(self.number(CLIENT_QUERY_BUFFER_LIMIT))
            .expect("the client-query-buffer-limit row bounds it to 1mb..=LONG_MAX")
    }

    /// `client-output-buffer-limit`, per class of client.
    pub fn client_output_buffer_limits(&self) -> ClientOutputBufferLimits {
        match &self.values[CLIENT_OUTPUT_BUFFER_LIMIT] {
            Value::OutputLimits([normal, replica, pubsub]) => ClientOutputBufferLimits {
                normal: *normal,
                replica: *replica,
                pubsub: *pubsub,
            },
            other => unreachable!("client-output-buffer-limit holds {other:?}"),
        }
    }

    /// `hz`: how often per second background tasks run.
    pub fn hz(&self) -> u32 {
        u32::try_from(self.number(HZ)).expect("the hz row clamps it to 1..=500")
    }

    /// `slowlog-log-slower-than`: log commands slower than this; a negative
    /// value disables the slow log, 0 logs every command.
    pub fn slowlog_log_slower_than_us(&self) -> i64 {
        i64::try_from(self.number(SLOWLOG_LOG_SLOWER_THAN))
            .expect("the slowlog-log-slower-than row bounds it to -1..=LONG_MAX")
    }

    /// `slowlog-max-len`: how many entries the slow log keeps.
    pub fn slowlog_max_len(&self) -> u64 {
        u64::try_from(self.number(SLOWLOG_MAX_LEN))
            .expect("the slowlog-max-len row bounds it to 0..=LONG_MAX")
    }

    /// `maxmemory`: the memory limit for data; 0 means no limit.
    pub fn maxmemory_bytes(&self) -> u64 {
        u64::try_from(self.number(MAXMEMORY))
            .expect("the maxmemory row bounds it to 0..=ULLONG_MAX")
    }

    /// `lfu-log-factor` and `lfu-decay-time` when `maxmemory-policy` is an
    /// LFU policy (keys then keep access frequencies, not access times).
    pub fn lfu_settings(&self) -> Option<(u32, u32)> {
        let policy = MAXMEMORY_POLICIES
            .iter()
            .find(|(_, code)| *code == self.code(MAXMEMORY_POLICY))
            .map_or("", |(name, _)| name);
        policy.ends_with("-lfu").then(|| {
            let bounded =
                |row| u32::try_from(self.number(row)).expect("rows bound it to 0..=INT_MAX");
            (bounded(LFU_LOG_FACTOR), bounded(LFU_DECAY_TIME))
        })
    }

    /// The thresholds at which compact collection encodings convert
    /// (`hash-max-listpack-entries` and the rest).
    pub fn encoding_limits(&self) -> EncodingLimits {
        // Every row is bounded to a u64-or-i64 range, so these cannot fail.
        let unsigned = |row| u64::try_from(self.number(row)).unwrap_or(u64::MAX);
        EncodingLimits {
            hash_max_listpack_entries: unsigned(HASH_MAX_LISTPACK_ENTRIES),
            hash_max_listpack_value: unsigned(HASH_MAX_LISTPACK_VALUE),
            list_max_listpack_size: self.number(LIST_MAX_LISTPACK_SIZE) as i64,
            list_compress_depth: unsigned(LIST_COMPRESS_DEPTH),
            set_max_intset_entries: unsigned(SET_MAX_INTSET_ENTRIES),
            zset_max_listpack_entries: unsigned(ZSET_MAX_LISTPACK_ENTRIES),
            zset_max_listpack_value: unsigned(ZSET_MAX_LISTPACK_VALUE),
        }
    }

    /// `dir`: the working directory, absolute; empty if the current
    /// directory could not be determined at startup.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(OsString::from_vec(self.text(DIR).to_vec()))
    }

    /// `logfile`: where to log; `None` means standard output.
    pub fn logfile(&self) -> Option<PathBuf> {
        Some(self.text(LOGFILE))
            .filter(|path| !path.is_empty())
            .map(|path| PathBuf::from(OsString::from_vec(path.to_vec())))
    }

    /// `loglevel`.
    pub fn loglevel(&self) -> LogLevel {
        match self.code(LOGLEVEL) {
            0 => LogLevel::Debug,
            1 => LogLevel::Verbose,
            2 => LogLevel::Notice,
            _ => LogLevel::Warning,
        }
    }

    /// `threads` (Shoal): how many worker threads to run; 0 means one per
    /// CPU in [`Config::cpus`].
    pub fn threads(&self) -> usize {
        usize::try_from(self.number(THREADS)).expect("the threads row bounds it to 0..=THREADS_MAX")
    }

    /// `cpus` (Shoal): the CPUs to place workers on, ascending; empty means
    /// every CPU the process may run on.
    pub fn cpus(&self) -> Vec<usize> {
        match &self.values[CPUS] {
            Value::Integers(cpus) => cpus
                .iter()
                .map(|&cpu| usize::try_from(cpu).expect("CPU numbers are checked to be small"))
                .collect(),
            other => unreachable!("cpus holds {other:?}"),
        }
    }

    /// `io-backend` (Shoal).
    pub fn io_backend(&self) -> IoBackend {
        match self.code(IO_BACKEND) {
            1 => IoBackend::Uring,
            2 => IoBackend::Epoll,
            _ => IoBackend::Auto,
        }
    }

    /// `transaction-timeout` (Shoal): milliseconds a BEGIN transaction may
    /// stay open before it is aborted; 0: no limit.
    pub fn transaction_timeout_ms(&self) -> u64 {
        u64::try_from(self.number(TRANSACTION_TIMEOUT))
            .expect("the transaction-timeout row bounds it to 0..=INT_MAX")
    }

    /// `mailbox-capacity` (Shoal): messages each cross-thread mailbox holds;
    /// always a power of two.
    pub fn mailbox_capacity(&self) -> usize {
        let capacity = usize::try_from(self.number(MAILBOX_CAPACITY))
            .expect("the mailbox-capacity row bounds it");
        debug_assert!(capacity.is_power_of_two());
        capacity
    }

    /// The configuration file given on the command line, made absolute.
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    fn number(&self, row: usize) -> i128 {
        match &self.values[row] {
            Value::Number(number) => *number,
            other => unreachable!("{} holds {other:?}", OPTIONS[row].name),
        }
    }

    fn flag(&self, row: usize) -> bool {
        match &self.values[row] {
            Value::Bool(flag) => *flag,
            other => unreachable!("{} holds {other:?}", OPTIONS[row].name),
        }
    }

    fn text(&self, row: usize) -> &[u8] {
        match &self.values[row] {
            Value::Text(text) => text,
            other => unreachable!("{} holds {other:?}", OPTIONS[row].name),
        }
    }

    fn code(&self, row: usize) -> u32 {
        match &self.values[row] {
            Value::Code(code) => *code,
            other => unreachable!("{} holds {other:?}", OPTIONS[row].name),
        }
    }

    fn words(&self, row: usize) -> &[Vec<u8>] {
        match &self.values[row] {
            Value::Words(words) => words,
            other => unreachable!("{} holds {other:?}", OPTIONS[row].name),
        }
    }
}

impl fmt::Debug for Config {
    /// The options Shoal implements, passwords redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (spec, value) in OPTIONS
            .iter()
            .zip(&self.values)
            .filter(|(spec, _)| matches!(spec.support, Support::Implemented))
        {
            if spec.sensitive {
                map.entry(&spec.name, &"(redacted)");
            } else {
                map.entry(&spec.name, &render(&spec.kind, value));
            }
        }
        map.finish()
    }
}

// ---------------------------------------------------------------------------
// The option table
// ---------------------------------------------------------------------------

/// One configuration option.
struct OptionSpec {
    name: &'static str,
    /// Redis's older name for it, accepted and listed alongside.
    alias: Option<&'static str>,
    kind: Kind,
    /// The default, written as `CONFIG SET` would take it.
    default: &'static str,
    /// Whether `CONFIG SET` may change it.
    mutable: bool,
    /// Whether `CONFIG SET` may change it only when
    /// `enable-protected-configs` allows.
    protected: bool,
    /// Whether only an exact `CONFIG GET name` shows it, not a pattern.
    hidden: bool,
    /// Whether its value is a secret, kept out of debug output.
    sensitive: bool,
    support: Support,
}

/// What Shoal does with an option.
enum Support {
    /// Shoal honours it.
    Implemented,
    /// Accepted and shown by `CONFIG GET`, but without effect; setting it in
    /// the file or flags logs one warning, giving this reason.
    Ignored(&'static str),
}

/// How an option's value is written, checked and shown.
enum Kind {
    /// `yes` or `no`.
    YesNo,
    Number(NumberSpec),
    /// Any text, checked by the function when there is one.
    Text(Option<TextCheck>),
    /// One of the names; names sharing a code are synonyms and the first
    /// one is shown.
    Choice(&'static [(&'static str, u32)]),
    /// `shutdown-on-sigint`/`-sigterm`: a set of shutdown flags.
    ShutdownFlags,
    /// `save`: pairs of seconds and changes.
    Save,
    /// `bind`: up to 16 addresses.
    Bind,
    /// `client-output-buffer-limit`: `class hard soft seconds` quadruples.
    ClientOutputBufferLimit,
    /// `oom-score-adj-values`: three scores.
    OomScoreAdjValues,
    /// `notify-keyspace-events`: a set of event class letters.
    KeyspaceEvents,
    /// `replicaof`: `host port` or `no one`.
    ReplicaOf,
    /// `latency-tracking-info-percentiles`: percentiles from 0 to 100.
    Percentiles,
    /// `dir`: a directory, resolved to an absolute path.
    Dir,
    /// `cpus` (Shoal): a list of CPUs such as `0-3,8`.
    CpuList,
}

/// Refuses a text value with Redis's reason.
type TextCheck = fn(&[u8]) -> Result<(), &'static str>;

struct NumberSpec {
    syntax: NumberSyntax,
    min: i128,
    max: i128,
    adjust: Adjust,
}

/// How a number is written (Redis's `INTEGER_CONFIG`, `MEMORY_CONFIG`, ...).
#[derive(Clone, Copy, PartialEq, Eq)]
enum NumberSyntax {
    /// A strict decimal integer, as `string2ll` reads it.
    Integer,
    /// Bytes with an optional unit: `b`, `k`, `kb`, `m`, `mb`, `g`, `gb`.
    Memory,
    /// A memory value or a percentage such as `10%`, stored negated.
    MemoryOrPercent,
    /// An octal integer, as `strtoll(.., 8)` reads it.
    Octal,
}

/// What happens to a number that passed its bounds.
#[derive(Clone, Copy)]
enum Adjust {
    None,
    /// Redis takes any `hz` but runs within these bounds.
    Clamp(i128, i128),
    /// Rounded up to the next power of two.
    PowerOfTwo,
}

/// A validated option value; which variant each [`Kind`] holds is fixed.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Bool(bool),
    Number(i128),
    Text(Vec<u8>),
    Code(u32),
    Words(Vec<Vec<u8>>),
    Save(Vec<SaveRule>),
    OutputLimits([OutputBufferLimit; 3]),
    Integers(Vec<i64>),
    Floats(Vec<f64>),
    ReplicaOf(Option<(Vec<u8>, i64)>),
}

/// `save seconds changes`: snapshot after `seconds` if `changes` writes
/// happened. Stored with Redis's C types so that odd input shows as in Redis.
#[derive(Clone, Copy, Debug, PartialEq)]
struct SaveRule {
    seconds: i64,
    changes: i32,
}

const NOT_IMPLEMENTED: &str = "Shoal does not implement it";
const NO_PERSISTENCE: &str = "Shoal keeps its data in memory only";
const NO_REPLICATION: &str = "Shoal has no replication or cluster mode";
const NO_TLS: &str = "Shoal does not implement TLS";
const FOREGROUND: &str = "Shoal always runs in the foreground";
const USE_THREADS: &str = "Shoal sizes its workers with 'threads'";
const USE_CPUS: &str = "Shoal places its workers with 'cpus'";

const fn option(name: &'static str, kind: Kind, default: &'static str) -> OptionSpec {
    OptionSpec {
        name,
        alias: None,
        kind,
        default,
        mutable: true,
        protected: false,
        hidden: false,
        sensitive: false,
        support: Support::Ignored(NOT_IMPLEMENTED),
    }
}

const fn yes_no(name: &'static str, default: &'static str) -> OptionSpec {
    option(name, Kind::YesNo, default)
}

const fn number(
    name: &'static str,
    syntax: NumberSyntax,
    min: i128,
    max: i128,
    default: &'static str,
) -> OptionSpec {
    option(
        name,
        Kind::Number(NumberSpec {
            syntax,
            min,
            max,
            adjust: Adjust::None,
        }),
        default,
    )
}

const fn integer(name: &'static str, min: i128, max: i128, default: &'static str) -> OptionSpec {
    number(name, NumberSyntax::Integer, min, max, default)
}

const fn memory(name: &'static str, min: i128, max: i128, default: &'static str) -> OptionSpec {
    number(name, NumberSyntax::Memory, min, max, default)
}

const fn text(name: &'static str, default: &'static str) -> OptionSpec {
    option(name, Kind::Text(None), default)
}

const fn checked_text(name: &'static str, check: TextCheck, default: &'static str) -> OptionSpec {
    option(name, Kind::Text(Some(check)), default)
}

const fn choice(
    name: &'static str,
    choices: &'static [(&'static str, u32)],
    default: &'static str,
) -> OptionSpec {
    option(name, Kind::Choice(choices), default)
}

impl OptionSpec {
    const fn alias(mut self, alias: &'static str) -> Self {
        self.alias = Some(alias);
        self
    }

    const fn immutable(mut self) -> Self {
        self.mutable = false;
        self
    }

    const fn protected(mut self) -> Self {
        self.protected = true;
        self
    }

    const fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }

    const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    const fn implemented(mut self) -> Self {
        self.support = Support::Implemented;
        self
    }

    const fn ignored(mut self, reason: &'static str) -> Self {
        self.support = Support::Ignored(reason);
        self
    }

    const fn adjusted(mut self, adjust: Adjust) -> Self {
        if let Kind::Number(spec) = &mut self.kind {
            spec.adjust = adjust;
        }
        self
    }

    fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.alias)
    }
}

const SUPERVISED: &[(&str, u32)] = &[("upstart", 3), ("systemd", 2), ("auto", 1), ("no", 0)];
const SYSLOG_FACILITIES: &[(&str, u32)] = &[
    ("user", 0),
    ("local0", 1),
    ("local1", 2),
    ("local2", 3),
    ("local3", 4),
    ("local4", 5),
    ("local5", 6),
    ("local6", 7),
    ("local7", 8),
];
const REPL_DISKLESS_LOAD: &[(&str, u32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
/// The codes are what [`Config::loglevel`] maps back.
const LOG_LEVELS: &[(&str, u32)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const MAXMEMORY_POLICIES: &[(&str, u32)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const APPENDFSYNC: &[(&str, u32)] = &[("everysec", 2), ("always", 1), ("no", 0)];
/// "yes" and "relative" are synonyms; Redis shows "yes".
const OOM_SCORE_ADJ: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT: &[(&str, u32)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE_DUMP_PAYLOAD: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
const PROTECTED_ACTION_YES: u32 = 1;
const PROTECTED_ACTION: &[(&str, u32)] = &[("no", 0), ("yes", PROTECTED_ACTION_YES), ("local", 2)];
const CLUSTER_ENDPOINT_TYPES: &[(&str, u32)] =
    &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR_BEHAVIORS: &[(&str, u32)] =
    &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];
const TLS_AUTH_CLIENTS: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("optional", 2)];
/// The codes are what [`Config::io_backend`] maps back.
const IO_BACKENDS: &[(&str, u32)] = &[("auto", 0), ("uring", 1), ("epoll", 2)];
/// When compact collection encodings convert to full structures, with
/// Redis's option names and meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodingLimits {
    /// `hash-max-listpack-entries`: more fields make a hash a hashtable.
    pub hash_max_listpack_entries: u64,
    /// `hash-max-listpack-value`: a longer field or value does too.
    pub hash_max_listpack_value: u64,
    /// `list-max-listpack-size`: entries per quicklist node when positive;
    /// -1 to -5 cap each node at 4, 8, 16, 32 or 64 KiB.
    pub list_max_listpack_size: i64,
    /// `list-compress-depth`: accepted; nodes are not compressed.
    pub list_compress_depth: u64,
    /// `set-max-intset-entries`: more integers make a set a hashtable.
    pub set_max_intset_entries: u64,
    /// `zset-max-listpack-entries`: more members make a sorted set a skiplist.
    pub zset_max_listpack_entries: u64,
    /// `zset-max-listpack-value`: a longer member does too.
    pub zset_max_listpack_value: u64,
}

impl Default for EncodingLimits {
    /// Redis 7.0's defaults.
    fn default() -> EncodingLimits {
        EncodingLimits {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
        }
    }
}

/// Redis's shutdown flags, in the order Redis lists and shows them.
const SHUTDOWN_FLAGS: &[(&str, u32)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];

/// Every option Shoal knows. Rows without `.implemented()` are accepted for
/// compatibility and ignored. The Redis rows mirror Redis 7.0's
/// `standardConfig` table, in its order (7.2's additions stay out, so
/// `CONFIG GET *` answers as Redis 7.0 does); Shoal's own options come last.
#[rustfmt::skip]
const OPTIONS: &[OptionSpec] = &[
    // Yes/no options.
    yes_no("rdbchecksum", "yes").immutable().ignored(NO_PERSISTENCE),
    yes_no("daemonize", "no").immutable().ignored(FOREGROUND),
    yes_no("io-threads-do-reads", "no").immutable().ignored(USE_THREADS),
    yes_no("always-show-logo", "no").immutable(),
    yes_no("protected-mode", "yes").implemented(),
    yes_no("rdbcompression", "yes").ignored(NO_PERSISTENCE),
    yes_no("rdb-del-sync-files", "no").ignored(NO_PERSISTENCE),
    yes_no("activerehashing", "yes"),
    yes_no("stop-writes-on-bgsave-error", "yes").ignored(NO_PERSISTENCE),
    yes_no("set-proc-title", "yes").immutable(),
    yes_no("dynamic-hz", "yes"),
    yes_no("lazyfree-lazy-eviction", "no"),
    yes_no("lazyfree-lazy-expire", "no"),
    yes_no("lazyfree-lazy-server-del", "no"),
    yes_no("lazyfree-lazy-user-del", "no"),
    yes_no("lazyfree-lazy-user-flush", "no"),
    yes_no("repl-disable-tcp-nodelay", "no").ignored(NO_REPLICATION),
    yes_no("repl-diskless-sync", "yes").ignored(NO_REPLICATION),
    yes_no("aof-rewrite-incremental-fsync", "yes").ignored(NO_PERSISTENCE),
    yes_no("no-appendfsync-on-rewrite", "no").ignored(NO_PERSISTENCE),
    yes_no("cluster-require-full-coverage", "yes").ignored(NO_REPLICATION),
    yes_no("rdb-save-incremental-fsync", "yes").ignored(NO_PERSISTENCE),
    yes_no("aof-load-truncated", "yes").ignored(NO_PERSISTENCE),
    yes_no("aof-use-rdb-preamble", "yes").ignored(NO_PERSISTENCE),
    yes_no("aof-timestamp-enabled", "no").ignored(NO_PERSISTENCE),
    yes_no("cluster-replica-no-failover", "no").alias("cluster-slave-no-failover").ignored(NO_REPLICATION),
    yes_no("replica-lazy-flush", "no").alias("slave-lazy-flush").ignored(NO_REPLICATION),
    yes_no("replica-serve-stale-data", "yes").alias("slave-serve-stale-data").ignored(NO_REPLICATION),
    yes_no("replica-read-only", "yes").alias("slave-read-only").ignored(NO_REPLICATION),
    yes_no("replica-ignore-maxmemory", "yes").alias("slave-ignore-maxmemory").ignored(NO_REPLICATION),
    yes_no("jemalloc-bg-thread", "yes"),
    yes_no("activedefrag", "no"),
    yes_no("syslog-enabled", "no").immutable(),
    yes_no("cluster-enabled", "no").immutable().ignored(NO_REPLICATION),
    yes_no("appendonly", "no").ignored(NO_PERSISTENCE),
    yes_no("cluster-allow-reads-when-down", "no").ignored(NO_REPLICATION),
    yes_no("cluster-allow-pubsubshard-when-down", "yes").ignored(NO_REPLICATION),
    yes_no("crash-log-enabled", "yes"),
    yes_no("crash-memcheck-enabled", "yes"),
    yes_no("use-exit-on-panic", "no").hidden(),
    yes_no("disable-thp", "yes").immutable(),
    yes_no("cluster-allow-replica-migration", "yes").ignored(NO_REPLICATION),
    yes_no("replica-announced", "yes").ignored(NO_REPLICATION),
    yes_no("latency-tracking", "yes"),
    yes_no("aof-disable-auto-gc", "no").ignored(NO_PERSISTENCE),
    yes_no("replica-ignore-disk-write-errors", "no").ignored(NO_REPLICATION),

    // Text options.
    text("aclfile", "").immutable(),
    text("unixsocket", "").immutable(),
    text("pidfile", "").immutable(),
    text("replica-announce-ip", "").alias("slave-announce-ip").ignored(NO_REPLICATION),
    text("masteruser", "").sensitive().ignored(NO_REPLICATION),
    text("cluster-announce-ip", "").ignored(NO_REPLICATION),
    text("cluster-config-file", "nodes.conf").immutable().ignored(NO_REPLICATION),
    checked_text("cluster-announce-hostname", check_hostname, "").ignored(NO_REPLICATION),
    text("syslog-ident", "redis").immutable(),
    checked_text("dbfilename", check_db_filename, "dump.rdb").protected().ignored(NO_PERSISTENCE),
    checked_text("appendfilename", check_aof_filename, "appendonly.aof").immutable().ignored(NO_PERSISTENCE),
    checked_text("appenddirname", check_aof_dirname, "appendonlydir").immutable().ignored(NO_PERSISTENCE),
    text("server_cpulist", "").immutable().ignored(USE_CPUS),
    text("bio_cpulist", "").immutable().ignored(USE_CPUS),
    text("aof_rewrite_cpulist", "").immutable().ignored(NO_PERSISTENCE),
    text("bgsave_cpulist", "").immutable().ignored(NO_PERSISTENCE),
    text("ignore-warnings", ""),
    checked_text("proc-title-template", check_proc_title_template, "{title} {listen-addr} {server-mode}"),
    text("bind-source-addr", "").ignored(NO_REPLICATION),
    text("logfile", "").immutable().implemented(),
    text("masterauth", "").sensitive().ignored(NO_REPLICATION),
    text("requirepass", "").sensitive().implemented(),

    // Choices.
    choice("supervised", SUPERVISED, "no").immutable().ignored(FOREGROUND),
    choice("syslog-facility", SYSLOG_FACILITIES, "local0").immutable(),
    choice("repl-diskless-load", REPL_DISKLESS_LOAD, "disabled").ignored(NO_REPLICATION),
    choice("loglevel", LOG_LEVELS, "notice").implemented(),
    choice("maxmemory-policy", MAXMEMORY_POLICIES, "noeviction"),
    choice("appendfsync", APPENDFSYNC, "everysec").ignored(NO_PERSISTENCE),
    choice("oom-score-adj", OOM_SCORE_ADJ, "no"),
    choice("acl-pubsub-default", ACL_PUBSUB_DEFAULT, "resetchannels"),
    choice("sanitize-dump-payload", SANITIZE_DUMP_PAYLOAD, "no"),
    // Honoured by CONFIG SET for the protected options below.
    choice("enable-protected-configs", PROTECTED_ACTION, "no").immutable().implemented(),
    choice("enable-debug-command", PROTECTED_ACTION, "no").immutable(),
    choice("enable-module-command", PROTECTED_ACTION, "no").immutable(),
    choice("cluster-preferred-endpoint-type", CLUSTER_ENDPOINT_TYPES, "ip").ignored(NO_REPLICATION),
    choice("propagation-error-behavior", PROPAGATION_ERROR_BEHAVIORS, "ignore").ignored(NO_REPLICATION),
    option("shutdown-on-sigint", Kind::ShutdownFlags, "default"),
    option("shutdown-on-sigterm", Kind::ShutdownFlags, "default"),

    // Numbers (Redis's int, unsigned, long, long long, size_t... options).
    integer("databases", 1, INT_MAX, "16").immutable().implemented(),
    // Listeners are not rebound at run time yet, so port and bind are fixed.
    integer("port", 0, 65535, "6379").implemented().immutable(),
    integer("io-threads", 1, 128, "1").immutable().ignored(USE_THREADS),
    integer("auto-aof-rewrite-percentage", 0, INT_MAX, "100").ignored(NO_PERSISTENCE),
    integer("cluster-replica-validity-factor", 0, INT_MAX, "10").alias("cluster-slave-validity-factor").ignored(NO_REPLICATION),
    integer("list-max-listpack-size", INT_MIN, INT_MAX, "-2").alias("list-max-ziplist-size"),
    integer("tcp-keepalive", 0, INT_MAX, "300").implemented(),
    integer("cluster-migration-barrier", 0, INT_MAX, "1").ignored(NO_REPLICATION),
    integer("active-defrag-cycle-min", 1, 99, "1"),
    integer("active-defrag-cycle-max", 1, 99, "25"),
    integer("active-defrag-threshold-lower", 0, 1000, "10"),
    integer("active-defrag-threshold-upper", 0, 1000, "100"),
    integer("lfu-log-factor", 0, INT_MAX, "10").implemented(),
    integer("lfu-decay-time", 0, INT_MAX, "1").implemented(),
    integer("replica-priority", 0, INT_MAX, "100").alias("slave-priority").ignored(NO_REPLICATION),
    integer("repl-diskless-sync-delay", 0, INT_MAX, "5").ignored(NO_REPLICATION),
    integer("maxmemory-samples", 1, INT_MAX, "5"),
    integer("maxmemory-eviction-tenacity", 0, 100, "10"),
    integer("timeout", 0, INT_MAX, "0").implemented(),
    integer("replica-announce-port", 0, 65535, "0").alias("slave-announce-port").ignored(NO_REPLICATION),
    integer("tcp-backlog", 0, INT_MAX, "511").immutable(),
    integer("cluster-port", 0, 65535, "0").immutable().ignored(NO_REPLICATION),
    integer("cluster-announce-bus-port", 0, 65535, "0").ignored(NO_REPLICATION),
    integer("cluster-announce-port", 0, 65535, "0").ignored(NO_REPLICATION),
    integer("cluster-announce-tls-port", 0, 65535, "0").ignored(NO_REPLICATION),
    integer("repl-timeout", 1, INT_MAX, "60").ignored(NO_REPLICATION),
    integer("repl-ping-replica-period", 1, INT_MAX, "10").alias("repl-ping-slave-period").ignored(NO_REPLICATION),
    integer("list-compress-depth", 0, INT_MAX, "0"),
    integer("rdb-key-save-delay", INT_MIN, INT_MAX, "0").hidden().ignored(NO_PERSISTENCE),
    integer("key-load-delay", INT_MIN, INT_MAX, "0").hidden().ignored(NO_PERSISTENCE),
    integer("active-expire-effort", 1, 10, "1"),
    integer("hz", 0, INT_MAX, "10").adjusted(Adjust::Clamp(HZ_MIN, HZ_MAX)).implemented(),
    integer("min-replicas-to-write", 0, INT_MAX, "0").alias("min-slaves-to-write").ignored(NO_REPLICATION),
    integer("min-replicas-max-lag", 0, INT_MAX, "10").alias("min-slaves-max-lag").ignored(NO_REPLICATION),
    integer("watchdog-period", 0, INT_MAX, "0").hidden(),
    integer("shutdown-timeout", 0, INT_MAX, "10"),
    integer("repl-diskless-sync-max-replicas", 0, INT_MAX, "0").ignored(NO_REPLICATION),
    integer("maxclients", 1, UINT_MAX, "10000").implemented(),
    number("unixsocketperm", NumberSyntax::Octal, 0, 0o777, "0").immutable(),
    integer("socket-mark-id", 0, UINT_MAX, "0").immutable(),
    integer("active-defrag-max-scan-fields", 1, LONG_MAX, "1000"),
    integer("slowlog-max-len", 0, LONG_MAX, "128").implemented(),
    integer("acllog-max-len", 0, LONG_MAX, "128"),
    integer("busy-reply-threshold", 0, LONG_MAX, "5000").alias("lua-time-limit"),
    integer("cluster-node-timeout", 0, LONG_MAX, "15000").ignored(NO_REPLICATION),
    integer("slowlog-log-slower-than", -1, LONG_MAX, "10000").implemented(),
    integer("latency-monitor-threshold", 0, LONG_MAX, "0"),
    memory("proto-max-bulk-len", 1 << 20, LONG_MAX, "536870912").implemented(),
    integer("stream-node-max-entries", 0, LONG_MAX, "100"),
    memory("repl-backlog-size", 1, LONG_MAX, "1048576").ignored(NO_REPLICATION),
    memory("maxmemory", 0, ULLONG_MAX, "0").implemented(),
    memory("cluster-link-sendbuf-limit", 0, ULLONG_MAX, "0").ignored(NO_REPLICATION),
    integer("hash-max-listpack-entries", 0, LONG_MAX, "512").alias("hash-max-ziplist-entries"),
    integer("set-max-intset-entries", 0, LONG_MAX, "512"),
    integer("zset-max-listpack-entries", 0, LONG_MAX, "128").alias("zset-max-ziplist-entries"),
    memory("active-defrag-ignore-bytes", 1, LONG_MAX, "104857600"),
    memory("hash-max-listpack-value", 0, LONG_MAX, "64").alias("hash-max-ziplist-value"),
    memory("stream-node-max-bytes", 0, LONG_MAX, "4096"),
    memory("zset-max-listpack-value", 0, LONG_MAX, "64").alias("zset-max-ziplist-value"),
    memory("hll-sparse-max-bytes", 0, LONG_MAX, "3000"),
    integer("tracking-table-max-keys", 0, LONG_MAX, "1000000"),
    memory("client-query-buffer-limit", 1 << 20, LONG_MAX, "1073741824").implemented(),
    number("maxmemory-clients", NumberSyntax::MemoryOrPercent, -100, LONG_MAX, "0"),
    integer("repl-backlog-ttl", 0, LONG_MAX, "3600").ignored(NO_REPLICATION),
    memory("auto-aof-rewrite-min-size", 0, LONG_MAX, "67108864").ignored(NO_PERSISTENCE),
    integer("loading-process-events-interval-bytes", 1024, INT_MAX, "2097152").hidden().ignored(NO_PERSISTENCE),

    // TLS.
    integer("tls-port", 0, 65535, "0").ignored(NO_TLS),
    integer("tls-session-cache-size", 0, INT_MAX, "20480").ignored(NO_TLS),
    integer("tls-session-cache-timeout", 0, INT_MAX, "300").ignored(NO_TLS),
    yes_no("tls-cluster", "no").ignored(NO_TLS),
    yes_no("tls-replication", "no").ignored(NO_TLS),
    choice("tls-auth-clients", TLS_AUTH_CLIENTS, "yes").ignored(NO_TLS),
    yes_no("tls-prefer-server-ciphers", "no").ignored(NO_TLS),
    yes_no("tls-session-caching", "yes").ignored(NO_TLS),
    text("tls-cert-file", "").ignored(NO_TLS),
    text("tls-key-file", "").ignored(NO_TLS),
    text("tls-key-file-pass", "").ignored(NO_TLS),
    text("tls-client-cert-file", "").ignored(NO_TLS),
    text("tls-client-key-file", "").ignored(NO_TLS),
    text("tls-client-key-file-pass", "").ignored(NO_TLS),
    text("tls-dh-params-file", "").ignored(NO_TLS),
    text("tls-ca-cert-file", "").ignored(NO_TLS),
    text("tls-ca-cert-dir", "").ignored(NO_TLS),
    text("tls-protocols", "").ignored(NO_TLS),
    text("tls-ciphers", "").ignored(NO_TLS),
    text("tls-ciphersuites", "").ignored(NO_TLS),

    // Options with their own syntax.
    option("dir", Kind::Dir, ".").protected().implemented(),
    option("save", Kind::Save, "3600 1 300 100 60 10000").ignored(NO_PERSISTENCE),
    option("client-output-buffer-limit", Kind::ClientOutputBufferLimit, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60").implemented(),
    option("oom-score-adj-values", Kind::OomScoreAdjValues, "0 200 800"),
    option("notify-keyspace-events", Kind::KeyspaceEvents, ""),
    // Redis binds "* -::*" without a file; Shoal defaults to the line in
    // Redis's stock redis.conf, loopback only, ::1 optional.
    option("bind", Kind::Bind, "127.0.0.1 -::1").implemented().immutable(),
    option("replicaof", Kind::ReplicaOf, "no one").alias("slaveof").immutable().ignored(NO_REPLICATION),
    option("latency-tracking-info-percentiles", Kind::Percentiles, "50 99 99.9"),

    // Shoal's own options.
    integer("threads", 0, THREADS_MAX, "0").immutable().implemented(),
    option("cpus", Kind::CpuList, "").immutable().implemented(),
    choice("io-backend", IO_BACKENDS, "auto").immutable().implemented(),
    integer("mailbox-capacity", 1, MAILBOX_CAPACITY_MAX, "1024").adjusted(Adjust::PowerOfTwo).immutable().implemented(),
    integer("transaction-timeout", 0, INT_MAX, "10000").implemented(),
];

/// The row of an option, found when the program is compiled.
const fn row(name: &str) -> usize {
    let mut index = 0;
    while index < OPTIONS.len() {
        if const_str_eq(OPTIONS[index].name, name) {
            return index;
        }
        index += 1;
    }
    panic!("an accessor names an option that has no row");
}

const fn const_str_eq(left: &str, right: &str) -> bool {
    let (left, right) = (left.as_bytes(), right.as_bytes());
    if left.len() != right.len() {
        return false;
    }
    let mut index = 0;
    while index < left.len() {
        if left[index] != right[index] {
            return false;
        }
        index += 1;
    }
    true
}

const PORT: usize = row("port");
const BIND: usize = row("bind");
const PROTECTED_MODE: usize = row("protected-mode");
const DATABASES: usize = row("databases");
const REQUIREPASS: usize = row("requirepass");
const TIMEOUT: usize = row("timeout");
const TCP_KEEPALIVE: usize = row("tcp-keepalive");
const MAXCLIENTS: usize = row("maxclients");
const PROTO_MAX_BULK_LEN: usize = row("proto-max-bulk-len");
const CLIENT_QUERY_BUFFER_LIMIT: usize = row("client-query-buffer-limit");
const CLIENT_OUTPUT_BUFFER_LIMIT: usize = row("client-output-buffer-limit");
const HZ: usize = row("hz");
const SLOWLOG_LOG_SLOWER_THAN: usize = row("slowlog-log-slower-than");
const SLOWLOG_MAX_LEN: usize = row("slowlog-max-len");
const MAXMEMORY: usize = row("maxmemory");
const MAXMEMORY_POLICY: usize = row("maxmemory-policy");
const LFU_LOG_FACTOR: usize = row("lfu-log-factor");
const HASH_MAX_LISTPACK_ENTRIES: usize = row("hash-max-listpack-entries");
const HASH_MAX_LISTPACK_VALUE: usize = row("hash-max-listpack-value");
const LIST_MAX_LISTPACK_SIZE: usize = row("list-max-listpack-size");
const LIST_COMPRESS_DEPTH: usize = row("list-compress-depth");
const SET_MAX_INTSET_ENTRIES: usize = row("set-max-intset-entries");
const ZSET_MAX_LISTPACK_ENTRIES: usize = row("zset-max-listpack-entries");
const ZSET_MAX_LISTPACK_VALUE: usize = row("zset-max-listpack-value");
const LFU_DECAY_TIME: usize = row("lfu-decay-time");
const DIR: usize = row("dir");
const LOGFILE: usize = row("logfile");
const LOGLEVEL: usize = row("loglevel");
const ENABLE_PROTECTED_CONFIGS: usize = row("enable-protected-configs");
const THREADS: usize = row("threads");
const CPUS: usize = row("cpus");
const IO_BACKEND: usize = row("io-backend");
const MAILBOX_CAPACITY: usize = row("mailbox-capacity");
const TRANSACTION_TIMEOUT: usize = row("transaction-timeout");

/// An option found by one of its names.
struct Row {
    index: usize,
    /// The name as the table spells it: the option's, or its alias.
    name: &'static str,
}

fn find_option(name: &[u8]) -> Option<Row> {
    OPTIONS.iter().enumerate().find_map(|(index, spec)| {
        spec.names()
            .find(|candidate| candidate.as_bytes().eq_ignore_ascii_case(name))
            .map(|name| Row { index, name })
    })
}

fn default_value(spec: &OptionSpec) -> Value {
    let args = split_set_value(&spec.kind, spec.default.as_bytes());
    let placeholder = Value::Text(Vec::new());
    // Only `dir` can fail, when the current directory is gone; Redis then
    // shows an empty `dir` too. The other defaults are checked by a test.
    parse_value(&spec.kind, &args, &placeholder, false).unwrap_or(placeholder)
}

// ---------------------------------------------------------------------------
// Loading the file and the flags
// ---------------------------------------------------------------------------

/// Where a configuration line came from, for error messages.
enum Source<'a> {
    File(&'a Path),
    CommandLine,
}

/// Options that Redis 7 still accepts, with two words, and ignores.
const DEPRECATED_OPTIONS: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// Redis directives that are not options, which Shoal refuses rather than
/// ignore: each would leave the server less protected or other than asked.
const UNSUPPORTED_DIRECTIVES: &[(&str, &str)] = &[
    ("include", "put every option in the one configuration file"),
    ("rename-command", "Shoal cannot rename or disable commands"),
    ("user", "Shoal has no ACL users; use requirepass"),
    ("loadmodule", "Shoal does not load modules"),
    ("sentinel", "Shoal has no sentinel mode"),
];

struct Loader {
    config: Config,
    /// Rows set so far, so that further `save` lines add to the first one,
    /// as in Redis.
    seen: HashSet<usize>,
    /// Rows already warned about, so that each warns once.
    warned: HashSet<usize>,
    warnings: Vec<String>,
}

impl Loader {
    /// Applies each line of a configuration text in order.
    fn load_text(&mut self, text: &[u8], source: &Source) -> Result<(), ConfigError> {
        for (line_index, line) in text.split(|&byte| byte == b'\n').enumerate() {
            let line = trim(line, b" \t\r\n\0");
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            self.load_line(line)
                .map_err(|message| locate(message, source, line_index + 1))?;
        }
        Ok(())
    }

    fn load_line(&mut self, line: &[u8]) -> Result<(), String> {
        let args = split_args(line).ok_or("unbalanced quotes in configuration line")?;
        let Some((name, values)) = args.split_first() else {
            return Ok(());
        };
        let name = name.to_ascii_lowercase();
        match find_option(&name) {
            Some(row) => self.load_option(&row, values),
            None => self.load_directive(&name, values),
        }
    }

    fn load_option(&mut self, row: &Row, values: &[Vec<u8>]) -> Result<(), String> {
        let spec = &OPTIONS[row.index];
        let many = spec.kind.takes_many_args();
        if !many && values.len() != 1 {
            return Err(format!("wrong number of arguments for '{}'", row.name));
        }
        // Like Redis, a list given as one argument ("--bind 'a b'") is split.
        let values = if many && values.len() == 1 && !values[0].is_empty() {
            split_args(&values[0])
                .ok_or_else(|| format!("unbalanced quotes in the value of '{}'", row.name))?
        } else {
            values.to_vec()
        };
        let accumulate = self.seen.contains(&row.index);
        let value = parse_value(
            &spec.kind,
            &values,
            &self.config.values[row.index],
            accumulate,
        )
        .map_err(|reason| {
            format!(
                "invalid value '{}' for '{}': {reason}",
                String::from_utf8_lossy(&values.join(&b' ')),
                row.name
            )
        })?;
        self.config.values[row.index] = value;
        self.seen.insert(row.index);
        if let Support::Ignored(reason) = spec.support {
            self.warn_once(
                row.index,
                format!(
                    "option '{}' is accepted for compatibility with Redis but ignored: {reason}",
                    row.name
                ),
            );
        }
        Ok(())
    }

    fn load_directive(&mut self, name: &[u8], values: &[Vec<u8>]) -> Result<(), String> {
        let shown = String::from_utf8_lossy(name);
        if let Some(index) = DEPRECATED_OPTIONS
            .iter()
            .position(|deprecated| deprecated.as_bytes() == name)
        {
            if values.len() == 1 {
                self.warn_once(
                    OPTIONS.len() + index,
                    format!("option '{shown}' is deprecated and ignored, as in Redis 7"),
                );
                return Ok(());
            }
            return Err(format!("wrong number of arguments for '{shown}'"));
        }
        if let Some((_, advice)) = UNSUPPORTED_DIRECTIVES
            .iter()
            .find(|(directive, _)| directive.as_bytes() == name)
        {
            return Err(format!("'{shown}' is not supported: {advice}"));
        }
        Err(format!("unknown option '{shown}'"))
    }

    /// `key` identifies the option: a row, or past the rows a deprecated one.
    fn warn_once(&mut self, key: usize, warning: String) {
        if self.warned.insert(key) {
            self.warnings.push(warning);
        }
    }
}

fn locate(message: String, source: &Source, line_number: usize) -> ConfigError {
    match source {
        Source::File(path) => ConfigError(format!(
            "{message} (line {line_number} of {})",
            path.display()
        )),
        Source::CommandLine => ConfigError(format!("{message} (command line)")),
    }
}

fn read_config_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let cannot_open = |error: io::Error| {
        ConfigError(format!(
            "can't open config file '{}': {}",
            path.display(),
            os_error_text(&error)
        ))
    };
    let size_bytes = std::fs::metadata(path).map_err(cannot_open)?.len();
    if size_bytes > CONFIG_FILE_MAX_BYTES {
        return Err(ConfigError(format!(
            "config file '{}' is {size_bytes} bytes, more than the {CONFIG_FILE_MAX_BYTES} bytes allowed",
            path.display()
        )));
    }
    std::fs::read(path).map_err(cannot_open)
}

/// Turns `--name value...` flags into configuration lines exactly as
/// `redis-server` does: the name part is copied as written (so `"--port 7000"`
/// as one argument also works), each value is quoted so that it is read back
/// byte for byte, and a name's first argument is always its value even when
/// it starts with `--`. `--save` with no value means `save ""`.
fn options_from_flags(args: &[String], after_config_file: bool) -> Result<Vec<u8>, ConfigError> {
    let mut options = Vec::new();
    let mut last_name_has_value = true;
    for (index, arg) in args.iter().enumerate() {
        let arg = arg.as_bytes();
        let is_last = index + 1 == args.len();
        let next_is_name = args
            .get(index + 1)
            .is_some_and(|next| next.starts_with("--"));
        if arg == b"-" && ((index == 0 && !after_config_file) || is_last) {
            return Err(ConfigError(
                "reading the configuration from standard input ('-') is not supported".into(),
            ));
        }
        if last_name_has_value && arg.starts_with(b"--") {
            if !options.is_empty() {
                options.push(b'\n');
            }
            options.extend_from_slice(&arg[2..]);
            options.push(b' ');
            let name_only = split_args(arg).is_some_and(|words| words.len() == 1);
            last_name_has_value = !name_only;
            if name_only && arg.eq_ignore_ascii_case(b"--save") && (is_last || next_is_name) {
                options.extend_from_slice(b"\"\"");
                last_name_has_value = true;
            }
        } else {
            options.extend(quote_arg(arg));
            options.push(b' ');
            last_name_has_value = true;
        }
    }
    Ok(options)
}

// ---------------------------------------------------------------------------
// Parsing and rendering values
// ---------------------------------------------------------------------------

impl Kind {
    /// Whether the option takes a list of arguments (Redis's
    /// `MULTI_ARG_CONFIG`) rather than exactly one.
    fn takes_many_args(&self) -> bool {
        matches!(
            self,
            Kind::ShutdownFlags
                | Kind::Save
                | Kind::Bind
                | Kind::ClientOutputBufferLimit
                | Kind::OomScoreAdjValues
                | Kind::ReplicaOf
                | Kind::Percentiles
        )
    }
}

/// The arguments of a `CONFIG SET` value: the value itself, or for a list
/// option its words split at each single space, as Redis splits them (so
/// `""` is no words at all and two spaces make an empty word).
fn split_set_value(kind: &Kind, value: &[u8]) -> Vec<Vec<u8>> {
    if !kind.takes_many_args() {
        return vec![value.to_vec()];
    }
    if value.is_empty() {
        return Vec::new();
    }
    value
        .split(|&byte| byte == b' ')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Checks `args` against `kind` and returns the value to store, or Redis's
/// reason for refusing them. `previous` is the value being replaced (some
/// options update it in part); `accumulate` says a `save` line adds to an
/// earlier one of the same file, as Redis's deprecated syntax allows.
fn parse_value(
    kind: &Kind,
    args: &[Vec<u8>],
    previous: &Value,
    accumulate: bool,
) -> Result<Value, String> {
    let single = || args.first().map_or(&[][..], Vec::as_slice);
    debug_assert!(kind.takes_many_args() || args.len() == 1);
    match kind {
        Kind::YesNo => parse_yes_no(single()).map(Value::Bool),
        Kind::Number(spec) => parse_number(spec, single()).map(Value::Number),
        Kind::Text(check) => {
            check.map_or(Ok(()), |check| check(single()))?;
            Ok(Value::Text(single().to_vec()))
        }
        Kind::Choice(choices) => parse_choice(choices, single()).map(Value::Code),
        Kind::ShutdownFlags => parse_shutdown_flags(args).map(Value::Code),
        Kind::Save => parse_save(args, previous, accumulate).map(Value::Save),
        Kind::Bind => parse_bind(args).map(Value::Words),
        Kind::ClientOutputBufferLimit => {
            parse_output_limits(args, previous).map(Value::OutputLimits)
        }
        Kind::OomScoreAdjValues => parse_oom_score_adj_values(args).map(Value::Integers),
        Kind::KeyspaceEvents => parse_keyspace_events(single()).map(Value::Code),
        Kind::ReplicaOf => parse_replica_of(args).map(Value::ReplicaOf),
        Kind::Percentiles => parse_percentiles(args).map(Value::Floats),
        Kind::Dir => parse_dir(single(), previous).map(Value::Text),
        Kind::CpuList => parse_cpu_list(single()).map(Value::Integers),
    }
}

/// A value as `CONFIG GET` shows it.
fn render(kind: &Kind, value: &Value) -> String {
    match (kind, value) {
        (Kind::YesNo, Value::Bool(flag)) => (if *flag { "yes" } else { "no" }).to_owned(),
        (Kind::Number(spec), Value::Number(number)) => render_number(spec.syntax, *number),
        (Kind::Text(_) | Kind::Dir, Value::Text(text)) => {
            String::from_utf8_lossy(text).into_owned()
        }
        (Kind::Choice(choices), Value::Code(code)) => choice_name(choices, *code).to_owned(),
        (Kind::ShutdownFlags, Value::Code(flags)) => render_shutdown_flags(*flags),
        (Kind::Save, Value::Save(rules)) => join(
            rules
                .iter()
                .map(|rule| format!("{} {}", rule.seconds, rule.changes)),
        ),
        (Kind::Bind, Value::Words(words)) => {
            String::from_utf8_lossy(&words.join(&b' ')).into_owned()
        }
        (Kind::ClientOutputBufferLimit, Value::OutputLimits(limits)) => {
            render_output_limits(limits)
        }
        (Kind::OomScoreAdjValues, Value::Integers(scores)) => {
            join(scores.iter().map(i64::to_string))
        }
        (Kind::KeyspaceEvents, Value::Code(flags)) => render_keyspace_events(*flags),
        (Kind::ReplicaOf, Value::ReplicaOf(primary)) => match primary {
            Some((host, port)) => format!("{} {port}", String::from_utf8_lossy(host)),
            None => String::new(),
        },
        (Kind::Percentiles, Value::Floats(percentiles)) => join(
            percentiles
                .iter()
                .map(|&percentile| render_percentile(percentile)),
        ),
        (Kind::CpuList, Value::Integers(cpus)) => render_cpu_list(cpus),
        (_, value) => unreachable!("a row holds {value:?}, which its kind never stores"),
    }
}

fn join(parts: impl Iterator<Item = String>) -> String {
    parts.collect::<Vec<_>>().join(" ")
}

fn parse_yes_no(arg: &[u8]) -> Result<bool, String> {
    if arg.eq_ignore_ascii_case(b"yes") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"no") {
        Ok(false)
    } else {
        Err("argument must be 'yes' or 'no'".into())
    }
}

fn parse_number(spec: &NumberSpec, arg: &[u8]) -> Result<i128, String> {
    let number = read_number(spec.syntax, arg).ok_or(match spec.syntax {
        NumberSyntax::Integer => "argument couldn't be parsed into an integer",
        NumberSyntax::Memory => "argument must be a memory value",
        NumberSyntax::MemoryOrPercent => "argument must be a memory or percent value",
        NumberSyntax::Octal => "argument couldn't be parsed as an octal number",
    })?;
    check_bounds(spec, number)?;
    Ok(match spec.adjust {
        Adjust::None => number,
        Adjust::Clamp(low, high) => number.clamp(low, high),
        Adjust::PowerOfTwo => {
            let power = u64::try_from(number)
                .ok()
                .and_then(u64::checked_next_power_of_two);
            i128::from(power.expect("bounds keep a power-of-two option small and positive"))
        }
    })
}

fn read_number(syntax: NumberSyntax, arg: &[u8]) -> Option<i128> {
    match syntax {
        NumberSyntax::Integer => parse_strict_i64(arg).map(i128::from),
        NumberSyntax::Memory => parse_memory(arg).map(i128::from),
        // Redis stores a percentage as its negation.
        NumberSyntax::MemoryOrPercent => parse_memory(arg)
            .map(i128::from)
            .or_else(|| parse_percent(arg).map(|percent| -i128::from(percent))),
        NumberSyntax::Octal => parse_c_long(arg, 8)
            .filter(|number| !number.overflowed)
            .map(|number| i128::from(number.value)),
    }
}

fn parse_percent(arg: &[u8]) -> Option<i64> {
    let digits = arg.strip_suffix(b"%").filter(|digits| !digits.is_empty())?;
    parse_strict_i64(digits).filter(|&percent| percent >= 0)
}

fn check_bounds(spec: &NumberSpec, number: i128) -> Result<(), String> {
    if spec.syntax == NumberSyntax::MemoryOrPercent && number < 0 {
        if number < spec.min {
            return Err(format!(
                "percentage argument must be less or equal to {}",
                -spec.min
            ));
        }
        return Ok(());
    }
    if (spec.min..=spec.max).contains(&number) {
        return Ok(());
    }
    Err(if spec.syntax == NumberSyntax::Octal {
        format!(
            "argument must be between {:o} and {:o} inclusive",
            spec.min, spec.max
        )
    } else {
        format!(
            "argument must be between {} and {} inclusive",
            spec.min, spec.max
        )
    })
}

fn render_number(syntax: NumberSyntax, number: i128) -> String {
    match syntax {
        NumberSyntax::MemoryOrPercent if number < 0 => format!("{}%", -number),
        NumberSyntax::Octal => format!("{number:o}"),
        _ => number.to_string(),
    }
}

fn parse_choice(choices: &[(&str, u32)], arg: &[u8]) -> Result<u32, String> {
    choices
        .iter()
        .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(arg))
        .map(|&(_, code)| code)
        .ok_or_else(|| must_be_one_of(choices))
}

fn must_be_one_of(choices: &[(&str, u32)]) -> String {
    let names: Vec<&str> = choices.iter().map(|&(name, _)| name).collect();
    format!(
        "argument(s) must be one of the following: {}",
        names.join(", ")
    )
}

fn choice_name(choices: &[(&'static str, u32)], code: u32) -> &'static str {
    choices
        .iter()
        .find(|&&(_, candidate)| candidate == code)
        .map_or("unknown", |&(name, _)| name)
}

fn parse_shutdown_flags(args: &[Vec<u8>]) -> Result<u32, String> {
    if args.is_empty() {
        return Err(must_be_one_of(SHUTDOWN_FLAGS));
    }
    let mut flags = 0;
    for arg in args {
        flags |= parse_choice(SHUTDOWN_FLAGS, arg)?;
    }
    let (save, nosave) = (
        choice_code(SHUTDOWN_FLAGS, "save"),
        choice_code(SHUTDOWN_FLAGS, "nosave"),
    );
    if flags & save != 0 && flags & nosave != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    Ok(flags)
}

fn choice_code(choices: &[(&str, u32)], name: &str) -> u32 {
    choices
        .iter()
        .find(|&&(candidate, _)| candidate == name)
        .map(|&(_, code)| code)
        .expect("the name is one of the choices")
}

/// Redis shows a set of flags as the name of an entry equal to all of them,
/// or else the names of the flags it holds, in table order.
fn render_shutdown_flags(flags: u32) -> String {
    if let Some(&(name, _)) = SHUTDOWN_FLAGS.iter().find(|&&(_, code)| code == flags) {
        return name.to_owned();
    }
    let names: Vec<&str> = SHUTDOWN_FLAGS
        .iter()
        .filter(|&&(_, code)| code != 0 && flags & code == code)
        .map(|&(name, _)| name)
        .collect();
    names.join(" ")
}

fn parse_save(
    args: &[Vec<u8>],
    previous: &Value,
    accumulate: bool,
) -> Result<Vec<SaveRule>, String> {
    // `save ""` clears every rule, even ones from earlier lines.
    if args.len() == 1 && args[0].is_empty() {
        return Ok(Vec::new());
    }
    let invalid = || "Invalid save parameters".to_owned();
    if args.len() % 2 != 0 {
        return Err(invalid());
    }
    let mut rules = match previous {
        Value::Save(rules) if accumulate => rules.clone(),
        _ => Vec::new(),
    };
    for pair in args.chunks(2) {
        // Redis reads both with strtoll and an end check, without an
        // overflow check, and keeps `changes` in a C int.
        let seconds = parse_c_long(&pair[0], 10)
            .map(|number| number.value)
            .filter(|&seconds| seconds >= 1)
            .ok_or_else(invalid)?;
        let changes = parse_c_long(&pair[1], 10)
            .map(|number| number.value)
            .filter(|&changes| changes >= 0)
            .ok_or_else(invalid)?;
        rules.push(SaveRule {
            seconds,
            changes: changes as i32,
        });
    }
    Ok(rules)
}

fn parse_bind(args: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
    if args.len() > BIND_ADDRESSES_MAX {
        return Err("Too many bind addresses specified.".into());
    }
    if args.len() == 1 && args[0].is_empty() {
        return Ok(Vec::new());
    }
    Ok(args.to_vec())
}

/// Classes in the order Redis shows them.
const CLIENT_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

fn parse_output_limits(
    args: &[Vec<u8>],
    previous: &Value,
) -> Result<[OutputBufferLimit; 3], String> {
    if args.len() % 4 != 0 {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    // Classes not named keep their limits.
    let mut limits = match previous {
        Value::OutputLimits(limits) => *limits,
        _ => {
            [OutputBufferLimit {
                hard_limit_bytes: 0,
                soft_limit_bytes: 0,
                soft_limit_seconds: 0,
            }; 3]
        }
    };
    for quad in args.chunks(4) {
        let class = match quad[0].to_ascii_lowercase().as_slice() {
            b"normal" => 0,
            b"slave" | b"replica" => 1,
            b"pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let invalid = || {
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_owned()
        };
        let hard_limit_bytes = parse_memory(&quad[1]).ok_or_else(invalid)?;
        let soft_limit_bytes = parse_memory(&quad[2]).ok_or_else(invalid)?;
        // Redis keeps the seconds in a C int before checking the sign.
        let seconds = parse_c_long(&quad[3], 10)
            .map(|number| number.value as i32)
            .ok_or_else(invalid)?;
        let soft_limit_seconds = u32::try_from(seconds).map_err(|_| invalid())?;
        limits[class] = OutputBufferLimit {
            hard_limit_bytes,
            soft_limit_bytes,
            soft_limit_seconds,
        };
    }
    Ok(limits)
}

fn render_output_limits(limits: &[OutputBufferLimit; 3]) -> String {
    let classes = CLIENT_CLASSES.iter().zip(limits);
    join(classes.map(|(class, limit)| {
        format!(
            "{class} {} {} {}",
            limit.hard_limit_bytes, limit.soft_limit_bytes, limit.soft_limit_seconds
        )
    }))
}

fn parse_oom_score_adj_values(args: &[Vec<u8>]) -> Result<Vec<i64>, String> {
    if args.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    args.iter()
        .map(|arg| {
            parse_c_long(arg, 10)
                .map(|number| number.value)
                .filter(|score| (-2000..=2000).contains(score))
                .ok_or_else(|| {
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
                        .to_owned()
                })
        })
        .collect()
}

/// Redis's keyspace event classes, as letters and bits (`NOTIFY_*`).
const KEYSPACE_EVENT_CLASSES: &[(u8, u32)] = &[
    (b'K', 1 << 0),
    (b'E', 1 << 1),
    (b'g', 1 << 2),
    (b'$', 1 << 3),
    (b'l', 1 << 4),
    (b's', 1 << 5),
    (b'h', 1 << 6),
    (b'z', 1 << 7),
    (b'x', 1 << 8),
    (b'e', 1 << 9),
    (b't', 1 << 10),
    (b'm', 1 << 11),
    (b'd', 1 << 13),
    (b'n', 1 << 14),
];
/// `A`: every type and event class except `K`, `E`, `m` and `n`.
const KEYSPACE_EVENTS_ALL: u32 = (1 << 2)
    | (1 << 3)
    | (1 << 4)
    | (1 << 5)
    | (1 << 6)
    | (1 << 7)
    | (1 << 8)
    | (1 << 9)
    | (1 << 10)
    | (1 << 13);

fn keyspace_event_bit(letter: u8) -> u32 {
    KEYSPACE_EVENT_CLASSES
        .iter()
        .find(|&&(candidate, _)| candidate == letter)
        .map(|&(_, bit)| bit)
        .expect("a known event class letter")
}

fn parse_keyspace_events(arg: &[u8]) -> Result<u32, String> {
    arg.iter().try_fold(0, |flags, &letter| {
        if letter == b'A' {
            return Ok(flags | KEYSPACE_EVENTS_ALL);
        }
        match KEYSPACE_EVENT_CLASSES
            .iter()
            .find(|&&(candidate, _)| candidate == letter)
        {
            Some(&(_, bit)) => Ok(flags | bit),
            None => Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_owned()),
        }
    })
}

/// Redis writes `A` when every class in it is set, then the remaining
/// classes in a fixed order, then `K`, `E` and `m`.
fn render_keyspace_events(flags: u32) -> String {
    let mut shown = String::new();
    if flags & KEYSPACE_EVENTS_ALL == KEYSPACE_EVENTS_ALL {
        shown.push('A');
    } else {
        shown.extend(
            b"g$lshzxetdn"
                .iter()
                .filter(|&&letter| flags & keyspace_event_bit(letter) != 0)
                .map(|&letter| char::from(letter)),
        );
    }
    shown.extend(
        b"KEm"
            .iter()
            .filter(|&&letter| flags & keyspace_event_bit(letter) != 0)
            .map(|&letter| char::from(letter)),
    );
    shown
}

fn parse_replica_of(args: &[Vec<u8>]) -> Result<Option<(Vec<u8>, i64)>, String> {
    let [host, port] = args else {
        return Err("wrong number of arguments".into());
    };
    if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
        return Ok(None);
    }
    let port = parse_c_long(port, 10)
        .map(|number| number.value)
        .filter(|port| (0..=65535).contains(port))
        .ok_or("Invalid master port")?;
    Ok(Some((host.clone(), port)))
}

fn parse_percentiles(args: &[Vec<u8>]) -> Result<Vec<f64>, String> {
    if args.len() == 1 && args[0].is_empty() {
        return Ok(Vec::new());
    }
    args.iter()
        .map(|arg| {
            // Rust's float syntax is strtod's without hexadecimal floats;
            // like Redis, refuse leading spaces and NaN.
            let percentile = std::str::from_utf8(arg)
                .ok()
                .and_then(|text| text.parse::<f64>().ok())
                .filter(|percentile| !percentile.is_nan())
                .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
            if !(0.0..=100.0).contains(&percentile) {
                return Err(
                    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                        .to_owned(),
                );
            }
            Ok(percentile)
        })
        .collect()
}

/// `%f` with trailing zeros and a trailing point removed, as Redis shows it.
fn render_percentile(percentile: f64) -> String {
    let fixed = format!("{percentile:.6}");
    fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Resolves a directory the way Redis's `chdir` + `getcwd` would: relative to
/// the previous `dir`, symbolic links resolved. Unlike Redis, Shoal does not
/// change the process's directory here; the server does that at startup.
fn parse_dir(arg: &[u8], previous: &Value) -> Result<Vec<u8>, String> {
    if arg.is_empty() {
        return Err("No such file or directory".into());
    }
    let base = match previous {
        Value::Text(path) if !path.is_empty() => PathBuf::from(OsStr::from_bytes(path)),
        _ => std::env::current_dir().map_err(|error| os_error_text(&error))?,
    };
    let resolved = std::fs::canonicalize(base.join(OsStr::from_bytes(arg)))
        .map_err(|error| os_error_text(&error))?;
    if !resolved.is_dir() {
        return Err("Not a directory".into());
    }
    Ok(resolved.into_os_string().into_vec())
}

/// A system error as `strerror` words it, without Rust's "(os error N)".
fn os_error_text(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}

/// Reads `cpus`: CPU numbers and inclusive ranges separated by commas
/// (`0-3,8`); empty means every CPU.
fn parse_cpu_list(arg: &[u8]) -> Result<Vec<i64>, String> {
    let invalid =
        || format!("argument must be a list of CPUs such as 0-3,8, each at most {CPU_ID_MAX}");
    let mut cpus = Vec::new();
    if arg.is_empty() {
        return Ok(cpus);
    }
    for item in arg.split(|&byte| byte == b',') {
        let (first, last) = match item.iter().position(|&byte| byte == b'-') {
            Some(dash) => (parse_cpu_id(&item[..dash]), parse_cpu_id(&item[dash + 1..])),
            None => (parse_cpu_id(item), parse_cpu_id(item)),
        };
        let (Some(first), Some(last)) = (first, last) else {
            return Err(invalid());
        };
        if first > last {
            return Err(invalid());
        }
        cpus.extend((first..=last).map(i64::from));
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

fn parse_cpu_id(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let id = digits
        .iter()
        .fold(0u32, |id, &digit| id * 10 + u32::from(digit - b'0'));
    (id <= CPU_ID_MAX).then_some(id)
}

/// The shortest list of ranges naming the same CPUs, such as `0-3,8`.
fn render_cpu_list(cpus: &[i64]) -> String {
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    for &cpu in cpus {
        match ranges.last_mut() {
            Some((_, last)) if *last + 1 == cpu => *last = cpu,
            _ => ranges.push((cpu, cpu)),
        }
    }
    let shown: Vec<String> = ranges
        .iter()
        .map(|&(first, last)| {
            if first == last {
                first.to_string()
            } else {
                format!("{first}-{last}")
            }
        })
        .collect();
    shown.join(",")
}

// Checks Redis applies to some text options.

fn check_db_filename(name: &[u8]) -> Result<(), &'static str> {
    if is_base_name(name) {
        Ok(())
    } else {
        Err("dbfilename can't be a path, just a filename")
    }
}

fn check_aof_filename(name: &[u8]) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("appendfilename can't be empty")
    } else if !is_base_name(name) {
        Err("appendfilename can't be a path, just a filename")
    } else {
        Ok(())
    }
}

fn check_aof_dirname(name: &[u8]) -> Result<(), &'static str> {
    if name.is_empty() {
        Err("appenddirname can't be empty")
    } else if !is_base_name(name) {
        Err("appenddirname can't be a path, just a dirname")
    } else {
        Ok(())
    }
}

fn is_base_name(name: &[u8]) -> bool {
    !name.contains(&b'/') && !name.contains(&b'\\')
}

fn check_hostname(name: &[u8]) -> Result<(), &'static str> {
    if name.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if !name
        .iter()
        .all(|&byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'.')
    {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
    }
    Ok(())
}

/// Redis accepts a process title template whose `{variables}` it knows and
/// which does not expand to nothing; `{{` is a literal brace.
fn check_proc_title_template(template: &[u8]) -> Result<(), &'static str> {
    const INVALID: &str = "template format is invalid or contains unknown variables";
    // What each variable can expand to when Redis validates (title empty,
    // not in cluster mode): only these two may be empty.
    const KNOWN: &[(&[u8], bool)] = &[
        (b"title", false),
        (b"server-mode", false),
        (b"listen-addr", true),
        (b"config-file", true),
        (b"port", true),
        (b"tls-port", true),
        (b"unixsocket", true),
    ];
    let mut expands_to_something = false;
    let mut rest = template;
    while let Some(open) = rest.iter().position(|&byte| byte == b'{') {
        expands_to_something |= open > 0;
        let after = &rest[open + 1..];
        if after.first() == Some(&b'{') {
            expands_to_something = true;
            rest = &after[1..];
            continue;
        }
        let close = after.iter().position(|&byte| byte == b'}').ok_or(INVALID)?;
        let &(_, non_empty) = KNOWN
            .iter()
            .find(|(name, _)| *name == &after[..close])
            .ok_or(INVALID)?;
        expands_to_something |= non_empty;
        rest = &after[close + 1..];
    }
    if expands_to_something || !rest.is_empty() {
        Ok(())
    } else {
        Err(INVALID)
    }
}

// ---------------------------------------------------------------------------
// Redis's lexical rules
// ---------------------------------------------------------------------------

/// C's `isspace` in the C locale.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Removes bytes in `set` from both ends, as Redis's `sdstrim`.
fn trim<'a>(line: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = line
        .iter()
        .position(|byte| !set.contains(byte))
        .unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|byte| !set.contains(byte))
        .map_or(start, |last| last + 1);
    &line[start..end]
}

/// Splits a line into arguments exactly as Redis's `sdssplitargs`: blanks
/// separate arguments; `"..."` understands `\n \r \t \b \a`, `\xHH` and `\`
/// before any other byte; `'...'` only `\'`; a closing quote must be
/// followed by a blank or the end. `None` means unbalanced quotes. Like the
/// C code, a NUL byte ends the line.
fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let end = line
        .iter()
        .position(|&byte| byte == 0)
        .unwrap_or(line.len());
    let line = &line[..end];
    let mut args = Vec::new();
    let mut at = 0;
    loop {
        while at < line.len() && is_c_space(line[at]) {
            at += 1;
        }
        if at == line.len() {
            return Some(args);
        }
        let (arg, next) = read_arg(line, at)?;
        args.push(arg);
        at = next;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    None,
    Double,
    Single,
}

/// Reads the argument starting at `line[at]`; returns it and where the
/// search for the next one starts.
fn read_arg(line: &[u8], mut at: usize) -> Option<(Vec<u8>, usize)> {
    // Past the end reads as the C string's terminating NUL.
    let byte = |index: usize| line.get(index).copied().unwrap_or(0);
    let closes_quote = |index: usize| byte(index + 1) == 0 || is_c_space(byte(index + 1));
    let mut arg = Vec::new();
    let mut quoting = Quoting::None;
    loop {
        let current = byte(at);
        match quoting {
            Quoting::Double => {
                if current == b'\\'
                    && byte(at + 1) == b'x'
                    && byte(at + 2).is_ascii_hexdigit()
                    && byte(at + 3).is_ascii_hexdigit()
                {
                    arg.push(hex_value(byte(at + 2)) * 16 + hex_value(byte(at + 3)));
                    at += 3;
                } else if current == b'\\' && byte(at + 1) != 0 {
                    at += 1;
                    arg.push(unescape(byte(at)));
                } else if current == b'"' {
                    return closes_quote(at).then_some((arg, at + 1));
                } else if current == 0 {
                    return None;
                } else {
                    arg.push(current);
                }
            }
            Quoting::Single => {
                if current == b'\\' && byte(at + 1) == b'\'' {
                    at += 1;
                    arg.push(b'\'');
                } else if current == b'\'' {
                    return closes_quote(at).then_some((arg, at + 1));
                } else if current == 0 {
                    return None;
                } else {
                    arg.push(current);
                }
            }
            Quoting::None => match current {
                // Unlike the blanks skipped between arguments, only these
                // four end an unquoted one.
                b' ' | b'\n' | b'\r' | b'\t' => return Some((arg, at + 1)),
                0 => return Some((arg, at)),
                b'"' => quoting = Quoting::Double,
                b'\'' => quoting = Quoting::Single,
                _ => arg.push(current),
            },
        }
        at += 1;
    }
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

fn unescape(byte: u8) -> u8 {
    match byte {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    }
}

/// Quotes an argument so that [`split_args`] reads it back unchanged, as
/// Redis's `sdscatrepr`.
fn quote_arg(arg: &[u8]) -> Vec<u8> {
    let mut quoted = Vec::with_capacity(arg.len() + 2);
    quoted.push(b'"');
    for &byte in arg {
        match byte {
            b'\\' | b'"' => quoted.extend_from_slice(&[b'\\', byte]),
            b'\n' => quoted.extend_from_slice(b"\\n"),
            b'\r' => quoted.extend_from_slice(b"\\r"),
            b'\t' => quoted.extend_from_slice(b"\\t"),
            0x07 => quoted.extend_from_slice(b"\\a"),
            0x08 => quoted.extend_from_slice(b"\\b"),
            0x20..=0x7e => quoted.push(byte),
            _ => quoted.extend_from_slice(format!("\\x{byte:02x}").as_bytes()),
        }
    }
    quoted.push(b'"');
    quoted
}

/// Redis's `string2ll`: optional `-`, no leading zeros, no blanks, no `+`,
/// within `i64`.
fn parse_strict_i64(text: &[u8]) -> Option<i64> {
    // Redis refuses anything of 21 bytes or more outright.
    if text.is_empty() || text.len() >= 21 {
        return None;
    }
    if text == b"0" {
        return Some(0);
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', digits)) => (true, digits),
        _ => (false, text),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().try_fold(0u64, |value, &digit| {
        value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })?;
    let value = if negative {
        -i128::from(magnitude)
    } else {
        i128::from(magnitude)
    };
    i64::try_from(value).ok()
}

/// Redis's `memtoull`: digits and an optional case-insensitive unit (`b`,
/// `k`=1000, `kb`=1024, `m`, `mb`, `g`, `gb`). Like Redis, no digits reads as
/// 0 ("mb" is 0 bytes); unlike Redis, which lets them wrap, values past
/// `u64::MAX` are refused.
fn parse_memory(text: &[u8]) -> Option<u64> {
    let digits_end = text
        .iter()
        .position(|byte| !byte.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let number = digits.iter().try_fold(0u64, |value, &digit| {
        value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })?;
    number.checked_mul(multiplier)
}

/// What C's `strtoll` makes of a whole argument.
struct CLong {
    /// Saturated at the `i64` limits on overflow, as `strtoll` does.
    value: i64,
    overflowed: bool,
}

/// C's `strtoll(text, &end, radix)` followed by Redis's usual `*end == '\0'`
/// check: leading blanks and a sign are allowed, and an empty text reads as
/// 0 (no digits leaves `end` at the start, which is then the end).
fn parse_c_long(text: &[u8], radix: u32) -> Option<CLong> {
    let start = text
        .iter()
        .position(|&byte| !is_c_space(byte))
        .unwrap_or(text.len());
    let (negative, unsigned) = match text[start..].split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, &text[start..]),
    };
    if unsigned.is_empty()
        || !unsigned
            .iter()
            .all(|&byte| char::from(byte).is_digit(radix))
    {
        return text.is_empty().then_some(CLong {
            value: 0,
            overflowed: false,
        });
    }
    let mut magnitude: i128 = 0;
    for &byte in unsigned {
        let digit = char::from(byte)
            .to_digit(radix)
            .expect("checked to be a digit");
        // Past i64's range the exact value no longer matters; stop growing.
        magnitude = (magnitude * i128::from(radix) + i128::from(digit)).min(i128::from(u64::MAX));
    }
    let signed = if negative { -magnitude } else { magnitude };
    let value = i64::try_from(signed).unwrap_or(if negative { i64::MIN } else { i64::MAX });
    Some(CLong {
        value,
        overflowed: i128::from(value) != signed,
    })
}

/// Text from a client made safe inside a one-line error reply.
fn reply_safe(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|&arg| arg.to_owned()).collect()
    }

    fn load(args: &[&str]) -> (Config, Vec<String>) {
        match Config::from_args(&strings(args)) {
            Ok(loaded) => loaded,
            Err(error) => panic!("{args:?} should load: {error}"),
        }
    }

    fn load_error(args: &[&str]) -> String {
        match Config::from_args(&strings(args)) {
            Ok(_) => panic!("{args:?} should not load"),
            Err(error) => error.to_string(),
        }
    }

    /// What `CONFIG GET name` shows for one option.
    fn shown(config: &Config, name: &str) -> String {
        match config.get(name.as_bytes()).as_slice() {
            [(_, value)] => value.clone(),
            other => panic!("CONFIG GET {name} gave {other:?}"),
        }
    }

    /// A configuration file that is deleted when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(contents: &[u8]) -> TempFile {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let name = format!(
                "shoal-config-test-{}-{}.conf",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            );
            let path = std::env::temp_dir().join(name);
            std::fs::write(&path, contents).expect("the temporary directory is writable");
            TempFile(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().expect("temporary paths are UTF-8 here")
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    // Defaults and the table.

    #[test]
    fn defaults_show_as_redis_7_0_shows_them() {
        let config = Config::default();
        // From `CONFIG GET *` on redis-server 7.0.15 started without a file.
        let expected = [
            ("port", "6379"),
            (
                "client-output-buffer-limit",
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            ),
            ("proto-max-bulk-len", "536870912"),
            ("client-query-buffer-limit", "1073741824"),
            ("maxmemory", "0"),
            ("maxmemory-clients", "0"),
            ("unixsocketperm", "0"),
            ("oom-score-adj-values", "0 200 800"),
            ("latency-tracking-info-percentiles", "50 99 99.9"),
            ("shutdown-on-sigint", "default"),
            ("notify-keyspace-events", ""),
            ("replicaof", ""),
            ("slaveof", ""),
            ("acl-pubsub-default", "resetchannels"),
            ("proc-title-template", "{title} {listen-addr} {server-mode}"),
            ("hz", "10"),
            ("slowlog-log-slower-than", "10000"),
            ("loglevel", "notice"),
            ("appendfsync", "everysec"),
            ("daemonize", "no"),
            ("io-threads", "1"),
            ("save", "3600 1 300 100 60 10000"),
            ("list-max-ziplist-size", "-2"),
            // Shoal's own choice: the line of Redis's stock redis.conf.
            ("bind", "127.0.0.1 -::1"),
        ];
        for (name, value) in expected {
            assert_eq!(shown(&config, name), value, "{name}");
        }
        let current =
            std::fs::canonicalize(std::env::current_dir().expect("tests run in a directory"))
                .expect("it exists");
        assert_eq!(shown(&config, "dir"), current.to_string_lossy());
    }

    #[test]
    fn every_default_reads_back_as_written() {
        let config = Config::default();
        for (spec, value) in OPTIONS.iter().zip(&config.values) {
            // `dir` shows the absolute directory, `replicaof` "no one" as "".
            if spec.name == "dir" || spec.name == "replicaof" {
                continue;
            }
            assert_eq!(render(&spec.kind, value), spec.default, "{}", spec.name);
        }
    }

    #[test]
    fn option_names_are_unique_lowercase_and_not_directives() {
        let mut names = HashSet::new();
        for name in OPTIONS.iter().flat_map(OptionSpec::names) {
            assert!(names.insert(name), "{name} appears twice");
            assert_eq!(name, name.to_ascii_lowercase());
            assert!(!DEPRECATED_OPTIONS.contains(&name));
            assert!(!UNSUPPORTED_DIRECTIVES
                .iter()
                .any(|(directive, _)| *directive == name));
        }
        // Redis 7.0's 178 rows (and their 19 aliases) and 5 of Shoal's.
        assert_eq!(OPTIONS.len(), 178 + 5);
        assert_eq!(names.len(), OPTIONS.len() + 19);
    }

    #[test]
    fn typed_accessors_read_the_defaults() {
        let config = Config::default();
        assert_eq!(config.encoding_limits(), EncodingLimits::default());
        assert_eq!(config.lfu_settings(), None);
        assert_eq!(config.port(), 6379);
        assert_eq!(
            config.bind_addresses(),
            vec![
                BindAddress {
                    host: "127.0.0.1".into(),
                    optional: false
                },
                BindAddress {
                    host: "::1".into(),
                    optional: true
                }
            ]
        );
        assert!(config.protected_mode());
        assert_eq!(config.databases(), 16);
        assert_eq!(config.requirepass(), None);
        assert_eq!(config.timeout_s(), 0);
        assert_eq!(config.tcp_keepalive_s(), 300);
        assert_eq!(config.max_clients(), 10_000);
        assert_eq!(config.proto_max_bulk_len_bytes(), 512 << 20);
        assert_eq!(config.client_query_buffer_limit_bytes(), 1 << 30);
        let limits = config.client_output_buffer_limits();
        assert_eq!(
            limits.normal,
            OutputBufferLimit {
                hard_limit_bytes: 0,
                soft_limit_bytes: 0,
                soft_limit_seconds: 0
            }
        );
        assert_eq!(
            limits.replica,
            OutputBufferLimit {
                hard_limit_bytes: 256 << 20,
                soft_limit_bytes: 64 << 20,
                soft_limit_seconds: 60
            }
        );
        assert_eq!(
            limits.pubsub,
            OutputBufferLimit {
                hard_limit_bytes: 32 << 20,
                soft_limit_bytes: 8 << 20,
                soft_limit_seconds: 60
            }
        );
        assert_eq!(config.hz(), 10);
        assert_eq!(config.slowlog_log_slower_than_us(), 10_000);
        assert_eq!(config.slowlog_max_len(), 128);
        assert_eq!(config.maxmemory_bytes(), 0);
        assert!(config.dir().is_absolute());
        assert_eq!(config.logfile(), None);
        assert_eq!(config.loglevel(), LogLevel::Notice);
        assert_eq!(config.threads(), 0);
        assert!(config.cpus().is_empty());
        assert_eq!(config.io_backend(), IoBackend::Auto);
        assert_eq!(config.mailbox_capacity(), 1024);
        assert_eq!(config.config_file(), None);
    }

    // Loading the file and the flags.

    #[test]
    fn flags_override_the_file_and_later_lines_win() {
        let file = TempFile::new(b"port 7000\nmaxmemory 1mb\nport 7001\ntimeout 5\n");
        let (config, warnings) = load(&[
            file.path(),
            "--port",
            "7002",
            "--timeout",
            "6",
            "--timeout",
            "7",
        ]);
        assert_eq!(config.port(), 7002);
        assert_eq!(config.maxmemory_bytes(), 1 << 20);
        assert_eq!(config.timeout_s(), 7);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(config.config_file(), Some(file.0.as_path()));
    }

    #[test]
    fn file_comments_blank_lines_and_line_ends_are_skipped() {
        let file = TempFile::new(
            b"# a comment\n\n   \r\n\tport 7000\r\n  # indented comment\nloglevel warning",
        );
        let (config, _) = load(&[file.path()]);
        assert_eq!(config.port(), 7000);
        assert_eq!(config.loglevel(), LogLevel::Warning);
    }

    #[test]
    fn option_names_are_case_insensitive() {
        let file = TempFile::new(b"PORT 7000\n");
        let (config, _) = load(&[file.path(), "--MaxMemory", "2mb"]);
        assert_eq!(config.port(), 7000);
        assert_eq!(config.maxmemory_bytes(), 2 << 20);
    }

    #[test]
    fn file_arguments_follow_redis_quoting() {
        let file =
            TempFile::new(b"requirepass \"a b\\x41\\n\"\nlogfile 'it\\'s'\ndbfilename a\"b c\"\n");
        let (config, _) = load(&[file.path()]);
        assert_eq!(config.requirepass(), Some(&b"a bA\n"[..]));
        assert_eq!(config.logfile(), Some(PathBuf::from("it's")));
        assert_eq!(shown(&config, "dbfilename"), "ab c");
    }

    #[test]
    fn unbalanced_quotes_in_the_file_are_an_error_with_its_line() {
        for line in [
            "requirepass \"unterminated",
            "requirepass \"a\"b",
            "requirepass 'a'b",
        ] {
            let file = TempFile::new(format!("port 7000\n{line}\n").as_bytes());
            let error = load_error(&[file.path()]);
            assert_eq!(
                error,
                format!(
                    "unbalanced quotes in configuration line (line 2 of {})",
                    file.path()
                )
            );
        }
    }

    #[test]
    fn split_args_matches_sdssplitargs() {
        let split = |line: &[u8]| {
            split_args(line).map(|args| {
                args.into_iter()
                    .map(|arg| String::from_utf8_lossy(&arg).into_owned())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            split(b"  set  key\tvalue  "),
            Some(strings(&["set", "key", "value"]))
        );
        assert_eq!(
            split(b"\"\\x41\\x4a\\xzz\\q\\t\""),
            Some(strings(&["AJxzzq\t"]))
        );
        assert_eq!(split(b"''"), Some(strings(&[""])));
        assert_eq!(split(b"'a\\nb'"), Some(strings(&["a\\nb"])));
        // Only space, tab, CR and LF end an unquoted argument, but any C
        // blank may follow a closing quote or separate arguments.
        assert_eq!(split(b"a\x0bb"), Some(strings(&["a\x0bb"])));
        assert_eq!(split(b"\"a\"\x0bb"), Some(strings(&["a", "b"])));
        assert_eq!(split(b"a\"b c\" d"), Some(strings(&["ab c", "d"])));
        assert_eq!(split(b"a\"b c\"d"), None);
        assert_eq!(split(b"a\0b"), Some(strings(&["a"])));
        assert_eq!(split(b"\"a"), None);
        assert_eq!(split(b"'a"), None);
        assert_eq!(split(b"\"a\"b"), None);
        assert_eq!(split(b""), Some(Vec::new()));
    }

    #[test]
    fn quoted_flag_values_read_back_byte_for_byte() {
        for value in [
            "a\"b'c\\d \u{e9}\tx\r\n\x07\x08\x01",
            "",
            "--",
            "#not a comment",
        ] {
            assert_eq!(
                split_args(&quote_arg(value.as_bytes())),
                Some(vec![value.as_bytes().to_vec()]),
                "{value:?}"
            );
        }
        let (config, _) = load(&["--requirepass", "a\"b'c\\d \u{e9}\tx"]);
        assert_eq!(config.requirepass(), Some("a\"b'c\\d \u{e9}\tx".as_bytes()));
    }

    #[test]
    fn a_name_and_its_value_may_share_one_flag() {
        let (config, _) = load(&["--port 7000", "--maxmemory", "1kb"]);
        assert_eq!(config.port(), 7000);
        assert_eq!(config.maxmemory_bytes(), 1024);
    }

    #[test]
    fn the_argument_after_a_name_is_its_value_even_if_it_starts_with_dashes() {
        let (config, _) = load(&["--requirepass", "--port", "--port", "7000"]);
        assert_eq!(config.requirepass(), Some(&b"--port"[..]));
        assert_eq!(config.port(), 7000);
    }

    #[test]
    fn an_empty_save_flag_clears_the_save_rules() {
        for args in [
            &["--save", ""][..],
            &["--save"],
            &["--save", "--port", "7000"],
            &["--save", "''"],
        ] {
            let (config, _) = load(args);
            assert_eq!(shown(&config, "save"), "", "{args:?}");
        }
        let (config, _) = load(&["--save", "--port", "7000"]);
        assert_eq!(config.port(), 7000);
    }

    #[test]
    fn save_lines_add_up_while_loading_and_save_empty_clears_them() {
        let file = TempFile::new(b"save 900 1\nsave 300 10\n");
        let (config, _) = load(&[file.path(), "--save", "60 10000"]);
        assert_eq!(shown(&config, "save"), "900 1 300 10 60 10000");
        let (config, _) = load(&[file.path(), "--save", "", "--save", "5 5"]);
        assert_eq!(shown(&config, "save"), "5 5");
        let (config, _) = load(&["--save", "+5 00"]);
        assert_eq!(shown(&config, "save"), "5 0");
    }

    #[test]
    fn a_list_given_as_one_argument_is_split_like_a_line() {
        let (config, _) = load(&["--bind", "1.2.3.4  '-::1'"]);
        assert_eq!(shown(&config, "bind"), "1.2.3.4 -::1");
        let (config, _) = load(&["--bind", "10.0.0.1", "-::1"]);
        assert_eq!(
            config.bind_addresses()[1],
            BindAddress {
                host: "::1".into(),
                optional: true
            }
        );
        let (config, _) = load(&["--bind", ""]);
        assert!(config.bind_addresses().is_empty());
        let seventeen: Vec<String> = (0..17).map(|n| format!("10.0.0.{n}")).collect();
        assert!(load_error(&["--bind", &seventeen.join(" ")])
            .contains("Too many bind addresses specified."));
    }

    #[test]
    fn an_unknown_option_is_an_error_naming_it() {
        assert_eq!(
            load_error(&["--prot", "6379"]),
            "unknown option 'prot' (command line)"
        );
        let file = TempFile::new(b"port 7000\nlazyfree-lazy-evictoin yes\n");
        assert_eq!(
            load_error(&[file.path()]),
            format!(
                "unknown option 'lazyfree-lazy-evictoin' (line 2 of {})",
                file.path()
            )
        );
        assert_eq!(
            load_error(&["extra"]).split(':').next(),
            Some("can't open config file 'extra'")
        );
        assert_eq!(
            load_error(&["--port", "7000", "stray"]),
            "wrong number of arguments for 'port' (command line)"
        );
    }

    #[test]
    fn a_bad_value_is_an_error_naming_the_option_and_the_value() {
        let cases = [
            (&["--port", "abc"][..], "invalid value 'abc' for 'port': argument couldn't be parsed into an integer (command line)"),
            (&["--port", "70000"], "invalid value '70000' for 'port': argument must be between 0 and 65535 inclusive (command line)"),
            (&["--protected-mode", "maybe"], "invalid value 'maybe' for 'protected-mode': argument must be 'yes' or 'no' (command line)"),
            (
                &["--loglevel", "loud"],
                "invalid value 'loud' for 'loglevel': argument(s) must be one of the following: debug, verbose, notice, warning (command line)",
            ),
            (&["--maxmemory", "1.5gb"], "invalid value '1.5gb' for 'maxmemory': argument must be a memory value (command line)"),
            (&["--save", "0 1"], "invalid value '0 1' for 'save': Invalid save parameters (command line)"),
            (&["--slave-priority", "x"], "invalid value 'x' for 'slave-priority': argument couldn't be parsed into an integer (command line)"),
            (&["--requirepass"], "wrong number of arguments for 'requirepass' (command line)"),
            (&["--requirepass", "a", "b"], "wrong number of arguments for 'requirepass' (command line)"),
        ];
        for (args, expected) in cases {
            assert_eq!(load_error(args), expected, "{args:?}");
        }
    }

    #[test]
    fn strict_integers_refuse_what_string2ll_refuses() {
        for bad in [
            "01",
            "-0",
            " 5",
            "5 ",
            "+5",
            "",
            "-",
            "9223372036854775808",
            "1e3",
        ] {
            assert_eq!(parse_strict_i64(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(parse_strict_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_strict_i64(b"0"), Some(0));
        assert_eq!(parse_strict_i64(b"-17"), Some(-17));
    }

    #[test]
    fn memory_values_take_redis_units_in_any_case() {
        let cases = [
            ("1", 1),
            ("5b", 5),
            ("1k", 1000),
            ("1kb", 1024),
            ("1m", 1_000_000),
            ("1mb", 1 << 20),
            ("1g", 1_000_000_000),
            ("1gb", 1 << 30),
            ("2GB", 2 << 30),
            ("3Mb", 3 << 20),
            ("18446744073709551615", u64::MAX),
            // Redis reads a unit without digits as 0.
            ("mb", 0),
            ("", 0),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_memory(text.as_bytes()), Some(bytes), "{text}");
            let (config, _) = load(&["--maxmemory", text]);
            assert_eq!(config.maxmemory_bytes(), bytes, "{text}");
            assert_eq!(shown(&config, "maxmemory"), bytes.to_string());
        }
        for bad in [
            "1.5mb",
            "-1",
            "10x",
            "1 mb",
            "1tb",
            "18446744073709551616",
            "17179869184gb",
        ] {
            assert_eq!(parse_memory(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn number_options_keep_redis_special_syntax() {
        let (config, _) = load(&[
            "--maxmemory-clients",
            "10%",
            "--unixsocketperm",
            "700",
            "--hz",
            "1000",
            "--proto-max-bulk-len",
            "1gb",
        ]);
        assert_eq!(shown(&config, "maxmemory-clients"), "10%");
        assert_eq!(shown(&config, "unixsocketperm"), "700");
        assert_eq!(config.hz(), 500);
        assert_eq!(config.proto_max_bulk_len_bytes(), 1 << 30);
        let (config, _) = load(&["--hz", "0"]);
        assert_eq!(config.hz(), 1);
        assert!(load_error(&["--maxmemory-clients", "101%"])
            .contains("percentage argument must be less or equal to 100"));
        assert!(load_error(&["--unixsocketperm", "800"])
            .contains("argument couldn't be parsed as an octal number"));
        assert!(load_error(&["--proto-max-bulk-len", "1000"])
            .contains("argument must be between 1048576 and 9223372036854775807 inclusive"));
    }

    #[test]
    fn options_with_their_own_syntax_show_as_redis_shows_them() {
        let (config, _) = load(&[
            "--client-output-buffer-limit",
            "normal 1mb 2mb 3",
            "--client-output-buffer-limit",
            "replica 1 2 4",
            "--shutdown-on-sigint",
            "now",
            "save",
            "--notify-keyspace-events",
            "KEA",
            "--latency-tracking-info-percentiles",
            "50 99.99 1e1",
            "--oom-score-adj",
            "relative",
            "--replicaof",
            "10.0.0.1",
            "6380",
        ]);
        assert_eq!(
            shown(&config, "client-output-buffer-limit"),
            "normal 1048576 2097152 3 slave 1 2 4 pubsub 33554432 8388608 60"
        );
        assert_eq!(
            config
                .client_output_buffer_limits()
                .normal
                .soft_limit_seconds,
            3
        );
        assert_eq!(shown(&config, "shutdown-on-sigint"), "save now");
        assert_eq!(shown(&config, "notify-keyspace-events"), "AKE");
        assert_eq!(
            shown(&config, "latency-tracking-info-percentiles"),
            "50 99.99 10"
        );
        assert_eq!(shown(&config, "oom-score-adj"), "yes");
        assert_eq!(shown(&config, "slaveof"), "10.0.0.1 6380");
        let (config, _) = load(&["--notify-keyspace-events", "Egx$"]);
        assert_eq!(shown(&config, "notify-keyspace-events"), "g$xE");
        assert!(load_error(&["--shutdown-on-sigterm", "save nosave"])
            .contains("shutdown options SAVE and NOSAVE can't be used simultaneously"));
        assert!(
            load_error(&["--client-output-buffer-limit", "master 1 1 1"])
                .contains("Invalid client class specified")
        );
        assert!(load_error(&["--replicaof", "host", "99999"]).contains("Invalid master port"));
    }

    #[test]
    fn every_ignored_option_warns_once() {
        let ignored: Vec<&OptionSpec> = OPTIONS
            .iter()
            .filter(|spec| matches!(spec.support, Support::Ignored(_)))
            .collect();
        let mut flags = Vec::new();
        for spec in &ignored {
            // Set each twice, once by its alias where it has one.
            flags.extend([format!("--{}", spec.name), spec.default.to_owned()]);
            flags.extend([
                format!("--{}", spec.alias.unwrap_or(spec.name)),
                spec.default.to_owned(),
            ]);
        }
        let (_, warnings) = Config::from_args(&flags).expect("every default is a valid value");
        assert_eq!(warnings.len(), ignored.len());
        for (spec, warning) in ignored.iter().zip(&warnings) {
            assert!(
                warning.starts_with(&format!(
                    "option '{}' is accepted for compatibility with Redis but ignored: ",
                    spec.name
                )),
                "{warning}"
            );
        }
        let (_, warnings) = load(&["--port", "7000", "--requirepass", "x", "--threads", "4"]);
        assert!(
            warnings.is_empty(),
            "implemented options do not warn: {warnings:?}"
        );
        let (_, warnings) = load(&["--daemonize", "yes"]);
        assert_eq!(warnings, ["option 'daemonize' is accepted for compatibility with Redis but ignored: Shoal always runs in the foreground"]);
    }

    #[test]
    fn deprecated_redis_options_are_accepted_with_a_warning() {
        let (_, warnings) = load(&[
            "--list-max-ziplist-entries",
            "5",
            "--lua-replicate-commands",
            "yes",
            "--list-max-ziplist-entries",
            "6",
        ]);
        assert_eq!(
            warnings,
            [
                "option 'list-max-ziplist-entries' is deprecated and ignored, as in Redis 7",
                "option 'lua-replicate-commands' is deprecated and ignored, as in Redis 7"
            ]
        );
    }

    #[test]
    fn include_and_other_directives_are_refused_clearly() {
        let file = TempFile::new(b"include /etc/redis/other.conf\n");
        assert_eq!(
            load_error(&[file.path()]),
            format!("'include' is not supported: put every option in the one configuration file (line 1 of {})", file.path())
        );
        assert!(load_error(&["--rename-command", "CONFIG", "\"\""])
            .starts_with("'rename-command' is not supported"));
        assert!(load_error(&["--user", "default", "on"]).starts_with("'user' is not supported"));
        assert_eq!(
            load_error(&["-"]),
            "reading the configuration from standard input ('-') is not supported"
        );
    }

    #[test]
    fn shoal_options_are_checked_and_normalised() {
        let (config, _) = load(&[
            "--threads",
            "8",
            "--cpus",
            "8,0-3,2",
            "--io-backend",
            "EPOLL",
            "--mailbox-capacity",
            "1000",
        ]);
        assert_eq!(config.threads(), 8);
        assert_eq!(config.cpus(), vec![0, 1, 2, 3, 8]);
        assert_eq!(shown(&config, "cpus"), "0-3,8");
        assert_eq!(config.io_backend(), IoBackend::Epoll);
        assert_eq!(config.mailbox_capacity(), 1024);
        assert_eq!(shown(&config, "mailbox-capacity"), "1024");
        for bad in [
            &["--mailbox-capacity", "0"][..],
            &["--threads", "-1"],
            &["--cpus", "3-1"],
            &["--cpus", "a"],
            &["--cpus", "1,,2"],
            &["--cpus", "9000"],
        ] {
            assert!(
                load_error(bad).starts_with(&format!(
                    "invalid value '{}' for '{}'",
                    bad[1],
                    &bad[0][2..]
                )),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn dir_is_resolved_against_the_previous_dir() {
        let base = std::env::temp_dir().join(format!("shoal-config-dir-{}", std::process::id()));
        std::fs::create_dir_all(base.join("inner")).expect("the temporary directory is writable");
        let base_text = base.to_str().expect("UTF-8");
        let (config, _) = load(&["--dir", base_text, "--dir", "inner"]);
        assert_eq!(
            config.dir(),
            std::fs::canonicalize(base.join("inner")).expect("it exists")
        );
        assert!(load_error(&["--dir", "/nonexistent/shoal"])
            .ends_with("for 'dir': No such file or directory (command line)"));
        let file = TempFile::new(b"");
        assert!(load_error(&["--dir", file.path()])
            .ends_with("for 'dir': Not a directory (command line)"));
        let _ = std::fs::remove_dir_all(&base);
    }

    // CONFIG GET.

    #[test]
    fn config_get_matches_glob_patterns_ignoring_case() {
        let config = Config::default();
        let names = |pattern: &str| {
            config
                .get(pattern.as_bytes())
                .into_iter()
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
        };
        let max = names("*max*");
        for expected in [
            "maxmemory",
            "maxclients",
            "proto-max-bulk-len",
            "hash-max-ziplist-entries",
            "hash-max-listpack-entries",
        ] {
            assert!(max.contains(&expected.to_owned()), "{expected} in {max:?}");
        }
        assert!(!max.contains(&"port".to_owned()));
        assert_eq!(names("*MAX*"), max);
        assert_eq!(
            config.get(b"port"),
            vec![("port".to_owned(), "6379".to_owned())]
        );
        // A name without glob characters is echoed as the client wrote it.
        assert_eq!(
            config.get(b"PORT"),
            vec![("PORT".to_owned(), "6379".to_owned())]
        );
        assert_eq!(names("p[o]rt"), ["port"]);
        let ports = names("*port*");
        for expected in [
            "port",
            "tls-port",
            "cluster-port",
            "slave-announce-port",
            "replica-announce-port",
        ] {
            assert!(
                ports.contains(&expected.to_owned()),
                "{expected} in {ports:?}"
            );
        }
        assert!(config.get(b"nosuch").is_empty());
        assert!(config.get(b"nosuch*").is_empty());
        assert_eq!(
            config.get(b"*").len(),
            OPTIONS
                .iter()
                .filter(|spec| !spec.hidden)
                .flat_map(OptionSpec::names)
                .count()
        );
    }

    #[test]
    fn hidden_options_need_their_exact_name() {
        let config = Config::default();
        assert_eq!(
            config.get(b"use-exit-on-panic"),
            vec![("use-exit-on-panic".to_owned(), "no".to_owned())]
        );
        assert!(config.get(b"use-exit-on-panic*").is_empty());
    }

    #[test]
    fn config_get_with_several_patterns_lists_each_option_once() {
        let config = Config::default();
        let pairs = config.get_many(&[b"port", b"PORT", b"*por*"]);
        assert_eq!(
            pairs
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case("port"))
                .count(),
            1
        );
        assert_eq!(pairs[0], ("port".to_owned(), "6379".to_owned()));
    }

    // CONFIG SET.

    #[test]
    fn config_set_errors_are_redis_7_0_replies() {
        let mut config = Config::default();
        let cases: [(&[u8], &[u8], &str); 9] = [
            (b"foo", b"bar", "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
            (b"port", b"7000", "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"),
            (b"timeout", b"abc", "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"),
            (b"databases", b"3", "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"),
            (b"DataBases", b"3", "ERR CONFIG SET failed (possibly related to argument 'DataBases') - can't set immutable config"),
            (b"dir", b"/tmp", "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"),
            (b"SLAVE-PRIORITY", b"x", "ERR CONFIG SET failed (possibly related to argument 'slave-priority') - argument couldn't be parsed into an integer"),
            (b"maxmemory", b"1.5mb", "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
            (b"loglevel", b"foo", "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"),
        ];
        for (name, value, expected) in cases {
            assert_eq!(config.set(name, value), Err(expected.to_owned()));
        }
        assert_eq!(
            config.set(b"a\r\nb", b"1"),
            Err("ERR Unknown option or number of arguments for CONFIG SET - 'a  b'".to_owned())
        );
    }

    #[test]
    fn config_set_changes_the_value_and_config_get_shows_it() {
        let mut config = Config::default();
        assert_eq!(config.set(b"maxmemory", b"1K"), Ok(()));
        assert_eq!(shown(&config, "maxmemory"), "1000");
        assert_eq!(config.set(b"MAXMEMORY", b"1KB"), Ok(()));
        assert_eq!(config.maxmemory_bytes(), 1024);
        assert_eq!(config.set(b"loglevel", b"WARNING"), Ok(()));
        assert_eq!(shown(&config, "loglevel"), "warning");
        assert_eq!(config.set(b"slave-priority", b"5"), Ok(()));
        assert_eq!(shown(&config, "replica-priority"), "5");
        assert_eq!(config.set(b"hz", b"600"), Ok(()));
        assert_eq!(shown(&config, "hz"), "500");
        assert_eq!(config.set(b"requirepass", b"secret"), Ok(()));
        assert_eq!(config.requirepass(), Some(&b"secret"[..]));
        assert!(
            !format!("{config:?}").contains("secret"),
            "debug output hides passwords"
        );
        assert_eq!(config.set(b"requirepass", b""), Ok(()));
        assert_eq!(config.requirepass(), None);
    }

    #[test]
    fn config_set_splits_lists_at_single_spaces() {
        let mut config = Config::default();
        assert_eq!(config.set(b"save", b"100 10 200 20"), Ok(()));
        assert_eq!(shown(&config, "save"), "100 10 200 20");
        assert!(
            config.set(b"save", b"100 10 ").is_err(),
            "a trailing space makes an empty word"
        );
        assert_eq!(config.set(b"save", b""), Ok(()));
        assert_eq!(shown(&config, "save"), "");
        assert_eq!(
            config.set(b"oom-score-adj-values", b"1  2 3"),
            Err("ERR CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - wrong number of arguments".to_owned())
        );
        assert_eq!(
            config.set(b"client-output-buffer-limit", b"pubsub 1 2 3"),
            Ok(())
        );
        assert_eq!(
            shown(&config, "client-output-buffer-limit"),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 1 2 3"
        );
        assert!(
            config.set(b"bind", b"").is_err(),
            "bind is fixed at start until listeners can be rebound"
        );
    }

    #[test]
    fn config_set_of_several_options_is_all_or_nothing() {
        let mut config = Config::default();
        assert_eq!(
            config.set_many(&[(b"maxmemory", b"10mb"), (b"hz", b"20")]),
            Ok(())
        );
        assert_eq!((config.maxmemory_bytes(), config.hz()), (10 << 20, 20));
        let failed = config.set_many(&[(b"maxmemory", b"1mb"), (b"timeout", b"bar")]);
        assert_eq!(failed, Err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer".to_owned()));
        assert_eq!(config.maxmemory_bytes(), 10 << 20, "nothing changed");
        // Names are checked before values, and the first problem is reported.
        assert_eq!(
            config.set_many(&[(b"timeout", b"bar"), (b"foo", b"1")]),
            Err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'".to_owned())
        );
        assert_eq!(
            config.set_many(&[(b"databases", b"1"), (b"foo", b"2")]),
            Err("ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config".to_owned())
        );
        assert_eq!(
            config.set_many(&[(b"maxmemory", b"5mb"), (b"maxmemory", b"6mb")]),
            Err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter".to_owned())
        );
        assert_eq!(
            config.set_many(&[(b"slave-priority", b"7"), (b"replica-priority", b"8")]),
            Ok(())
        );
        assert_eq!(shown(&config, "replica-priority"), "8");
    }

    #[test]
    fn protected_options_can_be_set_when_enabled() {
        let (mut config, _) = load(&["--enable-protected-configs", "yes"]);
        let temp =
            std::fs::canonicalize(std::env::temp_dir()).expect("the temporary directory exists");
        assert_eq!(config.set(b"dir", temp.as_os_str().as_bytes()), Ok(()));
        assert_eq!(config.dir(), temp);
        assert_eq!(config.set(b"dbfilename", b"other.rdb"), Ok(()));
        assert_eq!(
            config.set(b"dbfilename", b"a/b"),
            Err("ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename".to_owned())
        );
    }
}
