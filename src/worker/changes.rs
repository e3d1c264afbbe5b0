//! Whether a write command changed its keys, judged from its reply.
//!
//! WATCH fails EXEC only when a watched key was modified, as Redis's
//! `signalModifiedKey` marks it: a write command that failed (an error),
//! or whose reply says it did nothing (DEL of a missing key, EXPIRE ... GT
//! that kept the old time, SET NX on an existing key), leaves watchers and
//! transactions alone. Only consulted while some key is tracked.

use crate::cmd::args::is;
use crate::cmd::CommandSpec;

/// Write commands whose integer reply 0 means nothing changed.
const ZERO_MEANS_UNCHANGED: &[&str] = &[
    "del",
    "unlink",
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "persist",
    "setnx",
    "hsetnx",
    "msetnx",
    "renamenx",
    "move",
    "copy",
    "hdel",
    "srem",
    "sadd",
    "smove",
    "zrem",
    "zremrangebyrank",
    "zremrangebyscore",
    "zremrangebylex",
    "lrem",
    "lpushx",
    "rpushx",
    "linsert",
];

/// Write commands whose null reply (or empty array) means nothing changed.
const NULL_MEANS_UNCHANGED: &[&str] = &[
    "lpop",
    "rpop",
    "spop",
    "getdel",
    "getex",
    "lmove",
    "rpoplpush",
    "lmpop",
    "zpopmin",
    "zpopmax",
    "zmpop",
    "blpop",
    "brpop",
    "blmove",
    "brpoplpush",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
];

/// Whether `reply`, the encoded reply of the write command `args`, shows
/// that it changed nothing.
pub fn reply_says_unchanged(spec: &CommandSpec, args: &[&[u8]], reply: &[u8]) -> bool {
    if reply.first() == Some(&b'-') {
        return true;
    }
    let null = matches!(reply, b"$-1\r\n" | b"*-1\r\n" | b"_\r\n" | b"*0\r\n");
    match spec.name {
        name if ZERO_MEANS_UNCHANGED.contains(&name) => {
            reply == b":0\r\n" || (name == "linsert" && reply == b":-1\r\n")
        }
        name if NULL_MEANS_UNCHANGED.contains(&name) => null,
        // SET answers nil when NX or XX stopped it; with GET, nil is the
        // old value of a key that did not exist, and the SET happened.
        "set" => {
            matches!(reply, b"$-1\r\n" | b"_\r\n") && !args[3..].iter().any(|arg| is(arg, "GET"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unchanged(words: &[&str], reply: &[u8]) -> bool {
        let args: Vec<&[u8]> = words.iter().map(|word| word.as_bytes()).collect();
        let spec = crate::cmd::lookup(args[0]).expect("in the table");
        reply_says_unchanged(spec, &args, reply)
    }

    #[test]
    fn errors_and_no_op_replies_change_nothing() {
        assert!(unchanged(
            &["INCR", "k"],
            b"-ERR value is not an integer\r\n"
        ));
        assert!(unchanged(&["DEL", "k"], b":0\r\n"));
        assert!(unchanged(&["EXPIRE", "k", "10", "GT"], b":0\r\n"));
        assert!(unchanged(&["LINSERT", "k", "BEFORE", "p", "v"], b":-1\r\n"));
        assert!(unchanged(&["LPOP", "k"], b"$-1\r\n"));
        assert!(unchanged(&["SET", "k", "v", "NX"], b"$-1\r\n"));
        assert!(unchanged(&["SET", "k", "v", "XX"], b"_\r\n"));
    }

    #[test]
    fn replies_that_may_follow_a_change_count_as_changes() {
        assert!(!unchanged(&["DEL", "k"], b":1\r\n"));
        // HSET of an existing field answers 0 but changed its value.
        assert!(!unchanged(&["HSET", "k", "f", "v"], b":0\r\n"));
        assert!(!unchanged(&["INCRBY", "k", "-1"], b":0\r\n"));
        assert!(!unchanged(&["SET", "k", "v", "GET"], b"$-1\r\n"));
        assert!(!unchanged(&["SET", "k", "v"], b"+OK\r\n"));
        assert!(!unchanged(&["LPOP", "k"], b"$1\r\na\r\n"));
    }
}
