//! String commands, as Redis's `t_string.c`.

use super::args::{float_arg, int_arg, is, parse_float};
use super::ctx::{errors, ShardCtx};
use crate::shard::{StrValue, Value};

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

fn lookup<'a>(ctx: &'a mut ShardCtx<'_>, key: &[u8]) -> Lookup<'a> {
    lookup_in(ctx.shard, ctx.db, ctx.now_ms, key)
}

fn lookup_in<'a>(
    shard: &'a mut crate::shard::Shard,
    db: usize,
    now_ms: u64,
    key: &[u8],
) -> Lookup<'a> {
    match shard.entry(db, key, now_ms) {
        None => Lookup::Missing,
        Some(entry) => match &mut entry.value {
            Value::Str(string) => Lookup::Found(string),
            #[allow(unreachable_patterns)]
            _ => Lookup::WrongType,
        },
    }
}

/// Replies with the string at `key` (nil if absent). Err if it is another type.
fn reply_string(ctx: &mut ShardCtx<'_>, key: &[u8]) -> Result<(), ()> {
    let out = &mut *ctx.out;
    match lookup_in(ctx.shard, ctx.db, ctx.now_ms, key) {
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
            if parsed.keep_ttl || parsed.persist || has_expire {
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
    match lookup(ctx, key) {
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
    let _ = reply_string(ctx, key);
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
        match lookup_in(ctx.shard, ctx.db, ctx.now_ms, key) {
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
    match lookup(ctx, args[1]) {
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
        Lookup::Found(StrValue::Raw(bytes)) => match shoal_protocol::parse_i64(bytes) {
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

/// Formats a float as Redis's INCRBYFLOAT does (`%.17Lf`, trailing zeros
/// trimmed). Shoal computes in `f64`, not `long double`, so the sum is
/// rounded to 15 significant digits first, which gives Redis's text for
/// ordinary decimal arithmetic (`0.1 + 0.2` is `0.3`).
fn human_float(value: f64) -> String {
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    let text = format!("{rounded}");
    if text == "-0" {
        return "0".into();
    }
    text
}

/// `INCRBYFLOAT key increment`
pub fn incrbyfloat(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let current = match lookup(ctx, key) {
        Lookup::Missing => 0.0,
        Lookup::WrongType => return ctx.out.error(errors::WRONGTYPE),
        Lookup::Found(string) => match string.with_bytes(parse_float) {
            Some(value) => value,
            None => return ctx.out.error(errors::NOT_FLOAT),
        },
    };
    let increment = match float_arg(args[2]) {
        Ok(value) => value,
        Err(error) => return ctx.out.error(error),
    };
    let sum = current + increment;
    if !sum.is_finite() {
        return ctx
            .out
            .error(b"ERR increment would produce NaN or Infinity");
    }
    let text = human_float(sum);
    ctx.set(
        key,
        Value::Str(StrValue::Raw(text.clone().into_bytes())),
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
    let string = match lookup(ctx, args[1]) {
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
            ctx.set(key, Value::Str(StrValue::Raw(bytes)), false);
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
        match lookup(ctx, key) {
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
