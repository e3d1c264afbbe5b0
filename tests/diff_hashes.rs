//! Hash commands compared with `redis-server` reply for reply: every command
//! of Redis's `t_hash.c` that Shoal implements, their options, arity,
//! number and type errors, both encodings and the conversions between them
//! (after CONFIG SET too), emptied hashes disappearing, the generic key
//! commands on hashes across shards, under RESP2 and RESP3, against
//! `--threads 1` and `4`. Random replies (HRANDFIELD) are compared by shape
//! here and by membership in `hrandfield_draws_from_the_hash`.

mod util;

use shoal_protocol::Reply;
use util::diff::{
    compare_scripts_resp2_and_resp3, compare_scripts_with, keys_on_each_shard, near, scan_all,
    scan_page, script, shape, unordered, unordered_pairs, x, Check, DiffOptions, Script, Step,
};
use util::ServerProcess;

/// Every script runs against a single-shard and a four-shard Shoal.
const THREADS: &[usize] = &[1, 4];

/// `HSET key field:0 value-0 ... field:{n-1} value-{n-1}` as owned strings.
fn hset_args(key: &str, fields: usize, value_prefix: &str) -> Vec<String> {
    let mut args = vec!["HSET".to_string(), key.to_string()];
    for index in 0..fields {
        args.push(format!("field:{index}"));
        args.push(format!("{value_prefix}{index}"));
    }
    args
}

/// A step from owned arguments.
fn owned(args: &[String], check: Check) -> Step {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Step::new(&args, check)
}

fn set_and_get() -> Script {
    script(
        "HSET HGET HMGET HSETNX HMSET HLEN HEXISTS HSTRLEN",
        vec![
            x(&["HGET", "h", "f"]),
            x(&["HMGET", "h", "f", "g"]),
            x(&["HLEN", "h"]),
            x(&["HEXISTS", "h", "f"]),
            x(&["HSTRLEN", "h", "f"]),
            x(&["HSET", "h", "f", "v"]),
            x(&["HSET", "h", "f", "v2", "g", "w"]),
            x(&["HSET", "h", "a", "1", "a", "2", "b", "3"]),
            x(&["HGET", "h", "a"]),
            x(&["HGET", "h", "f"]),
            x(&["HGET", "h", "nosuch"]),
            x(&["HMGET", "h", "f", "nosuch", "g", "a", "f"]),
            x(&["HLEN", "h"]),
            x(&["HEXISTS", "h", "g"]),
            x(&["HEXISTS", "h", "nosuch"]),
            x(&["HSTRLEN", "h", "f"]),
            x(&["HSTRLEN", "h", "nosuch"]),
            x(&["HSETNX", "h", "f", "ignored"]),
            x(&["HSETNX", "h", "new", "set"]),
            x(&["HSETNX", "fresh", "f", "v"]),
            x(&["HGETALL", "fresh"]),
            x(&["HGET", "h", "f"]),
            x(&["HMSET", "h", "m1", "x", "m2", "y"]),
            x(&["HMSET", "h", "m1", "z"]),
            x(&["HMSET", "fresh2", "k", "v"]),
            x(&["HGETALL", "h"]),
            x(&["HGETALL", "fresh2"]),
            x(&["HSET", "h", "", ""]),
            x(&["HGET", "h", ""]),
            x(&["HSTRLEN", "h", ""]),
            x(&["HEXISTS", "h", ""]),
            x(&[
                "HSET",
                "h",
                "num",
                "12345",
                "neg",
                "-7",
                "big",
                "9223372036854775807",
            ]),
            x(&["HSTRLEN", "h", "num"]),
            x(&["HSTRLEN", "h", "neg"]),
            x(&["HGET", "h", "big"]),
            x(&["HSET", "h", "spaced", " 1 ", "float", "1.50"]),
            x(&["HMGET", "h", "spaced", "float"]),
            x(&["HGETALL", "h"]),
            x(&["hset", "h", "lower", "case"]),
            x(&["HsEt", "h", "Lower", "Case"]),
            x(&["hget", "h", "lower"]),
            x(&["HGET", "h", "Lower"]),
            x(&["HLEN", "h"]),
            owned(&hset_args("bench", 10, "value-"), Check::Exact),
            x(&["HGETALL", "bench"]),
            x(&["OBJECT", "ENCODING", "bench"]),
        ],
    )
}

fn binary_fields_and_values() -> Script {
    let steps = vec![
        Step::bytes(
            vec![
                b"HSET".to_vec(),
                b"bin\x00key".to_vec(),
                b"f\x00\xff".to_vec(),
                b"\r\n\x00".to_vec(),
                b"".to_vec(),
                b"\xfe".to_vec(),
            ],
            Check::Exact,
        ),
        Step::bytes(
            vec![
                b"HGET".to_vec(),
                b"bin\x00key".to_vec(),
                b"f\x00\xff".to_vec(),
            ],
            Check::Exact,
        ),
        Step::bytes(
            vec![b"HGETALL".to_vec(), b"bin\x00key".to_vec()],
            Check::Exact,
        ),
        Step::bytes(
            vec![b"HSCAN".to_vec(), b"bin\x00key".to_vec(), b"0".to_vec()],
            Check::Exact,
        ),
        Step::bytes(
            vec![
                b"HDEL".to_vec(),
                b"bin\x00key".to_vec(),
                b"f\x00\xff".to_vec(),
            ],
            Check::Exact,
        ),
        Step::bytes(
            vec![b"HKEYS".to_vec(), b"bin\x00key".to_vec()],
            Check::Exact,
        ),
    ];
    script("binary fields and values", steps)
}

fn delete_and_disappear() -> Script {
    script(
        "HDEL and emptied hashes disappearing",
        vec![
            x(&["HDEL", "h", "f"]),
            x(&["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"]),
            x(&["HDEL", "h", "nosuch"]),
            x(&["HDEL", "h", "b"]),
            x(&["HGETALL", "h"]),
            x(&["HDEL", "h", "a", "a", "nosuch", "c"]),
            x(&["HGETALL", "h"]),
            x(&["HSET", "h", "b", "again"]),
            x(&["HGETALL", "h"]),
            x(&["HDEL", "h", "d", "b", "more"]),
            x(&["EXISTS", "h"]),
            x(&["TYPE", "h"]),
            x(&["HLEN", "h"]),
            x(&["HGETALL", "h"]),
            x(&["DBSIZE"]),
            x(&["HSET", "h", "only", "one"]),
            x(&["HDEL", "h", "only"]),
            x(&["EXISTS", "h"]),
            x(&["HSETNX", "h", "f", "v"]),
            x(&["HINCRBY", "h", "n", "5"]),
            x(&["HDEL", "h", "f", "n"]),
            x(&["EXISTS", "h"]),
        ],
    )
}

fn getall_orders() -> Script {
    script(
        "HKEYS HVALS HGETALL keep insertion order while small",
        vec![
            x(&["HKEYS", "h"]),
            x(&["HVALS", "h"]),
            x(&["HGETALL", "h"]),
            x(&["HSET", "h", "z", "1", "y", "2", "x", "3", "w", "4"]),
            x(&["HKEYS", "h"]),
            x(&["HVALS", "h"]),
            x(&["HGETALL", "h"]),
            x(&["HSET", "h", "y", "updated"]),
            x(&["HDEL", "h", "z"]),
            x(&["HSET", "h", "z", "back", "a", "new"]),
            x(&["HKEYS", "h"]),
            x(&["HVALS", "h"]),
            x(&["HGETALL", "h"]),
            x(&["HINCRBY", "h", "x", "10"]),
            x(&["HINCRBYFLOAT", "h", "w", "0.5"]),
            x(&["HGETALL", "h"]),
            x(&["HSETNX", "h", "last", "one"]),
            x(&["HGETALL", "h"]),
        ],
    )
}

fn wrong_types() -> Script {
    script(
        "WRONGTYPE both ways",
        vec![
            x(&["SET", "s", "string"]),
            x(&["HSET", "s", "f", "v"]),
            x(&["HSETNX", "s", "f", "v"]),
            x(&["HMSET", "s", "f", "v"]),
            x(&["HGET", "s", "f"]),
            x(&["HMGET", "s", "f"]),
            x(&["HDEL", "s", "f"]),
            x(&["HLEN", "s"]),
            x(&["HSTRLEN", "s", "f"]),
            x(&["HEXISTS", "s", "f"]),
            x(&["HINCRBY", "s", "f", "1"]),
            x(&["HINCRBYFLOAT", "s", "f", "1"]),
            x(&["HKEYS", "s"]),
            x(&["HVALS", "s"]),
            x(&["HGETALL", "s"]),
            x(&["HSCAN", "s", "0"]),
            x(&["HRANDFIELD", "s"]),
            x(&["HRANDFIELD", "s", "0"]),
            x(&["HRANDFIELD", "s", "-2", "WITHVALUES"]),
            x(&["GET", "s"]),
            x(&["HSET", "h", "f", "v"]),
            x(&["GET", "h"]),
            x(&["STRLEN", "h"]),
            x(&["APPEND", "h", "x"]),
            x(&["INCR", "h"]),
            x(&["INCRBYFLOAT", "h", "1"]),
            x(&["GETRANGE", "h", "0", "1"]),
            x(&["SETRANGE", "h", "0", "x"]),
            x(&["GETSET", "h", "x"]),
            x(&["GETDEL", "h"]),
            x(&["MGET", "h", "s"]),
            x(&["LCS", "h", "s"]),
            x(&["HGETALL", "h"]),
            x(&["SET", "h", "overwritten"]),
            x(&["TYPE", "h"]),
            x(&["GET", "h"]),
        ],
    )
}

fn arity_errors() -> Script {
    script(
        "arity errors",
        vec![
            x(&["HSET"]),
            x(&["HSET", "h"]),
            x(&["HSET", "h", "f"]),
            x(&["HSET", "h", "f", "v", "g"]),
            x(&["HMSET", "h", "f"]),
            x(&["HMSET", "h", "f", "v", "g"]),
            x(&["HSETNX", "h", "f"]),
            x(&["HSETNX", "h", "f", "v", "w"]),
            x(&["HGET", "h"]),
            x(&["HGET", "h", "f", "g"]),
            x(&["HMGET", "h"]),
            x(&["HDEL", "h"]),
            x(&["HLEN"]),
            x(&["HLEN", "h", "x"]),
            x(&["HSTRLEN", "h"]),
            x(&["HEXISTS", "h", "f", "g"]),
            x(&["HINCRBY", "h", "f"]),
            x(&["HINCRBY", "h", "f", "1", "2"]),
            x(&["HINCRBYFLOAT", "h", "f"]),
            x(&["HKEYS"]),
            x(&["HVALS", "h", "x"]),
            x(&["HGETALL", "h", "x"]),
            x(&["HSCAN", "h"]),
            x(&["HRANDFIELD"]),
            x(&["EXISTS", "h"]),
        ],
    )
}

fn hincrby_cases() -> Script {
    script(
        "HINCRBY",
        vec![
            x(&["HINCRBY", "h", "n", "5"]),
            x(&["HINCRBY", "h", "n", "-10"]),
            x(&["HGET", "h", "n"]),
            x(&["HINCRBY", "h", "n", "0"]),
            x(&["HINCRBY", "h", "other", "-3"]),
            x(&[
                "HSET",
                "h",
                "max",
                "9223372036854775807",
                "min",
                "-9223372036854775808",
            ]),
            x(&["HINCRBY", "h", "max", "1"]),
            x(&["HINCRBY", "h", "max", "-1"]),
            x(&["HINCRBY", "h", "max", "1"]),
            x(&["HINCRBY", "h", "min", "-1"]),
            x(&["HINCRBY", "h", "min", "1"]),
            x(&["HINCRBY", "h", "n", "9223372036854775807"]),
            x(&["HINCRBY", "h", "n", "-9223372036854775808"]),
            x(&["HINCRBY", "h", "n", "abc"]),
            x(&["HINCRBY", "h", "n", "1.5"]),
            x(&["HINCRBY", "h", "n", ""]),
            x(&["HINCRBY", "h", "n", " 1"]),
            x(&["HINCRBY", "h", "n", "+1"]),
            x(&["HINCRBY", "h", "n", "9223372036854775808"]),
            x(&["HINCRBY", "h", "n", "01"]),
            x(&[
                "HSET", "h", "s", "abc", "f", "1.5", "sp", " 1", "z", "-0", "lead", "01", "e", "",
            ]),
            x(&["HINCRBY", "h", "s", "1"]),
            x(&["HINCRBY", "h", "f", "1"]),
            x(&["HINCRBY", "h", "sp", "1"]),
            x(&["HINCRBY", "h", "z", "1"]),
            x(&["HINCRBY", "h", "lead", "1"]),
            x(&["HINCRBY", "h", "e", "1"]),
            x(&["HINCRBY", "missing", "f", "abc"]),
            x(&["EXISTS", "missing"]),
            x(&["HGETALL", "h"]),
        ],
    )
}

fn hincrbyfloat_cases() -> Script {
    script(
        "HINCRBYFLOAT",
        vec![
            x(&["HINCRBYFLOAT", "h", "f", "1.5"]),
            x(&["HINCRBYFLOAT", "h", "f", "0.1"]),
            x(&["HINCRBYFLOAT", "h", "f", "-1.6"]),
            x(&["HINCRBYFLOAT", "h", "f", "1e3"]),
            x(&["HINCRBYFLOAT", "h", "f", "0.1"]),
            x(&["HINCRBYFLOAT", "h", "f", "-1000.1"]),
            x(&["HINCRBYFLOAT", "h", "f", "5.0e3"]),
            x(&["HINCRBYFLOAT", "h", "f", "1.23e-5"]),
            x(&["HINCRBYFLOAT", "h", "f", "0x10"]),
            x(&["HINCRBYFLOAT", "h", "g", "3"]),
            x(&["HINCRBYFLOAT", "h", "g", "-3"]),
            x(&["HINCRBYFLOAT", "h", "g", "-0.0"]),
            x(&["HSET", "h", "i", "10", "inf", "inf"]),
            x(&["HINCRBYFLOAT", "h", "i", "0.25"]),
            // A sum past f64's range is still a finite long double, and its
            // text is longer than a listpack value: the hash converts.
            x(&["HSET", "huge", "big", "1.7976931348623157e308"]),
            x(&["HINCRBYFLOAT", "huge", "big", "1.7976931348623157e308"]),
            x(&["OBJECT", "ENCODING", "huge"]),
            x(&["HINCRBYFLOAT", "huge", "big", "-1.7976931348623157e308"]),
            x(&["HINCRBYFLOAT", "h", "inf", "1"]),
            x(&["HINCRBYFLOAT", "h", "i", "inf"]),
            x(&["HINCRBYFLOAT", "h", "i", "-inf"]),
            x(&["HINCRBYFLOAT", "h", "i", "nan"]),
            x(&["HINCRBYFLOAT", "h", "i", "abc"]),
            x(&["HINCRBYFLOAT", "h", "i", ""]),
            x(&["HINCRBYFLOAT", "h", "i", " 1"]),
            x(&["HINCRBYFLOAT", "h", "i", "1 "]),
            x(&["HSET", "h", "s", "abc", "sp", " 2", "e", ""]),
            x(&["HINCRBYFLOAT", "h", "s", "1"]),
            x(&["HINCRBYFLOAT", "h", "sp", "1"]),
            x(&["HINCRBYFLOAT", "h", "e", "1"]),
            x(&["HINCRBYFLOAT", "missing", "f", "inf"]),
            x(&["HINCRBYFLOAT", "missing", "f", "x"]),
            x(&["EXISTS", "missing"]),
            x(&["HGETALL", "h"]),
            x(&["HINCRBY", "h", "f", "1"]),
            x(&["HINCRBY", "h", "g", "1"]),
        ],
    )
}

/// OBJECT ENCODING as a hash crosses Redis's default thresholds: more than
/// 512 pairs, a field or value longer than 64 bytes.
fn encodings_at_default_thresholds() -> Script {
    let value_64 = "v".repeat(64);
    let value_65 = "v".repeat(65);
    let mut many_512 = hset_args("many", 512, "x");
    let many_513 = hset_args("many", 513, "x");
    many_512[1] = "at".into();
    let steps = vec![
        x(&["HSET", "long", "f", &value_64]),
        x(&["OBJECT", "ENCODING", "long"]),
        x(&["HSET", "long", "g", &value_65]),
        x(&["OBJECT", "ENCODING", "long"]),
        x(&["HDEL", "long", "g"]),
        x(&["OBJECT", "ENCODING", "long"]),
        x(&["HSET", "longfield", &value_65, "v"]),
        x(&["OBJECT", "ENCODING", "longfield"]),
        x(&["HSET", "nx", "f", "v"]),
        x(&["HSETNX", "nx", "f", &value_65]),
        x(&["OBJECT", "ENCODING", "nx"]),
        x(&["HGET", "nx", "f"]),
        owned(&many_512, Check::Exact),
        x(&["OBJECT", "ENCODING", "at"]),
        x(&["HLEN", "at"]),
        x(&["HSET", "at", "field:0", "same count"]),
        x(&["OBJECT", "ENCODING", "at"]),
        x(&["HSET", "at", "one", "more"]),
        x(&["OBJECT", "ENCODING", "at"]),
        owned(&many_513, Check::Exact),
        x(&["OBJECT", "ENCODING", "many"]),
        x(&["HLEN", "many"]),
        x(&["HGET", "many", "field:512"]),
        x(&["HDEL", "many", "field:0", "field:1", "field:2"]),
        x(&["OBJECT", "ENCODING", "many"]),
        x(&["HLEN", "many"]),
        unordered(&["HKEYS", "many"]),
        unordered(&["HVALS", "many"]),
        unordered_pairs(&["HGETALL", "many"]),
        x(&["HINCRBY", "incr", "f", "1"]),
        x(&["OBJECT", "ENCODING", "incr"]),
    ];
    script("OBJECT ENCODING at the default thresholds", steps)
}

/// Thresholds moved with CONFIG SET apply to the next write; conversion
/// never goes back. The script restores Redis's defaults at its end.
fn encodings_after_config_set() -> Script {
    script(
        "OBJECT ENCODING after CONFIG SET of the thresholds",
        vec![
            x(&["HSET", "before", "a", "1", "b", "2", "c", "3"]),
            x(&["CONFIG", "SET", "hash-max-listpack-entries", "2"]),
            x(&["CONFIG", "GET", "hash-max-listpack-entries"]),
            x(&["OBJECT", "ENCODING", "before"]),
            x(&["HGET", "before", "a"]),
            x(&["OBJECT", "ENCODING", "before"]),
            x(&["HSET", "before", "a", "changed"]),
            x(&["OBJECT", "ENCODING", "before"]),
            x(&["HSET", "two", "a", "1", "b", "2"]),
            x(&["OBJECT", "ENCODING", "two"]),
            x(&["HSETNX", "two", "c", "3"]),
            x(&["OBJECT", "ENCODING", "two"]),
            x(&["HDEL", "two", "a", "b"]),
            x(&["OBJECT", "ENCODING", "two"]),
            x(&["HGETALL", "two"]),
            x(&["HINCRBY", "incr", "a", "1"]),
            x(&["HINCRBY", "incr", "b", "1"]),
            x(&["OBJECT", "ENCODING", "incr"]),
            x(&["HINCRBYFLOAT", "incr", "c", "1.5"]),
            x(&["OBJECT", "ENCODING", "incr"]),
            x(&["CONFIG", "SET", "hash-max-listpack-entries", "0"]),
            x(&["HSET", "zero", "a", "1"]),
            x(&["OBJECT", "ENCODING", "zero"]),
            x(&["CONFIG", "SET", "hash-max-listpack-entries", "128"]),
            x(&["CONFIG", "SET", "hash-max-listpack-value", "4"]),
            x(&["HSET", "short", "abcd", "1234"]),
            x(&["OBJECT", "ENCODING", "short"]),
            x(&["HINCRBY", "short", "abcd", "1"]),
            x(&["OBJECT", "ENCODING", "short"]),
            x(&["HINCRBY", "short", "abcd", "10000"]),
            x(&["OBJECT", "ENCODING", "short"]),
            x(&["HSET", "fl", "f", "1"]),
            x(&["HINCRBYFLOAT", "fl", "f", "0.5"]),
            x(&["OBJECT", "ENCODING", "fl"]),
            x(&["HINCRBYFLOAT", "fl", "f", "0.25"]),
            x(&["OBJECT", "ENCODING", "fl"]),
            x(&["HSET", "lf", "f", "1"]),
            x(&["HINCRBY", "lf", "longfield", "1"]),
            x(&["OBJECT", "ENCODING", "lf"]),
            x(&["HSET", "nx", "f", "1"]),
            x(&["HSETNX", "nx", "f", "toolong"]),
            x(&["OBJECT", "ENCODING", "nx"]),
            x(&["HSETNX", "nx2", "toolong", "1"]),
            x(&["OBJECT", "ENCODING", "nx2"]),
            x(&["CONFIG", "SET", "hash-max-listpack-value", "0"]),
            x(&["HSET", "empty", "", ""]),
            x(&["OBJECT", "ENCODING", "empty"]),
            x(&["HSET", "empty2", "", "x"]),
            x(&["OBJECT", "ENCODING", "empty2"]),
            // The Redis 6 names still set the same thresholds.
            x(&["CONFIG", "SET", "hash-max-ziplist-entries", "1"]),
            x(&["CONFIG", "SET", "hash-max-ziplist-value", "64"]),
            x(&["HSET", "alias", "a", "1"]),
            x(&["OBJECT", "ENCODING", "alias"]),
            x(&["HSET", "alias", "b", "2"]),
            x(&["OBJECT", "ENCODING", "alias"]),
            x(&["CONFIG", "SET", "hash-max-listpack-entries", "512"]),
            x(&["CONFIG", "SET", "hash-max-listpack-value", "64"]),
            x(&["OBJECT", "ENCODING", "short"]),
            x(&["HSET", "after", "a", "1"]),
            x(&["OBJECT", "ENCODING", "after"]),
        ],
    )
}

fn hscan_cases() -> Script {
    let big = hset_args("big", 600, "v");
    script(
        "HSCAN",
        vec![
            x(&["HSCAN", "h", "0"]),
            x(&["HSCAN", "h", "0", "COUNT", "0"]),
            x(&["HSCAN", "h", "x"]),
            x(&["HSET", "h", "a", "1", "b", "2", "ab", "3", "c", "4"]),
            x(&["HSCAN", "h", "0"]),
            x(&["HSCAN", "h", "0", "COUNT", "1"]),
            x(&["HSCAN", "h", "12345"]),
            x(&["HSCAN", "h", "-1"]),
            x(&["HSCAN", "h", "+0"]),
            x(&["HSCAN", "h", ""]),
            x(&["HSCAN", "h", "0", "MATCH", "a*"]),
            x(&["HSCAN", "h", "0", "MATCH", "*b"]),
            x(&["HSCAN", "h", "0", "MATCH", "[bc]"]),
            x(&["HSCAN", "h", "0", "MATCH", "nothing"]),
            x(&["HSCAN", "h", "0", "match", "*", "count", "100"]),
            x(&["HSCAN", "h", "0", "MATCH", "a*", "MATCH", "c"]),
            x(&["HSCAN", "h", "0", "COUNT", "5", "COUNT", "2"]),
            x(&["HSCAN", "h", "0", "COUNT", "0"]),
            x(&["HSCAN", "h", "0", "COUNT", "-1"]),
            x(&["HSCAN", "h", "0", "COUNT", "abc"]),
            x(&["HSCAN", "h", "0", "COUNT"]),
            x(&["HSCAN", "h", "0", "MATCH"]),
            x(&["HSCAN", "h", "0", "TYPE", "string"]),
            x(&["HSCAN", "h", "0", "NOVALUES"]),
            x(&["HSCAN", "h", "0", "COUNT", "1", "extra"]),
            x(&["HSCAN", "h", " 0"]),
            x(&["HSCAN", "h", "1.5"]),
            x(&["HSCAN", "h", "18446744073709551615"]),
            x(&["HSCAN", "h", "18446744073709551616"]),
            x(&["HSCAN", "h", "abc", "COUNT", "0"]),
            x(&["HSCAN", "missing", "0", "COUNT", "0"]),
            x(&["HSCAN", "missing", "abc"]),
            owned(&big, Check::Exact),
            scan_page(&["HSCAN", "big", "0"]),
            scan_page(&["HSCAN", "big", "0", "COUNT", "50"]),
            scan_page(&["HSCAN", "big", "0", "MATCH", "field:1*"]),
            x(&["HSCAN", "big", "0", "COUNT", "0"]),
            x(&["HSCAN", "big", "0", "MATCH", "nothing", "COUNT", "10000"]),
            x(&["HSCAN", "big", "0", "MATCH", "field:599", "COUNT", "10000"]),
        ],
    )
}

fn hrandfield_cases() -> Script {
    script(
        "HRANDFIELD",
        vec![
            x(&["HRANDFIELD", "h"]),
            x(&["HRANDFIELD", "h", "5"]),
            x(&["HRANDFIELD", "h", "-5", "WITHVALUES"]),
            x(&["HRANDFIELD", "h", "0"]),
            x(&["HRANDFIELD", "h", "abc"]),
            x(&["HRANDFIELD", "h", "1", "WITHVALUES", "x"]),
            x(&["HSET", "one", "f", "v"]),
            x(&["HRANDFIELD", "one"]),
            x(&["HRANDFIELD", "one", "1"]),
            x(&["HRANDFIELD", "one", "-1"]),
            x(&["HRANDFIELD", "one", "3"]),
            x(&["HRANDFIELD", "one", "-3"]),
            x(&["HRANDFIELD", "one", "-3", "WITHVALUES"]),
            x(&["HRANDFIELD", "one", "2", "withvalues"]),
            x(&["HRANDFIELD", "one", "0"]),
            x(&["HRANDFIELD", "one", "0", "WITHVALUES"]),
            x(&["HRANDFIELD", "one", "abc"]),
            x(&["HRANDFIELD", "one", "1.5"]),
            x(&["HRANDFIELD", "one", "-9223372036854775808"]),
            x(&["HRANDFIELD", "one", "9223372036854775807"]),
            x(&["HRANDFIELD", "one", "-9223372036854775808", "WITHVALUES"]),
            x(&["HRANDFIELD", "one", "-9223372036854775807", "WITHVALUES"]),
            x(&["HRANDFIELD", "one", "4611686018427387904", "WITHVALUES"]),
            x(&["HRANDFIELD", "one", "-4611686018427387904", "WITHVALUES"]),
            x(&["HRANDFIELD", "one", "1", "WITHSCORES"]),
            x(&["HRANDFIELD", "one", "1", "WITHVALUES", "WITHVALUES"]),
            x(&[
                "HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5",
            ]),
            shape(&["HRANDFIELD", "h"]),
            x(&["HRANDFIELD", "h", "5"]),
            x(&["HRANDFIELD", "h", "6", "WITHVALUES"]),
            x(&["HRANDFIELD", "h", "100"]),
            shape(&["HRANDFIELD", "h", "1"]),
            shape(&["HRANDFIELD", "h", "2"]),
            shape(&["HRANDFIELD", "h", "4", "WITHVALUES"]),
            shape(&["HRANDFIELD", "h", "-2"]),
            shape(&["HRANDFIELD", "h", "-20", "WITHVALUES"]),
            shape(&["HRANDFIELD", "h", "-1", "WITHVALUES"]),
        ],
    )
}

fn hrandfield_of_a_table() -> Script {
    let big = hset_args("big", 600, "v");
    script(
        "HRANDFIELD of a hashtable",
        vec![
            owned(&big, Check::Exact),
            x(&["OBJECT", "ENCODING", "big"]),
            shape(&["HRANDFIELD", "big"]),
            shape(&["HRANDFIELD", "big", "3"]),
            shape(&["HRANDFIELD", "big", "300", "WITHVALUES"]),
            shape(&["HRANDFIELD", "big", "599"]),
            shape(&["HRANDFIELD", "big", "-1000", "WITHVALUES"]),
            unordered(&["HRANDFIELD", "big", "600"]),
            unordered(&["HRANDFIELD", "big", "10000"]),
            x(&["HRANDFIELD", "big", "0", "WITHVALUES"]),
        ],
    )
}

/// TYPE, OBJECT, DEL, EXISTS, expiry, RENAME, COPY, MOVE, SCAN TYPE,
/// RANDOMKEY, KEYS and DBSIZE on hashes, with keys on every shard.
fn generic_commands() -> Script {
    let [a, b, c, d] = keys_on_each_shard("hash:");
    let [a, b, c, d] = [a.as_str(), b.as_str(), c.as_str(), d.as_str()];
    let big = hset_args(c, 600, "v");
    script(
        "generic commands on hashes across shards",
        vec![
            x(&["HSET", a, "f", "1", "g", "2"]),
            x(&["TYPE", a]),
            x(&["OBJECT", "ENCODING", a]),
            x(&["EXISTS", a, b]),
            x(&["RANDOMKEY"]),
            x(&["RENAME", a, b]),
            x(&["EXISTS", a, b]),
            x(&["HGETALL", b]),
            x(&["OBJECT", "ENCODING", b]),
            x(&["COPY", b, a]),
            x(&["HSET", a, "f", "changed", "h", "3"]),
            x(&["HGETALL", a]),
            x(&["HGETALL", b]),
            x(&["COPY", b, a]),
            x(&["COPY", b, a, "REPLACE"]),
            x(&["HGETALL", a]),
            owned(&big, Check::Exact),
            x(&["COPY", c, d]),
            x(&["OBJECT", "ENCODING", d]),
            x(&["HLEN", d]),
            x(&["HDEL", d, "field:1"]),
            x(&["HLEN", c]),
            x(&["RENAMENX", d, a]),
            x(&["RENAMENX", d, "hash:fresh"]),
            x(&["OBJECT", "ENCODING", "hash:fresh"]),
            x(&["COPY", a, "other-db", "DB", "1"]),
            x(&["MOVE", b, "2"]),
            x(&["EXISTS", b]),
            x(&["SELECT", "2"]),
            x(&["HGETALL", b]),
            x(&["OBJECT", "ENCODING", b]),
            x(&["MOVE", b, "0"]),
            x(&["SELECT", "1"]),
            x(&["HGETALL", "other-db"]),
            x(&["SELECT", "0"]),
            x(&["HGETALL", b]),
            x(&["EXPIRE", a, "100"]),
            near(1, &["TTL", a]),
            x(&["HSET", a, "more", "x"]),
            near(1, &["TTL", a]),
            x(&["HDEL", a, "more"]),
            near(1, &["TTL", a]),
            x(&["PERSIST", a]),
            x(&["SET", "plain", "string"]),
            scan_all(&["TYPE", "hash"]),
            scan_all(&["TYPE", "string"]),
            scan_all(&["TYPE", "hash", "MATCH", "hash:*"]),
            unordered(&["KEYS", "*"]),
            x(&["DBSIZE"]),
            x(&["DEL", a, b, c, "plain", "hash:fresh"]),
            x(&["DBSIZE"]),
            x(&["HSET", a, "f", "v"]),
            x(&["PEXPIRE", a, "1"]),
            util::diff::pause(20),
            x(&["HGET", a, "f"]),
            x(&["EXISTS", a]),
            x(&["HSET", a, "f", "new"]),
            x(&["TTL", a]),
        ],
    )
}

/// Keyspace hits and misses: read commands count them, write commands do
/// not (Redis's lookupKeyRead and lookupKeyWrite).
fn keyspace_hits_and_misses() -> Script {
    let counters = || {
        Step::new(
            &["INFO", "stats"],
            Check::InfoFields(&["keyspace_hits", "keyspace_misses"]),
        )
    };
    script(
        "keyspace hits and misses of hash commands",
        vec![
            x(&["CONFIG", "RESETSTAT"]),
            x(&["HSET", "h", "f", "1"]),
            x(&["HSETNX", "h", "g", "2"]),
            x(&["HINCRBY", "h", "n", "1"]),
            x(&["HINCRBYFLOAT", "h", "n", "1"]),
            x(&["HDEL", "h", "nosuch"]),
            x(&["HDEL", "missing", "f"]),
            counters(),
            x(&["HGET", "h", "f"]),
            x(&["HGET", "missing", "f"]),
            x(&["HMGET", "h", "f"]),
            x(&["HMGET", "missing", "f"]),
            x(&["HLEN", "h"]),
            x(&["HSTRLEN", "missing", "f"]),
            x(&["HEXISTS", "h", "f"]),
            counters(),
            x(&["HKEYS", "h"]),
            x(&["HVALS", "missing"]),
            x(&["HGETALL", "h"]),
            x(&["HSCAN", "h", "0"]),
            x(&["HSCAN", "missing", "0"]),
            shape(&["HRANDFIELD", "h"]),
            x(&["HRANDFIELD", "missing", "2"]),
            counters(),
        ],
    )
}

fn hashes_scripts() -> Vec<Script> {
    vec![
        set_and_get(),
        binary_fields_and_values(),
        delete_and_disappear(),
        getall_orders(),
        wrong_types(),
        arity_errors(),
        hincrby_cases(),
        hincrbyfloat_cases(),
        encodings_at_default_thresholds(),
        hscan_cases(),
        hrandfield_cases(),
        hrandfield_of_a_table(),
        generic_commands(),
    ]
}

#[test]
fn hash_commands_match_redis() {
    compare_scripts_resp2_and_resp3(&hashes_scripts(), THREADS);
}

/// Its own test: it moves the thresholds server-wide.
#[test]
fn encodings_after_config_set_match_redis() {
    compare_scripts_resp2_and_resp3(&[encodings_after_config_set()], THREADS);
}

/// Its own test: the counters are server-wide.
#[test]
fn keyspace_hits_and_misses_of_hash_commands_match_redis() {
    compare_scripts_resp2_and_resp3(&[keyspace_hits_and_misses()], THREADS);
}

/* ---------------------------------------------------------------------------
 * Random scripts
 * ------------------------------------------------------------------------- */

/// xorshift64: a reproducible sequence for the random scripts.
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

/// A random mix of hash and key commands over a few keys spread across
/// every shard. Fields and values stay short and few, so every hash stays
/// a listpack and every reply (HGETALL's order included) is compared
/// exactly; HRANDFIELD by shape.
fn random_commands(seed: u64, length: usize) -> Script {
    let [a, b, c, d] = keys_on_each_shard("rh:");
    let keys = [a.as_str(), b.as_str(), c.as_str(), d.as_str(), "s"];
    let fields = ["f", "g", "h", "field:1", "field:2", ""];
    let values = [
        "",
        "0",
        "1",
        "-7",
        "12345",
        "abc",
        "1.5",
        "value-1",
        "9223372036854775807",
    ];
    let numbers = ["0", "1", "-1", "2", "10", "-3", "abc", "1.5"];
    let mut random = Random(seed);
    let mut steps = Vec::new();
    for _ in 0..length {
        let (k1, k2) = (random.pick(&keys), random.pick(&keys));
        let (f1, f2, f3) = (
            random.pick(&fields),
            random.pick(&fields),
            random.pick(&fields),
        );
        let (v1, v2) = (random.pick(&values), random.pick(&values));
        let n = random.pick(&numbers);
        let step = match random.next() % 26 {
            0 | 1 => x(&["HSET", k1, f1, v1]),
            2 => x(&["HSET", k1, f1, v1, f2, v2]),
            3 => x(&["HSETNX", k1, f1, v1]),
            4 => x(&["HMSET", k1, f1, v1, f2, v2]),
            5 | 6 => x(&["HGET", k1, f1]),
            7 => x(&["HMGET", k1, f1, f2, f3]),
            8 => x(&["HDEL", k1, f1]),
            9 => x(&["HDEL", k1, f1, f2, f3]),
            10 => x(&["HLEN", k1]),
            11 => x(&["HSTRLEN", k1, f1]),
            12 => x(&["HEXISTS", k1, f1]),
            13 => x(&["HINCRBY", k1, f1, n]),
            14 => x(&[
                "HINCRBYFLOAT",
                k1,
                f1,
                random.pick(&["0.1", "-1.5", "2", "1e3", "x"]),
            ]),
            15 => x(&["HKEYS", k1]),
            16 => x(&["HVALS", k1]),
            17 => x(&["HGETALL", k1]),
            18 => x(&[
                "HSCAN",
                k1,
                "0",
                "MATCH",
                random.pick(&["*", "f*", "field:?"]),
            ]),
            19 => shape(&[
                "HRANDFIELD",
                k1,
                random.pick(&["1", "-3", "2"]),
                "WITHVALUES",
            ]),
            20 => x(&["DEL", k1, k2]),
            21 => x(&["RENAME", k1, k2]),
            22 => x(&["COPY", k1, k2, "REPLACE"]),
            23 => x(&["TYPE", k1]),
            24 => x(&["SET", k1, v1]),
            _ => x(&["EXISTS", k1, k2]),
        };
        steps.push(step);
    }
    script(&format!("random hash commands, seed {seed}"), steps)
}

#[test]
fn random_hash_commands_match_redis() {
    let scripts: Vec<Script> = (1..=6)
        .map(|seed| random_commands(seed * 7919, 400))
        .collect();
    compare_scripts_resp2_and_resp3(&scripts, THREADS);
}

/// The same random scripts, each sent as one pipeline: with four shards,
/// consecutive commands run on different workers, and their replies must
/// still come back in order.
#[test]
fn pipelined_random_hash_commands_match_redis() {
    let scripts: Vec<Script> = (1..=4)
        .map(|seed| random_commands(seed * 104_729, 400))
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

/* ---------------------------------------------------------------------------
 * Checks that need more than one reply at a time
 * ------------------------------------------------------------------------- */

fn bulk_text(reply: &Reply) -> String {
    match reply {
        Reply::Bulk(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

fn items(reply: &Reply) -> &[Reply] {
    match reply {
        Reply::Array(items) => items,
        other => panic!("expected an array, got {other:?}"),
    }
}

/// Every (field, value) a full HSCAN iteration with `COUNT count` returns.
fn hscan_all(client: &mut util::Client, key: &str, count: &str) -> Vec<(String, String)> {
    let mut cursor = "0".to_string();
    let mut pairs = Vec::new();
    for _ in 0..10_000 {
        let reply = client.call(&["HSCAN", key, &cursor, "COUNT", count]);
        let [next, batch] = items(&reply) else {
            panic!("an HSCAN page: {reply:?}");
        };
        for pair in items(batch).chunks(2) {
            pairs.push((bulk_text(&pair[0]), bulk_text(&pair[1])));
        }
        cursor = bulk_text(next);
        if cursor == "0" {
            pairs.sort();
            pairs.dedup();
            return pairs;
        }
    }
    panic!("HSCAN did not finish");
}

/// A full HSCAN of a hashtable returns the same pairs from both servers,
/// whatever the cursors, and pairs present throughout survive removals
/// and insertions between calls.
#[test]
fn hscan_of_a_hashtable_visits_every_pair() {
    let redis = ServerProcess::redis(&[]);
    let shoal = ServerProcess::shoal(&["--threads", "2"]);
    let load = hset_args("big", 1000, "v");
    let load: Vec<&str> = load.iter().map(String::as_str).collect();
    let mut seen = Vec::new();
    for server in [&redis, &shoal] {
        let mut client = server.connect();
        client.call(&load);
        assert_eq!(
            bulk_text(&client.call(&["OBJECT", "ENCODING", "big"])),
            "hashtable"
        );
        seen.push(hscan_all(&mut client, "big", "7"));
    }
    assert_eq!(seen[0].len(), 1000);
    assert_eq!(seen[0], seen[1]);

    // Changes between calls on Shoal: every pair present throughout is seen.
    let mut client = shoal.connect();
    let mut cursor = "0".to_string();
    let mut found = std::collections::BTreeSet::new();
    let mut round = 0;
    loop {
        let reply = client.call(&["HSCAN", "big", &cursor, "COUNT", "13"]);
        let [next, batch] = items(&reply) else {
            panic!("an HSCAN page: {reply:?}");
        };
        for pair in items(batch).chunks(2) {
            found.insert(bulk_text(&pair[0]));
        }
        round += 1;
        client.call(&["HDEL", "big", &format!("field:{}", round * 2)]);
        client.call(&["HSET", "big", &format!("added:{round}"), "x"]);
        cursor = bulk_text(next);
        if cursor == "0" {
            break;
        }
    }
    for index in 0..1000 {
        let removed = index % 2 == 0 && index > 0 && index / 2 <= round;
        if !removed {
            assert!(
                found.contains(&format!("field:{index}")),
                "field:{index} missed"
            );
        }
    }
}

/// HRANDFIELD's replies: every field drawn belongs to the hash with its own
/// value, a positive count never repeats a field, and a small hash returns
/// distinct fields in hash order.
#[test]
fn hrandfield_draws_from_the_hash() {
    let shoal = ServerProcess::shoal(&["--threads", "1"]);
    for resp3 in [false, true] {
        let mut client = shoal.connect();
        if resp3 {
            client.call(&["HELLO", "3"]);
        }
        client.call(&["FLUSHALL"]);
        for (key, fields) in [("small", 20), ("large", 700)] {
            let load = hset_args(key, fields, "value-");
            let load: Vec<&str> = load.iter().map(String::as_str).collect();
            client.call(&load);
            let position = |field: &str| -> usize {
                field
                    .strip_prefix("field:")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("a field of the hash: {field}"))
            };
            for count in ["1", "5", "13", "-40", "600"] {
                let reply = client.call(&["HRANDFIELD", key, count, "WITHVALUES"]);
                let pairs: Vec<(String, String)> = if resp3 {
                    items(&reply)
                        .iter()
                        .map(|pair| match items(pair) {
                            [field, value] => (bulk_text(field), bulk_text(value)),
                            other => panic!("a pair: {other:?}"),
                        })
                        .collect()
                } else {
                    items(&reply)
                        .chunks(2)
                        .map(|pair| (bulk_text(&pair[0]), bulk_text(&pair[1])))
                        .collect()
                };
                let wanted: i64 = count.parse().expect("a count");
                let expected_len = if wanted < 0 {
                    wanted.unsigned_abs() as usize
                } else {
                    (wanted as usize).min(fields)
                };
                assert_eq!(pairs.len(), expected_len, "{key} {count}");
                let positions: Vec<usize> = pairs
                    .iter()
                    .map(|(field, value)| {
                        let index = position(field);
                        assert!(index < fields);
                        assert_eq!(value, &format!("value-{index}"));
                        index
                    })
                    .collect();
                if wanted > 0 {
                    let mut distinct = positions.clone();
                    distinct.sort_unstable();
                    distinct.dedup();
                    assert_eq!(distinct.len(), positions.len(), "{key} {count} repeats");
                    if key == "small" {
                        assert!(positions.windows(2).all(|w| w[0] < w[1]), "hash order");
                    }
                }
            }
            let single = client.call(&["HRANDFIELD", key]);
            assert!(position(&bulk_text(&single)) < fields);
        }
    }
}

/// COMMAND INFO of every hash command agrees with Redis 7.0 on name, arity,
/// flags, key positions and ACL categories (tips and key specs are not
/// modelled by Shoal's table).
#[test]
fn command_info_matches_redis() {
    let redis = ServerProcess::redis(&[]);
    let shoal = ServerProcess::shoal(&["--threads", "1"]);
    let names = [
        "hset",
        "hsetnx",
        "hget",
        "hmget",
        "hmset",
        "hdel",
        "hlen",
        "hstrlen",
        "hexists",
        "hincrby",
        "hincrbyfloat",
        "hkeys",
        "hvals",
        "hgetall",
        "hscan",
        "hrandfield",
    ];
    let mut args = vec!["COMMAND", "INFO"];
    args.extend(names);
    let replies: Vec<Reply> = [&redis, &shoal]
        .iter()
        .map(|server| server.connect().call(&args))
        .collect();
    for (index, name) in names.iter().enumerate() {
        let redis_info = &items(&items(&replies[0])[index])[..7];
        let shoal_info = &items(&items(&replies[1])[index])[..7];
        assert_eq!(redis_info, shoal_info, "COMMAND INFO {name}");
    }
}
