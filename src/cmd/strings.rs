//! String commands, as Redis's `t_string.c`.

use super::args::{int_arg, is};
use super::ctx::{errors, ShardCtx};
use crate::shard::{Lookup as Access, StrValue, Value};

/// The largest string a command may build (`proto-max-bulk-len`).
const STRING_MAX_BYTES: u64 = 512 * 1024 * 1024;

/* ---------------------------------------------------------------------------
 * Type API
 * ------------------------------------------------------------------------- */

/// What a lookup for a string found.
enum Lookup<'a> {
    Missing,
    Found(&'a mut StrValue),
    WrongType,
}

/// Looks a string up for a write command.
fn lookup<'a>(ctx: &'a mut ShardCtx<'_>, key: &[u8]) -> Lookup<'a> {
    lookup_in(ctx.shard, ctx.db, ctx.now_ms, key, Access::Write)
}

/// Looks a string up for a read command (counts a keyspace hit or miss).
fn lookup_read<'a>(ctx: &'a mut ShardCtx<'_>, key: &[u8]) -> Lookup<'a> {
    lookup_in(ctx.shard, ctx.db, ctx.now_ms, key, Access::Read)
}

fn lookup_in<'a>(
    shard: &'a mut crate::shard::Shard,
    db: usize,
    now_ms: u64,
    key: &[u8],
    access: Access,
) -> Lookup<'a> {
    match shard.lookup(db, key, now_ms, access) {
        None => Lookup::Missing,
        Some(entry) => match &mut entry.value {
            Value::Str(string) => Lookup::Found(string),
            #[allow(unreachable_patterns)]
            _ => Lookup::WrongType,
        },
    }
}

/// Replies with the string at `key` (nil if absent), looked up for reading.
/// Err if it is another type.
fn reply_string(ctx: &mut ShardCtx<'_>, key: &[u8]) -> Result<(), ()> {
    let out = &mut *ctx.out;
    match lookup_in(ctx.shard, ctx.db, ctx.now_ms, key, Access::Read) {
        Lookup::Missing => {
            out.null();
            Ok(())
        }
        Lookup::Found(string) => {
            string.with_bytes(|bytes| out.bulk(bytes));
            Ok(())
        }
        Lookup::WrongType => {
            out.error(errors::WRONGTYPE);
            Err(())
        }
    }
}

fn expire_error(ctx: &mut ShardCtx<'_>, command: &str) {
    ctx.out
        .error(format!("ERR invalid expire time in '{command}' command").as_bytes());
}

/// The unit and base of an expiry argument.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    Seconds,
    Millis,
    UnixSeconds,
    UnixMillis,
}

/// Turns an expiry argument into an absolute Unix time in milliseconds,
/// with Redis's checks; replies with the error itself on failure.
fn expire_at_ms(
    ctx: &mut ShardCtx<'_>,
    arg: &[u8],
    kind: ExpireKind,
    command: &str,
) -> Option<u64> {
    let value = match int_arg(arg) {
        Ok(value) => value,
        Err(error) => {
            ctx.out.error(error);
            return None;
        }
    };
    let seconds = matches!(kind, ExpireKind::Seconds | ExpireKind::UnixSeconds);
    if value <= 0 || (seconds && value > i64::MAX / 1000) {
        expire_error(ctx, command);
        return None;
    }
    let mut millis = if seconds { value * 1000 } else { value };
    if matches!(kind, ExpireKind::Seconds | ExpireKind::Millis) {
        millis = millis.wrapping_add(ctx.now_ms as i64);
    }
    if millis <= 0 {
        expire_error(ctx, command);
        return None;
    }
    Some(millis as u64)
}

/// Applies a computed expiry to a key that was just written.
fn apply_expire(ctx: &mut ShardCtx<'_>, key: &[u8], at_ms: u64) {
    let db = ctx.db;
    ctx.shard.db(db).set_expire(key, at_ms);
}

/* ---------------------------------------------------------------------------
 * GET, SET and friends
 * ------------------------------------------------------------------------- */

/// `GET key`
pub fn get(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let _ = reply_string(ctx, args[1]);
}

/// Options SET and GETEX accept.
#[derive(Default)]
struct SetOptions<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expire: Option<(ExpireKind, &'a [u8])>,
}

/// Parses SET's (`for_set`) or GETEX's options with Redis's exclusivity rules.
fn parse_set_options<'a>(options: &[&'a [u8]], for_set: bool) -> Result<SetOptions<'a>, ()> {
    let mut parsed = SetOptions::default();
    let mut index = 0;
    while index < options.len() {
        let option = options[index];
        let next = options.get(index + 1).copied();
        let has_expire = parsed.expire.is_some();
        if for_set && is(option, "NX") && !parsed.xx {
            parsed.nx = true;
        } else if for_set && is(option, "XX") && !parsed.nx {
            parsed.xx = true;
        } else if for_set && is(option, "GET") {
            parsed.get = true;
        } else if for_set && is(option, "KEEPTTL") && !has_expire {
            parsed.keep_ttl = true;
        } else if !for_set && is(option, "PERSIST") && !has_expire {
            parsed.persist = true;
        } else if let Some(kind) = expire_option(option) {
            let Some(value) = next else { return Err(()) };
            // Redis refuses a second expiry of another unit, but a repeat
            // of the same one replaces the first (`EX 1 EX 2` is EX 2).
            let other_unit = parsed.expire.is_some_and(|(earlier, _)| earlier != kind);
            if parsed.keep_ttl || parsed.persist || other_unit {
                return Err(());
            }
            parsed.expire = Some((kind, value));
            index += 1;
        } else {
            return Err(());
        }
        index += 1;
    }
    Ok(parsed)
}

fn expire_option(option: &[u8]) -> Option<ExpireKind> {
    if is(option, "EX") {
        Some(ExpireKind::Seconds)
    } else if is(option, "PX") {
        Some(ExpireKind::Millis)
    } else if is(option, "EXAT") {
        Some(ExpireKind::UnixSeconds)
    } else if is(option, "PXAT") {
        Some(ExpireKind::UnixMillis)
    } else {
        None
    }
}

/// What SET-like commands reply.
#[derive(Clone, Copy)]
enum SetReply {
    /// `+OK`, or nil when NX/XX prevents the write.
    OkOrNil,
    /// `:1` when written, `:0` when not (SETNX).
    OneOrZero,
}

/// The shared body of SET, SETNX, SETEX, PSETEX (Redis's `setGenericCommand`).
fn set_generic(
    ctx: &mut ShardCtx<'_>,
    key: &[u8],
    value: &[u8],
    options: &SetOptions<'_>,
    reply: SetReply,
    command: &str,
) {
    let expire_at = match options.expire {
        Some((kind, arg)) => match expire_at_ms(ctx, arg, kind, command) {
            Some(at) => Some(at),
            None => return,
        },
        None => None,
    };
    if options.get && reply_string(ctx, key).is_err() {
        return;
    }
    let found = ctx.exists(key);
    if (options.nx && found) || (options.xx && !found) {
        if !options.get {
            match reply {
                SetReply::OkOrNil => ctx.out.null(),
                SetReply::OneOrZero => ctx.out.integer(0),
            }
        }
        return;
    }
    ctx.set(key, Value::string(value), options.keep_ttl);
    if let Some(at) = expire_at {
        apply_expire(ctx, key, at);
    }
    if !options.get {
        match reply {
            SetReply::OkOrNil => ctx.out.ok(),
            SetReply::OneOrZero => ctx.out.integer(1),
        }
    }
}

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms|KEEPTTL]`
pub fn set(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let Ok(options) = parse_set_options(&args[3..], true) else {
        ctx.out.error(errors::SYNTAX);
        return;
    };
    set_generic(ctx, args[1], args[2], &options, SetReply::OkOrNil, "set");
}

/// `SETNX key value`
pub fn setnx(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let options = SetOptions {
        nx: true,
        ..SetOptions::default()
    };
    set_generic(
        ctx,
        args[1],
        args[2],
        &options,
        SetReply::OneOrZero,
        "setnx",
    );
}

/// `SETEX key seconds value`
pub fn setex(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let options = SetOptions {
        expire: Some((ExpireKind::Seconds, args[2])),
        ..SetOptions::default()
    };
    set_generic(ctx, args[1], args[3], &options, SetReply::OkOrNil, "setex");
}

/// `PSETEX key milliseconds value`
pub fn psetex(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let options = SetOptions {
        expire: Some((ExpireKind::Millis, args[2])),
        ..SetOptions::default()
    };
    set_generic(ctx, args[1], args[3], &options, SetReply::OkOrNil, "psetex");
}

/// `GETSET key value`
pub fn getset(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    if reply_string(ctx, args[1]).is_ok() {
        ctx.set(args[1], Value::string(args[2]), false);
    }
}

/// `GETDEL key`
pub fn getdel(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    if reply_string(ctx, args[1]).is_ok() {
        ctx.remove(args[1]);
    }
}

/// `GETEX key [EX s|PX ms|EXAT ts|PXAT ms|PERSIST]`
pub fn getex(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let Ok(options) = parse_set_options(&args[2..], false) else {
        ctx.out.error(errors::SYNTAX);
        return;
    };
    let key = args[1];
    match lookup_read(ctx, key) {
        Lookup::Missing => {
            ctx.out.null();
            return;
        }
        Lookup::WrongType => {
            ctx.out.error(errors::WRONGTYPE);
            return;
        }
        Lookup::Found(_) => {}
    }
    let expire_at = match options.expire {
        Some((kind, arg)) => match expire_at_ms(ctx, arg, kind, "getex") {
            Some(at) => Some(at),
            None => return,
        },
        None => None,
    };
    // Found above: this second look neither counts nor touches again.
    if let Some(Value::Str(string)) = ctx
        .shard
        .db_ref(ctx.db)
        .peek_entry(key, ctx.now_ms)
        .map(|entry| &entry.value)
    {
        string.with_bytes(|bytes| ctx.out.bulk(bytes));
    }
    let absolute = matches!(
        options.expire,
        Some((ExpireKind::UnixSeconds | ExpireKind::UnixMillis, _))
    );
    let db = ctx.db;
    match expire_at {
        Some(at) if absolute && at <= ctx.now_ms => {
            ctx.shard.db(db).remove(key);
        }
        Some(at) => apply_expire(ctx, key, at),
        None if options.persist => {
            ctx.shard.db(db).set_expire(key, 0);
        }
        None => {}
    }
}

/// `MGET key [key ...]`: nil for missing keys and keys of other types.
pub fn mget(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let out = &mut *ctx.out;
    out.array(args.len() - 1);
    for key in &args[1..] {
        match lookup_in(ctx.shard, ctx.db, ctx.now_ms, key, Access::Read) {
            Lookup::Found(string) => string.with_bytes(|bytes| out.bulk(bytes)),
            _ => out.null(),
        }
    }
}

fn wrong_arity(ctx: &mut ShardCtx<'_>, command: &str) {
    ctx.out
        .error(format!("ERR wrong number of arguments for '{command}' command").as_bytes());
}

/// `MSET key value [key value ...]`
pub fn mset(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    if args.len() % 2 == 0 {
        return wrong_arity(ctx, "mset");
    }
    for pair in args[1..].chunks_exact(2) {
        ctx.set(pair[0], Value::string(pair[1]), false);
    }
    ctx.out.ok();
}

/// `MSETNX key value [key value ...]`
pub fn msetnx(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    if args.len() % 2 == 0 {
        return wrong_arity(ctx, "msetnx");
    }
    if args[1..].chunks_exact(2).any(|pair| ctx.exists(pair[0])) {
        ctx.out.integer(0);
        return;
    }
    for pair in args[1..].chunks_exact(2) {
        ctx.set(pair[0], Value::string(pair[1]), false);
    }
    ctx.out.integer(1);
}

/* ---------------------------------------------------------------------------
 * In-place edits
 * ------------------------------------------------------------------------- */

/// `APPEND key value`
pub fn append(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let (key, suffix) = (args[1], args[2]);
    let length = match lookup(ctx, key) {
        Lookup::Missing => None,
        Lookup::WrongType => return ctx.out.error(errors::WRONGTYPE),
        Lookup::Found(string) => {
            if string.len() as u64 + suffix.len() as u64 > STRING_MAX_BYTES {
                return ctx
                    .out
                    .error(b"ERR string exceeds maximum allowed size (proto-max-bulk-len)");
            }
            let bytes = string.make_raw();
            bytes.extend_from_slice(suffix);
            Some(bytes.len())
        }
    };
    let length = length.unwrap_or_else(|| {
        ctx.set(key, Value::string(suffix), false);
        suffix.len()
    });
    ctx.out.integer(length as i64);
}

/// `STRLEN key`
pub fn strlen(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match lookup_read(ctx, args[1]) {
        Lookup::Missing => ctx.out.integer(0),
        Lookup::WrongType => ctx.out.error(errors::WRONGTYPE),
        Lookup::Found(string) => {
            let length = string.len() as i64;
            ctx.out.integer(length);
        }
    }
}

/// The shared body of INCR, DECR, INCRBY, DECRBY.
fn incr_by(ctx: &mut ShardCtx<'_>, key: &[u8], increment: i64) {
    let current = match lookup(ctx, key) {
        Lookup::Missing => 0,
        Lookup::WrongType => return ctx.out.error(errors::WRONGTYPE),
        Lookup::Found(StrValue::Int(value)) => *value,
        Lookup::Found(string) => match string.with_bytes(shoal_protocol::parse_i64) {
            Some(value) => value,
            None => return ctx.out.error(errors::NOT_INTEGER),
        },
    };
    let Some(value) = current.checked_add(increment) else {
        return ctx.out.error(errors::OVERFLOW);
    };
    match lookup(ctx, key) {
        Lookup::Found(string) => *string = StrValue::Int(value),
        _ => ctx.set(key, Value::Str(StrValue::Int(value)), false),
    }
    ctx.out.integer(value);
}

/// `INCR key`
pub fn incr(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    incr_by(ctx, args[1], 1);
}

/// `DECR key`
pub fn decr(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    incr_by(ctx, args[1], -1);
}

/// `INCRBY key increment`
pub fn incrby(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match int_arg(args[2]) {
        Ok(increment) => incr_by(ctx, args[1], increment),
        Err(error) => ctx.out.error(error),
    }
}

/// `DECRBY key decrement`
pub fn decrby(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match int_arg(args[2]) {
        Ok(i64::MIN) => ctx.out.error(b"ERR decrement would overflow"),
        Ok(decrement) => incr_by(ctx, args[1], -decrement),
        Err(error) => ctx.out.error(error),
    }
}

/// `INCRBYFLOAT key increment`: the sum of two x87 `long double`s, as Redis
/// computes and prints it on x86-64 (see [`long_double`]).
pub fn incrbyfloat(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    use long_double::{Extended, LongDouble};
    let key = args[1];
    let current = match lookup(ctx, key) {
        Lookup::Missing => Extended::Finite(LongDouble::from_i64(0)),
        Lookup::WrongType => return ctx.out.error(errors::WRONGTYPE),
        Lookup::Found(StrValue::Int(value)) => Extended::Finite(LongDouble::from_i64(*value)),
        Lookup::Found(string) => match string.with_bytes(long_double::parse) {
            Some(value) => value,
            None => return ctx.out.error(errors::NOT_FLOAT),
        },
    };
    let Some(increment) = long_double::parse(args[2]) else {
        return ctx.out.error(errors::NOT_FLOAT);
    };
    let sum = match (current, increment) {
        (Extended::Finite(value), Extended::Finite(increment)) => {
            long_double::add(value, increment)
        }
        _ => Extended::Infinite,
    };
    let Extended::Finite(sum) = sum else {
        return ctx
            .out
            .error(b"ERR increment would produce NaN or Infinity");
    };
    let text = long_double::to_human_string(sum);
    ctx.set(
        key,
        Value::Str(StrValue::Raw(text.clone().into_bytes().into_boxed_slice())),
        true,
    );
    ctx.out.bulk(text.as_bytes());
}

/// `GETRANGE key start end` (and `SUBSTR`)
pub fn getrange(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let (start, end) = match (int_arg(args[2]), int_arg(args[3])) {
        (Ok(start), Ok(end)) => (start, end),
        (Err(error), _) | (_, Err(error)) => return ctx.out.error(error),
    };
    let string = match lookup_read(ctx, args[1]) {
        Lookup::Missing => return ctx.out.bulk(b""),
        Lookup::WrongType => return ctx.out.error(errors::WRONGTYPE),
        Lookup::Found(string) => string.to_vec(),
    };
    match byte_range(string.len(), start, end) {
        Some((from, to)) => ctx.out.bulk(&string[from..=to]),
        None => ctx.out.bulk(b""),
    }
}

/// Redis's GETRANGE index arithmetic: the inclusive byte range, or `None`
/// for an empty result.
fn byte_range(len: usize, mut start: i64, mut end: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// `SETRANGE key offset value`
pub fn setrange(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let (key, patch) = (args[1], args[3]);
    let offset = match int_arg(args[2]) {
        Ok(offset) if offset < 0 => return ctx.out.error(b"ERR offset is out of range"),
        Ok(offset) => offset as u64,
        Err(error) => return ctx.out.error(error),
    };
    let too_long = offset + patch.len() as u64 > STRING_MAX_BYTES;
    let length = match lookup(ctx, key) {
        Lookup::WrongType => return ctx.out.error(errors::WRONGTYPE),
        Lookup::Missing if patch.is_empty() => return ctx.out.integer(0),
        Lookup::Found(string) if patch.is_empty() => {
            let length = string.len() as i64;
            return ctx.out.integer(length);
        }
        _ if too_long => {
            return ctx
                .out
                .error(b"ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        }
        Lookup::Missing => {
            let mut bytes = vec![0u8; offset as usize];
            bytes.extend_from_slice(patch);
            let length = bytes.len();
            ctx.set(key, Value::Str(StrValue::Edited(Box::new(bytes))), false);
            length
        }
        Lookup::Found(string) => {
            let bytes = string.make_raw();
            let end = offset as usize + patch.len();
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[offset as usize..end].copy_from_slice(patch);
            bytes.len()
        }
    };
    ctx.out.integer(length as i64);
}

/* ---------------------------------------------------------------------------
 * LCS
 * ------------------------------------------------------------------------- */

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]`
pub fn lcs(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let mut strings = [Vec::new(), Vec::new()];
    for (slot, key) in strings.iter_mut().zip([args[1], args[2]]) {
        match lookup_read(ctx, key) {
            Lookup::Missing => {}
            Lookup::WrongType => {
                return ctx
                    .out
                    .error(b"ERR The specified keys must contain string values")
            }
            Lookup::Found(string) => *slot = string.to_vec(),
        }
    }
    let (mut get_len, mut get_idx, mut with_match_len, mut min_match_len) =
        (false, false, false, 0i64);
    let mut index = 3;
    while index < args.len() {
        let option = args[index];
        let more = index + 1 < args.len();
        if is(option, "IDX") {
            get_idx = true;
        } else if is(option, "LEN") {
            get_len = true;
        } else if is(option, "WITHMATCHLEN") {
            with_match_len = true;
        } else if is(option, "MINMATCHLEN") && more {
            match int_arg(args[index + 1]) {
                Ok(value) => min_match_len = value.max(0),
                Err(error) => return ctx.out.error(error),
            }
            index += 1;
        } else {
            return ctx.out.error(errors::SYNTAX);
        }
        index += 1;
    }
    if get_len && get_idx {
        return ctx
            .out
            .error(b"ERR If you want both the length and indexes, please just use IDX.");
    }
    let [a, b] = strings;
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1) * 4;
    if cells > STRING_MAX_BYTES {
        return ctx.out.error(
            b"ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        );
    }
    let table = lcs_table(&a, &b);
    let total = table[a.len() * (b.len() + 1) + b.len()];
    if get_len {
        return ctx.out.integer(i64::from(total));
    }
    let (common, matches) = lcs_walk(&a, &b, &table, total as usize);
    if !get_idx {
        return ctx.out.bulk(&common);
    }
    let shown: Vec<_> = matches
        .iter()
        .filter(|m| min_match_len == 0 || m.len as i64 >= min_match_len)
        .collect();
    ctx.out.map(2);
    ctx.out.bulk(b"matches");
    ctx.out.array(shown.len());
    for found in shown {
        ctx.out.array(2 + usize::from(with_match_len));
        ctx.out.array(2);
        ctx.out.integer(found.a_start as i64);
        ctx.out.integer(found.a_end as i64);
        ctx.out.array(2);
        ctx.out.integer(found.b_start as i64);
        ctx.out.integer(found.b_end as i64);
        if with_match_len {
            ctx.out.integer(found.len as i64);
        }
    }
    ctx.out.bulk(b"len");
    ctx.out.integer(i64::from(total));
}

/// The dynamic-programming table: `table[i * (b.len() + 1) + j]` is the
/// LCS length of `a[..i]` and `b[..j]`.
fn lcs_table(a: &[u8], b: &[u8]) -> Vec<u32> {
    let width = b.len() + 1;
    let mut table = vec![0u32; (a.len() + 1) * width];
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    table
}

/// One matching range of LCS IDX.
struct LcsMatch {
    a_start: usize,
    a_end: usize,
    b_start: usize,
    b_end: usize,
    len: usize,
}

/// Walks the table back from the end as Redis does: the common string and
/// the matching ranges, last first.
fn lcs_walk(a: &[u8], b: &[u8], table: &[u32], total: usize) -> (Vec<u8>, Vec<LcsMatch>) {
    let width = b.len() + 1;
    let mut common = vec![0u8; total];
    let mut matches = Vec::new();
    let (mut i, mut j, mut remaining) = (a.len(), b.len(), total);
    let mut current: Option<LcsMatch> = None;
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            common[remaining - 1] = a[i - 1];
            match current.as_mut() {
                None => {
                    current = Some(LcsMatch {
                        a_start: i - 1,
                        a_end: i - 1,
                        b_start: j - 1,
                        b_end: j - 1,
                        len: 0,
                    })
                }
                Some(range) if range.a_start == i && range.b_start == j => {
                    range.a_start -= 1;
                    range.b_start -= 1;
                }
                Some(_) => emit = true,
            }
            if let Some(range) = &current {
                if range.a_start == 0 || range.b_start == 0 {
                    emit = true;
                }
            }
            remaining -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if current.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some(mut range) = current.take() {
                range.len = range.a_end - range.a_start + 1;
                matches.push(range);
            }
        }
    }
    (common, matches)
}

/* ---------------------------------------------------------------------------
 * INCRBYFLOAT's arithmetic: the x87 80-bit `long double`
 * ------------------------------------------------------------------------- */

/// Redis parses INCRBYFLOAT's operands with `strtold`, adds them as C
/// `long double`s and prints the sum with `%.17Lf`. On x86-64, the platform
/// Redis is built and compared on, that type is the x87 extended format: a
/// 64-bit significand, round to nearest even. Seventeen decimals show more
/// digits than an `f64` holds (`1000 + 0.1` is `1000.09999999999999998`),
/// so this module does that arithmetic exactly, in software: parsing
/// (decimal and hexadecimal, as `strtold` reads them), one correctly rounded
/// addition, and exact decimal printing.
pub(crate) mod long_double {
    use std::cmp::Ordering;

    /// Redis's `MAX_LONG_DOUBLE_CHARS`: longer operands are refused.
    const TEXT_MAX_BYTES: usize = 5 * 1024;
    /// The weight of the lowest significand bit of the smallest subnormal.
    const EXPONENT_MIN: i64 = -16445;
    /// The largest exponent of the top significand bit (`LDBL_MAX_EXP - 1`).
    const TOP_EXPONENT_MAX: i64 = 16383;
    /// Decimal exponents past these make any significand overflow or vanish
    /// (`LDBL_MAX` is about 1.19e4932, the least subnormal 3.65e-4951), so
    /// parsing stops there instead of building enormous powers of ten.
    const DECIMAL_EXPONENT_MAX: i64 = 4933;
    const DECIMAL_EXPONENT_MIN: i64 = -4952;
    /// Exponent digits beyond this value change nothing (see above).
    const EXPONENT_SATURATION: i64 = 1_000_000;
    /// `%.17Lf`: the digits printed after the point.
    const FRACTION_DIGITS: u32 = 17;

    /// A finite `long double`: `significand × 2^exponent` with a sign.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct LongDouble {
        negative: bool,
        significand: u64,
        exponent: i64,
    }

    /// What `strtold` and the sum can produce, NaN aside (Redis refuses it).
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub enum Extended {
        /// A finite value.
        Finite(LongDouble),
        /// Positive or negative infinity.
        Infinite,
    }

    impl LongDouble {
        const ZERO: LongDouble = LongDouble {
            negative: false,
            significand: 0,
            exponent: 0,
        };

        /// An integer, exactly (every `i64` fits a 64-bit significand).
        pub fn from_i64(value: i64) -> LongDouble {
            LongDouble {
                negative: value < 0,
                significand: value.unsigned_abs(),
                exponent: 0,
            }
        }

        /// The exponent of the bit just above the top set bit.
        fn top(self) -> i64 {
            self.exponent + 64 - i64::from(self.significand.leading_zeros())
        }
    }

    /// Rounds `magnitude × 2^exponent`, plus less than one unit of its last
    /// bit when `sticky`, to a 64-bit significand, to nearest even, with
    /// subnormals; `Infinite` past the largest finite value.
    fn round(negative: bool, magnitude: u128, exponent: i64, sticky: bool) -> Extended {
        if magnitude == 0 {
            return Extended::Finite(LongDouble {
                negative,
                ..LongDouble::ZERO
            });
        }
        let bits = 128 - i64::from(magnitude.leading_zeros());
        let target = (exponent + bits - 64).max(EXPONENT_MIN);
        let shift = target - exponent;
        // Every caller keeps at least two bits below the final significand
        // when it has a sticky remainder, so the remainder cannot reach half.
        debug_assert!(!sticky || shift >= 2);
        let (kept, round_up) = if shift <= 0 {
            (magnitude << -shift, false)
        } else if shift > 128 {
            (0, false)
        } else {
            let kept = magnitude.checked_shr(shift as u32).unwrap_or(0);
            let rest = if shift == 128 {
                magnitude
            } else {
                magnitude & ((1u128 << shift) - 1)
            };
            let half = 1u128 << (shift - 1);
            let up = rest > half || (rest == half && (sticky || kept & 1 == 1));
            (kept, up)
        };
        let (mut kept, mut target) = (kept + u128::from(round_up), target);
        if kept >> 64 != 0 {
            kept >>= 1;
            target += 1;
        }
        let significand = u64::try_from(kept).expect("rounded to 64 bits above");
        let value = LongDouble {
            negative,
            significand,
            exponent: target,
        };
        if significand != 0 && value.top() - 1 > TOP_EXPONENT_MAX {
            return Extended::Infinite;
        }
        Extended::Finite(value)
    }

    /// `a + b`, rounded once, as the x87 adds.
    pub fn add(a: LongDouble, b: LongDouble) -> Extended {
        if a.significand == 0 {
            return Extended::Finite(b);
        }
        if b.significand == 0 {
            return Extended::Finite(a);
        }
        let (high, low) = if a.top() >= b.top() { (a, b) } else { (b, a) };
        // Place the larger operand's top bit at bit 126, leaving bit 127
        // for the carry of an addition.
        let base = high.top() - 127;
        let high_magnitude = u128::from(high.significand) << (high.exponent - base);
        let shift = low.exponent - base;
        let (low_magnitude, sticky) = if shift >= 0 {
            (u128::from(low.significand) << shift, false)
        } else if -shift >= 64 {
            (0, true)
        } else {
            let lost = low.significand & ((1u64 << -shift) - 1);
            (u128::from(low.significand >> -shift), lost != 0)
        };
        if high.negative == low.negative {
            return round(high.negative, high_magnitude + low_magnitude, base, sticky);
        }
        match high_magnitude.cmp(&low_magnitude) {
            Ordering::Equal => Extended::Finite(LongDouble::ZERO),
            Ordering::Greater => {
                // The lost low bits make the true difference a little
                // smaller: one unit less, plus a sticky remainder.
                let difference = high_magnitude - low_magnitude - u128::from(sticky);
                round(high.negative, difference, base, sticky)
            }
            Ordering::Less => round(low.negative, low_magnitude - high_magnitude, base, false),
        }
    }

    /* ----- parsing, as glibc's strtold and Redis's string2ld ----- */

    /// Parses an operand as Redis's `string2ld` does: `strtold` over the
    /// whole text (a NUL byte ends it early, which Redis refuses), no
    /// leading space, no NaN, no overflow, no underflow to zero. `None`:
    /// not a valid float.
    pub fn parse(text: &[u8]) -> Option<Extended> {
        if text.is_empty() || text.len() >= TEXT_MAX_BYTES || text.contains(&0) {
            return None;
        }
        if is_c_space(text[0]) {
            return None;
        }
        let (negative, body) = match text.first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(Extended::Infinite);
        }
        let value = match body {
            [b'0', b'x' | b'X', hex @ ..] => parse_hex(negative, hex)?,
            _ => parse_decimal(negative, body)?,
        };
        match value {
            // strtold's ERANGE: Redis refuses overflow and underflow to 0.
            Extended::Infinite => None,
            finite => Some(finite),
        }
    }

    fn is_c_space(byte: u8) -> bool {
        matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
    }

    /// Splits `[digits][.digits]` off the front; the digits before and after
    /// the point and what follows, if there is at least one digit.
    fn split_digits(text: &[u8], radix: u32) -> Option<(&[u8], &[u8], &[u8])> {
        let is_digit = |byte: &u8| char::from(*byte).is_digit(radix);
        let whole_len = text.iter().take_while(|byte| is_digit(byte)).count();
        let (whole, rest) = text.split_at(whole_len);
        let (fraction, rest) = match rest.split_first() {
            Some((b'.', after)) => {
                let fraction_len = after.iter().take_while(|byte| is_digit(byte)).count();
                after.split_at(fraction_len)
            }
            _ => (&rest[..0], rest),
        };
        (!whole.is_empty() || !fraction.is_empty()).then_some((whole, fraction, rest))
    }

    /// An exponent: an optional sign and at least one decimal digit, all of
    /// `text`; saturated, since huge ones all mean overflow or zero.
    fn parse_exponent(text: &[u8]) -> Option<i64> {
        let (negative, digits) = match text.first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let value = digits.iter().fold(0i64, |value, &digit| {
            (value * 10 + i64::from(digit - b'0')).min(EXPONENT_SATURATION)
        });
        Some(if negative { -value } else { value })
    }

    fn parse_decimal(negative: bool, text: &[u8]) -> Option<Extended> {
        let (whole, fraction, rest) = split_digits(text, 10)?;
        let exponent = match rest {
            [] => 0,
            [b'e' | b'E', exponent @ ..] => parse_exponent(exponent)?,
            _ => return None,
        };
        let digits: Vec<u8> = whole
            .iter()
            .chain(fraction)
            .copied()
            .skip_while(|&digit| digit == b'0')
            .collect();
        if digits.is_empty() {
            return Some(Extended::Finite(LongDouble {
                negative,
                ..LongDouble::ZERO
            }));
        }
        let exponent = exponent - fraction.len() as i64;
        let magnitude_exponent = exponent + digits.len() as i64;
        if magnitude_exponent - 1 > DECIMAL_EXPONENT_MAX {
            return Some(Extended::Infinite);
        }
        if magnitude_exponent < DECIMAL_EXPONENT_MIN {
            return None;
        }
        let mut value = Big::from_decimal(&digits);
        let rounded = if exponent >= 0 {
            value.mul_pow10(exponent as u32);
            let (magnitude, shift, sticky) = value.top_bits();
            round(negative, magnitude, shift, sticky)
        } else {
            let mut divisor = Big::pow10((-exponent) as u32);
            // Scale one side so that the quotient has 66 or 67 bits: two
            // more than the significand, for rounding with a remainder.
            let scale = 66 + divisor.bit_len() as i64 - value.bit_len() as i64;
            if scale >= 0 {
                value.shl(scale as u64);
            } else {
                divisor.shl((-scale) as u64);
            }
            let (quotient, inexact) = value.div_small_quotient(&divisor, 68);
            round(negative, quotient, -scale, inexact)
        };
        underflow_is_invalid(rounded)
    }

    fn parse_hex(negative: bool, text: &[u8]) -> Option<Extended> {
        let (whole, fraction, rest) = split_digits(text, 16)?;
        let exponent = match rest {
            [] => 0,
            [b'p' | b'P', exponent @ ..] => parse_exponent(exponent)?,
            _ => return None,
        };
        let mut value = Big::default();
        for &digit in whole.iter().chain(fraction) {
            let digit = char::from(digit).to_digit(16).expect("split as hex digits");
            value.mul_add(16, digit);
        }
        if value.is_zero() {
            return Some(Extended::Finite(LongDouble {
                negative,
                ..LongDouble::ZERO
            }));
        }
        let exponent = exponent - 4 * fraction.len() as i64;
        let (magnitude, shift, sticky) = value.top_bits();
        underflow_is_invalid(round(negative, magnitude, exponent + shift, sticky))
    }

    /// A nonzero operand that rounds to zero is strtold's ERANGE underflow,
    /// which Redis refuses. (Parsers call this only for nonzero text.)
    fn underflow_is_invalid(value: Extended) -> Option<Extended> {
        match value {
            Extended::Finite(finite) if finite.significand == 0 => None,
            other => Some(other),
        }
    }

    /* ----- printing, as glibc's printf("%.17Lf") then Redis's trimming ----- */

    /// The text INCRBYFLOAT stores: `%.17Lf`, trailing zeros and a trailing
    /// point removed, and `-0` written `0` (Redis's `ld2string` in its
    /// human-friendly mode).
    pub fn to_human_string(value: LongDouble) -> String {
        let scale = 10u128.pow(FRACTION_DIGITS);
        let (mut whole, mut fraction) = if value.exponent >= 0 {
            let mut whole = Big::from_u64(value.significand);
            whole.shl(value.exponent as u64);
            (whole, 0u128)
        } else {
            let shift = (-value.exponent) as u64;
            let significand = u128::from(value.significand);
            let whole = if shift >= 64 {
                0
            } else {
                value.significand >> shift
            };
            let fraction_bits = if shift >= 64 {
                significand
            } else {
                significand & ((1u128 << shift) - 1)
            };
            // Below 2^121, so the shifted quotient is exact in a u128.
            let scaled = fraction_bits * scale;
            let digits = scaled.checked_shr(shift as u32).unwrap_or(0);
            let rest = if shift >= 128 {
                scaled
            } else {
                scaled & ((1u128 << shift) - 1)
            };
            let half = 1u128.checked_shl(shift as u32 - 1).unwrap_or(u128::MAX);
            // printf rounds exactly, ties to even.
            let up = shift <= 128 && (rest > half || (rest == half && digits & 1 == 1));
            (Big::from_u64(whole), digits + u128::from(up))
        };
        if fraction == scale {
            fraction = 0;
            whole.mul_add(1, 1);
        }
        let mut text = String::new();
        if value.negative {
            text.push('-');
        }
        text.push_str(&whole.to_decimal());
        let fraction = format!("{fraction:017}");
        let fraction = fraction.trim_end_matches('0');
        if !fraction.is_empty() {
            text.push('.');
            text.push_str(fraction);
        }
        if text == "-0" {
            text = "0".into();
        }
        text
    }

    /* ----- an unsigned integer of any size, just what the above needs ----- */

    /// Little-endian 32-bit limbs, no high zero limbs. Sizes are bounded by
    /// the operand length limit and the decimal exponent range above.
    #[derive(Debug, Clone, Default)]
    struct Big {
        limbs: Vec<u32>,
    }

    impl Big {
        fn from_u64(value: u64) -> Big {
            let mut big = Big {
                limbs: vec![value as u32, (value >> 32) as u32],
            };
            big.trim();
            big
        }

        fn from_decimal(digits: &[u8]) -> Big {
            let mut big = Big::default();
            for chunk in digits.chunks(9) {
                let value = chunk
                    .iter()
                    .fold(0u32, |value, &digit| value * 10 + u32::from(digit - b'0'));
                big.mul_add(10u32.pow(chunk.len() as u32), value);
            }
            big
        }

        fn pow10(exponent: u32) -> Big {
            let mut big = Big::from_u64(1);
            big.mul_pow10(exponent);
            big
        }

        fn trim(&mut self) {
            while self.limbs.last() == Some(&0) {
                self.limbs.pop();
            }
        }

        fn is_zero(&self) -> bool {
            self.limbs.is_empty()
        }

        fn bit_len(&self) -> u64 {
            self.limbs.last().map_or(0, |&top| {
                32 * self.limbs.len() as u64 - u64::from(top.leading_zeros())
            })
        }

        fn bit(&self, index: u64) -> bool {
            let limb = (index / 32) as usize;
            self.limbs
                .get(limb)
                .is_some_and(|&value| value >> (index % 32) & 1 == 1)
        }

        /// `self = self × factor + addend`.
        fn mul_add(&mut self, factor: u32, addend: u32) {
            let mut carry = u64::from(addend);
            for limb in &mut self.limbs {
                let product = u64::from(*limb) * u64::from(factor) + carry;
                *limb = product as u32;
                carry = product >> 32;
            }
            if carry != 0 {
                self.limbs.push(carry as u32);
            }
        }

        fn mul_pow10(&mut self, mut exponent: u32) {
            while exponent > 0 {
                let step = exponent.min(9);
                self.mul_add(10u32.pow(step), 0);
                exponent -= step;
            }
        }

        fn shl(&mut self, bits: u64) {
            if self.is_zero() {
                return;
            }
            let (limbs, bits) = ((bits / 32) as usize, (bits % 32) as u32);
            if bits != 0 {
                let mut carry = 0u32;
                for limb in &mut self.limbs {
                    let shifted = (u64::from(*limb) << bits) | u64::from(carry);
                    *limb = shifted as u32;
                    carry = (shifted >> 32) as u32;
                }
                if carry != 0 {
                    self.limbs.push(carry);
                }
            }
            self.limbs.splice(0..0, std::iter::repeat_n(0, limbs));
        }

        /// The top 128 bits (fewer if there are fewer), how far they were
        /// shifted down, and whether any bit below them is set.
        fn top_bits(&self) -> (u128, i64, bool) {
            let length = self.bit_len();
            let shift = length.saturating_sub(128);
            let mut top = 0u128;
            for index in (shift..length).rev() {
                top = (top << 1) | u128::from(self.bit(index));
            }
            let sticky = (0..shift).any(|index| self.bit(index));
            (top, shift as i64, sticky)
        }

        fn cmp_shifted(&self, other: &Big) -> Ordering {
            self.limbs
                .len()
                .cmp(&other.limbs.len())
                .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
        }

        fn sub_assign(&mut self, other: &Big) {
            let mut borrow = 0i64;
            for (index, limb) in self.limbs.iter_mut().enumerate() {
                let subtrahend = i64::from(other.limbs.get(index).copied().unwrap_or(0));
                let mut difference = i64::from(*limb) - subtrahend - borrow;
                borrow = i64::from(difference < 0);
                if difference < 0 {
                    difference += 1 << 32;
                }
                *limb = difference as u32;
            }
            debug_assert_eq!(borrow, 0, "subtracted a larger number");
            self.trim();
        }

        fn shr1(&mut self) {
            let mut carry = 0u32;
            for limb in self.limbs.iter_mut().rev() {
                let next = *limb & 1;
                *limb = (*limb >> 1) | (carry << 31);
                carry = next;
            }
            self.trim();
        }

        /// `self / divisor` when the quotient is below `2^(bits + 1)` (the
        /// caller's scaling sees to it), and whether a remainder was left.
        fn div_small_quotient(mut self, divisor: &Big, bits: u32) -> (u128, bool) {
            let mut shifted = divisor.clone();
            shifted.shl(u64::from(bits));
            let mut quotient = 0u128;
            for _ in 0..=bits {
                quotient <<= 1;
                if self.cmp_shifted(&shifted) != Ordering::Less {
                    self.sub_assign(&shifted);
                    quotient |= 1;
                }
                shifted.shr1();
            }
            (quotient, !self.is_zero())
        }

        /// `self` in decimal.
        fn to_decimal(&self) -> String {
            let mut rest = self.clone();
            let mut chunks = Vec::new();
            while !rest.is_zero() {
                let mut remainder = 0u64;
                for limb in rest.limbs.iter_mut().rev() {
                    let value = (remainder << 32) | u64::from(*limb);
                    *limb = (value / 1_000_000_000) as u32;
                    remainder = value % 1_000_000_000;
                }
                rest.trim();
                chunks.push(remainder as u32);
            }
            let mut text = chunks
                .pop()
                .map_or_else(|| "0".to_string(), |top| top.to_string());
            for chunk in chunks.iter().rev() {
                text.push_str(&format!("{chunk:09}"));
            }
            text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::long_double::{add, parse, to_human_string, Extended};

    /// INCRBYFLOAT's text for `value + increment`, or what refused it.
    fn incrbyfloat(value: &str, increment: &str) -> String {
        let (Some(value), Some(increment)) = (parse(value.as_bytes()), parse(increment.as_bytes()))
        else {
            return "not a valid float".into();
        };
        match (value, increment) {
            (Extended::Finite(value), Extended::Finite(increment)) => match add(value, increment) {
                Extended::Finite(sum) => to_human_string(sum),
                Extended::Infinite => "NaN or Infinity".into(),
            },
            _ => "NaN or Infinity".into(),
        }
    }

    /// Expected texts from glibc: `strtold`, an x87 `long double` addition
    /// and `printf("%.17Lf")`, trimmed as Redis trims them.
    #[test]
    fn incrbyfloat_sums_match_x87_long_double() {
        let cases = [
            ("1000", "0.1", "1000.09999999999999998"),
            ("123456.789", "0.001", "123456.78999999999999915"),
            ("0.1", "0.2", "0.3"),
            ("1e-20", "0", "0"),
            ("0x1p-3", "0X1.8P1", "3.125"),
            ("4e-4951", "0", "0"),
            ("-9223372036854775808", "-0.5", "-9223372036854775808"),
            ("3", "-3", "0"),
            ("1", "1e-30", "1"),
            ("-1e-30", "0", "0"),
        ];
        for (value, increment, expected) in cases {
            assert_eq!(
                incrbyfloat(value, increment),
                expected,
                "{value} + {increment}"
            );
        }
        let huge = incrbyfloat("2.23456789012", "1e308");
        assert!(huge.starts_with("999999999999999999966858796558456456605600998474155672"));
        assert_eq!(huge.len(), 308);
    }

    #[test]
    fn incrbyfloat_refuses_what_string2ld_refuses() {
        let big = "1.18973149535723176502e+4932";
        assert_eq!(incrbyfloat(big, big), "NaN or Infinity");
        assert_eq!(incrbyfloat("1", "-inf"), "NaN or Infinity");
        for refused in [
            "1e-5000", "1e5000", " 1", "1 ", "nan", "0x", "1e", ".", "-", "", "2.5\0x",
        ] {
            assert_eq!(
                incrbyfloat(refused, "0"),
                "not a valid float",
                "{refused:?}"
            );
        }
        let too_long = format!("0.{}", "1".repeat(5200));
        assert_eq!(incrbyfloat(&too_long, "0"), "not a valid float");
    }
}
