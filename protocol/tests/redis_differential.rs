//! Differential test: the same malformed requests go to Debian's
//! `redis-server` and to Shoal's parser, and the error text must match.
//!
//! Needs `redis-server` on the PATH (`apt-get install redis-server`).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shoal_protocol::{parse_in_pieces, ProtocolError, Reply, ReplyParser, RequestParser};

/// A `redis-server` started for this test and killed, by its PID, on drop.
struct RedisServer {
    child: Child,
    port: u16,
}

/// Tries at starting redis-server on a fresh port.
const START_ATTEMPTS: usize = 5;

#[path = "../../tests/util/ports.rs"]
mod ports;
use ports::{free_port, try_connect_stream};

impl RedisServer {
    fn start(extra: &[&str]) -> RedisServer {
        // Another test may take the port between the check and the start:
        // that redis-server exits, and we try again on the next port.
        for _ in 0..START_ATTEMPTS {
            if let Some(server) = Self::try_start(extra) {
                return server;
            }
        }
        panic!("redis-server did not start in {START_ATTEMPTS} attempts");
    }

    fn try_start(extra: &[&str]) -> Option<RedisServer> {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the differential test (apt-get install redis-server)");
        let mut server = RedisServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if matches!(server.child.try_wait(), Ok(Some(_))) {
                return None;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                // Listening, and it is ours: the child is still running.
                return matches!(server.child.try_wait(), Ok(None)).then_some(server);
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start listening on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `input` on a new connection and returns every reply Redis sent
    /// and whether it closed the connection within the wait.
    fn exchange(&self, input: &[u8]) -> (Vec<Reply>, bool) {
        let mut stream = try_connect_stream(self.port).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("timeout");
        stream.write_all(input).expect("send");
        let mut received = Vec::new();
        let mut chunk = [0u8; 4096];
        let closed = loop {
            match stream.read(&mut chunk) {
                Ok(0) => break true,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    break false
                }
                Err(e) if e.kind() == ErrorKind::ConnectionReset => break true,
                Err(e) => panic!("reading from redis-server: {e}"),
            }
        };
        let mut replies = Vec::new();
        let mut rest = &received[..];
        while let Some((reply, used)) = ReplyParser::default()
            .parse(rest)
            .expect("redis sends valid RESP")
        {
            replies.push(reply);
            rest = &rest[used..];
        }
        (replies, closed)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What Shoal's parser makes of `input`: how many commands, and the error
/// reply it would send (if any).
fn shoal_view(input: &[u8], auth_required: bool) -> (usize, Option<ProtocolError>) {
    let mut parser = RequestParser::default();
    parser.set_auth_required(auth_required);
    let (commands, error) = parse_in_pieces(&mut parser, input, &[]);
    (commands.len(), error)
}

fn malformed_inputs() -> Vec<Vec<u8>> {
    let mut inputs: Vec<Vec<u8>> = [
        &b"*abc\r\n"[..],
        b"*-\r\n",
        b"*-0\r\n",
        b"*01\r\n",
        b"* 1\r\n",
        b"*+1\r\n",
        b"*2147483648\r\n",
        b"*9223372036854775808\r\n",
        b"*1\r\n$-1\r\n",
        b"*1\r\n$abc\r\n",
        b"*1\r\n$+4\r\n",
        b"*1\r\n$ 4\r\n",
        b"*1\r\n$4x\r\n",
        b"*1\r\n$536870913\r\n",
        b"*1\r\n$9223372036854775808\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n",
        b"*1\r\nfoo\r\n",
        b"*1\r\n:1\r\n",
        b"*1\r\n\r\n\r\n",
        b"*1\r\n\n\r\n",
        b"*2\r\n$4\r\nPING\r\n+OK\r\n",
        b"PING\r\n*x\r\n",
        b"*1\r\n$4\r\nPING\r\n*1\r\nfoo\r\n",
        b"PING\r\nPING\r\n*1\r\n$4\r\nPING\r\n*1\r\n#\r\n",
        b"SET \"abc\r\n",
        b"SET 'abc\r\n",
        b"SET 'a'b\r\n",
        b"GET \"a\"b\r\n",
        b"ECHO \"\\\r\n",
        b"PING\r\nECHO \"a\r\n",
    ]
    .iter()
    .map(|input| input.to_vec())
    .collect();
    inputs.push(vec![b'a'; 64 * 1024 + 1]);
    let mut long_count = b"*".to_vec();
    long_count.extend(std::iter::repeat_n(b'1', 64 * 1024 + 1));
    inputs.push(long_count);
    let mut long_bulk = b"*1\r\n$".to_vec();
    long_bulk.extend(std::iter::repeat_n(b'1', 64 * 1024 + 1));
    inputs.push(long_bulk);
    inputs
}

/// Requests Redis neither answers nor rejects yet: it waits for the rest.
fn incomplete_inputs() -> Vec<&'static [u8]> {
    vec![
        b"*1\r\n$4\r\nPI",
        b"*1\r",
        b"*1\r\n$4",
        b"PING",
        b"*1\r\n$100\r\n",
        b"*0\r\n*-1\r\n\r\n\r\n",
    ]
}

fn assert_same(redis: &RedisServer, input: &[u8], auth_required: bool) {
    let shown = String::from_utf8_lossy(&input[..input.len().min(60)]).into_owned();
    let (replies, closed) = redis.exchange(input);
    let (commands, error) = shoal_view(input, auth_required);
    let error =
        error.unwrap_or_else(|| panic!("Shoal accepted {shown:?}; Redis replied {replies:?}"));
    assert!(closed, "Redis kept the connection open after {shown:?}");
    let (last, before) = replies
        .split_last()
        .unwrap_or_else(|| panic!("Redis sent nothing for {shown:?}"));
    let expected_text = error.reply_text().expect("these errors have replies");
    assert_eq!(
        last,
        &Reply::Error(expected_text.as_bytes().to_vec()),
        "error text for {shown:?}"
    );
    assert_eq!(
        before.len(),
        commands,
        "commands answered before the error for {shown:?}"
    );
}

#[test]
fn protocol_errors_match_redis_server() {
    let redis = RedisServer::start(&[]);
    for input in malformed_inputs() {
        assert_same(&redis, &input, false);
    }
}

#[test]
fn incomplete_requests_wait_in_both() {
    let redis = RedisServer::start(&[]);
    for input in incomplete_inputs() {
        let (replies, closed) = redis.exchange(input);
        let (commands, error) = shoal_view(input, false);
        assert_eq!(error, None, "{:?}", String::from_utf8_lossy(input));
        assert!(
            !closed,
            "Redis closed on {:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(
            replies.len(),
            commands,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn unauthenticated_limits_match_redis_server() {
    let redis = RedisServer::start(&["--requirepass", "secret"]);
    for input in [&b"*11\r\n"[..], b"*1\r\n$16385\r\n"] {
        assert_same(&redis, input, true);
    }
}
