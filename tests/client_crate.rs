//! The server as a real client library (redis-rs) sees it: connection
//! handshake, typed replies, pipelines, RESP3, and errors.

mod util;

use util::ServerProcess;

fn connect(server: &ServerProcess, resp3: bool) -> redis::Connection {
    let protocol = if resp3 { "?protocol=resp3" } else { "" };
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/{protocol}", server.port))
        .expect("valid URL");
    // A refused connect is tried again, as the harness's own client's is.
    let connection = util::retry_refused(
        server.port,
        || client.get_connection_with_timeout(util::REPLY_TIMEOUT),
        redis::RedisError::is_connection_refusal,
    )
    .unwrap_or_else(|error| panic!("redis-rs connects and completes its handshake: {error}"));
    connection
        .set_read_timeout(Some(util::REPLY_TIMEOUT))
        .expect("read timeout");
    connection
}

fn strings_keys_and_pipelines(threads: &str, resp3: bool) {
    let server = ServerProcess::shoal(&["--threads", threads]);
    let mut con = connect(&server, resp3);
    let () = redis::cmd("SET")
        .arg("greeting")
        .arg("hello")
        .query(&mut con)
        .unwrap();
    let value: String = redis::cmd("GET").arg("greeting").query(&mut con).unwrap();
    assert_eq!(value, "hello");
    let missing: Option<String> = redis::cmd("GET").arg("nope").query(&mut con).unwrap();
    assert_eq!(missing, None);
    let counted: i64 = redis::cmd("INCRBY")
        .arg("counter")
        .arg(41)
        .query(&mut con)
        .unwrap();
    assert_eq!(
        counted + 1,
        redis::cmd("INCR")
            .arg("counter")
            .query::<i64>(&mut con)
            .unwrap()
    );

    // Keys spread over every shard: MSET and MGET cross shards.
    let keys: Vec<String> = (0..32).map(|i| format!("key:{i}")).collect();
    let mut mset = redis::cmd("MSET");
    for key in &keys {
        mset.arg(key).arg(format!("value of {key}"));
    }
    let () = mset.query(&mut con).unwrap();
    let values: Vec<String> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();
    assert_eq!(
        values,
        keys.iter()
            .map(|key| format!("value of {key}"))
            .collect::<Vec<_>>()
    );
    let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(size, 34);

    // A pipeline whose replies come back in order although its commands go
    // to different shards.
    let mut pipe = redis::pipe();
    for key in &keys {
        pipe.cmd("APPEND").arg(key).arg("!");
    }
    pipe.cmd("DEL").arg(&keys[..8]);
    pipe.cmd("EXISTS").arg(&keys);
    let replies: Vec<i64> = pipe.query(&mut con).unwrap();
    let expected_lengths = keys
        .iter()
        .map(|key| (format!("value of {key}").len() + 1) as i64);
    assert_eq!(&replies[..32], &expected_lengths.collect::<Vec<_>>()[..]);
    assert_eq!(&replies[32..], &[8, 24]);

    // Server errors arrive as typed errors, and the connection stays usable.
    let error = redis::cmd("INCR")
        .arg("greeting")
        .query::<i64>(&mut con)
        .unwrap_err();
    assert_eq!(error.code(), Some("ERR"), "{error}");
    let error = redis::cmd("NOSUCHCOMMAND")
        .query::<()>(&mut con)
        .unwrap_err();
    assert!(error.to_string().contains("unknown command"), "{error}");
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn redis_rs_works_with_one_thread() {
    strings_keys_and_pipelines("1", false);
}

#[test]
fn redis_rs_works_with_four_threads() {
    strings_keys_and_pipelines("4", false);
}

#[test]
fn redis_rs_works_over_resp3() {
    strings_keys_and_pipelines("4", true);
}
