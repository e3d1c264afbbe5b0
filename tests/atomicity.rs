//! Multi-key commands whose keys live on different shards are atomic:
//! with four workers, concurrent clients never see half of an MSET, a key
//! that RENAME moves is always in exactly one place, and MSETNX sets all
//! of its keys or none. Each test runs its writers and readers, each on its
//! own connection, for a bounded time and checks they all made progress.

mod util;

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use shoal_protocol::Reply;
use util::{key_shard, keys_on_distinct_shards, Client, ServerProcess};

/// Workers (and shards) of the server under test.
const SHARDS: usize = 4;
/// How long writers and readers run.
const RUN_FOR: Duration = Duration::from_secs(3);
/// Fewest operations each writer and reader must have completed in
/// `RUN_FOR`: enough that the checks mean something, low enough for a
/// debug build on two shared cores.
const ITERATIONS_MIN: u64 = 100;
/// Keys each multi-key command touches.
const KEYS: usize = 8;

fn shoal() -> ServerProcess {
    ServerProcess::shoal(&["--threads", &SHARDS.to_string()])
}

/// `KEYS` keys named `{prefix}{n}`, two on each shard: no hash tags, so
/// every command over them spans all four shards.
fn spread_keys(prefix: &str) -> Vec<String> {
    let per_shard = KEYS / SHARDS;
    let mut on_shard = [0usize; SHARDS];
    let mut keys = Vec::new();
    for n in 0.. {
        let key = format!("{prefix}{n}");
        let shard = key_shard(key.as_bytes(), SHARDS);
        if on_shard[shard] < per_shard {
            on_shard[shard] += 1;
            keys.push(key);
            if keys.len() == KEYS {
                break;
            }
        }
    }
    keys
}

fn command(name: &str, keys: &[String], value: Option<&str>) -> Vec<String> {
    let mut args = vec![name.to_string()];
    for key in keys {
        args.push(key.clone());
        if let Some(value) = value {
            args.push(value.to_string());
        }
    }
    args
}

fn call(client: &mut Client, args: &[String]) -> Reply {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    client.call(&args)
}

/// An MGET reply's values (`None` for a missing key).
fn values(reply: Reply) -> Vec<Option<Vec<u8>>> {
    let Reply::Array(items) = reply else {
        panic!("MGET answered {reply:?}");
    };
    items
        .into_iter()
        .map(|item| match item {
            Reply::Bulk(bytes) => Some(bytes),
            Reply::Null => None,
            other => panic!("MGET item {other:?}"),
        })
        .collect()
}

fn show(values: &[Option<Vec<u8>>]) -> Vec<String> {
    values
        .iter()
        .map(|value| match value {
            Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            None => "(nil)".to_string(),
        })
        .collect()
}

/// A barrier whose wait fails after `BARRIER_TIMEOUT`, so a contender that
/// failed cannot leave the others waiting forever.
struct TimedBarrier {
    parties: usize,
    /// (threads arrived in this generation, generation)
    state: Mutex<(usize, u64)>,
    all_arrived: Condvar,
}

/// Longest a contender waits for the others at a barrier.
const BARRIER_TIMEOUT: Duration = Duration::from_secs(15);

impl TimedBarrier {
    fn new(parties: usize) -> TimedBarrier {
        TimedBarrier {
            parties,
            state: Mutex::new((0, 0)),
            all_arrived: Condvar::new(),
        }
    }

    fn wait(&self) {
        let mut state = self.state.lock().expect("never held across a panic");
        let generation = state.1;
        state.0 += 1;
        if state.0 == self.parties {
            *state = (0, generation + 1);
            self.all_arrived.notify_all();
            return;
        }
        let (state, waited) = self
            .all_arrived
            .wait_timeout_while(state, BARRIER_TIMEOUT, |state| state.1 == generation)
            .expect("never held across a panic");
        drop(state);
        assert!(
            !waited.timed_out(),
            "a contender did not reach the barrier in {BARRIER_TIMEOUT:?}"
        );
    }
}

fn ok() -> Reply {
    Reply::Simple(b"OK".to_vec())
}

/// Runs `body` on its own connection until `RUN_FOR` has passed; `body`
/// does one operation (and its checks) per call. Returns how many.
fn run_loop(server: &ServerProcess, mut body: impl FnMut(&mut Client, u64)) -> u64 {
    let mut client = server.connect();
    let deadline = Instant::now() + RUN_FOR;
    let mut iterations = 0;
    while Instant::now() < deadline {
        body(&mut client, iterations);
        iterations += 1;
    }
    iterations
}

fn assert_progress(role: &str, counts: &[u64]) {
    eprintln!("{role} operations in {RUN_FOR:?}: {counts:?}");
    for (index, &count) in counts.iter().enumerate() {
        assert!(
            count >= ITERATIONS_MIN,
            "{role} {index} completed only {count} operations in {RUN_FOR:?}: {counts:?}"
        );
    }
}

/// The server still answers, on every shard, after the run.
fn assert_still_serves(server: &ServerProcess) {
    let mut client = server.connect();
    assert_eq!(client.call(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    let keys = keys_on_distinct_shards("after:", SHARDS, SHARDS);
    assert_eq!(call(&mut client, &command("MSET", &keys, Some("x"))), ok());
    let found = values(call(&mut client, &command("MGET", &keys, None)));
    assert!(found
        .iter()
        .all(|value| value.as_deref() == Some(&b"x"[..])));
}

#[test]
fn mset_is_atomic_across_shards() {
    const WRITERS: usize = 3;
    const READERS: usize = 3;
    /// Commands per round trip for the pipelined writer and reader.
    const PIPELINE: usize = 8;
    let server = shoal();
    let keys = spread_keys("mset:");
    let mut setup = server.connect();
    assert_eq!(
        call(&mut setup, &command("MSET", &keys, Some("initial"))),
        ok()
    );
    let mget = command("MGET", &keys, None);
    // Checks one MGET; returns the value all keys hold.
    let check = |found: Vec<Option<Vec<u8>>>| -> Option<Vec<u8>> {
        assert!(
            found[0].is_some() && found.iter().all(|value| *value == found[0]),
            "MGET saw a mix of MSETs: {:?}",
            show(&found)
        );
        found[0].clone()
    };
    let (writes, reads) = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let keys = &keys;
                let server = &server;
                scope.spawn(move || {
                    run_loop(server, |client, iteration| {
                        if writer == 0 {
                            // One writer pipelines: several MSETs in flight
                            // from one connection, replies in order.
                            let batch: Vec<Vec<String>> = (0..PIPELINE)
                                .map(|n| {
                                    let value = format!("w{writer}:{iteration}:{n}");
                                    command("MSET", keys, Some(&value))
                                })
                                .collect();
                            assert!(client.pipeline(&batch).into_iter().all(|r| r == ok()));
                        } else {
                            let value = format!("w{writer}:{iteration}");
                            assert_eq!(call(client, &command("MSET", keys, Some(&value))), ok());
                        }
                    })
                })
            })
            .collect();
        let readers: Vec<_> = (0..READERS)
            .map(|reader| {
                let mget = &mget;
                let server = &server;
                let check = &check;
                scope.spawn(move || {
                    // How often the value read changed: the readers must
                    // see the writers' work, not one value throughout.
                    let mut changes = 0u64;
                    let mut last = None;
                    let mut note = |value: Option<Vec<u8>>| {
                        if value != last {
                            changes += 1;
                            last = value;
                        }
                    };
                    let reads = run_loop(server, |client, _| {
                        if reader == 0 {
                            let batch = vec![mget.clone(); PIPELINE];
                            for reply in client.pipeline(&batch) {
                                note(check(values(reply)));
                            }
                        } else {
                            note(check(values(call(client, mget))));
                        }
                    });
                    assert!(changes >= 10, "reader {reader} saw only {changes} values");
                    reads
                })
            })
            .collect();
        let join = |handles: Vec<std::thread::ScopedJoinHandle<'_, u64>>| -> Vec<u64> {
            handles
                .into_iter()
                .map(|handle| handle.join().expect("no failed check"))
                .collect()
        };
        (join(writers), join(readers))
    });
    assert_progress("writer", &writes);
    assert_progress("reader", &reads);
    assert!(check(values(call(&mut setup, &mget))).is_some());
    assert_still_serves(&server);
}

#[test]
fn rename_across_shards_is_never_seen_half_done() {
    const MOVERS: usize = 2;
    const READERS: usize = 3;
    let server = shoal();
    let pair = keys_on_distinct_shards("rename:", 2, SHARDS);
    let (a, b) = (pair[0].as_str(), pair[1].as_str());
    let mut setup = server.connect();
    assert_eq!(setup.call(&["SET", a, "payload"]), ok());
    let no_such_key = Reply::Error(b"ERR no such key".to_vec());
    let (moves, reads) = std::thread::scope(|scope| {
        let movers: Vec<_> = (0..MOVERS)
            .map(|_| {
                let server = &server;
                let no_such_key = &no_such_key;
                scope.spawn(move || {
                    let mut renamed = 0u64;
                    let attempts = run_loop(server, |client, _| {
                        // Another mover may have moved the key first.
                        for (from, to) in [(a, b), (b, a)] {
                            let reply = client.call(&["RENAME", from, to]);
                            if reply == ok() {
                                renamed += 1;
                            } else {
                                assert_eq!(reply, *no_such_key);
                            }
                        }
                    });
                    (attempts, renamed)
                })
            })
            .collect();
        let readers: Vec<_> = (0..READERS)
            .map(|reader| {
                let server = &server;
                scope.spawn(move || {
                    run_loop(server, |client, _| {
                        if reader % 2 == 0 {
                            assert_eq!(
                                client.call(&["EXISTS", a, b]),
                                Reply::Integer(1),
                                "the key was in neither place or in both"
                            );
                        } else {
                            let found = values(client.call(&["MGET", a, b]));
                            let present: Vec<_> = found.iter().flatten().collect();
                            assert_eq!(
                                present,
                                [&b"payload".to_vec()],
                                "MGET a b: {:?}",
                                show(&found)
                            );
                        }
                    })
                })
            })
            .collect();
        let moves: Vec<(u64, u64)> = movers
            .into_iter()
            .map(|handle| handle.join().expect("no failed check"))
            .collect();
        let reads: Vec<u64> = readers
            .into_iter()
            .map(|handle| handle.join().expect("no failed check"))
            .collect();
        (moves, reads)
    });
    let attempts: Vec<u64> = moves.iter().map(|&(attempts, _)| attempts).collect();
    assert_progress("mover", &attempts);
    let renamed: u64 = moves.iter().map(|&(_, renamed)| renamed).sum();
    assert!(
        renamed >= ITERATIONS_MIN,
        "only {renamed} RENAMEs succeeded"
    );
    assert_progress("reader", &reads);
    assert_eq!(setup.call(&["EXISTS", a, b]), Reply::Integer(1));
    assert_still_serves(&server);
}

#[test]
fn msetnx_sets_all_keys_or_none() {
    const WRITERS: usize = 2;
    const READERS: usize = 3;
    let server = shoal();
    let keys = spread_keys("msetnx:");
    let mget = command("MGET", &keys, None);
    let del = command("DEL", &keys, None);
    let (writes, reads) = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (server, keys, del) = (&server, &keys, &del);
                scope.spawn(move || {
                    let mut set = 0u64;
                    let iterations = run_loop(server, |client, iteration| {
                        // All or none of the keys exist at any moment, so
                        // a DEL over all of them removes all or none.
                        let deleted = call(client, del);
                        assert!(
                            deleted == Reply::Integer(0) || deleted == Reply::Integer(KEYS as i64),
                            "DEL removed part of an MSETNX: {deleted:?}"
                        );
                        let value = format!("w{writer}:{iteration}");
                        match call(client, &command("MSETNX", keys, Some(&value))) {
                            Reply::Integer(1) => set += 1,
                            Reply::Integer(0) => {}
                            other => panic!("MSETNX answered {other:?}"),
                        }
                    });
                    (iterations, set)
                })
            })
            .collect();
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                let (server, mget) = (&server, &mget);
                scope.spawn(move || {
                    let (mut empty, mut full) = (0u64, 0u64);
                    let reads = run_loop(server, |client, _| {
                        let found = values(call(client, mget));
                        assert!(
                            found.iter().all(|value| *value == found[0]),
                            "MGET saw part of an MSETNX or of a DEL: {:?}",
                            show(&found)
                        );
                        if found[0].is_some() {
                            full += 1;
                        } else {
                            empty += 1;
                        }
                    });
                    // Both states must have been seen for the check to mean anything.
                    assert!(empty > 0 && full > 0, "{empty} empty, {full} full");
                    reads
                })
            })
            .collect();
        let writes: Vec<(u64, u64)> = writers
            .into_iter()
            .map(|handle| handle.join().expect("no failed check"))
            .collect();
        let reads: Vec<u64> = readers
            .into_iter()
            .map(|handle| handle.join().expect("no failed check"))
            .collect();
        (writes, reads)
    });
    let iterations: Vec<u64> = writes.iter().map(|&(iterations, _)| iterations).collect();
    assert_progress("writer", &iterations);
    let set: u64 = writes.iter().map(|&(_, set)| set).sum();
    assert!(
        set >= ITERATIONS_MIN,
        "only {set} MSETNX calls set the keys"
    );
    assert_progress("reader", &reads);
    assert_still_serves(&server);
}

#[test]
fn concurrent_msetnx_on_fresh_keys_has_exactly_one_winner() {
    const CONTENDERS: usize = 4;
    const ROUNDS: usize = 300;
    let server = shoal();
    let start = TimedBarrier::new(CONTENDERS);
    // results[round][contender]: MSETNX's reply, checked after the run so
    // that no contender stops early and leaves the others at the barrier.
    let results = Mutex::new(vec![vec![Reply::Null; CONTENDERS]; ROUNDS]);
    let began = Instant::now();
    std::thread::scope(|scope| {
        for contender in 0..CONTENDERS {
            let (server, start, results) = (&server, &start, &results);
            scope.spawn(move || {
                let mut client = server.connect();
                for round in 0..ROUNDS {
                    let keys: Vec<String> =
                        (0..KEYS).map(|n| format!("race:{round}:{n}")).collect();
                    let value = format!("c{contender}");
                    start.wait();
                    let reply = call(&mut client, &command("MSETNX", &keys, Some(&value)));
                    results.lock().expect("never held across a panic")[round][contender] = reply;
                }
            });
        }
    });
    let elapsed = began.elapsed();
    let results = results.into_inner().expect("never held across a panic");
    let mut checker = server.connect();
    for (round, replies) in results.iter().enumerate() {
        assert!(
            replies
                .iter()
                .all(|reply| matches!(reply, Reply::Integer(0) | Reply::Integer(1))),
            "round {round}: replies {replies:?}"
        );
        let winners: Vec<usize> = (0..CONTENDERS)
            .filter(|&contender| replies[contender] == Reply::Integer(1))
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: replies {replies:?}");
        let keys: Vec<String> = (0..KEYS).map(|n| format!("race:{round}:{n}")).collect();
        let shards: std::collections::BTreeSet<usize> = keys
            .iter()
            .map(|key| key_shard(key.as_bytes(), SHARDS))
            .collect();
        assert!(shards.len() > 1, "round {round}'s keys share a shard");
        let found = values(call(&mut checker, &command("MGET", &keys, None)));
        let winner = format!("c{}", winners[0]);
        assert!(
            found
                .iter()
                .all(|value| value.as_deref() == Some(winner.as_bytes())),
            "round {round}: winner {winner}, keys hold {:?}",
            show(&found)
        );
    }
    assert!(
        elapsed < Duration::from_secs(30),
        "{ROUNDS} rounds took {elapsed:?}"
    );
    assert_still_serves(&server);
}

/// Commands that visit every shard (DBSIZE, KEYS) while RENAME moves one
/// key between two shards: Redis runs each command alone, so both always
/// see exactly one key.
#[test]
fn whole_keyspace_commands_never_see_a_rename_half_done() {
    let server = shoal();
    let pair = keys_on_distinct_shards("moving:", 2, SHARDS);
    let (a, b) = (pair[0].as_str(), pair[1].as_str());
    let mut setup = server.connect();
    assert_eq!(setup.call(&["SET", a, "payload"]), ok());
    let (moves, reads) = std::thread::scope(|scope| {
        let mover = scope.spawn(|| {
            run_loop(&server, |client, _| {
                assert_eq!(client.call(&["RENAME", a, b]), ok());
                assert_eq!(client.call(&["RENAME", b, a]), ok());
            })
        });
        let readers: Vec<_> = (0..2)
            .map(|reader| {
                let server = &server;
                scope.spawn(move || {
                    run_loop(server, |client, _| {
                        if reader == 0 {
                            assert_eq!(client.call(&["DBSIZE"]), Reply::Integer(1), "DBSIZE");
                        } else {
                            let Reply::Array(keys) = client.call(&["KEYS", "moving:*"]) else {
                                panic!("KEYS answers an array");
                            };
                            let names: Vec<String> = keys.iter().map(util::show).collect();
                            assert_eq!(names.len(), 1, "KEYS moving:* found {names:?}");
                        }
                    })
                })
            })
            .collect();
        let moves = mover.join().expect("no failed check");
        let reads: Vec<u64> = readers
            .into_iter()
            .map(|handle| handle.join().expect("no failed check"))
            .collect();
        (moves, reads)
    });
    assert_progress("mover", &[moves]);
    assert_progress("reader", &reads);
    assert_still_serves(&server);
}
