//! Opening a connection and setting it up (AUTH, HELLO, SELECT) with
//! blocking I/O, and the buffers a running connection reads and writes.
//!
//! Setup is blocking and done before the clock starts; the measured part
//! runs the socket non-blocking under `mio` (see `engine`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::args::{Config, Family, Protocol};
use crate::error::{BenchError, Result};
use crate::resp::{scan_reply, ReplyKind, REPLY_BYTES_MAX};

/// Initial read buffer per connection; it doubles for larger replies, up
/// to [`REPLY_BYTES_MAX`].
pub const READ_BUFFER_BYTES: usize = 16 * 1024;
/// How long a setup command may take before the connection is given up.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The address to connect to, by the family asked for.
pub fn resolve(config: &Config) -> Result<SocketAddr> {
    let addrs = (config.host.as_str(), config.port)
        .to_socket_addrs()
        .map_err(|e| BenchError::io(format!("resolving {}:{}", config.host, config.port), e))?;
    let mut addrs = addrs.filter(|addr| match config.family {
        Family::Any => true,
        Family::V4 => addr.is_ipv4(),
        Family::V6 => addr.is_ipv6(),
    });
    addrs.next().ok_or_else(|| {
        BenchError::usage(format!(
            "{}:{} has no address of the family asked for",
            config.host, config.port
        ))
    })
}

/// Connects to `addr` and runs the setup commands the flags ask for.
pub fn connect(addr: SocketAddr, config: &Config) -> Result<TcpStream> {
    let stream = match config.connect_timeout {
        Some(timeout) => TcpStream::connect_timeout(&addr, timeout),
        None => TcpStream::connect(addr),
    }
    .map_err(|e| BenchError::io(format!("connecting to {addr}"), e))?;
    stream
        .set_nodelay(true)
        .map_err(|e| BenchError::io("setting TCP_NODELAY", e))?;
    stream
        .set_read_timeout(Some(SETUP_TIMEOUT))
        .map_err(|e| BenchError::io("setting a read timeout", e))?;
    let mut setup = Setup {
        stream,
        buf: Vec::new(),
    };
    if let Some(auth) = &config.auth {
        match auth.split_once(':') {
            Some((user, password)) => setup.call(&[b"AUTH", user.as_bytes(), password.as_bytes()]),
            None => setup.call(&[b"AUTH", auth.as_bytes()]),
        }?;
    }
    match config.protocol {
        Protocol::Redis => {}
        Protocol::Resp2 => setup.call(&[b"HELLO", b"2"])?,
        Protocol::Resp3 => setup.call(&[b"HELLO", b"3"])?,
    }
    if let Some(db) = config.select_db {
        setup.call(&[b"SELECT", db.to_string().as_bytes()])?;
    }
    setup
        .stream
        .set_read_timeout(None)
        .map_err(|e| BenchError::io("clearing the read timeout", e))?;
    Ok(setup.stream)
}

/// A blocking connection for setup and for one-off commands (INFO).
#[derive(Debug)]
pub struct Setup {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Setup {
    /// Connects with the flags' AUTH and SELECT, speaking RESP2.
    pub fn open(config: &Config) -> Result<Setup> {
        let mut plain = config.clone();
        plain.protocol = Protocol::Redis;
        let stream = connect(resolve(&plain)?, &plain)?;
        stream
            .set_read_timeout(Some(SETUP_TIMEOUT))
            .map_err(|e| BenchError::io("setting a read timeout", e))?;
        Ok(Setup {
            stream,
            buf: Vec::new(),
        })
    }

    /// Sends one command; fails if the reply is an error.
    pub fn call(&mut self, args: &[&[u8]]) -> Result<()> {
        self.request(args).map(|_| ())
    }

    /// Sends one command and returns its reply's bytes, as sent.
    pub fn request(&mut self, args: &[&[u8]]) -> Result<Vec<u8>> {
        let name = String::from_utf8_lossy(args[0]).into_owned();
        let mut request = Vec::new();
        shoal_protocol::encode_request(args, &mut request);
        self.stream
            .write_all(&request)
            .map_err(|e| BenchError::io(format!("sending {name}"), e))?;
        let (reply, kind) = read_reply(&mut self.stream, &mut self.buf)
            .map_err(|e| BenchError::io(format!("reading the reply to {name}"), e))?;
        if kind == ReplyKind::Error {
            return Err(BenchError::protocol(format!(
                "the server refused {name}: {}",
                String::from_utf8_lossy(&reply).trim_end()
            )));
        }
        Ok(reply)
    }
}

/// Reads one whole reply (skipping pushes) from a blocking stream.
fn read_reply(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<(Vec<u8>, ReplyKind)> {
    let mut chunk = [0u8; 4096];
    loop {
        match scan_reply(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.message))? {
            Some(scanned) if scanned.kind == ReplyKind::Push => {
                buf.drain(..scanned.len);
            }
            Some(scanned) => {
                let reply = buf[..scanned.len].to_vec();
                buf.drain(..scanned.len);
                return Ok((reply, scanned.kind));
            }
            None => {
                if buf.len() > REPLY_BYTES_MAX {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "reply too large",
                    ));
                }
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
}

/// The text of `field` in the reply to `INFO section` (a bulk string of
/// `field:value` lines).
pub fn info_field(reply: &[u8], field: &str) -> Option<String> {
    let text = String::from_utf8_lossy(reply);
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name == field).then(|| value.trim().to_string())
    })
}

/// A growable read buffer with a bounded size: bytes `start..end` are
/// unread.
#[derive(Debug)]
pub struct ReadBuf {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl Default for ReadBuf {
    fn default() -> Self {
        ReadBuf {
            bytes: vec![0; READ_BUFFER_BYTES],
            start: 0,
            end: 0,
        }
    }
}

impl ReadBuf {
    /// The unread bytes.
    #[inline]
    pub fn unread(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    /// Marks `n` unread bytes as consumed.
    #[inline]
    pub fn consume(&mut self, n: usize) {
        debug_assert!(self.start + n <= self.end);
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Free space to read into, making room first: unread bytes move to
    /// the front, and a full buffer doubles. Fails past [`REPLY_BYTES_MAX`].
    #[inline]
    pub fn space(&mut self) -> io::Result<&mut [u8]> {
        if self.end == self.bytes.len() {
            if self.start > 0 {
                self.bytes.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let grown = self.bytes.len() * 2;
                if grown > REPLY_BYTES_MAX + READ_BUFFER_BYTES {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "a reply is larger than the read buffer limit",
                    ));
                }
                self.bytes.resize(grown, 0);
            }
        }
        Ok(&mut self.bytes[self.end..])
    }

    /// Marks `n` bytes just read into [`ReadBuf::space`] as unread.
    #[inline]
    pub fn filled(&mut self, n: usize) {
        self.end += n;
        debug_assert!(self.end <= self.bytes.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_buffer_compacts_then_grows() {
        let mut buf = ReadBuf::default();
        let len = buf.space().unwrap().len();
        buf.filled(len);
        buf.consume(10);
        // Full with 10 bytes consumed: compaction makes room without growing.
        assert_eq!(buf.space().unwrap().len(), 10);
        assert_eq!(buf.unread().len(), len - 10);
        buf.filled(10);
        assert_eq!(buf.space().unwrap().len(), len);
        assert_eq!(buf.unread().len(), len);
    }

    #[test]
    fn info_fields_are_found_by_name() {
        let reply =
            b"$60\r\n# Stats\r\ntotal_connections_received:3\r\ntotal_commands_processed:42\r\n";
        assert_eq!(
            info_field(reply, "total_commands_processed").as_deref(),
            Some("42")
        );
        assert_eq!(info_field(reply, "missing"), None);
    }
}
