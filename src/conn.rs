//! One client connection: read, parse, answer in order, write.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

use shoal_protocol::{Command, ReplyEncoder, RequestParser, RespVersion};

/// Bytes read from the socket per call.
const READ_CHUNK_BYTES: usize = 16 * 1024;

/// Serves one client until it quits, breaks the protocol or goes away.
pub fn serve(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut parser = RequestParser::default();
    let mut encoder = ReplyEncoder::new(RespVersion::Resp2);
    let mut query = Vec::with_capacity(READ_CHUNK_BYTES);
    let mut chunk = vec![0u8; READ_CHUNK_BYTES];
    loop {
        let read = match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(read) => read,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        query.extend_from_slice(&chunk[..read]);
        let mut close = false;
        {
            let mut requests = parser.parse(&mut query);
            while let Some(request) = requests.next_command() {
                match request {
                    Ok(command) => close = execute(command, &mut encoder),
                    Err(error) => {
                        encoder.protocol_error(&error);
                        close = true;
                    }
                }
                if close {
                    break;
                }
            }
        }
        let consumed = parser.consumed();
        query.drain(..consumed);
        if stream.write_all(encoder.as_bytes()).is_err() || close {
            return;
        }
        encoder.clear();
    }
}

/// Runs one command; returns true when the connection is to close after the reply.
fn execute(command: &Command<'_>, out: &mut ReplyEncoder) -> bool {
    let args = command.args();
    let name = command.name();
    if name.eq_ignore_ascii_case(b"PING") {
        match args {
            [_] => out.simple_string(b"PONG"),
            [_, message] => out.bulk(message),
            _ => wrong_arity(out, "ping"),
        }
    } else if name.eq_ignore_ascii_case(b"ECHO") {
        match args {
            [_, message] => out.bulk(message),
            _ => wrong_arity(out, "echo"),
        }
    } else if name.eq_ignore_ascii_case(b"QUIT") {
        out.ok();
        return true;
    } else {
        unknown_command(out, args);
    }
    false
}

fn wrong_arity(out: &mut ReplyEncoder, name: &str) {
    out.error(format!("ERR wrong number of arguments for '{name}' command").as_bytes());
}

/// Redis's text: the name, then the first arguments, quoted, up to 128 bytes.
fn unknown_command(out: &mut ReplyEncoder, args: &[&[u8]]) {
    const SHOWN_BYTES_MAX: usize = 128;
    let mut message = b"ERR unknown command '".to_vec();
    message.extend_from_slice(&args[0][..args[0].len().min(SHOWN_BYTES_MAX)]);
    message.extend_from_slice(b"', with args beginning with: ");
    let mut shown = 0;
    for arg in &args[1..] {
        if shown >= SHOWN_BYTES_MAX {
            break;
        }
        let take = arg.len().min(SHOWN_BYTES_MAX - shown);
        message.push(b'\'');
        message.extend_from_slice(&arg[..take]);
        message.extend_from_slice(b"' ");
        shown += take + 3;
    }
    out.error(&message);
}
