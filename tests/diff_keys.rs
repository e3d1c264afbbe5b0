//! Key space commands compared with `redis-server` reply for reply: existence,
//! deletion, expiry and its conditions, renaming, copying and moving across
//! shards and databases, KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL and
//! OBJECT, under RESP2 and RESP3, against `--threads 1` and `4`.

mod util;

use util::diff::{
    compare_scripts_resp2_and_resp3, keys_on_each_shard, near, pause, scan_all, scan_page, script,
    shape, unordered, x, Check, Script, Step,
};

/// Every script runs against a single-shard and a four-shard Shoal.
const THREADS: &[usize] = &[1, 4];

fn del_exists_touch_type() -> Script {
    let [a, b, c, d] = keys_on_each_shard("key:");
    script(
        "DEL UNLINK EXISTS TOUCH TYPE across shards",
        vec![
            x(&["EXISTS", &a]),
            x(&["TYPE", &a]),
            x(&["MSET", &a, "1", &b, "2", &c, "3", &d, "4"]),
            x(&["TYPE", &a]),
            x(&["EXISTS", &a, &b, &c, &d, "missing"]),
            x(&["EXISTS", &a, &a, &a]),
            x(&["TOUCH", &a, &b, "missing", &b]),
            x(&["DEL", &a, &a]),
            x(&["DEL", &a]),
            x(&["DEL", "missing", "missing2"]),
            x(&["UNLINK", &b, &c, "missing"]),
            x(&["EXISTS", &a, &b, &c, &d]),
            x(&["DEL", &d, &c, &b, &a]),
            x(&["DBSIZE"]),
            x(&["MSET", "{h}1", "a", "{h}2", "b", "{h}3", "c"]),
            x(&["DEL", "{h}1", "{h}2", "{h}9"]),
            x(&["EXISTS", "{h}1", "{h}2", "{h}3"]),
            x(&["UNLINK", "{h}3"]),
            x(&["DEL"]),
            x(&["UNLINK"]),
            x(&["EXISTS"]),
            x(&["TOUCH"]),
            x(&["TYPE"]),
            x(&["TYPE", "a", "b"]),
            x(&["SET", "expiring", "v", "PX", "1"]),
        ],
    )
}

fn expire_basics() -> Script {
    script(
        "EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST",
        vec![
            x(&["EXPIRE", "k", "100"]),
            x(&["TTL", "k"]),
            x(&["PTTL", "k"]),
            x(&["EXPIRETIME", "k"]),
            x(&["PEXPIRETIME", "k"]),
            x(&["PERSIST", "k"]),
            x(&["SET", "k", "v"]),
            x(&["TTL", "k"]),
            x(&["PTTL", "k"]),
            x(&["EXPIRETIME", "k"]),
            x(&["PEXPIRETIME", "k"]),
            x(&["PERSIST", "k"]),
            x(&["EXPIRE", "k", "100"]),
            near(1, &["TTL", "k"]),
            near(1000, &["PTTL", "k"]),
            x(&["PEXPIRE", "k", "200000"]),
            near(1, &["TTL", "k"]),
            x(&["EXPIREAT", "k", "4102444800"]),
            x(&["EXPIRETIME", "k"]),
            x(&["PEXPIRETIME", "k"]),
            x(&["PEXPIREAT", "k", "4102444800555"]),
            x(&["EXPIRETIME", "k"]),
            x(&["PEXPIRETIME", "k"]),
            x(&["PERSIST", "k"]),
            x(&["PERSIST", "k"]),
            x(&["TTL", "k"]),
            x(&["expire", "k", "100"]),
            x(&["SET", "k", "v2"]),
            x(&["TTL", "k"]),
            // Times at or before now delete the key.
            x(&["EXPIRE", "k", "0"]),
            x(&["EXISTS", "k"]),
            x(&["SET", "k", "v"]),
            x(&["EXPIRE", "k", "-10"]),
            x(&["EXISTS", "k"]),
            x(&["SET", "k", "v"]),
            x(&["PEXPIRE", "k", "-1"]),
            x(&["EXISTS", "k"]),
            x(&["SET", "k", "v"]),
            x(&["EXPIREAT", "k", "1"]),
            x(&["EXISTS", "k"]),
            x(&["SET", "k", "v"]),
            x(&["PEXPIREAT", "k", "0"]),
            x(&["EXISTS", "k"]),
            x(&["SET", "k", "v"]),
            x(&["EXPIREAT", "k", "-1"]),
            x(&["EXISTS", "k"]),
            x(&["SET", "k", "v"]),
            x(&["PEXPIRE", "k", "1"]),
        ],
    )
}

fn expire_errors() -> Script {
    let mut steps = vec![x(&["SET", "k", "v"])];
    for command in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        for time in [
            "abc",
            "1.5",
            "",
            " 1",
            "9223372036854775808",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775",
            "9223372036854776",
            "-9223372036854775",
            "-9223372036854776",
            "9223372036854775000",
        ] {
            steps.push(x(&[command, "k", time]));
            steps.push(x(&["EXISTS", "k"]));
            steps.push(x(&["SET", "k", "v"]));
            steps.push(x(&[command, "missing", time]));
        }
        steps.push(x(&[command, "k"]));
        steps.push(x(&[command]));
        steps.push(x(&[command, "k", "100", "FOO"]));
        steps.push(x(&[command, "k", "abc", "FOO"]));
        steps.push(x(&[command, "k", "abc", "NX", "XX"]));
        steps.push(x(&[command, "missing", "100", "FOO"]));
        steps.push(x(&[command, "k", "100", "NX", "XX"]));
        steps.push(x(&[command, "k", "100", "NX", "GT"]));
        steps.push(x(&[command, "k", "100", "NX", "LT"]));
        steps.push(x(&[command, "k", "100", "GT", "LT"]));
        steps.push(x(&[command, "k", "100", "LT", "GT"]));
        steps.push(x(&[command, "k", "100", "XX", "NX"]));
        steps.push(x(&[command, "k", "100", "NX", "NX"]));
        // GT against the time NX just set: a later time, far enough ahead
        // that the milliseconds between the two servers cannot tie it.
        let later = match command {
            "EXPIRE" => "100000",
            "PEXPIRE" => "100000000",
            "EXPIREAT" => "4102444800",
            _ => "4102444800000",
        };
        steps.push(x(&[command, "k", later, "XX", "GT", "XX"]));
        steps.push(x(&["TTL", "k"]));
    }
    for command in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "PERSIST"] {
        steps.push(x(&[command]));
        steps.push(x(&[command, "a", "b"]));
    }
    script("EXPIRE family errors", steps)
}

/// NX, XX, GT and LT on keys without and with a time to live (a key
/// without one counts as an infinite time to live for GT and LT). Every
/// GT or LT compares times far apart: for relative times, equal arguments
/// give times a millisecond or two apart on the two servers.
fn expire_conditions() -> Script {
    let mut steps = Vec::new();
    for command in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        let (small, large, larger) = match command {
            "EXPIRE" => ("100", "1000", "10000"),
            "PEXPIRE" => ("100000", "1000000", "10000000"),
            "EXPIREAT" => ("4102444800", "4102444900", "4102445000"),
            _ => ("4102444800000", "4102444900000", "4102445000000"),
        };
        steps.extend([
            x(&["SET", "k", "v"]),
            x(&[command, "k", small, "XX"]),
            x(&[command, "k", small, "GT"]),
            x(&["TTL", "k"]),
            x(&[command, "k", small, "LT"]),
            near(1, &["TTL", "k"]),
            x(&["PERSIST", "k"]),
            x(&[command, "k", small, "NX"]),
            x(&[command, "k", large, "NX"]),
            x(&[command, "k", large, "XX"]),
            near(1, &["TTL", "k"]),
            x(&[command, "k", small, "GT"]),
            x(&[command, "k", larger, "GT"]),
            near(1, &["TTL", "k"]),
            x(&[command, "k", large, "LT"]),
            near(1, &["TTL", "k"]),
            x(&[command, "k", larger, "LT"]),
            x(&[command, "k", small, "xx", "lt"]),
            near(1, &["TTL", "k"]),
            x(&[command, "k", large, "XX", "GT"]),
            near(1, &["TTL", "k"]),
            x(&[command, "missing", small, "NX"]),
            x(&[command, "missing", small, "XX"]),
            x(&[command, "missing", small, "GT"]),
            x(&[command, "missing", small, "LT"]),
            // A past time under a condition that holds deletes the key.
            x(&[command, "k", "-1", "LT"]),
            x(&["EXISTS", "k"]),
            x(&["SET", "k", "v"]),
            x(&[command, "k", "-1", "GT"]),
            x(&["EXISTS", "k"]),
            x(&[command, "k", "-1", "NX"]),
            x(&["EXISTS", "k"]),
        ]);
    }
    script("EXPIRE NX XX GT LT", steps)
}

/// Keys whose time has passed, seen by every kind of command before any
/// background expiry could be relied on (each command reaches its key
/// first and must find it gone).
fn expired_keys() -> Script {
    let [a, b, c, d] = keys_on_each_shard("gone:");
    let mut steps = vec![x(&["SET", "live", "v"])];
    for key in [&a, &b, &c, &d] {
        steps.push(x(&["SET", key, "12", "PX", "150"]));
    }
    steps.extend([
        x(&["SET", "{e}1", "x", "PX", "150"]),
        x(&["SET", "{e}2", "y", "PX", "150"]),
        x(&["SET", "{e}3", "z", "PX", "150"]),
        x(&["SET", "{e}4", "w", "PX", "150"]),
        x(&["SET", "{e}5", "5", "PX", "150"]),
        x(&["SET", "{e}6", "6", "PX", "150"]),
        x(&["SET", "{e}7", "7", "PX", "150"]),
        pause(400),
        // KEYS and SCAN skip keys whose time has passed.
        unordered(&["KEYS", "*"]),
        scan_all(&[]),
        x(&["RANDOMKEY"]),
        x(&["GET", &a]),
        x(&["EXISTS", &b, &c]),
        x(&["TTL", &d]),
        x(&["PTTL", &d]),
        x(&["TYPE", &a]),
        x(&["MGET", &a, &b, &c, &d]),
        x(&["OBJECT", "ENCODING", &a]),
        x(&["STRLEN", &a]),
        x(&["GETRANGE", &a, "0", "-1"]),
        x(&["INCR", &a]),
        x(&["APPEND", &b, "new"]),
        x(&["SETRANGE", &c, "2", "x"]),
        x(&["GET", &c]),
        x(&["SETNX", &d, "fresh"]),
        x(&["RENAME", "{e}1", "{e}9"]),
        x(&["RENAMENX", "{e}2", "{e}9"]),
        x(&["COPY", "{e}3", "{e}9"]),
        x(&["MOVE", "{e}4", "1"]),
        x(&["PERSIST", "{e}5"]),
        x(&["EXPIRE", "{e}6", "100"]),
        x(&["GETEX", "{e}7", "PERSIST"]),
        x(&["GETDEL", "{e}7"]),
        x(&["MSETNX", "{e}5", "n", "{e}6", "n"]),
        x(&["DEL", "{e}5", "{e}6"]),
        x(&["DBSIZE"]),
        unordered(&["KEYS", "*"]),
    ]);
    script("expired keys", steps)
}

fn rename_cases() -> Script {
    let [a, b, c, d] = keys_on_each_shard("ren:");
    script(
        "RENAME RENAMENX across shards",
        vec![
            x(&["RENAME", &a, &b]),
            x(&["RENAMENX", &a, &b]),
            x(&["SET", &a, "1"]),
            x(&["RENAME", &a, &a]),
            x(&["RENAMENX", &a, &a]),
            x(&["RENAME", &a, &b]),
            x(&["MGET", &a, &b]),
            x(&["EXPIRE", &b, "100"]),
            x(&["RENAME", &b, &c]),
            near(1, &["TTL", &c]),
            x(&["SET", &d, "4"]),
            x(&["RENAMENX", &c, &d]),
            x(&["RENAMENX", &c, &a]),
            x(&["MGET", &a, &b, &c, &d]),
            near(1, &["TTL", &a]),
            x(&["EXPIRE", &d, "500"]),
            x(&["RENAME", &a, &d]),
            near(1, &["TTL", &d]),
            x(&["GET", &d]),
            x(&["SET", &a, "12345"]),
            x(&["RENAME", &a, &b]),
            x(&["OBJECT", "ENCODING", &b]),
            x(&["SET", "{t}x", "x"]),
            x(&["RENAME", "{t}x", "{t}y"]),
            x(&["RENAMENX", "{t}y", "{t}x"]),
            x(&["MGET", "{t}x", "{t}y"]),
            x(&["DBSIZE"]),
            x(&["RENAME", &a]),
            x(&["RENAME", &a, &b, &c]),
            x(&["RENAMENX", &a]),
        ],
    )
}

fn copy_cases() -> Script {
    let [a, b, c, _] = keys_on_each_shard("copy:");
    script(
        "COPY across shards and databases",
        vec![
            x(&["COPY", &a, &b]),
            x(&["SET", &a, "value"]),
            x(&["COPY", &a, &b]),
            x(&["MGET", &a, &b]),
            x(&["COPY", &a, &b]),
            x(&["SET", &a, "changed"]),
            x(&["COPY", &a, &b, "REPLACE"]),
            x(&["GET", &b]),
            x(&["COPY", &a, &a]),
            x(&["COPY", &a, &a, "REPLACE"]),
            x(&["COPY", &a, &a, "DB", "0"]),
            x(&["COPY", &a, &a, "DB", "1"]),
            x(&["COPY", &a, &c, "DB", "1"]),
            x(&["COPY", &a, &c, "DB", "1"]),
            x(&["COPY", &a, &c, "db", "1", "replace"]),
            x(&["COPY", &a, &c, "DB", "16"]),
            x(&["COPY", &a, &c, "DB", "-1"]),
            x(&["COPY", &a, &c, "DB", "abc"]),
            x(&["COPY", &a, &c, "DB", "2147483648"]),
            x(&["COPY", &a, &c, "DB"]),
            x(&["COPY", &a, &c, "FOO"]),
            x(&["COPY", &a, &c, "REPLACE", "FOO"]),
            x(&["COPY", "missing", &c]),
            x(&["COPY", "missing", &c, "DB", "99"]),
            x(&["EXPIRE", &a, "100"]),
            x(&["COPY", &a, &c]),
            near(1, &["TTL", &c]),
            x(&["SET", &a, "7"]),
            x(&["COPY", &a, &c, "REPLACE"]),
            x(&["OBJECT", "ENCODING", &c]),
            x(&["TTL", &c]),
            x(&["SELECT", "1"]),
            x(&["MGET", &a, &b, &c]),
            x(&["COPY", &a, &b, "DB", "0"]),
            x(&["COPY", &a, "fresh", "DB", "0"]),
            x(&["SELECT", "0"]),
            x(&["GET", "fresh"]),
            x(&["SET", "{t}1", "x"]),
            x(&["COPY", "{t}1", "{t}2"]),
            x(&["MGET", "{t}1", "{t}2"]),
            x(&["COPY", &a]),
            x(&["COPY"]),
        ],
    )
}

fn move_cases() -> Script {
    script(
        "MOVE and SELECT",
        vec![
            x(&["MOVE", "k", "1"]),
            x(&["SET", "k", "v"]),
            x(&["MOVE", "k", "0"]),
            x(&["MOVE", "k", "16"]),
            x(&["MOVE", "k", "-1"]),
            x(&["MOVE", "k", "abc"]),
            x(&["MOVE", "k", "1.0"]),
            x(&["MOVE", "k", "2147483648"]),
            x(&["MOVE", "k", "-2147483649"]),
            x(&["MOVE", "k", "9223372036854775808"]),
            x(&["MOVE", "missing", "99"]),
            x(&["EXPIRE", "k", "100"]),
            x(&["MOVE", "k", "1"]),
            x(&["EXISTS", "k"]),
            x(&["SELECT", "1"]),
            x(&["GET", "k"]),
            near(1, &["TTL", "k"]),
            x(&["SET", "other", "db1"]),
            x(&["DBSIZE"]),
            x(&["SELECT", "0"]),
            x(&["DBSIZE"]),
            x(&["SET", "k", "again"]),
            x(&["MOVE", "k", "1"]),
            x(&["GET", "k"]),
            x(&["SET", "other", "db0"]),
            x(&["MOVE", "other", "1"]),
            x(&["SELECT", "15"]),
            x(&["SET", "k", "db15"]),
            x(&["SELECT", "16"]),
            x(&["SELECT", "-1"]),
            x(&["SELECT"]),
            x(&["SELECT", "1", "2"]),
            x(&["GET", "k"]),
            x(&["MOVE", "k"]),
            x(&["MOVE", "k", "1", "2"]),
        ],
    )
}

fn keys_and_dbsize() -> Script {
    let mut steps = vec![x(&["KEYS", "*"]), x(&["DBSIZE"])];
    steps.push(x(&[
        "MSET", "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4", "heeeello", "5", "a*b", "6",
        "a?b", "7", "a[b", "8", "{tag}one", "9", "{tag}two", "10", "x", "11", "X", "12",
    ]));
    steps.push(x(&["DBSIZE"]));
    // KEYS has no defined order; each shard contributes its own keys.
    for pattern in [
        "*",
        "h?llo",
        "h*llo",
        "h[ae]llo",
        "h[^e]llo",
        "h[a-b]llo",
        "a\\*b",
        "a\\?b",
        "a[[]b",
        "{tag}*",
        "*one",
        "x",
        "X",
        "nomatch*",
        "",
        "h[",
        "[a-z]",
        "h*",
        "**",
    ] {
        steps.push(unordered(&["KEYS", pattern]));
    }
    steps.extend([
        x(&["KEYS"]),
        x(&["KEYS", "a", "b"]),
        x(&["DBSIZE", "extra"]),
        x(&["SELECT", "2"]),
        x(&["DBSIZE"]),
        unordered(&["KEYS", "*"]),
        x(&["SELECT", "0"]),
        x(&["SET", "gone", "v", "PX", "1"]),
    ]);
    script("KEYS DBSIZE", steps)
}

fn scan_cases() -> Script {
    // On an empty database Redis answers cursor 0 at once; Shoal may hand
    // back a cursor naming its next shard (an empty page with a non-zero
    // cursor is allowed by SCAN's contract), so only the shape is compared.
    let mut steps = vec![scan_all(&[]), shape(&["SCAN", "0"])];
    let mut mset = vec!["MSET".to_string()];
    for number in 0..150 {
        mset.push(format!("scan:{number}"));
        mset.push(number.to_string());
    }
    mset.extend(["other".into(), "x".into(), "{t}a".into(), "y".into()]);
    let mset: Vec<&str> = mset.iter().map(String::as_str).collect();
    steps.push(x(&mset));
    steps.extend([
        scan_all(&[]),
        scan_all(&["COUNT", "1"]),
        scan_all(&["COUNT", "7"]),
        scan_all(&["COUNT", "1000"]),
        scan_all(&["MATCH", "scan:1*"]),
        scan_all(&["MATCH", "scan:1*", "COUNT", "3"]),
        scan_all(&["MATCH", "nomatch"]),
        scan_all(&["MATCH", "{t}*"]),
        scan_all(&["TYPE", "string"]),
        scan_all(&["type", "STRING"]),
        scan_all(&["TYPE", "list"]),
        scan_all(&["TYPE", "hash", "MATCH", "*"]),
        scan_all(&["MATCH", "scan:2?", "TYPE", "string", "COUNT", "5"]),
        scan_all(&["MATCH", "a", "MATCH", "other"]),
        x(&["SCAN"]),
        x(&["SCAN", "abc"]),
        x(&["SCAN", "1.5"]),
        x(&["SCAN", "18446744073709551616"]),
        x(&["SCAN", "0", "COUNT"]),
        x(&["SCAN", "0", "COUNT", "0"]),
        x(&["SCAN", "0", "COUNT", "-1"]),
        x(&["SCAN", "0", "COUNT", "abc"]),
        x(&["SCAN", "0", "MATCH"]),
        x(&["SCAN", "0", "TYPE"]),
        x(&["SCAN", "0", "FOO", "bar"]),
        x(&["SCAN", "0", "COUNT", "10", "FOO"]),
        x(&["SCAN", "abc", "COUNT", "0"]),
        x(&["SELECT", "3"]),
        scan_all(&[]),
        x(&["SET", "only", "in-db3"]),
        scan_all(&[]),
        x(&["SELECT", "0"]),
    ]);
    script("SCAN", steps)
}

/// SCAN's cursor is read with `strtoul`, which takes a sign, leading zeros
/// and an empty string (cursor 0), and reads -1 as `ULONG_MAX`. Which keys
/// one page holds is the server's business; that the cursor is accepted is
/// not.
fn scan_cursor_text() -> Script {
    let mut steps = vec![x(&["SET", "k", "v"])];
    for cursor in ["", "-0", "+0", "00", "-1", "18446744073709551615"] {
        steps.push(scan_page(&["SCAN", cursor]));
    }
    steps.extend([
        x(&["SCAN", " 0"]),
        x(&["SCAN", "0 "]),
        x(&["SCAN", "0x1"]),
        x(&["SCAN", "18446744073709551616"]),
    ]);
    script("SCAN cursor text as strtoul reads it", steps)
}

/// What Redis 7.0 does with an unknown SCAN TYPE.
fn scan_unknown_type() -> Script {
    script(
        "SCAN TYPE with an unknown type name",
        vec![
            x(&["SET", "k", "v"]),
            scan_all(&["TYPE", "nosuchtype"]),
            scan_page(&["SCAN", "0", "TYPE", "nosuchtype"]),
            x(&["SCAN", "0", "TYPE", "nosuchtype", "COUNT", "0"]),
        ],
    )
}

fn randomkey_cases() -> Script {
    script(
        "RANDOMKEY",
        vec![
            x(&["RANDOMKEY"]),
            x(&["SET", "only", "v"]),
            x(&["RANDOMKEY"]),
            x(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]),
            // Which key comes back is random; it must be a bulk string.
            shape(&["RANDOMKEY"]),
            shape(&["RANDOMKEY"]),
            x(&["RANDOMKEY", "extra"]),
            x(&["SELECT", "4"]),
            x(&["RANDOMKEY"]),
            x(&["SELECT", "0"]),
        ],
    )
}

fn flush_cases() -> Script {
    script(
        "FLUSHDB FLUSHALL",
        vec![
            x(&["MSET", "a", "1", "b", "2"]),
            x(&["SELECT", "1"]),
            x(&["MSET", "c", "3"]),
            x(&["FLUSHDB"]),
            x(&["DBSIZE"]),
            x(&["SELECT", "0"]),
            x(&["DBSIZE"]),
            x(&["FLUSHDB", "ASYNC"]),
            x(&["DBSIZE"]),
            x(&["MSET", "a", "1", "b", "2"]),
            x(&["FLUSHDB", "sync"]),
            x(&["DBSIZE"]),
            x(&["FLUSHDB", "FOO"]),
            x(&["FLUSHDB", "SYNC", "ASYNC"]),
            x(&["FLUSHDB", "ASYNC", "ASYNC"]),
            x(&["SET", "a", "1"]),
            x(&["SELECT", "5"]),
            x(&["SET", "b", "2"]),
            x(&["FLUSHALL"]),
            x(&["DBSIZE"]),
            x(&["SELECT", "0"]),
            x(&["DBSIZE"]),
            x(&["SET", "a", "1"]),
            x(&["FLUSHALL", "ASYNC"]),
            x(&["DBSIZE"]),
            x(&["SET", "a", "1"]),
            x(&["FLUSHALL", "SYNC"]),
            x(&["EXISTS", "a"]),
            x(&["FLUSHALL", "FOO"]),
            x(&["FLUSHALL", "SYNC", "SYNC"]),
            x(&["flushall", "async"]),
        ],
    )
}

fn object_cases() -> Script {
    script(
        "OBJECT",
        vec![
            x(&["OBJECT", "ENCODING", "missing"]),
            x(&["OBJECT", "REFCOUNT", "missing"]),
            x(&["OBJECT", "IDLETIME", "missing"]),
            x(&["OBJECT", "FREQ", "missing"]),
            x(&["SET", "k", "abc"]),
            x(&["SET", "n", "42"]),
            x(&["OBJECT", "ENCODING", "k"]),
            x(&["object", "encoding", "n"]),
            x(&["OBJECT", "REFCOUNT", "k"]),
            x(&["OBJECT", "REFCOUNT", "n"]),
            near(1, &["OBJECT", "IDLETIME", "k"]),
            x(&["OBJECT", "FREQ", "k"]),
            x(&["OBJECT", "ENCODING"]),
            x(&["OBJECT", "ENCODING", "k", "extra"]),
            x(&["OBJECT", "REFCOUNT"]),
            x(&["OBJECT", "IDLETIME"]),
            x(&["OBJECT", "FREQ"]),
            x(&["OBJECT"]),
            x(&["OBJECT", "FOO", "k"]),
            x(&["OBJECT", "FOO"]),
            x(&["OBJECT", "HELP", "extra"]),
            x(&["SET", "volatile", "v", "PX", "1"]),
        ],
    )
}

/// OBJECT HELP lists Redis's subcommands word for word.
fn object_help() -> Script {
    script("OBJECT HELP", vec![x(&["OBJECT", "HELP"])])
}

/// OBJECT FREQ under an LFU policy, then the policy restored.
fn object_freq_under_lfu() -> Script {
    let [a, b, c, d] = keys_on_each_shard("lfu:");
    let [a, b, c, d] = [a.as_str(), b.as_str(), c.as_str(), d.as_str()];
    script(
        "OBJECT FREQ under allkeys-lfu",
        vec![
            x(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]),
            x(&["SET", a, "v"]),
            x(&["OBJECT", "FREQ", a]),
            x(&["OBJECT", "IDLETIME", a]),
            // At the initial counter the first access always counts.
            x(&["GET", b]),
            x(&["SET", b, "v"]),
            x(&["GET", b]),
            x(&["OBJECT", "FREQ", b]),
            // SET looks the old key up for writing (one step), then keeps
            // the old counter for the new value.
            x(&["SET", c, "v"]),
            x(&["SET", c, "v2"]),
            x(&["OBJECT", "FREQ", c]),
            // Commands that do not touch (EXISTS, TYPE, TTL) leave it alone.
            x(&["SET", d, "v"]),
            x(&["EXISTS", d]),
            x(&["TYPE", d]),
            x(&["TTL", d]),
            x(&["OBJECT", "FREQ", d]),
            x(&["TOUCH", d]),
            x(&["OBJECT", "FREQ", d]),
            x(&["OBJECT", "FREQ", "missing"]),
            x(&["CONFIG", "SET", "maxmemory-policy", "volatile-lfu"]),
            x(&["OBJECT", "FREQ", a]),
            x(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]),
            // IDLETIME would now read an LFU counter as a time: Redis warns
            // that switching policies takes time to settle, so it stays out.
            x(&["OBJECT", "FREQ", a]),
        ],
    )
}

/// INFO's keyspace_hits and keyspace_misses count what Redis counts: read
/// lookups (GET, MGET, EXISTS, TYPE, TTL, OBJECT, TOUCH, COPY's source...),
/// not write lookups (SET, INCR, APPEND, RENAME, DEL).
fn keyspace_hits_and_misses() -> Script {
    let [a, b, c, d] = keys_on_each_shard("hits:");
    let [a, b, c, d] = [a.as_str(), b.as_str(), c.as_str(), d.as_str()];
    let counters = || {
        Step::new(
            &["INFO", "stats"],
            Check::InfoFields(&["keyspace_hits", "keyspace_misses"]),
        )
    };
    script(
        "keyspace hits and misses",
        vec![
            x(&["CONFIG", "RESETSTAT"]),
            x(&["GET", a]),
            x(&["SET", a, "1"]),
            x(&["GET", a]),
            counters(),
            x(&["MGET", a, b, c, d]),
            x(&["EXISTS", a, b]),
            x(&["TYPE", a]),
            x(&["TYPE", b]),
            x(&["TTL", a]),
            x(&["PTTL", c]),
            x(&["STRLEN", a]),
            x(&["GETRANGE", b, "0", "1"]),
            counters(),
            x(&["INCR", a]),
            x(&["APPEND", b, "x"]),
            x(&["SETRANGE", c, "0", "y"]),
            x(&["EXPIRE", a, "100"]),
            x(&["PERSIST", a]),
            x(&["DEL", d]),
            counters(),
            x(&["TOUCH", a, b, d]),
            x(&["OBJECT", "ENCODING", a]),
            x(&["OBJECT", "ENCODING", d]),
            x(&["COPY", a, d]),
            x(&["COPY", "hits:nothing", d]),
            x(&["GETEX", a, "PX", "100000"]),
            x(&["GETEX", "hits:nothing"]),
            x(&["GETDEL", d]),
            x(&["GETSET", c, "z"]),
            x(&["SET", b, "q", "GET"]),
            x(&["SETNX", b, "q"]),
            x(&["LCS", a, b]),
            x(&["RENAME", a, d]),
            x(&["MSET", a, "1", b, "2"]),
            x(&["MSETNX", a, "1", b, "2"]),
            counters(),
            x(&["SET", "hits:gone", "v", "PX", "1"]),
            pause(20),
            x(&["GET", "hits:gone"]),
            counters(),
            x(&["CONFIG", "RESETSTAT"]),
            counters(),
        ],
    )
}

fn keys_scripts() -> Vec<Script> {
    vec![
        del_exists_touch_type(),
        expire_basics(),
        expire_errors(),
        expire_conditions(),
        expired_keys(),
        rename_cases(),
        copy_cases(),
        move_cases(),
        keys_and_dbsize(),
        scan_cases(),
        randomkey_cases(),
        flush_cases(),
        object_cases(),
    ]
}

#[test]
fn key_commands_match_redis() {
    compare_scripts_resp2_and_resp3(&keys_scripts(), THREADS);
}

#[test]
fn scan_with_an_unknown_type_matches_redis() {
    compare_scripts_resp2_and_resp3(&[scan_unknown_type()], THREADS);
}

#[test]
fn scan_cursor_text_matches_redis() {
    compare_scripts_resp2_and_resp3(&[scan_cursor_text()], THREADS);
}

#[test]
fn object_help_matches_redis() {
    compare_scripts_resp2_and_resp3(&[object_help()], THREADS);
}

#[test]
fn object_freq_under_lfu_matches_redis() {
    compare_scripts_resp2_and_resp3(&[object_freq_under_lfu()], THREADS);
}

/// Its own test: the counters are server-wide, so no other script may run
/// on the same servers meanwhile.
#[test]
fn keyspace_hits_and_misses_match_redis() {
    compare_scripts_resp2_and_resp3(&[keyspace_hits_and_misses()], THREADS);
}

/// The harness's own slot function agrees with Redis Cluster's published
/// values, so `keys_on_each_shard` really spreads keys over four shards.
#[test]
fn harness_hashes_keys_as_redis_cluster_does() {
    use util::diff::{key_shard, key_slot};
    assert_eq!(key_slot(b"123456789"), 0x31c3);
    assert_eq!(key_slot(b"foo"), 12182);
    assert_eq!(key_slot(b"bar"), 5061);
    assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
    assert_eq!(key_slot(b"foo{}{bar}"), 8363);
    assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    let keys = keys_on_each_shard("key:");
    let shards: Vec<usize> = keys
        .iter()
        .map(|key| key_shard(key.as_bytes(), 4))
        .collect();
    assert_eq!(shards, [0, 1, 2, 3]);
}

#[test]
fn binary_keys_match_redis() {
    let key = b"bin\x00key\xff".to_vec();
    let steps = vec![
        Step::bytes(
            vec![b"SET".to_vec(), key.clone(), b"v".to_vec()],
            util::diff::Check::Exact,
        ),
        Step::bytes(
            vec![b"EXISTS".to_vec(), key.clone()],
            util::diff::Check::Exact,
        ),
        Step::bytes(
            vec![b"RENAME".to_vec(), key.clone(), b"\x01other".to_vec()],
            util::diff::Check::Exact,
        ),
        Step::bytes(
            vec![b"KEYS".to_vec(), b"*".to_vec()],
            util::diff::Check::Exact,
        ),
        Step::bytes(
            vec![b"DEL".to_vec(), b"\x01other".to_vec()],
            util::diff::Check::Exact,
        ),
    ];
    compare_scripts_resp2_and_resp3(&[script("binary keys", steps)], THREADS);
}
