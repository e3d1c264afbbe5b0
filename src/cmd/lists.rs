//! List commands, as Redis's `t_list.c`.
//!
//! The blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) are built
//! elsewhere on top of this file: [`pop_first_nonempty`], [`move_element`]
//! and [`mpop`] run the bodies of their non-blocking forms and say, without
//! replying, when there was nothing to pop, so that a blocking variant can
//! wait instead; [`ListValue`]'s `push`, `pop` and `len` are the type API.

use shoal_protocol::ReplyEncoder;
use smallvec::SmallVec;

use super::args::{int_arg, is};
use super::ctx::{errors, ShardCtx};
use super::table::{cmd, CommandSpec, Exec};
use crate::shard::{Lookup as Access, Value};
use crate::types::list::ListValue;

/* ---------------------------------------------------------------------------
 * Command table
 * ------------------------------------------------------------------------- */

const WF: &[&str] = &["write", "denyoom", "fast"];
const W: &[&str] = &["write", "denyoom"];
const WN: &[&str] = &["write"];
const WNF: &[&str] = &["write", "fast"];
const R: &[&str] = &["readonly"];
const RF: &[&str] = &["readonly", "fast"];
const WMOVABLE: &[&str] = &["write", "movablekeys"];
const LWF: &[&str] = &["@write", "@list", "@fast"];
const LW: &[&str] = &["@write", "@list", "@slow"];
const LRF: &[&str] = &["@read", "@list", "@fast"];
const LR: &[&str] = &["@read", "@list", "@slow"];

use Exec::Shard as S;

/// This family's rows of the command table.
pub const COMMANDS: &[CommandSpec] = &[
    cmd!("lpush", -3, WF, 1, 1, 1, LWF, S(lpush), "list", "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
    cmd!("rpush", -3, WF, 1, 1, 1, LWF, S(rpush), "list", "Appends one or more elements to a list. Creates the key if it doesn't exist."),
    cmd!("lpushx", -3, WF, 1, 1, 1, LWF, S(lpushx), "list", "Prepends one or more elements to a list only when the list exists."),
    cmd!("rpushx", -3, WF, 1, 1, 1, LWF, S(rpushx), "list", "Appends an element to a list only when the list exists."),
    cmd!("lpop", -2, WNF, 1, 1, 1, LWF, S(lpop), "list", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."),
    cmd!("rpop", -2, WNF, 1, 1, 1, LWF, S(rpop), "list", "Returns and removes the last elements of a list. Deletes the list if the last element was popped."),
    cmd!("llen", 2, RF, 1, 1, 1, LRF, S(llen), "list", "Returns the length of a list."),
    cmd!("lrange", 4, R, 1, 1, 1, LR, S(lrange), "list", "Returns a range of elements from a list."),
    cmd!("lindex", 3, R, 1, 1, 1, LR, S(lindex), "list", "Returns an element from a list by its index."),
    cmd!("lset", 4, W, 1, 1, 1, LW, S(lset), "list", "Sets the value of an element in a list by its index."),
    cmd!("linsert", 5, W, 1, 1, 1, LW, S(linsert), "list", "Inserts an element before or after another element in a list."),
    cmd!("lrem", 4, WN, 1, 1, 1, LW, S(lrem), "list", "Removes elements from a list. Deletes the list if the last element was removed."),
    cmd!("ltrim", 4, WN, 1, 1, 1, LW, S(ltrim), "list", "Removes elements from both ends a list. Deletes the list if all elements were trimmed."),
    cmd!("lpos", -3, R, 1, 1, 1, LR, S(lpos), "list", "Returns the index of matching elements in a list."),
    cmd!("lmove", 5, W, 1, 2, 1, LW, S(lmove), "list", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."),
    cmd!("rpoplpush", 3, W, 1, 2, 1, LW, S(rpoplpush), "list", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."),
    cmd!("lmpop", -4, WMOVABLE, 0, 0, 0, LW, S(lmpop), "list", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", keys = lmpop_keys),
];

/// LMPOP's keys: `numkeys` of them after the count at 1.
fn lmpop_keys(args: &[&[u8]]) -> SmallVec<[usize; 8]> {
    super::keys_after_numkeys(args, 1)
}

/* ---------------------------------------------------------------------------
 * Lookups and shared replies
 * ------------------------------------------------------------------------- */

const NO_SUCH_KEY: &[u8] = errors::NO_SUCH_KEY;
const INDEX_OUT_OF_RANGE: &[u8] = b"ERR index out of range";
const MUST_BE_POSITIVE: &[u8] = b"ERR value is out of range, must be positive";
const RANK_ZERO: &[u8] = b"ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const COUNT_NEGATIVE: &[u8] = b"ERR COUNT can't be negative";
const MAXLEN_NEGATIVE: &[u8] = b"ERR MAXLEN can't be negative";
const NUMKEYS_NOT_POSITIVE: &[u8] = b"ERR numkeys should be greater than 0";
const MPOP_COUNT_NOT_POSITIVE: &[u8] = b"ERR count should be greater than 0";

/// What a lookup found, with the reply encoder beside it (both borrow the
/// context).
enum Found<'c> {
    Missing(&'c mut ReplyEncoder),
    List(&'c mut ListValue, &'c mut ReplyEncoder),
}

/// Looks up the list at `key`; when the key holds another type, replies
/// WRONGTYPE and returns `None`.
fn find<'c>(ctx: &'c mut ShardCtx<'_>, key: &[u8], access: Access) -> Option<Found<'c>> {
    let ShardCtx {
        shard,
        db,
        now_ms,
        out,
        ..
    } = ctx;
    match shard.lookup(*db, key, *now_ms, access) {
        None => Some(Found::Missing(out)),
        Some(entry) => match &mut entry.value {
            Value::List(list) => Some(Found::List(list, out)),
            _ => {
                out.error(errors::WRONGTYPE);
                None
            }
        },
    }
}

/// The list at `key` for an edit that follows a successful [`find`].
fn list_mut<'c>(ctx: &'c mut ShardCtx<'_>, key: &[u8]) -> Option<&'c mut ListValue> {
    match ctx.entry(key).map(|entry| &mut entry.value) {
        Some(Value::List(list)) => Some(&mut **list),
        _ => None,
    }
}

/// Removes the key of a list a command emptied, as Redis does.
fn remove_if_emptied(ctx: &mut ShardCtx<'_>, key: &[u8]) {
    if list_mut(ctx, key).is_some_and(|list| list.is_empty()) {
        ctx.remove(key);
    }
}

/// Stores a new list under `key` holding `elements` pushed in order.
fn create(ctx: &mut ShardCtx<'_>, key: &[u8], left: bool, elements: &[&[u8]]) -> usize {
    let mut list = ListValue::new(ctx.shard.limits.list_max_listpack_size);
    list.push_many(left, elements);
    let len = list.len();
    ctx.set(key, Value::List(Box::new(list)), false);
    len
}

/// Redis's range rule (LRANGE, LTRIM): negative indexes count from the
/// tail, the start is clamped to 0 and the end to the last element; the
/// range as (first index, length), or `None` when empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    let end = end.min(len - 1);
    Some((start as usize, (end - start + 1) as usize))
}

/// Replies with the `count` elements at the head (`left`) or the tail of
/// the list, tail first for the tail, and removes them.
fn pop_range_reply(out: &mut ReplyEncoder, list: &mut ListValue, left: bool, count: usize) {
    let count = count.min(list.len());
    out.array(count);
    if left {
        list.iter()
            .take(count)
            .for_each(|element| out.bulk(element));
        list.remove_range(0, count);
    } else {
        list.iter_rev()
            .take(count)
            .for_each(|element| out.bulk(element));
        list.remove_range(list.len() - count, count);
    }
}

/// `LEFT` or `RIGHT`: whether it is the head.
pub fn parse_side(arg: &[u8]) -> Option<bool> {
    if is(arg, "LEFT") {
        Some(true)
    } else if is(arg, "RIGHT") {
        Some(false)
    } else {
        None
    }
}

/// A list index from client text: negative counts from the tail. `None`
/// when out of range.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let index = if index < 0 {
        (len as i64).checked_add(index)?
    } else {
        index
    };
    (0..len as i64).contains(&index).then_some(index as usize)
}

/* ---------------------------------------------------------------------------
 * Bodies shared with the blocking commands
 * ------------------------------------------------------------------------- */

/// BLPOP's and BRPOP's body when they need not wait: pops one element from
/// the head (`left`) or tail of the first non-empty list among `keys` and
/// replies `[key, element]`. Returns false, having replied nothing, when
/// every key is missing; true once it replied (the pop, or WRONGTYPE for
/// the first key of another type before any list).
pub fn pop_first_nonempty(ctx: &mut ShardCtx<'_>, keys: &[&[u8]], left: bool) -> bool {
    for key in keys {
        match find(ctx, key, Access::Write) {
            None => return true,
            Some(Found::Missing(_)) => continue,
            Some(Found::List(list, out)) => {
                let Some(element) = list.pop(left) else {
                    continue;
                };
                out.array(2);
                out.bulk(key);
                out.bulk(&element);
                remove_if_emptied(ctx, key);
                return true;
            }
        }
    }
    false
}

/// LMPOP's body (and BLMPOP's when it need not wait): pops up to `count`
/// elements from the head (`left`) or tail of the first non-empty list
/// among `keys` and replies `[key, [elements]]`. Returns false, having
/// replied nothing, when every key is missing; true once it replied.
pub fn mpop(ctx: &mut ShardCtx<'_>, keys: &[&[u8]], left: bool, count: usize) -> bool {
    assert!(count > 0, "the caller refused a count of zero");
    for key in keys {
        match find(ctx, key, Access::Write) {
            None => return true,
            Some(Found::Missing(_)) => continue,
            Some(Found::List(list, _)) if list.is_empty() => continue,
            Some(Found::List(list, out)) => {
                out.array(2);
                out.bulk(key);
                pop_range_reply(out, list, left, count);
                remove_if_emptied(ctx, key);
                return true;
            }
        }
    }
    false
}

/// LMOVE's body (and BLMOVE's, BRPOPLPUSH's when they need not wait):
/// pops from the head (`from_left`) or tail of `source`, pushes onto the
/// head (`to_left`) or tail of `destination` (created if missing; it may
/// be `source` itself) and replies with the element. Returns false, having
/// replied nothing, when `source` is missing; true once it replied (the
/// element, or WRONGTYPE for either key, in which case nothing moved).
pub fn move_element(
    ctx: &mut ShardCtx<'_>,
    source: &[u8],
    destination: &[u8],
    from_left: bool,
    to_left: bool,
) -> bool {
    match find(ctx, source, Access::Write) {
        None => return true,
        Some(Found::Missing(_)) => return false,
        Some(Found::List(list, _)) if list.is_empty() => return false,
        Some(Found::List(..)) => {}
    }
    let destination_exists = match find(ctx, destination, Access::Write) {
        None => return true,
        Some(Found::Missing(_)) => false,
        Some(Found::List(..)) => true,
    };
    let element = list_mut(ctx, source)
        .and_then(|list| list.pop(from_left))
        .expect("the source list was found non-empty above");
    // The push comes before the emptied source is removed: with source and
    // destination the same key, a list of one element rotates in place.
    if destination_exists {
        list_mut(ctx, destination)
            .expect("the destination list was found above")
            .push(to_left, &element);
    } else {
        create(ctx, destination, to_left, &[&element]);
    }
    remove_if_emptied(ctx, source);
    ctx.out.bulk(&element);
    true
}

/* ---------------------------------------------------------------------------
 * Pushes and pops
 * ------------------------------------------------------------------------- */

/// The body of LPUSH, RPUSH, LPUSHX and RPUSHX (`only_existing`).
fn push_generic(ctx: &mut ShardCtx<'_>, args: &[&[u8]], left: bool, only_existing: bool) {
    let key = args[1];
    let elements = &args[2..];
    match find(ctx, key, Access::Write) {
        None => {}
        Some(Found::List(list, out)) => {
            list.push_many(left, elements);
            out.integer(list.len() as i64);
        }
        Some(Found::Missing(out)) if only_existing => out.integer(0),
        Some(Found::Missing(_)) => {
            let len = create(ctx, key, left, elements);
            ctx.out.integer(len as i64);
        }
    }
}

/// `LPUSH key element [element ...]`
pub fn lpush(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    push_generic(ctx, args, true, false);
}

/// `RPUSH key element [element ...]`
pub fn rpush(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    push_generic(ctx, args, false, false);
}

/// `LPUSHX key element [element ...]`
pub fn lpushx(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    push_generic(ctx, args, true, true);
}

/// `RPUSHX key element [element ...]`
pub fn rpushx(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    push_generic(ctx, args, false, true);
}

/// The body of LPOP and RPOP: one element as a bulk string, or with a
/// count an array of up to that many.
fn pop_generic(ctx: &mut ShardCtx<'_>, args: &[&[u8]], left: bool, command: &str) {
    if args.len() > 3 {
        let message = format!("ERR wrong number of arguments for '{command}' command");
        return ctx.out.error(message.as_bytes());
    }
    let count = match args.get(2).map(|arg| shoal_protocol::parse_i64(arg)) {
        None => None,
        Some(Some(count)) if count >= 0 => Some(count as u64),
        Some(_) => return ctx.out.error(MUST_BE_POSITIVE),
    };
    let key = args[1];
    match find(ctx, key, Access::Write) {
        None => {}
        Some(Found::Missing(out)) if count.is_some() => out.null_array(),
        Some(Found::Missing(out)) => out.null(),
        Some(Found::List(_, out)) if count == Some(0) => out.array(0),
        Some(Found::List(list, out)) => {
            match count {
                None => match list.pop(left) {
                    Some(element) => out.bulk(&element),
                    None => out.null(),
                },
                Some(count) => {
                    let count = usize::try_from(count).unwrap_or(usize::MAX);
                    pop_range_reply(out, list, left, count);
                }
            }
            remove_if_emptied(ctx, key);
        }
    }
}

/// `LPOP key [count]`
pub fn lpop(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    pop_generic(ctx, args, true, "lpop");
}

/// `RPOP key [count]`
pub fn rpop(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    pop_generic(ctx, args, false, "rpop");
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`
pub fn lmove(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let (Some(from_left), Some(to_left)) = (parse_side(args[3]), parse_side(args[4])) else {
        return ctx.out.error(errors::SYNTAX);
    };
    if !move_element(ctx, args[1], args[2], from_left, to_left) {
        ctx.out.null();
    }
}

/// `RPOPLPUSH source destination`
pub fn rpoplpush(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    if !move_element(ctx, args[1], args[2], false, true) {
        ctx.out.null();
    }
}

/// LMPOP's (and BLMPOP's) parsed arguments.
pub struct MpopArgs {
    /// Index of the first key.
    pub first_key: usize,
    /// Number of keys.
    pub numkeys: usize,
    /// Pop from the head (LEFT) rather than the tail.
    pub left: bool,
    /// Elements to pop at most.
    pub count: usize,
}

/// Parses `numkeys key [key ...] LEFT|RIGHT [COUNT count]` from `args[1]`
/// on, with Redis's checks in Redis's order; the error text on failure.
pub fn parse_mpop(args: &[&[u8]]) -> Result<MpopArgs, &'static [u8]> {
    let numkeys = match shoal_protocol::parse_i64(args[1]) {
        Some(numkeys) if numkeys > 0 => numkeys as u64,
        _ => return Err(NUMKEYS_NOT_POSITIVE),
    };
    let side_at = match numkeys.checked_add(2) {
        Some(side_at) if side_at < args.len() as u64 => side_at as usize,
        _ => return Err(errors::SYNTAX),
    };
    let left = parse_side(args[side_at]).ok_or(errors::SYNTAX)?;
    let mut count = None;
    let mut index = side_at + 1;
    while index < args.len() {
        let has_value = index + 1 < args.len();
        if count.is_none() && is(args[index], "COUNT") && has_value {
            count = match shoal_protocol::parse_i64(args[index + 1]) {
                Some(count) if count > 0 => Some(usize::try_from(count).unwrap_or(usize::MAX)),
                _ => return Err(MPOP_COUNT_NOT_POSITIVE),
            };
            index += 2;
        } else {
            return Err(errors::SYNTAX);
        }
    }
    Ok(MpopArgs {
        first_key: 2,
        numkeys: side_at - 2,
        left,
        count: count.unwrap_or(1),
    })
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`
pub fn lmpop(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let parsed = match parse_mpop(args) {
        Ok(parsed) => parsed,
        Err(message) => return ctx.out.error(message),
    };
    let keys = &args[parsed.first_key..parsed.first_key + parsed.numkeys];
    if !mpop(ctx, keys, parsed.left, parsed.count) {
        ctx.out.null_array();
    }
}

/* ---------------------------------------------------------------------------
 * Reads
 * ------------------------------------------------------------------------- */

/// `LLEN key`
pub fn llen(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match find(ctx, args[1], Access::Read) {
        None => {}
        Some(Found::Missing(out)) => out.integer(0),
        Some(Found::List(list, out)) => out.integer(list.len() as i64),
    }
}

/// Parses two integer arguments (LRANGE's and LTRIM's start and end).
fn int_pair(ctx: &mut ShardCtx<'_>, first: &[u8], second: &[u8]) -> Option<(i64, i64)> {
    match (int_arg(first), int_arg(second)) {
        (Ok(first), Ok(second)) => Some((first, second)),
        (Err(error), _) | (_, Err(error)) => {
            ctx.out.error(error);
            None
        }
    }
}

/// `LRANGE key start stop`
pub fn lrange(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let Some((start, end)) = int_pair(ctx, args[2], args[3]) else {
        return;
    };
    match find(ctx, args[1], Access::Read) {
        None => {}
        Some(Found::Missing(out)) => out.array(0),
        Some(Found::List(list, out)) => match clamp_range(start, end, list.len()) {
            None => out.array(0),
            Some((first, count)) => {
                out.array(count);
                list.iter_from(first)
                    .take(count)
                    .for_each(|element| out.bulk(element));
            }
        },
    }
}

/// `LINDEX key index`
pub fn lindex(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match find(ctx, args[1], Access::Read) {
        None => {}
        Some(Found::Missing(out)) => out.null(),
        Some(Found::List(list, out)) => match int_arg(args[2]) {
            Err(error) => out.error(error),
            Ok(index) => match resolve_index(index, list.len()).and_then(|at| list.get(at)) {
                Some(element) => out.bulk(element),
                None => out.null(),
            },
        },
    }
}

/// LPOS's options.
struct LposOptions {
    /// Which match is the first reported: 1 the first from the head, -1
    /// the first from the tail.
    rank: i64,
    /// How many matches to report (0: all); `None` when not given (a single
    /// index, not an array, is the reply).
    count: Option<i64>,
    /// How many elements to compare at most (0: all).
    maxlen: i64,
}

/// Parses LPOS's `RANK`, `COUNT` and `MAXLEN` as Redis does: in order, each
/// error as it comes, a later repeat replacing an earlier value.
fn parse_lpos(options: &[&[u8]]) -> Result<LposOptions, &'static [u8]> {
    let mut parsed = LposOptions {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut index = 0;
    while index < options.len() {
        let option = options[index];
        let Some(value) = options.get(index + 1) else {
            return Err(errors::SYNTAX);
        };
        let non_negative = |message| match shoal_protocol::parse_i64(value) {
            Some(value) if value >= 0 => Ok(value),
            _ => Err(message),
        };
        if is(option, "RANK") {
            parsed.rank = int_arg(value)?;
            if parsed.rank == 0 {
                return Err(RANK_ZERO);
            }
        } else if is(option, "COUNT") {
            parsed.count = Some(non_negative(COUNT_NEGATIVE)?);
        } else if is(option, "MAXLEN") {
            parsed.maxlen = non_negative(MAXLEN_NEGATIVE)?;
        } else {
            return Err(errors::SYNTAX);
        }
        index += 2;
    }
    Ok(parsed)
}

/// The indexes LPOS reports, walking `elements` (from the head, or from
/// the tail when `from_tail`). Redis's arithmetic is kept exactly, its
/// wrap-arounds included: `RANK -9223372036854775808` stays negative once
/// negated, which makes every match qualify.
fn lpos_matches<'a>(
    elements: impl Iterator<Item = &'a [u8]>,
    needle: &[u8],
    options: &LposOptions,
    from_tail: bool,
    len: usize,
) -> Vec<i64> {
    let rank = if from_tail {
        options.rank.wrapping_neg()
    } else {
        options.rank
    };
    let count = options.count.unwrap_or(1).max(0);
    let mut found = Vec::new();
    let mut matches: i64 = 0;
    for (index, element) in elements.enumerate() {
        if options.maxlen != 0 && index as i64 >= options.maxlen {
            break;
        }
        if element != needle {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(if from_tail {
            (len - index - 1) as i64
        } else {
            index as i64
        });
        let enough = count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count;
        if options.count.is_none() || enough {
            break;
        }
    }
    found
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`
pub fn lpos(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let options = match parse_lpos(&args[3..]) {
        Ok(options) => options,
        Err(message) => return ctx.out.error(message),
    };
    let needle = args[2];
    let (list, out) = match find(ctx, args[1], Access::Read) {
        None => return,
        Some(Found::Missing(out)) if options.count.is_some() => return out.array(0),
        Some(Found::Missing(out)) => return out.null(),
        Some(Found::List(list, out)) => (list, out),
    };
    let from_tail = options.rank < 0;
    let found = if from_tail {
        lpos_matches(list.iter_rev(), needle, &options, true, list.len())
    } else {
        lpos_matches(list.iter(), needle, &options, false, list.len())
    };
    if options.count.is_some() {
        out.array(found.len());
        found.iter().for_each(|&index| out.integer(index));
    } else {
        match found.first() {
            Some(&index) => out.integer(index),
            None => out.null(),
        }
    }
}

/* ---------------------------------------------------------------------------
 * Edits in the middle
 * ------------------------------------------------------------------------- */

/// `LSET key index element`
pub fn lset(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    match find(ctx, args[1], Access::Write) {
        None => {}
        Some(Found::Missing(out)) => out.error(NO_SUCH_KEY),
        Some(Found::List(list, out)) => match int_arg(args[2]) {
            Err(error) => out.error(error),
            Ok(index) => match resolve_index(index, list.len()) {
                Some(at) if list.set(at, args[3]) => out.ok(),
                _ => out.error(INDEX_OUT_OF_RANGE),
            },
        },
    }
}

/// `LINSERT key BEFORE|AFTER pivot element`
pub fn linsert(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let after = if is(args[2], "AFTER") {
        true
    } else if is(args[2], "BEFORE") {
        false
    } else {
        return ctx.out.error(errors::SYNTAX);
    };
    match find(ctx, args[1], Access::Write) {
        None => {}
        Some(Found::Missing(out)) => out.integer(0),
        Some(Found::List(list, out)) => match list.position(args[3]) {
            None => out.integer(-1),
            Some(at) => {
                list.insert(at + usize::from(after), args[4]);
                out.integer(list.len() as i64);
            }
        },
    }
}

/// `LREM key count element`
pub fn lrem(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let count = match int_arg(args[2]) {
        Ok(count) => count,
        Err(error) => return ctx.out.error(error),
    };
    let key = args[1];
    match find(ctx, key, Access::Write) {
        None => {}
        Some(Found::Missing(out)) => out.integer(0),
        Some(Found::List(list, out)) => {
            let removed = list.remove_matching(args[3], count.unsigned_abs(), count < 0);
            out.integer(removed as i64);
            remove_if_emptied(ctx, key);
        }
    }
}

/// `LTRIM key start stop`
pub fn ltrim(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let Some((start, end)) = int_pair(ctx, args[2], args[3]) else {
        return;
    };
    let key = args[1];
    match find(ctx, key, Access::Write) {
        None => {}
        Some(Found::Missing(out)) => out.ok(),
        Some(Found::List(list, out)) => {
            let len = list.len();
            match clamp_range(start, end, len) {
                None => list.remove_range(0, len),
                Some((first, count)) => {
                    list.remove_range(first + count, len - first - count);
                    list.remove_range(0, first);
                }
            }
            out.ok();
            remove_if_emptied(ctx, key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 5)));
        assert_eq!(clamp_range(-100, 100, 5), Some((0, 5)));
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(5, 10, 5), None);
        assert_eq!(clamp_range(-2, -1, 5), Some((3, 2)));
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 5), Some((0, 5)));
        assert_eq!(clamp_range(0, i64::MIN, 5), None);
        assert_eq!(clamp_range(0, 0, 0), None);
    }

    #[test]
    fn indexes_count_from_either_end() {
        assert_eq!(resolve_index(0, 3), Some(0));
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(-3, 3), Some(0));
        assert_eq!(resolve_index(-4, 3), None);
        assert_eq!(resolve_index(3, 3), None);
        assert_eq!(resolve_index(i64::MIN, 3), None);
    }

    #[test]
    fn lmpop_arguments_parse_in_redis_order() {
        let args: Vec<&[u8]> = vec![b"LMPOP", b"2", b"a", b"b", b"right", b"COUNT", b"3"];
        let parsed = parse_mpop(&args).expect("valid");
        assert_eq!((parsed.first_key, parsed.numkeys), (2, 2));
        assert!(!parsed.left);
        assert_eq!(parsed.count, 3);
        let args: Vec<&[u8]> = vec![b"LMPOP", b"0", b"a", b"left"];
        assert_eq!(parse_mpop(&args).err(), Some(NUMKEYS_NOT_POSITIVE));
        let args: Vec<&[u8]> = vec![b"LMPOP", b"3", b"a", b"left"];
        assert_eq!(parse_mpop(&args).err(), Some(errors::SYNTAX));
        let args: Vec<&[u8]> = vec![b"LMPOP", b"9223372036854775807", b"a", b"left"];
        assert_eq!(parse_mpop(&args).err(), Some(errors::SYNTAX));
        let args: Vec<&[u8]> = vec![b"LMPOP", b"1", b"a", b"left", b"COUNT", b"0"];
        assert_eq!(parse_mpop(&args).err(), Some(MPOP_COUNT_NOT_POSITIVE));
        let args: Vec<&[u8]> = vec![
            b"LMPOP", b"1", b"a", b"left", b"COUNT", b"1", b"COUNT", b"1",
        ];
        assert_eq!(parse_mpop(&args).err(), Some(errors::SYNTAX));
    }

    #[test]
    fn lpos_keeps_redis_arithmetic_at_the_extremes() {
        let elements: Vec<&[u8]> = vec![b"a", b"b", b"a", b"a"];
        let options = |rank, count| LposOptions {
            rank,
            count,
            maxlen: 0,
        };
        let run = |options: &LposOptions| {
            let from_tail = options.rank < 0;
            let iter: Box<dyn Iterator<Item = &[u8]>> = if from_tail {
                Box::new(elements.iter().rev().copied())
            } else {
                Box::new(elements.iter().copied())
            };
            lpos_matches(iter, b"a", options, from_tail, elements.len())
        };
        assert_eq!(run(&options(1, None)), [0]);
        assert_eq!(run(&options(2, Some(0))), [2, 3]);
        assert_eq!(run(&options(-1, Some(2))), [3, 2]);
        assert_eq!(run(&options(i64::MIN, Some(2))), [3, 2, 0]);
        assert_eq!(run(&options(-i64::MAX, Some(2))), Vec::<i64>::new());
    }
}
