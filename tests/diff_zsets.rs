//! Sorted set commands compared with `redis-server` reply for reply: every
//! command of the family with its options and edge cases, score parsing and
//! formatting, both encodings and the conversions between them (also after
//! CONFIG SET), emptied sets disappearing, the generic key commands on
//! sorted sets, and multi-key commands across shards, under RESP2 and RESP3,
//! against `--threads 1` and `4`.

mod util;

use util::diff::{
    compare_scripts_resp2_and_resp3, keys_on_each_shard, script, shape, x, Script, Step,
};
use util::ServerProcess;

/// Every script runs against a single-shard and a four-shard Shoal.
const THREADS: &[usize] = &[1, 4];

/// `ZADD key score member ...` for `members` pairs from `pairs`.
fn zadd_pairs(key: &str, pairs: impl Iterator<Item = (String, String)>) -> Step {
    let mut args = vec!["ZADD".to_string(), key.to_string()];
    for (score, member) in pairs {
        args.push(score);
        args.push(member);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    x(&args)
}

/// A sorted set of `n` members `m000`.. with scores `i / 2` (so scores
/// repeat in pairs and members break the ties).
fn zadd_many(key: &str, n: usize) -> Step {
    zadd_pairs(
        key,
        (0..n).map(|i| (format!("{}", i / 2), format!("m{i:03}"))),
    )
}

/// Steps that put the default encoding limits back, so later scripts on the
/// same servers start from Redis's defaults.
fn reset_limits() -> Vec<Step> {
    vec![
        x(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]),
        x(&["CONFIG", "SET", "zset-max-listpack-value", "64"]),
    ]
}

/* ---------------------------------------------------------------------------
 * ZADD and ZINCRBY
 * ------------------------------------------------------------------------- */

fn zadd_options() -> Script {
    script(
        "ZADD options and their combinations",
        vec![
            x(&["ZADD", "z", "1", "a", "2", "b"]),
            x(&["ZADD", "z", "1", "a", "3", "c"]),
            x(&["ZADD", "z", "CH", "5", "a", "3", "c", "4", "d"]),
            x(&["ZADD", "z", "NX", "9", "a", "9", "e"]),
            x(&["ZADD", "z", "XX", "10", "a", "10", "f"]),
            x(&["ZADD", "z", "XX", "CH", "11", "a", "10", "f"]),
            x(&["ZADD", "z", "GT", "CH", "1", "a", "20", "b"]),
            x(&["ZADD", "z", "LT", "CH", "100", "c", "0", "d", "7", "new"]),
            x(&["ZADD", "z", "GT", "XX", "CH", "30", "b", "1", "g"]),
            x(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
            x(&["ZADD", "z", "INCR", "1.5", "a"]),
            x(&["ZADD", "z", "INCR", "1", "brand-new"]),
            x(&["ZADD", "z", "NX", "INCR", "1", "a"]),
            x(&["ZADD", "z", "XX", "INCR", "1", "missing"]),
            x(&["ZADD", "z", "GT", "INCR", "-1", "a"]),
            x(&["ZADD", "z", "LT", "INCR", "-1", "a"]),
            x(&["ZADD", "z", "incr", "ch", "0", "a"]),
            x(&["ZADD", "z", "nx", "xx", "1", "a"]),
            x(&["ZADD", "z", "NX", "GT", "1", "a"]),
            x(&["ZADD", "z", "LT", "NX", "1", "a"]),
            x(&["ZADD", "z", "GT", "LT", "1", "a"]),
            x(&["ZADD", "z", "INCR", "1", "a", "2", "b"]),
            x(&["ZADD", "z", "1", "a", "2"]),
            x(&["ZADD", "z", "NX"]),
            x(&["ZADD", "z", "NX", "XX", "1"]),
            x(&["ZADD", "z", "CH", "1", "a", "b", "c"]),
            x(&["ZADD", "z", "nan", "a"]),
            x(&["ZADD", "z", "1", "a", "x", "b"]),
            x(&["ZADD", "z", "XX", "NX", "x", "b"]),
            x(&["ZADD", "z"]),
            x(&["ZADD", "z", "1"]),
            x(&["ZADD"]),
            x(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
            x(&["ZADD", "missing", "XX", "1", "a"]),
            x(&["ZADD", "missing", "XX", "INCR", "1", "a"]),
            x(&["EXISTS", "missing"]),
            x(&["ZADD", "dup", "1", "a", "2", "a", "3", "a"]),
            x(&["ZADD", "dup", "CH", "3", "a", "3", "a"]),
            x(&["ZRANGE", "dup", "0", "-1", "WITHSCORES"]),
            x(&["ZADD", "nan", "INCR", "inf", "m"]),
            x(&["ZADD", "nan", "INCR", "-inf", "m"]),
            x(&["ZINCRBY", "nan", "-inf", "m"]),
            x(&["ZSCORE", "nan", "m"]),
            x(&["ZADD", "nan", "-inf", "m"]),
            x(&["ZINCRBY", "nan", "+inf", "m"]),
            x(&["SET", "str", "v"]),
            x(&["ZADD", "str", "1", "a"]),
            x(&["ZADD", "str", "x", "a"]),
            x(&["ZADD", "str", "XX", "1", "a"]),
            x(&["ZINCRBY", "str", "1", "a"]),
            x(&["GET", "str"]),
        ],
    )
}

fn zincrby_cases() -> Script {
    script(
        "ZINCRBY",
        vec![
            x(&["ZINCRBY", "z", "1", "a"]),
            x(&["ZINCRBY", "z", "0.1", "a"]),
            x(&["ZINCRBY", "z", "0.2", "a"]),
            x(&["ZINCRBY", "z", "-1.3", "a"]),
            x(&["ZINCRBY", "z", "1e300", "a"]),
            x(&["ZINCRBY", "z", "1e300", "a"]),
            x(&["ZINCRBY", "z", "-5", "b"]),
            x(&["ZINCRBY", "z", "abc", "a"]),
            x(&["ZINCRBY", "z", "", "a"]),
            x(&["ZINCRBY", "z", "1e400", "a"]),
            x(&["ZINCRBY", "z", "nx", "a"]),
            x(&["ZINCRBY", "z", "xx", "a"]),
            x(&["ZINCRBY", "z", "incr", "a"]),
            x(&["ZINCRBY", "z", "1"]),
            x(&["ZINCRBY", "z", "1", "a", "b"]),
            x(&["ZINCRBY", "fresh", "-0", "m"]),
            x(&["ZSCORE", "fresh", "m"]),
            x(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        ],
    )
}

/// Scores as Redis parses them (strtod) and prints them (%.17g).
fn score_texts() -> Script {
    let mut steps = Vec::new();
    for (index, text) in [
        "0",
        "-0",
        "1",
        "-1",
        "1.5",
        "0.1",
        "1e17",
        "1e16",
        "123456789012345678",
        "0x10",
        "0X1p3",
        "0x1.8p1",
        "inf",
        "-inf",
        "+inf",
        "Infinity",
        "-INF",
        "4e-320",
        "1e-300",
        "1.7976931348623157e308",
        ".5",
        "5.",
        "+3",
        "00012",
        "1e400",
        "-1e400",
        "1e-400",
        "",
        " 1",
        "1 ",
        "1e",
        "nan",
        "-nan",
        "abc",
        "1,5",
        "0x",
        "--1",
        "1..2",
        "4611686018427387904",
        "4611686018427387905",
        "-4611686018427387904",
        "9007199254740993",
        "3.0000000000000004",
    ]
    .iter()
    .enumerate()
    {
        let member = format!("m{index}");
        steps.push(x(&["ZADD", "small", text, &member]));
        steps.push(x(&["ZSCORE", "small", &member]));
        steps.push(x(&["ZADD", "{big}", text, &member]));
        steps.push(x(&["ZSCORE", "{big}", &member]));
        steps.push(x(&["ZINCRBY", "incr", text, &member]));
    }
    // `{big}` is created while no listpack is allowed: the large encoding.
    let mut all = vec![
        x(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]),
        x(&["ZADD", "{big}", "0", "seed"]),
    ];
    all.extend(reset_limits());
    all.push(x(&["OBJECT", "ENCODING", "{big}"]));
    all.extend(steps);
    all.push(x(&["ZRANGE", "small", "0", "-1", "WITHSCORES"]));
    all.push(x(&["ZRANGE", "{big}", "0", "-1", "WITHSCORES"]));
    all.push(x(&["ZSCAN", "small", "0"]));
    all.push(x(&["OBJECT", "ENCODING", "small"]));
    script("score texts through ZADD, ZSCORE and ZINCRBY", all)
}

/* ---------------------------------------------------------------------------
 * Reads
 * ------------------------------------------------------------------------- */

fn single_member_reads() -> Script {
    script(
        "ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK",
        vec![
            x(&["ZCARD", "z"]),
            x(&["ZSCORE", "z", "a"]),
            x(&["ZMSCORE", "z", "a", "b"]),
            x(&["ZRANK", "z", "a"]),
            x(&["ZREVRANK", "z", "a"]),
            x(&["ZREM", "z", "a"]),
            x(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "2", "bb"]),
            x(&["ZCARD", "z"]),
            x(&["ZSCORE", "z", "bb"]),
            x(&["ZSCORE", "z", "nope"]),
            x(&["ZMSCORE", "z", "a", "nope", "c", "a"]),
            x(&["ZRANK", "z", "a"]),
            x(&["ZRANK", "z", "bb"]),
            x(&["ZRANK", "z", "nope"]),
            x(&["ZREVRANK", "z", "a"]),
            x(&["ZREVRANK", "z", "c"]),
            x(&["ZREVRANK", "z", "nope"]),
            x(&["ZREM", "z", "a", "nope", "a"]),
            x(&["ZREM", "z", "nope"]),
            x(&["ZCARD", "z"]),
            x(&["ZREM", "z", "b", "bb", "c", "extra"]),
            x(&["EXISTS", "z"]),
            x(&["ZCARD", "z"]),
            x(&["SET", "s", "v"]),
            x(&["ZCARD", "s"]),
            x(&["ZSCORE", "s", "a"]),
            x(&["ZMSCORE", "s", "a"]),
            x(&["ZRANK", "s", "a"]),
            x(&["ZREVRANK", "s", "a"]),
            x(&["ZREM", "s", "a"]),
            x(&["ZCARD"]),
            x(&["ZCARD", "a", "b"]),
            x(&["ZSCORE", "z"]),
            x(&["ZMSCORE", "z"]),
            x(&["ZREM", "z"]),
            x(&["ZRANK", "z"]),
            // And the other way: string commands on a sorted set.
            x(&["ZADD", "z2", "1", "a"]),
            x(&["GET", "z2"]),
            x(&["APPEND", "z2", "x"]),
            x(&["INCR", "z2"]),
        ],
    )
}

fn counts() -> Script {
    script(
        "ZCOUNT ZLEXCOUNT",
        vec![
            x(&["ZCOUNT", "z", "-inf", "+inf"]),
            x(&["ZLEXCOUNT", "z", "-", "+"]),
            x(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]),
            x(&["ZCOUNT", "z", "-inf", "+inf"]),
            x(&["ZCOUNT", "z", "2", "3"]),
            x(&["ZCOUNT", "z", "(2", "3"]),
            x(&["ZCOUNT", "z", "(2", "(3"]),
            x(&["ZCOUNT", "z", "3", "2"]),
            x(&["ZCOUNT", "z", "(2", "2"]),
            x(&["ZCOUNT", "z", "2", "2"]),
            x(&["ZCOUNT", "z", "5", "10"]),
            x(&["ZCOUNT", "z", "", ""]),
            x(&["ZCOUNT", "z", "(", "10"]),
            x(&["ZCOUNT", "z", " 1", "10"]),
            x(&["ZCOUNT", "z", "1e400", "1e500"]),
            x(&["ZCOUNT", "z", "0x1", "0x3"]),
            x(&["ZCOUNT", "z", "((1", "2"]),
            x(&["ZCOUNT", "z", "1 ", "2"]),
            x(&["ZCOUNT", "z", "nan", "2"]),
            x(&["ZCOUNT", "z", "1", "abc"]),
            x(&["ZCOUNT", "missing", "1", "abc"]),
            x(&["ZLEXCOUNT", "z", "-", "+"]),
            x(&["ZLEXCOUNT", "z", "[b", "[c"]),
            x(&["ZLEXCOUNT", "z", "(b", "[c"]),
            x(&["ZLEXCOUNT", "z", "(b", "(c"]),
            x(&["ZLEXCOUNT", "z", "[c", "[b"]),
            x(&["ZLEXCOUNT", "z", "+", "-"]),
            x(&["ZLEXCOUNT", "z", "-", "-"]),
            x(&["ZLEXCOUNT", "z", "[", "+"]),
            x(&["ZLEXCOUNT", "z", "(", "+"]),
            x(&["ZLEXCOUNT", "z", "b", "+"]),
            x(&["ZLEXCOUNT", "z", "", "+"]),
            x(&["ZLEXCOUNT", "z", "-a", "+"]),
            x(&["ZLEXCOUNT", "z", "-", "++"]),
            x(&["ZLEXCOUNT", "missing", "x", "+"]),
            x(&["SET", "s", "v"]),
            x(&["ZCOUNT", "s", "0", "1"]),
            x(&["ZLEXCOUNT", "s", "-", "+"]),
            x(&["ZCOUNT", "s", "x", "1"]),
            x(&["ZCOUNT", "z", "1"]),
            x(&["ZLEXCOUNT", "z", "-", "+", "x"]),
        ],
    )
}

/* ---------------------------------------------------------------------------
 * The ZRANGE family
 * ------------------------------------------------------------------------- */

fn ranges_by_rank(key: &str, len: i64) -> Vec<Step> {
    let mut steps = Vec::new();
    let bounds: Vec<String> = [
        0,
        1,
        2,
        -1,
        -2,
        -3,
        len - 1,
        len,
        len + 5,
        -len,
        -len - 3,
        100,
    ]
    .iter()
    .map(i64::to_string)
    .collect();
    for start in &bounds {
        for stop in ["0", "-1", "2", "-3", "1000"] {
            steps.push(x(&["ZRANGE", key, start, stop]));
        }
        steps.push(x(&["ZRANGE", key, start, "-1", "WITHSCORES"]));
        steps.push(x(&["ZRANGE", key, start, "3", "REV", "WITHSCORES"]));
        steps.push(x(&["ZREVRANGE", key, start, "-2", "WITHSCORES"]));
        steps.push(x(&["ZREVRANGE", key, start, "2"]));
    }
    steps
}

fn zrange_by_rank() -> Script {
    let mut steps = vec![zadd_many("z", 9)];
    steps.extend(ranges_by_rank("z", 9));
    steps.extend([
        x(&["ZRANGE", "missing", "0", "-1"]),
        x(&["ZREVRANGE", "missing", "0", "-1", "WITHSCORES"]),
        x(&["ZRANGE", "z", "a", "1"]),
        x(&["ZRANGE", "z", "0", "1.5"]),
        x(&["ZRANGE", "z", "0", "9223372036854775808"]),
        x(&["ZRANGE", "z", "-9223372036854775808", "9223372036854775807"]),
        x(&["ZRANGE", "z", "0", "-1", "WITHSCORES", "WITHSCORES"]),
        x(&["ZRANGE", "z", "0", "-1", "REV", "REV"]),
        x(&["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"]),
        x(&["ZRANGE", "z", "0", "-1", "LIMIT", "0", "-1"]),
        x(&["ZRANGE", "z", "0", "-1", "LIMIT", "0"]),
        x(&["ZRANGE", "z", "0", "-1", "LIMIT", "x", "1"]),
        x(&["ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX"]),
        x(&["ZRANGE", "z", "0", "-1", "FOO"]),
        x(&["ZREVRANGE", "z", "0", "-1", "REV"]),
        x(&["ZREVRANGE", "z", "0", "-1", "BYSCORE"]),
        x(&["ZREVRANGE", "z", "0", "-1", "LIMIT", "0", "1"]),
        x(&["ZRANGE", "z", "0"]),
        x(&["ZREVRANGE", "z", "0"]),
        x(&["SET", "s", "v"]),
        x(&["ZRANGE", "s", "0", "-1"]),
        x(&["ZRANGE", "s", "x", "-1"]),
        x(&["ZREVRANGE", "s", "0", "-1"]),
    ]);
    script("ZRANGE and ZREVRANGE by rank", steps)
}

fn score_range_steps(key: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let ranges = [
        ("-inf", "+inf"),
        ("1", "3"),
        ("(1", "3"),
        ("1", "(3"),
        ("(1", "(3"),
        ("3", "1"),
        ("(2", "2"),
        ("2", "2"),
        ("-inf", "0"),
        ("100", "+inf"),
        ("1.5", "2.5"),
        ("", "2"),
        ("(", "(3"),
        ("-inf", "-inf"),
        ("+inf", "+inf"),
    ];
    for (min, max) in ranges {
        steps.push(x(&["ZRANGEBYSCORE", key, min, max]));
        steps.push(x(&["ZRANGEBYSCORE", key, min, max, "WITHSCORES"]));
        steps.push(x(&["ZREVRANGEBYSCORE", key, max, min, "WITHSCORES"]));
        steps.push(x(&["ZRANGE", key, min, max, "BYSCORE", "WITHSCORES"]));
        steps.push(x(&["ZRANGE", key, max, min, "BYSCORE", "REV"]));
        steps.push(x(&["ZCOUNT", key, min, max]));
        for (offset, count) in [
            ("0", "1"),
            ("1", "2"),
            ("2", "-1"),
            ("-1", "2"),
            ("0", "0"),
            ("3", "100"),
            ("100", "1"),
        ] {
            steps.push(x(&["ZRANGEBYSCORE", key, min, max, "LIMIT", offset, count]));
            steps.push(x(&[
                "ZREVRANGEBYSCORE",
                key,
                max,
                min,
                "WITHSCORES",
                "LIMIT",
                offset,
                count,
            ]));
            steps.push(x(&[
                "ZRANGE", key, max, min, "BYSCORE", "REV", "LIMIT", offset, count,
            ]));
        }
    }
    steps
}

fn zrange_by_score() -> Script {
    let mut steps = vec![zadd_many("z", 9)];
    steps.extend(score_range_steps("z"));
    steps.extend([
        x(&["ZRANGEBYSCORE", "missing", "0", "1"]),
        x(&["ZRANGEBYSCORE", "z", "a", "1"]),
        x(&["ZRANGEBYSCORE", "z", "0", "nan"]),
        x(&["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "0"]),
        x(&["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "a", "1"]),
        x(&["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "0", "1.5"]),
        x(&["ZRANGEBYSCORE", "z", "0", "1", "REV"]),
        x(&["ZRANGEBYSCORE", "z", "0", "1", "BYSCORE"]),
        x(&[
            "ZRANGEBYSCORE",
            "z",
            "0",
            "1",
            "WITHSCORES",
            "WITHSCORES",
            "LIMIT",
            "0",
            "1",
            "LIMIT",
            "1",
            "1",
        ]),
        x(&["ZREVRANGEBYSCORE", "z", "1", "0", "junk"]),
        x(&[
            "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "0", "1", "LIMIT",
        ]),
        x(&["SET", "s", "v"]),
        x(&["ZRANGEBYSCORE", "s", "0", "1"]),
        x(&["ZRANGEBYSCORE", "s", "x", "1"]),
    ]);
    script("ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGE BYSCORE", steps)
}

fn lex_range_steps(key: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let ranges = [
        ("-", "+"),
        ("[m002", "[m005"),
        ("(m002", "[m005"),
        ("[m002", "(m005"),
        ("(m002", "(m005"),
        ("[m005", "[m002"),
        ("[m003", "[m003"),
        ("(m003", "[m003"),
        ("[", "+"),
        ("(", "+"),
        ("-", "[m"),
        ("[m0", "(m1"),
        ("+", "-"),
        ("-", "-"),
        ("+", "+"),
        ("[zzz", "+"),
    ];
    for (min, max) in ranges {
        steps.push(x(&["ZRANGEBYLEX", key, min, max]));
        steps.push(x(&["ZREVRANGEBYLEX", key, max, min]));
        steps.push(x(&["ZRANGE", key, min, max, "BYLEX"]));
        steps.push(x(&["ZRANGE", key, max, min, "BYLEX", "REV"]));
        steps.push(x(&["ZLEXCOUNT", key, min, max]));
        for (offset, count) in [
            ("0", "1"),
            ("1", "2"),
            ("2", "-1"),
            ("-1", "2"),
            ("0", "0"),
            ("100", "1"),
        ] {
            steps.push(x(&["ZRANGEBYLEX", key, min, max, "LIMIT", offset, count]));
            steps.push(x(&[
                "ZREVRANGEBYLEX",
                key,
                max,
                min,
                "LIMIT",
                offset,
                count,
            ]));
        }
    }
    steps
}

fn zrange_by_lex() -> Script {
    // Equal scores: the lexicographic order is the set's order.
    let mut steps = vec![zadd_pairs(
        "z",
        (0..9).map(|i| ("0".to_string(), format!("m{i:03}"))),
    )];
    steps.extend(lex_range_steps("z"));
    steps.extend([
        x(&["ZADD", "z", "0", "", "0", "M", "0", "m\u{e9}"]),
        x(&["ZRANGEBYLEX", "z", "-", "+"]),
        x(&["ZRANGEBYLEX", "z", "[", "[M"]),
        x(&["ZRANGEBYLEX", "z", "(", "+"]),
        x(&["ZRANGEBYLEX", "missing", "-", "+"]),
        x(&["ZRANGEBYLEX", "z", "a", "+"]),
        x(&["ZRANGEBYLEX", "z", "-", "b"]),
        x(&["ZRANGEBYLEX", "z", "", "+"]),
        x(&["ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"]),
        x(&["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"]),
        x(&["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "0"]),
        x(&["ZRANGEBYLEX", "z", "-", "+", "LIMIT", "x", "1"]),
        x(&["ZREVRANGEBYLEX", "z", "+", "-", "REV"]),
        x(&["SET", "s", "v"]),
        x(&["ZRANGEBYLEX", "s", "-", "+"]),
        x(&["ZRANGEBYLEX", "s", "x", "+"]),
    ]);
    script("ZRANGEBYLEX ZREVRANGEBYLEX ZRANGE BYLEX ZLEXCOUNT", steps)
}

fn zrangestore_cases() -> Script {
    let [src, dst, other, _] = keys_on_each_shard("zrs:");
    script(
        "ZRANGESTORE across shards",
        vec![
            zadd_many(&src, 9),
            x(&["ZRANGESTORE", &dst, &src, "0", "-1"]),
            x(&["ZRANGE", &dst, "0", "-1", "WITHSCORES"]),
            x(&["OBJECT", "ENCODING", &dst]),
            x(&["ZRANGESTORE", &dst, &src, "2", "4", "REV"]),
            x(&["ZRANGE", &dst, "0", "-1", "WITHSCORES"]),
            x(&[
                "ZRANGESTORE",
                &dst,
                &src,
                "(1",
                "3",
                "BYSCORE",
                "LIMIT",
                "1",
                "2",
            ]),
            x(&["ZRANGE", &dst, "0", "-1", "WITHSCORES"]),
            x(&["ZRANGESTORE", &dst, &src, "3", "(1", "BYSCORE", "REV"]),
            x(&["ZRANGE", &dst, "0", "-1", "WITHSCORES"]),
            x(&[
                "ZRANGESTORE",
                &dst,
                &src,
                "[m003",
                "+",
                "BYLEX",
                "LIMIT",
                "0",
                "2",
            ]),
            x(&["ZRANGE", &dst, "0", "-1", "WITHSCORES"]),
            x(&["EXPIRE", &dst, "100"]),
            x(&["ZRANGESTORE", &dst, &src, "0", "0"]),
            x(&["TTL", &dst]),
            // Empty results delete the destination.
            x(&["ZRANGESTORE", &dst, &src, "5", "1"]),
            x(&["EXISTS", &dst]),
            x(&["SET", &dst, "string"]),
            x(&["ZRANGESTORE", &dst, "missing", "0", "-1"]),
            x(&["EXISTS", &dst]),
            x(&["SET", &other, "string"]),
            x(&["ZRANGESTORE", &other, &src, "0", "1"]),
            x(&["TYPE", &other]),
            x(&["ZRANGESTORE", &dst, &other, "0", "1"]),
            x(&["ZRANGESTORE", &src, &src, "0", "2"]),
            x(&["ZRANGE", &src, "0", "-1"]),
            x(&["ZRANGESTORE", &dst, &src, "0", "-1", "WITHSCORES"]),
            x(&["ZRANGESTORE", &dst, &src, "0", "-1", "LIMIT", "0", "1"]),
            x(&["ZRANGESTORE", &dst, &src, "-", "+", "BYLEX", "WITHSCORES"]),
            x(&["ZRANGESTORE", &dst, &src, "x", "1", "BYSCORE"]),
            x(&["ZRANGESTORE", &dst, &src, "0"]),
            // Encodings of the stored result.
            x(&["CONFIG", "SET", "zset-max-listpack-entries", "2"]),
            x(&["ZRANGESTORE", &dst, &src, "0", "-1"]),
            x(&["OBJECT", "ENCODING", &dst]),
            x(&["ZRANGESTORE", &dst, &src, "0", "1"]),
            x(&["OBJECT", "ENCODING", &dst]),
            x(&["ZRANGESTORE", &dst, &src, "-inf", "+inf", "BYSCORE"]),
            x(&["OBJECT", "ENCODING", &dst]),
            x(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]),
            x(&[
                "ZADD",
                &src,
                "7",
                "a-member-longer-than-the-value-limit-of-sixty-four-bytes-xxxxxxxxxx",
            ]),
            x(&["OBJECT", "ENCODING", &src]),
            x(&["ZRANGESTORE", &dst, &src, "0", "1"]),
            x(&["OBJECT", "ENCODING", &dst]),
            x(&["ZRANGESTORE", &dst, &src, "-1", "-1"]),
            x(&["OBJECT", "ENCODING", &dst]),
            x(&["ZRANGE", &dst, "0", "-1", "WITHSCORES"]),
        ],
    )
}

/* ---------------------------------------------------------------------------
 * Removal by range, popping
 * ------------------------------------------------------------------------- */

fn remove_ranges() -> Script {
    let mut steps = Vec::new();
    for (start, stop) in [
        ("0", "0"),
        ("-1", "-1"),
        ("1", "2"),
        ("5", "1"),
        ("-100", "1"),
        ("7", "100"),
        ("100", "200"),
    ] {
        steps.push(zadd_many("z", 9));
        steps.push(x(&["ZREMRANGEBYRANK", "z", start, stop]));
        steps.push(x(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]));
    }
    for (min, max) in [
        ("1", "2"),
        ("(1", "(3"),
        ("-inf", "0"),
        ("3", "1"),
        ("10", "+inf"),
        ("", ""),
    ] {
        steps.push(zadd_many("z", 9));
        steps.push(x(&["ZREMRANGEBYSCORE", "z", min, max]));
        steps.push(x(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]));
    }
    steps.push(x(&["DEL", "z"]));
    for (min, max) in [
        ("[m001", "[m003"),
        ("(m001", "(m003"),
        ("-", "[m000"),
        ("[m5", "+"),
        ("+", "-"),
    ] {
        steps.push(zadd_pairs(
            "z",
            (0..9).map(|i| ("0".to_string(), format!("m{i:03}"))),
        ));
        steps.push(x(&["ZREMRANGEBYLEX", "z", min, max]));
        steps.push(x(&["ZRANGE", "z", "0", "-1"]));
    }
    steps.extend([
        // Removing everything removes the key.
        x(&["ZREMRANGEBYRANK", "z", "0", "-1"]),
        x(&["EXISTS", "z"]),
        zadd_many("z", 3),
        x(&["ZREMRANGEBYSCORE", "z", "-inf", "+inf"]),
        x(&["EXISTS", "z"]),
        zadd_many("z", 3),
        x(&["ZREMRANGEBYLEX", "z", "-", "+"]),
        x(&["EXISTS", "z"]),
        x(&["ZREMRANGEBYRANK", "missing", "0", "-1"]),
        x(&["ZREMRANGEBYSCORE", "missing", "x", "1"]),
        x(&["ZREMRANGEBYRANK", "missing", "x", "1"]),
        x(&["ZREMRANGEBYLEX", "missing", "x", "+"]),
        x(&["ZREMRANGEBYRANK", "z", "0", "1.5"]),
        x(&["ZREMRANGEBYSCORE", "z", "(", "nan"]),
        x(&["SET", "s", "v"]),
        x(&["ZREMRANGEBYRANK", "s", "0", "1"]),
        x(&["ZREMRANGEBYSCORE", "s", "0", "1"]),
        x(&["ZREMRANGEBYLEX", "s", "-", "+"]),
        x(&["ZREMRANGEBYRANK", "s", "0"]),
        x(&["ZREMRANGEBYLEX", "s", "-", "+", "x"]),
    ]);
    script("ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX", steps)
}

fn pops() -> Script {
    script(
        "ZPOPMIN ZPOPMAX",
        vec![
            zadd_many("z", 7),
            x(&["ZPOPMIN", "z"]),
            x(&["ZPOPMAX", "z"]),
            x(&["ZPOPMIN", "z", "2"]),
            x(&["ZPOPMAX", "z", "1"]),
            x(&["ZPOPMIN", "z", "0"]),
            x(&["ZPOPMAX", "z", "100"]),
            x(&["EXISTS", "z"]),
            x(&["ZPOPMIN", "z"]),
            x(&["ZPOPMIN", "z", "3"]),
            x(&["ZPOPMAX", "z", "0"]),
            x(&["ZPOPMIN", "z", "-1"]),
            x(&["ZPOPMIN", "z", "abc"]),
            x(&["ZPOPMIN", "z", "1", "2"]),
            x(&["ZPOPMAX", "z", "1", "2", "3"]),
            x(&["SET", "s", "v"]),
            x(&["ZPOPMIN", "s"]),
            x(&["ZPOPMAX", "s", "0"]),
            x(&["ZPOPMIN", "s", "-1"]),
            x(&["ZPOPMIN"]),
            zadd_many("z", 2),
            x(&["ZPOPMAX", "z", "9223372036854775807"]),
            x(&["ZADD", "neg", "-0", "m"]),
            x(&["ZPOPMIN", "neg"]),
        ],
    )
}

fn zmpop_cases() -> Script {
    let [a, b, c, d] = keys_on_each_shard("zm:");
    script(
        "ZMPOP across shards",
        vec![
            x(&["ZMPOP", "2", &a, &b, "MIN"]),
            zadd_many(&b, 5),
            zadd_many(&c, 3),
            x(&["ZMPOP", "3", &a, &b, &c, "MIN"]),
            x(&["ZMPOP", "3", &a, &c, &b, "max", "COUNT", "2"]),
            x(&["ZMPOP", "1", &c, "MAX", "COUNT", "100"]),
            x(&["EXISTS", &c]),
            x(&["SET", &d, "v"]),
            x(&["ZMPOP", "2", &d, &b, "MIN"]),
            x(&["ZMPOP", "2", &b, &d, "MIN"]),
            x(&["ZMPOP", "2", &a, &d, "MIN"]),
            x(&["ZMPOP", "0", &a, "MIN"]),
            x(&["ZMPOP", "-1", &a, "MIN"]),
            x(&["ZMPOP", "x", &a, "MIN"]),
            x(&["ZMPOP", "3", &a, &b, "MIN"]),
            x(&["ZMPOP", "2", &a, &b]),
            x(&["ZMPOP", "1", &a, "MIDDLE"]),
            x(&["ZMPOP", "1", &b, "MIN", "COUNT"]),
            x(&["ZMPOP", "1", &b, "MIN", "COUNT", "0"]),
            x(&["ZMPOP", "1", &b, "MIN", "COUNT", "-1"]),
            x(&["ZMPOP", "1", &b, "MIN", "COUNT", "x"]),
            x(&["ZMPOP", "1", &b, "MIN", "COUNT", "1", "COUNT", "1"]),
            x(&["ZMPOP", "1", &b, "MIN", "FOO"]),
            x(&["ZMPOP", "9223372036854775807", &b, "MIN"]),
            x(&["ZMPOP", "1", &b]),
            x(&["ZMPOP", "1", &b, "MAX", "COUNT", "9223372036854775807"]),
            x(&["EXISTS", &b]),
        ],
    )
}

/* ---------------------------------------------------------------------------
 * ZRANDMEMBER
 * ------------------------------------------------------------------------- */

fn randmember() -> Script {
    let mut steps = vec![
        x(&["ZRANDMEMBER", "z"]),
        x(&["ZRANDMEMBER", "z", "5"]),
        x(&["ZRANDMEMBER", "z", "-5", "WITHSCORES"]),
        zadd_many("z", 5),
        x(&["ZRANDMEMBER", "z", "0"]),
        x(&["ZRANDMEMBER", "z", "0", "WITHSCORES"]),
        // The whole set: returned whole, in the order Redis walks it.
        x(&["ZRANDMEMBER", "z", "5"]),
        x(&["ZRANDMEMBER", "z", "50", "WITHSCORES"]),
        x(&["ZRANDMEMBER", "z", "x"]),
        x(&["ZRANDMEMBER", "z", "1", "WITHSCORE"]),
        x(&["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"]),
        x(&["ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES"]),
        x(&["ZRANDMEMBER", "z", "-9223372036854775808", "WITHSCORES"]),
        x(&["SET", "s", "v"]),
        x(&["ZRANDMEMBER", "s"]),
        x(&["ZRANDMEMBER", "s", "1"]),
        x(&["ZRANDMEMBER", "s", "x"]),
        x(&["ZRANDMEMBER"]),
    ];
    // Random picks: compare the shape (counts, kinds), not the members.
    for count in ["1", "2", "3", "4", "-1", "-3", "-12"] {
        steps.push(shape(&["ZRANDMEMBER", "z", count]));
        steps.push(shape(&["ZRANDMEMBER", "z", count, "WITHSCORES"]));
    }
    steps.push(shape(&["ZRANDMEMBER", "z"]));
    steps.push(zadd_many("big", 300));
    for count in ["1", "20", "150", "299", "-40"] {
        steps.push(shape(&["ZRANDMEMBER", "big", count, "WITHSCORES"]));
    }
    steps.push(x(&["ZRANDMEMBER", "big", "300"]));
    steps.push(x(&["ZRANDMEMBER", "big", "1000", "WITHSCORES"]));
    script("ZRANDMEMBER", steps)
}

/// Members of random picks belong to the set and unique picks do not repeat.
#[test]
fn zrandmember_picks_members_of_the_set() {
    for encoding_size in [5usize, 300] {
        let server = ServerProcess::shoal(&["--threads", "1"]);
        let mut client = server.connect();
        let mut args = vec!["ZADD".to_string(), "z".to_string()];
        for i in 0..encoding_size {
            args.push(i.to_string());
            args.push(format!("m{i}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        client.call(&args);
        for count in [1i64, 3, 4, -7, (encoding_size as i64) - 1] {
            let reply = client.call(&["ZRANDMEMBER", "z", &count.to_string()]);
            let shoal_protocol::Reply::Array(items) = reply else {
                panic!("an array");
            };
            let members: Vec<Vec<u8>> = items
                .into_iter()
                .map(|item| match item {
                    shoal_protocol::Reply::Bulk(bytes) => bytes,
                    other => panic!("a bulk member, not {other:?}"),
                })
                .collect();
            assert_eq!(members.len() as u64, count.unsigned_abs());
            for member in &members {
                let index: usize = std::str::from_utf8(&member[1..]).unwrap().parse().unwrap();
                assert!(index < encoding_size);
            }
            if count > 0 {
                let distinct: std::collections::HashSet<_> = members.iter().collect();
                assert_eq!(distinct.len(), members.len(), "unique picks");
            }
        }
    }
}

/* ---------------------------------------------------------------------------
 * Set algebra
 * ------------------------------------------------------------------------- */

fn set_algebra() -> Script {
    let [a, b, c, d] = keys_on_each_shard("alg:");
    let mut steps = vec![
        x(&["ZADD", &a, "1", "x", "2", "y", "3", "z"]),
        x(&["ZADD", &b, "10", "y", "20", "z", "30", "w"]),
        x(&["ZADD", &c, "inf", "x", "-inf", "y", "5", "z"]),
    ];
    for command in ["ZUNION", "ZINTER", "ZDIFF"] {
        for keys in [
            vec![&a],
            vec![&a, &b],
            vec![&b, &a],
            vec![&a, &b, &c],
            vec![&a, &d],
            vec![&d, &a],
            vec![&a, &a],
        ] {
            let mut args: Vec<&str> = vec![command];
            let numkeys = keys.len().to_string();
            args.push(&numkeys);
            args.extend(keys.iter().map(|key| key.as_str()));
            steps.push(x(&args));
            let mut with = args.clone();
            with.push("WITHSCORES");
            steps.push(x(&with));
            if command != "ZDIFF" {
                for aggregate in ["SUM", "MIN", "MAX", "max"] {
                    let mut weighted = args.clone();
                    weighted.push("WEIGHTS");
                    let weights: Vec<String> = (0..keys.len())
                        .map(|i| format!("{}", i as f64 * 1.5 - 1.0))
                        .collect();
                    weighted.extend(weights.iter().map(String::as_str));
                    weighted.extend(["AGGREGATE", aggregate, "WITHSCORES"]);
                    steps.push(x(&weighted));
                }
            }
            let store = format!("{command}STORE");
            let mut stored: Vec<&str> = vec![&store, &d];
            stored.extend(&args[1..]);
            steps.push(x(&stored));
            steps.push(x(&["ZRANGE", &d, "0", "-1", "WITHSCORES"]));
            steps.push(x(&["DEL", &d]));
        }
    }
    steps.extend([
        // inf + -inf sums to 0 in Redis; 0 × inf weights to 0.
        x(&["ZUNION", "2", &c, &c, "WITHSCORES"]),
        x(&["ZUNION", "2", &c, &a, "WEIGHTS", "1", "-1", "WITHSCORES"]),
        x(&["ZINTER", "2", &c, &a, "WEIGHTS", "0", "1", "WITHSCORES"]),
        x(&["ZINTER", "2", &c, &c, "WEIGHTS", "1", "-1", "WITHSCORES"]),
        x(&["ZUNION", "1", &a, "WEIGHTS", "inf", "WITHSCORES"]),
        x(&["ZINTERCARD", "1", &a]),
        x(&["ZINTERCARD", "2", &a, &b]),
        x(&["ZINTERCARD", "2", &a, &b, "LIMIT", "1"]),
        x(&["ZINTERCARD", "2", &a, &b, "LIMIT", "0"]),
        x(&["ZINTERCARD", "2", &a, &b, "LIMIT", "100"]),
        x(&["ZINTERCARD", "2", &a, &d]),
        x(&["ZINTERCARD", "2", &a, &b, "LIMIT", "-1"]),
        x(&["ZINTERCARD", "2", &a, &b, "LIMIT", "x"]),
        x(&["ZINTERCARD", "2", &a, &b, "LIMIT"]),
        x(&["ZINTERCARD", "2", &a, &b, "WITHSCORES"]),
        x(&["ZINTERCARD", "2", &a, &b, "WEIGHTS", "1", "2"]),
        x(&["ZINTERCARD", "0", &a]),
        x(&["ZINTERCARD", "3", &a, &b]),
        // Errors, in Redis's order.
        x(&["ZUNION", "0", &a]),
        x(&["ZUNION", "-1", &a]),
        x(&["ZUNION", "x", &a]),
        x(&["ZUNION", "3", &a, &b]),
        x(&["ZUNIONSTORE", &d, "0", &a]),
        x(&["ZINTERSTORE", &d, "x", &a]),
        x(&["ZDIFFSTORE", &d, "2", &a]),
        x(&["ZUNION", "2", &a, &b, "WEIGHTS", "1"]),
        x(&["ZUNION", "2", &a, &b, "WEIGHTS", "1", "x"]),
        x(&["ZUNION", "2", &a, &b, "WEIGHTS", "1", "nan"]),
        x(&["ZUNION", "2", &a, &b, "AGGREGATE", "AVG"]),
        x(&["ZUNION", "2", &a, &b, "AGGREGATE"]),
        x(&["ZUNION", "2", &a, &b, "FOO"]),
        x(&["ZUNIONSTORE", &d, "2", &a, &b, "WITHSCORES"]),
        x(&["ZDIFF", "2", &a, &b, "WEIGHTS", "1", "2"]),
        x(&["ZDIFF", "2", &a, &b, "AGGREGATE", "SUM"]),
        x(&["ZDIFFSTORE", &d, "2", &a, &b, "WITHSCORES"]),
        x(&["SET", &d, "v"]),
        x(&["ZUNION", "2", &a, &d]),
        x(&["ZINTER", "2", &d, "missing", "FOO"]),
        x(&["ZDIFF", "2", "missing", &d]),
        x(&["ZINTERCARD", "2", &a, &d]),
        x(&["ZUNIONSTORE", &b, "2", &a, &d]),
        // A destination of another type is replaced; an empty result deletes it.
        x(&["ZUNIONSTORE", &d, "1", &a]),
        x(&["TYPE", &d]),
        x(&["EXPIRE", &d, "100"]),
        x(&["ZINTERSTORE", &d, "2", &a, "missing"]),
        x(&["EXISTS", &d]),
        x(&["ZUNIONSTORE", &a, "2", &a, &b]),
        x(&["ZRANGE", &a, "0", "-1", "WITHSCORES"]),
        x(&["ZDIFFSTORE", &a, "2", &a, &a]),
        x(&["EXISTS", &a]),
        x(&["ZUNION"]),
        x(&["ZUNION", "1"]),
        x(&["ZUNIONSTORE", &d, "1"]),
        x(&["ZINTERCARD", "1"]),
    ]);
    script(
        "ZUNION ZINTER ZDIFF, STORE forms, ZINTERCARD across shards",
        steps,
    )
}

/// Floating-point sums happen in Redis's order: smallest input first.
fn aggregate_order() -> Script {
    let [a, b, c, _] = keys_on_each_shard("agg:");
    script(
        "set algebra sums in cardinality order",
        vec![
            x(&["ZADD", &a, "0.1", "m", "1", "p", "2", "q"]),
            x(&["ZADD", &b, "0.2", "m"]),
            x(&["ZADD", &c, "0.3", "m", "1", "p"]),
            x(&["ZUNION", "3", &a, &b, &c, "WITHSCORES"]),
            x(&["ZUNION", "3", &c, &b, &a, "WITHSCORES"]),
            x(&["ZINTER", "3", &a, &b, &c, "WITHSCORES"]),
            x(&[
                "ZINTER",
                "3",
                &a,
                &c,
                &b,
                "WEIGHTS",
                "3",
                "0.7",
                "1e308",
                "WITHSCORES",
            ]),
            x(&[
                "ZUNION",
                "3",
                &a,
                &b,
                &c,
                "WEIGHTS",
                "1e308",
                "1e308",
                "1e308",
                "WITHSCORES",
            ]),
        ],
    )
}

/// Plain sets are inputs too, every member scoring 1.
#[test]
fn set_algebra_with_plain_sets_matches_redis() {
    let [a, b, c, d] = keys_on_each_shard("mix:");
    let steps = vec![
        x(&["ZADD", &a, "1", "x", "2", "y", "3", "5"]),
        x(&["SADD", &b, "y", "z", "w"]),
        x(&["SADD", &c, "5", "7", "9"]),
        x(&["ZUNION", "3", &a, &b, &c, "WITHSCORES"]),
        x(&["ZINTER", "2", &a, &b, "WEIGHTS", "2", "3", "WITHSCORES"]),
        x(&["ZINTER", "2", &a, &c, "WITHSCORES"]),
        x(&["ZDIFF", "2", &a, &b, "WITHSCORES"]),
        x(&["ZDIFF", "2", &b, &a, "WITHSCORES"]),
        x(&["ZINTERCARD", "2", &b, &a]),
        x(&["ZUNIONSTORE", &d, "2", &b, &c]),
        x(&["ZRANGE", &d, "0", "-1", "WITHSCORES"]),
    ];
    compare_scripts_resp2_and_resp3(&[script("plain sets as inputs", steps)], THREADS);
}

/* ---------------------------------------------------------------------------
 * ZSCAN
 * ------------------------------------------------------------------------- */

fn zscan_cases() -> Script {
    script(
        "ZSCAN on a listpack, options and errors",
        vec![
            x(&["ZSCAN", "z", "0"]),
            x(&["ZSCAN", "z", "0", "COUNT", "0"]),
            x(&["ZSCAN", "z", "x"]),
            x(&[
                "ZADD", "z", "1", "a", "2.5", "b", "-0", "c", "1e17", "d", "inf", "e", "3", "ab",
            ]),
            x(&["ZSCAN", "z", "0"]),
            x(&["ZSCAN", "z", "123"]),
            x(&["ZSCAN", "z", "0", "COUNT", "1"]),
            x(&["ZSCAN", "z", "0", "MATCH", "a*"]),
            x(&["ZSCAN", "z", "0", "MATCH", "*"]),
            x(&["ZSCAN", "z", "0", "MATCH", "nothing"]),
            x(&["ZSCAN", "z", "0", "match", "?", "count", "100"]),
            x(&["ZSCAN", "z", "0", "COUNT", "0"]),
            x(&["ZSCAN", "z", "0", "COUNT", "-1"]),
            x(&["ZSCAN", "z", "0", "COUNT", "x"]),
            x(&["ZSCAN", "z", "0", "COUNT"]),
            x(&["ZSCAN", "z", "0", "TYPE", "zset"]),
            x(&["ZSCAN", "z", "0", "FOO", "bar"]),
            x(&["ZSCAN", "z", "-1"]),
            x(&["ZSCAN", "z", "18446744073709551616"]),
            x(&["ZSCAN", "z", " 0"]),
            x(&["ZSCAN", "z", ""]),
            x(&["SET", "s", "v"]),
            x(&["ZSCAN", "s", "0"]),
            x(&["ZSCAN", "s", "x"]),
            x(&["ZSCAN", "z"]),
        ],
    )
}

/// A ZSCAN of the large encoding, run to the end on both servers, returns
/// the same members with the same scores (cursors and batches differ).
#[test]
fn zscan_of_a_large_set_returns_every_member() {
    let redis = ServerProcess::redis(&[]);
    let shoal = ServerProcess::shoal(&["--threads", "4"]);
    for (pattern, expected) in [("*", 1000), ("member:1*", 111)] {
        scan_both_to_the_end(&redis, &shoal, pattern, expected);
    }
}

fn scan_both_to_the_end(
    redis: &ServerProcess,
    shoal: &ServerProcess,
    pattern: &str,
    expected: usize,
) {
    let mut collected = Vec::new();
    for server in [redis, shoal] {
        let mut client = server.connect();
        let mut args = vec!["ZADD".to_string(), "big".to_string()];
        for i in 0..1000 {
            args.push(format!("{}", f64::from(i) / 8.0));
            args.push(format!("member:{i}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        client.call(&args);
        let mut pairs = std::collections::BTreeMap::new();
        let mut cursor = "0".to_string();
        let mut calls = 0;
        loop {
            let reply = client.call(&["ZSCAN", "big", &cursor, "COUNT", "20", "MATCH", pattern]);
            let shoal_protocol::Reply::Array(parts) = reply else {
                panic!("a ZSCAN page");
            };
            let [shoal_protocol::Reply::Bulk(next), shoal_protocol::Reply::Array(items)] =
                parts.as_slice()
            else {
                panic!("a cursor and elements");
            };
            for pair in items.chunks(2) {
                let [shoal_protocol::Reply::Bulk(member), shoal_protocol::Reply::Bulk(score)] =
                    pair
                else {
                    panic!("member and score bulks");
                };
                pairs.insert(member.clone(), score.clone());
            }
            calls += 1;
            cursor = String::from_utf8(next.clone()).unwrap();
            if cursor == "0" {
                break;
            }
            assert!(calls < 10_000, "the scan ends");
        }
        assert!(calls > 10, "a large set is scanned in steps ({calls})");
        collected.push(pairs);
    }
    assert_eq!(collected[0].len(), expected);
    assert_eq!(collected[0], collected[1]);
}

/* ---------------------------------------------------------------------------
 * Encodings
 * ------------------------------------------------------------------------- */

fn encodings() -> Script {
    let long = "x".repeat(65);
    let exact = "y".repeat(64);
    let mut steps = vec![
        zadd_many("z", 128),
        x(&["OBJECT", "ENCODING", "z"]),
        x(&["ZADD", "z", "XX", "1", "m000"]),
        x(&["OBJECT", "ENCODING", "z"]),
        x(&["ZADD", "z", "200", "one-more"]),
        x(&["OBJECT", "ENCODING", "z"]),
        // Never back, however small it gets.
        x(&["ZREMRANGEBYRANK", "z", "1", "-1"]),
        x(&["ZCARD", "z"]),
        x(&["OBJECT", "ENCODING", "z"]),
        x(&["ZADD", "v", "1", &exact]),
        x(&["OBJECT", "ENCODING", "v"]),
        x(&["ZADD", "v", "2", &long]),
        x(&["OBJECT", "ENCODING", "v"]),
        x(&["ZADD", "w", "1", &long]),
        x(&["OBJECT", "ENCODING", "w"]),
        x(&["ZADD", "w2", "1", "short", "2", &long]),
        x(&["OBJECT", "ENCODING", "w2"]),
        x(&["ZINCRBY", "w3", "1", &long]),
        x(&["OBJECT", "ENCODING", "w3"]),
        // CONFIG SET moves the limits; existing values change on their next insertion.
        x(&["ZADD", "c", "1", "a", "2", "b", "3", "c", "4", "d"]),
        x(&["CONFIG", "SET", "zset-max-listpack-entries", "3"]),
        x(&["OBJECT", "ENCODING", "c"]),
        x(&["ZADD", "c", "5", "a"]),
        x(&["OBJECT", "ENCODING", "c"]),
        x(&["ZADD", "c", "5", "e"]),
        x(&["OBJECT", "ENCODING", "c"]),
        x(&["ZADD", "c3", "1", "a", "2", "b", "3", "c"]),
        x(&["OBJECT", "ENCODING", "c3"]),
        x(&["ZADD", "c4", "1", "a", "2", "b", "3", "c", "4", "d"]),
        x(&["OBJECT", "ENCODING", "c4"]),
        x(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]),
        x(&["ZADD", "c0", "1", "a"]),
        x(&["OBJECT", "ENCODING", "c0"]),
        x(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]),
        x(&["CONFIG", "SET", "zset-max-listpack-value", "3"]),
        x(&["ZADD", "d", "1", "abc"]),
        x(&["OBJECT", "ENCODING", "d"]),
        x(&["ZADD", "d", "1", "abcd"]),
        x(&["OBJECT", "ENCODING", "d"]),
        x(&["ZADD", "d2", "1", "abcd"]),
        x(&["OBJECT", "ENCODING", "d2"]),
        x(&["CONFIG", "SET", "zset-max-listpack-value", "64"]),
        // Stored results go back to a listpack when they fit.
        x(&["ZUNIONSTORE", "u", "1", "z"]),
        x(&["OBJECT", "ENCODING", "u"]),
        x(&["ZUNIONSTORE", "u", "2", "c", "z"]),
        x(&["OBJECT", "ENCODING", "u"]),
        x(&["ZINTERSTORE", "u", "2", "z", "z"]),
        x(&["OBJECT", "ENCODING", "u"]),
        x(&["ZDIFFSTORE", "u", "1", "w2"]),
        x(&["OBJECT", "ENCODING", "u"]),
        zadd_many("big", 200),
        x(&["ZUNIONSTORE", "u", "2", "big", "c"]),
        x(&["OBJECT", "ENCODING", "u"]),
        x(&["ZDIFFSTORE", "u", "2", "big", "z"]),
        x(&["OBJECT", "ENCODING", "u"]),
        x(&["CONFIG", "SET", "zset-max-listpack-entries", "1000"]),
        x(&["ZUNIONSTORE", "u", "2", "big", "c"]),
        x(&["OBJECT", "ENCODING", "u"]),
        x(&["OBJECT", "ENCODING", "big"]),
        x(&["COPY", "big", "bigcopy"]),
        x(&["OBJECT", "ENCODING", "bigcopy"]),
    ];
    steps.extend(reset_limits());
    script("encodings and their conversions", steps)
}

/// The same questions asked of both encodings: a set built large (300
/// members with scores repeating in pairs) and the same set after
/// ZREMRANGEBYRANK shrank it (still the large encoding).
fn large_encoding() -> Script {
    let mut steps = vec![zadd_many("z", 300), x(&["OBJECT", "ENCODING", "z"])];
    steps.extend(ranges_by_rank("z", 300));
    steps.extend(score_range_steps("z"));
    for member in ["m000", "m001", "m150", "m299", "nope"] {
        steps.push(x(&["ZRANK", "z", member]));
        steps.push(x(&["ZREVRANK", "z", member]));
        steps.push(x(&["ZSCORE", "z", member]));
    }
    steps.extend([
        x(&["ZMSCORE", "z", "m010", "nope", "m299"]),
        x(&["ZCARD", "z"]),
        x(&[
            "ZADD", "z", "CH", "1000", "m000", "-5", "m299", "0.5", "fresh",
        ]),
        x(&["ZINCRBY", "z", "0.25", "m150"]),
        x(&["ZADD", "z", "GT", "CH", "1", "m000", "2000", "m001"]),
        x(&["ZRANGE", "z", "0", "5", "WITHSCORES"]),
        x(&["ZRANGE", "z", "-5", "-1", "WITHSCORES"]),
        x(&["ZREM", "z", "m100", "m101", "nope"]),
        x(&["ZRANGE", "z", "95", "105"]),
        x(&["ZPOPMIN", "z", "3"]),
        x(&["ZPOPMAX", "z"]),
        x(&["ZREMRANGEBYSCORE", "z", "(10", "20"]),
        x(&["ZREMRANGEBYRANK", "z", "10", "19"]),
        x(&["ZCARD", "z"]),
        x(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        x(&["ZREMRANGEBYRANK", "z", "20", "-1"]),
        x(&["OBJECT", "ENCODING", "z"]),
        x(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
    ]);
    steps.extend(ranges_by_rank("z", 20));
    // Lexicographic ranges over a large set of equal scores.
    steps.push(zadd_pairs(
        "lex",
        (0..300).map(|i| ("0".to_string(), format!("m{i:03}"))),
    ));
    steps.extend(lex_range_steps("lex"));
    steps.push(x(&["ZREMRANGEBYLEX", "lex", "[m100", "(m200"]));
    steps.push(x(&["ZCARD", "lex"]));
    steps.push(x(&["ZRANGEBYLEX", "lex", "[m095", "[m205"]));
    script("the large encoding", steps)
}

/* ---------------------------------------------------------------------------
 * Generic key commands on sorted sets
 * ------------------------------------------------------------------------- */

fn generic_commands() -> Script {
    let [a, b, c, d] = keys_on_each_shard("gen:");
    script(
        "TYPE OBJECT DEL EXISTS EXPIRE RENAME COPY MOVE SCAN on sorted sets",
        vec![
            x(&["ZADD", &a, "1", "x", "2", "y"]),
            zadd_many(&b, 200),
            x(&["TYPE", &a]),
            x(&["TYPE", &b]),
            x(&["OBJECT", "ENCODING", &a]),
            x(&["OBJECT", "ENCODING", &b]),
            x(&["EXISTS", &a, &b, &c]),
            x(&["DBSIZE"]),
            Step::new(&["KEYS", "gen:*"], util::diff::Check::Unordered),
            util::diff::scan_all(&["TYPE", "zset"]),
            util::diff::scan_all(&["TYPE", "string"]),
            x(&["EXPIRE", &a, "100"]),
            x(&["TTL", &a]),
            x(&["ZADD", &a, "3", "z"]),
            x(&["TTL", &a]),
            x(&["RENAME", &a, &c]),
            x(&["ZRANGE", &c, "0", "-1", "WITHSCORES"]),
            x(&["TTL", &c]),
            x(&["COPY", &b, &d]),
            x(&["ZCARD", &d]),
            x(&["OBJECT", "ENCODING", &d]),
            x(&["ZADD", &d, "0", "only-in-copy"]),
            x(&["ZCARD", &b]),
            x(&["ZCARD", &d]),
            x(&["COPY", &c, &d]),
            x(&["COPY", &c, &d, "REPLACE"]),
            x(&["ZRANGE", &d, "0", "-1"]),
            x(&["MOVE", &c, "1"]),
            x(&["EXISTS", &c]),
            x(&["SELECT", "1"]),
            x(&["ZRANGE", &c, "0", "-1", "WITHSCORES"]),
            x(&["TYPE", &c]),
            x(&["DEL", &c]),
            x(&["SELECT", "0"]),
            x(&["DEL", &b, &d]),
            x(&["EXISTS", &b, &d]),
            x(&["RANDOMKEY"]),
        ],
    )
}

/// Which lookups count as keyspace hits and misses: Redis's read commands
/// (and the inputs of the set algebra, stored or not) count, writes do not.
fn keyspace_hits_and_misses() -> Script {
    let [a, b, c, d] = keys_on_each_shard("hits:");
    let [a, b, c, d] = [a.as_str(), b.as_str(), c.as_str(), d.as_str()];
    let mut steps = vec![
        x(&["CONFIG", "RESETSTAT"]),
        x(&["ZADD", a, "1", "x", "2", "y"]),
        x(&["ZADD", b, "3", "y"]),
    ];
    let reads: &[&[&str]] = &[
        &["ZCARD", a],
        &["ZCARD", c],
        &["ZSCORE", a, "x"],
        &["ZMSCORE", c, "x"],
        &["ZRANK", a, "x"],
        &["ZREVRANK", c, "x"],
        &["ZCOUNT", a, "0", "1"],
        &["ZCOUNT", a, "x", "1"],
        &["ZLEXCOUNT", c, "-", "+"],
        &["ZRANGE", a, "0", "-1"],
        &["ZRANGEBYSCORE", c, "0", "1"],
        &["ZREVRANGEBYLEX", a, "+", "-"],
        &["ZRANGESTORE", d, a, "0", "0"],
        &["ZRANGESTORE", d, c, "0", "0"],
        &["ZRANDMEMBER", a],
        &["ZRANDMEMBER", c, "3"],
        &["ZSCAN", a, "0"],
        &["ZSCAN", c, "0"],
        &["ZSCAN", c, "x"],
        &["ZUNION", "3", a, b, c],
        &["ZINTERSTORE", d, "2", a, b],
        &["ZDIFF", "2", c, c],
        &["ZINTERCARD", "2", a, d],
        &["ZADD", c, "1", "x"],
        &["ZINCRBY", d, "1", "x"],
        &["ZREM", c, "x"],
        &["ZREMRANGEBYRANK", a, "5", "6"],
        &["ZPOPMIN", c],
        &["ZMPOP", "2", c, a, "MIN"],
    ];
    for read in reads {
        if read[0] == "ZRANDMEMBER" && read.len() == 2 {
            steps.push(shape(read));
        } else {
            steps.push(x(read));
        }
        steps.push(Step::new(
            &["INFO", "stats"],
            util::diff::Check::InfoFields(&["keyspace_hits", "keyspace_misses"]),
        ));
    }
    script("keyspace hits and misses", steps)
}

/// Binary members: NUL bytes, bytes above 0x7f, empty members.
fn binary_members() -> Script {
    let bytes = |args: &[&[u8]]| {
        Step::bytes(
            args.iter().map(|arg| arg.to_vec()).collect(),
            util::diff::Check::Exact,
        )
    };
    script(
        "binary members",
        vec![
            bytes(&[
                b"ZADD", b"z", b"0", b"a\x00b", b"0", b"\xff", b"0", b"", b"0", b"a", b"0",
                b"a\x00",
            ]),
            bytes(&[b"ZRANGE", b"z", b"0", b"-1"]),
            bytes(&[b"ZRANGEBYLEX", b"z", b"[a\x00", b"+"]),
            bytes(&[b"ZRANGEBYLEX", b"z", b"(a", b"[\xff"]),
            bytes(&[b"ZLEXCOUNT", b"z", b"[", b"(a\x00b"]),
            bytes(&[b"ZSCORE", b"z", b"a\x00b"]),
            bytes(&[b"ZRANK", b"z", b"\xff"]),
            bytes(&[b"ZREM", b"z", b"a\x00", b""]),
            bytes(&[b"ZRANGE", b"z", b"0", b"-1"]),
            bytes(&[b"ZADD", b"z", b"1\x002", b"m"]),
            bytes(&[b"ZCOUNT", b"z", b"0\x00junk", b"+inf"]),
            bytes(&[b"ZSCAN", b"z", b"0", b"MATCH", b"a*"]),
        ],
    )
}

/* ---------------------------------------------------------------------------
 * The command table
 * ------------------------------------------------------------------------- */

/// Every command of the family.
const FAMILY: &[&str] = &[
    "zadd",
    "zincrby",
    "zrem",
    "zcard",
    "zscore",
    "zmscore",
    "zrank",
    "zrevrank",
    "zcount",
    "zlexcount",
    "zrange",
    "zrangestore",
    "zrevrange",
    "zrangebyscore",
    "zrevrangebyscore",
    "zrangebylex",
    "zrevrangebylex",
    "zremrangebyrank",
    "zremrangebyscore",
    "zremrangebylex",
    "zpopmin",
    "zpopmax",
    "zmpop",
    "zrandmember",
    "zunion",
    "zinter",
    "zdiff",
    "zunionstore",
    "zinterstore",
    "zdiffstore",
    "zintercard",
    "zscan",
];

/// Name, arity, flags, key positions and ACL categories in `COMMAND INFO`
/// are Redis's (key specs, tips and docs are not compared: Shoal leaves
/// them out).
#[test]
fn command_info_matches_redis() {
    let redis = ServerProcess::redis(&[]);
    let shoal = ServerProcess::shoal(&["--threads", "1"]);
    let (mut redis, mut shoal) = (redis.connect(), shoal.connect());
    // ZRANK and ZREVRANK take 7.2's WITHSCORE: arity -3, not 7.0's 3.
    for name in FAMILY
        .iter()
        .filter(|name| !["zrank", "zrevrank"].contains(name))
    {
        let head = |reply: shoal_protocol::Reply| match reply {
            shoal_protocol::Reply::Array(mut rows) => match rows.pop() {
                Some(shoal_protocol::Reply::Array(fields)) => fields[..7].to_vec(),
                other => panic!("one row for {name}, not {other:?}"),
            },
            other => panic!("an array for {name}, not {other:?}"),
        };
        let expected = head(redis.call(&["COMMAND", "INFO", name]));
        assert_eq!(
            head(shoal.call(&["COMMAND", "INFO", name])),
            expected,
            "{name}"
        );
    }
}

fn getkeys() -> Script {
    script(
        "COMMAND GETKEYS for the movable-key commands",
        vec![
            x(&[
                "COMMAND", "GETKEYS", "ZUNION", "2", "a", "b", "WEIGHTS", "1", "2",
            ]),
            x(&["COMMAND", "GETKEYS", "ZINTER", "1", "a"]),
            x(&["COMMAND", "GETKEYS", "ZDIFF", "3", "a", "b", "c"]),
            x(&[
                "COMMAND",
                "GETKEYS",
                "ZINTERCARD",
                "2",
                "a",
                "b",
                "LIMIT",
                "1",
            ]),
            x(&["COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b"]),
            x(&["COMMAND", "GETKEYS", "ZINTERSTORE", "d", "1", "a"]),
            x(&["COMMAND", "GETKEYS", "ZDIFFSTORE", "d", "2", "a", "b"]),
            x(&["COMMAND", "GETKEYS", "ZMPOP", "2", "a", "b", "MIN"]),
            x(&["COMMAND", "GETKEYS", "ZRANGESTORE", "d", "s", "0", "-1"]),
            x(&["COMMAND", "GETKEYS", "ZADD", "k", "1", "m"]),
        ],
    )
}

/* ---------------------------------------------------------------------------
 * The tests
 * ------------------------------------------------------------------------- */

#[test]
fn zadd_and_zincrby_match_redis() {
    compare_scripts_resp2_and_resp3(&[zadd_options(), zincrby_cases(), score_texts()], THREADS);
}

#[test]
fn reads_and_counts_match_redis() {
    compare_scripts_resp2_and_resp3(&[single_member_reads(), counts()], THREADS);
}

#[test]
fn range_commands_match_redis() {
    compare_scripts_resp2_and_resp3(
        &[
            zrange_by_rank(),
            zrange_by_score(),
            zrange_by_lex(),
            zrangestore_cases(),
        ],
        THREADS,
    );
}

#[test]
fn removals_and_pops_match_redis() {
    compare_scripts_resp2_and_resp3(
        &[remove_ranges(), pops(), zmpop_cases(), randmember()],
        THREADS,
    );
}

#[test]
fn set_algebra_matches_redis() {
    compare_scripts_resp2_and_resp3(&[set_algebra(), aggregate_order()], THREADS);
}

#[test]
fn zscan_encodings_and_generic_commands_match_redis() {
    compare_scripts_resp2_and_resp3(
        &[zscan_cases(), encodings(), generic_commands(), getkeys()],
        THREADS,
    );
}

/// Its own test: the counters are server-wide.
#[test]
fn keyspace_hits_and_misses_match_redis() {
    compare_scripts_resp2_and_resp3(&[keyspace_hits_and_misses()], THREADS);
}

#[test]
fn binary_members_match_redis() {
    compare_scripts_resp2_and_resp3(&[binary_members()], THREADS);
}

#[test]
fn the_large_encoding_matches_redis() {
    compare_scripts_resp2_and_resp3(&[large_encoding()], THREADS);
}

/// ZRANK and ZREVRANK take Redis 7.2's WITHSCORE, which 7.0.15 (the server
/// compared with above) lacks: checked on Shoal alone, against 7.2's replies.
#[test]
fn zrank_withscore_answers_as_redis_7_2() {
    use shoal_protocol::Reply;
    let server = util::ServerProcess::shoal(&["--threads", "1"]);
    let mut client = server.connect();
    client.call(&["ZADD", "z", "1.5", "a", "2", "b", "3", "c"]);
    let pair = |rank: i64, score: &str| {
        Reply::Array(vec![
            Reply::Integer(rank),
            Reply::Bulk(score.as_bytes().to_vec()),
        ])
    };
    assert_eq!(client.call(&["ZRANK", "z", "b", "WITHSCORE"]), pair(1, "2"));
    assert_eq!(
        client.call(&["ZREVRANK", "z", "a", "withscore"]),
        pair(2, "1.5")
    );
    assert_eq!(
        client.call(&["ZRANK", "z", "nope", "WITHSCORE"]),
        Reply::NullArray
    );
    assert_eq!(
        client.call(&["ZRANK", "missing", "a", "WITHSCORE"]),
        Reply::NullArray
    );
    assert_eq!(client.call(&["ZRANK", "missing", "a"]), Reply::Null);
    assert_eq!(
        client.call(&["ZRANK", "z", "a", "WITHSCORES"]),
        Reply::Error(b"ERR syntax error".to_vec())
    );
    assert_eq!(
        client.call(&["ZRANK", "z", "a", "WITHSCORE", "x"]),
        Reply::Error(b"ERR wrong number of arguments for 'zrank' command".to_vec())
    );
}
