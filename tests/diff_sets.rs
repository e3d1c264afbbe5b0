//! Set commands compared with `redis-server` reply for reply: every command
//! of Redis 7.0's `t_set.c`, its options and errors, the intset and
//! hashtable encodings and where one turns into the other (also after
//! CONFIG SET), emptied sets disappearing, the generic key commands on sets,
//! and multi-key commands whose keys sit on different shards, under RESP2
//! and RESP3, against `--threads 1` and `4`.
//!
//! Intset replies come in ascending order and are compared exactly; a hash
//! table's order is its server's own, so replies that list one are compared
//! as multisets (`unordered`), and random picks by their shape and by what
//! they leave behind.

mod util;

use util::diff::{
    compare_scripts_resp2_and_resp3, compare_scripts_with, keys_on_each_shard, near, scan_all,
    scan_page, script, shape, unordered, x, Check, DiffOptions, Script, Step,
};
use util::{Client, ServerProcess};

use shoal_protocol::Reply;

/// Every script runs against a single-shard and a four-shard Shoal.
const THREADS: &[usize] = &[1, 4];

/// A step compared exactly, from owned arguments.
fn xs(args: &[String]) -> Step {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    x(&args)
}

/// `command` and `prefix` arguments followed by `members`.
fn with_members(prefix: &[&str], members: impl IntoIterator<Item = String>) -> Vec<String> {
    prefix
        .iter()
        .map(|arg| (*arg).to_string())
        .chain(members)
        .collect()
}

/// The decimal texts of `range`.
fn numbers(range: std::ops::Range<i64>) -> impl Iterator<Item = String> {
    range.map(|number| number.to_string())
}

fn sadd_srem_and_membership() -> Script {
    script(
        "SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS",
        vec![
            x(&["SCARD", "s"]),
            x(&["SISMEMBER", "s", "1"]),
            x(&["SMISMEMBER", "s", "1", "2"]),
            x(&["SMEMBERS", "s"]),
            x(&["SREM", "s", "1"]),
            x(&["SADD", "s", "3", "1", "2", "1"]),
            x(&["SADD", "s", "3"]),
            x(&["SCARD", "s"]),
            x(&["SMEMBERS", "s"]),
            x(&["SISMEMBER", "s", "2"]),
            x(&["SISMEMBER", "s", "4"]),
            x(&["SISMEMBER", "s", "02"]),
            x(&["SISMEMBER", "s", "abc"]),
            x(&["SMISMEMBER", "s", "1", "x", "3", "1", "-0", ""]),
            x(&["SREM", "s", "1", "1", "9", "x"]),
            x(&["SMEMBERS", "s"]),
            x(&["SREM", "s", "2", "3"]),
            x(&["EXISTS", "s"]),
            x(&["SCARD", "s"]),
            x(&["SMEMBERS", "s"]),
            // Members that look like integers but are not canonical ones.
            x(&["SADD", "t", "01", "+1", "-0", " 1", "1.0", "1e3", "0x10"]),
            x(&["OBJECT", "ENCODING", "t"]),
            unordered(&["SMEMBERS", "t"]),
            x(&["SISMEMBER", "t", "1"]),
            x(&["SISMEMBER", "t", "01"]),
            x(&["SADD", "t", "1"]),
            x(&["SMISMEMBER", "t", "1", "01", "+1"]),
            x(&["SADD", "u", "", "a", "b"]),
            x(&["SISMEMBER", "u", ""]),
            unordered(&["SMEMBERS", "u"]),
            x(&["SREM", "u", "", "a", "b", "c"]),
            x(&["EXISTS", "u"]),
            // The extremes of a 64-bit integer, and one past them.
            x(&[
                "SADD",
                "w",
                "9223372036854775807",
                "-9223372036854775808",
                "0",
            ]),
            x(&["OBJECT", "ENCODING", "w"]),
            x(&["SMEMBERS", "w"]),
            x(&["SISMEMBER", "w", "9223372036854775807"]),
            x(&["SADD", "w", "9223372036854775808"]),
            x(&["OBJECT", "ENCODING", "w"]),
            unordered(&["SMEMBERS", "w"]),
            x(&["SISMEMBER", "w", "-9223372036854775808"]),
            // Integers of each intset width, kept sorted.
            x(&["SADD", "v", "70000", "-5", "40000000000", "300", "-70000"]),
            x(&["SMEMBERS", "v"]),
            x(&["SREM", "v", "40000000000"]),
            x(&["SMEMBERS", "v"]),
            x(&["OBJECT", "ENCODING", "v"]),
            x(&["sadd", "v", "1"]),
            x(&["SmEmBeRs", "v"]),
        ],
    )
}

fn binary_members() -> Vec<Step> {
    let member = b"bin\x00\xff\r\nmember".to_vec();
    let command = |name: &str, rest: Vec<Vec<u8>>| {
        let mut args = vec![name.as_bytes().to_vec(), b"bin".to_vec()];
        args.extend(rest);
        Step::bytes(args, Check::Exact)
    };
    vec![
        command("SADD", vec![member.clone(), b"x".to_vec()]),
        command("SISMEMBER", vec![member.clone()]),
        command("SREM", vec![b"x".to_vec()]),
        command("SMEMBERS", vec![]),
        command("SPOP", vec![]),
        command("EXISTS", vec![]),
    ]
}

fn wrong_type() -> Script {
    let mut steps = vec![
        x(&["SET", "str", "v"]),
        x(&["SADD", "set", "1", "a"]),
        x(&["SADD", "ints", "1", "2"]),
    ];
    for args in [
        &["SADD", "str", "1"][..],
        &["SREM", "str", "1"],
        &["SCARD", "str"],
        &["SISMEMBER", "str", "1"],
        &["SMISMEMBER", "str", "1"],
        &["SMEMBERS", "str"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "2"],
        &["SRANDMEMBER", "str", "-2"],
        &["SRANDMEMBER", "str", "0"],
        &["SPOP", "str"],
        &["SPOP", "str", "2"],
        &["SPOP", "str", "0"],
        // Counts are checked before the key's type.
        &["SPOP", "str", "-1"],
        &["SRANDMEMBER", "str", "x"],
        &["SRANDMEMBER", "str", "-9223372036854775808"],
        &["SMOVE", "str", "set", "1"],
        &["SMOVE", "set", "str", "1"],
        &["SMOVE", "str", "str", "1"],
        &["SINTER", "set", "str"],
        &["SINTER", "missing", "str"],
        &["SINTERCARD", "2", "set", "str"],
        &["SINTERSTORE", "dest", "set", "str"],
        &["SUNION", "str", "set"],
        &["SUNION", "missing", "str"],
        &["SUNIONSTORE", "dest", "set", "str"],
        &["SDIFF", "set", "str"],
        &["SDIFF", "missing", "str"],
        &["SDIFF", "str", "missing"],
        &["SDIFFSTORE", "dest", "missing", "str"],
        &["SSCAN", "str", "0"],
        // The other way round: string commands on a set.
        &["GET", "set"],
        &["INCR", "ints"],
        &["APPEND", "set", "x"],
        &["STRLEN", "set"],
        &["GETRANGE", "set", "0", "1"],
        &["SETRANGE", "set", "0", "x"],
        &["GETDEL", "set"],
        &["MGET", "set", "str"],
    ] {
        steps.push(x(args));
    }
    steps.extend([
        // A missing source is checked before the destination's type.
        x(&["SMOVE", "missing", "str", "1"]),
        // The failed STORE commands left the destination alone.
        x(&["EXISTS", "dest"]),
        // STORE commands replace a destination of any type.
        x(&["SINTERSTORE", "str", "set", "ints"]),
        x(&["TYPE", "str"]),
        x(&["SMEMBERS", "str"]),
        x(&["SET", "str", "v"]),
        x(&["SUNIONSTORE", "str", "ints"]),
        x(&["TYPE", "str"]),
        x(&["SET", "str", "v"]),
        x(&["SDIFFSTORE", "str", "missing"]),
        x(&["EXISTS", "str"]),
        x(&["TYPE", "set"]),
        x(&["SET", "set", "now a string"]),
        x(&["GET", "set"]),
    ]);
    steps.extend(binary_members());
    script("WRONGTYPE both ways", steps)
}

fn arity_and_syntax_errors() -> Script {
    let mut steps = Vec::new();
    for args in [
        &["SADD"][..],
        &["SADD", "s"],
        &["SREM", "s"],
        &["SCARD"],
        &["SCARD", "s", "t"],
        &["SISMEMBER", "s"],
        &["SISMEMBER", "s", "a", "b"],
        &["SMISMEMBER", "s"],
        &["SMEMBERS"],
        &["SMEMBERS", "s", "t"],
        &["SRANDMEMBER"],
        &["SPOP"],
        &["SMOVE", "a", "b"],
        &["SMOVE", "a", "b", "c", "d"],
        &["SINTER"],
        &["SINTERCARD", "1"],
        &["SINTERSTORE", "d"],
        &["SUNION"],
        &["SUNIONSTORE", "d"],
        &["SDIFF"],
        &["SDIFFSTORE", "d"],
        &["SSCAN", "s"],
    ] {
        steps.push(x(args));
    }
    steps.push(x(&["SADD", "s", "1", "2", "3"]));
    for args in [
        &["SPOP", "s", "1", "2"][..],
        &["SPOP", "missing", "1", "2"],
        &["SRANDMEMBER", "s", "1", "2"],
        &["SRANDMEMBER", "missing", "1", "2"],
    ] {
        steps.push(x(args));
    }
    steps.push(x(&["SCARD", "s"]));
    script("arity and syntax errors", steps)
}

fn encodings() -> Script {
    let mut steps = vec![
        x(&["CONFIG", "GET", "set-max-intset-entries"]),
        x(&["CONFIG", "GET", "set-max-listpack-entries"]),
    ];
    // 512 integers stay an intset; the 513th makes it a hash table.
    steps.push(xs(&with_members(&["SADD", "big"], numbers(0..512))));
    steps.push(x(&["OBJECT", "ENCODING", "big"]));
    steps.push(x(&["SADD", "big", "0", "511"]));
    steps.push(x(&["OBJECT", "ENCODING", "big"]));
    steps.push(x(&["SRANDMEMBER", "big", "600"]));
    steps.push(x(&["SADD", "big", "512"]));
    steps.push(x(&["OBJECT", "ENCODING", "big"]));
    steps.push(x(&["SCARD", "big"]));
    // Removing down to few integers does not convert back.
    steps.push(xs(&with_members(&["SREM", "big"], numbers(3..513))));
    steps.push(x(&["OBJECT", "ENCODING", "big"]));
    steps.push(unordered(&["SMEMBERS", "big"]));
    // One SADD of 513 integers converts on the way.
    steps.push(xs(&with_members(&["SADD", "bulk"], numbers(-300..213))));
    steps.push(x(&["OBJECT", "ENCODING", "bulk"]));
    // A string member converts at once, and stays converted without it.
    steps.extend([
        x(&["SADD", "mixed", "1", "2", "3"]),
        x(&["OBJECT", "ENCODING", "mixed"]),
        x(&["SADD", "mixed", "a"]),
        x(&["OBJECT", "ENCODING", "mixed"]),
        x(&["SREM", "mixed", "a"]),
        x(&["OBJECT", "ENCODING", "mixed"]),
        unordered(&["SMEMBERS", "mixed"]),
        x(&["SADD", "first-string", "a", "1"]),
        x(&["OBJECT", "ENCODING", "first-string"]),
        // The thresholds follow CONFIG SET for later adds only.
        x(&["CONFIG", "SET", "set-max-intset-entries", "4"]),
        x(&["SADD", "small", "1", "2", "3", "4"]),
        x(&["OBJECT", "ENCODING", "small"]),
        x(&["SADD", "small", "4"]),
        x(&["OBJECT", "ENCODING", "small"]),
        x(&["SADD", "small", "5"]),
        x(&["OBJECT", "ENCODING", "small"]),
        x(&["SADD", "kept", "1", "2", "3"]),
        x(&["CONFIG", "SET", "set-max-intset-entries", "2"]),
        x(&["OBJECT", "ENCODING", "kept"]),
        x(&["SREM", "kept", "3"]),
        x(&["OBJECT", "ENCODING", "kept"]),
        x(&["SADD", "kept", "2"]),
        x(&["OBJECT", "ENCODING", "kept"]),
        x(&["SADD", "kept", "7"]),
        x(&["OBJECT", "ENCODING", "kept"]),
        x(&["CONFIG", "SET", "set-max-intset-entries", "0"]),
        x(&["SADD", "zero", "1"]),
        x(&["OBJECT", "ENCODING", "zero"]),
        x(&["CONFIG", "SET", "set-max-intset-entries", "9999999999"]),
        x(&["CONFIG", "GET", "set-max-intset-entries"]),
        x(&["SADD", "huge", "1", "2"]),
        x(&["OBJECT", "ENCODING", "huge"]),
        x(&["CONFIG", "SET", "set-max-intset-entries", "-1"]),
        x(&["CONFIG", "SET", "set-max-intset-entries", "512"]),
        x(&["CONFIG", "GET", "set-max-intset-entries"]),
    ]);
    script("encodings and their thresholds", steps)
}

/// Sets that commands build start as intsets, whatever their sources were.
fn encodings_of_built_sets() -> Script {
    let [a, b, c, d] = keys_on_each_shard("built:");
    let (a, b, c, d) = (a.as_str(), b.as_str(), c.as_str(), d.as_str());
    let mut steps = vec![
        // `a` is a hash table holding only integers.
        x(&["SADD", a, "x", "1", "2", "3", "4"]),
        x(&["SREM", a, "x"]),
        x(&["OBJECT", "ENCODING", a]),
        x(&["SADD", b, "2", "3", "4", "5"]),
        x(&["SINTERSTORE", c, a, b]),
        x(&["OBJECT", "ENCODING", c]),
        x(&["SMEMBERS", c]),
        x(&["SUNIONSTORE", c, a, b]),
        x(&["OBJECT", "ENCODING", c]),
        x(&["SMEMBERS", c]),
        x(&["SDIFFSTORE", c, a, b]),
        x(&["OBJECT", "ENCODING", c]),
        x(&["SMEMBERS", c]),
        // Union and difference replies come from an intset too: sorted.
        x(&["SUNION", a, b]),
        x(&["SDIFF", a, b]),
        x(&["SDIFF", b, a]),
        // SMOVE into a new key makes the encoding its member allows.
        x(&["SMOVE", a, d, "1"]),
        x(&["OBJECT", "ENCODING", d]),
        x(&["SMOVE", b, d, "5"]),
        x(&["SMEMBERS", d]),
        x(&["SADD", a, "y"]),
        x(&["SMOVE", a, d, "y"]),
        x(&["OBJECT", "ENCODING", d]),
        x(&["DEL", d]),
        x(&["SMOVE", a, d, "2"]),
        x(&["OBJECT", "ENCODING", d]),
        // A union past the threshold is a hash table.
        x(&["CONFIG", "SET", "set-max-intset-entries", "5"]),
        x(&["SADD", "{p}1", "1", "2", "3"]),
        x(&["SADD", "{p}2", "4", "5", "6"]),
        x(&["SUNIONSTORE", "{p}3", "{p}1", "{p}2"]),
        x(&["OBJECT", "ENCODING", "{p}3"]),
        unordered(&["SUNION", "{p}1", "{p}2"]),
        x(&["SINTERSTORE", "{p}4", "{p}3", "{p}1"]),
        x(&["OBJECT", "ENCODING", "{p}4"]),
        x(&["SMEMBERS", "{p}4"]),
        // SPOP that leaves few members rebuilds the set: a hash table of
        // integers becomes an intset again.
        x(&[
            "SADD", "pop", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
        ]),
        x(&["OBJECT", "ENCODING", "pop"]),
        shape(&["SPOP", "pop", "9"]),
        x(&["SCARD", "pop"]),
        x(&["OBJECT", "ENCODING", "pop"]),
        x(&[
            "SADD", "pop2", "a", "1", "2", "3", "4", "5", "6", "7", "8", "9",
        ]),
        x(&["SREM", "pop2", "a"]),
        // Popping 3 of 9 leaves 6: removed one by one, still a hash table.
        shape(&["SPOP", "pop2", "3"]),
        x(&["OBJECT", "ENCODING", "pop2"]),
        x(&["SCARD", "pop2"]),
        x(&["CONFIG", "SET", "set-max-intset-entries", "512"]),
    ];
    // SDIFF's second algorithm copies the first set whole: 600 integers make
    // a hash table, which stays one when two sets of 100 are subtracted.
    steps.push(xs(&with_members(&["SADD", "{q}first"], numbers(0..600))));
    steps.push(xs(&with_members(&["SADD", "{q}low"], numbers(0..100))));
    steps.push(xs(&with_members(&["SADD", "{q}high"], numbers(100..200))));
    steps.push(xs(&with_members(&["SADD", "{q}most"], numbers(0..590))));
    steps.extend([
        x(&["SDIFFSTORE", "{q}d1", "{q}first", "{q}low", "{q}high"]),
        x(&["OBJECT", "ENCODING", "{q}d1"]),
        x(&["SDIFFSTORE", "{q}d2", "{q}first", "{q}most"]),
        x(&["OBJECT", "ENCODING", "{q}d2"]),
        x(&["SMEMBERS", "{q}d2"]),
        x(&["SDIFF", "{q}first", "{q}most"]),
        x(&["SINTERCARD", "2", "{q}first", "{q}most"]),
    ]);
    script("encodings of sets that commands build", steps)
}

fn spop_cases() -> Script {
    script(
        "SPOP",
        vec![
            x(&["SPOP", "s"]),
            x(&["SPOP", "s", "0"]),
            x(&["SPOP", "s", "3"]),
            x(&["SPOP", "s", "-1"]),
            x(&["SPOP", "s", "abc"]),
            x(&["SADD", "s", "5"]),
            x(&["SPOP", "s"]),
            x(&["EXISTS", "s"]),
            x(&["SADD", "s", "1", "2", "3", "4", "5", "6"]),
            x(&["SPOP", "s", "-1"]),
            x(&["SPOP", "s", "1.5"]),
            x(&["SPOP", "s", "9223372036854775808"]),
            x(&["SPOP", "s", "0"]),
            shape(&["SPOP", "s"]),
            x(&["SCARD", "s"]),
            shape(&["SPOP", "s", "1"]),
            x(&["SCARD", "s"]),
            shape(&["SPOP", "s", "2"]),
            x(&["SCARD", "s"]),
            // The count reaches the size: the whole set, and no key.
            shape(&["SPOP", "s", "2"]),
            x(&["EXISTS", "s"]),
            x(&["SADD", "s", "3", "1", "2"]),
            x(&["SPOP", "s", "9223372036854775807"]),
            x(&["EXISTS", "s"]),
            x(&["SADD", "h", "a", "b", "c", "d"]),
            shape(&["SPOP", "h", "3"]),
            x(&["SCARD", "h"]),
            shape(&["SPOP", "h"]),
            x(&["EXISTS", "h"]),
            x(&["SADD", "h", "a", "b", "c"]),
            unordered(&["SPOP", "h", "5"]),
            x(&["EXISTS", "h"]),
            x(&["SADD", "one", "only"]),
            x(&["SPOP", "one", "1"]),
            x(&["EXISTS", "one"]),
            // A popped set keeps its time to live.
            x(&[
                "SADD", "ttl", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11",
            ]),
            x(&["EXPIRE", "ttl", "1000"]),
            shape(&["SPOP", "ttl", "10"]),
            near(1, &["TTL", "ttl"]),
            shape(&["SPOP", "ttl", "1"]),
            x(&["TTL", "ttl"]),
        ],
    )
}

fn srandmember_cases() -> Script {
    script(
        "SRANDMEMBER",
        vec![
            x(&["SRANDMEMBER", "s"]),
            x(&["SRANDMEMBER", "s", "0"]),
            x(&["SRANDMEMBER", "s", "5"]),
            x(&["SRANDMEMBER", "s", "-5"]),
            x(&["SRANDMEMBER", "s", "abc"]),
            x(&["SRANDMEMBER", "s", "-9223372036854775808"]),
            x(&["SADD", "s", "7"]),
            x(&["SRANDMEMBER", "s"]),
            x(&["SRANDMEMBER", "s", "-4"]),
            x(&["SRANDMEMBER", "s", "1"]),
            x(&["SRANDMEMBER", "s", "-9223372036854775808"]),
            x(&["SRANDMEMBER", "s", "9223372036854775808"]),
            x(&["SRANDMEMBER", "s", "1.0"]),
            x(&["SADD", "s", "3", "1", "2", "9", "8"]),
            // A count at least the size: the whole set, an intset sorted.
            x(&["SRANDMEMBER", "s", "6"]),
            x(&["SRANDMEMBER", "s", "100"]),
            x(&["SRANDMEMBER", "s", "9223372036854775807"]),
            shape(&["SRANDMEMBER", "s"]),
            shape(&["SRANDMEMBER", "s", "1"]),
            shape(&["SRANDMEMBER", "s", "2"]),
            shape(&["SRANDMEMBER", "s", "5"]),
            shape(&["SRANDMEMBER", "s", "-3"]),
            shape(&["SRANDMEMBER", "s", "-30"]),
            x(&["SRANDMEMBER", "s", "0"]),
            x(&["SCARD", "s"]),
            x(&["SADD", "h", "a", "b", "c", "d"]),
            unordered(&["SRANDMEMBER", "h", "4"]),
            unordered(&["SRANDMEMBER", "h", "40"]),
            shape(&["SRANDMEMBER", "h", "3"]),
            shape(&["SRANDMEMBER", "h", "-7"]),
            x(&["SCARD", "h"]),
        ],
    )
}

fn smove_cases() -> Script {
    let [a, b, c, _] = keys_on_each_shard("move:");
    let (a, b, c) = (a.as_str(), b.as_str(), c.as_str());
    script(
        "SMOVE across shards",
        vec![
            x(&["SMOVE", a, b, "1"]),
            x(&["SADD", a, "1", "2", "x"]),
            x(&["SMOVE", a, b, "9"]),
            x(&["EXISTS", b]),
            x(&["SMOVE", a, b, "1"]),
            x(&["OBJECT", "ENCODING", b]),
            x(&["SMEMBERS", b]),
            unordered(&["SMEMBERS", a]),
            x(&["SMOVE", a, a, "2"]),
            x(&["SMOVE", a, a, "9"]),
            x(&["SMOVE", a, b, "x"]),
            x(&["OBJECT", "ENCODING", b]),
            unordered(&["SMEMBERS", b]),
            x(&["SADD", c, "2"]),
            x(&["EXPIRE", c, "1000"]),
            // The last member moved: the source goes, the destination keeps
            // its time to live.
            x(&["SMOVE", a, c, "2"]),
            x(&["EXISTS", a]),
            x(&["SMEMBERS", c]),
            near(1, &["TTL", c]),
            x(&["SMOVE", c, b, "2"]),
            x(&["EXISTS", c]),
            unordered(&["SMEMBERS", b]),
            x(&["SMOVE", b, "{other}", ""]),
            x(&["SMOVE", b, c, "1"]),
            x(&["OBJECT", "ENCODING", c]),
            x(&["SMOVE", b, b, "x"]),
            unordered(&["SMEMBERS", b]),
        ],
    )
}

fn algebra_across_shards() -> Script {
    let [a, b, c, d] = keys_on_each_shard("alg:");
    let (a, b, c, d) = (a.as_str(), b.as_str(), c.as_str(), d.as_str());
    script(
        "SINTER SUNION SDIFF and their STORE forms across shards",
        vec![
            x(&["SADD", a, "1", "2", "3", "4", "5"]),
            x(&["SADD", b, "4", "5", "6", "3"]),
            x(&["SADD", c, "5", "3", "100"]),
            x(&["SINTER", a, b, c]),
            x(&["SINTER", a]),
            x(&["SINTER", a, a]),
            x(&["SINTER", a, b, "missing"]),
            x(&["SINTER", "missing"]),
            x(&["SUNION", a, b, c]),
            x(&["SUNION", a, "missing"]),
            x(&["SUNION", "missing", "missing2"]),
            x(&["SDIFF", a, b]),
            x(&["SDIFF", a, b, c]),
            x(&["SDIFF", a, "missing"]),
            x(&["SDIFF", "missing", a]),
            x(&["SDIFF", a, a]),
            x(&["SDIFF", a, b, a]),
            x(&["SINTERCARD", "3", a, b, c]),
            x(&["SINTERSTORE", d, a, b]),
            x(&["SMEMBERS", d]),
            x(&["SUNIONSTORE", d, a, b, c]),
            x(&["SMEMBERS", d]),
            x(&["SDIFFSTORE", d, a, c]),
            x(&["SMEMBERS", d]),
            // The destination may be a source.
            x(&["SINTERSTORE", a, a, b]),
            x(&["SMEMBERS", a]),
            x(&["SUNIONSTORE", a, a, c]),
            x(&["SMEMBERS", a]),
            x(&["SDIFFSTORE", a, a, b]),
            x(&["SMEMBERS", a]),
            // Storing drops the destination's time to live; an empty result
            // deletes it.
            x(&["EXPIRE", d, "1000"]),
            x(&["SUNIONSTORE", d, b]),
            x(&["TTL", d]),
            x(&["EXPIRE", d, "1000"]),
            x(&["SINTERSTORE", d, b, "missing"]),
            x(&["EXISTS", d]),
            x(&["SUNIONSTORE", d, b]),
            x(&["SDIFFSTORE", d, b, b]),
            x(&["EXISTS", d]),
            x(&["SUNIONSTORE", d, b]),
            x(&["SUNIONSTORE", d, "missing"]),
            x(&["EXISTS", d]),
            x(&["SUNIONSTORE", d, b]),
            x(&["SINTERSTORE", d, b, c, a]),
            x(&["EXISTS", d]),
            // The smallest set is walked: an intset's order, whatever the
            // others are.
            x(&["SADD", "{h}", "5", "4", "3", "2", "1", "x"]),
            x(&["SINTER", "{h}", b]),
            x(&["SINTER", b, "{h}", c]),
            x(&["SINTERSTORE", "{h}i", "{h}", b]),
            x(&["OBJECT", "ENCODING", "{h}i"]),
            // Hash tables: replies in the servers' own orders.
            x(&["SADD", c, "x", "y"]),
            x(&["SADD", d, "y", "z", "5"]),
            unordered(&["SINTER", c, d]),
            unordered(&["SUNION", a, b, c, d]),
            unordered(&["SDIFF", c, d]),
            unordered(&["SDIFF", d, c, b]),
            x(&["SUNIONSTORE", "{s}u", c, d]),
            x(&["SINTERSTORE", "{s}i", c, d]),
            x(&["SDIFFSTORE", "{s}d", d, c]),
            x(&["OBJECT", "ENCODING", "{s}i"]),
            x(&["OBJECT", "ENCODING", "{s}d"]),
            unordered(&["SMEMBERS", "{s}u"]),
            x(&["SINTERCARD", "2", c, d]),
        ],
    )
}

fn sintercard_cases() -> Script {
    let [a, b, c, _] = keys_on_each_shard("card:");
    let (a, b, c) = (a.as_str(), b.as_str(), c.as_str());
    script(
        "SINTERCARD",
        vec![
            x(&["SADD", a, "1", "2", "3", "4", "a", "b"]),
            x(&["SADD", b, "2", "3", "4", "b", "c"]),
            x(&["SADD", c, "3", "4", "b"]),
            x(&["SINTERCARD", "1", a]),
            x(&["SINTERCARD", "2", a, b]),
            x(&["SINTERCARD", "3", a, b, c]),
            x(&["SINTERCARD", "3", a, b, c, "LIMIT", "0"]),
            x(&["SINTERCARD", "3", a, b, c, "LIMIT", "1"]),
            x(&["SINTERCARD", "3", a, b, c, "limit", "2"]),
            x(&["SINTERCARD", "3", a, b, c, "LIMIT", "100"]),
            x(&["SINTERCARD", "3", a, b, c, "LIMIT", "2", "LIMIT", "1"]),
            x(&["SINTERCARD", "3", a, b, c, "LIMIT", "-1"]),
            x(&["SINTERCARD", "3", a, b, c, "LIMIT", "x"]),
            x(&["SINTERCARD", "3", a, b, c, "LIMIT"]),
            x(&["SINTERCARD", "3", a, b, c, "FOO", "1"]),
            x(&["SINTERCARD", "2", a, b, c]),
            x(&["SINTERCARD", "2", a, "missing"]),
            x(&["SINTERCARD", "1", "missing"]),
            x(&["SINTERCARD", "0", a]),
            x(&["SINTERCARD", "-1", a]),
            x(&["SINTERCARD", "x", a]),
            x(&["SINTERCARD", "4", a, b, c]),
            x(&["SINTERCARD", "9223372036854775808", a]),
            x(&["SINTERCARD", "2", a, a]),
            x(&["SET", "str", "v"]),
            x(&["SINTERCARD", "2", a, "str"]),
            x(&["SINTERCARD", "2", "str", a, "LIMIT", "-1"]),
            x(&["SINTERCARD", "2", "missing", "str"]),
            x(&["COMMAND", "GETKEYS", "SINTERCARD", "2", a, b, "LIMIT", "1"]),
            x(&["COMMAND", "GETKEYS", "SINTERSTORE", "d", a, b]),
            x(&["COMMAND", "GETKEYS", "SMOVE", a, b, "m"]),
        ],
    )
}

fn sscan_cases() -> Script {
    let mut steps = vec![
        x(&["SSCAN", "s", "0"]),
        x(&["SSCAN", "s", "abc"]),
        x(&["SSCAN", "s", "0", "COUNT", "0"]),
        x(&["SADD", "s", "10", "2", "33", "-4", "5"]),
        // An intset comes whole in one call, whatever the cursor and COUNT.
        x(&["SSCAN", "s", "0"]),
        x(&["SSCAN", "s", "17"]),
        x(&["SSCAN", "s", "0", "COUNT", "1"]),
        x(&["SSCAN", "s", "0", "MATCH", "3*"]),
        x(&["SSCAN", "s", "0", "MATCH", "-*", "COUNT", "100"]),
        x(&["SSCAN", "s", "0", "MATCH", "*"]),
        x(&["SSCAN", "s", "0", "match", "[13]*", "count", "2"]),
        x(&["SSCAN", "s", "0", "MATCH", "nothing"]),
        // Cursors as `strtoul` reads them.
        x(&["SSCAN", "s", ""]),
        x(&["SSCAN", "s", "-1"]),
        x(&["SSCAN", "s", "+0"]),
        x(&["SSCAN", "s", " 1"]),
        x(&["SSCAN", "s", "1 "]),
        x(&["SSCAN", "s", "0x1"]),
        x(&["SSCAN", "s", "18446744073709551615"]),
        x(&["SSCAN", "s", "18446744073709551616"]),
        // Options.
        x(&["SSCAN", "s", "0", "COUNT", "0"]),
        x(&["SSCAN", "s", "0", "COUNT", "-1"]),
        x(&["SSCAN", "s", "0", "COUNT", "x"]),
        x(&["SSCAN", "s", "0", "COUNT"]),
        x(&["SSCAN", "s", "0", "MATCH"]),
        x(&["SSCAN", "s", "0", "TYPE", "set"]),
        x(&["SSCAN", "s", "0", "FOO", "bar"]),
        x(&["SSCAN", "s", "0", "COUNT", "1", "MATCH"]),
        x(&["SSCAN", "missing", "0", "COUNT", "0"]),
        x(&["SSCAN", "missing", "x"]),
        x(&["SADD", "e", ""]),
        // `*` alone matches even the empty member; `**` does not.
        x(&["SSCAN", "e", "0", "MATCH", "*"]),
        x(&["SSCAN", "e", "0", "MATCH", "**", "COUNT", "100"]),
        x(&["SSCAN", "e", "0", "MATCH", "", "COUNT", "100"]),
    ];
    // A large intset still comes whole.
    steps.push(x(&["CONFIG", "SET", "set-max-intset-entries", "3000"]));
    steps.push(xs(&with_members(&["SADD", "large"], numbers(-1000..1000))));
    steps.push(x(&["OBJECT", "ENCODING", "large"]));
    steps.push(x(&["SSCAN", "large", "0", "COUNT", "5"]));
    steps.push(x(&["SSCAN", "large", "0", "MATCH", "*7"]));
    steps.push(x(&["CONFIG", "SET", "set-max-intset-entries", "512"]));
    // A hash table's pages depend on its layout; a page is well formed.
    steps.push(xs(&with_members(
        &["SADD", "h"],
        numbers(0..100).map(|n| format!("m{n}")),
    )));
    steps.push(scan_page(&["SSCAN", "h", "0"]));
    steps.push(scan_page(&[
        "SSCAN", "h", "0", "COUNT", "5", "MATCH", "m1*",
    ]));
    script("SSCAN", steps)
}

fn generic_commands_on_sets() -> Script {
    let [a, b, c, d] = keys_on_each_shard("gen:");
    let (a, b, c, d) = (a.as_str(), b.as_str(), c.as_str(), d.as_str());
    script(
        "TYPE OBJECT DEL EXISTS EXPIRE RENAME COPY MOVE SCAN on sets",
        vec![
            x(&["SADD", a, "1", "2", "3"]),
            x(&["SADD", b, "x", "y"]),
            x(&["SET", c, "string"]),
            x(&["TYPE", a]),
            x(&["TYPE", b]),
            x(&["OBJECT", "ENCODING", a]),
            x(&["OBJECT", "ENCODING", b]),
            x(&["EXISTS", a, b, c, d]),
            x(&["DBSIZE"]),
            unordered(&["KEYS", "gen:*"]),
            scan_all(&["TYPE", "set"]),
            scan_all(&["TYPE", "string"]),
            scan_all(&["TYPE", "SET", "MATCH", "gen:*"]),
            x(&["RENAME", a, d]),
            x(&["TYPE", d]),
            x(&["SMEMBERS", d]),
            x(&["OBJECT", "ENCODING", d]),
            x(&["EXISTS", a]),
            x(&["RENAMENX", d, b]),
            x(&["COPY", d, a]),
            x(&["SMEMBERS", a]),
            x(&["OBJECT", "ENCODING", a]),
            // A copy is independent of its source.
            x(&["SADD", a, "4"]),
            x(&["SCARD", d]),
            x(&["COPY", b, a]),
            x(&["COPY", b, a, "REPLACE"]),
            unordered(&["SMEMBERS", a]),
            x(&["OBJECT", "ENCODING", a]),
            x(&["COPY", b, a, "DB", "1"]),
            x(&["MOVE", d, "1"]),
            x(&["EXISTS", d]),
            x(&["SELECT", "1"]),
            x(&["SMEMBERS", d]),
            unordered(&["SMEMBERS", a]),
            x(&["SELECT", "0"]),
            x(&["EXPIRE", b, "1000"]),
            near(1, &["TTL", b]),
            x(&["SADD", b, "z"]),
            near(1, &["TTL", b]),
            x(&["SREM", b, "z"]),
            near(1, &["TTL", b]),
            x(&["PERSIST", b]),
            x(&["TTL", b]),
            x(&["DEL", a, b, c]),
            x(&["DBSIZE"]),
            x(&["SADD", "only", "member"]),
            x(&["RANDOMKEY"]),
            x(&["UNLINK", "only"]),
            x(&["RANDOMKEY"]),
            x(&["SADD", "gone", "1"]),
            x(&["PEXPIRE", "gone", "1"]),
            util::diff::pause(20),
            x(&["SCARD", "gone"]),
            x(&["SADD", "gone", "2"]),
            x(&["SMEMBERS", "gone"]),
        ],
    )
}

/// INFO's keyspace_hits and keyspace_misses count what Redis counts: set
/// commands that read look keys up as reads, commands that write do not
/// (and SPOP of the whole set looks its key up once more to reply).
fn keyspace_hits_and_misses() -> Script {
    let [a, b, c, _] = keys_on_each_shard("hits:");
    let (a, b, c) = (a.as_str(), b.as_str(), c.as_str());
    let counters = || {
        Step::new(
            &["INFO", "stats"],
            Check::InfoFields(&["keyspace_hits", "keyspace_misses"]),
        )
    };
    let mut steps = vec![
        x(&["CONFIG", "RESETSTAT"]),
        x(&["SADD", a, "1", "2"]),
        x(&["SREM", a, "3"]),
        x(&["SADD", b, "2"]),
        x(&["SMOVE", b, c, "2"]),
        x(&["SMOVE", "missing", c, "2"]),
        x(&["SPOP", "missing"]),
        x(&["SPOP", a, "0"]),
        counters(),
    ];
    for args in [
        &["SCARD", a][..],
        &["SCARD", "missing"],
        &["SISMEMBER", a, "1"],
        &["SMISMEMBER", "missing", "1"],
        &["SMEMBERS", a],
        &["SRANDMEMBER", a, "5"],
        &["SRANDMEMBER", "missing", "2"],
        &["SINTER", a, c, "missing"],
        &["SINTERCARD", "2", a, c],
        &["SUNION", a, "missing"],
        &["SDIFF", "missing", a],
        &["SINTERSTORE", "dest", a, c],
        &["SUNIONSTORE", "dest", a, "missing"],
        &["SDIFFSTORE", "dest", a, c],
        &["SSCAN", a, "0"],
        &["SSCAN", "missing", "0"],
    ] {
        steps.push(x(args));
        steps.push(counters());
    }
    steps.extend([
        x(&["SET", "str", "v"]),
        x(&["SINTER", a, "str", "missing"]),
        counters(),
        x(&["SPOP", a, "10"]),
        counters(),
        x(&["SADD", a, "1", "2", "3", "4", "5", "6"]),
        shape(&["SPOP", a, "5"]),
        counters(),
    ]);
    script("keyspace hits and misses", steps)
}

fn set_scripts() -> Vec<Script> {
    vec![
        sadd_srem_and_membership(),
        wrong_type(),
        arity_and_syntax_errors(),
        encodings(),
        encodings_of_built_sets(),
        spop_cases(),
        srandmember_cases(),
        smove_cases(),
        algebra_across_shards(),
        sintercard_cases(),
        sscan_cases(),
        generic_commands_on_sets(),
    ]
}

#[test]
fn set_commands_match_redis() {
    compare_scripts_resp2_and_resp3(&set_scripts(), THREADS);
}

/// Its own test: the counters are server-wide, so no other script may run
/// on the same servers meanwhile.
#[test]
fn set_keyspace_hits_and_misses_match_redis() {
    compare_scripts_resp2_and_resp3(&[keyspace_hits_and_misses()], THREADS);
}

#[test]
fn set_command_info_matches_redis() {
    let names = [
        "SADD",
        "SREM",
        "SCARD",
        "SISMEMBER",
        "SMISMEMBER",
        "SMEMBERS",
        "SRANDMEMBER",
        "SPOP",
        "SMOVE",
        "SINTER",
        "SINTERCARD",
        "SINTERSTORE",
        "SUNION",
        "SUNIONSTORE",
        "SDIFF",
        "SDIFFSTORE",
        "SSCAN",
    ];
    let redis = ServerProcess::redis(&[]);
    let shoal = ServerProcess::shoal(&["--threads", "1"]);
    let (mut redis, mut shoal) = (redis.connect(), shoal.connect());
    for name in names {
        let (expected, got) = (
            command_info_head(&mut redis, name),
            command_info_head(&mut shoal, name),
        );
        assert_eq!(expected, got, "COMMAND INFO {name}");
    }
}

/// A command's name, arity, flags, key positions and ACL categories from
/// COMMAND INFO (Shoal leaves tips, key specs and subcommands empty).
fn command_info_head(client: &mut Client, name: &str) -> Vec<Reply> {
    match client.call(&["COMMAND", "INFO", name]) {
        Reply::Array(mut infos) => match infos.pop() {
            Some(Reply::Array(mut info)) => {
                info.truncate(7);
                info
            }
            other => panic!("COMMAND INFO {name}: {other:?}"),
        },
        other => panic!("COMMAND INFO {name}: {other:?}"),
    }
}

/* ---------------------------------------------------------------------------
 * SSCAN over a hash table: whole iterations compared as sets
 * ------------------------------------------------------------------------- */

/// SSCAN calls one iteration makes at most.
const SSCAN_CALLS_MAX: usize = 100_000;

/// Every member a full SSCAN iteration returns, sorted and deduplicated,
/// with `between` run after each call (to change the set mid-scan).
fn sscan_members(
    client: &mut Client,
    key: &str,
    options: &[&str],
    mut between: impl FnMut(&mut Client),
) -> Vec<Vec<u8>> {
    let mut cursor = "0".to_string();
    let mut members = Vec::new();
    for _ in 0..SSCAN_CALLS_MAX {
        let mut args = vec!["SSCAN", key, cursor.as_str()];
        args.extend_from_slice(options);
        let reply = client.call(&args);
        let Reply::Array(parts) = reply else {
            panic!("SSCAN replied {reply:?}");
        };
        let [Reply::Bulk(next), Reply::Array(batch)] = parts.as_slice() else {
            panic!("malformed SSCAN reply {parts:?}");
        };
        for member in batch {
            let Reply::Bulk(member) = member else {
                panic!("an SSCAN member that is not a bulk: {member:?}");
            };
            members.push(member.clone());
        }
        between(client);
        if next.as_slice() == b"0" {
            members.sort();
            members.dedup();
            return members;
        }
        cursor = String::from_utf8(next.clone()).expect("a decimal cursor");
    }
    panic!("SSCAN did not finish in {SSCAN_CALLS_MAX} calls");
}

fn fill(client: &mut Client, key: &str, members: impl Iterator<Item = String>) {
    let members: Vec<String> = members.collect();
    for chunk in members.chunks(500) {
        let mut args = vec!["SADD", key];
        args.extend(chunk.iter().map(String::as_str));
        client.call(&args);
    }
}

#[test]
fn sscan_of_a_hash_table_returns_what_redis_returns() {
    let redis_server = ServerProcess::redis(&[]);
    let mut redis = redis_server.connect();
    for threads in ["1", "4"] {
        let shoal_server = ServerProcess::shoal(&["--threads", threads]);
        let mut shoal = shoal_server.connect();
        redis.call(&["FLUSHALL"]);
        for client in [&mut redis, &mut shoal] {
            fill(client, "big", (0..5000).map(|n| format!("member:{n}")));
            fill(client, "ints", (0..3000).map(|n| n.to_string()));
        }
        for (key, options) in [
            ("big", &[][..]),
            ("big", &["COUNT", "1"][..]),
            ("big", &["COUNT", "1000"][..]),
            ("big", &["MATCH", "member:1*", "COUNT", "50"][..]),
            ("big", &["MATCH", "*9"][..]),
            ("ints", &["COUNT", "20"][..]),
            ("ints", &["MATCH", "2??"][..]),
        ] {
            let expected = sscan_members(&mut redis, key, options, |_| {});
            let got = sscan_members(&mut shoal, key, options, |_| {});
            assert_eq!(expected.len(), got.len(), "SSCAN {key} {options:?}");
            assert_eq!(expected, got, "SSCAN {key} {options:?}");
        }
    }
}

/// Members added and removed between SSCAN calls do not hide any member
/// that stays in the set for the whole scan.
#[test]
fn sscan_returns_every_member_that_stays_while_the_set_changes() {
    let server = ServerProcess::shoal(&["--threads", "2"]);
    let mut client = server.connect();
    fill(&mut client, "s", (0..4000).map(|n| format!("keep:{n}")));
    fill(&mut client, "s", (0..4000).map(|n| format!("drop:{n}")));
    let mut round = 0;
    let seen = sscan_members(&mut client, "s", &["COUNT", "25"], |client| {
        // Remove members that go, and add new ones: the table shrinks and
        // grows and its members move while the scan runs.
        let start = round * 40;
        let mut args = vec!["SREM".to_string(), "s".to_string()];
        args.extend((start..start + 40).map(|n| format!("drop:{n}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        client.call(&args);
        let new = format!("new:{round}");
        client.call(&["SADD", "s", &new]);
        round += 1;
    });
    for n in 0..4000 {
        let member = format!("keep:{n}").into_bytes();
        assert!(seen.binary_search(&member).is_ok(), "keep:{n} was missed");
    }
}

/// A negative SRANDMEMBER count draws with repeats, up to a bound that
/// keeps one reply within some hundred megabytes (Redis has none).
#[test]
fn srandmember_bounds_its_draws() {
    let server = ServerProcess::shoal(&["--threads", "1"]);
    let mut client = server.connect();
    client.call(&["SADD", "s", "only"]);
    match client.call(&["SRANDMEMBER", "s", "-100000"]) {
        Reply::Array(members) => {
            assert_eq!(members.len(), 100_000);
            assert!(members.iter().all(|m| *m == Reply::Bulk(b"only".to_vec())));
        }
        other => panic!("SRANDMEMBER replied {other:?}"),
    }
    assert_eq!(
        client.call(&["SRANDMEMBER", "s", "-16777217"]),
        Reply::Error(
            b"ERR value is out of range, value must between -16777216 and 9223372036854775807"
                .to_vec()
        )
    );
    // A missing key is still an empty array, as in Redis.
    assert_eq!(
        client.call(&["SRANDMEMBER", "missing", "-16777217"]),
        Reply::Array(Vec::new())
    );
}

/* ---------------------------------------------------------------------------
 * Random scripts
 * ------------------------------------------------------------------------- */

/// A small deterministic generator (xorshift64), so a failing random
/// script is the same script on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[(self.next() % choices.len() as u64) as usize]
    }
}

/// A random mix of set commands over a few keys spread across every shard,
/// with a low intset threshold so that sets change encoding often. OBJECT
/// ENCODING is compared exactly: both servers must convert at the same
/// moments.
fn random_commands(seed: u64, length: usize) -> Script {
    let [a, b, c, d] = keys_on_each_shard("rnd:");
    let keys = [a.as_str(), b.as_str(), c.as_str(), d.as_str(), "{t}x"];
    let members = [
        "0", "1", "2", "3", "5", "8", "13", "-1", "100", "70000", "a", "b", "c", "",
    ];
    let mut random = Random(seed);
    let mut steps = vec![x(&["CONFIG", "SET", "set-max-intset-entries", "6"])];
    for _ in 0..length {
        let (k1, k2, k3) = (random.pick(&keys), random.pick(&keys), random.pick(&keys));
        let (m1, m2, m3) = (
            random.pick(&members),
            random.pick(&members),
            random.pick(&members),
        );
        let step = match random.next() % 24 {
            0..=3 => x(&["SADD", k1, m1, m2, m3]),
            4 | 5 => x(&["SREM", k1, m1, m2]),
            6 => x(&["SCARD", k1]),
            7 => x(&["SISMEMBER", k1, m1]),
            8 => x(&["SMISMEMBER", k1, m1, m2, m3]),
            9 => unordered(&["SMEMBERS", k1]),
            10 => x(&["SMOVE", k1, k2, m1]),
            11 => unordered(&["SINTER", k1, k2, k3]),
            12 => unordered(&["SUNION", k1, k2]),
            13 => unordered(&["SDIFF", k1, k2, k3]),
            14 => x(&["SINTERSTORE", k1, k2, k3]),
            15 => x(&["SUNIONSTORE", k1, k2, k3]),
            16 => x(&["SDIFFSTORE", k1, k2, k3]),
            17 => x(&[
                "SINTERCARD",
                "2",
                k1,
                k2,
                "LIMIT",
                random.pick(&["0", "1", "3"]),
            ]),
            18 | 19 => x(&["OBJECT", "ENCODING", k1]),
            20 => x(&["DEL", k1]),
            21 => x(&["SET", k1, m1]),
            // Whole sets only: a random pick would make the scripts diverge.
            22 => unordered(&["SPOP", k1, "100"]),
            _ => unordered(&["SRANDMEMBER", k1, "100"]),
        };
        steps.push(step);
    }
    steps.push(x(&["CONFIG", "SET", "set-max-intset-entries", "512"]));
    script(&format!("random set commands, seed {seed}"), steps)
}

#[test]
fn random_set_commands_match_redis() {
    let scripts: Vec<Script> = (1..=6)
        .map(|seed| random_commands(seed * 104_729, 400))
        .collect();
    compare_scripts_resp2_and_resp3(&scripts, THREADS);
}

/// The same random scripts, each sent as one pipeline: with four shards,
/// consecutive commands (and multi-key commands) run on different workers,
/// and their replies must still come back in order.
#[test]
fn pipelined_random_set_commands_match_redis() {
    let scripts: Vec<Script> = (1..=3)
        .map(|seed| random_commands(seed * 7_919, 400))
        .collect();
    for resp3 in [false, true] {
        let options = DiffOptions {
            resp3,
            pipelined: true,
            ..DiffOptions::default()
        };
        compare_scripts_with(&scripts, THREADS, &options);
    }
}
