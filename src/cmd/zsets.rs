//! Sorted set commands, as Redis's `t_zset.c` (and ZSCAN, from `db.c`).
//!
//! The data structure and its encodings live in `types/zset.rs`; the
//! handlers here parse, look up, call its API and reply. Variants share one
//! generic handler each: ZADD/ZINCRBY, the ZRANGE family (by rank, score or
//! lex, forward or reverse, to the client or stored), ZREMRANGEBY*,
//! ZPOP*/ZMPOP, and the set algebra (ZUNION, ZINTER, ZDIFF, their STORE
//! forms and ZINTERCARD).

use std::collections::HashSet;

use shoal_protocol::{ReplyEncoder, RespVersion};
use smallvec::SmallVec;

use super::args::{int_arg, is};
use super::ctx::{errors, ShardCtx};
use super::scan;
use super::table::{cmd, CommandSpec, Exec};
use super::{destination_and_keys_after_numkeys, keys_after_numkeys};
use crate::glob::glob_match;
use crate::shard::{Lookup, Shard, Value};
use crate::types::set::{Member, SetValue};
use crate::types::zset::float::parse_score;
use crate::types::zset::{AddFlags, AddOutcome, LexRange, MemberRange, ScoreRange, ZSetValue};

use Exec::Shard as S;

const WRITE_FAST: &[&str] = &["write", "denyoom", "fast"];
const WRITE_NO_DENY_FAST: &[&str] = &["write", "fast"];
const WRITE: &[&str] = &["write", "denyoom"];
const WRITE_NO_DENY: &[&str] = &["write"];
const READ_FAST: &[&str] = &["readonly", "fast"];
const READ: &[&str] = &["readonly"];
const READ_MOVABLE: &[&str] = &["readonly", "movablekeys"];
const WRITE_MOVABLE: &[&str] = &["write", "movablekeys"];
const WRITE_DENY_MOVABLE: &[&str] = &["write", "denyoom", "movablekeys"];
const CAT_WRITE_FAST: &[&str] = &["@write", "@sortedset", "@fast"];
const CAT_WRITE: &[&str] = &["@write", "@sortedset", "@slow"];
const CAT_READ_FAST: &[&str] = &["@read", "@sortedset", "@fast"];
const CAT_READ: &[&str] = &["@read", "@sortedset", "@slow"];

fn keys_after_count_at_1(args: &[&[u8]]) -> SmallVec<[usize; 8]> {
    keys_after_numkeys(args, 1)
}

/// This family's rows of the command table. The movable-key rows set
/// `find_keys` themselves: in `cmd!`, a trailing `keys = finder` is taken
/// by the arm for subcommands first (it parses as an assignment
/// expression), so the `keys =` arm cannot be reached.
#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd!("zadd", -4, WRITE_FAST, 1, 1, 1, CAT_WRITE_FAST, S(zadd), "sorted-set", "Add one or more members to a sorted set, or update its score if it already exists"),
    cmd!("zincrby", 4, WRITE_FAST, 1, 1, 1, CAT_WRITE_FAST, S(zincrby), "sorted-set", "Increment the score of a member in a sorted set"),
    cmd!("zrem", -3, WRITE_NO_DENY_FAST, 1, 1, 1, CAT_WRITE_FAST, S(zrem), "sorted-set", "Remove one or more members from a sorted set"),
    cmd!("zcard", 2, READ_FAST, 1, 1, 1, CAT_READ_FAST, S(zcard), "sorted-set", "Get the number of members in a sorted set"),
    cmd!("zscore", 3, READ_FAST, 1, 1, 1, CAT_READ_FAST, S(zscore), "sorted-set", "Get the score associated with the given member in a sorted set"),
    cmd!("zmscore", -3, READ_FAST, 1, 1, 1, CAT_READ_FAST, S(zmscore), "sorted-set", "Get the score associated with the given members in a sorted set"),
    cmd!("zrank", -3, READ_FAST, 1, 1, 1, CAT_READ_FAST, S(zrank), "sorted-set", "Determine the index of a member in a sorted set"),
    cmd!("zrevrank", -3, READ_FAST, 1, 1, 1, CAT_READ_FAST, S(zrevrank), "sorted-set", "Determine the index of a member in a sorted set, with scores ordered from high to low"),
    cmd!("zcount", 4, READ_FAST, 1, 1, 1, CAT_READ_FAST, S(zcount), "sorted-set", "Count the members in a sorted set with scores within the given values"),
    cmd!("zlexcount", 4, READ_FAST, 1, 1, 1, CAT_READ_FAST, S(zlexcount), "sorted-set", "Count the number of members in a sorted set between a given lexicographical range"),
    cmd!("zrange", -4, READ, 1, 1, 1, CAT_READ, S(zrange), "sorted-set", "Return a range of members in a sorted set"),
    cmd!("zrangestore", -5, WRITE, 1, 2, 1, CAT_WRITE, S(zrangestore), "sorted-set", "Store a range of members from sorted set into another key"),
    cmd!("zrevrange", -4, READ, 1, 1, 1, CAT_READ, S(zrevrange), "sorted-set", "Return a range of members in a sorted set, by index, with scores ordered from high to low"),
    cmd!("zrangebyscore", -4, READ, 1, 1, 1, CAT_READ, S(zrangebyscore), "sorted-set", "Return a range of members in a sorted set, by score"),
    cmd!("zrevrangebyscore", -4, READ, 1, 1, 1, CAT_READ, S(zrevrangebyscore), "sorted-set", "Return a range of members in a sorted set, by score, with scores ordered from high to low"),
    cmd!("zrangebylex", -4, READ, 1, 1, 1, CAT_READ, S(zrangebylex), "sorted-set", "Return a range of members in a sorted set, by lexicographical range"),
    cmd!("zrevrangebylex", -4, READ, 1, 1, 1, CAT_READ, S(zrevrangebylex), "sorted-set", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings."),
    cmd!("zremrangebyrank", 4, WRITE_NO_DENY, 1, 1, 1, CAT_WRITE, S(zremrangebyrank), "sorted-set", "Remove all members in a sorted set within the given indexes"),
    cmd!("zremrangebyscore", 4, WRITE_NO_DENY, 1, 1, 1, CAT_WRITE, S(zremrangebyscore), "sorted-set", "Remove all members in a sorted set within the given scores"),
    cmd!("zremrangebylex", 4, WRITE_NO_DENY, 1, 1, 1, CAT_WRITE, S(zremrangebylex), "sorted-set", "Remove all members in a sorted set between the given lexicographical range"),
    cmd!("zpopmin", -2, WRITE_NO_DENY_FAST, 1, 1, 1, CAT_WRITE_FAST, S(zpopmin), "sorted-set", "Remove and return members with the lowest scores in a sorted set"),
    cmd!("zpopmax", -2, WRITE_NO_DENY_FAST, 1, 1, 1, CAT_WRITE_FAST, S(zpopmax), "sorted-set", "Remove and return members with the highest scores in a sorted set"),
    cmd!("zmpop", -4, WRITE_MOVABLE, 0, 0, 0, CAT_WRITE, S(zmpop), "sorted-set", "Remove and return members with scores in a sorted set", keys = keys_after_count_at_1),
    cmd!("zrandmember", -2, READ, 1, 1, 1, CAT_READ, S(zrandmember), "sorted-set", "Get one or multiple random elements from a sorted set"),
    cmd!("zunion", -3, READ_MOVABLE, 0, 0, 0, CAT_READ, S(zunion), "sorted-set", "Add multiple sorted sets", keys = keys_after_count_at_1),
    cmd!("zinter", -3, READ_MOVABLE, 0, 0, 0, CAT_READ, S(zinter), "sorted-set", "Intersect multiple sorted sets", keys = keys_after_count_at_1),
    cmd!("zdiff", -3, READ_MOVABLE, 0, 0, 0, CAT_READ, S(zdiff), "sorted-set", "Subtract multiple sorted sets", keys = keys_after_count_at_1),
    cmd!("zunionstore", -4, WRITE_DENY_MOVABLE, 1, 1, 1, CAT_WRITE, S(zunionstore), "sorted-set", "Add multiple sorted sets and store the resulting sorted set in a new key", keys = destination_and_keys_after_numkeys),
    cmd!("zinterstore", -4, WRITE_DENY_MOVABLE, 1, 1, 1, CAT_WRITE, S(zinterstore), "sorted-set", "Intersect multiple sorted sets and store the resulting sorted set in a new key", keys = destination_and_keys_after_numkeys),
    cmd!("zdiffstore", -4, WRITE_DENY_MOVABLE, 1, 1, 1, CAT_WRITE, S(zdiffstore), "sorted-set", "Subtract multiple sorted sets and store the resulting sorted set in a new key", keys = destination_and_keys_after_numkeys),
    cmd!("zintercard", -3, READ_MOVABLE, 0, 0, 0, CAT_READ, S(zintercard), "sorted-set", "Intersect multiple sorted sets and return the cardinality of the result", keys = keys_after_count_at_1),
    cmd!("zscan", -3, READ, 1, 1, 1, CAT_READ, S(zscan), "sorted-set", "Incrementally iterate sorted sets elements and associated scores"),
];

/// Redis's reply texts particular to sorted sets.
mod reply {
    pub const NAN_SCORE: &[u8] = b"ERR resulting score is not a number (NaN)";
    pub const XX_AND_NX: &[u8] = b"ERR XX and NX options at the same time are not compatible";
    pub const GT_LT_NX: &[u8] =
        b"ERR GT, LT, and/or NX options at the same time are not compatible";
    pub const INCR_PAIRS: &[u8] = b"ERR INCR option supports a single increment-element pair";
    pub const SCORE_RANGE: &[u8] = b"ERR min or max is not a float";
    pub const LEX_RANGE: &[u8] = b"ERR min or max not valid string range item";
    pub const LIMIT_NEEDS_BY: &[u8] =
        b"ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
    pub const WITHSCORES_BYLEX: &[u8] =
        b"ERR syntax error, WITHSCORES not supported in combination with BYLEX";
    pub const POSITIVE: &[u8] = b"ERR value is out of range, must be positive";
    pub const OUT_OF_RANGE: &[u8] = b"ERR value is out of range";
    pub const COUNT_RANGE: &[u8] = b"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
    pub const NUMKEYS: &[u8] = b"ERR numkeys should be greater than 0";
    pub const COUNT: &[u8] = b"ERR count should be greater than 0";
    pub const WEIGHT: &[u8] = b"ERR weight value is not a float";
    pub const LIMIT_NEGATIVE: &[u8] = b"ERR LIMIT can't be negative";
}

/* ---------------------------------------------------------------------------
 * Lookups and replies
 * ------------------------------------------------------------------------- */

/// The key holds another type.
struct WrongType;

/// The sorted set under `key`, looked up as `access` says: `Ok(None)` when
/// there is no key. Takes the shard alone so that `ctx.out` stays free.
fn find<'a>(
    shard: &'a mut Shard,
    db: usize,
    now_ms: u64,
    key: &[u8],
    access: Lookup,
) -> Result<Option<&'a mut ZSetValue>, WrongType> {
    match shard.lookup(db, key, now_ms, access) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::ZSet(zset) => Ok(Some(zset)),
            _ => Err(WrongType),
        },
    }
}

/// Looks `key` up for reading; replies WRONGTYPE itself.
macro_rules! read_zset {
    ($ctx:expr, $key:expr) => {
        match find($ctx.shard, $ctx.db, $ctx.now_ms, $key, Lookup::Read) {
            Ok(found) => found,
            Err(WrongType) => return $ctx.out.error(errors::WRONGTYPE),
        }
    };
}

/// Looks `key` up for writing; replies WRONGTYPE itself.
macro_rules! write_zset {
    ($ctx:expr, $key:expr) => {
        match find($ctx.shard, $ctx.db, $ctx.now_ms, $key, Lookup::Write) {
            Ok(found) => found,
            Err(WrongType) => return $ctx.out.error(errors::WRONGTYPE),
        }
    };
}

fn resp3(ctx: &ShardCtx<'_>) -> bool {
    ctx.out.version() == RespVersion::Resp3
}

/// Replies with members, and their scores when `withscores`: a flat array
/// in RESP2, an array of pairs in RESP3 (Redis's `zrangeResultEmit*`).
fn reply_members(out: &mut ReplyEncoder, members: &[(&[u8], f64)], withscores: bool) {
    let nested = withscores && out.version() == RespVersion::Resp3;
    if withscores && !nested {
        out.array(2 * members.len());
    } else {
        out.array(members.len());
    }
    for &(member, score) in members {
        if nested {
            out.array(2);
        }
        out.bulk(member);
        if withscores {
            out.double(score);
        }
    }
}

/// Removes `key` when a command emptied its sorted set, as Redis does.
fn remove_if_empty(ctx: &mut ShardCtx<'_>, key: &[u8], emptied: bool) {
    if emptied {
        ctx.remove(key);
    }
}

/// Stores a command's result under `key` (replacing any value and its TTL)
/// and replies with its size; an empty result deletes `key` and replies 0.
fn store_result(ctx: &mut ShardCtx<'_>, key: &[u8], pairs: Vec<(Vec<u8>, f64)>) {
    if pairs.is_empty() {
        ctx.remove(key);
        ctx.out.integer(0);
        return;
    }
    let len = pairs.len();
    let zset = ZSetValue::from_sorted(pairs, &ctx.shard.limits);
    ctx.set(key, Value::ZSet(Box::new(zset)), false);
    ctx.out.integer(len as i64);
}

/// `start..=end` of a `len`-member set after Redis's rank rules (negative
/// from the end, clamped); `None` when empty.
fn clamp_ranks(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 {
        (start + len).max(0)
    } else {
        start
    };
    let end = if end < 0 { end + len } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

/* ---------------------------------------------------------------------------
 * ZADD, ZINCRBY, ZREM
 * ------------------------------------------------------------------------- */

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`
pub fn zadd(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    zadd_generic(ctx, args, AddFlags::default());
}

/// `ZINCRBY key increment member`: ZADD INCR, options parsed the same way.
pub fn zincrby(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let flags = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    zadd_generic(ctx, args, flags);
}

/// Parses ZADD's options from argument 2; returns the flags, CH and where
/// the score-member pairs start.
fn parse_zadd_options(args: &[&[u8]], mut flags: AddFlags) -> (AddFlags, bool, usize) {
    let mut ch = false;
    let mut at = 2;
    while let Some(&option) = args.get(at) {
        if is(option, "NX") {
            flags.nx = true;
        } else if is(option, "XX") {
            flags.xx = true;
        } else if is(option, "CH") {
            ch = true;
        } else if is(option, "INCR") {
            flags.incr = true;
        } else if is(option, "GT") {
            flags.gt = true;
        } else if is(option, "LT") {
            flags.lt = true;
        } else {
            break;
        }
        at += 1;
    }
    (flags, ch, at)
}

/// Checks ZADD's option combinations and parses every score, in Redis's
/// order; `Err` is the error reply.
fn check_zadd(flags: AddFlags, pairs: &[&[u8]]) -> Result<Vec<f64>, &'static [u8]> {
    if pairs.is_empty() || pairs.len() % 2 != 0 {
        return Err(errors::SYNTAX);
    }
    if flags.nx && flags.xx {
        return Err(reply::XX_AND_NX);
    }
    // Any two of GT, LT and NX.
    if [flags.gt, flags.lt, flags.nx]
        .iter()
        .filter(|&&set| set)
        .count()
        > 1
    {
        return Err(reply::GT_LT_NX);
    }
    if flags.incr && pairs.len() > 2 {
        return Err(reply::INCR_PAIRS);
    }
    pairs
        .chunks_exact(2)
        .map(|pair| parse_score(pair[0]).ok_or(errors::NOT_FLOAT))
        .collect()
}

/// Counts of what ZADD did, for its reply.
#[derive(Default)]
struct AddTally {
    added: i64,
    updated: i64,
    /// The score of the last member processed (ZADD INCR's reply).
    last: Option<f64>,
}

/// Applies ZADD's pairs to `zset`; `Err` when an increment made a NaN.
fn add_all(
    zset: &mut ZSetValue,
    pairs: &[&[u8]],
    scores: &[f64],
    flags: AddFlags,
    limits: &crate::config::EncodingLimits,
) -> Result<AddTally, ()> {
    let mut tally = AddTally::default();
    for (pair, &score) in pairs.chunks_exact(2).zip(scores) {
        match zset.add(pair[1], score, flags, limits) {
            AddOutcome::Added(score) => {
                tally.added += 1;
                tally.last = Some(score);
            }
            AddOutcome::Updated(score) => {
                tally.updated += 1;
                tally.last = Some(score);
            }
            AddOutcome::Unchanged(score) => tally.last = Some(score),
            AddOutcome::Skipped => {}
            AddOutcome::NotANumber => return Err(()),
        }
    }
    Ok(tally)
}

/// The shared body of ZADD and ZINCRBY (Redis's `zaddGenericCommand`).
fn zadd_generic(ctx: &mut ShardCtx<'_>, args: &[&[u8]], flags: AddFlags) {
    let (flags, ch, pairs_at) = parse_zadd_options(args, flags);
    let pairs = &args[pairs_at..];
    let scores = match check_zadd(flags, pairs) {
        Ok(scores) => scores,
        Err(message) => return ctx.out.error(message),
    };
    let key = args[1];
    let limits = ctx.shard.limits;
    let outcome = match write_zset!(ctx, key) {
        Some(zset) => add_all(zset, pairs, &scores, flags, &limits),
        None if flags.xx => Ok(AddTally::default()),
        None => {
            let mut zset = ZSetValue::for_first_member(&limits, pairs[1].len());
            let outcome = add_all(&mut zset, pairs, &scores, flags, &limits);
            if !zset.is_empty() {
                ctx.set(key, Value::ZSet(Box::new(zset)), false);
            }
            outcome
        }
    };
    match outcome {
        Err(()) => ctx.out.error(reply::NAN_SCORE),
        Ok(tally) if flags.incr => match tally.last {
            Some(score) => ctx.out.double(score),
            None => ctx.out.null(),
        },
        Ok(tally) if ch => ctx.out.integer(tally.added + tally.updated),
        Ok(tally) => ctx.out.integer(tally.added),
    }
}

/// `ZREM key member [member ...]`
pub fn zrem(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let Some(zset) = write_zset!(ctx, key) else {
        return ctx.out.integer(0);
    };
    let mut removed = 0;
    for member in &args[2..] {
        removed += i64::from(zset.remove(member));
        if zset.is_empty() {
            break;
        }
    }
    let emptied = zset.is_empty();
    remove_if_empty(ctx, key, emptied);
    ctx.out.integer(removed);
}

/* ---------------------------------------------------------------------------
 * Single-member reads
 * ------------------------------------------------------------------------- */

/// `ZCARD key`
pub fn zcard(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let len = read_zset!(ctx, args[1]).map_or(0, |zset| zset.len());
    ctx.out.integer(len as i64);
}

/// `ZSCORE key member`
pub fn zscore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match read_zset!(ctx, args[1]).and_then(|zset| zset.score(args[2])) {
        Some(score) => ctx.out.double(score),
        None => ctx.out.null(),
    }
}

/// `ZMSCORE key member [member ...]`: a score or nil per member.
pub fn zmscore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let zset = read_zset!(ctx, args[1]);
    let out = &mut *ctx.out;
    out.array(args.len() - 2);
    for member in &args[2..] {
        match zset.as_ref().and_then(|zset| zset.score(member)) {
            Some(score) => out.double(score),
            None => out.null(),
        }
    }
}

/// `ZRANK key member`
pub fn zrank(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    rank_generic(ctx, args, false);
}

/// `ZREVRANK key member`
pub fn zrevrank(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    rank_generic(ctx, args, true);
}

/// ZRANK and ZREVRANK, with Redis 7.2's WITHSCORE (`[rank, score]`, a
/// null array when absent), which 7.0 lacks: the one place Shoal answers
/// as the newer Redis does.
fn rank_generic(ctx: &mut ShardCtx<'_>, args: &[&[u8]], reverse: bool) {
    if args.len() > 4 {
        let name = if reverse { "zrevrank" } else { "zrank" };
        return ctx
            .out
            .error(format!("ERR wrong number of arguments for '{name}' command").as_bytes());
    }
    let with_score = match args.get(3) {
        None => false,
        Some(option) if is(option, "WITHSCORE") => true,
        Some(_) => return ctx.out.error(errors::SYNTAX),
    };
    let found = read_zset!(ctx, args[1]).and_then(|zset| {
        let rank = zset.rank(args[2])?;
        let score = zset.score(args[2])?;
        Some((if reverse { zset.len() - 1 - rank } else { rank }, score))
    });
    let out = &mut *ctx.out;
    match (found, with_score) {
        (Some((rank, score)), true) => {
            out.array(2);
            out.integer(rank as i64);
            out.double(score);
        }
        (Some((rank, _)), false) => out.integer(rank as i64),
        (None, true) => out.null_array(),
        (None, false) => out.null(),
    }
}

/// `ZCOUNT key min max`
pub fn zcount(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match ScoreRange::parse(args[2], args[3]) {
        Some(range) => count_generic(ctx, args[1], &range),
        None => ctx.out.error(reply::SCORE_RANGE),
    }
}

/// `ZLEXCOUNT key min max`
pub fn zlexcount(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match LexRange::parse(args[2], args[3]) {
        Some(range) => count_generic(ctx, args[1], &range),
        None => ctx.out.error(reply::LEX_RANGE),
    }
}

fn count_generic(ctx: &mut ShardCtx<'_>, key: &[u8], range: &impl MemberRange) {
    let count = read_zset!(ctx, key).map_or(0, |zset| zset.count_in_range(range));
    ctx.out.integer(count as i64);
}

/* ---------------------------------------------------------------------------
 * The ZRANGE family
 * ------------------------------------------------------------------------- */

/// What a ZRANGE-like command selects by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    /// ZRANGE and ZRANGESTORE before BYSCORE/BYLEX: rank unless told.
    Auto,
    Rank,
    Score,
    Lex,
}

/// ZRANGE's direction: `Auto` until REV is seen (ZRANGE, ZRANGESTORE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// Parsed ZRANGE options.
#[derive(Debug)]
struct RangeOptions {
    by: By,
    reverse: bool,
    withscores: bool,
    offset: i64,
    limit: i64,
}

/// A parsed range of any kind.
enum Selection {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Parses the options after `key min max` (Redis's `zrangeGenericCommand`).
fn parse_range_options(
    args: &[&[u8]],
    key_at: usize,
    store: bool,
    mut by: By,
    mut direction: Direction,
) -> Result<RangeOptions, &'static [u8]> {
    let (mut withscores, mut offset, mut limit) = (false, 0, -1);
    let mut at = key_at + 3;
    while at < args.len() {
        let option = args[at];
        let left = args.len() - at - 1;
        if !store && is(option, "WITHSCORES") {
            withscores = true;
        } else if is(option, "LIMIT") && left >= 2 {
            offset = int_arg(args[at + 1])?;
            limit = int_arg(args[at + 2])?;
            at += 2;
        } else if direction == Direction::Auto && is(option, "REV") {
            direction = Direction::Reverse;
        } else if by == By::Auto && is(option, "BYLEX") {
            by = By::Lex;
        } else if by == By::Auto && is(option, "BYSCORE") {
            by = By::Score;
        } else {
            return Err(errors::SYNTAX);
        }
        at += 1;
    }
    let by = if by == By::Auto { By::Rank } else { by };
    if limit != -1 && by == By::Rank {
        return Err(reply::LIMIT_NEEDS_BY);
    }
    if withscores && by == By::Lex {
        return Err(reply::WITHSCORES_BYLEX);
    }
    Ok(RangeOptions {
        by,
        reverse: direction == Direction::Reverse,
        withscores,
        offset,
        limit,
    })
}

/// Parses `min max` (swapped for the reverse score and lex forms).
fn parse_selection(
    args: &[&[u8]],
    key_at: usize,
    options: &RangeOptions,
) -> Result<Selection, &'static [u8]> {
    let (mut min, mut max) = (args[key_at + 1], args[key_at + 2]);
    if options.reverse && options.by != By::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    match options.by {
        By::Auto | By::Rank => Ok(Selection::Rank(int_arg(min)?, int_arg(max)?)),
        By::Score => ScoreRange::parse(min, max)
            .map(Selection::Score)
            .ok_or(reply::SCORE_RANGE),
        By::Lex => LexRange::parse(min, max)
            .map(Selection::Lex)
            .ok_or(reply::LEX_RANGE),
    }
}

/// The members a selection picks, in reply order.
fn select<'z>(
    zset: &'z ZSetValue,
    selection: &Selection,
    options: &RangeOptions,
) -> Vec<(&'z [u8], f64)> {
    match selection {
        Selection::Rank(start, end) => match clamp_ranks(*start, *end, zset.len()) {
            None => Vec::new(),
            Some((start, end)) => {
                let from = if options.reverse {
                    zset.len() - 1 - start
                } else {
                    start
                };
                zset.iter_from(from, options.reverse)
                    .take(end - start + 1)
                    .collect()
            }
        },
        Selection::Score(range) => select_in_range(zset, range, options),
        Selection::Lex(range) => select_in_range(zset, range, options),
    }
}

/// The members of `range` after LIMIT's offset, at most `limit` of them
/// (negative: all), walking on while they stay in range, as Redis does.
fn select_in_range<'z>(
    zset: &'z ZSetValue,
    range: &impl MemberRange,
    options: &RangeOptions,
) -> Vec<(&'z [u8], f64)> {
    let offset = options.offset;
    // A negative offset walks off the end in Redis: nothing is returned.
    if offset < 0 || (offset > 0 && offset as u64 >= zset.len() as u64) {
        return Vec::new();
    }
    let first = if options.reverse {
        zset.last_in_range(range)
    } else {
        zset.first_in_range(range)
    };
    let Some(first) = first else {
        return Vec::new();
    };
    let limit = usize::try_from(options.limit).unwrap_or(usize::MAX);
    zset.iter_from(first, options.reverse)
        .skip(offset as usize)
        .take_while(|&(member, score)| {
            if options.reverse {
                range.gte_min(member, score)
            } else {
                range.lte_max(member, score)
            }
        })
        .take(limit)
        .collect()
}

/// The shared body of the ZRANGE family: `key_at` is the source key,
/// `destination` ZRANGESTORE's.
fn zrange_generic(
    ctx: &mut ShardCtx<'_>,
    args: &[&[u8]],
    key_at: usize,
    destination: Option<&[u8]>,
    by: By,
    direction: Direction,
) {
    let parsed = parse_range_options(args, key_at, destination.is_some(), by, direction)
        .and_then(|options| Ok((parse_selection(args, key_at, &options)?, options)));
    let (selection, options) = match parsed {
        Ok(parsed) => parsed,
        Err(message) => return ctx.out.error(message),
    };
    let zset = read_zset!(ctx, args[key_at]);
    let selected = zset.map_or_else(Vec::new, |zset| select(zset, &selection, &options));
    match destination {
        None => reply_members(ctx.out, &selected, options.withscores),
        Some(destination) => {
            let mut pairs: Vec<(Vec<u8>, f64)> = selected
                .into_iter()
                .map(|(member, score)| (member.to_vec(), score))
                .collect();
            if options.reverse {
                pairs.reverse();
            }
            store_result(ctx, destination, pairs);
        }
    }
}

/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
pub fn zrange(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    zrange_generic(ctx, args, 1, None, By::Auto, Direction::Auto);
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`
pub fn zrangestore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    zrange_generic(ctx, args, 2, Some(args[1]), By::Auto, Direction::Auto);
}

/// `ZREVRANGE key start stop [WITHSCORES]`
pub fn zrevrange(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    zrange_generic(ctx, args, 1, None, By::Rank, Direction::Reverse);
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
pub fn zrangebyscore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    zrange_generic(ctx, args, 1, None, By::Score, Direction::Forward);
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
pub fn zrevrangebyscore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    zrange_generic(ctx, args, 1, None, By::Score, Direction::Reverse);
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`
pub fn zrangebylex(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    zrange_generic(ctx, args, 1, None, By::Lex, Direction::Forward);
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
pub fn zrevrangebylex(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    zrange_generic(ctx, args, 1, None, By::Lex, Direction::Reverse);
}

/* ---------------------------------------------------------------------------
 * ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX
 * ------------------------------------------------------------------------- */

/// `ZREMRANGEBYRANK key start stop`
pub fn zremrangebyrank(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match (int_arg(args[2]), int_arg(args[3])) {
        (Ok(start), Ok(end)) => remrange_generic(ctx, args[1], &Selection::Rank(start, end)),
        (Err(message), _) | (_, Err(message)) => ctx.out.error(message),
    }
}

/// `ZREMRANGEBYSCORE key min max`
pub fn zremrangebyscore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match ScoreRange::parse(args[2], args[3]) {
        Some(range) => remrange_generic(ctx, args[1], &Selection::Score(range)),
        None => ctx.out.error(reply::SCORE_RANGE),
    }
}

/// `ZREMRANGEBYLEX key min max`
pub fn zremrangebylex(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match LexRange::parse(args[2], args[3]) {
        Some(range) => remrange_generic(ctx, args[1], &Selection::Lex(range)),
        None => ctx.out.error(reply::LEX_RANGE),
    }
}

/// The first rank and count a ZREMRANGEBY* selection covers.
fn removal_span(zset: &ZSetValue, selection: &Selection) -> Option<(usize, usize)> {
    fn in_range(zset: &ZSetValue, range: &impl MemberRange) -> Option<(usize, usize)> {
        let first = zset.first_in_range(range)?;
        Some((first, zset.count_in_range(range)))
    }
    match selection {
        Selection::Rank(start, end) => {
            clamp_ranks(*start, *end, zset.len()).map(|(start, end)| (start, end - start + 1))
        }
        Selection::Score(range) => in_range(zset, range),
        Selection::Lex(range) => in_range(zset, range),
    }
}

/// The shared body of ZREMRANGEBY* (Redis's `zremrangeGenericCommand`).
fn remrange_generic(ctx: &mut ShardCtx<'_>, key: &[u8], selection: &Selection) {
    let Some(zset) = write_zset!(ctx, key) else {
        return ctx.out.integer(0);
    };
    let (first, count) = removal_span(zset, selection).unwrap_or((0, 0));
    zset.remove_range(first, count, |_, _| {});
    let emptied = zset.is_empty();
    remove_if_empty(ctx, key, emptied);
    ctx.out.integer(count as i64);
}

/* ---------------------------------------------------------------------------
 * ZPOPMIN, ZPOPMAX, ZMPOP
 * ------------------------------------------------------------------------- */

/// `ZPOPMIN key [count]`
pub fn zpopmin(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    zpop_generic(ctx, args, true);
}

/// `ZPOPMAX key [count]`
pub fn zpopmax(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    zpop_generic(ctx, args, false);
}

/// ZPOPMIN and ZPOPMAX: a flat member-score array, or in RESP3 with a
/// count an array of pairs (Redis's `zpopMinMaxCommand`).
fn zpop_generic(ctx: &mut ShardCtx<'_>, args: &[&[u8]], min: bool) {
    if args.len() > 3 {
        return ctx.out.error(errors::SYNTAX);
    }
    let count = match args.get(2).map(|arg| int_arg(arg)) {
        None => None,
        Some(Ok(count)) if count >= 0 => Some(count as usize),
        Some(_) => return ctx.out.error(reply::POSITIVE),
    };
    let key = args[1];
    let Some(zset) = write_zset!(ctx, key) else {
        return ctx.out.array(0);
    };
    if count == Some(0) {
        return ctx.out.array(0);
    }
    let popped = zset.pop(min, count.unwrap_or(1));
    let emptied = zset.is_empty();
    remove_if_empty(ctx, key, emptied);
    let nested = count.is_some() && resp3(ctx);
    let out = &mut *ctx.out;
    out.array(if nested {
        popped.len()
    } else {
        2 * popped.len()
    });
    for (member, score) in &popped {
        if nested {
            out.array(2);
        }
        out.bulk(member);
        out.double(*score);
    }
}

/// What [`zmpop_body`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopReply {
    /// It wrote the reply: the popped members, or WRONGTYPE.
    Replied,
    /// None of the keys exists; nothing was written (ZMPOP then replies
    /// nil, BZMPOP blocks).
    NothingToPop,
}

/// ZMPOP's body, for ZMPOP and for BZMPOP once a key is ready: pops up to
/// `count` members (at least 1) from the first of `keys` that exists, lowest
/// scores first when `min`, removes the key if emptied and replies
/// `[key, [[member, score], ...]]`. A first existing key of another type
/// replies WRONGTYPE. (Redis's `genericZpopCommand` with `emitkey`.)
pub fn zmpop_body(ctx: &mut ShardCtx<'_>, keys: &[&[u8]], min: bool, count: usize) -> PopReply {
    debug_assert!(count > 0, "ZMPOP's count is at least 1");
    for &key in keys {
        let zset = match find(ctx.shard, ctx.db, ctx.now_ms, key, Lookup::Write) {
            Ok(Some(zset)) => zset,
            Ok(None) => continue,
            Err(WrongType) => {
                ctx.out.error(errors::WRONGTYPE);
                return PopReply::Replied;
            }
        };
        let popped = zset.pop(min, count);
        let emptied = zset.is_empty();
        remove_if_empty(ctx, key, emptied);
        let out = &mut *ctx.out;
        out.array(2);
        out.bulk(key);
        out.array(popped.len());
        for (member, score) in &popped {
            out.array(2);
            out.bulk(member);
            out.double(*score);
        }
        return PopReply::Replied;
    }
    PopReply::NothingToPop
}

/// ZMPOP's (and BZMPOP's) arguments from the key count on: the keys'
/// positions within `args`, MIN (true) or MAX, and the count, with Redis's
/// checks in Redis's order; the error text on failure.
pub fn parse_zmpop(args: &[&[u8]]) -> Result<(std::ops::Range<usize>, bool, usize), &'static [u8]> {
    let numkeys = match int_arg(args[0]) {
        Ok(numkeys) if numkeys >= 1 => numkeys as u64,
        _ => return Err(reply::NUMKEYS),
    };
    let where_at = match numkeys.checked_add(1) {
        Some(at) if at < args.len() as u64 => at as usize,
        _ => return Err(errors::SYNTAX),
    };
    let min = if is(args[where_at], "MIN") {
        true
    } else if is(args[where_at], "MAX") {
        false
    } else {
        return Err(errors::SYNTAX);
    };
    let mut count = None;
    let mut at = where_at + 1;
    while at < args.len() {
        if count.is_none() && is(args[at], "COUNT") && at + 1 < args.len() {
            match int_arg(args[at + 1]) {
                Ok(value) if value >= 1 => count = Some(value as usize),
                _ => return Err(reply::COUNT),
            }
            at += 2;
        } else {
            return Err(errors::SYNTAX);
        }
    }
    Ok((1..where_at, min, count.unwrap_or(1)))
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]`
pub fn zmpop(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let (keys, min, count) = match parse_zmpop(&args[1..]) {
        Ok(parsed) => parsed,
        Err(message) => return ctx.out.error(message),
    };
    let keys = &args[keys.start + 1..keys.end + 1];
    if zmpop_body(ctx, keys, min, count) == PopReply::NothingToPop {
        ctx.out.null_array();
    }
}

/// BZPOPMIN's and BZPOPMAX's body when they need not wait: pops the lowest
/// (`min`) or highest scored member of the first non-empty sorted set among
/// `keys` and replies `[key, member, score]`; a first existing key of
/// another type replies WRONGTYPE. Returns false, having replied nothing,
/// when every key is missing.
pub fn pop_first_nonempty(ctx: &mut ShardCtx<'_>, keys: &[&[u8]], min: bool) -> bool {
    for &key in keys {
        let zset = match find(ctx.shard, ctx.db, ctx.now_ms, key, Lookup::Write) {
            Ok(Some(zset)) => zset,
            Ok(None) => continue,
            Err(WrongType) => {
                ctx.out.error(errors::WRONGTYPE);
                return true;
            }
        };
        let Some((member, score)) = zset.pop(min, 1).pop() else {
            continue;
        };
        let emptied = zset.is_empty();
        remove_if_empty(ctx, key, emptied);
        let out = &mut *ctx.out;
        out.array(3);
        out.bulk(key);
        out.bulk(&member);
        out.double(score);
        return true;
    }
    false
}

/* ---------------------------------------------------------------------------
 * ZRANDMEMBER
 * ------------------------------------------------------------------------- */

/// With a count, a random sample of at least `count × this` members is
/// drawn by elimination rather than by repeated picks (Redis's
/// `ZRANDMEMBER_SUB_STRATEGY_MUL`).
const RANDOM_SUB_STRATEGY_MUL: usize = 3;

/// `ZRANDMEMBER key [count [WITHSCORES]]`
pub fn zrandmember(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    if args.len() >= 3 {
        let count = match int_arg(args[2]) {
            Ok(i64::MIN) => return ctx.out.error(reply::COUNT_RANGE),
            Ok(count) => count,
            Err(message) => return ctx.out.error(message),
        };
        if args.len() > 4 || (args.len() == 4 && !is(args[3], "WITHSCORES")) {
            return ctx.out.error(errors::SYNTAX);
        }
        let withscores = args.len() == 4;
        if withscores && !(i64::MIN / 2..=i64::MAX / 2).contains(&count) {
            return ctx.out.error(reply::OUT_OF_RANGE);
        }
        return randmember_with_count(ctx, args[1], count, withscores);
    }
    let len = match find(ctx.shard, ctx.db, ctx.now_ms, args[1], Lookup::Read) {
        Ok(Some(zset)) => zset.len(),
        Ok(None) => return ctx.out.null(),
        Err(WrongType) => return ctx.out.error(errors::WRONGTYPE),
    };
    let rank = ctx.shard.random_below(len);
    let zset = peek(ctx.shard, ctx.db, ctx.now_ms, args[1]);
    let (member, _) = zset.get(rank).expect("a rank below the length");
    ctx.out.bulk(member);
}

/// The sorted set under `key` that a lookup just found, without counting
/// another access.
fn peek<'a>(shard: &'a Shard, db: usize, now_ms: u64, key: &[u8]) -> &'a ZSetValue {
    match shard
        .db_ref(db)
        .peek_entry(key, now_ms)
        .map(|entry| &entry.value)
    {
        Some(Value::ZSet(zset)) => zset,
        _ => unreachable!("the caller found a sorted set under the key"),
    }
}

/// A small generator seeded from the shard's, so that a reply can draw
/// while it reads the set.
struct Draws(u64);

impl Draws {
    fn below(&mut self, bound: usize) -> usize {
        debug_assert!(bound > 0, "a range to draw from");
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

/// Writes one member of a ZRANDMEMBER reply (a pair in RESP3 with scores).
fn reply_member(
    out: &mut shoal_protocol::ReplyEncoder,
    nested: bool,
    withscores: bool,
    member: &[u8],
    score: f64,
) {
    if nested {
        out.array(2);
    }
    out.bulk(member);
    if withscores {
        out.double(score);
    }
}

/// ZRANDMEMBER with a count (Redis's `zrandmemberWithCountCommand`): a
/// negative count may repeat members, a positive one may not; asking for
/// the whole set returns it whole, highest score first, as Redis walks it.
fn randmember_with_count(ctx: &mut ShardCtx<'_>, key: &[u8], count: i64, withscores: bool) {
    let size = match find(ctx.shard, ctx.db, ctx.now_ms, key, Lookup::Read) {
        Ok(Some(zset)) => zset.len(),
        Ok(None) => return ctx.out.array(0),
        Err(WrongType) => return ctx.out.error(errors::WRONGTYPE),
    };
    let unique = count >= 0;
    let count = count.unsigned_abs() as usize;
    if count == 0 {
        return ctx.out.array(0);
    }
    let mut draws = Draws(ctx.shard.random_u64() | 1);
    let nested = withscores && resp3(ctx);
    let reply_len = if unique { count.min(size) } else { count };
    let zset = peek(ctx.shard, ctx.db, ctx.now_ms, key);
    let out = &mut *ctx.out;
    out.array(if withscores && !nested {
        2 * reply_len
    } else {
        reply_len
    });
    let ranks: Vec<usize> = if !unique || count == 1 {
        for _ in 0..count {
            let (member, score) = zset
                .get(draws.below(size))
                .expect("a rank below the length");
            reply_member(out, nested, withscores, member, score);
        }
        return;
    } else if count >= size {
        for (member, score) in zset.iter_from(size - 1, true) {
            reply_member(out, nested, withscores, member, score);
        }
        return;
    } else if count * RANDOM_SUB_STRATEGY_MUL > size {
        // Draw by elimination: shuffle the first `count` of all ranks.
        let mut ranks: Vec<usize> = (0..size).collect();
        for index in 0..count {
            let other = index + draws.below(size - index);
            ranks.swap(index, other);
        }
        ranks.truncate(count);
        ranks
    } else {
        let mut picked = HashSet::with_capacity(count);
        let mut ranks = Vec::with_capacity(count);
        while ranks.len() < count {
            let rank = draws.below(size);
            if picked.insert(rank) {
                ranks.push(rank);
            }
        }
        ranks
    };
    for rank in ranks {
        let (member, score) = zset.get(rank).expect("a rank below the length");
        reply_member(out, nested, withscores, member, score);
    }
}

/* ---------------------------------------------------------------------------
 * ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD
 * ------------------------------------------------------------------------- */

/// The set operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

/// How scores of one member in several inputs combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis's `zunionInterAggregate`: a sum that comes out NaN (inf + -inf)
    /// counts as 0.
    fn combine(self, target: &mut f64, value: f64) {
        match self {
            Aggregate::Sum => {
                *target += value;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if value < *target {
                    *target = value;
                }
            }
            Aggregate::Max => {
                if value > *target {
                    *target = value;
                }
            }
        }
    }
}

/// One input of a set operation: a sorted set, a plain set (every member
/// scores 1, as Redis allows), or a missing key (empty).
#[derive(Clone, Copy)]
enum Input<'a> {
    Missing,
    ZSet(&'a ZSetValue),
    Set(&'a SetValue),
}

/* Sets are inputs here, nothing more: three reads of the set family's API. */

fn set_len(set: &SetValue) -> usize {
    set.len()
}

fn set_members(set: &SetValue) -> Vec<Vec<u8>> {
    set.iter()
        .map(|member| member.with_bytes(<[u8]>::to_vec))
        .collect()
}

fn set_contains(set: &SetValue, member: &[u8]) -> bool {
    set.contains(Member::Bytes(member))
}

impl<'a> Input<'a> {
    fn len(self) -> usize {
        match self {
            Input::Missing => 0,
            Input::ZSet(zset) => zset.len(),
            Input::Set(set) => set_len(set),
        }
    }

    /// Every member with its score.
    fn members(self) -> Vec<(std::borrow::Cow<'a, [u8]>, f64)> {
        match self {
            Input::Missing => Vec::new(),
            Input::ZSet(zset) => zset
                .iter()
                .map(|(member, score)| (std::borrow::Cow::Borrowed(member), score))
                .collect(),
            Input::Set(set) => set_members(set)
                .into_iter()
                .map(|member| (std::borrow::Cow::Owned(member), 1.0))
                .collect(),
        }
    }

    fn score(self, member: &[u8]) -> Option<f64> {
        match self {
            Input::Missing => None,
            Input::ZSet(zset) => zset.score(member),
            Input::Set(set) => set_contains(set, member).then_some(1.0),
        }
    }
}

/// What a set-operation command asked for.
struct SetOpRequest<'a> {
    op: SetOp,
    /// The command's name, for the "at least 1 input key" error.
    name: &'static str,
    /// Where the key count is.
    numkeys_at: usize,
    /// The STORE forms' destination.
    destination: Option<&'a [u8]>,
    /// ZINTERCARD.
    cardinality_only: bool,
}

/// Options after the keys.
struct SetOpOptions {
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
    limit: usize,
}

/// Parses WEIGHTS, AGGREGATE, WITHSCORES and LIMIT as each command allows
/// them; `Err` is the error reply.
fn parse_setop_options(
    request: &SetOpRequest<'_>,
    options: &[&[u8]],
    keys: usize,
) -> Result<SetOpOptions, &'static [u8]> {
    let mut parsed = SetOpOptions {
        weights: vec![1.0; keys],
        aggregate: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    let scoring = request.op != SetOp::Diff && !request.cardinality_only;
    let mut at = 0;
    while at < options.len() {
        let left = options.len() - at;
        let option = options[at];
        if scoring && left > keys && is(option, "WEIGHTS") {
            for (index, weight) in options[at + 1..=at + keys].iter().enumerate() {
                parsed.weights[index] = parse_score(weight).ok_or(reply::WEIGHT)?;
            }
            at += 1 + keys;
        } else if scoring && left >= 2 && is(option, "AGGREGATE") {
            let name = options[at + 1];
            parsed.aggregate = if is(name, "SUM") {
                Aggregate::Sum
            } else if is(name, "MIN") {
                Aggregate::Min
            } else if is(name, "MAX") {
                Aggregate::Max
            } else {
                return Err(errors::SYNTAX);
            };
            at += 2;
        } else if request.destination.is_none()
            && !request.cardinality_only
            && is(option, "WITHSCORES")
        {
            parsed.withscores = true;
            at += 1;
        } else if request.cardinality_only && left >= 2 && is(option, "LIMIT") {
            parsed.limit = match int_arg(options[at + 1]) {
                Ok(limit) if limit >= 0 => limit as usize,
                _ => return Err(reply::LIMIT_NEGATIVE),
            };
            at += 2;
        } else {
            return Err(errors::SYNTAX);
        }
    }
    Ok(parsed)
}

/// Looks every input key up for reading (each counts a hit or a miss);
/// `Err` when one holds neither a sorted set nor a set.
fn check_inputs(ctx: &mut ShardCtx<'_>, keys: &[&[u8]]) -> Result<(), WrongType> {
    for key in keys {
        if let Some(entry) = ctx.lookup(key, Lookup::Read) {
            if !matches!(entry.value, Value::ZSet(_) | Value::Set(_)) {
                return Err(WrongType);
            }
        }
    }
    Ok(())
}

/// The inputs, already checked, without counting another access.
fn inputs<'a>(shard: &'a Shard, db: usize, now_ms: u64, keys: &[&[u8]]) -> Vec<Input<'a>> {
    keys.iter()
        .map(|key| {
            match shard
                .db_ref(db)
                .peek_entry(key, now_ms)
                .map(|entry| &entry.value)
            {
                Some(Value::ZSet(zset)) => Input::ZSet(zset),
                Some(Value::Set(set)) => Input::Set(set),
                _ => Input::Missing,
            }
        })
        .collect()
}

/// Members of every input, scores weighted and aggregated.
fn union(inputs: &[(Input<'_>, f64)], aggregate: Aggregate) -> Vec<(Vec<u8>, f64)> {
    let mut position: ahash::AHashMap<Vec<u8>, usize> = ahash::AHashMap::new();
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    for &(input, weight) in inputs {
        for (member, score) in input.members() {
            let mut weighted = weight * score;
            if weighted.is_nan() {
                weighted = 0.0;
            }
            match position.get(&*member) {
                Some(&index) => aggregate.combine(&mut result[index].1, weighted),
                None => {
                    position.insert(member.to_vec(), result.len());
                    result.push((member.into_owned(), weighted));
                }
            }
        }
    }
    result
}

/// Members of every input (ZINTER), walking the smallest; with `limit`
/// (ZINTERCARD) only counted, stopping at `limit` when it is not 0.
fn intersection(
    inputs: &[(Input<'_>, f64)],
    aggregate: Aggregate,
    count_up_to: Option<usize>,
) -> (Vec<(Vec<u8>, f64)>, usize) {
    let mut result = Vec::new();
    let mut found = 0;
    let Some((&(first, first_weight), others)) = inputs.split_first() else {
        return (result, found);
    };
    'members: for (member, score) in first.members() {
        let mut total = first_weight * score;
        if total.is_nan() {
            total = 0.0;
        }
        for &(input, weight) in others {
            match input.score(&member) {
                Some(score) => aggregate.combine(&mut total, score * weight),
                None => continue 'members,
            }
        }
        found += 1;
        match count_up_to {
            Some(limit) if limit != 0 && found >= limit => break,
            Some(_) => {}
            None => result.push((member.into_owned(), total)),
        }
    }
    (result, found)
}

/// Members of the first input found in no other, with their first scores.
fn difference(inputs: &[(Input<'_>, f64)]) -> Vec<(Vec<u8>, f64)> {
    let Some((&(first, _), others)) = inputs.split_first() else {
        return Vec::new();
    };
    first
        .members()
        .into_iter()
        .filter(|(member, _)| {
            others
                .iter()
                .all(|(input, _)| input.score(member).is_none())
        })
        .map(|(member, score)| (member.into_owned(), score))
        .collect()
}

/// Sorts a result into `(score, member)` order.
fn sort_result(result: &mut [(Vec<u8>, f64)]) {
    result.sort_unstable_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
}

/// The shared body of ZUNION, ZINTER, ZDIFF, their STORE forms and
/// ZINTERCARD (Redis's `zunionInterDiffGenericCommand`).
fn setop_generic(ctx: &mut ShardCtx<'_>, args: &[&[u8]], request: &SetOpRequest<'_>) {
    let numkeys = match int_arg(args[request.numkeys_at]) {
        Ok(numkeys) => numkeys,
        Err(message) => return ctx.out.error(message),
    };
    if numkeys < 1 {
        let message = format!(
            "ERR at least 1 input key is needed for '{}' command",
            request.name
        );
        return ctx.out.error(message.as_bytes());
    }
    let first_key = request.numkeys_at + 1;
    if numkeys as u64 > (args.len() - first_key) as u64 {
        return ctx.out.error(errors::SYNTAX);
    }
    let keys = &args[first_key..first_key + numkeys as usize];
    if check_inputs(ctx, keys).is_err() {
        return ctx.out.error(errors::WRONGTYPE);
    }
    let options = match parse_setop_options(request, &args[first_key + keys.len()..], keys.len()) {
        Ok(options) => options,
        Err(message) => return ctx.out.error(message),
    };
    let found = inputs(ctx.shard, ctx.db, ctx.now_ms, keys);
    let mut weighted: Vec<(Input<'_>, f64)> = found.into_iter().zip(options.weights).collect();
    if request.op != SetOp::Diff {
        // Smallest first, ties in key order (a stable sort, as glibc's qsort
        // is): the order in which scores are summed.
        weighted.sort_by_key(|(input, _)| input.len());
    }
    let (mut result, cardinality) = match request.op {
        SetOp::Union => (union(&weighted, options.aggregate), 0),
        SetOp::Diff => (difference(&weighted), 0),
        SetOp::Inter => {
            let count_up_to = request.cardinality_only.then_some(options.limit);
            intersection(&weighted, options.aggregate, count_up_to)
        }
    };
    if request.cardinality_only {
        return ctx.out.integer(cardinality as i64);
    }
    sort_result(&mut result);
    match request.destination {
        Some(destination) => store_result(ctx, destination, result),
        None => {
            let members: Vec<(&[u8], f64)> = result
                .iter()
                .map(|(member, score)| (&member[..], *score))
                .collect();
            reply_members(ctx.out, &members, options.withscores);
        }
    }
}

/// `ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub fn zunion(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let request = SetOpRequest {
        op: SetOp::Union,
        name: "zunion",
        numkeys_at: 1,
        destination: None,
        cardinality_only: false,
    };
    setop_generic(ctx, args, &request);
}

/// `ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub fn zinter(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let request = SetOpRequest {
        op: SetOp::Inter,
        name: "zinter",
        numkeys_at: 1,
        destination: None,
        cardinality_only: false,
    };
    setop_generic(ctx, args, &request);
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
pub fn zdiff(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let request = SetOpRequest {
        op: SetOp::Diff,
        name: "zdiff",
        numkeys_at: 1,
        destination: None,
        cardinality_only: false,
    };
    setop_generic(ctx, args, &request);
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`
pub fn zunionstore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let request = SetOpRequest {
        op: SetOp::Union,
        name: "zunionstore",
        numkeys_at: 2,
        destination: Some(args[1]),
        cardinality_only: false,
    };
    setop_generic(ctx, args, &request);
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`
pub fn zinterstore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let request = SetOpRequest {
        op: SetOp::Inter,
        name: "zinterstore",
        numkeys_at: 2,
        destination: Some(args[1]),
        cardinality_only: false,
    };
    setop_generic(ctx, args, &request);
}

/// `ZDIFFSTORE destination numkeys key [key ...]`
pub fn zdiffstore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let request = SetOpRequest {
        op: SetOp::Diff,
        name: "zdiffstore",
        numkeys_at: 2,
        destination: Some(args[1]),
        cardinality_only: false,
    };
    setop_generic(ctx, args, &request);
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
pub fn zintercard(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let request = SetOpRequest {
        op: SetOp::Inter,
        name: "zintercard",
        numkeys_at: 1,
        destination: None,
        cardinality_only: true,
    };
    setop_generic(ctx, args, &request);
}

/* ---------------------------------------------------------------------------
 * ZSCAN
 * ------------------------------------------------------------------------- */

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`
pub fn zscan(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let Some(cursor) = scan::parse_cursor(args[2]) else {
        return ctx.out.error(scan::INVALID_CURSOR);
    };
    let Some(zset) = read_zset!(ctx, args[1]) else {
        let out = &mut *ctx.out;
        out.array(2);
        out.bulk(b"0");
        return out.array(0);
    };
    let (count, pattern) = match scan::parse_options(&args[3..], |_, _| false) {
        Ok(options) => (options.count, options.pattern),
        Err(message) => return ctx.out.error(message),
    };
    let mut elements: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let next = zset.scan(cursor, count, |member, score| {
        if pattern.is_none_or(|pattern| glob_match(pattern, member, false)) {
            elements.push((member.to_vec(), score.to_vec()));
        }
    });
    let out = &mut *ctx.out;
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(2 * elements.len());
    for (member, score) in &elements {
        out.bulk(member);
        out.bulk(score);
    }
}
