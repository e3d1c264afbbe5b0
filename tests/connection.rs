//! The connection commands against a running `shoal-server`, and the same
//! commands compared with `redis-server` reply for reply.

mod util;

use shoal_protocol::Reply;
use util::ServerProcess;

fn bulk(text: &str) -> Reply {
    Reply::Bulk(text.as_bytes().to_vec())
}

#[test]
fn ping_and_echo_answer() {
    let server = ServerProcess::shoal(&[]);
    let mut client = server.connect();
    assert_eq!(client.call(&["PING"]), Reply::Simple(b"PONG".to_vec()));
    assert_eq!(client.call(&["ping", "hello"]), bulk("hello"));
    assert_eq!(client.call(&["ECHO", "a b"]), bulk("a b"));
}

#[test]
fn quit_replies_ok_then_closes() {
    let server = ServerProcess::shoal(&[]);
    let mut client = server.connect();
    assert_eq!(client.call(&["QUIT"]), Reply::Simple(b"OK".to_vec()));
    assert!(client.is_closed());
}

#[test]
fn a_protocol_error_is_answered_then_that_connection_closes() {
    let server = ServerProcess::shoal(&[]);
    let mut bad = server.connect();
    let mut good = server.connect();
    bad.send_raw(b"*1\r\n$-5\r\n");
    assert_eq!(
        bad.read_reply(),
        Some(Reply::Error(
            b"ERR Protocol error: invalid bulk length".to_vec()
        ))
    );
    assert!(bad.is_closed());
    assert_eq!(good.call(&["PING"]), Reply::Simple(b"PONG".to_vec()));
}

#[test]
fn pipelined_inline_and_resp_commands_are_answered_in_order() {
    let server = ServerProcess::shoal(&[]);
    let mut client = server.connect();
    client.send_raw(b"PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\nECHO \"y z\"\r\n");
    assert_eq!(client.read_reply(), Some(Reply::Simple(b"PONG".to_vec())));
    assert_eq!(client.read_reply(), Some(bulk("x")));
    assert_eq!(client.read_reply(), Some(bulk("y z")));
}

#[test]
fn replies_match_redis_server() {
    let shoal = ServerProcess::shoal(&[]);
    let redis = ServerProcess::redis(&[]);
    let script: &[&[&str]] = &[
        &["PING"],
        &["PING", "message"],
        &["PING", "a", "b"],
        &["ECHO"],
        &["ECHO", ""],
        &["ECHO", "a", "b"],
        &["NOSUCHCOMMAND"],
        &["nosuchcommand", "arg1", "arg 2"],
        &["nosuch", &"x".repeat(200), "y"],
    ];
    let mut to_shoal = shoal.connect();
    let mut to_redis = redis.connect();
    for command in script {
        assert_eq!(
            to_shoal.call(command),
            to_redis.call(command),
            "{command:?}"
        );
    }
}

#[test]
fn info_reports_the_recent_command_rate() {
    let server = ServerProcess::shoal(&["--threads", "2"]);
    let mut client = server.connect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        for _ in 0..200 {
            client.call(&["PING"]);
        }
        let (Reply::Bulk(text) | Reply::Verbatim { text, .. }) = client.call(&["INFO", "stats"])
        else {
            panic!("INFO answers text");
        };
        let text = String::from_utf8_lossy(&text).into_owned();
        let rate: u64 = text
            .lines()
            .find_map(|line| line.strip_prefix("instantaneous_ops_per_sec:"))
            .and_then(|value| value.trim().parse().ok())
            .expect("INFO stats has instantaneous_ops_per_sec");
        if rate > 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "instantaneous_ops_per_sec stayed 0"
        );
    }
}
