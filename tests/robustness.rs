//! Bad input, bad clients and the process's life: every mistake gets a
//! clear error (Redis's text, compared with `redis-server` where it is
//! cheap), costs only the connection that made it, and the server goes on
//! serving other clients. Each behaviour runs with one worker and with four,
//! so single-shard and multi-shard paths (mailboxes, cross-shard locks) are
//! both exercised.

mod util;

use std::time::{Duration, Instant};

use shoal_protocol::Reply;
use util::{
    info_field, keys_on_distinct_shards, shoal_exit, show, with_1_and_4_threads, Client,
    ServerProcess, TempFile,
};

with_1_and_4_threads! {
    protocol_errors_close_only_that_connection => protocol_errors;
    errors_before_a_protocol_error_keep_their_order => pipelined_then_protocol_error;
    huge_but_valid_declared_lengths_just_wait => huge_valid_lengths;
    command_errors_keep_the_connection_open => command_errors;
    command_errors_match_redis => command_errors_match_redis;
    clients_vanishing_mid_command_lose_nothing => half_commands_then_gone;
    clients_vanishing_mid_pipeline_leave_the_server_serving => pipelines_then_gone;
    a_client_that_never_reads_is_disconnected_at_the_output_limit => never_reads;
    maxclients_refuses_the_extra_connection_like_redis => maxclients;
    maxclients_shrinks_to_a_low_open_files_limit_like_redis => maxclients_under_low_ulimit;
    idle_clients_are_closed_after_timeout => idle_timeout;
    requirepass_gates_commands_like_redis => requirepass;
    shutdown_command_exits_with_status_0 => shutdown_command;
    sigterm_exits_with_status_0 => sigterm;
    sigint_exits_with_status_0 => sigint;
    start_up_errors_exit_1_naming_the_option => start_up_errors;
    a_config_file_is_honoured => config_file;
}

/// How long a server may take to exit once told to.
const EXIT_TIMEOUT: Duration = Duration::from_secs(5);

fn shoal(threads: usize, extra: &[&str]) -> ServerProcess {
    let threads = threads.to_string();
    let mut args = vec!["--threads", threads.as_str()];
    args.extend_from_slice(extra);
    ServerProcess::shoal(&args)
}

fn ok() -> Reply {
    Reply::Simple(b"OK".to_vec())
}

fn pong() -> Reply {
    Reply::Simple(b"PONG".to_vec())
}

fn bulk(text: &str) -> Reply {
    Reply::Bulk(text.as_bytes().to_vec())
}

fn error(text: &str) -> Reply {
    Reply::Error(text.as_bytes().to_vec())
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| arg.to_string()).collect()
}

/// `MSET` of `keys` to one `value`, as arguments.
fn mset_args(keys: &[String], value: &str) -> Vec<String> {
    let mut args = vec!["MSET".to_string()];
    for key in keys {
        args.push(key.clone());
        args.push(value.to_string());
    }
    args
}

fn call(client: &mut Client, args: &[String]) -> Reply {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    client.call(&args)
}

/// A fresh client (authenticated with `password` if given) can still
/// ping, write and read a key, and write and read keys on every shard.
fn assert_still_serves(server: &ServerProcess, threads: usize, password: Option<&str>) {
    let mut client = server.connect();
    if let Some(password) = password {
        assert_eq!(client.call(&["AUTH", password]), ok());
    }
    assert_eq!(client.call(&["PING"]), pong());
    assert_eq!(client.call(&["SET", "still:serving", "yes"]), ok());
    assert_eq!(client.call(&["GET", "still:serving"]), bulk("yes"));
    let keys = keys_on_distinct_shards("still:", threads, threads);
    assert_eq!(call(&mut client, &mset_args(&keys, "all")), ok());
    let mut mget = vec!["MGET".to_string()];
    mget.extend(keys.iter().cloned());
    assert_eq!(
        call(&mut client, &mget),
        Reply::Array(keys.iter().map(|_| bulk("all")).collect())
    );
}

/// Waits until the server reports `expected` connected clients (the
/// asking client included).
fn wait_for_connected_clients(client: &mut Client, expected: i64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info = client.call(&["INFO", "clients"]);
        let connected = info_field(&info, "connected_clients").expect("connected_clients");
        if connected == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "connected_clients stayed {connected}, expected {expected}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------
// Protocol errors
// ---------------------------------------------------------------------------

/// Malformed requests and the error Redis answers each with; the
/// connection is closed after it.
fn malformed_requests() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let mut cases: Vec<(&'static str, Vec<u8>, &'static str)> = vec![
        (
            "negative bulk length",
            b"*1\r\n$-5\r\n".to_vec(),
            "ERR Protocol error: invalid bulk length",
        ),
        (
            "bulk length not a number",
            b"*1\r\n$abc\r\n".to_vec(),
            "ERR Protocol error: invalid bulk length",
        ),
        (
            "bulk length one past proto-max-bulk-len",
            b"*1\r\n$536870913\r\n".to_vec(),
            "ERR Protocol error: invalid bulk length",
        ),
        (
            "multibulk length not a number",
            b"*abc\r\n".to_vec(),
            "ERR Protocol error: invalid multibulk length",
        ),
        (
            "multibulk length past INT_MAX",
            b"*2147483648\r\n".to_vec(),
            "ERR Protocol error: invalid multibulk length",
        ),
        (
            "argument without '$'",
            b"*2\r\n$4\r\nECHO\r\nx\r\n".to_vec(),
            "ERR Protocol error: expected '$', got 'x'",
        ),
        (
            "unbalanced double quote",
            b"SET \"a b\r\n".to_vec(),
            "ERR Protocol error: unbalanced quotes in request",
        ),
        (
            "unbalanced single quote",
            b"SET 'a\r\n".to_vec(),
            "ERR Protocol error: unbalanced quotes in request",
        ),
        (
            "closing quote not followed by a space",
            b"SET \"a\"b c\r\n".to_vec(),
            "ERR Protocol error: unbalanced quotes in request",
        ),
    ];
    // Past the 64 KiB limit on a line that has not ended yet.
    cases.push((
        "inline request over 64 KiB",
        vec![b'a'; 70_000],
        "ERR Protocol error: too big inline request",
    ));
    let mut count = b"*".to_vec();
    count.extend(std::iter::repeat_n(b'1', 70_000));
    cases.push((
        "multibulk count line over 64 KiB",
        count,
        "ERR Protocol error: too big mbulk count string",
    ));
    let mut length = b"*1\r\n$".to_vec();
    length.extend(std::iter::repeat_n(b'1', 70_000));
    cases.push((
        "bulk length line over 64 KiB",
        length,
        "ERR Protocol error: too big bulk count string",
    ));
    cases
}

fn protocol_errors(threads: usize) {
    let server = shoal(threads, &[]);
    let mut bystander = server.connect();
    assert_eq!(bystander.call(&["PING"]), pong());
    for (index, (what, bytes, expected)) in malformed_requests().into_iter().enumerate() {
        let key = format!("written-before:{index}");
        let mut bad = server.connect();
        assert_eq!(bad.call(&["SET", &key, what]), ok(), "{what}");
        bad.send_raw(b"PING\r\n");
        bad.send_raw(&bytes);
        assert_eq!(bad.read_reply(), Some(pong()), "{what}");
        let reply = bad.read_reply().expect("an error before the close");
        assert_eq!(show(&reply), show(&error(expected)), "{what}");
        assert!(bad.is_closed(), "{what}: the connection stays open");
        // What the bad client wrote before its mistake is kept, and the
        // client that did nothing wrong is still served.
        assert_eq!(bystander.call(&["GET", &key]), bulk(what), "{what}");
    }
    assert_eq!(bystander.call(&["PING"]), pong());
    assert_still_serves(&server, threads, None);
}

/// Commands before the malformed one in the same packet are run and
/// answered in order (some on other shards), then the error, then EOF.
fn pipelined_then_protocol_error(threads: usize) {
    let server = shoal(threads, &[]);
    let keys = keys_on_distinct_shards("before-error:", threads, threads);
    let mut wire = Vec::new();
    for (index, key) in keys.iter().enumerate() {
        let value = index.to_string();
        shoal_protocol::encode_request(&[b"SET", key.as_bytes(), value.as_bytes()], &mut wire);
        shoal_protocol::encode_request(&[b"GET", key.as_bytes()], &mut wire);
    }
    wire.extend_from_slice(b"*1\r\n$4\r\nPING\r\n*x\r\n");
    let mut bad = server.connect();
    bad.send_raw(&wire);
    for index in 0..keys.len() {
        assert_eq!(bad.read_reply(), Some(ok()));
        assert_eq!(bad.read_reply(), Some(bulk(&index.to_string())));
    }
    assert_eq!(bad.read_reply(), Some(pong()));
    assert_eq!(
        bad.read_reply(),
        Some(error("ERR Protocol error: invalid multibulk length"))
    );
    assert!(bad.is_closed());
    let mut other = server.connect();
    for (index, key) in keys.iter().enumerate() {
        assert_eq!(other.call(&["GET", key]), bulk(&index.to_string()));
    }
    assert_still_serves(&server, threads, None);
}

/// Lengths at the limits are valid: the server waits for the bytes
/// without replying, without reserving the declared size up front, and
/// serves others meanwhile.
fn huge_valid_lengths(threads: usize) {
    let server = shoal(threads, &[]);
    let peak_before_kib = server.peak_rss_kib();
    let mut waiting = Vec::new();
    for _ in 0..8 {
        let mut client = server.connect();
        client.send_raw(b"*1\r\n$536870912\r\nabc");
        waiting.push(client);
        let mut client = server.connect();
        client.send_raw(b"*2147483647\r\n$4\r\nECHO\r\n");
        waiting.push(client);
    }
    for client in &mut waiting {
        assert!(client.is_silent_for(Duration::from_millis(50)));
    }
    assert_still_serves(&server, threads, None);
    // Eight 512 MiB bulks and eight 2^31-argument arrays were announced;
    // reserving any of that would show as gigabytes.
    let grown_kib = server.peak_rss_kib().saturating_sub(peak_before_kib);
    assert!(grown_kib < 256 * 1024, "peak RSS grew by {grown_kib} KiB");
    for client in waiting {
        client.reset();
    }
    assert_still_serves(&server, threads, None);
}

// ---------------------------------------------------------------------------
// Command errors: arity, unknown commands, arguments that are not numbers
// ---------------------------------------------------------------------------

fn command_errors(threads: usize) {
    let server = shoal(threads, &[]);
    let mut client = server.connect();
    let pair = keys_on_distinct_shards("arity:", threads.min(2), threads);
    let expectations: &[(&[&str], &str)] = &[
        (&["GET"], "ERR wrong number of arguments for 'get' command"),
        (
            &["SET", "k"],
            "ERR wrong number of arguments for 'set' command",
        ),
        (
            &["MGET"],
            "ERR wrong number of arguments for 'mget' command",
        ),
        (
            &["RENAME", "a"],
            "ERR wrong number of arguments for 'rename' command",
        ),
        (
            &["PING", "a", "b"],
            "ERR wrong number of arguments for 'ping' command",
        ),
        (
            &["OBJECT", "ENCODING"],
            "ERR wrong number of arguments for 'object|encoding' command",
        ),
        (
            &["NOSUCH", "a", "b c"],
            "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b c' ",
        ),
        (
            &["nosuch"],
            "ERR unknown command 'nosuch', with args beginning with: ",
        ),
        (
            &["OBJECT", "FOO"],
            "ERR unknown subcommand 'FOO'. Try OBJECT HELP.",
        ),
        (
            &["INCRBY", "counter", "abc"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["INCRBY", "counter", "1.5"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["DECRBY", "counter", "9223372036854775808"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["EXPIRE", "k", "abc"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["SETEX", "k", "abc", "v"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["SET", "k", "v", "EX", "abc"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["GETRANGE", "k", "0", "abc"],
            "ERR value is not an integer or out of range",
        ),
        (
            &["INCRBYFLOAT", "k", "abc"],
            "ERR value is not a valid float",
        ),
        (&["SELECT", "99"], "ERR DB index is out of range"),
        (&["SET", "k", "v", "NX", "XX"], "ERR syntax error"),
        (&["RENAME", "no-such-key", "other"], "ERR no such key"),
    ];
    for (command, expected) in expectations {
        assert_eq!(
            show(&client.call(command)),
            show(&error(expected)),
            "{command:?}"
        );
        assert_eq!(client.call(&["PING"]), pong(), "after {command:?}");
    }
    // The same mistakes in commands whose keys span shards: they go
    // through the multi-shard path and must fail just as cleanly.
    let mut odd_mset = owned(&["MSET", &pair[0], "1"]);
    odd_mset.push(pair[pair.len() - 1].clone());
    assert_eq!(
        call(&mut client, &odd_mset),
        error("ERR wrong number of arguments for 'mset' command")
    );
    assert_eq!(call(&mut client, &owned(&["SET", &pair[0], "text"])), ok());
    assert_eq!(
        call(&mut client, &owned(&["INCR", &pair[0]])),
        error("ERR value is not an integer or out of range")
    );
    assert_eq!(
        call(&mut client, &owned(&["GET", &pair[0]])),
        bulk("text"),
        "a failed INCR changed the value"
    );
    assert_eq!(client.call(&["GET", "counter"]), Reply::Null);
    assert_still_serves(&server, threads, None);
}

/// Every command error above, and more, answered exactly as
/// `redis-server` answers it, on one connection that stays usable.
fn command_errors_match_redis(threads: usize) {
    let shoal = shoal(threads, &[]);
    let redis = ServerProcess::redis(&[]);
    let keys = keys_on_distinct_shards("compare:", threads.min(4), threads);
    let spanning = |tail: &[&str]| {
        let mut command: Vec<String> = Vec::new();
        command.extend(tail.iter().map(|arg| arg.to_string()));
        command.extend(keys.iter().cloned());
        command
    };
    let mut script: Vec<Vec<String>> = [
        &["GET"][..],
        &["SET", "k"],
        &["SET", "k", "v", "PX", "-1"],
        &["SET", "k", "v", "EX", "0"],
        &["SETRANGE", "k", "-1", "x"],
        &["SETRANGE", "k", "abc", "x"],
        &["PSETEX", "k", "abc", "v"],
        &["SETEX", "k", "-1", "v"],
        &["EXPIRE", "k", "99999999999999999"],
        &["EXPIRE", "k", "10", "FOO"],
        &["GETEX", "k", "EX", "abc"],
        &["SCAN", "abc"],
        &["SCAN", "0", "COUNT", "abc"],
        &["SCAN", "0", "COUNT", "0"],
        &["COPY", "a", "b", "DB", "abc"],
        &["MOVE", "a", "abc"],
        &["SELECT", "-1"],
        &["SELECT", "16"],
        &["CONFIG", "SET", "maxclients", "abc"],
        &["CONFIG", "SET", "no-such-option", "1"],
        &["CLIENT", "KILL", "ID", "abc"],
        &["CLIENT", "NO-EVICT", "maybe"],
        &["FLUSHALL", "x"],
        &["DBSIZE", "x"],
        &["NOSUCH"],
        &["nosuch", "arg1", "arg 2"],
        &["CLIENT", "FOO"],
        &["MSETNX", "a", "1", "b"],
        &["MSET", "a"],
        &["EXISTS"],
        &["DEL"],
        &["INCR", "a", "b"],
        &["SET", "text", "abc"],
        &["INCR", "text"],
        &["INCRBY", "text", "1"],
        &["DECR", "text"],
        &["INCRBYFLOAT", "text", "1"],
        &["APPEND", "text", "def"],
        &["GET", "text"],
    ]
    .iter()
    .map(|command| owned(command))
    .collect();
    // Multi-shard forms: a key missing its value, and a failing RENAME.
    script.push(spanning(&["MSET", "x", "1"]));
    script.push(spanning(&["MGET"]));
    script.push(owned(&["RENAME", &keys[0], &keys[keys.len() - 1]]));
    script.push(spanning(&["EXISTS"]));
    let mut to_shoal = shoal.connect();
    let mut to_redis = redis.connect();
    for command in &script {
        let from_shoal = call(&mut to_shoal, command);
        let from_redis = call(&mut to_redis, command);
        assert_eq!(show(&from_shoal), show(&from_redis), "{command:?}");
        assert_eq!(from_shoal, from_redis, "{command:?}");
    }
    assert_eq!(to_shoal.call(&["PING"]), pong());
    assert_still_serves(&shoal, threads, None);
}

#[test]
fn select_with_a_non_integer_index_answers_like_redis() {
    let shoal = shoal(1, &[]);
    let redis = ServerProcess::redis(&[]);
    let mut to_shoal = shoal.connect();
    let mut to_redis = redis.connect();
    for index in ["abc", "1.5", "01", " 1", "2147483648"] {
        let command = ["SELECT", index];
        assert_eq!(
            show(&to_shoal.call(&command)),
            show(&to_redis.call(&command)),
            "{command:?}"
        );
    }
    assert_eq!(
        to_shoal.call(&["SELECT", "abc"]),
        error("ERR value is not an integer or out of range")
    );
}

// ---------------------------------------------------------------------------
// Clients that vanish
// ---------------------------------------------------------------------------

/// Requests cut short, each followed by a FIN or a reset.
fn half_commands_then_gone(threads: usize) {
    let server = shoal(threads, &[]);
    let mut half_closed = Vec::new();
    for (index, half) in HALF_COMMANDS.iter().enumerate() {
        for reset in [false, true] {
            let mut client = server.connect();
            // A complete command first, so the connection has state.
            assert_eq!(
                client.call(&["SET", &format!("whole:{index}"), "kept"]),
                ok()
            );
            client.send_raw(half);
            // Whether the server then closes and forgets the connection is
            // checked by clients_that_leave_right_after_sending_are_forgotten.
            if reset {
                client.reset();
            } else {
                client.shutdown_write();
                half_closed.push(client);
            }
        }
    }
    let mut checker = server.connect();
    assert_eq!(checker.call(&["GET", "half"]), Reply::Null);
    for index in 0..HALF_COMMANDS.len() {
        assert_eq!(
            checker.call(&["GET", &format!("whole:{index}")]),
            bulk("kept")
        );
    }
    drop(half_closed);
    assert_still_serves(&server, threads, None);
}

/// Requests cut short: `SET half ...` never completes.
const HALF_COMMANDS: &[&[u8]] = &[
    b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nabc",
    b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n",
    b"*3\r\n$3\r\nSET\r\n$4\r\nha",
    b"*3\r\n$3",
    b"*3",
    b"SET half inline-without-line-end",
    b"SET \"half",
    b"*9\r\n$4\r\nMSET\r\n$4\r\nhalf\r\n$1\r\nv\r\n",
];

/// A client that writes its last request and half-closes (`shutdown(SHUT_WR)`,
/// as `printf 'PING\r\n' | nc -N` does) gets its replies, then the server
/// closes the connection; one that writes and resets is simply gone. Either
/// way the server forgets the client, as Redis does.
fn leave_right_after_sending(server: &ServerProcess) {
    let mut checker = server.connect();
    wait_for_connected_clients(&mut checker, 1);
    let mut inputs: Vec<&[u8]> = vec![b"PING\r\n", b"SET eof:key 1\r\nGET eof:key\r\n"];
    inputs.extend_from_slice(HALF_COMMANDS);
    for input in &inputs {
        let mut client = server.connect();
        client.send_raw(input);
        client.shutdown_write();
        assert!(
            client.drain_until_closed(Duration::from_secs(3)).is_some(),
            "{:?}: the server kept the half-closed connection open",
            String::from_utf8_lossy(input)
        );
    }
    for input in &inputs {
        let mut client = server.connect();
        client.send_raw(input);
        client.reset();
    }
    wait_for_connected_clients(&mut checker, 1);
    assert_eq!(checker.call(&["GET", "eof:key"]), bulk("1"));
    assert_eq!(checker.call(&["GET", "half"]), Reply::Null);
}

#[test]
fn redis_forgets_clients_that_leave_right_after_sending() {
    leave_right_after_sending(&ServerProcess::redis(&[]));
}

#[test]
fn clients_that_leave_right_after_sending_are_forgotten_with_epoll() {
    for threads in ["1", "4"] {
        let server = ServerProcess::shoal(&["--threads", threads, "--io-backend", "epoll"]);
        leave_right_after_sending(&server);
    }
}

/// Many pipelined commands, a good share of them for other shards or for
/// several shards at once, then the client leaves without reading.
fn pipelines_then_gone(threads: usize) {
    const CLIENTS: usize = 24;
    const ROUNDS_PER_CLIENT: usize = 300;
    let server = shoal(threads, &[]);
    let group = keys_on_distinct_shards("group:", threads, threads);
    let mut checker = server.connect();
    assert_eq!(call(&mut checker, &mset_args(&group, "initial")), ok());
    for client_index in 0..CLIENTS {
        let mut wire = Vec::new();
        for round in 0..ROUNDS_PER_CLIENT {
            let value = format!("{client_index}-{round}");
            let key = format!("pipe:{client_index}:{round}");
            let mut mset: Vec<&[u8]> = vec![b"MSET"];
            for key in &group {
                mset.push(key.as_bytes());
                mset.push(value.as_bytes());
            }
            shoal_protocol::encode_request(&mset, &mut wire);
            shoal_protocol::encode_request(&[b"SET", key.as_bytes(), b"x"], &mut wire);
            shoal_protocol::encode_request(&[b"INCR", b"pipelined-incrs"], &mut wire);
            let mut mget: Vec<&[u8]> = vec![b"MGET"];
            mget.extend(group.iter().map(|key| key.as_bytes()));
            shoal_protocol::encode_request(&mget, &mut wire);
            shoal_protocol::encode_request(
                &[b"EXISTS", group[0].as_bytes(), key.as_bytes()],
                &mut wire,
            );
        }
        // And a command cut in the middle.
        wire.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$7\r\nunended\r\n$5\r\nab");
        let mut client = server.connect();
        client.send_raw(&wire);
        match client_index % 3 {
            0 => client.reset(),
            1 => {
                // End of input while replies are still being written,
                // then the socket is closed with replies unread.
                client.shutdown_write();
                drop(client);
            }
            _ => {
                // Read one reply, then leave with the rest unread.
                assert_eq!(client.read_reply(), Some(ok()));
                client.reset();
            }
        }
    }
    wait_for_connected_clients(&mut checker, 1);
    assert_eq!(checker.call(&["PING"]), pong());
    assert_eq!(checker.call(&["GET", "unended"]), Reply::Null);
    // Whatever ran of the MSETs ran whole.
    let mut mget = vec!["MGET".to_string()];
    mget.extend(group.iter().cloned());
    let Reply::Array(values) = call(&mut checker, &mget) else {
        panic!("MGET answers an array");
    };
    assert!(
        values.iter().all(|value| *value == values[0]),
        "a vanished client's MSET was applied in part: {values:?}"
    );
    let incrs: usize = match checker.call(&["GET", "pipelined-incrs"]) {
        Reply::Null => 0,
        Reply::Bulk(count) => String::from_utf8_lossy(&count).parse().expect("a counter"),
        other => panic!("GET pipelined-incrs: {}", show(&other)),
    };
    assert!(incrs <= CLIENTS * ROUNDS_PER_CLIENT, "{incrs} INCRs");
    assert_still_serves(&server, threads, None);
}

// ---------------------------------------------------------------------------
// A client that never reads
// ---------------------------------------------------------------------------

/// 100 KB: with the 1 MB limit, eleven unsent replies are over it.
const BIG_VALUE_BYTES: usize = 100_000;

fn never_reads(threads: usize) {
    const GETS: usize = 300;
    let server = shoal(threads, &["--client-output-buffer-limit", "normal 1mb 0 0"]);
    let big = "v".repeat(BIG_VALUE_BYTES);
    let mut other = server.connect();
    assert_eq!(other.call(&["SET", "big", &big]), ok());
    let mut hog = server.connect();
    let mut wire = Vec::new();
    for _ in 0..GETS {
        shoal_protocol::encode_request(&[b"GET", b"big"], &mut wire);
    }
    // The server may close the connection at the limit while the last
    // requests are still being written: that write then fails, as it should.
    let _ = hog.try_send_raw(&wire);
    // Give the server time to run the pipeline and fill the socket.
    std::thread::sleep(Duration::from_millis(300));
    // The others are served meanwhile, big replies included.
    assert_eq!(other.call(&["GET", "big"]), bulk(&big));
    let read_bytes = hog
        .drain_until_closed(Duration::from_secs(10))
        .expect("the hog is disconnected");
    // Shoal sends what the socket takes before it sees the limit passed
    // (Redis sends nothing: it checks before writing); either way far
    // less than the 30 MB asked for arrives.
    assert!(
        read_bytes < GETS * BIG_VALUE_BYTES / 2,
        "{read_bytes} bytes reached the client that never read"
    );
    assert_eq!(
        other.call(&["STRLEN", "big"]),
        Reply::Integer(BIG_VALUE_BYTES as i64)
    );
    wait_for_connected_clients(&mut other, 1);
    assert_still_serves(&server, threads, None);
    // A client that reads its replies one by one is never near the limit.
    let mut reader = server.connect();
    for _ in 0..20 {
        assert_eq!(reader.call(&["GET", "big"]), bulk(&big));
    }
}

#[test]
fn output_limit_bounds_the_memory_a_client_that_never_reads_can_use() {
    const GETS: usize = 2000;
    let server = shoal(1, &["--client-output-buffer-limit", "normal 1mb 0 0"]);
    let big = "v".repeat(BIG_VALUE_BYTES);
    let mut other = server.connect();
    assert_eq!(other.call(&["SET", "big", &big]), ok());
    let peak_before_kib = server.peak_rss_kib();
    // Keep the only worker busy so that the whole pipeline is in the
    // socket when it next reads: one read batch, as a fast client gets.
    other.send(&[b"DEBUG", b"SLEEP", b"0.5"]);
    std::thread::sleep(Duration::from_millis(100));
    let mut hog = server.connect();
    let mut wire = Vec::new();
    for _ in 0..GETS {
        shoal_protocol::encode_request(&[b"GET", b"big"], &mut wire);
    }
    hog.send_raw(&wire);
    assert_eq!(other.read_reply(), Some(ok()));
    assert!(hog.drain_until_closed(Duration::from_secs(10)).is_some());
    let grown_kib = server.peak_rss_kib().saturating_sub(peak_before_kib);
    // The limit is 1 MB; allow the socket buffers and slack, not 200 MB.
    assert!(
        grown_kib < 32 * 1024,
        "peak RSS grew by {grown_kib} KiB for a client limited to 1 MB"
    );
    assert_still_serves(&server, 1, None);
}

// ---------------------------------------------------------------------------
// maxclients, timeout, requirepass
// ---------------------------------------------------------------------------

/// With room for two clients, the third is refused with Redis's error and
/// closed; once one leaves, a new one gets in. Returns the refusal.
fn refuse_third_client(server: &ServerProcess) -> Reply {
    let mut first = server.connect();
    // The start-up probe connection may not be gone yet.
    wait_for_connected_clients(&mut first, 1);
    let mut second = server.connect();
    assert_eq!(second.call(&["PING"]), pong());
    let mut third = server.connect();
    let refusal = third.read_reply().expect("a reply before the close");
    assert!(third.is_closed(), "the refused connection stays open");
    assert_eq!(first.call(&["PING"]), pong());
    assert_eq!(second.call(&["PING"]), pong());
    drop(first);
    wait_for_room(server);
    refusal
}

/// Waits until a new client is served again after clients left a full
/// server (the server learns of their leaving a moment later).
fn wait_for_room(server: &ServerProcess) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut next = server.connect();
        next.send(&[b"PING"]);
        match next.read_reply() {
            Some(reply) if reply == pong() => return,
            other => assert!(
                Instant::now() < deadline,
                "no room after clients left: {other:?}"
            ),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn maxclients(threads: usize) {
    let shoal = shoal(threads, &["--maxclients", "2"]);
    let redis = ServerProcess::redis(&["--maxclients", "2"]);
    let refusal = refuse_third_client(&shoal);
    assert_eq!(refusal, error("ERR max number of clients reached"));
    assert_eq!(refusal, refuse_third_client(&redis));
}

/// The descriptor limit the low-ulimit test starts servers under.
const LOW_OPEN_FILES: u64 = 48;

/// Fills `server` to its `maxclients`, checks that the next connections
/// are refused and closed while the admitted ones are served, and that
/// room comes back once they leave: its `maxclients` and the refusal.
fn fill_to_maxclients(server: &ServerProcess) -> (i64, Reply) {
    let mut first = server.connect();
    // The start-up probe connection may not be gone yet.
    wait_for_connected_clients(&mut first, 1);
    let max_clients = match first.call(&["CONFIG", "GET", "maxclients"]) {
        Reply::Array(pair) => match pair.get(1) {
            Some(Reply::Bulk(value)) => String::from_utf8_lossy(value).parse().expect("a number"),
            other => panic!("maxclients is {other:?}"),
        },
        other => panic!("CONFIG GET maxclients answered {other:?}"),
    };
    let mut admitted = vec![first];
    for _ in 1..max_clients {
        let mut client = server.connect();
        assert_eq!(client.call(&["PING"]), pong());
        admitted.push(client);
    }
    let mut refusals = Vec::new();
    for _ in 0..5 {
        let mut refused = server.connect();
        refusals.push(refused.read_reply().expect("a reply before the close"));
        assert!(refused.is_closed(), "a refused connection stays open");
    }
    assert!(
        refusals.windows(2).all(|pair| pair[0] == pair[1]),
        "{refusals:?}"
    );
    for client in &mut admitted {
        assert_eq!(client.call(&["PING"]), pong());
    }
    drop(admitted);
    wait_for_room(server);
    (max_clients, refusals.swap_remove(0))
}

/// Under `ulimit -n 48` both servers lower maxclients to what the
/// descriptors allow (Redis keeps 32 for itself; Shoal as many for its
/// first worker and 4 for each further one), refuse the clients past it
/// with an error instead of leaving them unanswered in the listen backlog,
/// and refuse a CONFIG SET that would need more, naming what fits.
fn maxclients_under_low_ulimit(threads: usize) {
    let threads_text = threads.to_string();
    let limit = Some(LOW_OPEN_FILES);
    let shoal = ServerProcess::shoal_with_open_files(limit, &["--threads", &threads_text]);
    let redis = ServerProcess::redis_with_open_files(limit, &[]);
    let (shoal_max, shoal_refusal) = fill_to_maxclients(&shoal);
    let (redis_max, redis_refusal) = fill_to_maxclients(&redis);
    assert_eq!(shoal_refusal, error("ERR max number of clients reached"));
    assert_eq!(shoal_refusal, redis_refusal);
    assert_eq!(redis_max, 16);
    assert_eq!(shoal_max, 16 - 4 * (threads as i64 - 1));
    let raise = ["CONFIG", "SET", "maxclients", "1000"];
    let try_with = |max: i64| {
        error(&format!(
            "ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating \
             system is not able to handle the specified number of clients, try with {max}"
        ))
    };
    assert_eq!(shoal.connect().call(&raise), try_with(shoal_max));
    assert_eq!(redis.connect().call(&raise), try_with(redis_max));
    let lower = ["CONFIG", "SET", "maxclients", "3"];
    assert_eq!(shoal.connect().call(&lower), ok());
    assert_eq!(redis.connect().call(&lower), ok());
}

fn idle_timeout(threads: usize) {
    let server = shoal(threads, &["--timeout", "1"]);
    let mut idle = server.connect();
    let mut silent = server.connect();
    let mut busy = server.connect();
    assert_eq!(idle.call(&["SET", "idle", "1"]), ok());
    let idle_since = Instant::now();
    // A client that keeps sending is never idle for a second.
    for _ in 0..8 {
        assert_eq!(busy.call(&["PING"]), pong());
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(idle.is_closed());
    assert!(silent.is_closed());
    let idle_for = idle_since.elapsed();
    assert!(
        idle_for >= Duration::from_millis(900) && idle_for < Duration::from_secs(6),
        "closed after {idle_for:?} idle"
    );
    assert_eq!(busy.call(&["GET", "idle"]), bulk("1"));
    drop(busy);
    // Closing is measured from the last command, checked every 100 ms.
    let mut timed = server.connect();
    assert_eq!(timed.call(&["PING"]), pong());
    let since = Instant::now();
    assert!(timed.is_closed());
    let after = since.elapsed();
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_millis(3000),
        "closed after {after:?}"
    );
    // Everyone else has gone; a new client is served.
    let mut client = server.connect();
    assert_eq!(client.call(&["PING"]), pong());
}

/// What an unauthenticated client meets, then AUTH, as replies.
fn requirepass_script(server: &ServerProcess) -> Vec<Reply> {
    let mut replies = Vec::new();
    let mut client = server.connect();
    let mut other = server.connect();
    let commands: &[&[&str]] = &[
        &["PING"],
        &["GET", "k"],
        &["SET", "k", "v"],
        &["SELECT", "1"],
        &["CLIENT", "ID"],
        &["NOSUCH", "a"],
        &["GET"],
        &["AUTH"],
        &["AUTH", "wrong"],
        &["AUTH", "default", "wrong"],
        &["AUTH", "nobody", "secret"],
        &["AUTH", "a", "b", "c"],
        &["HELLO", "3", "AUTH", "default", "wrong"],
        &["GET", "k"],
        &["AUTH", "secret"],
        &["PING"],
        &["SET", "k", "v"],
        &["GET", "k"],
    ];
    for command in commands {
        replies.push(client.call(command));
    }
    // Authentication belongs to the connection.
    replies.push(other.call(&["GET", "k"]));
    replies.push(other.call(&["AUTH", "default", "secret"]));
    replies.push(other.call(&["GET", "k"]));
    // Before AUTH, Redis's tighter protocol limits apply.
    for raw in [&b"*11\r\n"[..], b"*1\r\n$16385\r\n"] {
        let mut limited = server.connect();
        limited.send_raw(raw);
        replies.push(limited.read_reply().expect("an error"));
        assert!(limited.is_closed());
    }
    replies
}

fn requirepass(threads: usize) {
    let shoal = shoal(threads, &["--requirepass", "secret"]);
    let redis = ServerProcess::redis(&["--requirepass", "secret"]);
    let from_shoal = requirepass_script(&shoal);
    let noauth = error("NOAUTH Authentication required.");
    let wrongpass = error("WRONGPASS invalid username-password pair or user is disabled.");
    assert_eq!(from_shoal[0], noauth);
    assert_eq!(from_shoal[1], noauth);
    assert_eq!(from_shoal[2], noauth);
    assert_eq!(
        from_shoal[5],
        error("ERR unknown command 'NOSUCH', with args beginning with: 'a' ")
    );
    assert_eq!(from_shoal[8], wrongpass);
    assert_eq!(from_shoal[9], wrongpass);
    assert_eq!(from_shoal[14], ok());
    assert_eq!(from_shoal[17], bulk("v"));
    assert_eq!(
        from_shoal[from_shoal.len() - 2],
        error("ERR Protocol error: unauthenticated multibulk length")
    );
    let from_redis = requirepass_script(&redis);
    assert_eq!(
        from_shoal.iter().map(show).collect::<Vec<_>>(),
        from_redis.iter().map(show).collect::<Vec<_>>(),
        "replies differ from redis-server's"
    );
    assert_eq!(from_shoal, from_redis);
    assert_still_serves(&shoal, threads, Some("secret"));
}

#[test]
fn hello_before_auth_answers_like_redis() {
    let shoal = shoal(1, &["--requirepass", "secret"]);
    let redis = ServerProcess::redis(&["--requirepass", "secret"]);
    let from_shoal = shoal.connect().call(&["HELLO"]);
    let from_redis = redis.connect().call(&["HELLO"]);
    assert_eq!(show(&from_shoal), show(&from_redis));
}

// ---------------------------------------------------------------------------
// Shutdown
// ---------------------------------------------------------------------------

/// How a test tells the server to stop.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Command,
    Signal(libc::c_int),
}

/// The server, busy with clients and keys on every shard, is told to stop;
/// it exits with status 0 and every connection is closed.
fn stops_cleanly(threads: usize, stop: Stop) {
    let mut server = shoal(threads, &[]);
    let keys = keys_on_distinct_shards("stop:", threads, threads);
    let mut idle = server.connect();
    assert_eq!(idle.call(&["PING"]), pong());
    let mut writer = server.connect();
    assert_eq!(call(&mut writer, &mset_args(&keys, "v")), ok());
    // A client in the middle of a command when the server stops.
    let mut halfway = server.connect();
    halfway.send_raw(b"*2\r\n$3\r\nGET\r\n");
    match stop {
        Stop::Command => {
            let mut admin = server.connect();
            admin.send(&[b"SHUTDOWN", b"NOSAVE"]);
            // Redis closes without a reply when SHUTDOWN succeeds.
            assert!(admin.is_closed(), "SHUTDOWN replied");
        }
        Stop::Signal(signal) => server.signal(signal),
    }
    let status = server
        .wait_exit(EXIT_TIMEOUT)
        .unwrap_or_else(|| panic!("still running {EXIT_TIMEOUT:?} after {stop:?}"));
    assert_eq!(status.code(), Some(0), "{stop:?}: {status:?}");
    assert!(idle.is_closed());
    assert!(writer.is_closed());
    assert!(halfway.is_closed());
}

fn shutdown_command(threads: usize) {
    stops_cleanly(threads, Stop::Command);
}

fn sigterm(threads: usize) {
    stops_cleanly(threads, Stop::Signal(libc::SIGTERM));
}

fn sigint(threads: usize) {
    stops_cleanly(threads, Stop::Signal(libc::SIGINT));
}

// ---------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------

/// Runs a start-up that must fail: exit status 1 and a message with
/// every one of `mentions`.
fn assert_refused(args: &[&str], mentions: &[&str]) {
    let exited = shoal_exit(args, EXIT_TIMEOUT);
    assert_eq!(exited.status.code(), Some(1), "{args:?}: {exited:?}");
    for mention in mentions {
        assert!(
            exited.stderr.contains(mention),
            "{args:?}: {mention:?} not in {:?}",
            exited.stderr
        );
    }
}

fn start_up_errors(threads: usize) {
    let threads = threads.to_string();
    let port = util::free_port().to_string();
    let base = [
        "--port",
        port.as_str(),
        "--bind",
        "127.0.0.1",
        "--threads",
        threads.as_str(),
    ];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        args
    };
    assert_refused(&with(&["--prot", "1"]), &["unknown option 'prot'"]);
    assert_refused(&with(&["--port", "abc"]), &["'port'", "abc"]);
    assert_refused(&with(&["--port", "70000"]), &["'port'", "70000"]);
    assert_refused(&with(&["--maxclients", "0"]), &["'maxclients'"]);
    assert_refused(&with(&["--timeout", "-5"]), &["'timeout'", "-5"]);
    assert_refused(
        &with(&["--appendonly", "maybe"]),
        &["'appendonly'", "maybe"],
    );
    assert_refused(
        &with(&["--client-output-buffer-limit", "normal 1mb"]),
        &["'client-output-buffer-limit'"],
    );
    assert_refused(&with(&["--port"]), &["'port'"]);
    assert_refused(&["--threads", "abc"], &["'threads'", "abc"]);
    // A configuration file: the message names the option and the line.
    let file = TempFile::new(
        "bad-conf",
        &format!("port {port}\nbind 127.0.0.1\nno-such-option yes\n"),
    );
    let path = file.path.to_str().expect("a UTF-8 path");
    assert_refused(
        &[path, "--threads", &threads],
        &["'no-such-option'", "line 3"],
    );
    let file = TempFile::new("bad-value", "maxclients many\n");
    let path = file.path.to_str().expect("a UTF-8 path");
    assert_refused(&[path], &["'maxclients'", "many", "line 1"]);
    // A port another server listens on is refused, as redis-server refuses
    // it, even though the workers' own sockets could share it.
    let running = shoal(1, &[]);
    let taken = running.port.to_string();
    assert_refused(
        &[
            "--port",
            &taken,
            "--bind",
            "127.0.0.1",
            "--threads",
            &threads,
        ],
        &["Address already in use", &taken],
    );
    assert_eq!(running.connect().call(&["PING"]), pong());
    let missing = std::env::temp_dir().join("shoal-test-no-such-file.conf");
    let missing = missing.to_str().expect("a UTF-8 path");
    assert_refused(&[missing], &["can't open config file", "no-such-file"]);
}

fn config_file(threads: usize) {
    let port = util::free_port();
    let file = TempFile::new(
        "redis-conf",
        &format!(
            "# A redis.conf-style file written by a test.\n\
             port {port}\n\
             bind 127.0.0.1\n\
             requirepass \"file secret\"\n\
             \n\
             # Persistence that Shoal does not have must still be accepted.\n\
             save \"\"\n\
             appendonly no\n\
             appendfsync everysec\n\
             dbfilename dump.rdb\n\
             timeout 0\n\
             tcp-keepalive 300\n\
             databases 16\n"
        ),
    );
    let threads_text = threads.to_string();
    let server = ServerProcess::shoal_with_config_file(
        &file.path,
        port,
        &["--threads", &threads_text, "--timeout", "7"],
    );
    let mut client = server.connect();
    assert_eq!(
        client.call(&["PING"]),
        error("NOAUTH Authentication required.")
    );
    assert_eq!(
        client.call(&["AUTH", "wrong"]),
        error("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(client.call(&["AUTH", "file secret"]), ok());
    let config_get = |client: &mut Client, name: &str| client.call(&["CONFIG", "GET", name]);
    assert_eq!(
        config_get(&mut client, "port"),
        Reply::Array(vec![bulk("port"), bulk(&port.to_string())])
    );
    // The command line comes after the file and wins.
    assert_eq!(
        config_get(&mut client, "timeout"),
        Reply::Array(vec![bulk("timeout"), bulk("7")])
    );
    assert_eq!(
        config_get(&mut client, "appendonly"),
        Reply::Array(vec![bulk("appendonly"), bulk("no")])
    );
    assert_eq!(
        config_get(&mut client, "save"),
        Reply::Array(vec![bulk("save"), bulk("")])
    );
    assert_still_serves(&server, threads, Some("file secret"));
}

#[test]
fn a_client_above_the_soft_output_limit_for_too_long_is_disconnected() {
    const GETS: usize = 300;
    // No hard limit; 64 KiB may be exceeded for at most one second.
    let server = shoal(1, &["--client-output-buffer-limit", "normal 0 64kb 1"]);
    let big = "v".repeat(BIG_VALUE_BYTES);
    let mut other = server.connect();
    assert_eq!(other.call(&["SET", "big", &big]), ok());
    let mut hog = server.connect();
    let mut wire = Vec::new();
    for _ in 0..GETS {
        shoal_protocol::encode_request(&[b"GET", b"big"], &mut wire);
    }
    hog.send_raw(&wire);
    // Still connected well inside the allowed second...
    std::thread::sleep(Duration::from_millis(300));
    let info = other.call(&["INFO", "clients"]);
    assert_eq!(
        info_field(&info, "connected_clients"),
        Some(2),
        "the hog is kept while within the soft limit's time"
    );
    // ...and gone after it.
    wait_for_connected_clients(&mut other, 1);
    assert!(hog.drain_until_closed(Duration::from_secs(10)).is_some());
    assert_still_serves(&server, 1, None);
}
