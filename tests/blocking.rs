//! Blocking commands across shards: BLPOP and its family block without
//! holding a worker, wake on the first push, serve blocked clients in the
//! order they blocked, time out precisely, and never lose or duplicate an
//! element, even with producers and consumers racing over keys on every
//! shard. Every test runs with `--threads 1` and `--threads 4`.

mod util;

use std::collections::HashSet;
use std::thread;
use std::time::{Duration, Instant};

use shoal_protocol::Reply;
use util::{info_field, keys_on_distinct_shards, show, Client, ReadOutcome, ServerProcess};

const THREADS: &[usize] = &[1, 4];

fn shoal(threads: usize) -> ServerProcess {
    ServerProcess::shoal(&["--threads", &threads.to_string()])
}

fn bulk(text: &str) -> Reply {
    Reply::Bulk(text.as_bytes().to_vec())
}

fn pair(key: &str, value: &str) -> Reply {
    Reply::Array(vec![bulk(key), bulk(value)])
}

/// Waits until the server reports `count` blocked clients (bounded).
fn wait_blocked(admin: &mut Client, count: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info = admin.call(&["INFO", "clients"]);
        if info_field(&info, "blocked_clients") == Some(count) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} blocked clients: {}",
            show(&info)
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// Sends a command whose reply is read later.
fn send(client: &mut Client, args: &[&str]) {
    let args: Vec<&[u8]> = args.iter().map(|arg| arg.as_bytes()).collect();
    client.send(&args);
}

fn reply_within(client: &mut Client, timeout: Duration) -> Option<Reply> {
    match client.read_reply_within(timeout) {
        ReadOutcome::Reply(reply) => Some(reply),
        ReadOutcome::Closed | ReadOutcome::TimedOut => None,
    }
}

#[test]
fn blpop_answers_at_once_when_a_key_has_elements() {
    for &threads in THREADS {
        let server = shoal(threads);
        let mut client = server.connect();
        let keys = keys_on_distinct_shards("now:", 2, threads.max(2));
        client.call(&["RPUSH", &keys[1], "a", "b"]);
        assert_eq!(
            client.call(&["BLPOP", &keys[0], &keys[1], "0"]),
            pair(&keys[1], "a")
        );
        assert_eq!(
            client.call(&["BRPOP", &keys[0], &keys[1], "0"]),
            pair(&keys[1], "b")
        );
        assert_eq!(client.call(&["EXISTS", &keys[1]]), Reply::Integer(0));
    }
}

#[test]
fn a_push_wakes_a_client_blocked_on_keys_of_several_shards() {
    for &threads in THREADS {
        let server = shoal(threads);
        let keys = keys_on_distinct_shards("wake:", 3, threads.max(3));
        let mut blocked = server.connect();
        let mut admin = server.connect();
        send(&mut blocked, &["BLPOP", &keys[0], &keys[1], &keys[2], "0"]);
        wait_blocked(&mut admin, 1);
        admin.call(&["RPUSH", &keys[2], "x"]);
        let reply = reply_within(&mut blocked, Duration::from_secs(5));
        assert_eq!(reply, Some(pair(&keys[2], "x")), "threads={threads}");
        wait_blocked(&mut admin, 0);
        // Served exactly once: the element is gone, nothing else moved.
        assert_eq!(admin.call(&["LLEN", &keys[2]]), Reply::Integer(0));
        // The client goes on with later commands.
        assert_eq!(blocked.call(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    }
}

#[test]
fn blocked_clients_are_served_in_the_order_they_blocked() {
    for &threads in THREADS {
        let server = shoal(threads);
        let mut admin = server.connect();
        let mut clients: Vec<Client> = (0..3).map(|_| server.connect()).collect();
        for (index, client) in clients.iter_mut().enumerate() {
            send(client, &["BLPOP", "fifo", "0"]);
            wait_blocked(&mut admin, index as i64 + 1);
        }
        admin.call(&["RPUSH", "fifo", "a", "b", "c"]);
        for (client, expected) in clients.iter_mut().zip(["a", "b", "c"]) {
            let reply = reply_within(client, Duration::from_secs(5));
            assert_eq!(reply, Some(pair("fifo", expected)), "threads={threads}");
        }
    }
}

#[test]
fn a_timeout_ends_the_block_with_a_null_on_time() {
    for &threads in THREADS {
        let server = shoal(threads);
        let mut client = server.connect();
        let started = Instant::now();
        assert_eq!(client.call(&["BLPOP", "none", "0.2"]), Reply::NullArray);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(200) && waited < Duration::from_millis(600),
            "waited {waited:?}"
        );
        // The moves too answer a null array, as Redis 7.0 does.
        assert_eq!(
            client.call(&["BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"]),
            Reply::NullArray
        );
        assert_eq!(
            client.call(&["BLPOP", "none", "-1"]),
            Reply::Error(b"ERR timeout is negative".to_vec())
        );
        assert_eq!(
            client.call(&["BLPOP", "none", "soon"]),
            Reply::Error(b"ERR timeout is not a float or out of range".to_vec())
        );
    }
}

#[test]
fn client_unblock_ends_a_block_with_a_timeout_or_an_error() {
    for &threads in THREADS {
        let server = shoal(threads);
        let mut admin = server.connect();
        let mut blocked = server.connect();
        let Reply::Integer(id) = blocked.call(&["CLIENT", "ID"]) else {
            panic!("CLIENT ID answers an integer");
        };
        let id = id.to_string();
        send(&mut blocked, &["BRPOP", "unblock", "0"]);
        wait_blocked(&mut admin, 1);
        assert_eq!(admin.call(&["CLIENT", "UNBLOCK", &id]), Reply::Integer(1));
        assert_eq!(
            reply_within(&mut blocked, Duration::from_secs(5)),
            Some(Reply::NullArray)
        );
        send(&mut blocked, &["BZPOPMIN", "unblock", "0"]);
        wait_blocked(&mut admin, 1);
        assert_eq!(
            admin.call(&["CLIENT", "UNBLOCK", &id, "ERROR"]),
            Reply::Integer(1)
        );
        assert_eq!(
            reply_within(&mut blocked, Duration::from_secs(5)),
            Some(Reply::Error(
                b"UNBLOCKED client unblocked via CLIENT UNBLOCK".to_vec()
            ))
        );
        assert_eq!(admin.call(&["CLIENT", "UNBLOCK", &id]), Reply::Integer(0));
        assert_eq!(
            admin.call(&["CLIENT", "UNBLOCK", &id, "MAYBE"]),
            Reply::Error(b"ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".to_vec())
        );
    }
}

#[test]
fn a_client_that_leaves_while_blocked_takes_nothing() {
    for &threads in THREADS {
        let server = shoal(threads);
        let mut admin = server.connect();
        {
            let mut leaving = server.connect();
            send(&mut leaving, &["BLPOP", "left", "0"]);
            wait_blocked(&mut admin, 1);
        }
        wait_blocked(&mut admin, 0);
        admin.call(&["RPUSH", "left", "kept"]);
        assert_eq!(admin.call(&["LLEN", "left"]), Reply::Integer(1));
        // A later waiter is served as usual.
        let mut waiter = server.connect();
        assert_eq!(waiter.call(&["BLPOP", "left", "1"]), pair("left", "kept"));
    }
}

#[test]
fn blmove_and_bzpopmin_wake_across_shards() {
    for &threads in THREADS {
        let server = shoal(threads);
        let keys = keys_on_distinct_shards("move:", 2, threads.max(2));
        let mut admin = server.connect();
        let mut mover = server.connect();
        send(
            &mut mover,
            &["BLMOVE", &keys[0], &keys[1], "RIGHT", "LEFT", "0"],
        );
        wait_blocked(&mut admin, 1);
        admin.call(&["LPUSH", &keys[0], "m"]);
        assert_eq!(
            reply_within(&mut mover, Duration::from_secs(5)),
            Some(bulk("m"))
        );
        assert_eq!(
            admin.call(&["LRANGE", &keys[1], "0", "-1"]),
            Reply::Array(vec![bulk("m")])
        );
        send(&mut mover, &["BZPOPMIN", "zs", "0"]);
        wait_blocked(&mut admin, 1);
        admin.call(&["ZADD", "zs", "2", "two", "1", "one"]);
        assert_eq!(
            reply_within(&mut mover, Duration::from_secs(5)),
            Some(Reply::Array(vec![bulk("zs"), bulk("one"), bulk("1")]))
        );
    }
}

#[test]
fn flushall_leaves_blocked_clients_blocked() {
    for &threads in THREADS {
        let server = shoal(threads);
        let mut admin = server.connect();
        let mut blocked = server.connect();
        send(&mut blocked, &["BLPOP", "flushed", "0"]);
        wait_blocked(&mut admin, 1);
        admin.call(&["FLUSHALL"]);
        wait_blocked(&mut admin, 1);
        admin.call(&["RPUSH", "flushed", "after"]);
        assert_eq!(
            reply_within(&mut blocked, Duration::from_secs(5)),
            Some(pair("flushed", "after"))
        );
    }
}

/// Producers push numbered elements to keys on every shard while consumers
/// block on all of them: every element is popped exactly once.
#[test]
fn every_pushed_element_is_popped_exactly_once() {
    const PRODUCERS: usize = 3;
    const CONSUMERS: usize = 4;
    const PER_PRODUCER: usize = 300;
    for &threads in THREADS {
        let server = shoal(threads);
        let keys = keys_on_distinct_shards("race:", 4, threads.max(4));
        let port = server.port;
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let keys = keys.clone();
                thread::spawn(move || {
                    let mut client = Client::connect(port);
                    let mut popped = Vec::new();
                    let mut args: Vec<&str> = vec!["BLPOP"];
                    args.extend(keys.iter().map(String::as_str));
                    args.push("1");
                    loop {
                        match client.call(&args) {
                            Reply::Array(parts) if parts.len() == 2 => match &parts[1] {
                                Reply::Bulk(element) => {
                                    popped.push(String::from_utf8_lossy(element).into_owned())
                                }
                                other => panic!("unexpected element {other:?}"),
                            },
                            // A second without elements: the producers are done.
                            Reply::NullArray => return popped,
                            other => panic!("unexpected reply {}", show(&other)),
                        }
                    }
                })
            })
            .collect();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|producer| {
                let keys = keys.clone();
                thread::spawn(move || {
                    let mut client = Client::connect(port);
                    for n in 0..PER_PRODUCER {
                        let key = &keys[(n + producer) % keys.len()];
                        let element = format!("{producer}:{n}");
                        let command = if n % 2 == 0 { "RPUSH" } else { "LPUSH" };
                        client.call(&[command, key, &element]);
                    }
                })
            })
            .collect();
        producers
            .into_iter()
            .for_each(|producer| producer.join().expect("producer"));
        let mut seen = HashSet::new();
        let mut total = 0;
        for consumer in consumers {
            for element in consumer.join().expect("consumer") {
                total += 1;
                assert!(seen.insert(element.clone()), "{element} popped twice");
            }
        }
        let mut admin = server.connect();
        let left: i64 = keys
            .iter()
            .map(|key| match admin.call(&["LLEN", key]) {
                Reply::Integer(length) => length,
                other => panic!("LLEN: {}", show(&other)),
            })
            .sum();
        assert_eq!(left, 0, "threads={threads}: elements left behind");
        assert_eq!(total, PRODUCERS * PER_PRODUCER, "threads={threads}");
    }
}
