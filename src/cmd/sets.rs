//! Set commands, as Redis's `t_set.c`: the type API over
//! [`SetValue`](crate::types::set::SetValue) first, then the commands.

use shoal_protocol::ReplyEncoder;

use super::args::{int_arg, is};
use super::ctx::{errors, ShardCtx};
use super::keys_after_numkeys;
use super::scan;
use super::table::{cmd, CommandSpec, Exec::Shard as S};
use crate::glob::glob_match;
use crate::shard::{Lookup, Shard, Value};
use crate::types::set::{Member, SetValue};

/* ---------------------------------------------------------------------------
 * Command table
 * ------------------------------------------------------------------------- */

const WRITE_DENYOOM_FAST: &[&str] = &["write", "denyoom", "fast"];
const WRITE_DENYOOM: &[&str] = &["write", "denyoom"];
const WRITE_FAST: &[&str] = &["write", "fast"];
const READ_FAST: &[&str] = &["readonly", "fast"];
const READ: &[&str] = &["readonly"];
const READ_MOVABLE: &[&str] = &["readonly", "movablekeys"];
const SET_WRITE_FAST: &[&str] = &["@write", "@set", "@fast"];
const SET_WRITE_SLOW: &[&str] = &["@write", "@set", "@slow"];
const SET_READ_FAST: &[&str] = &["@read", "@set", "@fast"];
const SET_READ_SLOW: &[&str] = &["@read", "@set", "@slow"];

/// This family's rows of the command table, with Redis 7.0's flags, key
/// positions and ACL categories.
pub const COMMANDS: &[CommandSpec] = &[
    cmd!("sadd", -3, WRITE_DENYOOM_FAST, 1, 1, 1, SET_WRITE_FAST, S(sadd), "set", "Adds one or more members to a set. Creates the key if it doesn't exist."),
    cmd!("srem", -3, WRITE_FAST, 1, 1, 1, SET_WRITE_FAST, S(srem), "set", "Removes one or more members from a set. Deletes the set if the last member was removed."),
    cmd!("scard", 2, READ_FAST, 1, 1, 1, SET_READ_FAST, S(scard), "set", "Returns the number of members in a set."),
    cmd!("sismember", 3, READ_FAST, 1, 1, 1, SET_READ_FAST, S(sismember), "set", "Determines whether a member belongs to a set."),
    cmd!("smismember", -3, READ_FAST, 1, 1, 1, SET_READ_FAST, S(smismember), "set", "Determines whether multiple members belong to a set."),
    cmd!("smembers", 2, READ, 1, 1, 1, SET_READ_SLOW, S(smembers), "set", "Returns all members of a set."),
    cmd!("srandmember", -2, READ, 1, 1, 1, SET_READ_SLOW, S(srandmember), "set", "Get one or multiple random members from a set"),
    cmd!("spop", -2, WRITE_FAST, 1, 1, 1, SET_WRITE_FAST, S(spop), "set", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."),
    cmd!("smove", 4, WRITE_FAST, 1, 2, 1, SET_WRITE_FAST, S(smove), "set", "Moves a member from one set to another."),
    cmd!("sinter", -2, READ, 1, -1, 1, SET_READ_SLOW, S(sinter), "set", "Returns the intersect of multiple sets."),
    cmd!("sintercard", -3, READ_MOVABLE, 0, 0, 0, SET_READ_SLOW, S(sintercard), "set", "Returns the number of members of the intersect of multiple sets.", keys = sintercard_keys),
    cmd!("sinterstore", -3, WRITE_DENYOOM, 1, -1, 1, SET_WRITE_SLOW, S(sinterstore), "set", "Stores the intersect of multiple sets in a key."),
    cmd!("sunion", -2, READ, 1, -1, 1, SET_READ_SLOW, S(sunion), "set", "Returns the union of multiple sets."),
    cmd!("sunionstore", -3, WRITE_DENYOOM, 1, -1, 1, SET_WRITE_SLOW, S(sunionstore), "set", "Stores the union of multiple sets in a key."),
    cmd!("sdiff", -2, READ, 1, -1, 1, SET_READ_SLOW, S(sdiff), "set", "Returns the difference of multiple sets."),
    cmd!("sdiffstore", -3, WRITE_DENYOOM, 1, -1, 1, SET_WRITE_SLOW, S(sdiffstore), "set", "Stores the difference of multiple sets in a key."),
    cmd!("sscan", -3, READ, 1, 1, 1, SET_READ_SLOW, S(sscan), "set", "Iterates over members of a set."),
];

/// SINTERCARD's keys: `numkeys` of them after the count.
fn sintercard_keys(args: &[&[u8]]) -> smallvec::SmallVec<[usize; 8]> {
    keys_after_numkeys(args, 1)
}

/* ---------------------------------------------------------------------------
 * Type API
 * ------------------------------------------------------------------------- */

/// A key holds another type.
struct WrongType;

/// The set under `key`, looked up as `access` says (a read counts a
/// keyspace hit or miss, as Redis's `lookupKeyRead`). Taking the shard
/// rather than the context leaves the reply encoder free to write to.
fn set_of<'s>(
    shard: &'s mut Shard,
    db: usize,
    now_ms: u64,
    key: &[u8],
    access: Lookup,
) -> Result<Option<&'s mut SetValue>, WrongType> {
    match shard.lookup(db, key, now_ms, access) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Set(set) => Ok(Some(set)),
            _ => Err(WrongType),
        },
    }
}

/// A set by key, without counting or touching anything; only for keys a
/// command has already looked up.
fn peek_set<'s>(shard: &'s Shard, db: usize, now_ms: u64, key: &[u8]) -> Option<&'s SetValue> {
    match shard
        .db_ref(db)
        .peek_entry(key, now_ms)
        .map(|entry| &entry.value)
    {
        Some(Value::Set(set)) => Some(set),
        _ => None,
    }
}

/// An add would take a set past [`MEMBERS_MAX`] members.
struct SetFull;

const SET_FULL: &[u8] = b"ERR set is full";

/// Adds `member` unless the set is full.
fn add_checked(set: &mut SetValue, member: Member<'_>, limit: u64) -> Result<bool, SetFull> {
    if set.is_full() && !set.contains(member) {
        return Err(SetFull);
    }
    Ok(set.add(member, limit))
}

/// Replies with one member as a bulk string.
fn reply_member(out: &mut ReplyEncoder, member: Member<'_>) {
    member.with_bytes(|bytes| out.bulk(bytes));
}

/// Random positions for one command, seeded from the shard's generator so
/// a handler can draw while it holds a set (splitmix64).
struct Draws(u64);

impl Draws {
    fn new(ctx: &mut ShardCtx<'_>) -> Draws {
        Draws(ctx.shard.random_u64())
    }

    /// A position below `bound` (positive).
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

/// Looks every key up for reading, in order, as Redis's multi-key set
/// commands do: hits and misses are counted up to the first key of another
/// type, which ends the command with WRONGTYPE (replied here).
fn check_all_sets(ctx: &mut ShardCtx<'_>, keys: &[&[u8]]) -> Result<(), WrongType> {
    for key in keys {
        if let Err(wrong) = set_of(ctx.shard, ctx.db, ctx.now_ms, key, Lookup::Read) {
            ctx.out.error(errors::WRONGTYPE);
            return Err(wrong);
        }
    }
    Ok(())
}

/// The sets under `keys`, already checked by [`check_all_sets`]; `None`
/// for a missing key.
fn sets_of<'s>(
    shard: &'s Shard,
    db: usize,
    now_ms: u64,
    keys: &[&[u8]],
) -> Vec<Option<&'s SetValue>> {
    keys.iter()
        .map(|key| peek_set(shard, db, now_ms, key))
        .collect()
}

/// Where the result of SINTER, SUNION, SDIFF and their variants goes.
#[derive(Clone, Copy)]
enum Output<'a> {
    /// Replied as a set (SINTER, SMEMBERS, SUNION, SDIFF, SPOP's whole set).
    Reply,
    /// Only counted, stopping at a limit (0: none) (SINTERCARD).
    Count(usize),
    /// Stored under this key, replacing it, and its size replied (the
    /// STORE variants); an empty result deletes the key.
    Store(&'a [u8]),
}

/// Replies with every member of `set`, as a set.
fn reply_set(out: &mut ReplyEncoder, set: &SetValue) {
    out.set(set.len());
    set.iter().for_each(|member| reply_member(out, member));
}

/// Stores `result` under `destination` (or deletes it when empty) and
/// replies with the size.
fn store_result(ctx: &mut ShardCtx<'_>, destination: &[u8], result: SetValue) {
    let len = result.len();
    if len == 0 {
        ctx.remove(destination);
    } else {
        ctx.set(destination, Value::Set(Box::new(result)), false);
    }
    ctx.out.integer(len as i64);
}

/// The members of the smallest set that every other set holds, in the
/// smallest set's order (Redis's `sinterGenericCommand` iterates the
/// smallest set; an intset's order is ascending), at most `limit` (0: all).
fn intersection<'s>(sets: &mut [&'s SetValue], limit: usize) -> Vec<Member<'s>> {
    sets.sort_by_key(|set| set.len());
    let Some((&smallest, others)) = sets.split_first() else {
        return Vec::new();
    };
    let limit = if limit == 0 { usize::MAX } else { limit };
    smallest
        .iter()
        .filter(|&member| others.iter().all(|set| set.contains(member)))
        .take(limit)
        .collect()
}

/// SINTER, SMEMBERS, SINTERCARD and SINTERSTORE.
fn inter_generic(ctx: &mut ShardCtx<'_>, keys: &[&[u8]], output: Output<'_>) {
    if check_all_sets(ctx, keys).is_err() {
        return;
    }
    let limit_intset = ctx.shard.limits.set_max_intset_entries;
    let found = sets_of(ctx.shard, ctx.db, ctx.now_ms, keys);
    // A missing key is an empty set: so is the intersection.
    let mut sets: Vec<&SetValue> = found.iter().flatten().copied().collect();
    if sets.len() < keys.len() {
        sets.clear();
    }
    let limit = match output {
        Output::Count(limit) => limit,
        _ => 0,
    };
    let members = intersection(&mut sets, limit);
    match output {
        Output::Reply => {
            ctx.out.set(members.len());
            members
                .iter()
                .for_each(|&member| reply_member(ctx.out, member));
        }
        Output::Count(_) => ctx.out.integer(members.len() as i64),
        Output::Store(destination) => {
            // Redis builds the result from an empty intset, so it is one
            // whenever the members allow it.
            let mut result = SetValue::new_intset();
            for member in members {
                result.add(member, limit_intset);
            }
            store_result(ctx, destination, result);
        }
    }
}

/// SUNION or SDIFF.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Combine {
    Union,
    Diff,
}

/// The union of `sets` (missing ones are empty), built as Redis builds it:
/// from an empty intset, converting as members arrive.
fn union(sets: &[Option<&SetValue>], limit: u64) -> Result<SetValue, SetFull> {
    let mut result = SetValue::new_intset();
    for set in sets.iter().flatten() {
        for member in set.iter() {
            add_checked(&mut result, member, limit)?;
        }
    }
    Ok(result)
}

/// The members of the first set that no other set holds, computed by
/// whichever of Redis's two algorithms it would pick: the result's
/// encoding depends on it, since the second one first copies the whole
/// first set (converting it to a hash table when that is too big for an
/// intset) and then removes.
fn difference(keys: &[&[u8]], sets: &[Option<&SetValue>], limit: u64) -> SetValue {
    let mut result = SetValue::new_intset();
    let Some(first) = sets[0] else {
        return result;
    };
    // The first key named again: everything is subtracted.
    if keys[1..].contains(&keys[0]) {
        return result;
    }
    let others: Vec<&SetValue> = sets[1..].iter().flatten().copied().collect();
    let present = 1 + others.len() as u64;
    let walk_first_work = first.len() as u64 * present / 2;
    let copy_then_remove_work =
        first.len() as u64 + others.iter().map(|set| set.len() as u64).sum::<u64>();
    if walk_first_work <= copy_then_remove_work {
        for member in first.iter() {
            if !others.iter().any(|set| set.contains(member)) {
                result.add(member, limit);
            }
        }
    } else {
        for member in first.iter() {
            result.add(member, limit);
        }
        for set in &others {
            if result.is_empty() {
                break;
            }
            for member in set.iter() {
                result.remove(member);
            }
        }
    }
    result
}

/// SUNION, SDIFF, their STORE variants and SPOP's whole-set case.
fn union_diff_generic(
    ctx: &mut ShardCtx<'_>,
    keys: &[&[u8]],
    output: Output<'_>,
    combine: Combine,
) {
    if check_all_sets(ctx, keys).is_err() {
        return;
    }
    let limit = ctx.shard.limits.set_max_intset_entries;
    let sets = sets_of(ctx.shard, ctx.db, ctx.now_ms, keys);
    let result = match combine {
        Combine::Union => union(&sets, limit),
        Combine::Diff => Ok(difference(keys, &sets, limit)),
    };
    let Ok(result) = result else {
        return ctx.out.error(SET_FULL);
    };
    match output {
        Output::Store(destination) => store_result(ctx, destination, result),
        _ => reply_set(ctx.out, &result),
    }
}

/* ---------------------------------------------------------------------------
 * SADD, SREM and membership
 * ------------------------------------------------------------------------- */

/// `SADD key member [member ...]`
pub fn sadd(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let (key, members) = (args[1], &args[2..]);
    let limit = ctx.shard.limits.set_max_intset_entries;
    let add_all = |set: &mut SetValue| -> Result<i64, SetFull> {
        let mut added = 0;
        for member in members {
            added += i64::from(add_checked(set, Member::Bytes(member), limit)?);
        }
        Ok(added)
    };
    let added = match set_of(ctx.shard, ctx.db, ctx.now_ms, key, Lookup::Write) {
        Err(WrongType) => return ctx.out.error(errors::WRONGTYPE),
        Ok(Some(set)) => add_all(set),
        Ok(None) => {
            let mut set = SetValue::for_member(Member::Bytes(members[0]));
            let added = add_all(&mut set);
            ctx.set(key, Value::Set(Box::new(set)), false);
            added
        }
    };
    match added {
        Ok(added) => ctx.out.integer(added),
        Err(SetFull) => ctx.out.error(SET_FULL),
    }
}

/// `SREM key member [member ...]`: the key goes when its last member does.
pub fn srem(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let set = match set_of(ctx.shard, ctx.db, ctx.now_ms, key, Lookup::Write) {
        Err(WrongType) => return ctx.out.error(errors::WRONGTYPE),
        Ok(None) => return ctx.out.integer(0),
        Ok(Some(set)) => set,
    };
    let mut removed = 0;
    for member in &args[2..] {
        removed += i64::from(set.remove(Member::Bytes(member)));
        if set.is_empty() {
            break;
        }
    }
    if set.is_empty() {
        ctx.remove(key);
    }
    ctx.out.integer(removed);
}

/// `SCARD key`
pub fn scard(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match set_of(ctx.shard, ctx.db, ctx.now_ms, args[1], Lookup::Read) {
        Err(WrongType) => ctx.out.error(errors::WRONGTYPE),
        Ok(set) => ctx.out.integer(set.map_or(0, |set| set.len() as i64)),
    }
}

/// `SISMEMBER key member`
pub fn sismember(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match set_of(ctx.shard, ctx.db, ctx.now_ms, args[1], Lookup::Read) {
        Err(WrongType) => ctx.out.error(errors::WRONGTYPE),
        Ok(set) => {
            let found = set.is_some_and(|set| set.contains(Member::Bytes(args[2])));
            ctx.out.integer(i64::from(found));
        }
    }
}

/// `SMISMEMBER key member [member ...]`: a missing key holds nothing.
pub fn smismember(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let set = match set_of(ctx.shard, ctx.db, ctx.now_ms, args[1], Lookup::Read) {
        Err(WrongType) => return ctx.out.error(errors::WRONGTYPE),
        Ok(set) => set,
    };
    let members = &args[2..];
    ctx.out.array(members.len());
    for member in members {
        let found = set
            .as_ref()
            .is_some_and(|set| set.contains(Member::Bytes(member)));
        ctx.out.integer(i64::from(found));
    }
}

/// `SMOVE source destination member`
pub fn smove(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let (source, destination, member) = (args[1], args[2], Member::Bytes(args[3]));
    let limit = ctx.shard.limits.set_max_intset_entries;
    // Redis looks both keys up before it checks either.
    let (db, now_ms) = (ctx.db, ctx.now_ms);
    let source_state =
        set_of(ctx.shard, db, now_ms, source, Lookup::Write).map(|set| set.is_some());
    let destination_state = set_of(ctx.shard, db, now_ms, destination, Lookup::Write)
        .map(|set| set.map(|set| set.is_full() && !set.contains(member)));
    let destination_full = match (source_state, destination_state) {
        (Ok(false), _) => return ctx.out.integer(0),
        (Ok(true), Ok(full)) => full,
        _ => return ctx.out.error(errors::WRONGTYPE),
    };
    let Ok(Some(source_set)) = set_of(ctx.shard, db, now_ms, source, Lookup::Write) else {
        unreachable!("the source set was found above");
    };
    if source == destination {
        let found = source_set.contains(member);
        return ctx.out.integer(i64::from(found));
    }
    if destination_full == Some(true) {
        return ctx.out.error(SET_FULL);
    }
    if !source_set.remove(member) {
        return ctx.out.integer(0);
    }
    if source_set.is_empty() {
        ctx.remove(source);
    }
    match set_of(ctx.shard, db, now_ms, destination, Lookup::Write) {
        Ok(Some(destination_set)) => {
            destination_set.add(member, limit);
        }
        _ => {
            let mut created = SetValue::for_member(member);
            created.add(member, limit);
            ctx.set(destination, Value::Set(Box::new(created)), false);
        }
    }
    ctx.out.integer(1);
}

/* ---------------------------------------------------------------------------
 * Random members: SPOP and SRANDMEMBER
 * ------------------------------------------------------------------------- */

/// SPOP rebuilds the set from the members that stay once it pops more than
/// this many times as many members as it leaves (Redis's
/// `SPOP_MOVE_STRATEGY_MUL`); the rebuilt set is an intset when it can be.
const SPOP_REBUILD_RATIO: usize = 5;
/// SRANDMEMBER samples distinct members by rejection once the set holds
/// more than this many times the count (`SRANDMEMBER_SUB_STRATEGY_MUL`),
/// and by shuffling positions otherwise.
const SRANDMEMBER_SHUFFLE_RATIO: usize = 3;
/// Draws one negative-count SRANDMEMBER makes at most: a reply that large
/// is already some hundred megabytes. (Redis has no bound and relies on the
/// client's output buffer limit, which is off by default for normal
/// clients.)
const SRANDMEMBER_DRAWS_MAX: u64 = 1 << 24;
const SRANDMEMBER_DRAWS_ERROR: &str =
    "ERR value is out of range, value must between -16777216 and 9223372036854775807";

/// `SPOP key [count]`
pub fn spop(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match args.len() {
        2 => spop_one(ctx, args[1]),
        3 => spop_count(ctx, args[1], args[2]),
        _ => ctx.out.error(errors::SYNTAX),
    }
}

fn spop_one(ctx: &mut ShardCtx<'_>, key: &[u8]) {
    let mut draws = Draws::new(ctx);
    let set = match set_of(ctx.shard, ctx.db, ctx.now_ms, key, Lookup::Write) {
        Err(WrongType) => return ctx.out.error(errors::WRONGTYPE),
        Ok(None) => return ctx.out.null(),
        Ok(Some(set)) => set,
    };
    let index = draws.below(set.len());
    reply_member(ctx.out, set.get(index));
    set.remove_at(index);
    if set.is_empty() {
        ctx.remove(key);
    }
}

/// Parses a count that must be 0 or more, with Redis's error text for
/// anything else (`getPositiveLongFromObjectOrReply`).
fn positive_count(arg: &[u8], error: &[u8], out: &mut ReplyEncoder) -> Option<usize> {
    match shoal_protocol::parse_i64(arg) {
        Some(count) if count >= 0 => Some(count as usize),
        _ => {
            out.error(error);
            None
        }
    }
}

fn spop_count(ctx: &mut ShardCtx<'_>, key: &[u8], count: &[u8]) {
    let Some(count) = positive_count(
        count,
        b"ERR value is out of range, must be positive",
        ctx.out,
    ) else {
        return;
    };
    let mut draws = Draws::new(ctx);
    let limit = ctx.shard.limits.set_max_intset_entries;
    let set = match set_of(ctx.shard, ctx.db, ctx.now_ms, key, Lookup::Write) {
        Err(WrongType) => return ctx.out.error(errors::WRONGTYPE),
        Ok(None) => return ctx.out.set(0),
        Ok(Some(set)) => set,
    };
    let size = set.len();
    if count == 0 {
        return ctx.out.set(0);
    }
    if count >= size {
        // The whole set, replied as SUNION would (which looks it up again).
        union_diff_generic(ctx, &[key], Output::Reply, Combine::Union);
        ctx.remove(key);
        return;
    }
    ctx.out.set(count);
    let remaining = size - count;
    if remaining * SPOP_REBUILD_RATIO > count {
        for _ in 0..count {
            let index = draws.below(set.len());
            reply_member(ctx.out, set.get(index));
            set.remove_at(index);
        }
        return;
    }
    // Few stay: move those to a new set and reply with what is left.
    let mut kept: Option<SetValue> = None;
    for _ in 0..remaining {
        let index = draws.below(set.len());
        let member = set.get(index);
        kept.get_or_insert_with(|| SetValue::for_member(member))
            .add(member, limit);
        set.remove_at(index);
    }
    reply_set_members(ctx.out, set);
    *set = kept.expect("at least one member stays: count < size");
}

/// Writes every member of `set`, without a header.
fn reply_set_members(out: &mut ReplyEncoder, set: &SetValue) {
    set.iter().for_each(|member| reply_member(out, member));
}

/// `SRANDMEMBER key [count]`
pub fn srandmember(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match args.len() {
        2 => srandmember_one(ctx, args[1]),
        3 => srandmember_count(ctx, args[1], args[2]),
        _ => ctx.out.error(errors::SYNTAX),
    }
}

fn srandmember_one(ctx: &mut ShardCtx<'_>, key: &[u8]) {
    let mut draws = Draws::new(ctx);
    match set_of(ctx.shard, ctx.db, ctx.now_ms, key, Lookup::Read) {
        Err(WrongType) => ctx.out.error(errors::WRONGTYPE),
        Ok(None) => ctx.out.null(),
        Ok(Some(set)) => reply_member(ctx.out, set.get(draws.below(set.len()))),
    }
}

fn srandmember_count(ctx: &mut ShardCtx<'_>, key: &[u8], count: &[u8]) {
    let count = match int_arg(count) {
        Err(error) => return ctx.out.error(error),
        Ok(i64::MIN) => {
            return ctx.out.error(
                b"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            )
        }
        Ok(count) => count,
    };
    let mut draws = Draws::new(ctx);
    let set = match set_of(ctx.shard, ctx.db, ctx.now_ms, key, Lookup::Read) {
        Err(WrongType) => return ctx.out.error(errors::WRONGTYPE),
        Ok(None) => return ctx.out.array(0),
        Ok(Some(set)) => &*set,
    };
    let out = &mut *ctx.out;
    if count < 0 && count.unsigned_abs() > SRANDMEMBER_DRAWS_MAX {
        return out.error(SRANDMEMBER_DRAWS_ERROR.as_bytes());
    }
    let size = set.len();
    let wanted = count.unsigned_abs() as usize;
    if count < 0 || count == 1 {
        // Repeats allowed: independent draws.
        out.array(wanted);
        for _ in 0..wanted {
            reply_member(out, set.get(draws.below(size)));
        }
    } else if wanted >= size {
        out.array(size);
        reply_set_members(out, set);
    } else {
        out.array(wanted);
        for index in distinct_positions(&mut draws, size, wanted) {
            reply_member(out, set.get(index));
        }
    }
}

/// `wanted` distinct positions below `size` (`wanted < size`), in random
/// order.
fn distinct_positions(draws: &mut Draws, size: usize, wanted: usize) -> Vec<usize> {
    debug_assert!(wanted < size);
    if wanted * SRANDMEMBER_SHUFFLE_RATIO > size {
        // Close to the whole set: shuffle the first `wanted` positions in.
        let mut positions: Vec<usize> = (0..size).collect();
        for slot in 0..wanted {
            let pick = slot + draws.below(size - slot);
            positions.swap(slot, pick);
        }
        positions.truncate(wanted);
        return positions;
    }
    let mut chosen: ahash::AHashSet<usize> = ahash::AHashSet::with_capacity(wanted);
    let mut positions = Vec::with_capacity(wanted);
    while positions.len() < wanted {
        let position = draws.below(size);
        if chosen.insert(position) {
            positions.push(position);
        }
    }
    positions
}

/* ---------------------------------------------------------------------------
 * Set algebra: SMEMBERS, SINTER, SINTERCARD, SUNION, SDIFF and STORE forms
 * ------------------------------------------------------------------------- */

/// `SMEMBERS key` (Redis 7.0 serves it as a one-key SINTER).
pub fn smembers(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    inter_generic(ctx, &args[1..2], Output::Reply);
}

/// `SINTER key [key ...]`
pub fn sinter(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    inter_generic(ctx, &args[1..], Output::Reply);
}

/// `SINTERSTORE destination key [key ...]`
pub fn sinterstore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    inter_generic(ctx, &args[2..], Output::Store(args[1]));
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`
pub fn sintercard(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let numkeys = match shoal_protocol::parse_i64(args[1]) {
        Some(numkeys) if numkeys > 0 => numkeys as u64,
        _ => return ctx.out.error(b"ERR numkeys should be greater than 0"),
    };
    if numkeys > (args.len() - 2) as u64 {
        return ctx
            .out
            .error(b"ERR Number of keys can't be greater than number of args");
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0;
    let mut index = keys_end;
    while index < args.len() {
        if is(args[index], "LIMIT") && index + 1 < args.len() {
            let error = b"ERR LIMIT can't be negative";
            let Some(parsed) = positive_count(args[index + 1], error, ctx.out) else {
                return;
            };
            limit = parsed;
            index += 2;
        } else {
            return ctx.out.error(errors::SYNTAX);
        }
    }
    inter_generic(ctx, &args[2..keys_end], Output::Count(limit));
}

/// `SUNION key [key ...]`
pub fn sunion(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    union_diff_generic(ctx, &args[1..], Output::Reply, Combine::Union);
}

/// `SUNIONSTORE destination key [key ...]`
pub fn sunionstore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    union_diff_generic(ctx, &args[2..], Output::Store(args[1]), Combine::Union);
}

/// `SDIFF key [key ...]`
pub fn sdiff(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    union_diff_generic(ctx, &args[1..], Output::Reply, Combine::Diff);
}

/// `SDIFFSTORE destination key [key ...]`
pub fn sdiffstore(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    union_diff_generic(ctx, &args[2..], Output::Store(args[1]), Combine::Diff);
}

/* ---------------------------------------------------------------------------
 * SSCAN
 * ------------------------------------------------------------------------- */

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`: an intset comes whole
/// in one call, as in Redis; a hash table is walked by position downwards
/// (the cursor is the next position, 0 when done), so every member present
/// for the whole scan comes at least once.
pub fn sscan(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let Some(cursor) = scan::parse_cursor(args[2]) else {
        return ctx.out.error(scan::INVALID_CURSOR);
    };
    let set = match set_of(ctx.shard, ctx.db, ctx.now_ms, args[1], Lookup::Read) {
        Err(WrongType) => return ctx.out.error(errors::WRONGTYPE),
        Ok(None) => {
            ctx.out.array(2);
            ctx.out.bulk(b"0");
            return ctx.out.array(0);
        }
        Ok(Some(set)) => &*set,
    };
    let options = match scan::parse_options(&args[3..], |_, _| false) {
        Ok(options) => options,
        Err(error) => return ctx.out.error(error),
    };
    let matches = |bytes: &[u8]| {
        options
            .pattern
            .is_none_or(|pattern| glob_match(pattern, bytes, false))
    };
    let mut found: Vec<Member<'_>> = Vec::new();
    let next = match set.as_table() {
        None => {
            found.extend(set.iter().filter(|member| member.with_bytes(matches)));
            0
        }
        Some(table) => {
            let start = match cursor {
                0 => table.len(),
                cursor => usize::try_from(cursor).unwrap_or(usize::MAX),
            };
            table.scan_down(start, options.count, |bytes| {
                if matches(bytes) {
                    found.push(Member::Bytes(bytes));
                }
            })
        }
    };
    let out = &mut *ctx.out;
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(found.len());
    found.iter().for_each(|&member| reply_member(out, member));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_positions_are_distinct_and_in_range() {
        let mut draws = Draws(7);
        for (size, wanted) in [(10, 9), (10, 1), (1000, 10), (1000, 400), (3, 2)] {
            let positions = distinct_positions(&mut draws, size, wanted);
            assert_eq!(positions.len(), wanted);
            let unique: std::collections::BTreeSet<_> = positions.iter().copied().collect();
            assert_eq!(unique.len(), wanted);
            assert!(positions.iter().all(|&position| position < size));
        }
    }

    #[test]
    fn the_draws_error_names_the_bound() {
        let bound = format!("-{SRANDMEMBER_DRAWS_MAX} ");
        assert!(SRANDMEMBER_DRAWS_ERROR.contains(&bound));
    }

    #[test]
    fn draws_cover_their_range() {
        let mut draws = Draws(1);
        let mut seen = [false; 13];
        for _ in 0..1000 {
            seen[draws.below(13)] = true;
        }
        assert!(seen.iter().all(|&hit| hit));
    }

    fn set_of_texts(texts: &[&str]) -> SetValue {
        let mut set = SetValue::new_intset();
        for text in texts {
            set.add(Member::Bytes(text.as_bytes()), 512);
        }
        set
    }

    #[test]
    fn difference_picks_redis_algorithm_and_so_its_encoding() {
        // 600 integers, minus two sets of 100: the cheaper algorithm copies
        // the first set (a hash table past 512) and removes, so the 400
        // left stay a hash table, as in Redis.
        let first: Vec<String> = (0..600).map(|n| n.to_string()).collect();
        let first = set_of_texts(&first.iter().map(String::as_str).collect::<Vec<_>>());
        let low: Vec<String> = (0..100).map(|n| n.to_string()).collect();
        let low = set_of_texts(&low.iter().map(String::as_str).collect::<Vec<_>>());
        let high: Vec<String> = (100..200).map(|n| n.to_string()).collect();
        let high = set_of_texts(&high.iter().map(String::as_str).collect::<Vec<_>>());
        let keys: [&[u8]; 3] = [b"a", b"b", b"c"];
        let result = difference(&keys, &[Some(&first), Some(&low), Some(&high)], 512);
        assert_eq!(result.len(), 400);
        assert_eq!(result.encoding_name(), "hashtable");
        // One set of 590 to subtract: walking the first set is cheaper, and
        // the ten left make an intset.
        let most: Vec<String> = (0..590).map(|n| n.to_string()).collect();
        let most = set_of_texts(&most.iter().map(String::as_str).collect::<Vec<_>>());
        let result = difference(&keys[..2], &[Some(&first), Some(&most)], 512);
        assert_eq!(result.len(), 10);
        assert_eq!(result.encoding_name(), "intset");
        // The first key again empties the result; a missing first key too.
        assert!(difference(&[b"a", b"a"], &[Some(&first), Some(&first)], 512).is_empty());
        assert!(difference(&keys[..2], &[None, Some(&first)], 512).is_empty());
    }

    #[test]
    fn intersection_follows_the_smallest_set() {
        let small = set_of_texts(&["3", "1", "2"]);
        let large = set_of_texts(&["1", "2", "3", "4", "x"]);
        let mut sets = vec![&large, &small];
        let members = intersection(&mut sets, 0);
        assert_eq!(members, [Member::Int(1), Member::Int(2), Member::Int(3)]);
        let mut sets = vec![&large, &small];
        assert_eq!(intersection(&mut sets, 2).len(), 2);
    }
}
