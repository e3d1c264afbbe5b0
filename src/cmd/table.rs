//! The declarative command table.

use super::{blocking, hashes, keys, lists, sets, strings, zsets, ShardCtx};

/// Finds the key positions of a command whose keys move with its arguments
/// (Redis's `movablekeys`: ZUNIONSTORE, LMPOP, SINTERCARD, ...).
pub type KeyFinder = fn(&[&[u8]]) -> smallvec::SmallVec<[usize; 8]>;

/// A handler that runs on the shard owning the command's keys.
pub type ShardHandler = fn(&mut ShardCtx<'_>, &[&[u8]]);

/// Commands that run on the connection's home worker with its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// PING
    Ping,
    /// ECHO
    Echo,
    /// QUIT
    Quit,
    /// SELECT
    Select,
    /// HELLO
    Hello,
    /// AUTH
    Auth,
    /// RESET
    Reset,
    /// CLIENT
    Client,
    /// INFO
    Info,
    /// CONFIG
    Config,
    /// COMMAND
    Command,
    /// TIME
    Time,
    /// SLOWLOG
    Slowlog,
    /// DEBUG
    Debug,
    /// MONITOR
    Monitor,
    /// SHUTDOWN
    Shutdown,
    /// MULTI
    Multi,
    /// EXEC
    Exec,
    /// DISCARD
    Discard,
    /// WATCH
    Watch,
    /// UNWATCH
    Unwatch,
    /// BEGIN (Shoal's interactive transaction)
    Begin,
    /// COMMIT
    Commit,
    /// ROLLBACK
    Rollback,
}

/// Commands Shoal has and Redis has not: no Redis documentation to match.
#[cfg(test)]
pub const SHOAL_ONLY_COMMANDS: &[&str] = &["begin", "commit", "rollback"];

/// Commands that visit every shard and merge what each found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanOut {
    /// DBSIZE: sum of key counts.
    DbSize,
    /// KEYS: concatenation.
    Keys,
    /// FLUSHDB: every shard empties the database.
    FlushDb,
    /// FLUSHALL: every shard empties every database.
    FlushAll,
    /// RANDOMKEY: any shard's random key.
    RandomKey,
    /// SCAN: one shard per call, named by the cursor.
    Scan,
}

/// How a command executes.
#[derive(Debug, Clone, Copy)]
pub enum Exec {
    /// On the shard that owns its keys; across shards under key locks.
    Shard(ShardHandler),
    /// On the home worker, with the connection's state.
    Local(Local),
    /// On every shard, merged at home.
    FanOut(FanOut),
}

/// One command's declaration.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Lowercase name.
    pub name: &'static str,
    /// Redis arity: `n` exactly, `-n` at least `n`, the name included.
    pub arity: i32,
    /// Redis's command flags, for `COMMAND INFO`.
    pub flags: &'static [&'static str],
    /// First key argument (0: no keys).
    pub first_key: i32,
    /// Last key argument (negative: from the end).
    pub last_key: i32,
    /// Step between keys.
    pub key_step: i32,
    /// ACL categories, for `COMMAND INFO`.
    pub categories: &'static [&'static str],
    /// How it runs.
    pub exec: Exec,
    /// Its group, for `COMMAND DOCS`.
    pub group: &'static str,
    /// One line of documentation. `COMMAND DOCS` writes Redis 7.0.15's
    /// summary from `cmd::docs` instead; this column is no longer read.
    #[allow(dead_code)]
    pub summary: &'static str,
    /// Subcommands of a container command (CLIENT, CONFIG, ...).
    pub subcommands: &'static [SubcommandSpec],
    /// Where the keys are when first/last/step cannot say (movable keys).
    pub find_keys: Option<KeyFinder>,
}

/// A subcommand: name and arity, for lookup, arity errors and `COMMAND`.
#[derive(Debug)]
pub struct SubcommandSpec {
    /// Lowercase subcommand name.
    pub name: &'static str,
    /// Arity counting the container name.
    pub arity: i32,
    /// First key argument (0: none).
    pub first_key: i32,
}

impl CommandSpec {
    /// Whether `argc` arguments satisfy the arity.
    pub fn arity_ok(arity: i32, argc: usize) -> bool {
        let argc = argc as i32;
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// Whether the command writes.
    pub fn is_write(&self) -> bool {
        self.flags.contains(&"write")
    }
}

pub(crate) const W: &[&str] = &["write", "denyoom"];
pub(crate) const WF: &[&str] = &["write", "denyoom", "fast"];
pub(crate) const WN: &[&str] = &["write"];
pub(crate) const WNF: &[&str] = &["write", "fast"];
pub(crate) const R: &[&str] = &["readonly"];
pub(crate) const RF: &[&str] = &["readonly", "fast"];
pub(crate) const ST: &[&str] = &["@write", "@string", "@slow"];
pub(crate) const STF: &[&str] = &["@write", "@string", "@fast"];
pub(crate) const SR: &[&str] = &["@read", "@string", "@slow"];
pub(crate) const SRF: &[&str] = &["@read", "@string", "@fast"];
pub(crate) const KW: &[&str] = &["@keyspace", "@write", "@slow"];
pub(crate) const KWF: &[&str] = &["@keyspace", "@write", "@fast"];
pub(crate) const KRF: &[&str] = &["@keyspace", "@read", "@fast"];

/// Declares one [`CommandSpec`]: name, arity, flags, first key, last key,
/// key step, ACL categories, how it runs, group, summary, and either
/// subcommands or `keys = finder` for movable keys (first/last/step then
/// hold Redis's legacy triple, for `COMMAND INFO`).
macro_rules! cmd {
    ($name:literal, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $cats:expr, $exec:expr, $group:literal, $summary:literal) => {
        cmd!(
            $name,
            $arity,
            $flags,
            $first,
            $last,
            $step,
            $cats,
            $exec,
            $group,
            $summary,
            &[]
        )
    };
    // Before the subcommands rule, which would read `keys = f` as an
    // assignment expression.
    ($name:literal, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $cats:expr, $exec:expr, $group:literal, $summary:literal, keys = $finder:expr) => {
        CommandSpec {
            find_keys: Some($finder),
            ..cmd!($name, $arity, $flags, $first, $last, $step, $cats, $exec, $group, $summary)
        }
    };
    ($name:literal, $arity:expr, $flags:expr, $first:expr, $last:expr, $step:expr, $cats:expr, $exec:expr, $group:literal, $summary:literal, $subs:expr) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            first_key: $first,
            last_key: $last,
            key_step: $step,
            categories: $cats,
            exec: $exec,
            group: $group,
            summary: $summary,
            subcommands: $subs,
            find_keys: None,
        }
    };
}

#[allow(unused_imports)] // for the family tables in `cmd/`, as they gain rows
pub(crate) use cmd;

const fn sub(name: &'static str, arity: i32) -> SubcommandSpec {
    SubcommandSpec {
        name,
        arity,
        first_key: 0,
    }
}

const fn sub_key(name: &'static str, arity: i32) -> SubcommandSpec {
    SubcommandSpec {
        name,
        arity,
        first_key: 2,
    }
}

use Exec::{FanOut as F, Local as L, Shard as S};

/// Every command Shoal knows, in no particular order: the core commands and
/// each collection family's table, joined at compile time.
pub static COMMANDS: &[CommandSpec] = &ALL_COMMANDS;

/// The tables joined into [`COMMANDS`]; each family keeps its own in its file.
const FAMILIES: &[&[CommandSpec]] = &[
    CORE_COMMANDS,
    hashes::COMMANDS,
    lists::COMMANDS,
    sets::COMMANDS,
    zsets::COMMANDS,
    blocking::COMMANDS,
];

const fn total_len(tables: &[&[CommandSpec]]) -> usize {
    let mut total = 0;
    let mut table = 0;
    while table < tables.len() {
        total += tables[table].len();
        table += 1;
    }
    total
}

const COMMANDS_LEN: usize = total_len(FAMILIES);

static ALL_COMMANDS: [CommandSpec; COMMANDS_LEN] = join_tables(FAMILIES);

/// Copies every family's rows into one array, so a command's position (the
/// index of its counters) is fixed at compile time.
const fn join_tables(tables: &[&[CommandSpec]]) -> [CommandSpec; COMMANDS_LEN] {
    let mut joined = [CORE_COMMANDS[0]; COMMANDS_LEN];
    let mut next = 0;
    let mut table = 0;
    while table < tables.len() {
        let mut row = 0;
        while row < tables[table].len() {
            joined[next] = tables[table][row];
            next += 1;
            row += 1;
        }
        table += 1;
    }
    assert!(next == COMMANDS_LEN, "every row copied once");
    joined
}

/// Connection, server, string and key commands.
const CORE_COMMANDS: &[CommandSpec] = &[
    // connection
    cmd!("multi", 1, &["noscript", "loading", "stale", "fast", "allow_busy"], 0, 0, 0, &["@fast", "@transaction"], L(Local::Multi), "transactions", "Starts a transaction."),
    cmd!("exec", 1, &["noscript", "loading", "stale", "skip_slowlog"], 0, 0, 0, &["@slow", "@transaction"], L(Local::Exec), "transactions", "Executes all commands in a transaction."),
    cmd!("discard", 1, &["noscript", "loading", "stale", "fast", "allow_busy"], 0, 0, 0, &["@fast", "@transaction"], L(Local::Discard), "transactions", "Discards a transaction."),
    cmd!("watch", -2, &["noscript", "loading", "stale", "fast", "allow_busy"], 1, -1, 1, &["@fast", "@transaction"], L(Local::Watch), "transactions", "Monitors changes to keys to determine the execution of a transaction."),
    cmd!("unwatch", 1, &["noscript", "loading", "stale", "fast", "allow_busy"], 0, 0, 0, &["@fast", "@transaction"], L(Local::Unwatch), "transactions", "Forgets about watched keys of a transaction."),
    cmd!("begin", 1, &["noscript", "loading", "stale", "fast"], 0, 0, 0, &["@fast", "@transaction"], L(Local::Begin), "transactions", "Starts an interactive serializable transaction (Shoal)."),
    cmd!("commit", 1, &["noscript", "loading", "stale"], 0, 0, 0, &["@slow", "@transaction"], L(Local::Commit), "transactions", "Commits an interactive transaction with two-phase commit (Shoal)."),
    cmd!("rollback", 1, &["noscript", "loading", "stale", "fast"], 0, 0, 0, &["@fast", "@transaction"], L(Local::Rollback), "transactions", "Discards an interactive transaction (Shoal)."),
    cmd!("ping", -1, &["fast"], 0, 0, 0, &["@fast", "@connection"], L(Local::Ping), "connection", "Returns the server's liveliness response."),
    cmd!("echo", 2, &["loading", "stale", "fast"], 0, 0, 0, &["@fast", "@connection"], L(Local::Echo), "connection", "Returns the given string."),
    cmd!("quit", -1, &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], 0, 0, 0, &["@fast", "@connection"], L(Local::Quit), "connection", "Closes the connection."),
    cmd!("select", 2, &["loading", "stale", "fast"], 0, 0, 0, &["@fast", "@connection"], L(Local::Select), "connection", "Changes the selected database."),
    cmd!("hello", -1, &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], 0, 0, 0, &["@fast", "@connection"], L(Local::Hello), "connection", "Handshakes with the Redis server."),
    cmd!("auth", -2, &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], 0, 0, 0, &["@fast", "@connection"], L(Local::Auth), "connection", "Authenticates the connection."),
    cmd!("reset", 1, &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"], 0, 0, 0, &["@fast", "@connection"], L(Local::Reset), "connection", "Resets the connection."),
    cmd!("client", -2, &[], 0, 0, 0, &["@slow"], L(Local::Client), "connection", "A container for client connection commands.", &[
        sub("id", 2), sub("setname", 3), sub("getname", 2), sub("list", -2), sub("info", 2), sub("kill", -3), sub("no-evict", 3), sub("unblock", -3), sub("help", 2),
    ]),
    // server
    cmd!("info", -1, &["loading", "stale"], 0, 0, 0, &["@slow", "@dangerous"], L(Local::Info), "server", "Returns information and statistics about the server."),
    cmd!("config", -2, &[], 0, 0, 0, &["@slow"], L(Local::Config), "server", "A container for server configuration commands.", &[
        sub("get", -3), sub("set", -4), sub("resetstat", 2), sub("help", 2),
    ]),
    cmd!("command", -1, &["loading", "stale"], 0, 0, 0, &["@slow", "@connection"], L(Local::Command), "server", "Returns detailed information about all commands.", &[
        sub("count", 2), sub("info", -2), sub("docs", -2), sub("list", -2), sub("getkeys", -4), sub("help", 2),
    ]),
    cmd!("time", 1, &["loading", "stale", "fast"], 0, 0, 0, &["@fast"], L(Local::Time), "server", "Returns the server time."),
    cmd!("slowlog", -2, &[], 0, 0, 0, &["@slow"], L(Local::Slowlog), "server", "A container for slow log commands.", &[
        sub("get", -2), sub("len", 2), sub("reset", 2), sub("help", 2),
    ]),
    cmd!("debug", -2, &["admin", "noscript", "loading", "stale"], 0, 0, 0, &["@admin", "@slow", "@dangerous"], L(Local::Debug), "server", "A container for debugging commands."),
    cmd!("monitor", 1, &["admin", "noscript", "loading", "stale"], 0, 0, 0, &["@admin", "@slow", "@dangerous"], L(Local::Monitor), "server", "Listens for all requests received by the server in real-time."),
    cmd!("shutdown", -1, &["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"], 0, 0, 0, &["@admin", "@slow", "@dangerous"], L(Local::Shutdown), "server", "Synchronously saves the database(s) to disk and shuts down the Redis server."),
    cmd!("dbsize", 1, &["readonly", "fast"], 0, 0, 0, &["@keyspace", "@read", "@fast"], F(FanOut::DbSize), "server", "Returns the number of keys in the database."),
    cmd!("flushdb", -1, &["write"], 0, 0, 0, &["@keyspace", "@write", "@slow", "@dangerous"], F(FanOut::FlushDb), "server", "Remove all keys from the current database."),
    cmd!("flushall", -1, &["write"], 0, 0, 0, &["@keyspace", "@write", "@slow", "@dangerous"], F(FanOut::FlushAll), "server", "Removes all keys from all databases."),
    cmd!("keys", 2, &["readonly"], 0, 0, 0, &["@keyspace", "@read", "@slow", "@dangerous"], F(FanOut::Keys), "generic", "Returns all key names that match a pattern."),
    cmd!("scan", -2, &["readonly"], 0, 0, 0, &["@keyspace", "@read", "@slow"], F(FanOut::Scan), "generic", "Iterates over the key names in the database."),
    cmd!("randomkey", 1, &["readonly"], 0, 0, 0, &["@keyspace", "@read", "@slow"], F(FanOut::RandomKey), "generic", "Returns a random key name from the database."),
    // strings
    cmd!("get", 2, RF, 1, 1, 1, SRF, S(strings::get), "string", "Returns the string value of a key."),
    cmd!("set", -3, W, 1, 1, 1, ST, S(strings::set), "string", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."),
    cmd!("setnx", 3, WF, 1, 1, 1, STF, S(strings::setnx), "string", "Set the string value of a key only when the key doesn't exist."),
    cmd!("setex", 4, W, 1, 1, 1, ST, S(strings::setex), "string", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."),
    cmd!("psetex", 4, W, 1, 1, 1, ST, S(strings::psetex), "string", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist."),
    cmd!("getset", 3, WF, 1, 1, 1, STF, S(strings::getset), "string", "Returns the previous string value of a key after setting it to a new value."),
    cmd!("getdel", 2, WNF, 1, 1, 1, STF, S(strings::getdel), "string", "Returns the string value of a key after deleting the key."),
    cmd!("getex", -2, WNF, 1, 1, 1, STF, S(strings::getex), "string", "Returns the string value of a key after setting its expiration time."),
    cmd!("mget", -2, RF, 1, -1, 1, SRF, S(strings::mget), "string", "Atomically returns the string values of one or more keys."),
    cmd!("mset", -3, W, 1, -1, 2, ST, S(strings::mset), "string", "Atomically creates or modifies the string values of one or more keys."),
    cmd!("msetnx", -3, W, 1, -1, 2, ST, S(strings::msetnx), "string", "Atomically modifies the string values of one or more keys only when all keys don't exist."),
    cmd!("append", 3, WF, 1, 1, 1, STF, S(strings::append), "string", "Appends a string to the value of a key. Creates the key if it doesn't exist."),
    cmd!("strlen", 2, RF, 1, 1, 1, SRF, S(strings::strlen), "string", "Returns the length of a string value."),
    cmd!("incr", 2, WF, 1, 1, 1, STF, S(strings::incr), "string", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    cmd!("decr", 2, WF, 1, 1, 1, STF, S(strings::decr), "string", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."),
    cmd!("incrby", 3, WF, 1, 1, 1, STF, S(strings::incrby), "string", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    cmd!("decrby", 3, WF, 1, 1, 1, STF, S(strings::decrby), "string", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."),
    cmd!("incrbyfloat", 3, WF, 1, 1, 1, STF, S(strings::incrbyfloat), "string", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist."),
    cmd!("getrange", 4, R, 1, 1, 1, SR, S(strings::getrange), "string", "Returns a substring of the string stored at a key."),
    cmd!("substr", 4, R, 1, 1, 1, SR, S(strings::getrange), "string", "Returns a substring from a string value."),
    cmd!("setrange", 4, W, 1, 1, 1, ST, S(strings::setrange), "string", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist."),
    cmd!("lcs", -3, R, 1, 2, 1, SR, S(strings::lcs), "string", "Finds the longest common substring."),
    // keys
    cmd!("del", -2, WN, 1, -1, 1, KW, S(keys::del), "generic", "Deletes one or more keys."),
    cmd!("unlink", -2, WNF, 1, -1, 1, KWF, S(keys::del), "generic", "Asynchronously deletes one or more keys."),
    cmd!("exists", -2, RF, 1, -1, 1, KRF, S(keys::exists), "generic", "Determines whether one or more keys exist."),
    cmd!("touch", -2, RF, 1, -1, 1, KRF, S(keys::touch), "generic", "Returns the number of existing keys out of those specified after updating the time they were last accessed."),
    cmd!("type", 2, RF, 1, 1, 1, KRF, S(keys::type_of), "generic", "Determines the type of value stored at a key."),
    cmd!("expire", -3, WNF, 1, 1, 1, KWF, S(keys::expire), "generic", "Sets the expiration time of a key in seconds."),
    cmd!("pexpire", -3, WNF, 1, 1, 1, KWF, S(keys::pexpire), "generic", "Sets the expiration time of a key in milliseconds."),
    cmd!("expireat", -3, WNF, 1, 1, 1, KWF, S(keys::expireat), "generic", "Sets the expiration time of a key to a Unix timestamp."),
    cmd!("pexpireat", -3, WNF, 1, 1, 1, KWF, S(keys::pexpireat), "generic", "Sets the expiration time of a key to a Unix milliseconds timestamp."),
    cmd!("ttl", 2, RF, 1, 1, 1, KRF, S(keys::ttl), "generic", "Returns the expiration time in seconds of a key."),
    cmd!("pttl", 2, RF, 1, 1, 1, KRF, S(keys::pttl), "generic", "Returns the expiration time in milliseconds of a key."),
    cmd!("expiretime", 2, RF, 1, 1, 1, KRF, S(keys::expiretime), "generic", "Returns the expiration time of a key as a Unix timestamp."),
    cmd!("pexpiretime", 2, RF, 1, 1, 1, KRF, S(keys::pexpiretime), "generic", "Returns the expiration time of a key as a Unix milliseconds timestamp."),
    cmd!("persist", 2, WNF, 1, 1, 1, KWF, S(keys::persist), "generic", "Removes the expiration time of a key."),
    cmd!("rename", 3, WN, 1, 2, 1, KW, S(keys::rename), "generic", "Renames a key and overwrites the destination."),
    cmd!("renamenx", 3, WNF, 1, 2, 1, KWF, S(keys::renamenx), "generic", "Renames a key only when the target key name doesn't exist."),
    cmd!("copy", -3, W, 1, 2, 1, KW, S(keys::copy), "generic", "Copies the value of a key to a new key."),
    cmd!("move", 3, WNF, 1, 1, 1, KWF, S(keys::move_key), "generic", "Moves a key to another database."),
    cmd!("object", -2, &[], 0, 0, 0, &["@slow"], S(keys::object), "generic", "A container for object introspection commands.", &[
        sub_key("encoding", 3), sub_key("refcount", 3), sub_key("idletime", 3), sub_key("freq", 3), sub("help", 2),
    ]),
];

/// Longest command name, for the lookup's stack buffer.
const NAME_MAX_BYTES: usize = 32;

/// A command's position in [`COMMANDS`], for per-command counters.
pub fn index_of(spec: &CommandSpec) -> usize {
    let offset = (spec as *const CommandSpec as usize).wrapping_sub(COMMANDS.as_ptr() as usize);
    let index = offset / std::mem::size_of::<CommandSpec>();
    debug_assert!(index < COMMANDS.len(), "spec comes from the table");
    index
}

/// Finds a command by name, any case, without allocating.
///
/// Asked once per command, so it avoids hashing: the names are bucketed by
/// length and first letter, and each name in a bucket is compared by its
/// first eight bytes, case-folded, in one word; that settles it for names
/// of up to eight letters.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let bucket = bucket_of(name)?;
    let index = index();
    let prefix = folded_prefix(name);
    let bucket = &index.entries[index.starts[bucket] as usize..index.starts[bucket + 1] as usize];
    for entry in bucket {
        if entry.prefix == prefix {
            let spec = &COMMANDS[entry.position as usize];
            if entry.prefix_decides || spec.name.as_bytes().eq_ignore_ascii_case(name) {
                return Some(spec);
            }
        }
    }
    None
}

/// Buckets per name length: the low five bits of the first byte, which
/// are the letter's position for both cases.
const FIRST_BYTE_BUCKETS: usize = 32;

/// The bucket a name falls in; `None` when no command is that long.
fn bucket_of(name: &[u8]) -> Option<usize> {
    let first = *name.first()?;
    (name.len() <= NAME_MAX_BYTES)
        .then(|| name.len() * FIRST_BYTE_BUCKETS + usize::from(first & 0x1f))
}

/// The first (up to) eight bytes of `name` in one word, with bit 5 set in
/// each: a letter and its capital fold to the same byte (other bytes may
/// fold together too, hence [`NameEntry::prefix_decides`]).
fn folded_prefix(name: &[u8]) -> u64 {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    let len = name.len();
    let word = if let Some(word) = name.first_chunk::<8>() {
        u64::from_le_bytes(*word)
    } else if let (Some(low), Some(high)) = (name.first_chunk::<4>(), name.last_chunk::<4>()) {
        // Four to seven bytes: two overlapping four-byte reads.
        u64::from(u32::from_le_bytes(*low))
            | u64::from(u32::from_le_bytes(*high)) << (8 * (len - 4))
    } else {
        name.iter()
            .rev()
            .fold(0u64, |word, &byte| (word << 8) | u64::from(byte))
    };
    let fold = if len >= 8 {
        FOLD
    } else {
        FOLD & ((1u64 << (8 * len)) - 1)
    };
    word | fold
}

/// One command name in the index.
#[derive(Clone, Copy)]
struct NameEntry {
    /// [`folded_prefix`] of the name.
    prefix: u64,
    /// Whether an equal folded prefix means the same name, ignoring case:
    /// the name has at most eight bytes, all letters.
    prefix_decides: bool,
    /// Position in [`COMMANDS`].
    position: u16,
}

/// The command table grouped by bucket: bucket `b` holds
/// `entries[starts[b]..starts[b + 1]]`.
struct NameIndex {
    starts: Vec<u16>,
    entries: Vec<NameEntry>,
}

fn index() -> &'static NameIndex {
    static INDEX: std::sync::OnceLock<NameIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let buckets = (NAME_MAX_BYTES + 1) * FIRST_BYTE_BUCKETS;
        let mut grouped = vec![Vec::new(); buckets];
        for (position, spec) in COMMANDS.iter().enumerate() {
            let name = spec.name.as_bytes();
            let bucket = bucket_of(name).expect("names fit the lookup");
            grouped[bucket].push(NameEntry {
                prefix: folded_prefix(name),
                prefix_decides: name.len() <= 8 && name.iter().all(u8::is_ascii_lowercase),
                position: u16::try_from(position).expect("fewer than 65536 commands"),
            });
        }
        let mut starts = Vec::with_capacity(buckets + 1);
        let mut entries = Vec::with_capacity(COMMANDS.len());
        for group in grouped {
            starts.push(entries.len() as u16);
            entries.extend(group);
        }
        starts.push(entries.len() as u16);
        NameIndex { starts, entries }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_fit_the_lookup_buffer() {
        let mut seen = std::collections::HashSet::new();
        for spec in COMMANDS {
            assert!(seen.insert(spec.name), "{} twice", spec.name);
            assert_eq!(spec.name, spec.name.to_ascii_lowercase());
            assert!(spec.name.len() <= NAME_MAX_BYTES);
        }
    }

    #[test]
    fn folded_prefix_packs_the_first_eight_bytes_with_bit_five_set() {
        let name = b"AbCdEfGhIj";
        for len in 0..=name.len() {
            let expected = name[..len.min(8)]
                .iter()
                .enumerate()
                .fold(0u64, |word, (at, &byte)| {
                    word | u64::from(byte | 0x20) << (8 * at)
                });
            assert_eq!(folded_prefix(&name[..len]), expected, "{len} bytes");
        }
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(lookup(b"GeT").map(|spec| spec.name), Some("get"));
        assert!(lookup(b"nosuch").is_none());
    }

    #[test]
    fn lookup_finds_every_command_in_either_case_and_nothing_else() {
        for spec in COMMANDS {
            let upper = spec.name.to_ascii_uppercase();
            assert_eq!(
                lookup(spec.name.as_bytes()).map(|found| found.name),
                Some(spec.name)
            );
            assert_eq!(
                lookup(upper.as_bytes()).map(|found| found.name),
                Some(spec.name)
            );
            // Same length and same bucket (the first byte's low five bits),
            // but not the name.
            let mut twin = spec.name.as_bytes().to_vec();
            twin[0] ^= 0x40;
            assert!(
                lookup(&twin).is_none(),
                "{:?}",
                String::from_utf8_lossy(&twin)
            );
            // A byte other than a letter folds onto the one 32 below it:
            // that must not pass for the name.
            for (at, &byte) in spec.name.as_bytes().iter().enumerate() {
                if !byte.is_ascii_lowercase() && byte & 0x20 != 0 {
                    let mut folded_twin = spec.name.as_bytes().to_vec();
                    folded_twin[at] = byte & !0x20;
                    assert!(lookup(&folded_twin).is_none(), "{folded_twin:?}");
                }
            }
            let mut longer = upper.into_bytes();
            longer.push(b'x');
            assert!(lookup(&longer).map(|found| found.name) != Some(spec.name));
        }
        assert!(lookup(b"").is_none());
        assert!(lookup(&[b'g'; NAME_MAX_BYTES + 1]).is_none());
    }
}
