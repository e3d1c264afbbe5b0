//! The blocking commands (BLPOP and family): their table rows and
//! handlers. A handler answers when a key has something to take, and
//! otherwise sets `ctx.blocked` without replying; the worker's blocking
//! layer (`worker/blocking.rs`) then keeps the client waiting and runs the
//! handler again when a waited key receives a value.

use super::table::{cmd, CommandSpec, Exec};
use super::{keys_after_numkeys, lists, zsets, ShardCtx};

/// Redis 7.0's reading of a timeout in seconds (fractions allowed) as
/// milliseconds: `(long long)(seconds * 1000)`, so fractions of a
/// millisecond truncate (0.0001 means 0, forever) and values past the
/// 64-bit range read as negative, as the x86 conversion makes them. 0 means
/// forever; a deadline past the clock's range (from `now_ms`) is out of
/// range. The error is Redis's reply.
pub fn parse_timeout_ms(arg: &[u8], now_ms: u64) -> Result<u64, &'static [u8]> {
    const NOT_FLOAT: &[u8] = b"ERR timeout is not a float or out of range";
    const NEGATIVE: &[u8] = b"ERR timeout is negative";
    let text = std::str::from_utf8(arg).map_err(|_| NOT_FLOAT)?;
    if text.is_empty() || text.starts_with(|c: char| c.is_ascii_whitespace()) {
        return Err(NOT_FLOAT);
    }
    let seconds: f64 = text.parse().map_err(|_| NOT_FLOAT)?;
    if seconds.is_nan() {
        return Err(NOT_FLOAT);
    }
    let millis = (seconds * 1000.0).trunc();
    // x86's conversion gives i64::MIN for anything out of range (NaN was
    // refused above, so every value compares).
    if millis >= (1u64 << 63) as f64 || millis < 0.0 {
        return Err(NEGATIVE);
    }
    let millis = millis as u64;
    if millis > i64::MAX as u64 - now_ms {
        return Err(b"ERR timeout is out of range");
    }
    Ok(millis)
}

/// The reply a blocking command gives when its time runs out: a null
/// array, the moves included (Redis 7.0 answers `*-1` for all of them).
pub fn write_timeout_reply(out: &mut shoal_protocol::ReplyEncoder) {
    out.null_array();
}

/// Checks the timeout argument, replying with Redis's error if it is bad.
fn timeout_ok(ctx: &mut ShardCtx<'_>, arg: &[u8]) -> bool {
    match parse_timeout_ms(arg, ctx.now_ms) {
        Ok(_) => true,
        Err(message) => {
            ctx.out.error(message);
            false
        }
    }
}

/* ---------------------------------------------------------------------------
 * Sorted sets: BZPOPMIN, BZPOPMAX, BZMPOP
 * ------------------------------------------------------------------------- */

/// `BZPOPMIN key [key ...] timeout`
pub fn bzpopmin(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    bzpop_generic(ctx, args, true);
}

/// `BZPOPMAX key [key ...] timeout`
pub fn bzpopmax(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    bzpop_generic(ctx, args, false);
}

fn bzpop_generic(ctx: &mut ShardCtx<'_>, args: &[&[u8]], min: bool) {
    let (timeout, keys) = args[1..].split_last().expect("arity is at least 3");
    if timeout_ok(ctx, timeout) && !zsets::pop_first_nonempty(ctx, keys, min) {
        ctx.blocked = true;
    }
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]`
pub fn bzmpop(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let (keys, min, count) = match zsets::parse_zmpop(&args[2..]) {
        Ok(parsed) => parsed,
        Err(message) => return ctx.out.error(message),
    };
    if !timeout_ok(ctx, args[1]) {
        return;
    }
    let keys = &args[keys.start + 2..keys.end + 2];
    if zsets::zmpop_body(ctx, keys, min, count) == zsets::PopReply::NothingToPop {
        ctx.blocked = true;
    }
}

/* ---------------------------------------------------------------------------
 * Lists: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP
 * ------------------------------------------------------------------------- */

/// `BLPOP key [key ...] timeout`
pub fn blpop(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    bpop_generic(ctx, args, true);
}

/// `BRPOP key [key ...] timeout`
pub fn brpop(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    bpop_generic(ctx, args, false);
}

fn bpop_generic(ctx: &mut ShardCtx<'_>, args: &[&[u8]], left: bool) {
    let (timeout, keys) = args[1..].split_last().expect("arity is at least 3");
    if timeout_ok(ctx, timeout) && !lists::pop_first_nonempty(ctx, keys, left) {
        ctx.blocked = true;
    }
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`
pub fn blmove(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    let (Some(from_left), Some(to_left)) = (lists::parse_side(args[3]), lists::parse_side(args[4]))
    else {
        return ctx.out.error(super::errors::SYNTAX);
    };
    bmove_generic(ctx, args[1], args[2], from_left, to_left, args[5]);
}

/// `BRPOPLPUSH source destination timeout`
pub fn brpoplpush(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    bmove_generic(ctx, args[1], args[2], false, true, args[3]);
}

fn bmove_generic(
    ctx: &mut ShardCtx<'_>,
    source: &[u8],
    destination: &[u8],
    from_left: bool,
    to_left: bool,
    timeout: &[u8],
) {
    if timeout_ok(ctx, timeout)
        && !lists::move_element(ctx, source, destination, from_left, to_left)
    {
        ctx.blocked = true;
    }
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`
pub fn blmpop(ctx: &mut ShardCtx<'_>, args: &[&[u8]]) {
    // Parsed as LMPOP's arguments with the timeout in the command's place.
    let parsed = match lists::parse_mpop(&args[1..]) {
        Ok(parsed) => parsed,
        Err(message) => return ctx.out.error(message),
    };
    if !timeout_ok(ctx, args[1]) {
        return;
    }
    let first = parsed.first_key + 1;
    let keys = &args[first..first + parsed.numkeys];
    if !lists::mpop(ctx, keys, parsed.left, parsed.count) {
        ctx.blocked = true;
    }
}

/* ---------------------------------------------------------------------------
 * The table
 * ------------------------------------------------------------------------- */

const BLOCK_W: &[&str] = &["write", "noscript", "blocking"];
const BLOCK_WD: &[&str] = &["write", "denyoom", "noscript", "blocking"];
const BLOCK_WF: &[&str] = &["write", "noscript", "blocking", "fast"];
const BLOCK_MOVABLE: &[&str] = &["write", "blocking", "movablekeys"];
const LIST_CATS: &[&str] = &["@write", "@list", "@slow", "@blocking"];
const ZSET_CATS: &[&str] = &["@write", "@sortedset", "@fast", "@blocking"];
const ZSET_SLOW_CATS: &[&str] = &["@write", "@sortedset", "@slow", "@blocking"];

/// BLMPOP's and BZMPOP's keys: after the count at 2.
fn keys_after_count_at_2(args: &[&[u8]]) -> smallvec::SmallVec<[usize; 8]> {
    keys_after_numkeys(args, 2)
}

use Exec::Shard as S;

/// The blocking commands' rows of the command table.
#[rustfmt::skip]
pub const COMMANDS: &[CommandSpec] = &[
    cmd!("blpop", -3, BLOCK_W, 1, -2, 1, LIST_CATS, S(blpop), "list", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    cmd!("brpop", -3, BLOCK_W, 1, -2, 1, LIST_CATS, S(brpop), "list", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    cmd!("blmove", 6, BLOCK_WD, 1, 2, 1, LIST_CATS, S(blmove), "list", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved."),
    cmd!("brpoplpush", 4, BLOCK_WD, 1, 2, 1, LIST_CATS, S(brpoplpush), "list", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped."),
    cmd!("blmpop", -5, BLOCK_MOVABLE, 0, 0, 0, LIST_CATS, S(blmpop), "list", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", keys = keys_after_count_at_2),
    cmd!("bzpopmin", -3, BLOCK_WF, 1, -2, 1, ZSET_CATS, S(bzpopmin), "sorted-set", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
    cmd!("bzpopmax", -3, BLOCK_WF, 1, -2, 1, ZSET_CATS, S(bzpopmax), "sorted-set", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped."),
    cmd!("bzmpop", -5, BLOCK_MOVABLE, 0, 0, 0, ZSET_SLOW_CATS, S(bzmpop), "sorted-set", "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", keys = keys_after_count_at_2),
];

#[cfg(test)]
mod tests {
    use super::*;

    const NOW_MS: u64 = 1_700_000_000_000;

    #[test]
    fn timeouts_read_as_redis_reads_them() {
        assert_eq!(parse_timeout_ms(b"0", NOW_MS), Ok(0));
        assert_eq!(parse_timeout_ms(b"1.5", NOW_MS), Ok(1500));
        assert_eq!(parse_timeout_ms(b"0.0001", NOW_MS), Ok(0));
        assert_eq!(parse_timeout_ms(b"-0.0001", NOW_MS), Ok(0));
        assert_eq!(
            parse_timeout_ms(b"-1", NOW_MS),
            Err(&b"ERR timeout is negative"[..])
        );
        assert_eq!(
            parse_timeout_ms(b"abc", NOW_MS),
            Err(&b"ERR timeout is not a float or out of range"[..])
        );
        assert_eq!(
            parse_timeout_ms(b"1e300", NOW_MS),
            Err(&b"ERR timeout is negative"[..])
        );
        assert_eq!(
            parse_timeout_ms(b"inf", NOW_MS),
            Err(&b"ERR timeout is negative"[..])
        );
        assert_eq!(
            parse_timeout_ms(b"9223372036000000", NOW_MS),
            Err(&b"ERR timeout is out of range"[..])
        );
    }
}
