//! String commands compared with `redis-server` reply for reply: every
//! command of Redis's `t_string.c` that Shoal implements, its options, their
//! invalid combinations, arity and number errors, encodings, keys spread
//! over every shard, under RESP2 and RESP3, against `--threads 1` and `4`.

mod util;

use util::diff::{
    compare_scripts_resp2_and_resp3, compare_scripts_with, keys_on_each_shard, near, scan_all,
    script, unordered, x, Check, DiffOptions, Script, Step,
};

/// Every script runs against a single-shard and a four-shard Shoal.
const THREADS: &[usize] = &[1, 4];

fn get_and_set() -> Script {
    script(
        "GET and SET",
        vec![
            x(&["GET", "k"]),
            x(&["SET", "k", "v"]),
            x(&["GET", "k"]),
            x(&["SET", "k", ""]),
            x(&["GET", "k"]),
            x(&["STRLEN", "k"]),
            x(&["EXISTS", "k"]),
            x(&["SET", "k", "overwritten"]),
            x(&["get", "k"]),
            x(&["sEt", "k", "mixed case"]),
            x(&["GET", "k"]),
            Step::bytes(
                vec![
                    b"SET".to_vec(),
                    b"bin\x00\xff".to_vec(),
                    b"\x00\r\n\xfe".to_vec(),
                ],
                Check::Exact,
            ),
            Step::bytes(vec![b"GET".to_vec(), b"bin\x00\xff".to_vec()], Check::Exact),
            x(&["SET", "big", &"x".repeat(100_000)]),
            x(&["STRLEN", "big"]),
            x(&["GETRANGE", "big", "99990", "-1"]),
        ],
    )
}

fn set_conditions() -> Script {
    script(
        "SET NX XX GET",
        vec![
            x(&["SET", "k", "1", "XX"]),
            x(&["EXISTS", "k"]),
            x(&["SET", "k", "1", "NX"]),
            x(&["SET", "k", "2", "NX"]),
            x(&["GET", "k"]),
            x(&["SET", "k", "3", "XX"]),
            x(&["GET", "k"]),
            x(&["SET", "k", "4", "nx", "NX"]),
            x(&["SET", "k", "5", "xx", "XX"]),
            x(&["SET", "k", "6", "GET"]),
            x(&["SET", "missing", "6", "GET"]),
            x(&["GET", "missing"]),
            x(&["SET", "k", "7", "NX", "GET"]),
            x(&["GET", "k"]),
            x(&["SET", "new", "7", "NX", "GET"]),
            x(&["GET", "new"]),
            x(&["SET", "k", "8", "XX", "GET"]),
            x(&["GET", "k"]),
            x(&["SET", "absent", "8", "XX", "GET"]),
            x(&["EXISTS", "absent"]),
            x(&["SET", "k", "9", "GET", "GET"]),
            x(&["SET", "k", "10", "GET", "XX"]),
            x(&["GET", "k"]),
        ],
    )
}

fn set_expiry() -> Script {
    script(
        "SET EX PX EXAT PXAT KEEPTTL",
        vec![
            x(&["SET", "k", "v", "EX", "100"]),
            near(1, &["TTL", "k"]),
            x(&["SET", "k", "v", "PX", "100000"]),
            near(1000, &["PTTL", "k"]),
            x(&["SET", "k", "v", "EXAT", "4102444800"]),
            x(&["EXPIRETIME", "k"]),
            x(&["SET", "k", "v", "PXAT", "4102444800123"]),
            x(&["PEXPIRETIME", "k"]),
            x(&["SET", "k", "w", "KEEPTTL"]),
            x(&["PEXPIRETIME", "k"]),
            x(&["GET", "k"]),
            x(&["SET", "k", "plain"]),
            x(&["TTL", "k"]),
            x(&["SET", "k", "v", "ex", "50", "NX"]),
            x(&["SET", "k", "v", "XX", "px", "50000", "GET"]),
            near(1000, &["PTTL", "k"]),
            x(&["SET", "k", "v", "GET", "KEEPTTL", "XX"]),
            near(1, &["TTL", "k"]),
            // A time already past: Redis 7.0 stores the key and it is gone
            // at the next access.
            x(&["SET", "past", "v", "EXAT", "1"]),
            x(&["GET", "past"]),
            x(&["SET", "past", "v", "PXAT", "1"]),
            x(&["EXISTS", "past"]),
            x(&["SET", "k", "v", "PX", "1"]),
            x(&["SET", "k2", "v"]),
        ],
    )
}

fn set_invalid_combinations() -> Script {
    let mut steps = Vec::new();
    let invalid: &[&[&str]] = &[
        &["NX", "XX"],
        &["XX", "NX"],
        &["EX", "10", "PX", "100"],
        &["PX", "100", "EX", "10"],
        &["EX", "10", "EX", "10"],
        &["EX", "10", "KEEPTTL"],
        &["KEEPTTL", "EX", "10"],
        &["KEEPTTL", "PXAT", "10"],
        &["EXAT", "10", "PXAT", "10"],
        &["EX"],
        &["PX"],
        &["EXAT"],
        &["PXAT"],
        &["NX", "EX"],
        &["PERSIST"],
        &["FOO"],
        &["EX", "10", "FOO"],
        &["GET", "NX", "XX"],
        &["KEEPTTL", "PERSIST"],
    ];
    for options in invalid {
        let mut args = vec!["SET", "k", "v"];
        args.extend_from_slice(options);
        steps.push(x(&args));
    }
    let bad_times: &[&[&str]] = &[
        &["EX", "0"],
        &["EX", "-1"],
        &["PX", "0"],
        &["PX", "-100"],
        &["EXAT", "0"],
        &["PXAT", "0"],
        &["EXAT", "-5"],
        &["EX", "abc"],
        &["EX", "1.5"],
        &["EX", ""],
        &["PX", "9223372036854775807"],
        &["EX", "9223372036854775807"],
        &["EX", "9223372036854776"],
        &["EX", "9223372036854775"],
        &["EXAT", "9223372036854775807"],
        &["PXAT", "9223372036854775807"],
        &["EX", "9223372036854775808"],
        &["EX", "-9223372036854775808"],
        &["EX", " 10"],
        &["EX", "10 "],
        &["EX", "+10"],
        &["EX", "010"],
        // The option is parsed before its value is checked.
        &["EX", "abc", "NX", "XX"],
        &["EX", "0", "FOO"],
    ];
    for options in bad_times {
        let mut args = vec!["SET", "k", "v"];
        args.extend_from_slice(options);
        steps.push(x(&args));
        steps.push(x(&["EXISTS", "k"]));
    }
    // A failed SET ... GET must not reply with the old value first.
    steps.push(x(&["SET", "k", "old"]));
    steps.push(x(&["SET", "k", "new", "GET", "EX", "0"]));
    steps.push(x(&["GET", "k"]));
    steps.push(x(&["SET", "k", "new", "GET", "EX", "abc"]));
    steps.push(x(&["SET", "k", "new", "GET", "NX", "XX"]));
    steps.push(x(&["GET", "k"]));
    script("SET invalid combinations and expire times", steps)
}

fn setnx_setex_psetex() -> Script {
    script(
        "SETNX SETEX PSETEX",
        vec![
            x(&["SETNX", "k", "1"]),
            x(&["SETNX", "k", "2"]),
            x(&["GET", "k"]),
            x(&["SETEX", "k", "100", "v"]),
            near(1, &["TTL", "k"]),
            x(&["GET", "k"]),
            x(&["SETNX", "k", "3"]),
            x(&["PSETEX", "k", "100000", "w"]),
            near(1000, &["PTTL", "k"]),
            x(&["SETEX", "k", "0", "v"]),
            x(&["SETEX", "k", "-1", "v"]),
            x(&["SETEX", "k", "abc", "v"]),
            x(&["SETEX", "k", "9223372036854775807", "v"]),
            x(&["PSETEX", "k", "0", "v"]),
            x(&["PSETEX", "k", "-10", "v"]),
            x(&["PSETEX", "k", "1.5", "v"]),
            x(&["PSETEX", "k", "9223372036854775807", "v"]),
            x(&["GET", "k"]),
            near(1000, &["PTTL", "k"]),
            x(&["SETNX", "fresh", ""]),
            x(&["GET", "fresh"]),
            x(&["SETEX", "other", "10", "v"]),
            x(&["SET", "other", "plain"]),
            x(&["TTL", "other"]),
        ],
    )
}

fn getset_getdel_getex() -> Script {
    script(
        "GETSET GETDEL GETEX",
        vec![
            x(&["GETSET", "k", "1"]),
            x(&["GETSET", "k", "2"]),
            x(&["GET", "k"]),
            x(&["SETEX", "k", "100", "3"]),
            x(&["GETSET", "k", "4"]),
            x(&["TTL", "k"]),
            x(&["GETDEL", "k"]),
            x(&["GETDEL", "k"]),
            x(&["EXISTS", "k"]),
            x(&["GETEX", "k"]),
            x(&["GETEX", "k", "EX", "10"]),
            x(&["GETEX", "k", "EX", "abc"]),
            x(&["SET", "k", "v"]),
            x(&["GETEX", "k"]),
            x(&["TTL", "k"]),
            x(&["GETEX", "k", "EX", "100"]),
            near(1, &["TTL", "k"]),
            x(&["GETEX", "k", "PX", "200000"]),
            near(1000, &["PTTL", "k"]),
            x(&["GETEX", "k", "EXAT", "4102444800"]),
            x(&["EXPIRETIME", "k"]),
            x(&["GETEX", "k", "PXAT", "4102444800999"]),
            x(&["PEXPIRETIME", "k"]),
            x(&["GETEX", "k", "PERSIST"]),
            x(&["TTL", "k"]),
            x(&["GETEX", "k", "persist"]),
            x(&["GETEX", "k", "EX", "10", "PX", "10"]),
            x(&["GETEX", "k", "PERSIST", "EX", "10"]),
            x(&["GETEX", "k", "EX", "10", "PERSIST"]),
            x(&["GETEX", "k", "KEEPTTL"]),
            x(&["GETEX", "k", "NX"]),
            x(&["GETEX", "k", "GET"]),
            x(&["GETEX", "k", "EX"]),
            x(&["GETEX", "k", "FOO"]),
            x(&["GETEX", "k", "EX", "0"]),
            x(&["GETEX", "k", "EX", "-1"]),
            x(&["GETEX", "k", "PX", "abc"]),
            x(&["GETEX", "k", "EX", "9223372036854775807"]),
            x(&["GETEX", "k", "PXAT", "0"]),
            x(&["TTL", "k"]),
            x(&["GETEX", "missing", "FOO"]),
            x(&["GETEX", "missing", "EX", "0"]),
            x(&["GETEX", "missing", "PERSIST"]),
            // An absolute time in the past deletes the key after replying.
            x(&["GETEX", "k", "EXAT", "1"]),
            x(&["EXISTS", "k"]),
            x(&["SET", "k", "v"]),
            x(&["GETEX", "k", "PXAT", "1"]),
            x(&["EXISTS", "k"]),
            x(&["SET", "k", "123"]),
            x(&["GETEX", "k", "PX", "1"]),
        ],
    )
}

fn mget_mset_msetnx() -> Script {
    let [a, b, c, d] = keys_on_each_shard("str:");
    script(
        "MGET MSET MSETNX across shards",
        vec![
            x(&["MGET", &a, &b, &c, &d]),
            x(&["MSET", &a, "1", &b, "2", &c, "3", &d, "4"]),
            x(&["MGET", &a, &b, &c, &d, "missing"]),
            x(&["MGET", &d, &d, &a]),
            x(&["MSET", &a, "x", &a, "y"]),
            x(&["GET", &a]),
            x(&["MSET", &a]),
            x(&["MSET", &a, "1", &b]),
            x(&["MSET", &a, "1", &b, "2", &c]),
            x(&["MSETNX", &a, "1", &b]),
            x(&["MSETNX", &a, "n", "fresh1", "n"]),
            x(&["EXISTS", "fresh1"]),
            x(&["MSETNX", "fresh1", "1", "fresh2", "2", "fresh3", "3"]),
            x(&["MGET", "fresh1", "fresh2", "fresh3"]),
            x(&["MSETNX", "dup", "1", "dup", "2"]),
            x(&["GET", "dup"]),
            x(&["DEL", &a, &b, &c, &d]),
            x(&["MSETNX", &a, "1", &b, "2", &c, "3", &d, "4"]),
            x(&["MGET", &a, &b, &c, &d]),
            x(&["MSETNX", &d, "5", "brand-new", "6"]),
            x(&["EXISTS", "brand-new"]),
            x(&["SETEX", &b, "100", "volatile"]),
            x(&["MSET", &b, "persistent"]),
            x(&["TTL", &b]),
            x(&["MSET", "{tag}x", "1", "{tag}y", "2", "{other}z", "3"]),
            x(&["MGET", "{tag}x", "{tag}y", "{other}z", "{tag}missing"]),
            x(&["MSETNX", "{tag}x", "9", "{tag}w", "9"]),
            x(&["MGET", "{tag}x", "{tag}w"]),
        ],
    )
}

fn append_and_strlen() -> Script {
    script(
        "APPEND STRLEN",
        vec![
            x(&["STRLEN", "k"]),
            x(&["APPEND", "k", "hello"]),
            x(&["APPEND", "k", " world"]),
            x(&["GET", "k"]),
            x(&["STRLEN", "k"]),
            x(&["APPEND", "k", ""]),
            x(&["APPEND", "empty", ""]),
            x(&["EXISTS", "empty"]),
            x(&["GET", "empty"]),
            x(&["SET", "n", "12345"]),
            x(&["STRLEN", "n"]),
            x(&["APPEND", "n", "6"]),
            x(&["GET", "n"]),
            x(&["INCR", "n"]),
            x(&["SET", "neg", "-9223372036854775808"]),
            x(&["STRLEN", "neg"]),
            x(&["SETEX", "v", "100", "a"]),
            x(&["APPEND", "v", "b"]),
            near(1, &["TTL", "v"]),
        ],
    )
}

fn incr_family() -> Script {
    script(
        "INCR DECR INCRBY DECRBY",
        vec![
            x(&["INCR", "n"]),
            x(&["INCR", "n"]),
            x(&["DECR", "n"]),
            x(&["DECR", "fresh"]),
            x(&["INCRBY", "n", "100"]),
            x(&["INCRBY", "n", "-1000"]),
            x(&["DECRBY", "n", "-5"]),
            x(&["DECRBY", "n", "5"]),
            x(&["INCRBY", "n", "abc"]),
            x(&["INCRBY", "n", "1.5"]),
            x(&["INCRBY", "n", ""]),
            x(&["INCRBY", "n", "9223372036854775808"]),
            x(&["DECRBY", "n", "-9223372036854775808"]),
            x(&["DECRBY", "n", "9223372036854775807"]),
            x(&["GET", "n"]),
            x(&["SET", "max", "9223372036854775807"]),
            x(&["INCR", "max"]),
            x(&["INCRBY", "max", "0"]),
            x(&["SET", "min", "-9223372036854775808"]),
            x(&["DECR", "min"]),
            x(&["INCRBY", "min", "-1"]),
            x(&["GET", "min"]),
            x(&["SET", "s", "abc"]),
            x(&["INCR", "s"]),
            x(&["SET", "s", " 1"]),
            x(&["INCR", "s"]),
            x(&["SET", "s", "1 "]),
            x(&["INCR", "s"]),
            x(&["SET", "s", "+1"]),
            x(&["INCR", "s"]),
            x(&["SET", "s", "01"]),
            x(&["INCR", "s"]),
            x(&["SET", "s", "-0"]),
            x(&["INCR", "s"]),
            x(&["SET", "s", "1.0"]),
            x(&["INCR", "s"]),
            x(&["SET", "s", "1e3"]),
            x(&["INCR", "s"]),
            x(&["SET", "s", ""]),
            x(&["INCR", "s"]),
            x(&["SET", "s", "99999999999999999999"]),
            x(&["INCR", "s"]),
            x(&["SET", "s", "0"]),
            x(&["DECR", "s"]),
            x(&["SETEX", "v", "100", "10"]),
            x(&["INCR", "v"]),
            near(1, &["TTL", "v"]),
        ],
    )
}

fn incrbyfloat_cases() -> Script {
    script(
        "INCRBYFLOAT",
        vec![
            x(&["INCRBYFLOAT", "f", "1.5"]),
            x(&["INCRBYFLOAT", "f", "0.1"]),
            x(&["INCRBYFLOAT", "f", "-1.6"]),
            x(&["INCRBYFLOAT", "f", "5.0e3"]),
            x(&["INCRBYFLOAT", "f", "-5000"]),
            x(&["GET", "f"]),
            x(&["SET", "g", "0.1"]),
            x(&["INCRBYFLOAT", "g", "0.2"]),
            x(&["SET", "g", "10"]),
            x(&["INCRBYFLOAT", "g", "0"]),
            x(&["INCRBYFLOAT", "g", "-10"]),
            x(&["INCRBYFLOAT", "g", "-0.0"]),
            x(&["INCRBYFLOAT", "g", "3.0e-5"]),
            x(&["INCRBYFLOAT", "g", "1e17"]),
            x(&["INCRBYFLOAT", "g", "-1e17"]),
            x(&["SET", "h", "1"]),
            x(&["INCRBYFLOAT", "h", "1.23456789012"]),
            x(&["INCRBYFLOAT", "h", "abc"]),
            x(&["INCRBYFLOAT", "h", ""]),
            x(&["INCRBYFLOAT", "h", " 1"]),
            x(&["INCRBYFLOAT", "h", "1 "]),
            x(&["INCRBYFLOAT", "h", "nan"]),
            x(&["INCRBYFLOAT", "h", "inf"]),
            x(&["INCRBYFLOAT", "h", "-inf"]),
            x(&["INCRBYFLOAT", "h", "+inf"]),
            x(&["INCRBYFLOAT", "h", "1e308"]),
            x(&["INCRBYFLOAT", "h", "0x10"]),
            x(&["INCRBYFLOAT", "h", ".5"]),
            x(&["INCRBYFLOAT", "h", "5."]),
            x(&["INCRBYFLOAT", "h", "+2"]),
            x(&["GET", "h"]),
            x(&["SET", "s", "abc"]),
            x(&["INCRBYFLOAT", "s", "1"]),
            x(&["SET", "s", " 1"]),
            x(&["INCRBYFLOAT", "s", "1"]),
            x(&["SET", "s", "1e2"]),
            x(&["INCRBYFLOAT", "s", "1"]),
            x(&["OBJECT", "ENCODING", "s"]),
            x(&["SETEX", "v", "100", "1"]),
            x(&["INCRBYFLOAT", "v", "1"]),
            near(1, &["TTL", "v"]),
        ],
    )
}

/// Results whose text shows the x87 `long double` Redis computes in and
/// its `%.17Lf` formatting: seventeen decimals, more than an `f64` holds.
fn incrbyfloat_formatting() -> Script {
    let long_operand = format!("0.{}", "1".repeat(5000));
    let too_long_operand = format!("0.{}", "1".repeat(5200));
    let mut steps = vec![
        x(&["INCRBYFLOAT", "a", "1e-20"]),
        x(&["INCRBYFLOAT", "b", "0.00000000000000001"]),
        x(&["INCRBYFLOAT", "b", "0.000000000000000005"]),
        x(&["INCRBYFLOAT", "c", "123456789.123456789"]),
        x(&["INCRBYFLOAT", "d", "1e20"]),
        x(&["INCRBYFLOAT", "e", "-0.5"]),
        x(&["INCRBYFLOAT", "e", "0.5"]),
        x(&["SET", "f", "1000"]),
        x(&["INCRBYFLOAT", "f", "0.1"]),
        x(&["INCRBYFLOAT", "f", "0.1"]),
        x(&["SET", "g", "123456.789"]),
        x(&["INCRBYFLOAT", "g", "0.001"]),
        x(&["INCRBYFLOAT", "h", "0x1p-3"]),
        x(&["INCRBYFLOAT", "h", "0X1.8P1"]),
        x(&["INCRBYFLOAT", "h", "0x.8"]),
        x(&["INCRBYFLOAT", "h", "0x"]),
        x(&["INCRBYFLOAT", "h", "0x1p"]),
        x(&["INCRBYFLOAT", "i", "1e4000"]),
        x(&["INCRBYFLOAT", "i", "1e5000"]),
        x(&["INCRBYFLOAT", "i", "1e-5000"]),
        x(&["INCRBYFLOAT", "i", "4e-4951"]),
        x(&["INCRBYFLOAT", "i", "0e-99999"]),
        x(&["INCRBYFLOAT", "j", "1.18973149535723176502e+4932"]),
        x(&["INCRBYFLOAT", "j", "1.18973149535723176502e+4932"]),
        x(&["INCRBYFLOAT", "k", "Infinity"]),
        x(&["INCRBYFLOAT", "k", "-INF"]),
        x(&["INCRBYFLOAT", "k", "NaN"]),
        x(&["INCRBYFLOAT", "k", "1e"]),
        x(&["INCRBYFLOAT", "k", "."]),
        x(&["INCRBYFLOAT", "k", "-"]),
        x(&["INCRBYFLOAT", "k", "1_0"]),
        x(&["INCRBYFLOAT", "l", &long_operand]),
        x(&["INCRBYFLOAT", "l", &too_long_operand]),
        x(&["SET", "m", "inf"]),
        x(&["INCRBYFLOAT", "m", "1"]),
        x(&["SET", "m", "0x10"]),
        x(&["INCRBYFLOAT", "m", "1"]),
        x(&["SET", "m", "-9223372036854775808"]),
        x(&["INCRBYFLOAT", "m", "-0.5"]),
        x(&["SET", "m", "9223372036854775807"]),
        x(&["INCRBYFLOAT", "m", "1"]),
        x(&["SET", "m", "3"]),
        x(&["INCRBYFLOAT", "m", "-3"]),
        x(&["INCRBYFLOAT", "m", "-1e-30"]),
    ];
    // A NUL ends the operand as C sees it.
    steps.push(Step::bytes(
        vec![
            b"INCRBYFLOAT".to_vec(),
            b"n".to_vec(),
            b"2.5\x00junk".to_vec(),
        ],
        Check::Exact,
    ));
    script("INCRBYFLOAT formatting at the edges", steps)
}

fn getrange_cases() -> Script {
    let mut steps = vec![
        x(&["SET", "k", "Hello, World"]),
        x(&["SET", "n", "1234567"]),
        x(&["SET", "e", ""]),
    ];
    let ranges: &[(&str, &str)] = &[
        ("0", "3"),
        ("0", "-1"),
        ("-3", "-1"),
        ("-1", "-3"),
        ("5", "3"),
        ("0", "100"),
        ("100", "200"),
        ("-100", "-50"),
        ("-100", "2"),
        ("3", "3"),
        ("-1", "-1"),
        ("11", "11"),
        ("12", "12"),
        ("0", "-100"),
        ("-9223372036854775808", "9223372036854775807"),
        ("9223372036854775807", "9223372036854775807"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("a", "1"),
        ("1", "b"),
        ("1.0", "2"),
        ("9223372036854775808", "1"),
    ];
    for key in ["k", "n", "e", "missing"] {
        for (start, end) in ranges {
            steps.push(x(&["GETRANGE", key, start, end]));
        }
    }
    steps.push(x(&["SUBSTR", "k", "0", "4"]));
    steps.push(x(&["SUBSTR", "k", "-5", "-1"]));
    steps.push(x(&["SUBSTR", "missing", "0", "-1"]));
    steps.push(x(&["SUBSTR", "k", "x", "1"]));
    script("GETRANGE SUBSTR", steps)
}

fn setrange_cases() -> Script {
    script(
        "SETRANGE",
        vec![
            x(&["SETRANGE", "k", "0", "hello"]),
            x(&["GET", "k"]),
            x(&["SETRANGE", "k", "1", "EL"]),
            x(&["GET", "k"]),
            x(&["SETRANGE", "k", "8", "xy"]),
            x(&["GET", "k"]),
            x(&["SETRANGE", "k", "2", ""]),
            x(&["SETRANGE", "missing", "5", ""]),
            x(&["EXISTS", "missing"]),
            x(&["SETRANGE", "missing", "0", ""]),
            x(&["SETRANGE", "pad", "3", "z"]),
            x(&["GET", "pad"]),
            x(&["SETRANGE", "k", "-1", "x"]),
            x(&["SETRANGE", "k", "abc", "x"]),
            x(&["SETRANGE", "k", "1.5", "x"]),
            x(&["SETRANGE", "k", "536870912", "x"]),
            x(&["SETRANGE", "k", "536870911", "xy"]),
            x(&["SETRANGE", "k", "536870912", ""]),
            x(&["SETRANGE", "new", "536870912", "x"]),
            x(&["EXISTS", "new"]),
            x(&["SETRANGE", "k", "9223372036854775807", "x"]),
            x(&["SETRANGE", "k", "-9223372036854775808", ""]),
            x(&["SET", "n", "1234"]),
            x(&["SETRANGE", "n", "1", "9"]),
            x(&["GET", "n"]),
            x(&["INCR", "n"]),
            x(&["SETEX", "v", "100", "abc"]),
            x(&["SETRANGE", "v", "1", "B"]),
            near(1, &["TTL", "v"]),
        ],
    )
}

/// OBJECT ENCODING as values are created and converted.
fn encodings() -> Script {
    let long = "x".repeat(45);
    let embstr_max = "y".repeat(44);
    let mut steps = Vec::new();
    for value in [
        "123",
        "0",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "0123",
        "+1",
        " 1",
        "1.5",
        "abc",
        "",
        &embstr_max,
        &long,
        "10000",
        "9999",
    ] {
        steps.push(x(&["SET", "k", value]));
        steps.push(x(&["OBJECT", "ENCODING", "k"]));
        steps.push(x(&["OBJECT", "REFCOUNT", "k"]));
    }
    steps.extend([
        x(&["SET", "i", "100"]),
        x(&["INCR", "i"]),
        x(&["OBJECT", "ENCODING", "i"]),
        x(&["SET", "i", "abc"]),
        x(&["SET", "i", "99999"]),
        x(&["INCRBY", "i", "1"]),
        x(&["OBJECT", "ENCODING", "i"]),
        x(&["OBJECT", "REFCOUNT", "i"]),
        x(&["INCRBYFLOAT", "f", "1"]),
        x(&["OBJECT", "ENCODING", "f"]),
        x(&["SETEX", "e", "100", "5"]),
        x(&["OBJECT", "ENCODING", "e"]),
        x(&["SET", "big", &long]),
        x(&["GETRANGE", "big", "0", "2"]),
        x(&["OBJECT", "ENCODING", "big"]),
        x(&["MSET", "m1", "7", "m2", "seven"]),
        x(&["OBJECT", "ENCODING", "m1"]),
        x(&["OBJECT", "ENCODING", "m2"]),
    ]);
    script("OBJECT ENCODING of strings", steps)
}

/// Redis converts a string it edits in place (APPEND, SETRANGE) to the
/// `raw` encoding whatever its length.
fn encodings_after_in_place_edits() -> Script {
    script(
        "OBJECT ENCODING after APPEND and SETRANGE",
        vec![
            x(&["SET", "a", "123"]),
            x(&["APPEND", "a", "4"]),
            x(&["OBJECT", "ENCODING", "a"]),
            x(&["SET", "b", "abc"]),
            x(&["APPEND", "b", "d"]),
            x(&["OBJECT", "ENCODING", "b"]),
            x(&["SET", "c", "abc"]),
            x(&["SETRANGE", "c", "0", "x"]),
            x(&["OBJECT", "ENCODING", "c"]),
            x(&["APPEND", "d", "fresh"]),
            x(&["OBJECT", "ENCODING", "d"]),
            x(&["SETRANGE", "e", "0", "fresh"]),
            x(&["OBJECT", "ENCODING", "e"]),
            x(&["INCR", "a"]),
            x(&["OBJECT", "ENCODING", "a"]),
        ],
    )
}

fn lcs_cases() -> Script {
    let [a, b, c, d] = keys_on_each_shard("lcs:");
    script(
        "LCS",
        vec![
            x(&["MSET", &a, "ohmytext", &b, "mynewtext"]),
            x(&["LCS", &a, &b]),
            x(&["LCS", &a, &b, "LEN"]),
            x(&["LCS", &a, &b, "IDX"]),
            x(&["LCS", &a, &b, "IDX", "WITHMATCHLEN"]),
            x(&["LCS", &a, &b, "IDX", "MINMATCHLEN", "4"]),
            x(&["LCS", &a, &b, "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]),
            x(&["LCS", &a, &b, "idx", "minmatchlen", "0", "withmatchlen"]),
            x(&["LCS", &a, &b, "IDX", "MINMATCHLEN", "-1"]),
            x(&["LCS", &a, &b, "IDX", "MINMATCHLEN", "100"]),
            x(&["LCS", &a, &b, "LEN", "IDX"]),
            x(&["LCS", &a, &b, "IDX", "LEN"]),
            x(&["LCS", &a, &b, "LEN", "WITHMATCHLEN"]),
            x(&["LCS", &a, &b, "LEN", "MINMATCHLEN", "2"]),
            x(&["LCS", &a, &b, "WITHMATCHLEN"]),
            x(&["LCS", &a, &b, "MINMATCHLEN"]),
            x(&["LCS", &a, &b, "MINMATCHLEN", "abc"]),
            x(&["LCS", &a, &b, "FOO"]),
            x(&["LCS", &a, &c]),
            x(&["LCS", &c, &d, "LEN"]),
            x(&["LCS", &c, &d, "IDX"]),
            x(&["LCS", &a, &a]),
            x(&["LCS", &a, &a, "IDX", "WITHMATCHLEN"]),
            x(&["MSET", &c, "", &d, "abc"]),
            x(&["LCS", &c, &d]),
            x(&["LCS", &c, &d, "IDX"]),
            x(&["MSET", &c, "aaaa", &d, "aa"]),
            x(&["LCS", &c, &d, "IDX", "WITHMATCHLEN"]),
            x(&["MSET", &c, "abcXdefYghi", &d, "abcdefghi"]),
            x(&["LCS", &c, &d]),
            x(&["LCS", &c, &d, "IDX", "WITHMATCHLEN"]),
            x(&["LCS", &c, &d, "IDX", "MINMATCHLEN", "3"]),
            x(&["MSET", &c, "12345", &d, "345"]),
            x(&["LCS", &c, &d, "IDX"]),
            x(&["MSET", "{t}1", "ABCBDAB", "{t}2", "BDCABA"]),
            x(&["LCS", "{t}1", "{t}2"]),
            x(&["LCS", "{t}1", "{t}2", "IDX", "WITHMATCHLEN"]),
            x(&["LCS", "{t}1", "{t}2", "LEN"]),
            x(&["LCS", &a, &b, "IDX", "MINMATCHLEN", "2", "MINMATCHLEN", "3"]),
        ],
    )
}

/// Each string command with one argument too few and, for fixed arities,
/// one too many.
fn arity_errors() -> Script {
    let commands: &[&[&str]] = &[
        &["GET"],
        &["GET", "a", "b"],
        &["SET"],
        &["SET", "k"],
        &["SETNX", "k"],
        &["SETNX", "k", "v", "x"],
        &["SETEX", "k", "10"],
        &["SETEX", "k", "10", "v", "x"],
        &["PSETEX", "k", "10"],
        &["GETSET", "k"],
        &["GETSET", "k", "v", "x"],
        &["GETDEL"],
        &["GETDEL", "a", "b"],
        &["GETEX"],
        &["MGET"],
        &["MSET"],
        &["MSET", "k"],
        &["MSETNX"],
        &["MSETNX", "k"],
        &["APPEND", "k"],
        &["APPEND", "k", "v", "x"],
        &["STRLEN"],
        &["STRLEN", "a", "b"],
        &["INCR"],
        &["INCR", "a", "b"],
        &["DECR"],
        &["INCRBY", "k"],
        &["INCRBY", "k", "1", "2"],
        &["DECRBY", "k"],
        &["INCRBYFLOAT", "k"],
        &["INCRBYFLOAT", "k", "1", "2"],
        &["GETRANGE", "k", "0"],
        &["GETRANGE", "k", "0", "1", "2"],
        &["SUBSTR", "k", "0"],
        &["SETRANGE", "k", "0"],
        &["SETRANGE", "k", "0", "v", "x"],
        &["LCS", "k"],
        &["LCS"],
    ];
    script(
        "string command arity errors",
        commands.iter().map(|command| x(command)).collect(),
    )
}

fn strings_scripts() -> Vec<Script> {
    vec![
        get_and_set(),
        set_conditions(),
        set_expiry(),
        set_invalid_combinations(),
        setnx_setex_psetex(),
        getset_getdel_getex(),
        mget_mset_msetnx(),
        append_and_strlen(),
        incr_family(),
        incrbyfloat_cases(),
        getrange_cases(),
        setrange_cases(),
        encodings(),
        lcs_cases(),
        arity_errors(),
    ]
}

#[test]
fn string_commands_match_redis() {
    compare_scripts_resp2_and_resp3(&strings_scripts(), THREADS);
}

#[test]
fn incrbyfloat_formatting_matches_redis() {
    compare_scripts_resp2_and_resp3(&[incrbyfloat_formatting()], THREADS);
}

#[test]
fn encodings_after_in_place_edits_match_redis() {
    compare_scripts_resp2_and_resp3(&[encodings_after_in_place_edits()], THREADS);
}

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

/// A random mix of string and key commands over a few keys spread across
/// every shard: whatever state one command leaves, the next sees it on
/// both servers. OBJECT ENCODING stays out (see the ignored test above),
/// and so do time-dependent replies other than TTL within a second.
fn random_commands(seed: u64, length: usize) -> Script {
    let [a, b, c, d] = keys_on_each_shard("rnd:");
    let keys = [
        a.as_str(),
        b.as_str(),
        c.as_str(),
        d.as_str(),
        "{t}x",
        "{t}y",
    ];
    let values = [
        "",
        "0",
        "1",
        "-7",
        "12345",
        "abc",
        "hello world",
        "3.5",
        "9223372036854775807",
    ];
    let numbers = ["0", "1", "-1", "2", "5", "-3", "100", "abc"];
    let mut random = Random(seed);
    let mut steps = Vec::new();
    for _ in 0..length {
        let (k1, k2, k3) = (random.pick(&keys), random.pick(&keys), random.pick(&keys));
        let (v1, v2) = (random.pick(&values), random.pick(&values));
        let n = random.pick(&numbers);
        let step = match random.next() % 36 {
            0 => x(&["SET", k1, v1]),
            1 => x(&["SET", k1, v1, random.pick(&["NX", "XX", "GET", "KEEPTTL"])]),
            2 => x(&["GET", k1]),
            3 => x(&["APPEND", k1, v1]),
            4 => x(&["INCR", k1]),
            5 => x(&["INCRBY", k1, n]),
            6 => x(&["DECRBY", k1, n]),
            7 => x(&[
                "INCRBYFLOAT",
                k1,
                random.pick(&["0.1", "-1.5", "2", "1e3", "x"]),
            ]),
            8 => x(&["GETRANGE", k1, n, random.pick(&numbers)]),
            9 => x(&["SETRANGE", k1, random.pick(&["0", "1", "3", "-1"]), v1]),
            10 => x(&["STRLEN", k1]),
            11 => x(&["DEL", k1, k2]),
            12 => x(&["EXISTS", k1, k2, k3]),
            13 => x(&["MSET", k1, v1, k2, v2]),
            14 => x(&["MGET", k1, k2, k3]),
            15 => x(&["MSETNX", k1, v1, k2, v2]),
            16 => x(&["RENAME", k1, k2]),
            17 => x(&["RENAMENX", k1, k2]),
            18 => x(&[
                "COPY",
                k1,
                k2,
                random.pick(&["REPLACE", "DB", "REPLACE"]),
                "1",
            ]),
            19 => x(&["GETDEL", k1]),
            20 => x(&["GETSET", k1, v1]),
            21 => x(&["SETNX", k1, v1]),
            22 => x(&["LCS", k1, k2, random.pick(&["LEN", "IDX", "WITHMATCHLEN"])]),
            23 => x(&["TYPE", k1]),
            24 => x(&[
                "EXPIRE",
                k1,
                random.pick(&["100", "1000", "-1"]),
                random.pick(&["NX", "XX", "GT", "LT"]),
            ]),
            25 => x(&["PERSIST", k1]),
            26 => near(1, &["TTL", k1]),
            27 => unordered(&["KEYS", "*"]),
            28 => x(&["DBSIZE"]),
            29 => x(&["GETEX", k1, random.pick(&["PERSIST", "EX", "PX"]), "100000"]),
            30 => x(&["SETEX", k1, random.pick(&["100", "0", "x"]), v1]),
            31 => x(&["SUBSTR", k1, n, "-1"]),
            32 => x(&["DECR", k1]),
            33 => x(&["UNLINK", k1, k2, k3]),
            34 => x(&["MOVE", k1, random.pick(&["1", "0"])]),
            _ => scan_all(&["MATCH", random.pick(&["*", "rnd:*", "{t}*"])]),
        };
        steps.push(step);
    }
    script(&format!("random commands, seed {seed}"), steps)
}

#[test]
fn random_string_and_key_commands_match_redis() {
    let scripts: Vec<Script> = (1..=8)
        .map(|seed| random_commands(seed * 7919, 500))
        .collect();
    compare_scripts_resp2_and_resp3(&scripts, THREADS);
}

/// The smallest pipelines that show commands overtaking one another: a
/// fan-out command (DBSIZE, KEYS) sees writes sent after it, and a command
/// sent after a multi-shard write does not see that write.
fn pipelined_order() -> Script {
    let [a, b, _, _] = keys_on_each_shard("pipe:");
    script(
        "pipelined commands keep their order",
        vec![
            x(&["SET", &a, "x"]),
            x(&["DBSIZE"]),
            x(&["SET", &b, "y"]),
            x(&["DBSIZE"]),
            unordered(&["KEYS", "*"]),
            x(&["DEL", &b]),
            unordered(&["KEYS", "*"]),
            x(&["MSET", &a, "1", &b, "2"]),
            x(&["GET", &a]),
            x(&["GET", &b]),
            x(&["SET", &a, "3"]),
            x(&["MGET", &a, &b]),
            x(&["RENAME", &a, &b]),
            x(&["EXISTS", &a]),
            x(&["GET", &b]),
        ],
    )
}

fn pipelined(resp3: bool) -> DiffOptions {
    DiffOptions {
        resp3,
        pipelined: true,
        ..DiffOptions::default()
    }
}

#[test]
fn pipelined_commands_keep_their_order() {
    for resp3 in [false, true] {
        compare_scripts_with(&[pipelined_order()], THREADS, &pipelined(resp3));
    }
}

/// The same random scripts, each sent as one pipeline: with four shards,
/// consecutive commands run on different workers, and their replies must
/// still come back in the order the commands were sent.
#[test]
fn pipelined_random_commands_match_redis() {
    let scripts: Vec<Script> = (1..=8)
        .map(|seed| {
            let mut script = random_commands(seed * 7919, 500);
            script.steps.retain(|step| step.check != Check::ScanAll);
            script
        })
        .collect();
    for resp3 in [false, true] {
        compare_scripts_with(&scripts, THREADS, &pipelined(resp3));
    }
}
