//! MULTI, EXEC, DISCARD, WATCH and UNWATCH compared with `redis-server`
//! reply for reply: queued replies, errors while queueing (EXECABORT) and
//! while executing (in the EXEC array), WATCHed keys changed by another
//! client, by expiry, by flushes or in another database, what EXEC,
//! DISCARD, UNWATCH and RESET leave watched, transactions over keys on
//! every shard, SELECT and blocking commands inside MULTI, under RESP2 and
//! RESP3, against `--threads 1` and `4`, unpipelined and pipelined.
//!
//! Keyspace-wide commands (KEYS, DBSIZE, FLUSHDB, FLUSHALL, RANDOMKEY)
//! inside MULTI are compared against `--threads 1` only: with more threads
//! Shoal refuses to queue them, a documented difference.

mod util;

use util::diff::{
    compare_scripts_resp2_and_resp3, compare_scripts_with, keys_on_each_shard, on, pause, script,
    x, DiffOptions, Script, Step,
};

/// Every script runs against a single-shard and a four-shard Shoal.
const THREADS: &[usize] = &[1, 4];

/// `steps` between MULTI and EXEC: the steps every transaction needs.
fn transaction(steps: Vec<Step>) -> Vec<Step> {
    let mut all = vec![x(&["MULTI"])];
    all.extend(steps);
    all.push(x(&["EXEC"]));
    all
}

/// Whether EXEC runs: `setup`, WATCH `key`, let `change` (mostly steps
/// on another connection) happen, then a transaction that writes `key` and
/// reads it back, and the value afterwards on both connections.
fn watched_change(key: &str, setup: Vec<Step>, change: Vec<Step>) -> Vec<Step> {
    let mut steps = setup;
    steps.push(x(&["WATCH", key]));
    steps.extend(change);
    steps.extend(transaction(vec![
        x(&["SET", key, "from-transaction"]),
        x(&["GET", key]),
    ]));
    steps.push(x(&["GET", key]));
    steps.push(on(1, x(&["GET", key])));
    steps
}

fn basics() -> Script {
    let mut steps = vec![
        x(&["RPUSH", "list", "a", "b", "c"]),
        x(&["MULTI"]),
        x(&["LRANGE", "list", "0", "-1"]),
        x(&["PING"]),
        x(&["PING", "hello"]),
        x(&["ECHO", "echoed"]),
        x(&["SET", "k", "v"]),
        x(&["GET", "k"]),
        x(&["INCR", "counter"]),
        x(&["INCR", "counter"]),
        x(&["RPUSH", "list", "d"]),
        x(&["LRANGE", "list", "0", "-1"]),
        x(&["multi"]),
        // Nothing queued is visible to another client before EXEC.
        on(1, x(&["GET", "k"])),
        on(1, x(&["LRANGE", "list", "0", "-1"])),
        x(&["exec"]),
        on(1, x(&["GET", "k"])),
        on(1, x(&["GET", "counter"])),
        on(1, x(&["LRANGE", "list", "0", "-1"])),
        // After EXEC the connection is out of MULTI.
        x(&["PING"]),
        x(&["EXEC"]),
        x(&["DISCARD"]),
    ];
    // A command that rewrites its own arguments for propagation.
    steps.extend([
        x(&["SADD", "set", "only"]),
        x(&["MULTI"]),
        x(&["SPOP", "set"]),
    ]);
    steps.extend([x(&["EXEC"]), x(&["EXISTS", "set"])]);
    // An empty transaction, and MULTI again after it.
    steps.extend(transaction(Vec::new()));
    steps.extend(transaction(vec![x(&["GET", "k"])]));
    script("MULTI EXEC basics, queued replies, state after EXEC", steps)
}

fn discard() -> Script {
    script(
        "DISCARD",
        vec![
            x(&["RPUSH", "list", "a", "b", "c"]),
            x(&["MULTI"]),
            x(&["DEL", "list"]),
            x(&["SET", "k", "v"]),
            x(&["DISCARD"]),
            x(&["LRANGE", "list", "0", "-1"]),
            x(&["EXISTS", "k"]),
            x(&["DISCARD"]),
            x(&["EXEC"]),
            x(&["PING"]),
            x(&["MULTI"]),
            x(&["DISCARD"]),
            x(&["MULTI"]),
            x(&["INCR", "n"]),
            x(&["EXEC"]),
        ],
    )
}

/// Errors of the transaction commands themselves, inside and outside
/// MULTI, and which of them abort the transaction.
fn command_errors() -> Script {
    let mut steps = vec![
        x(&["EXEC"]),
        x(&["DISCARD"]),
        x(&["MULTI", "x"]),
        x(&["EXEC", "x"]),
        x(&["DISCARD", "x"]),
        x(&["WATCH"]),
        x(&["UNWATCH", "x"]),
        x(&["UNWATCH"]),
    ];
    // Nested MULTI and WATCH inside MULTI are refused without aborting.
    steps.extend(transaction(vec![
        x(&["SET", "k", "1"]),
        x(&["MULTI"]),
        x(&["WATCH", "k"]),
        x(&["INCR", "k"]),
    ]));
    steps.push(x(&["GET", "k"]));
    // Wrong arity of the transaction commands while queueing.
    steps.extend(transaction(vec![x(&["INCR", "k"]), x(&["MULTI", "x"])]));
    steps.extend(transaction(vec![x(&["INCR", "k"]), x(&["WATCH"])]));
    steps.extend(transaction(vec![x(&["INCR", "k"]), x(&["UNWATCH", "x"])]));
    steps.extend(transaction(vec![x(&["INCR", "k"]), x(&["DISCARD", "x"])]));
    steps.extend([x(&["MULTI"]), x(&["INCR", "k"]), x(&["EXEC", "x"])]);
    steps.extend([x(&["EXEC"]), x(&["GET", "k"])]);
    // UNWATCH is queued like any command.
    steps.extend(transaction(vec![x(&["UNWATCH"]), x(&["GET", "k"])]));
    script("transaction command errors", steps)
}

/// Commands that fail to queue abort the transaction: EXEC runs nothing.
fn queueing_errors() -> Script {
    let [a, b, _, _] = keys_on_each_shard("abort:");
    let mut steps = transaction(vec![
        x(&["SET", &a, "1"]),
        x(&["NO-SUCH-COMMAND", "arg"]),
        x(&["SET", &b, "2"]),
    ]);
    steps.extend([x(&["EXISTS", &a, &b]), x(&["PING"]), x(&["EXEC"])]);
    for wrong in [
        &["SET", "k"][..],
        &["GET", "k", "extra"],
        &["MSET", "k"],
        &["BLPOP", "k"],
        &["LMOVE", "k"],
        &["no-such-command"],
    ] {
        steps.extend(transaction(vec![
            x(&["SET", &a, "x"]),
            x(wrong),
            x(&["SET", &b, "y"]),
        ]));
        steps.push(x(&["EXISTS", &a, &b]));
    }
    // The error may come first, last or alone.
    steps.extend(transaction(vec![x(&["NOPE"]), x(&["SET", &a, "1"])]));
    steps.extend(transaction(vec![x(&["SET", &a, "1"]), x(&["GET"])]));
    steps.extend(transaction(vec![x(&["GET"])]));
    steps.extend([x(&["EXISTS", &a, &b]), x(&["PING"])]);
    script("errors while queueing abort EXEC", steps)
}

/// Errors while executing are reported in the EXEC array; the commands
/// around them still run.
fn runtime_errors() -> Script {
    let [a, b, c, d] = keys_on_each_shard("rt:");
    let mut steps = transaction(vec![
        x(&["SET", &a, "1"]),
        x(&["LPUSH", &a, "x"]),
        x(&["INCR", &a]),
        x(&["SET", &b, "v", "XX", "NX"]),
        x(&["SET", &b, "not a number"]),
        x(&["INCR", &b]),
        x(&["INCRBY", &b, "x"]),
        x(&["RPUSH", &c, "item"]),
        x(&["GET", &c]),
        x(&["LMOVE", &c, &d, "UP", "LEFT"]),
        x(&["LMOVE", &c, &d, "LEFT", "LEFT"]),
        x(&["SADD", &d, "member"]),
        x(&["EXPIRE", &a, "abc"]),
        x(&["GET", &a]),
    ]);
    steps.extend([
        x(&["GET", &a]),
        x(&["GET", &b]),
        x(&["LRANGE", &d, "0", "-1"]),
        x(&["EXISTS", &c]),
        x(&["TTL", &a]),
    ]);
    // Every command failing still gives an array.
    steps.extend(transaction(vec![
        x(&["LPUSH", &a, "x"]),
        x(&["HSET", &b, "f", "v"]),
        x(&["ZADD", &a, "nan", "m"]),
    ]));
    // MONITOR would block the client: inside EXEC it is refused.
    steps.extend(transaction(vec![x(&["MONITOR"]), x(&["PING"])]));
    steps.push(x(&["PING"]));
    script("errors while executing are in the EXEC reply", steps)
}

/// Multi-key commands whose keys lie on different shards, inside one
/// transaction with reads in between.
fn across_shards() -> Script {
    let [a, b, c, d] = keys_on_each_shard("cross:");
    let [a, b, c, d] = [a.as_str(), b.as_str(), c.as_str(), d.as_str()];
    let mut steps = transaction(vec![
        x(&["MSET", a, "1", b, "2", c, "3", d, "4"]),
        x(&["MGET", a, b, c, d]),
        x(&["RENAME", a, b]),
        x(&["MGET", a, b]),
        x(&["DEL", c, d]),
        x(&["SADD", a, "x", "y"]),
        x(&["SADD", c, "y", "z"]),
        x(&["SUNIONSTORE", d, a, c]),
        x(&["SCARD", d]),
        x(&["SISMEMBER", d, "z"]),
        x(&["SINTERSTORE", b, a, c, d]),
        x(&["SMOVE", a, c, "x"]),
        x(&["SCARD", c]),
        x(&["DEL", a, b, c, d]),
        x(&["RPUSH", a, "1", "2", "3"]),
        x(&["LMOVE", a, b, "LEFT", "RIGHT"]),
        x(&["LMOVE", a, c, "RIGHT", "LEFT"]),
        x(&["RPOPLPUSH", a, d]),
        x(&["LRANGE", b, "0", "-1"]),
        x(&["COPY", b, a]),
        x(&["MSETNX", a, "x", d, "y"]),
        x(&["EXISTS", a, b, c, d]),
    ]);
    steps.extend([
        x(&["LRANGE", a, "0", "-1"]),
        x(&["LRANGE", c, "0", "-1"]),
        x(&["LRANGE", d, "0", "-1"]),
        on(1, x(&["EXISTS", a, b, c, d])),
    ]);
    script("MULTI with keys on every shard", steps)
}

/// SELECT inside MULTI changes the database of the commands after it and
/// stays in effect after EXEC.
fn select_inside() -> Script {
    let mut steps = transaction(vec![
        x(&["SET", "k", "db0"]),
        x(&["SELECT", "1"]),
        x(&["SET", "k", "db1"]),
        x(&["SELECT", "99"]),
        x(&["SET", "other", "still db1"]),
        x(&["SELECT", "x"]),
        x(&["GET", "k"]),
    ]);
    steps.extend([
        x(&["GET", "k"]),
        x(&["GET", "other"]),
        on(1, x(&["GET", "k"])),
        on(1, x(&["GET", "other"])),
        x(&["SELECT", "0"]),
        x(&["GET", "k"]),
    ]);
    // A discarded SELECT does not change the database.
    steps.extend([
        x(&["MULTI"]),
        x(&["SELECT", "2"]),
        x(&["DISCARD"]),
        x(&["GET", "k"]),
    ]);
    script("SELECT inside MULTI", steps)
}

/// RESET inside MULTI ends the transaction, unwatches and selects
/// database 0 again.
fn reset_inside() -> Script {
    let mut steps = vec![
        x(&["MULTI"]),
        x(&["SET", "k", "queued"]),
        x(&["RESET"]),
        x(&["EXEC"]),
        x(&["EXISTS", "k"]),
        x(&["SET", "w", "1"]),
        x(&["WATCH", "w"]),
        x(&["SELECT", "3"]),
        x(&["MULTI"]),
        x(&["SET", "k", "db3"]),
        x(&["RESET"]),
        on(1, x(&["SET", "w", "2"])),
    ];
    steps.extend(transaction(vec![x(&["SET", "k", "after reset"])]));
    steps.extend([x(&["GET", "k"]), x(&["SELECT", "3"]), x(&["GET", "k"])]);
    script("RESET inside MULTI", steps)
}

/// Blocking commands inside MULTI never wait: with nothing to take they
/// answer their timeout's reply at once, even with timeout 0.
fn blocking_inside() -> Script {
    let [a, b, c, d] = keys_on_each_shard("block:");
    let [a, b, c, d] = [a.as_str(), b.as_str(), c.as_str(), d.as_str()];
    let mut steps = transaction(vec![
        x(&["BLPOP", a, b, "0"]),
        x(&["BRPOP", a, "0"]),
        x(&["BRPOPLPUSH", a, b, "0"]),
        x(&["BLMOVE", a, b, "LEFT", "LEFT", "0"]),
        x(&["BLMPOP", "0", "2", a, c, "LEFT"]),
        x(&["BZPOPMIN", c, "0"]),
        x(&["BZPOPMAX", c, d, "0"]),
        x(&["BZMPOP", "0", "1", c, "MIN"]),
    ]);
    // What a command earlier in the transaction pushed is there to take.
    steps.extend(transaction(vec![
        x(&["RPUSH", b, "1", "2", "3"]),
        x(&["BLPOP", a, b, "0"]),
        x(&["BLMOVE", b, d, "RIGHT", "LEFT", "0"]),
        x(&["BLMPOP", "0", "2", a, b, "RIGHT", "COUNT", "5"]),
        x(&["BLPOP", b, "0"]),
        x(&["ZADD", c, "1", "one", "2", "two"]),
        x(&["BZPOPMAX", a, c, "0"]),
        x(&["BZMPOP", "0", "1", c, "MIN"]),
        x(&["BZPOPMIN", c, "0"]),
        x(&["SET", a, "string"]),
        x(&["BLPOP", a, "0"]),
        x(&["BLPOP", a, "-1"]),
    ]));
    steps.extend([x(&["LRANGE", d, "0", "-1"]), x(&["EXISTS", a, b, c])]);
    script("blocking commands inside MULTI do not block", steps)
}

/// Two clients in MULTI at once, each with its own queue.
fn two_transactions() -> Script {
    script(
        "two clients in MULTI at once",
        vec![
            x(&["SET", "n", "10"]),
            x(&["MULTI"]),
            on(1, x(&["MULTI"])),
            x(&["INCR", "n"]),
            on(1, x(&["INCRBY", "n", "100"])),
            on(1, x(&["GET", "n"])),
            x(&["GET", "n"]),
            on(1, x(&["EXEC"])),
            x(&["GET", "n"]),
            x(&["EXEC"]),
            on(1, x(&["EXEC"])),
            x(&["GET", "n"]),
            // The other connection's DISCARD leaves this one's queue alone.
            x(&["MULTI"]),
            on(1, x(&["MULTI"])),
            x(&["INCR", "n"]),
            on(1, x(&["DISCARD"])),
            x(&["EXEC"]),
        ],
    )
}

/// A WATCHed key changed by another client in every way that counts as a
/// change, and in ways that do not.
fn watch_changed_by_another_client() -> Script {
    let string = || vec![x(&["SET", "k", "v"])];
    let number = || vec![x(&["SET", "k", "10"])];
    let expiring = || vec![x(&["SET", "k", "v", "EX", "100"])];
    let list = || vec![x(&["DEL", "k"]), x(&["RPUSH", "k", "a"])];
    let mut steps = Vec::new();
    for (setup, change) in [
        (string(), vec![on(1, x(&["SET", "k", "other"]))]),
        // The same value written again is still a change.
        (string(), vec![on(1, x(&["SET", "k", "v"]))]),
        (string(), vec![on(1, x(&["DEL", "k"]))]),
        (number(), vec![on(1, x(&["INCR", "k"]))]),
        (string(), vec![on(1, x(&["APPEND", "k", "0"]))]),
        (string(), vec![on(1, x(&["EXPIRE", "k", "100"]))]),
        (expiring(), vec![on(1, x(&["PERSIST", "k"]))]),
        (
            string(),
            vec![on(1, x(&["DEL", "k"])), on(1, x(&["LPUSH", "k", "a"]))],
        ),
        (list(), vec![on(1, x(&["LPUSH", "k", "b"]))]),
        (string(), vec![on(1, x(&["RENAME", "k", "moved"]))]),
        (
            string(),
            vec![
                on(1, x(&["SET", "src", "s"])),
                on(1, x(&["RENAME", "src", "k"])),
            ],
        ),
        (string(), vec![on(1, x(&["FLUSHDB"]))]),
        (string(), vec![on(1, x(&["FLUSHALL"]))]),
        // Commands that do not change the watched key: EXEC runs.
        (string(), vec![on(1, x(&["SET", "unrelated", "1"]))]),
        (string(), vec![on(1, x(&["EXPIRE", "k", "100", "GT"]))]),
        (string(), vec![on(1, x(&["PERSIST", "k"]))]),
        (string(), vec![on(1, x(&["GET", "k"]))]),
        (number(), vec![on(1, x(&["INCR", "k", "extra"]))]),
        (string(), vec![on(1, x(&["INCR", "k"]))]),
        // The same name in another database is another key.
        (
            string(),
            vec![on(1, x(&["SELECT", "1"])), on(1, x(&["SET", "k", "db1"]))],
        ),
        (
            string(),
            vec![on(1, x(&["DEL", "k"])), on(1, x(&["SELECT", "0"]))],
        ),
        // Changed by the watching client itself before MULTI.
        (string(), vec![x(&["SET", "k", "self"])]),
        // Changed by another client's transaction.
        (
            string(),
            vec![
                on(1, x(&["MULTI"])),
                on(1, x(&["SET", "k", "from-other-multi"])),
                on(1, x(&["EXEC"])),
            ],
        ),
        // Another client's discarded transaction changes nothing.
        (
            string(),
            vec![
                on(1, x(&["MULTI"])),
                on(1, x(&["SET", "k", "discarded"])),
                on(1, x(&["DISCARD"])),
            ],
        ),
    ] {
        steps.extend(watched_change("k", setup, change));
    }
    script("WATCH: a key changed by another client", steps)
}

/// A WATCHed key that does not exist: creating it is a change, deleting
/// or expiring a key that is not there is not, and neither is a flush
/// that finds nothing to delete.
fn watch_missing_key() -> Script {
    let mut steps = Vec::new();
    for change in [
        vec![],
        vec![on(1, x(&["DEL", "m"]))],
        vec![on(1, x(&["EXPIRE", "m", "10"]))],
        vec![on(1, x(&["FLUSHDB"]))],
        vec![on(1, x(&["FLUSHALL"]))],
        vec![on(1, x(&["SET", "m", "created"]))],
        vec![on(1, x(&["DEL", "m"]))],
        vec![on(1, x(&["RPUSH", "m", "created"]))],
    ] {
        steps.extend(watched_change("m", vec![x(&["DEL", "m"])], change));
    }
    script("WATCH: a key that does not exist", steps)
}

/// A WATCHed key whose time to live runs out before EXEC counts as
/// changed; a key already expired when WATCHed does not.
fn watch_expiring_key() -> Script {
    let mut steps = vec![
        x(&["SET", "e", "v", "PX", "250"]),
        x(&["WATCH", "e"]),
        pause(500),
        x(&["EXISTS", "e"]),
    ];
    steps.extend(transaction(vec![x(&["SET", "e", "from-transaction"])]));
    steps.push(x(&["GET", "e"]));
    // Expired, but without anyone reading it, before EXEC.
    steps.extend([
        x(&["SET", "e", "v", "PX", "250"]),
        x(&["WATCH", "e"]),
        pause(500),
    ]);
    steps.extend(transaction(vec![x(&["PING"])]));
    // Already expired when WATCHed: EXEC runs.
    steps.extend([x(&["SET", "stale", "v", "PX", "10"]), pause(100)]);
    steps.push(x(&["WATCH", "stale"]));
    steps.extend(transaction(vec![x(&["PING"])]));
    steps.extend([x(&["SET", "stale", "v", "PX", "10"]), pause(100)]);
    steps.extend([x(&["WATCH", "stale"]), x(&["EXISTS", "stale"])]);
    steps.extend(transaction(vec![x(&["PING"])]));
    // Given a time to live by another client that runs out.
    steps.extend([
        x(&["SET", "t", "v"]),
        x(&["WATCH", "t"]),
        on(1, x(&["PEXPIRE", "t", "10"])),
        pause(100),
    ]);
    steps.extend(transaction(vec![x(&["GET", "t"])]));
    script("WATCH: keys that expire", steps)
}

/// What UNWATCH, DISCARD, EXEC and a failed EXEC leave watched: nothing.
fn unwatching() -> Script {
    let mut steps = vec![
        x(&["SET", "x", "30"]),
        x(&["WATCH", "x"]),
        on(1, x(&["SET", "x", "40"])),
        x(&["UNWATCH"]),
    ];
    steps.extend(transaction(vec![x(&["INCR", "x"])]));
    // DISCARD clears the dirty flag...
    steps.extend([
        x(&["WATCH", "x"]),
        on(1, x(&["SET", "x", "10"])),
        x(&["MULTI"]),
        x(&["DISCARD"]),
    ]);
    steps.extend(transaction(vec![x(&["INCR", "x"])]));
    // ...and unwatches.
    steps.extend([x(&["WATCH", "x"]), x(&["MULTI"]), x(&["DISCARD"])]);
    steps.push(on(1, x(&["SET", "x", "10"])));
    steps.extend(transaction(vec![x(&["INCR", "x"])]));
    // A successful EXEC unwatches.
    steps.push(x(&["WATCH", "x"]));
    steps.extend(transaction(vec![x(&["PING"])]));
    steps.push(on(1, x(&["SET", "x", "20"])));
    steps.extend(transaction(vec![x(&["INCR", "x"])]));
    // A failed EXEC unwatches too.
    steps.extend([x(&["WATCH", "x"]), on(1, x(&["SET", "x", "30"]))]);
    steps.extend(transaction(vec![x(&["INCR", "x"])]));
    steps.push(on(1, x(&["SET", "x", "40"])));
    steps.extend(transaction(vec![x(&["INCR", "x"])]));
    // An aborted EXEC (EXECABORT) unwatches too.
    steps.extend([
        x(&["WATCH", "x"]),
        on(1, x(&["SET", "x", "50"])),
        x(&["MULTI"]),
        x(&["NO-SUCH-COMMAND"]),
        x(&["EXEC"]),
    ]);
    steps.extend(transaction(vec![x(&["INCR", "x"])]));
    // UNWATCH inside MULTI is only queued: the key stays watched.
    steps.extend([
        x(&["WATCH", "x"]),
        x(&["MULTI"]),
        x(&["UNWATCH"]),
        on(1, x(&["SET", "x", "60"])),
        x(&["INCR", "x"]),
        x(&["EXEC"]),
        x(&["GET", "x"]),
    ]);
    script("UNWATCH, DISCARD and EXEC unwatch", steps)
}

/// Several keys watched, on every shard, in one WATCH or several.
fn watch_many_keys() -> Script {
    let [a, b, c, d] = keys_on_each_shard("watch:");
    let [a, b, c, d] = [a.as_str(), b.as_str(), c.as_str(), d.as_str()];
    let mut steps = vec![x(&["WATCH", a, b, c, d])];
    steps.extend(transaction(vec![x(&[
        "MSET", a, "1", b, "2", c, "3", d, "4",
    ])]));
    for changed in [a, b, c, d] {
        steps.extend([x(&["WATCH", a, b, c, d]), on(1, x(&["INCR", changed]))]);
        steps.extend(transaction(vec![
            x(&["MSET", a, "0", b, "0", c, "0", d, "0"]),
            x(&["MGET", a, b, c, d]),
        ]));
    }
    // WATCH calls add up.
    steps.extend([
        x(&["WATCH", a]),
        x(&["WATCH", b, b]),
        x(&["WATCH", c, a]),
        on(1, x(&["DEL", b])),
    ]);
    steps.extend(transaction(vec![x(&["MGET", a, b, c])]));
    // Other keys, even on the same shards, are not watched.
    steps.extend([
        x(&["WATCH", a, c]),
        on(1, x(&["SET", b, "x"])),
        on(1, x(&["SET", d, "y"])),
    ]);
    steps.extend(transaction(vec![x(&["MGET", a, b, c, d])]));
    // A flush while several keys are watched.
    steps.extend([
        x(&["MSET", a, "a", b, "b"]),
        x(&["WATCH", b, a]),
        on(1, x(&["FLUSHALL"])),
        x(&["PING"]),
    ]);
    steps.extend(transaction(vec![x(&["PING"])]));
    script("WATCH several keys across shards", steps)
}

/// WATCH remembers the database of each key.
fn watch_database() -> Script {
    let mut steps = vec![
        x(&["SELECT", "5"]),
        x(&["SET", "x", "30"]),
        x(&["WATCH", "x"]),
        x(&["SELECT", "1"]),
        x(&["SET", "x", "10"]),
        x(&["SELECT", "5"]),
    ];
    steps.extend(transaction(vec![x(&["PING"])]));
    steps.extend([x(&["WATCH", "x"]), x(&["SELECT", "1"])]);
    steps.extend([on(1, x(&["SELECT", "5"])), on(1, x(&["SET", "x", "31"]))]);
    // EXEC in database 1 still sees the change to database 5's key.
    steps.extend(transaction(vec![x(&["GET", "x"])]));
    // Now in database 1: a flush of database 5 leaves its `x` alone.
    steps.extend([x(&["WATCH", "x"]), on(1, x(&["FLUSHDB"]))]);
    steps.extend(transaction(vec![x(&["GET", "x"])]));
    steps.extend([x(&["SET", "x", "1"]), x(&["WATCH", "x"])]);
    steps.extend([on(1, x(&["SELECT", "1"])), on(1, x(&["FLUSHDB"]))]);
    steps.extend(transaction(vec![x(&["GET", "x"])]));
    script("WATCH remembers the database", steps)
}

/// Keyspace-wide commands inside MULTI (compared with one thread only).
fn keyspace_inside() -> Script {
    let mut steps = transaction(vec![
        x(&["SET", "a", "1"]),
        x(&["DBSIZE"]),
        x(&["KEYS", "a*"]),
        x(&["RANDOMKEY"]),
        x(&["SET", "b", "2"]),
        x(&["DBSIZE"]),
        x(&["KEYS", "b*"]),
        x(&["FLUSHDB"]),
        x(&["DBSIZE"]),
        x(&["RANDOMKEY"]),
        x(&["SET", "c", "3"]),
        x(&["SELECT", "1"]),
        x(&["SET", "d", "4"]),
        x(&["FLUSHALL"]),
        x(&["DBSIZE"]),
        x(&["SET", "e", "5"]),
        x(&["KEYS", "*"]),
    ]);
    steps.extend([x(&["DBSIZE"]), x(&["SELECT", "0"]), x(&["DBSIZE"])]);
    // A flush inside one client's transaction touches another's WATCH.
    steps.extend([
        x(&["SET", "w", "1"]),
        on(1, x(&["WATCH", "w"])),
        x(&["MULTI"]),
        x(&["FLUSHDB"]),
        x(&["EXEC"]),
        on(1, x(&["MULTI"])),
        on(1, x(&["PING"])),
        on(1, x(&["EXEC"])),
        x(&["SET", "w", "1"]),
        on(1, x(&["WATCH", "w"])),
        x(&["MULTI"]),
        x(&["FLUSHALL"]),
        x(&["EXEC"]),
        on(1, x(&["MULTI"])),
        on(1, x(&["PING"])),
        on(1, x(&["EXEC"])),
        // A flush inside the watching client's own transaction.
        x(&["SET", "w", "1"]),
        x(&["WATCH", "w"]),
        x(&["MULTI"]),
        x(&["FLUSHALL"]),
        x(&["SET", "w", "2"]),
        x(&["EXEC"]),
        x(&["GET", "w"]),
    ]);
    script("keyspace-wide commands inside MULTI", steps)
}

/// Every script that runs against any number of threads.
fn scripts() -> Vec<Script> {
    vec![
        basics(),
        discard(),
        command_errors(),
        queueing_errors(),
        runtime_errors(),
        across_shards(),
        select_inside(),
        reset_inside(),
        two_transactions(),
        watch_changed_by_another_client(),
        watch_missing_key(),
        watch_expiring_key(),
        unwatching(),
        watch_many_keys(),
        watch_database(),
    ]
}

#[test]
fn transactions_match_redis() {
    compare_scripts_resp2_and_resp3(&scripts(), THREADS);
}

/// Blocking commands on their own: until MULTI works, each of them waits
/// out the step timeout, which must not eat the other scripts' budget.
#[test]
fn blocking_commands_inside_multi_match_redis() {
    compare_scripts_resp2_and_resp3(&[blocking_inside()], THREADS);
}

#[test]
fn keyspace_commands_inside_multi_match_redis_with_one_thread() {
    compare_scripts_resp2_and_resp3(&[keyspace_inside()], &[1]);
}

/// The same scripts pipelined: the commands of a transaction (and the
/// commands around it, up to the next step on another connection) are
/// written at once, so QUEUED replies and EXEC's array must come back in
/// order while the queued commands run on several shards.
#[test]
fn pipelined_transactions_match_redis() {
    let mut all = scripts();
    all.push(blocking_inside());
    for resp3 in [false, true] {
        let options = DiffOptions {
            resp3,
            pipelined: true,
            ..DiffOptions::default()
        };
        compare_scripts_with(&all, THREADS, &options);
        compare_scripts_with(&[keyspace_inside()], &[1], &options);
    }
}
