//! Hash commands, as Redis's `t_hash.c`.

use shoal_protocol::RespVersion;

use super::args::{int_arg, is};
use super::ctx::{errors, ShardCtx};
use super::scan;
use super::strings::long_double::{self, Extended, LongDouble};
use super::table::{cmd, CommandSpec, Exec};
use crate::glob::glob_match;
use crate::shard::{Lookup as Access, Shard, Value};
use crate::types::hash::{HashValue, Indexed, ListpackLimits};

/* ---------------------------------------------------------------------------
 * Command table
 * ------------------------------------------------------------------------- */

const WRITE_DENYOOM_FAST: &[&str] = &["write", "denyoom", "fast"];
const WRITE_FAST: &[&str] = &["write", "fast"];
const READONLY_FAST: &[&str] = &["readonly", "fast"];
const READONLY: &[&str] = &["readonly"];
const HASH_WRITE_FAST: &[&str] = &["@write", "@hash", "@fast"];
const HASH_READ_FAST: &[&str] = &["@read", "@hash", "@fast"];
const HASH_READ_SLOW: &[&str] = &["@read", "@hash", "@slow"];

use Exec::Shard as S;

/// This family's rows of the command table.
#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd!("hset", -4, WRITE_DENYOOM_FAST, 1, 1, 1, HASH_WRITE_FAST, S(hset), "hash", "Set the string value of a hash field"),
    cmd!("hsetnx", 4, WRITE_DENYOOM_FAST, 1, 1, 1, HASH_WRITE_FAST, S(hsetnx), "hash", "Set the value of a hash field, only if the field does not exist"),
    cmd!("hmset", -4, WRITE_DENYOOM_FAST, 1, 1, 1, HASH_WRITE_FAST, S(hmset), "hash", "Set multiple hash fields to multiple values"),
    cmd!("hget", 3, READONLY_FAST, 1, 1, 1, HASH_READ_FAST, S(hget), "hash", "Get the value of a hash field"),
    cmd!("hmget", -3, READONLY_FAST, 1, 1, 1, HASH_READ_FAST, S(hmget), "hash", "Get the values of all the given hash fields"),
    cmd!("hdel", -3, WRITE_FAST, 1, 1, 1, HASH_WRITE_FAST, S(hdel), "hash", "Delete one or more hash fields"),
    cmd!("hlen", 2, READONLY_FAST, 1, 1, 1, HASH_READ_FAST, S(hlen), "hash", "Get the number of fields in a hash"),
    cmd!("hstrlen", 3, READONLY_FAST, 1, 1, 1, HASH_READ_FAST, S(hstrlen), "hash", "Get the length of the value of a hash field"),
    cmd!("hexists", 3, READONLY_FAST, 1, 1, 1, HASH_READ_FAST, S(hexists), "hash", "Determine if a hash field exists"),
    cmd!("hincrby", 4, WRITE_DENYOOM_FAST, 1, 1, 1, HASH_WRITE_FAST, S(hincrby), "hash", "Increment the integer value of a hash field by the given number"),
    cmd!("hincrbyfloat", 4, WRITE_DENYOOM_FAST, 1, 1, 1, HASH_WRITE_FAST, S(hincrbyfloat), "hash", "Increment the float value of a hash field by the given amount"),
    cmd!("hkeys", 2, READONLY, 1, 1, 1, HASH_READ_SLOW, S(hkeys), "hash", "Get all the fields in a hash"),
    cmd!("hvals", 2, READONLY, 1, 1, 1, HASH_READ_SLOW, S(hvals), "hash", "Get all the values in a hash"),
    cmd!("hgetall", 2, READONLY, 1, 1, 1, HASH_READ_SLOW, S(hgetall), "hash", "Get all the fields and values in a hash"),
    cmd!("hscan", -3, READONLY, 1, 1, 1, HASH_READ_SLOW, S(hscan), "hash", "Incrementally iterate hash fields and associated values"),
    cmd!("hrandfield", -2, READONLY, 1, 1, 1, HASH_READ_SLOW, S(hrandfield), "hash", "Get one or multiple random fields from a hash"),
];

/* ---------------------------------------------------------------------------
 * Type API
 * ------------------------------------------------------------------------- */

/// HINCRBY on a value that is not an integer.
const NOT_INTEGER_VALUE: &[u8] = b"ERR hash value is not an integer";
/// HINCRBYFLOAT on a value that is not a float.
const NOT_FLOAT_VALUE: &[u8] = b"ERR hash value is not a float";
/// HINCRBYFLOAT by an infinite increment.
const NAN_OR_INFINITE_INCREMENT: &[u8] = b"ERR value is NaN or Infinity";
/// HINCRBYFLOAT to an infinite sum.
const NAN_OR_INFINITE_SUM: &[u8] = b"ERR increment would produce NaN or Infinity";
/// HRANDFIELD's count must have a negation (Redis takes `-LONG_MAX..=LONG_MAX`).
const COUNT_OUT_OF_RANGE: &[u8] =
    b"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// HRANDFIELD WITHVALUES's count must leave room for twice as many replies.
const OUT_OF_RANGE: &[u8] = b"ERR value is out of range";

/// What a lookup for a hash found.
enum Found<'a> {
    Missing,
    Hash(&'a mut HashValue),
    WrongType,
}

/// Looks a hash up in the shard alone, so that `ctx.out` stays free.
fn lookup_in<'a>(
    shard: &'a mut Shard,
    db: usize,
    now_ms: u64,
    key: &[u8],
    access: Access,
) -> Found<'a> {
    match shard.lookup(db, key, now_ms, access) {
        None => Found::Missing,
        Some(entry) => match &mut entry.value {
            Value::Hash(hash) => Found::Hash(hash),
            _ => Found::WrongType,
        },
    }
}

/// The hash at `key` for a read command (counts a keyspace hit or miss).
fn lookup_read<'a>(ctx: &'a mut ShardCtx<'_>, key: &[u8]) -> Found<'a> {
    lookup_in(ctx.shard, ctx.db, ctx.now_ms, key, Access::Read)
}

/// The conversion thresholds in force.
fn limits(shard: &Shard) -> ListpackLimits {
    ListpackLimits {
        max_entries: shard.limits.hash_max_listpack_entries,
        max_value_bytes: shard.limits.hash_max_listpack_value,
    }
}

/// Runs `edit` on the hash at `key`, or on a new empty hash that is stored
/// under `key` if the edit leaves pairs in it (Redis's
/// `hashTypeLookupWriteOrCreate`). `Err` is the error to reply with.
fn edit_or_create<R>(
    ctx: &mut ShardCtx<'_>,
    key: &[u8],
    edit: impl FnOnce(&mut HashValue, ListpackLimits) -> Result<R, &'static [u8]>,
) -> Result<R, &'static [u8]> {
    let limits = limits(ctx.shard);
    match lookup_in(ctx.shard, ctx.db, ctx.now_ms, key, Access::Write) {
        Found::WrongType => Err(errors::WRONGTYPE),
        Found::Hash(hash) => edit(hash, limits),
        Found::Missing => {
            let mut hash = HashValue::default();
            let result = edit(&mut hash, limits)?;
            if !hash.is_empty() {
                ctx.set(key, Value::Hash(hash), false);
            }
            Ok(result)
        }
    }
}

/// Replies with `result`'s value through `reply`, or with its error.
fn reply_with<R>(
    ctx: &mut ShardCtx<'_>,
    result: Result<R, &'static [u8]>,
    reply: impl FnOnce(&mut ShardCtx<'_>, R),
) {
    match result {
        Ok(value) => reply(ctx, value),
        Err(error) => ctx.out.error(error),
    }
}

/// A small pseudo-random generator (splitmix64) seeded from the shard's,
/// so that drawing does not need the shard while a hash in it is borrowed.
struct Draw(u64);

impl Draw {
    fn below(&mut self, bound: usize) -> usize {
        debug_assert!(bound > 0, "a range to draw from");
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        mixed ^= mixed >> 31;
        (mixed % bound as u64) as usize
    }
}

/* ---------------------------------------------------------------------------
 * HSET, HSETNX, HMSET, HDEL
 * ------------------------------------------------------------------------- */

/// The shared body of HSET and HMSET, which differ only in their reply.
fn hset_generic(ctx: &mut ShardCtx<'_>, args: &[&[u8]], name: &str) -> Option<usize> {
    if args.len() % 2 == 1 {
        let error = format!("ERR wrong number of arguments for '{name}' command");
        ctx.out.error(error.as_bytes());
        return None;
    }
    let result = edit_or_create(ctx, args[1], |hash, limits| {
        Ok(hash.set_pairs(&args[2..], limits))
    });
    match result {
        Ok(created) => Some(created),
        Err(error) => {
            ctx.out.error(error);
            None
        }
    }
}

/// `HSET key field value [field value ...]`: how many fields are new.
pub fn hset(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    if let Some(created) = hset_generic(ctx, args, "hset") {
        ctx.out.integer(created as i64);
    }
}

/// `HMSET key field value [field value ...]`: OK.
pub fn hmset(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    if hset_generic(ctx, args, "hmset").is_some() {
        ctx.out.ok();
    }
}

/// `HSETNX key field value`: an existing field leaves the hash as it is,
/// encoding included (the length check comes after the existence check).
pub fn hsetnx(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let pair = &args[2..4];
    let result = edit_or_create(ctx, args[1], |hash, limits| {
        if hash.contains(pair[0]) {
            return Ok(0);
        }
        hash.set_pairs(pair, limits);
        Ok(1)
    });
    reply_with(ctx, result, |ctx, set| ctx.out.integer(set));
}

/// `HDEL key field [field ...]`: removes the key with its last field.
pub fn hdel(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let (removed, emptied) = match lookup_in(ctx.shard, ctx.db, ctx.now_ms, key, Access::Write) {
        Found::Missing => return ctx.out.integer(0),
        Found::WrongType => return ctx.out.error(errors::WRONGTYPE),
        Found::Hash(hash) => {
            let removed = hash.remove_fields(&args[2..]);
            (removed, hash.is_empty())
        }
    };
    if emptied {
        ctx.remove(key);
    }
    ctx.out.integer(removed as i64);
}

/* ---------------------------------------------------------------------------
 * HGET, HMGET, HLEN, HSTRLEN, HEXISTS
 * ------------------------------------------------------------------------- */

/// `HGET key field`
pub fn hget(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let out = &mut *ctx.out;
    match lookup_in(ctx.shard, ctx.db, ctx.now_ms, args[1], Access::Read) {
        Found::Missing => out.null(),
        Found::WrongType => out.error(errors::WRONGTYPE),
        Found::Hash(hash) => {
            if hash.with_value(args[2], |value| out.bulk(value)).is_none() {
                out.null();
            }
        }
    }
}

/// `HMGET key field [field ...]`: nil for each missing field.
pub fn hmget(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let out = &mut *ctx.out;
    let fields = &args[2..];
    match lookup_in(ctx.shard, ctx.db, ctx.now_ms, args[1], Access::Read) {
        Found::WrongType => out.error(errors::WRONGTYPE),
        Found::Missing => {
            out.array(fields.len());
            fields.iter().for_each(|_| out.null());
        }
        Found::Hash(hash) => {
            out.array(fields.len());
            for field in fields {
                if hash.with_value(field, |value| out.bulk(value)).is_none() {
                    out.null();
                }
            }
        }
    }
}

/// The shared body of the commands that reply with a number about a hash
/// (0 for a missing key).
fn reply_count(ctx: &mut ShardCtx<'_>, key: &[u8], count: impl FnOnce(&HashValue) -> usize) {
    match lookup_read(ctx, key) {
        Found::Missing => ctx.out.integer(0),
        Found::WrongType => ctx.out.error(errors::WRONGTYPE),
        Found::Hash(hash) => {
            let count = count(hash);
            ctx.out.integer(count as i64);
        }
    }
}

/// `HLEN key`
pub fn hlen(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    reply_count(ctx, args[1], HashValue::len);
}

/// `HSTRLEN key field`: 0 for a missing field.
pub fn hstrlen(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    reply_count(ctx, args[1], |hash| {
        hash.with_value(args[2], <[u8]>::len).unwrap_or(0)
    });
}

/// `HEXISTS key field`
pub fn hexists(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    reply_count(ctx, args[1], |hash| usize::from(hash.contains(args[2])));
}

/* ---------------------------------------------------------------------------
 * HINCRBY, HINCRBYFLOAT
 * ------------------------------------------------------------------------- */

/// `HINCRBY key field increment`
pub fn hincrby(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let field = args[2];
    let increment = match int_arg(args[3]) {
        Ok(increment) => increment,
        Err(error) => return ctx.out.error(error),
    };
    let result = edit_or_create(ctx, args[1], |hash, limits| {
        let current = match hash.with_value(field, shoal_protocol::parse_i64) {
            None => 0,
            Some(Some(current)) => current,
            Some(None) => return Err(NOT_INTEGER_VALUE),
        };
        let sum = current.checked_add(increment).ok_or(errors::OVERFLOW)?;
        hash.set_pairs(&[field, itoa::Buffer::new().format(sum).as_bytes()], limits);
        Ok(sum)
    });
    reply_with(ctx, result, |ctx, sum| ctx.out.integer(sum));
}

/// `HINCRBYFLOAT key field increment`: the sum of two x87 `long double`s,
/// printed as INCRBYFLOAT prints it (see [`long_double`]).
pub fn hincrbyfloat(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let field = args[2];
    let increment = match long_double::parse(args[3]) {
        None => return ctx.out.error(errors::NOT_FLOAT),
        Some(Extended::Infinite) => return ctx.out.error(NAN_OR_INFINITE_INCREMENT),
        Some(Extended::Finite(increment)) => increment,
    };
    let result = edit_or_create(ctx, args[1], |hash, limits| {
        let current = match hash.with_value(field, long_double::parse) {
            None => Extended::Finite(LongDouble::from_i64(0)),
            Some(Some(current)) => current,
            Some(None) => return Err(NOT_FLOAT_VALUE),
        };
        let Extended::Finite(current) = current else {
            return Err(NAN_OR_INFINITE_SUM);
        };
        let Extended::Finite(sum) = long_double::add(current, increment) else {
            return Err(NAN_OR_INFINITE_SUM);
        };
        let text = long_double::to_human_string(sum);
        hash.set_pairs(&[field, text.as_bytes()], limits);
        Ok(text)
    });
    reply_with(ctx, result, |ctx, text| ctx.out.bulk(text.as_bytes()));
}

/* ---------------------------------------------------------------------------
 * HKEYS, HVALS, HGETALL, HSCAN
 * ------------------------------------------------------------------------- */

/// The shared body of HKEYS, HVALS and HGETALL (a map of fields to values).
fn getall_generic(ctx: &mut ShardCtx<'_>, key: &[u8], fields: bool, values: bool) {
    let out = &mut *ctx.out;
    let both = fields && values;
    let hash = match lookup_in(ctx.shard, ctx.db, ctx.now_ms, key, Access::Read) {
        Found::WrongType => return out.error(errors::WRONGTYPE),
        Found::Missing => return if both { out.map(0) } else { out.array(0) },
        Found::Hash(hash) => hash,
    };
    if both {
        out.map(hash.len());
    } else {
        out.array(hash.len());
    }
    hash.for_each(|field, value| {
        if fields {
            out.bulk(field);
        }
        if values {
            out.bulk(value);
        }
    });
}

/// `HKEYS key`
pub fn hkeys(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    getall_generic(ctx, args[1], true, false);
}

/// `HVALS key`
pub fn hvals(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    getall_generic(ctx, args[1], false, true);
}

/// `HGETALL key`
pub fn hgetall(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    getall_generic(ctx, args[1], true, true);
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`: a small hash returns
/// every pair and cursor 0 at once, as in Redis.
pub fn hscan(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let Some(cursor) = scan::parse_cursor(args[2]) else {
        return ctx.out.error(scan::INVALID_CURSOR);
    };
    let out = &mut *ctx.out;
    let hash = match lookup_in(ctx.shard, ctx.db, ctx.now_ms, args[1], Access::Read) {
        Found::WrongType => return out.error(errors::WRONGTYPE),
        Found::Missing => {
            out.array(2);
            out.bulk(b"0");
            return out.array(0);
        }
        Found::Hash(hash) => hash,
    };
    let options = match scan::parse_options(&args[3..], |_, _| false) {
        Ok(options) => options,
        Err(error) => return out.error(error),
    };
    let mut found: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    let next = hash.scan(cursor, options.count, |field, value| {
        if options
            .pattern
            .is_none_or(|pattern| glob_match(pattern, field, false))
        {
            for entry in [field, value] {
                found.extend_from_slice(entry);
                ends.push(found.len());
            }
        }
    });
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(ends.len());
    let mut start = 0;
    for end in ends {
        out.bulk(&found[start..end]);
        start = end;
    }
}

/* ---------------------------------------------------------------------------
 * HRANDFIELD
 * ------------------------------------------------------------------------- */

/// Writes one pair of an HRANDFIELD reply: the field, and with values the
/// value too (a two-element array under RESP3, flat under RESP2).
fn reply_pair(
    out: &mut shoal_protocol::ReplyEncoder,
    field: &[u8],
    value: &[u8],
    with_values: bool,
) {
    if with_values && out.version() == RespVersion::Resp3 {
        out.array(2);
    }
    out.bulk(field);
    if with_values {
        out.bulk(value);
    }
}

/// The array header for `pairs` pairs of an HRANDFIELD reply.
fn reply_pairs_header(out: &mut shoal_protocol::ReplyEncoder, pairs: usize, with_values: bool) {
    if with_values && out.version() == RespVersion::Resp2 {
        out.array(pairs * 2);
    } else {
        out.array(pairs);
    }
}

/// `HRANDFIELD key [count [WITHVALUES]]`
pub fn hrandfield(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    if args.len() >= 3 {
        return hrandfield_with_count(ctx, args);
    }
    let mut draw = Draw(ctx.shard.random_u64());
    let out = &mut *ctx.out;
    match lookup_in(ctx.shard, ctx.db, ctx.now_ms, args[1], Access::Read) {
        Found::Missing => out.null(),
        Found::WrongType => out.error(errors::WRONGTYPE),
        Found::Hash(hash) => {
            let pairs = hash.indexed();
            out.bulk(pairs.get(draw.below(pairs.len())).0);
        }
    }
}

/// How many pairs HRANDFIELD with a count draws, and how.
struct RandomCount {
    count: usize,
    /// A non-negative count: distinct pairs, at most the whole hash.
    distinct: bool,
    with_values: bool,
}

/// Parses HRANDFIELD's count and WITHVALUES with Redis's checks and texts.
fn parse_random_count(args: &[&[u8]]) -> Result<RandomCount, &'static [u8]> {
    let count = int_arg(args[2])?;
    if count == i64::MIN {
        return Err(COUNT_OUT_OF_RANGE);
    }
    let with_values = match args.get(3) {
        None => false,
        Some(option) if args.len() == 4 && is(option, "WITHVALUES") => true,
        Some(_) => return Err(errors::SYNTAX),
    };
    if with_values && !(-i64::MAX / 2..=i64::MAX / 2).contains(&count) {
        return Err(OUT_OF_RANGE);
    }
    Ok(RandomCount {
        count: usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX),
        distinct: count >= 0,
        with_values,
    })
}

/// `HRANDFIELD key count [WITHVALUES]`: Redis's cases in turn: pairs drawn
/// with repetition (negative count, or one); the whole hash (a count that
/// covers it); distinct pairs, in hash order for a small hash.
fn hrandfield_with_count(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let request = match parse_random_count(args) {
        Ok(request) => request,
        Err(error) => return ctx.out.error(error),
    };
    let mut draw = Draw(ctx.shard.random_u64());
    let out = &mut *ctx.out;
    let hash = match lookup_in(ctx.shard, ctx.db, ctx.now_ms, args[1], Access::Read) {
        Found::Missing => return out.array(0),
        Found::WrongType => return out.error(errors::WRONGTYPE),
        Found::Hash(hash) => hash,
    };
    let RandomCount {
        count,
        distinct,
        with_values,
    } = request;
    if count == 0 {
        return out.array(0);
    }
    if !distinct || count == 1 {
        let pairs = hash.indexed();
        reply_pairs_header(out, count, with_values);
        for _ in 0..count {
            let (field, value) = pairs.get(draw.below(pairs.len()));
            reply_pair(out, field, value, with_values);
        }
        return;
    }
    let size = hash.len();
    if count >= size {
        reply_pairs_header(out, size, with_values);
        hash.for_each(|field, value| reply_pair(out, field, value, with_values));
        return;
    }
    reply_pairs_header(out, count, with_values);
    match hash.indexed() {
        Indexed::List(_) => {
            // Selection sampling: each pair is taken with probability
            // (still wanted) / (still unseen), giving `count` pairs in order.
            let mut wanted = count;
            let mut unseen = size;
            hash.for_each(|field, value| {
                if wanted > 0 && draw.below(unseen) < wanted {
                    reply_pair(out, field, value, with_values);
                    wanted -= 1;
                }
                unseen -= 1;
            });
        }
        Indexed::Table(table) => {
            for index in distinct_indexes(&mut draw, size, count) {
                let (field, value) = table.get_index(index);
                reply_pair(out, field, value, with_values);
            }
        }
    }
}

/// `count` distinct positions below `size` (`count < size`), in random
/// order: a partial shuffle when most are wanted, else Floyd's algorithm.
fn distinct_indexes(draw: &mut Draw, size: usize, count: usize) -> Vec<usize> {
    debug_assert!(count < size, "the whole hash is served apart");
    if count * 3 > size {
        let mut indexes: Vec<usize> = (0..size).collect();
        for slot in 0..count {
            let pick = slot + draw.below(size - slot);
            indexes.swap(slot, pick);
        }
        indexes.truncate(count);
        return indexes;
    }
    let mut chosen = ahash::AHashSet::with_capacity(count);
    let mut order = Vec::with_capacity(count);
    for upper in size - count..size {
        let pick = draw.below(upper + 1);
        // Floyd: a position already taken stands for `upper`, new each round.
        let index = if chosen.insert(pick) {
            pick
        } else {
            chosen.insert(upper);
            upper
        };
        order.push(index);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_indexes_are_distinct_and_in_range() {
        let mut draw = Draw(42);
        for (size, count) in [(10, 9), (10, 2), (1000, 5), (1000, 400), (2, 1)] {
            for _ in 0..50 {
                let mut picked = distinct_indexes(&mut draw, size, count);
                assert_eq!(picked.len(), count);
                assert!(picked.iter().all(|&index| index < size));
                picked.sort_unstable();
                picked.dedup();
                assert_eq!(picked.len(), count, "{size} {count}");
            }
        }
    }
}
