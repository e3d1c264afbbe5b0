//! Key space commands, as Redis's `db.c` and `expire.c`.

use super::args::{int_arg, is};
use super::ctx::{errors, ShardCtx};
use super::scan;
use crate::glob::glob_match;
use crate::shard::access::idle_seconds;
use crate::shard::{AccessPolicy, Lookup, Shard, StrValue, Value};

/* ---------------------------------------------------------------------------
 * Existence and deletion
 * ------------------------------------------------------------------------- */

/// `DEL key [key ...]` (and `UNLINK`): how many keys were removed.
pub fn del(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let removed = args[1..].iter().filter(|key| ctx.remove(key)).count();
    ctx.out.integer(removed as i64);
}

/// `EXISTS key [key ...]`: how many of the keys exist, repeats counted.
pub fn exists(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    count_found(ctx, &args[1..], Lookup::Peek);
}

/// `TOUCH key [key ...]`: as EXISTS, but each found key counts as accessed.
pub fn touch(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    count_found(ctx, &args[1..], Lookup::Read);
}

fn count_found(ctx: &mut ShardCtx<'_>, keys: &[&[u8]], lookup: Lookup) {
    let found = keys
        .iter()
        .filter(|key| ctx.lookup(key, lookup).is_some())
        .count();
    ctx.out.integer(found as i64);
}

/// `TYPE key`
pub fn type_of(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let name = ctx
        .lookup(args[1], Lookup::Peek)
        .map_or("none", |entry| entry.value.type_name());
    ctx.out.simple_string(name.as_bytes());
}

/* ---------------------------------------------------------------------------
 * Expiry
 * ------------------------------------------------------------------------- */

/// EXPIRE's NX/XX/GT/LT conditions.
#[derive(Default, Clone, Copy)]
struct ExpireCondition {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_expire_condition(options: &[&[u8]]) -> Result<ExpireCondition, Vec<u8>> {
    let mut condition = ExpireCondition::default();
    for option in options {
        if is(option, "NX") {
            condition.nx = true;
        } else if is(option, "XX") {
            condition.xx = true;
        } else if is(option, "GT") {
            condition.gt = true;
        } else if is(option, "LT") {
            condition.lt = true;
        } else {
            let mut message = b"ERR Unsupported option ".to_vec();
            message.extend_from_slice(option);
            return Err(message);
        }
    }
    if condition.nx && (condition.xx || condition.gt || condition.lt) {
        return Err(
            b"ERR NX and XX, GT or LT options at the same time are not compatible".to_vec(),
        );
    }
    if condition.gt && condition.lt {
        return Err(b"ERR GT and LT options at the same time are not compatible".to_vec());
    }
    Ok(condition)
}

/// The shared body of EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT.
fn expire_generic(
    ctx: &mut ShardCtx<'_>,
    args: &[&[u8]],
    seconds: bool,
    relative: bool,
    command: &str,
) {
    let condition = match parse_expire_condition(&args[3..]) {
        Ok(condition) => condition,
        Err(message) => return ctx.out.error(&message),
    };
    let mut when = match int_arg(args[2]) {
        Ok(when) => when,
        Err(error) => return ctx.out.error(error),
    };
    let invalid = format!("ERR invalid expire time in '{command}' command");
    if seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return ctx.out.error(invalid.as_bytes());
        }
        when *= 1000;
    }
    let base = if relative { ctx.now_ms as i64 } else { 0 };
    if when > i64::MAX - base {
        return ctx.out.error(invalid.as_bytes());
    }
    when += base;
    let key = args[1];
    if ctx.entry(key).is_none() {
        return ctx.out.integer(0);
    }
    let current = ctx.shard.db_ref(ctx.db).expire_of(key);
    let has_ttl = current != 0;
    let refused = (condition.nx && has_ttl)
        || (condition.xx && !has_ttl)
        || (condition.gt && (!has_ttl || when <= current as i64))
        || (condition.lt && has_ttl && when >= current as i64);
    if refused {
        return ctx.out.integer(0);
    }
    let db = ctx.db;
    if when <= ctx.now_ms as i64 {
        ctx.shard.db(db).remove(key);
    } else {
        ctx.shard.db(db).set_expire(key, when as u64);
    }
    ctx.out.integer(1);
}

/// `EXPIRE key seconds [NX|XX|GT|LT]`
pub fn expire(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, true, true, "expire");
}

/// `PEXPIRE key milliseconds [NX|XX|GT|LT]`
pub fn pexpire(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, false, true, "pexpire");
}

/// `EXPIREAT key unix-seconds [NX|XX|GT|LT]`
pub fn expireat(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, true, false, "expireat");
}

/// `PEXPIREAT key unix-milliseconds [NX|XX|GT|LT]`
pub fn pexpireat(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, false, false, "pexpireat");
}

/// The shared body of TTL, PTTL, EXPIRETIME, PEXPIRETIME.
fn ttl_generic(ctx: &mut ShardCtx<'_>, key: &[u8], millis: bool, absolute: bool) {
    let now_ms = ctx.now_ms as i64;
    if ctx.lookup(key, Lookup::Peek).is_none() {
        return ctx.out.integer(-2);
    }
    let at = ctx.shard.db_ref(ctx.db).expire_of(key) as i64;
    if at == 0 {
        return ctx.out.integer(-1);
    }
    let ttl = if absolute { at } else { (at - now_ms).max(0) };
    // Rounded to seconds as Redis rounds, in 128 bits: an expiry at
    // i64::MAX milliseconds must not overflow.
    let seconds = ((i128::from(ttl) + 500) / 1000) as i64;
    ctx.out.integer(if millis { ttl } else { seconds });
}

/// `TTL key`
pub fn ttl(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], false, false);
}

/// `PTTL key`
pub fn pttl(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], true, false);
}

/// `EXPIRETIME key`
pub fn expiretime(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], false, true);
}

/// `PEXPIRETIME key`
pub fn pexpiretime(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], true, true);
}

/// `PERSIST key`
pub fn persist(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let had_ttl = ctx.entry(args[1]).is_some() && ctx.shard.db_ref(ctx.db).expire_of(args[1]) != 0;
    if had_ttl {
        let db = ctx.db;
        ctx.shard.db(db).set_expire(args[1], 0);
    }
    ctx.out.integer(i64::from(had_ttl));
}

/* ---------------------------------------------------------------------------
 * Renaming, copying, moving
 * ------------------------------------------------------------------------- */

fn rename_generic(ctx: &mut ShardCtx<'_>, args: &[&[u8]], nx: bool) {
    let (from, to) = (args[1], args[2]);
    if !ctx.exists(from) {
        return ctx.out.error(errors::NO_SUCH_KEY);
    }
    if from == to {
        return if nx { ctx.out.integer(0) } else { ctx.out.ok() };
    }
    if nx && ctx.exists(to) {
        return ctx.out.integer(0);
    }
    let db = ctx.db;
    let record = ctx
        .shard
        .db(db)
        .remove(from)
        .expect("checked to exist above");
    ctx.shard.db(db).insert_record(to, record);
    if nx {
        ctx.out.integer(1);
    } else {
        ctx.out.ok();
    }
}

/// `RENAME key newkey`
pub fn rename(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    rename_generic(ctx, args, false);
}

/// `RENAMENX key newkey`
pub fn renamenx(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    rename_generic(ctx, args, true);
}

/// Parses a database index argument, replying with Redis's error: its
/// `getIntFromObjectOrReply` tells text that is no integer from an integer
/// outside C's `int`.
fn db_index_arg(ctx: &mut ShardCtx<'_>, arg: &[u8]) -> Option<usize> {
    let index = match int_arg(arg) {
        Ok(index) if i32::try_from(index).is_ok() => index,
        Ok(_) => {
            ctx.out
                .error(b"ERR value is out of range, value must between -2147483648 and 2147483647");
            return None;
        }
        Err(error) => {
            ctx.out.error(error);
            return None;
        }
    };
    if index < 0 || index as usize >= ctx.shard.databases() {
        ctx.out.error(errors::DB_INDEX);
        return None;
    }
    Some(index as usize)
}

/// COPY's and MOVE's target database, for routing: `None` means the
/// client's own database (or an argument error the handler reports).
pub fn copy_target_db(args: &[&[u8]]) -> Option<i64> {
    let mut index = 3;
    while index < args.len() {
        if is(args[index], "DB") && index + 1 < args.len() {
            return shoal_protocol::parse_i64(args[index + 1]);
        }
        index += 1;
    }
    None
}

/// `COPY source destination [DB index] [REPLACE]`
pub fn copy(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let (mut replace, mut target) = (false, ctx.db);
    let mut index = 3;
    while index < args.len() {
        if is(args[index], "REPLACE") {
            replace = true;
        } else if is(args[index], "DB") && index + 1 < args.len() {
            let Some(db) = db_index_arg(ctx, args[index + 1]) else {
                return;
            };
            target = db;
            index += 1;
        } else {
            return ctx.out.error(errors::SYNTAX);
        }
        index += 1;
    }
    let (from, to) = (args[1], args[2]);
    if target == ctx.db && from == to {
        return ctx
            .out
            .error(b"ERR source and destination objects are the same");
    }
    if ctx.lookup(from, Lookup::Read).is_none() {
        return ctx.out.integer(0);
    }
    let Some(record) = ctx.shard.db_ref(ctx.db).record(from, ctx.now_ms) else {
        return ctx.out.integer(0);
    };
    let now_ms = ctx.now_ms;
    let exists = ctx.shard.entry(target, to, now_ms).is_some();
    if exists && !replace {
        return ctx.out.integer(0);
    }
    ctx.shard.db(target).insert_record(to, record);
    ctx.out.integer(1);
}

/// `MOVE key db`
pub fn move_key(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let Some(target) = db_index_arg(ctx, args[2]) else {
        return;
    };
    if target == ctx.db {
        return ctx
            .out
            .error(b"ERR source and destination objects are the same");
    }
    let key = args[1];
    if !ctx.exists(key) {
        return ctx.out.integer(0);
    }
    let now_ms = ctx.now_ms;
    if ctx.shard.entry(target, key, now_ms).is_some() {
        return ctx.out.integer(0);
    }
    let source = ctx.db;
    let (from, to) = ctx.shard.two_dbs(source, target);
    let record = from.remove(key).expect("checked to exist above");
    to.insert_record(key, record);
    ctx.out.integer(1);
}

/* ---------------------------------------------------------------------------
 * OBJECT
 * ------------------------------------------------------------------------- */

/// Integers Redis keeps as shared objects, whose refcount it reports as `INT_MAX`.
const SHARED_INTEGERS: i64 = 10_000;

/// What `OBJECT HELP` replies, line for line as Redis 7.0 (its
/// `addReplyHelp` adds the first line and the HELP entry around these).
const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// `OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key` and `OBJECT HELP`
pub fn object(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let sub = args[1];
    // The dispatcher checked the subcommand's arity: HELP alone has no key.
    let Some(&key) = args.get(2).filter(|_| !is(sub, "HELP")) else {
        ctx.out.array(OBJECT_HELP.len());
        for line in OBJECT_HELP {
            ctx.out.simple_string(line.as_bytes());
        }
        return;
    };
    let policy = ctx.shard.tracking.policy;
    let now_ms = ctx.now_ms;
    let Some(entry) = ctx.lookup(key, Lookup::Peek) else {
        return ctx.out.null();
    };
    if is(sub, "ENCODING") {
        let name = entry.value.encoding_name();
        ctx.out.bulk(name.as_bytes());
    } else if is(sub, "REFCOUNT") {
        let shared = matches!(entry.value, Value::Str(StrValue::Int(value)) if (0..SHARED_INTEGERS).contains(&value));
        ctx.out
            .integer(if shared { i64::from(i32::MAX) } else { 1 });
    } else if is(sub, "IDLETIME") {
        match policy {
            AccessPolicy::Lru => {
                let idle_s = idle_seconds(entry.access_clock, now_ms);
                ctx.out.integer(idle_s as i64);
            }
            AccessPolicy::Lfu { .. } => ctx.out.error(b"ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
        }
    } else {
        match policy {
            AccessPolicy::Lfu { .. } => {
                let counter = policy.lfu_counter(entry.access_clock, now_ms);
                ctx.out.integer(i64::from(counter));
            }
            AccessPolicy::Lru => ctx.out.error(b"ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
        }
    }
}

/* ---------------------------------------------------------------------------
 * Per-shard parts of the commands that span every shard
 * ------------------------------------------------------------------------- */

/// Keys in database `db` of this shard.
pub fn dbsize_part(shard: &Shard, db: usize) -> usize {
    shard.db_ref(db).len()
}

/// Keys of database `db` matching `pattern`.
pub fn keys_part(shard: &Shard, db: usize, pattern: &[u8], now_ms: u64) -> Vec<Vec<u8>> {
    let match_all = pattern == b"*";
    shard
        .db_ref(db)
        .iter_live(now_ms)
        .filter(|(key, _)| match_all || glob_match(pattern, key, false))
        .map(|(key, _)| key.to_vec())
        .collect()
}

/// A random live key of database `db`, if any.
pub fn randomkey_part(shard: &Shard, db: usize, now_ms: u64, seed: u64) -> Option<Vec<u8>> {
    let db = shard.db_ref(db);
    let len = db.len();
    // A bounded number of tries, as Redis does, in case most keys expired.
    (0..100.min(len.max(1)) as u64).find_map(|attempt| {
        let index = (seed.wrapping_add(attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            % len.max(1) as u64) as usize;
        db.live_key_at(index, now_ms).map(|key| key.to_vec())
    })
}

/// SCAN's options.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// `COUNT`, at least 1.
    pub count: usize,
    /// `MATCH`, if not `*`.
    pub pattern: Option<Vec<u8>>,
    /// `TYPE`, lowercase.
    pub type_name: Option<String>,
}

/// Parses SCAN's options after the cursor; `Err` is the error reply.
pub fn parse_scan_options(args: &[&[u8]]) -> Result<ScanOptions, Vec<u8>> {
    let mut type_name = None;
    let parsed = scan::parse_options(args, |option, value| {
        // Redis 7.0 takes any name here: one that names no type matches no
        // key (the "unknown type name" error is planned for Redis 8).
        let is_type = is(option, "TYPE");
        if is_type {
            type_name = Some(String::from_utf8_lossy(value).to_ascii_lowercase());
        }
        is_type
    })
    .map_err(<[u8]>::to_vec)?;
    Ok(ScanOptions {
        count: parsed.count,
        pattern: parsed.pattern.map(<[u8]>::to_vec),
        type_name,
    })
}

/// One SCAN step over database `db` of this shard, from `position` (0 =
/// start); returns the next position (0 = this shard is done) and the keys.
pub fn scan_part(
    shard: &Shard,
    db: usize,
    position: u64,
    options: &ScanOptions,
    now_ms: u64,
) -> (u64, Vec<Vec<u8>>) {
    let db = shard.db_ref(db);
    let start = if position == 0 {
        db.len()
    } else {
        position as usize
    };
    let mut keys = Vec::new();
    let next = db.scan_down(start, options.count, now_ms, |key, entry| {
        let pattern_ok = options
            .pattern
            .as_deref()
            .is_none_or(|pattern| glob_match(pattern, key, false));
        let type_ok = options
            .type_name
            .as_deref()
            .is_none_or(|name| name == entry.value.type_name());
        if pattern_ok && type_ok {
            keys.push(key.to_vec());
        }
    });
    (next as u64, keys)
}
