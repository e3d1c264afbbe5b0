//! Shared helpers for integration tests: start real servers on free ports
//! (killed by PID when dropped) and talk RESP to them over TCP.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shoal_protocol::{encode_request, Reply, ReplyParser};

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a test waits for one reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// A server process started by a test, killed and reaped on drop.
pub struct ServerProcess {
    child: Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

impl ServerProcess {
    fn spawn(program: &str, args: &[&str], port: u16) -> ServerProcess {
        let child = Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {program}: {error}"));
        let server = ServerProcess { child, port };
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{program} did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Starts the `shoal-server` built with this test on a free port.
    pub fn shoal(extra: &[&str]) -> ServerProcess {
        let port = free_port();
        let port_text = port.to_string();
        let mut args = vec!["--port", &port_text, "--bind", "127.0.0.1"];
        args.extend_from_slice(extra);
        ServerProcess::spawn(env!("CARGO_BIN_EXE_shoal-server"), &args, port)
    }

    /// Starts Debian's `redis-server` (persistence off) on a free port.
    pub fn redis(extra: &[&str]) -> ServerProcess {
        let port = free_port();
        let port_text = port.to_string();
        let mut args = vec![
            "--port",
            &port_text,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ];
        args.extend_from_slice(extra);
        ServerProcess::spawn("redis-server", &args, port)
    }

    /// A new client connection.
    pub fn connect(&self) -> Client {
        Client::connect(self.port)
    }

    /// The PID, for reading its CPU time or sending signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A RESP client over one TCP connection.
pub struct Client {
    stream: TcpStream,
    received: Vec<u8>,
}

impl Client {
    /// Connects to 127.0.0.1:`port`.
    pub fn connect(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .expect("read timeout");
        stream.set_nodelay(true).expect("nodelay");
        Client {
            stream,
            received: Vec::new(),
        }
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Sends one command as a RESP array.
    pub fn send(&mut self, args: &[&[u8]]) {
        let mut wire = Vec::new();
        encode_request(args, &mut wire);
        self.send_raw(&wire);
    }

    /// Reads the next reply; `None` if the server closed the connection.
    pub fn read_reply(&mut self) -> Option<Reply> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            if let Some((reply, used)) = ReplyParser::default()
                .parse(&self.received)
                .expect("valid RESP")
            {
                self.received.drain(..used);
                return Some(reply);
            }
            assert!(
                Instant::now() < deadline,
                "no reply within {REPLY_TIMEOUT:?}"
            );
            let mut chunk = [0u8; 16 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(read) => self.received.extend_from_slice(&chunk[..read]),
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) if error.kind() == ErrorKind::ConnectionReset => return None,
                Err(error) => panic!("reading a reply: {error}"),
            }
        }
    }

    /// Sends one command and returns its reply.
    pub fn call(&mut self, args: &[&str]) -> Reply {
        let args: Vec<&[u8]> = args.iter().map(|arg| arg.as_bytes()).collect();
        self.send(&args);
        self.read_reply().expect("the server closed the connection")
    }

    /// Whether the server closed the connection (reads until EOF or timeout).
    pub fn is_closed(&mut self) -> bool {
        self.read_reply().is_none()
    }
}
