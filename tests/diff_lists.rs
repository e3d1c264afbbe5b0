//! List commands compared with `redis-server` reply for reply: every command
//! of Redis 7.0's `t_list.c` that Shoal implements (all but the blocking
//! ones), their options and edge cases, number errors, WRONGTYPE both ways,
//! arity, OBJECT ENCODING under every `list-max-listpack-size`, emptied lists
//! disappearing, the generic key commands over lists, and moves between keys
//! on different shards, under RESP2 and RESP3, against `--threads 1` and `4`.

mod util;

use util::diff::{
    compare_scripts_resp2_and_resp3, compare_scripts_with, keys_on_each_shard, near, scan_all,
    script, shape, unordered, x, Check, DiffOptions, Script, Step,
};

/// Every script runs against a single-shard and a four-shard Shoal.
const THREADS: &[usize] = &[1, 4];

/// Numbers that are not what Redis parses as an integer, or are at its edges.
const BAD_INTEGERS: &[&str] = &[
    "abc",
    "1.5",
    "",
    " 1",
    "1 ",
    "0x10",
    "9223372036854775808",
    "-9223372036854775809",
];

fn strs(words: &[String]) -> Vec<&str> {
    words.iter().map(String::as_str).collect()
}

fn push_and_len() -> Script {
    script(
        "LPUSH RPUSH LPUSHX RPUSHX LLEN",
        vec![
            x(&["LLEN", "l"]),
            x(&["LPUSHX", "l", "a"]),
            x(&["RPUSHX", "l", "a", "b"]),
            x(&["EXISTS", "l"]),
            x(&["LPUSH", "l", "a"]),
            x(&["LPUSH", "l", "b", "c", "d"]),
            x(&["RPUSH", "l", "e", "f"]),
            x(&["LRANGE", "l", "0", "-1"]),
            x(&["LLEN", "l"]),
            x(&["LPUSHX", "l", "x", "y"]),
            x(&["RPUSHX", "l", "z"]),
            x(&["LRANGE", "l", "0", "-1"]),
            x(&["RPUSH", "r", "1", "2", "3"]),
            x(&["LRANGE", "r", "0", "-1"]),
            x(&["lpush", "r", ""]),
            x(&["rpush", "r", ""]),
            x(&["LRANGE", "r", "0", "-1"]),
            x(&["LLEN", "r"]),
            x(&["TYPE", "l"]),
            x(&["OBJECT", "ENCODING", "l"]),
            // Integers and their look-alikes come back as they were sent.
            x(&[
                "RPUSH",
                "n",
                "0",
                "-1",
                "007",
                "9223372036854775807",
                "1e3",
                "+5",
            ]),
            x(&["LRANGE", "n", "0", "-1"]),
            x(&["LPUSH", "n", "12345678901234567890"]),
            x(&["LINDEX", "n", "0"]),
        ],
    )
}

fn wrong_types() -> Script {
    let mut steps = vec![x(&["SET", "s", "v"]), x(&["RPUSH", "l", "a", "b"])];
    let on_string: &[&[&str]] = &[
        &["LPUSH", "s", "a"],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s"],
        &["LPOP", "s", "2"],
        &["RPOP", "s", "0"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "0"],
        &["LINDEX", "s", "abc"],
        &["LSET", "s", "0", "x"],
        &["LSET", "s", "abc", "x"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LPOS", "s", "a", "COUNT", "0"],
        &["LMOVE", "s", "l", "LEFT", "RIGHT"],
        &["LMOVE", "l", "s", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "s", "l"],
        &["RPOPLPUSH", "l", "s"],
        &["RPOPLPUSH", "missing", "s"],
        &["LMPOP", "1", "s", "LEFT"],
        &["LMPOP", "2", "missing", "s", "LEFT"],
        &["LMPOP", "2", "l", "s", "RIGHT"],
        // String and key commands on a list.
        &["GET", "l"],
        &["APPEND", "l", "x"],
        &["INCR", "l"],
        &["STRLEN", "l"],
        &["GETRANGE", "l", "0", "1"],
        &["SETRANGE", "l", "0", "x"],
        &["GETDEL", "l"],
        &["MGET", "l", "s"],
        &["LCS", "l", "s"],
    ];
    steps.extend(on_string.iter().map(|command| x(command)));
    steps.extend([
        // Nothing above changed either key.
        x(&["LRANGE", "l", "0", "-1"]),
        x(&["GET", "s"]),
        // SET overwrites a list whatever it held.
        x(&["SET", "l", "now a string"]),
        x(&["TYPE", "l"]),
        x(&["RPUSH", "l", "x"]),
    ]);
    script("WRONGTYPE both ways", steps)
}

fn pops() -> Script {
    let mut steps = vec![
        x(&["LPOP", "l"]),
        x(&["RPOP", "l"]),
        x(&["LPOP", "l", "0"]),
        x(&["LPOP", "l", "3"]),
        x(&["RPOP", "l", "1"]),
        x(&["RPUSH", "l", "a", "b", "c", "d", "e", "f", "g"]),
        x(&["LPOP", "l"]),
        x(&["RPOP", "l"]),
        x(&["LPOP", "l", "0"]),
        x(&["RPOP", "l", "0"]),
        x(&["LPOP", "l", "2"]),
        x(&["RPOP", "l", "2"]),
        x(&["LRANGE", "l", "0", "-1"]),
        x(&["RPOP", "l", "10"]),
        x(&["EXISTS", "l"]),
        x(&["RPUSH", "l", "a", "b", "c"]),
        x(&["LPOP", "l", "3"]),
        x(&["EXISTS", "l"]),
        x(&["RPUSH", "l", "only"]),
        x(&["RPOP", "l"]),
        x(&["EXISTS", "l"]),
        x(&["RPUSH", "l", "only"]),
        x(&["LPOP", "l", "9223372036854775807"]),
        x(&["EXISTS", "l"]),
        x(&["RPUSH", "l", "a", "b"]),
        x(&["LPOP", "l", "1", "2"]),
        x(&["RPOP", "l", "1", "2"]),
        x(&["LPOP", "missing", "1", "2"]),
        x(&["LPOP", "l", "-1"]),
        x(&["RPOP", "l", "-9223372036854775808"]),
        x(&["lpop", "l", "1"]),
        x(&["rPoP", "l", "1"]),
        x(&["EXISTS", "l"]),
    ];
    for bad in BAD_INTEGERS {
        steps.push(x(&["LPOP", "missing", bad]));
        steps.push(x(&["RPUSH", "l", "a"]));
        steps.push(x(&["RPOP", "l", bad]));
    }
    steps.push(x(&["LLEN", "l"]));
    script("LPOP RPOP with and without a count", steps)
}

fn lrange_cases() -> Script {
    let mut steps = vec![
        x(&["LRANGE", "missing", "0", "-1"]),
        x(&["LRANGE", "missing", "abc", "-1"]),
        x(&[
            "RPUSH", "l", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
        ]),
    ];
    let bounds = [
        "0",
        "1",
        "5",
        "9",
        "10",
        "11",
        "100",
        "-1",
        "-2",
        "-10",
        "-11",
        "-100",
        "9223372036854775807",
        "-9223372036854775808",
    ];
    for start in bounds {
        for end in bounds {
            steps.push(x(&["LRANGE", "l", start, end]));
        }
    }
    for bad in BAD_INTEGERS {
        steps.push(x(&["LRANGE", "l", bad, "1"]));
        steps.push(x(&["LRANGE", "l", "0", bad]));
    }
    script("LRANGE bounds", steps)
}

fn lindex_and_lset() -> Script {
    let mut steps = vec![
        x(&["LINDEX", "missing", "0"]),
        x(&["LINDEX", "missing", "abc"]),
        x(&["LSET", "missing", "0", "x"]),
        x(&["LSET", "missing", "abc", "x"]),
        x(&["RPUSH", "l", "a", "b", "c", "d"]),
    ];
    for index in [
        "0",
        "1",
        "3",
        "4",
        "-1",
        "-4",
        "-5",
        "100",
        "9223372036854775807",
        "-9223372036854775808",
    ] {
        steps.push(x(&["LINDEX", "l", index]));
        steps.push(x(&["LSET", "l", index, &format!("set{index}")]));
        steps.push(x(&["LRANGE", "l", "0", "-1"]));
    }
    for bad in BAD_INTEGERS {
        steps.push(x(&["LINDEX", "l", bad]));
        steps.push(x(&["LSET", "l", bad, "x"]));
    }
    steps.extend([
        x(&["LSET", "l", "0", ""]),
        x(&["LSET", "l", "1", &"long".repeat(3000)]),
        x(&["LINDEX", "l", "1"]),
        x(&["LSET", "l", "1", "short again"]),
        x(&["LRANGE", "l", "0", "-1"]),
    ]);
    script("LINDEX LSET", steps)
}

fn linsert_cases() -> Script {
    script(
        "LINSERT",
        vec![
            x(&["LINSERT", "missing", "BEFORE", "a", "b"]),
            x(&["LINSERT", "missing", "MIDDLE", "a", "b"]),
            x(&["EXISTS", "missing"]),
            x(&["RPUSH", "l", "a", "b", "c", "b"]),
            x(&["LINSERT", "l", "BEFORE", "b", "x"]),
            x(&["LINSERT", "l", "AFTER", "b", "y"]),
            x(&["LINSERT", "l", "before", "a", "first"]),
            x(&["LINSERT", "l", "after", "c", "after-c"]),
            x(&["LINSERT", "l", "AFTER", "b", "again"]),
            x(&["LRANGE", "l", "0", "-1"]),
            x(&["LINSERT", "l", "BEFORE", "nothere", "z"]),
            x(&["LINSERT", "l", "AFTER", "", "z"]),
            x(&["LINSERT", "l", "MIDDLE", "a", "z"]),
            x(&["LINSERT", "l", "BEFOREE", "a", "z"]),
            x(&["LINSERT", "l", "AFTER", "b", ""]),
            x(&["LINSERT", "l", "AFTER", "", "after-empty"]),
            x(&["LRANGE", "l", "0", "-1"]),
            x(&["RPUSH", "last", "only"]),
            x(&["LINSERT", "last", "AFTER", "only", "tail"]),
            x(&["LINSERT", "last", "BEFORE", "only", "head"]),
            x(&["LRANGE", "last", "0", "-1"]),
        ],
    )
}

fn lrem_cases() -> Script {
    let mut steps = vec![
        x(&["LREM", "missing", "0", "a"]),
        x(&["LREM", "missing", "abc", "a"]),
    ];
    for count in [
        "0",
        "1",
        "2",
        "-1",
        "-2",
        "100",
        "-100",
        "-9223372036854775808",
    ] {
        steps.extend([
            x(&["DEL", "l"]),
            x(&["RPUSH", "l", "a", "b", "a", "c", "a", "a", "d", "a"]),
            x(&["LREM", "l", count, "a"]),
            x(&["LRANGE", "l", "0", "-1"]),
            x(&["LREM", "l", count, "zz"]),
        ]);
    }
    for bad in BAD_INTEGERS {
        steps.push(x(&["LREM", "l", bad, "a"]));
    }
    steps.extend([
        x(&["DEL", "l"]),
        x(&["RPUSH", "l", "a", "a", "a"]),
        x(&["LREM", "l", "0", "a"]),
        x(&["EXISTS", "l"]),
        x(&["RPUSH", "l", "x", "", "x", ""]),
        x(&["LREM", "l", "-1", ""]),
        x(&["LRANGE", "l", "0", "-1"]),
    ]);
    script("LREM", steps)
}

fn ltrim_cases() -> Script {
    let mut steps = vec![
        x(&["LTRIM", "missing", "0", "1"]),
        x(&["LTRIM", "missing", "abc", "1"]),
        x(&["EXISTS", "missing"]),
    ];
    let bounds = ["0", "2", "7", "8", "-1", "-3", "-8", "-9", "100"];
    for start in bounds {
        for end in bounds {
            steps.extend([
                x(&["DEL", "l"]),
                x(&["RPUSH", "l", "0", "1", "2", "3", "4", "5", "6", "7"]),
                x(&["LTRIM", "l", start, end]),
                x(&["LRANGE", "l", "0", "-1"]),
                x(&["EXISTS", "l"]),
            ]);
        }
    }
    for bad in BAD_INTEGERS {
        steps.push(x(&["LTRIM", "l", bad, "1"]));
        steps.push(x(&["LTRIM", "l", "0", bad]));
    }
    script("LTRIM", steps)
}

fn lpos_cases() -> Script {
    let mut steps = vec![
        x(&["LPOS", "missing", "a"]),
        x(&["LPOS", "missing", "a", "COUNT", "0"]),
        x(&["LPOS", "missing", "a", "RANK", "0"]),
        x(&["LPOS", "missing", "a", "FOO", "1"]),
        x(&["RPUSH", "l", "a", "b", "c", "a", "b", "c", "a", "a"]),
    ];
    let option_sets: &[&[&str]] = &[
        &[],
        &["RANK", "1"],
        &["RANK", "2"],
        &["RANK", "4"],
        &["RANK", "5"],
        &["RANK", "-1"],
        &["RANK", "-3"],
        &["RANK", "-5"],
        &["COUNT", "0"],
        &["COUNT", "1"],
        &["COUNT", "2"],
        &["COUNT", "10"],
        &["MAXLEN", "0"],
        &["MAXLEN", "1"],
        &["MAXLEN", "4"],
        &["RANK", "2", "COUNT", "2"],
        &["RANK", "-2", "COUNT", "0"],
        &["RANK", "-1", "COUNT", "2", "MAXLEN", "3"],
        &["COUNT", "0", "MAXLEN", "5"],
        &["RANK", "3", "MAXLEN", "5"],
        &["RANK", "1", "RANK", "2"],
        &["COUNT", "1", "COUNT", "0"],
        &["rank", "-1", "count", "0", "maxlen", "0"],
        &["RANK", "9223372036854775807"],
        &["RANK", "-9223372036854775807", "COUNT", "2"],
        &["RANK", "-9223372036854775808"],
        &["RANK", "-9223372036854775808", "COUNT", "2"],
        &["RANK", "-9223372036854775808", "COUNT", "0"],
        &["COUNT", "9223372036854775807"],
        // Errors, in the order Redis meets them.
        &["RANK", "0"],
        &["RANK", "abc"],
        &["RANK"],
        &["COUNT"],
        &["COUNT", "-1"],
        &["COUNT", "abc"],
        &["MAXLEN", "-1"],
        &["MAXLEN", "1.5"],
        &["FOO"],
        &["FOO", "1"],
        &["RANK", "1", "COUNT"],
        &["RANK", "0", "FOO"],
        &["FOO", "1", "RANK", "0"],
        &["COUNT", "-1", "RANK", "0"],
    ];
    for options in option_sets {
        for element in ["a", "c", "zz"] {
            let mut command = vec!["LPOS", "l", element];
            command.extend_from_slice(options);
            steps.push(x(&command));
        }
    }
    steps.push(x(&["SET", "s", "v"]));
    steps.push(x(&["LPOS", "s", "a", "RANK", "0"]));
    steps.push(x(&["LPOS", "s", "a", "COUNT", "1"]));
    script("LPOS", steps)
}

fn lmove_cases() -> Script {
    let [a, b, c, d] = keys_on_each_shard("move:");
    let mut steps = vec![
        x(&["LMOVE", &a, &b, "LEFT", "RIGHT"]),
        x(&["RPOPLPUSH", &a, &b]),
        x(&["EXISTS", &a, &b]),
        x(&["LMOVE", &a, &b, "UP", "RIGHT"]),
        x(&["LMOVE", &a, &b, "LEFT", "DOWN"]),
        x(&["RPUSH", &a, "1", "2", "3", "4", "5", "6"]),
        x(&["LMOVE", &a, &b, "UP", "RIGHT"]),
    ];
    for (from, to) in [
        ("LEFT", "LEFT"),
        ("LEFT", "RIGHT"),
        ("RIGHT", "LEFT"),
        ("RIGHT", "RIGHT"),
        ("left", "right"),
    ] {
        steps.push(x(&["LMOVE", &a, &b, from, to]));
        steps.push(x(&["LRANGE", &a, "0", "-1"]));
        steps.push(x(&["LRANGE", &b, "0", "-1"]));
    }
    steps.extend([
        x(&["RPOPLPUSH", &a, &c]),
        x(&["LRANGE", &c, "0", "-1"]),
        x(&["EXISTS", &a]),
        x(&["RPOPLPUSH", &a, &c]),
        x(&["LMOVE", &a, &c, "LEFT", "LEFT"]),
        // A list rotates onto itself, even when it holds one element.
        x(&["RPUSH", &d, "x", "y", "z"]),
        x(&["RPOPLPUSH", &d, &d]),
        x(&["LMOVE", &d, &d, "LEFT", "RIGHT"]),
        x(&["LMOVE", &d, &d, "RIGHT", "RIGHT"]),
        x(&["LRANGE", &d, "0", "-1"]),
        x(&["DEL", &d]),
        x(&["RPUSH", &d, "solo"]),
        x(&["LMOVE", &d, &d, "LEFT", "RIGHT"]),
        x(&["RPOPLPUSH", &d, &d]),
        x(&["LRANGE", &d, "0", "-1"]),
        // WRONGTYPE on either side moves nothing.
        x(&["SET", &c, "string"]),
        x(&["LMOVE", &b, &c, "LEFT", "LEFT"]),
        x(&["RPOPLPUSH", &b, &c]),
        x(&["LMOVE", &c, &b, "LEFT", "LEFT"]),
        x(&["LRANGE", &b, "0", "-1"]),
        x(&["LMOVE", "{t}1", "{t}2", "LEFT", "LEFT"]),
        x(&["RPUSH", "{t}1", "p", "q"]),
        x(&["LMOVE", "{t}1", "{t}2", "RIGHT", "LEFT"]),
        x(&["RPOPLPUSH", "{t}1", "{t}2"]),
        x(&["LRANGE", "{t}2", "0", "-1"]),
        x(&["EXISTS", "{t}1"]),
        x(&["DBSIZE"]),
    ]);
    script("LMOVE RPOPLPUSH across shards", steps)
}

fn lmpop_cases() -> Script {
    let [a, b, c, d] = keys_on_each_shard("mpop:");
    script(
        "LMPOP across shards",
        vec![
            x(&["LMPOP", "1", &a, "LEFT"]),
            x(&["LMPOP", "4", &a, &b, &c, &d, "RIGHT"]),
            x(&["LMPOP", "4", &a, &b, &c, &d, "RIGHT", "COUNT", "3"]),
            x(&["RPUSH", &c, "c1", "c2", "c3", "c4"]),
            x(&["RPUSH", &d, "d1", "d2"]),
            x(&["LMPOP", "4", &a, &b, &c, &d, "LEFT"]),
            x(&["LMPOP", "4", &a, &b, &c, &d, "RIGHT", "COUNT", "2"]),
            x(&["LMPOP", "2", &d, &c, "LEFT", "COUNT", "1"]),
            x(&["LMPOP", "3", &a, &c, &d, "left", "count", "10"]),
            x(&["EXISTS", &c]),
            x(&["LMPOP", "3", &a, &c, &d, "RIGHT", "COUNT", "10"]),
            x(&["EXISTS", &d]),
            x(&["LMPOP", "4", &a, &b, &c, &d, "RIGHT", "COUNT", "10"]),
            x(&["RPUSH", &b, "b1"]),
            x(&["LMPOP", "2", &b, &b, "RIGHT", "COUNT", "5"]),
            x(&["RPUSH", "{t}x", "1", "2", "3"]),
            x(&["LMPOP", "2", "{t}y", "{t}x", "RIGHT", "COUNT", "2"]),
            x(&["LMPOP", "1", "{t}x", "LEFT", "COUNT", "9223372036854775807"]),
            // Errors, in the order Redis checks them.
            x(&["LMPOP", "0", &a, "LEFT"]),
            x(&["LMPOP", "-1", &a, "LEFT"]),
            x(&["LMPOP", "abc", &a, "LEFT"]),
            x(&["LMPOP", "1.5", &a, "LEFT"]),
            x(&["LMPOP", "2", &a, "LEFT"]),
            x(&["LMPOP", "3", &a, "LEFT", "COUNT"]),
            x(&["LMPOP", "9223372036854775807", &a, "LEFT"]),
            x(&["LMPOP", "9223372036854775806", &a, "LEFT"]),
            x(&["LMPOP", "1", &a, "MIDDLE"]),
            x(&["LMPOP", "1", &a, "LEFT", "COUNT"]),
            x(&["LMPOP", "1", &a, "LEFT", "COUNT", "0"]),
            x(&["LMPOP", "1", &a, "LEFT", "COUNT", "-1"]),
            x(&["LMPOP", "1", &a, "LEFT", "COUNT", "abc"]),
            x(&["LMPOP", "1", &a, "LEFT", "COUNT", "1", "COUNT", "1"]),
            x(&["LMPOP", "1", &a, "LEFT", "FOO"]),
            x(&["LMPOP", "1", &a, "LEFT", "COUNT", "1", "FOO"]),
            x(&["LMPOP", "1", &a]),
            x(&["LMPOP", "1"]),
            x(&["DBSIZE"]),
        ],
    )
}

/// OBJECT ENCODING is `quicklist` for every list in Redis 7.0, whatever
/// `list-max-listpack-size` says and however large the elements: the
/// encoding never changes, and the replies stay right as nodes split.
fn encodings() -> Script {
    let big = "b".repeat(70_000);
    let medium = "m".repeat(5000);
    let mut steps = vec![
        x(&["RPUSH", "l", "a"]),
        x(&["OBJECT", "ENCODING", "l"]),
        x(&["RPUSH", "l", &medium, &big, "z"]),
        x(&["OBJECT", "ENCODING", "l"]),
        x(&["LINDEX", "l", "2"]),
        x(&["LRANGE", "l", "-1", "-1"]),
    ];
    for size in ["1", "2", "5", "-1", "-5", "0", "-6", "1000"] {
        let key = format!("l{size}");
        steps.push(x(&["CONFIG", "SET", "list-max-listpack-size", size]));
        steps.push(x(&["CONFIG", "GET", "list-max-listpack-size"]));
        let elements: Vec<String> = (0..40).map(|index| format!("e{index}")).collect();
        let mut command = vec!["RPUSH", key.as_str()];
        command.extend(strs(&elements));
        steps.push(x(&command));
        steps.push(x(&["OBJECT", "ENCODING", &key]));
        steps.push(x(&["LPUSH", &key, &medium, "h"]));
        steps.push(x(&["LINSERT", &key, "AFTER", "e20", &medium]));
        steps.push(x(&["LSET", &key, "10", &medium]));
        steps.push(x(&["LINDEX", &key, "22"]));
        steps.push(x(&["LRANGE", &key, "5", "15"]));
        steps.push(x(&["LREM", &key, "0", &medium]));
        steps.push(x(&["LTRIM", &key, "3", "-3"]));
        steps.push(x(&["LRANGE", &key, "0", "-1"]));
        steps.push(x(&["OBJECT", "ENCODING", &key]));
        // A list made under one size keeps working under another.
        steps.push(x(&["RPUSH", "l", &format!("under {size}")]));
        steps.push(x(&["LRANGE", "l", "-2", "-1"]));
    }
    steps.extend([
        x(&["CONFIG", "SET", "list-max-listpack-size", "-2"]),
        x(&["OBJECT", "ENCODING", "l"]),
        x(&["LPOP", "l", "100"]),
        x(&["EXISTS", "l"]),
    ]);
    script("OBJECT ENCODING of lists", steps)
}

/// Long lists over many nodes: indexes from both ends, edits in the middle.
fn long_lists() -> Script {
    let mut steps = vec![x(&["CONFIG", "SET", "list-max-listpack-size", "-1"])];
    for key in ["long", "short-nodes"] {
        if key == "short-nodes" {
            steps.push(x(&["CONFIG", "SET", "list-max-listpack-size", "3"]));
        }
        for batch in 0..10 {
            let elements: Vec<String> = (0..100)
                .map(|index| format!("element-{}-{}", batch, "x".repeat(index % 17)))
                .collect();
            let mut command = vec![if batch % 2 == 0 { "RPUSH" } else { "LPUSH" }, key];
            command.extend(strs(&elements));
            steps.push(x(&command));
        }
        for index in [
            "0", "1", "99", "100", "333", "500", "501", "777", "998", "999", "-1", "-500", "-1000",
        ] {
            steps.push(x(&["LINDEX", key, index]));
        }
        steps.extend([
            x(&["LRANGE", key, "95", "105"]),
            x(&["LRANGE", key, "-105", "-95"]),
            x(&["LSET", key, "500", "middle"]),
            x(&["LINSERT", key, "BEFORE", "middle", "before-middle"]),
            x(&["LINSERT", key, "AFTER", "middle", "after-middle"]),
            x(&["LRANGE", key, "495", "510"]),
            x(&["LPOS", key, "middle"]),
            x(&["LPOS", key, "element-3-xxx", "COUNT", "0"]),
            x(&["LPOS", key, "element-4-x", "RANK", "-2", "COUNT", "3"]),
            x(&["LREM", key, "3", "element-5-"]),
            x(&["LREM", key, "-4", "element-6-xx"]),
            x(&["LREM", key, "0", "element-7-xxxxx"]),
            x(&["LLEN", key]),
            x(&["LPOP", key, "150"]),
            x(&["RPOP", key, "150"]),
            x(&["LTRIM", key, "50", "-50"]),
            x(&["LLEN", key]),
            x(&["LRANGE", key, "0", "-1"]),
        ]);
    }
    steps.push(x(&["CONFIG", "SET", "list-max-listpack-size", "-2"]));
    script("long lists across nodes", steps)
}

/// TYPE, OBJECT, DEL, EXISTS, expiry, RENAME, COPY, MOVE, SCAN TYPE,
/// RANDOMKEY, KEYS and DBSIZE over lists.
fn generic_commands() -> Script {
    let [a, b, c, d] = keys_on_each_shard("gen:");
    script(
        "generic commands over lists",
        vec![
            x(&["RPUSH", &a, "1", "2", "3"]),
            x(&["TYPE", &a]),
            x(&["OBJECT", "ENCODING", &a]),
            shape(&["RANDOMKEY"]),
            x(&["RANDOMKEY"]),
            x(&["EXISTS", &a, &b]),
            x(&["RENAME", &a, &b]),
            x(&["LRANGE", &b, "0", "-1"]),
            x(&["EXISTS", &a]),
            x(&["COPY", &b, &c]),
            x(&["RPUSH", &c, "4"]),
            x(&["LRANGE", &b, "0", "-1"]),
            x(&["LRANGE", &c, "0", "-1"]),
            x(&["COPY", &b, &c]),
            x(&["COPY", &b, &c, "REPLACE"]),
            x(&["LRANGE", &c, "0", "-1"]),
            x(&["COPY", &c, &d, "DB", "1"]),
            x(&["SET", &a, "string"]),
            x(&["RENAMENX", &b, &a]),
            x(&["RENAME", &b, &a]),
            x(&["TYPE", &a]),
            x(&["LRANGE", &a, "0", "-1"]),
            x(&["RPUSH", &b, "x"]),
            x(&["SET", &d, "s"]),
            unordered(&["KEYS", "*"]),
            scan_all(&["TYPE", "list"]),
            scan_all(&["TYPE", "LIST"]),
            scan_all(&["TYPE", "string"]),
            scan_all(&["MATCH", "gen:*", "TYPE", "list", "COUNT", "2"]),
            x(&["DBSIZE"]),
            x(&["MOVE", &a, "1"]),
            x(&["MOVE", &c, "1"]),
            x(&["SELECT", "1"]),
            x(&["LRANGE", &a, "0", "-1"]),
            x(&["LRANGE", &d, "0", "-1"]),
            x(&["TYPE", &d]),
            x(&["SELECT", "0"]),
            x(&["EXPIRE", &b, "100"]),
            near(1, &["TTL", &b]),
            x(&["RPUSH", &b, "y"]),
            near(1, &["TTL", &b]),
            x(&["LPOP", &b, "2"]),
            x(&["TTL", &b]),
            x(&["RPUSH", &b, "z"]),
            x(&["TTL", &b]),
            x(&["PEXPIRE", &b, "1"]),
            util::diff::pause(20),
            x(&["LLEN", &b]),
            x(&["EXISTS", &b]),
            x(&["DEL", &a, &b, &c, &d]),
            x(&["FLUSHALL"]),
        ],
    )
}

/// Each list command with one argument too few and, for fixed arities, one
/// too many.
fn arity_errors() -> Script {
    let commands: &[&[&str]] = &[
        &["LPUSH", "k"],
        &["LPUSH"],
        &["RPUSH", "k"],
        &["LPUSHX", "k"],
        &["RPUSHX", "k"],
        &["LPOP"],
        &["RPOP"],
        &["LLEN"],
        &["LLEN", "a", "b"],
        &["LRANGE", "k", "0"],
        &["LRANGE", "k", "0", "1", "2"],
        &["LINDEX", "k"],
        &["LINDEX", "k", "0", "1"],
        &["LSET", "k", "0"],
        &["LSET", "k", "0", "v", "x"],
        &["LINSERT", "k", "BEFORE", "p"],
        &["LINSERT", "k", "BEFORE", "p", "v", "x"],
        &["LREM", "k", "0"],
        &["LREM", "k", "0", "v", "x"],
        &["LTRIM", "k", "0"],
        &["LTRIM", "k", "0", "1", "2"],
        &["LPOS", "k"],
        &["LMOVE", "a", "b", "LEFT"],
        &["LMOVE", "a", "b", "LEFT", "RIGHT", "x"],
        &["RPOPLPUSH", "a"],
        &["RPOPLPUSH", "a", "b", "c"],
        &["LMPOP", "1", "k"],
        &["LMPOP"],
    ];
    script(
        "list command arity errors",
        commands.iter().map(|command| x(command)).collect(),
    )
}

/// Elements with every byte value, CR LF and NUL included.
fn binary_elements() -> Script {
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let command = |words: &[&[u8]]| {
        Step::bytes(
            words.iter().map(|word| word.to_vec()).collect(),
            Check::Exact,
        )
    };
    script(
        "binary elements",
        vec![
            command(&[b"RPUSH", b"bin", b"a\r\nb", b"\x00", &all_bytes, b""]),
            command(&[b"LRANGE", b"bin", b"0", b"-1"]),
            command(&[b"LPOS", b"bin", b"\x00"]),
            command(&[b"LREM", b"bin", b"0", &all_bytes]),
            command(&[b"LINSERT", b"bin", b"AFTER", b"a\r\nb", b"\xff\xfe"]),
            command(&[b"LSET", b"bin", b"0", b"\r\n"]),
            command(&[b"LRANGE", b"bin", b"0", b"-1"]),
            command(&[b"RPOPLPUSH", b"bin", b"\x00key"]),
            command(&[b"LMPOP", b"1", b"\x00key", b"RIGHT"]),
        ],
    )
}

/// Read commands count keyspace hits and misses (Redis's lookupKeyRead);
/// write commands do not.
fn keyspace_hits_and_misses() -> Script {
    let counters = || {
        Step::new(
            &["INFO", "stats"],
            Check::InfoFields(&["keyspace_hits", "keyspace_misses"]),
        )
    };
    script(
        "keyspace hits and misses of list commands",
        vec![
            x(&["CONFIG", "RESETSTAT"]),
            x(&["LLEN", "l"]),
            x(&["LRANGE", "l", "0", "-1"]),
            x(&["LINDEX", "l", "0"]),
            x(&["LPOS", "l", "a"]),
            counters(),
            x(&["RPUSH", "l", "a", "b"]),
            x(&["LLEN", "l"]),
            x(&["LRANGE", "l", "0", "-1"]),
            x(&["LINDEX", "l", "0"]),
            x(&["LPOS", "l", "a"]),
            counters(),
            x(&["LPUSH", "l", "x"]),
            x(&["LPUSHX", "m", "x"]),
            x(&["LSET", "l", "0", "y"]),
            x(&["LINSERT", "l", "BEFORE", "y", "z"]),
            x(&["LREM", "l", "1", "z"]),
            x(&["LTRIM", "l", "0", "-1"]),
            x(&["LPOP", "m"]),
            x(&["RPOP", "l"]),
            x(&["LMOVE", "l", "m", "LEFT", "LEFT"]),
            x(&["RPOPLPUSH", "none", "m"]),
            x(&["LMPOP", "2", "none", "l", "LEFT"]),
            counters(),
        ],
    )
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

/// A random mix of list commands over a few keys spread across every shard,
/// with short nodes so that splits and merges happen often.
fn random_commands(seed: u64, length: usize) -> Script {
    let [a, b, c, d] = keys_on_each_shard("rl:");
    let keys = [a.as_str(), b.as_str(), c.as_str(), d.as_str()];
    let long = "L".repeat(300);
    let values = ["", "a", "b", "c", "0", "-1", "hello", long.as_str()];
    let numbers = ["0", "1", "-1", "2", "3", "-3", "5", "10", "-10"];
    let sides = ["LEFT", "RIGHT"];
    let mut random = Random(seed);
    let mut steps = vec![x(&["CONFIG", "SET", "list-max-listpack-size", "4"])];
    for _ in 0..length {
        let (k1, k2, k3) = (random.pick(&keys), random.pick(&keys), random.pick(&keys));
        let (v1, v2, v3) = (
            random.pick(&values),
            random.pick(&values),
            random.pick(&values),
        );
        let (n1, n2) = (random.pick(&numbers), random.pick(&numbers));
        let step = match random.next() % 20 {
            0 | 1 => x(&["RPUSH", k1, v1, v2, v3]),
            2 | 3 => x(&["LPUSH", k1, v1, v2]),
            4 => x(&[random.pick(&["LPUSHX", "RPUSHX"]), k1, v1]),
            5 => x(&[random.pick(&["LPOP", "RPOP"]), k1]),
            6 => x(&[
                random.pick(&["LPOP", "RPOP"]),
                k1,
                random.pick(&["0", "1", "2", "7"]),
            ]),
            7 => x(&["LRANGE", k1, n1, n2]),
            8 => x(&["LINDEX", k1, n1]),
            9 => x(&["LSET", k1, n1, v1]),
            10 => x(&["LINSERT", k1, random.pick(&["BEFORE", "AFTER"]), v1, v2]),
            11 => x(&["LREM", k1, n1, v1]),
            12 => x(&["LTRIM", k1, n1, n2]),
            13 => x(&[
                "LPOS",
                k1,
                v1,
                "RANK",
                random.pick(&["1", "-1", "2"]),
                "COUNT",
                n1.trim_start_matches('-'),
            ]),
            14 => x(&["LMOVE", k1, k2, random.pick(&sides), random.pick(&sides)]),
            15 => x(&["RPOPLPUSH", k1, k2]),
            16 => x(&[
                "LMPOP",
                "3",
                k1,
                k2,
                k3,
                random.pick(&sides),
                "COUNT",
                random.pick(&["1", "2", "5"]),
            ]),
            17 => x(&["LLEN", k1]),
            18 => x(&["EXISTS", k1, k2, k3]),
            _ => x(&["LRANGE", k1, "0", "-1"]),
        };
        steps.push(step);
    }
    for key in keys {
        steps.push(x(&["LRANGE", key, "0", "-1"]));
    }
    steps.push(x(&["CONFIG", "SET", "list-max-listpack-size", "-2"]));
    script(&format!("random list commands, seed {seed}"), steps)
}

fn list_scripts() -> Vec<Script> {
    vec![
        push_and_len(),
        wrong_types(),
        pops(),
        lrange_cases(),
        lindex_and_lset(),
        linsert_cases(),
        lrem_cases(),
        ltrim_cases(),
        lpos_cases(),
        lmove_cases(),
        lmpop_cases(),
        generic_commands(),
        arity_errors(),
        binary_elements(),
    ]
}

#[test]
fn list_commands_match_redis() {
    compare_scripts_resp2_and_resp3(&list_scripts(), THREADS);
}

/// Their own test: CONFIG SET is server-wide.
#[test]
fn list_encodings_and_long_lists_match_redis() {
    compare_scripts_resp2_and_resp3(&[encodings(), long_lists()], THREADS);
}

/// Its own test: the counters are server-wide.
#[test]
fn list_keyspace_hits_and_misses_match_redis() {
    compare_scripts_resp2_and_resp3(&[keyspace_hits_and_misses()], THREADS);
}

#[test]
fn random_list_commands_match_redis() {
    let scripts: Vec<Script> = (1..=6)
        .map(|seed| random_commands(seed * 104_729, 400))
        .collect();
    compare_scripts_resp2_and_resp3(&scripts, THREADS);
}

/// The same random scripts, each sent as one pipeline: with four shards,
/// consecutive commands (moves between shards among them) run on different
/// workers, and their replies must still come back in order.
#[test]
fn pipelined_random_list_commands_match_redis() {
    let scripts: Vec<Script> = (1..=4)
        .map(|seed| random_commands(seed * 15_485_863, 400))
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
