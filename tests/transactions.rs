//! BEGIN / COMMIT / ROLLBACK: every rule the README states, rollback on
//! disconnect and on `transaction-timeout`, and the anomalies serializable
//! isolation must prevent (lost update, write skew); MULTI/EXEC's limits
//! and WATCH across shards. Each runs with `--threads 1` and `--threads 4`.

mod util;

use std::time::Duration;

use shoal_protocol::Reply;
use util::{keys_on_distinct_shards, with_1_and_4_threads, Client, ServerProcess};

with_1_and_4_threads! {
    every_error_rule_of_begin => error_rules;
    reads_see_own_writes_and_nobody_else_sees_them_before_commit => own_writes;
    rollback_and_disconnect_apply_nothing => rollback_and_disconnect;
    an_overdue_transaction_is_aborted => overdue;
    lost_updates_are_prevented => lost_update;
    write_skew_is_prevented => write_skew;
    a_plain_write_in_between_makes_commit_conflict => plain_write_conflict;
    the_older_transaction_wins => older_wins;
    watch_spans_shards => watch_across_shards;
    keyspace_wide_commands_inside_multi => keyspace_wide_in_multi;
    keyless_exec_while_others_wait_for_locks => keyless_exec_under_contention;
}

const CONFLICT_PREFIX: &[u8] = b"CONFLICT ";

fn shoal(threads: usize) -> ServerProcess {
    ServerProcess::shoal(&["--threads", &threads.to_string()])
}

fn ok() -> Reply {
    Reply::Simple(b"OK".to_vec())
}

fn bulk(text: &str) -> Reply {
    Reply::Bulk(text.as_bytes().to_vec())
}

fn error(text: &str) -> Reply {
    Reply::Error(text.as_bytes().to_vec())
}

fn is_conflict(reply: &Reply) -> bool {
    matches!(reply, Reply::Error(message) if message.starts_with(CONFLICT_PREFIX))
}

/// Keys spread over the four shards of a four-thread server.
fn spread(prefix: &str) -> Vec<String> {
    keys_on_distinct_shards(prefix, 4, 4)
}

fn error_rules(threads: usize) {
    let server = shoal(threads);
    let mut client = server.connect();
    assert_eq!(client.call(&["COMMIT"]), error("ERR COMMIT without BEGIN"));
    assert_eq!(
        client.call(&["ROLLBACK"]),
        error("ERR ROLLBACK without BEGIN")
    );
    assert_eq!(client.call(&["BEGIN"]), ok());
    assert_eq!(
        client.call(&["BEGIN"]),
        error("ERR BEGIN calls can not be nested")
    );
    assert_eq!(
        client.call(&["MULTI"]),
        error("ERR MULTI inside BEGIN is not allowed")
    );
    assert_eq!(
        client.call(&["WATCH", "k"]),
        error("ERR WATCH inside BEGIN is not allowed")
    );
    for blocking in [
        vec!["BLPOP", "l", "0"],
        vec!["BRPOP", "l", "0"],
        vec!["BLMOVE", "l", "m", "LEFT", "LEFT", "0"],
        vec!["BRPOPLPUSH", "l", "m", "0"],
        vec!["BLMPOP", "0", "1", "l", "LEFT"],
        vec!["BZPOPMIN", "z", "0"],
        vec!["BZPOPMAX", "z", "0"],
        vec!["BZMPOP", "0", "1", "z", "MIN"],
    ] {
        assert_eq!(
            client.call(&blocking),
            error("ERR blocking commands are not allowed inside BEGIN"),
            "{blocking:?}"
        );
    }
    for (wide, name) in [
        (vec!["KEYS", "*"], "KEYS"),
        (vec!["SCAN", "0"], "SCAN"),
        (vec!["DBSIZE"], "DBSIZE"),
        (vec!["RANDOMKEY"], "RANDOMKEY"),
        (vec!["FLUSHDB"], "FLUSHDB"),
        (vec!["FLUSHALL"], "FLUSHALL"),
    ] {
        assert_eq!(
            client.call(&wide),
            error(&format!("ERR {name} is not allowed inside BEGIN"))
        );
    }
    // The errors left the transaction open and working.
    assert_eq!(client.call(&["SET", "k", "v"]), ok());
    assert_eq!(client.call(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    assert_eq!(client.call(&["COMMIT"]), ok());
    assert_eq!(client.call(&["GET", "k"]), bulk("v"));
    // BEGIN inside MULTI dooms the MULTI.
    assert_eq!(client.call(&["MULTI"]), ok());
    assert_eq!(
        client.call(&["BEGIN"]),
        error("ERR BEGIN inside MULTI is not allowed")
    );
    assert_eq!(
        client.call(&["EXEC"]),
        error("EXECABORT Transaction discarded because of previous errors.")
    );
    // RESET leaves a transaction without applying it.
    assert_eq!(client.call(&["BEGIN"]), ok());
    assert_eq!(client.call(&["SET", "k", "changed"]), ok());
    assert_eq!(client.call(&["RESET"]), Reply::Simple(b"RESET".to_vec()));
    assert_eq!(client.call(&["COMMIT"]), error("ERR COMMIT without BEGIN"));
    assert_eq!(client.call(&["GET", "k"]), bulk("v"));
}

fn own_writes(threads: usize) {
    let server = shoal(threads);
    let keys = spread("own:");
    let mut writer = server.connect();
    let mut other = server.connect();
    assert_eq!(writer.call(&["SET", &keys[0], "10"]), ok());
    assert_eq!(writer.call(&["BEGIN"]), ok());
    assert_eq!(writer.call(&["INCRBY", &keys[0], "5"]), Reply::Integer(15));
    assert_eq!(writer.call(&["GET", &keys[0]]), bulk("15"));
    assert_eq!(
        writer.call(&["RPUSH", &keys[1], "a", "b"]),
        Reply::Integer(2)
    );
    assert_eq!(writer.call(&["LLEN", &keys[1]]), Reply::Integer(2));
    assert_eq!(writer.call(&["SADD", &keys[2], "m"]), Reply::Integer(1));
    assert_eq!(writer.call(&["DEL", &keys[3]]), Reply::Integer(0));
    assert_eq!(writer.call(&["SET", &keys[3], "x"]), ok());
    assert_eq!(
        writer.call(&["GET", &keys[1]]),
        error("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    // Nobody else sees any of it yet.
    assert_eq!(other.call(&["GET", &keys[0]]), bulk("10"));
    assert_eq!(
        other.call(&["EXISTS", &keys[1], &keys[2], &keys[3]]),
        Reply::Integer(0)
    );
    assert_eq!(writer.call(&["COMMIT"]), ok());
    assert_eq!(other.call(&["GET", &keys[0]]), bulk("15"));
    assert_eq!(
        other.call(&["LRANGE", &keys[1], "0", "-1"]),
        Reply::Array(vec![bulk("a"), bulk("b")])
    );
    assert_eq!(other.call(&["SISMEMBER", &keys[2], "m"]), Reply::Integer(1));
    assert_eq!(other.call(&["GET", &keys[3]]), bulk("x"));
    // Cross-shard and cross-database commands inside a transaction.
    assert_eq!(writer.call(&["BEGIN"]), ok());
    assert_eq!(writer.call(&["RENAME", &keys[3], &keys[2]]), ok());
    assert_eq!(writer.call(&["MOVE", &keys[0], "5"]), Reply::Integer(1));
    assert_eq!(writer.call(&["COMMIT"]), ok());
    assert_eq!(other.call(&["GET", &keys[2]]), bulk("x"));
    assert_eq!(
        other.call(&["EXISTS", &keys[3], &keys[0]]),
        Reply::Integer(0)
    );
    assert_eq!(other.call(&["SELECT", "5"]), ok());
    assert_eq!(other.call(&["GET", &keys[0]]), bulk("15"));
}

fn rollback_and_disconnect(threads: usize) {
    let server = shoal(threads);
    let keys = spread("gone:");
    let mut observer = server.connect();
    let mut client = server.connect();
    assert_eq!(client.call(&["BEGIN"]), ok());
    assert_eq!(client.call(&["SET", &keys[0], "1"]), ok());
    assert_eq!(client.call(&["ROLLBACK"]), ok());
    assert_eq!(observer.call(&["EXISTS", &keys[0]]), Reply::Integer(0));
    // A client that leaves mid-transaction: nothing applied, and its reads
    // hold back nobody (an older open reader would make writers conflict).
    let mut leaving = server.connect();
    assert_eq!(leaving.call(&["BEGIN"]), ok());
    for key in &keys {
        assert_eq!(leaving.call(&["GET", key]), Reply::Null);
    }
    assert_eq!(leaving.call(&["SET", &keys[1], "1"]), ok());
    drop(leaving);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(observer.call(&["EXISTS", &keys[1]]), Reply::Integer(0));
    assert_eq!(client.call(&["BEGIN"]), ok());
    for key in &keys {
        assert_eq!(client.call(&["SET", key, "mine"]), ok());
    }
    assert_eq!(client.call(&["COMMIT"]), ok());
    assert_eq!(observer.call(&["GET", &keys[3]]), bulk("mine"));
}

fn overdue(threads: usize) {
    let server = shoal(threads);
    let keys = spread("late:");
    let mut client = server.connect();
    let mut other = server.connect();
    assert_eq!(
        client.call(&["CONFIG", "SET", "transaction-timeout", "200"]),
        ok()
    );
    assert_eq!(client.call(&["BEGIN"]), ok());
    assert_eq!(client.call(&["GET", &keys[0]]), Reply::Null);
    assert_eq!(client.call(&["SET", &keys[1], "never"]), ok());
    std::thread::sleep(Duration::from_millis(600));
    let aborted = error(
        "TXABORTED transaction aborted: open longer than transaction-timeout; ROLLBACK and retry",
    );
    assert_eq!(client.call(&["GET", &keys[0]]), aborted);
    assert_eq!(client.call(&["PING"]), aborted);
    // The aborted transaction's reads no longer hold back a younger one.
    assert_eq!(other.call(&["BEGIN"]), ok());
    assert_eq!(other.call(&["SET", &keys[0], "young"]), ok());
    assert_eq!(other.call(&["COMMIT"]), ok());
    assert_eq!(client.call(&["COMMIT"]), aborted);
    assert_eq!(client.call(&["EXISTS", &keys[1]]), Reply::Integer(0));
    assert_eq!(client.call(&["GET", &keys[0]]), bulk("young"));
    // ROLLBACK ends an aborted transaction too.
    assert_eq!(client.call(&["BEGIN"]), ok());
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(client.call(&["ROLLBACK"]), ok());
    assert_eq!(
        client.call(&["CONFIG", "GET", "transaction-timeout"]),
        Reply::Array(vec![bulk("transaction-timeout"), bulk("200")])
    );
}

/// Two transactions read the same counter and write it plus one: only one
/// may commit, or an increment is lost.
fn lost_update(threads: usize) {
    let server = shoal(threads);
    let mut first = server.connect();
    let mut second = server.connect();
    assert_eq!(first.call(&["SET", "counter", "0"]), ok());
    let mut committed = 0;
    for _ in 0..20 {
        for client in [&mut first, &mut second] {
            assert_eq!(client.call(&["BEGIN"]), ok());
        }
        let read_first = first.call(&["GET", "counter"]);
        let read_second = second.call(&["GET", "counter"]);
        for (client, read) in [(&mut first, read_first), (&mut second, read_second)] {
            let Reply::Bulk(value) = read else {
                panic!("GET counter: {read:?}");
            };
            let next: i64 = String::from_utf8_lossy(&value)
                .parse::<i64>()
                .expect("a number")
                + 1;
            assert_eq!(client.call(&["SET", "counter", &next.to_string()]), ok());
        }
        let outcomes = [first.call(&["COMMIT"]), second.call(&["COMMIT"])];
        let wins = outcomes.iter().filter(|reply| **reply == ok()).count();
        assert_eq!(
            wins, 1,
            "exactly one of two racing increments commits: {outcomes:?}"
        );
        assert!(outcomes.iter().any(is_conflict), "{outcomes:?}");
        committed += wins;
    }
    assert_eq!(
        first.call(&["GET", "counter"]),
        bulk(&committed.to_string())
    );
}

/// Doctors on call: each of two transactions sees both on call and takes
/// one off; serializable isolation lets only one commit.
fn write_skew(threads: usize) {
    let server = shoal(threads);
    let keys = spread("oncall:");
    let (alice, bob) = (&keys[0], &keys[1]);
    let mut first = server.connect();
    let mut second = server.connect();
    for _ in 0..10 {
        assert_eq!(first.call(&["MSET", alice, "1", bob, "1"]), ok());
        for client in [&mut first, &mut second] {
            assert_eq!(client.call(&["BEGIN"]), ok());
            assert_eq!(
                client.call(&["MGET", alice, bob]),
                Reply::Array(vec![bulk("1"), bulk("1")])
            );
        }
        assert_eq!(first.call(&["SET", alice, "0"]), ok());
        assert_eq!(second.call(&["SET", bob, "0"]), ok());
        let outcomes = [first.call(&["COMMIT"]), second.call(&["COMMIT"])];
        assert_eq!(
            outcomes.iter().filter(|reply| **reply == ok()).count(),
            1,
            "{outcomes:?}"
        );
        let on_call = first.call(&["MGET", alice, bob]);
        assert!(
            on_call == Reply::Array(vec![bulk("0"), bulk("1")])
                || on_call == Reply::Array(vec![bulk("1"), bulk("0")]),
            "somebody stays on call: {on_call:?}"
        );
    }
}

fn plain_write_conflict(threads: usize) {
    let server = shoal(threads);
    let keys = spread("plain:");
    let mut client = server.connect();
    let mut other = server.connect();
    assert_eq!(client.call(&["BEGIN"]), ok());
    assert_eq!(client.call(&["GET", &keys[0]]), Reply::Null);
    assert_eq!(client.call(&["SET", &keys[1], "from-tx"]), ok());
    assert_eq!(client.call(&["SET", &keys[2], "from-tx"]), ok());
    assert_eq!(other.call(&["SET", &keys[0], "outside"]), ok());
    let reply = client.call(&["COMMIT"]);
    assert!(is_conflict(&reply), "{reply:?}");
    assert_eq!(
        other.call(&["EXISTS", &keys[1], &keys[2]]),
        Reply::Integer(0),
        "an aborted commit leaves no trace"
    );
    // After the conflict the client is out of the transaction.
    assert_eq!(client.call(&["GET", &keys[0]]), bulk("outside"));
    assert_eq!(client.call(&["COMMIT"]), error("ERR COMMIT without BEGIN"));
}

fn older_wins(threads: usize) {
    let server = shoal(threads);
    let mut old = server.connect();
    let mut young = server.connect();
    let mut plain = server.connect();
    assert_eq!(old.call(&["SET", "hot", "0"]), ok());
    // A first attempt's reads hold back nobody.
    assert_eq!(old.call(&["BEGIN"]), ok());
    assert_eq!(old.call(&["GET", "hot"]), bulk("0"));
    assert_eq!(young.call(&["BEGIN"]), ok());
    assert_eq!(young.call(&["INCR", "hot"]), Reply::Integer(1));
    assert_eq!(young.call(&["COMMIT"]), ok());
    assert_eq!(old.call(&["INCR", "hot"]), Reply::Integer(1));
    let lost = old.call(&["COMMIT"]);
    assert!(is_conflict(&lost), "{lost:?}");
    // Its retry keeps its age and has priority: a younger transaction
    // cannot commit a write to a key it read.
    assert_eq!(old.call(&["BEGIN"]), ok());
    assert_eq!(old.call(&["GET", "hot"]), bulk("1"));
    assert_eq!(young.call(&["BEGIN"]), ok());
    assert_eq!(young.call(&["INCR", "hot"]), Reply::Integer(2));
    let reply = young.call(&["COMMIT"]);
    assert!(
        is_conflict(&reply),
        "a younger writer yields to an older retried reader: {reply:?}"
    );
    assert_eq!(old.call(&["INCR", "hot"]), Reply::Integer(2));
    assert_eq!(old.call(&["COMMIT"]), ok());
    // Writes outside transactions are never held back.
    assert_eq!(old.call(&["SET", "other", "0"]), ok());
    assert_eq!(young.call(&["BEGIN"]), ok());
    assert_eq!(young.call(&["GET", "other"]), bulk("0"));
    assert_eq!(plain.call(&["INCR", "other"]), Reply::Integer(1));
    let reply = young.call(&["COMMIT"]);
    assert!(is_conflict(&reply), "{reply:?}");
    assert_eq!(old.call(&["GET", "hot"]), bulk("2"));
}

fn watch_across_shards(threads: usize) {
    let server = shoal(threads);
    let keys = spread("watched:");
    let mut client = server.connect();
    let mut other = server.connect();
    for changed in 0..keys.len() {
        let mut watch = vec!["WATCH"];
        watch.extend(keys.iter().map(String::as_str));
        assert_eq!(client.call(&watch), ok());
        assert_eq!(other.call(&["SET", &keys[changed], "x"]), ok());
        assert_eq!(client.call(&["MULTI"]), ok());
        for key in &keys {
            assert_eq!(
                client.call(&["INCR", key]),
                Reply::Simple(b"QUEUED".to_vec())
            );
        }
        assert_eq!(client.call(&["EXEC"]), Reply::NullArray, "{changed}");
    }
    let mut watch = vec!["WATCH"];
    watch.extend(keys.iter().map(String::as_str));
    assert_eq!(client.call(&watch), ok());
    assert_eq!(other.call(&["SET", "unrelated", "x"]), ok());
    assert_eq!(client.call(&["MULTI"]), ok());
    assert_eq!(
        client.call(&["MSET", &keys[0], "1", &keys[3], "4"]),
        Reply::Simple(b"QUEUED".to_vec())
    );
    assert_eq!(
        client.call(&["MGET", &keys[0], &keys[3]]),
        Reply::Simple(b"QUEUED".to_vec())
    );
    assert_eq!(
        client.call(&["EXEC"]),
        Reply::Array(vec![ok(), Reply::Array(vec![bulk("1"), bulk("4")])])
    );
}

fn keyspace_wide_in_multi(threads: usize) {
    let server = shoal(threads);
    let mut client = server.connect();
    assert_eq!(client.call(&["SET", "a", "1"]), ok());
    assert_eq!(client.call(&["MULTI"]), ok());
    let dbsize = client.call(&["DBSIZE"]);
    if threads == 1 {
        assert_eq!(dbsize, Reply::Simple(b"QUEUED".to_vec()));
        assert_eq!(
            client.call(&["SET", "b", "2"]),
            Reply::Simple(b"QUEUED".to_vec())
        );
        assert_eq!(client.call(&["DBSIZE"]), Reply::Simple(b"QUEUED".to_vec()));
        assert_eq!(client.call(&["FLUSHDB"]), Reply::Simple(b"QUEUED".to_vec()));
        assert_eq!(client.call(&["DBSIZE"]), Reply::Simple(b"QUEUED".to_vec()));
        assert_eq!(
            client.call(&["EXEC"]),
            Reply::Array(vec![
                Reply::Integer(1),
                ok(),
                Reply::Integer(2),
                ok(),
                Reply::Integer(0)
            ])
        );
    } else {
        assert_eq!(
            dbsize,
            error("ERR DBSIZE inside MULTI is not supported with more than one thread")
        );
        assert_eq!(
            client.call(&["EXEC"]),
            error("EXECABORT Transaction discarded because of previous errors.")
        );
    }
}

/// Transactions over keys of every shard contend for their locks while
/// other clients run transactions without keys (`MULTI PING EXEC`): those
/// lock nothing and run at once, even on a shard where others wait (the
/// random-command test once found such an EXEC asking an empty plan for
/// locks, which stopped the server).
fn keyless_exec_under_contention(threads: usize) {
    const ROUNDS: usize = 400;
    const WRITERS: usize = 4;
    let server = shoal(threads);
    let keys = spread("contended");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    std::thread::scope(|scope| {
        for _ in 0..WRITERS {
            let mut client = server.connect();
            let keys = &keys;
            scope.spawn(move || {
                for _ in 0..ROUNDS {
                    assert_eq!(client.call(&["MULTI"]), ok());
                    for key in keys {
                        client.call(&["INCR", key]);
                    }
                    let Reply::Array(replies) = client.call(&["EXEC"]) else {
                        panic!("EXEC of the increments did not answer an array");
                    };
                    assert_eq!(replies.len(), keys.len());
                    assert!(std::time::Instant::now() < deadline, "too slow");
                }
            });
        }
        for _ in 0..WRITERS {
            let mut client = server.connect();
            scope.spawn(move || {
                for _ in 0..ROUNDS * 4 {
                    assert_eq!(client.call(&["MULTI"]), ok());
                    assert_eq!(client.call(&["PING"]), Reply::Simple(b"QUEUED".to_vec()));
                    assert_eq!(
                        client.call(&["EXEC"]),
                        Reply::Array(vec![Reply::Simple(b"PONG".to_vec())])
                    );
                    assert!(std::time::Instant::now() < deadline, "too slow");
                }
            });
        }
    });
    let mut client = server.connect();
    let total = (WRITERS * ROUNDS).to_string();
    for key in &keys {
        assert_eq!(client.call(&["GET", key]), bulk(&total));
    }
}

/// Keeps the compiler from warning about helpers only some tests use.
#[allow(dead_code)]
fn unused(_: Client) {}
