//! The RESP wire protocol as Shoal speaks it, with no knowledge of sockets,
//! threads or commands.
//!
//! - [`RequestParser`] turns the bytes a client sent into commands whose
//!   arguments are slices of the caller's buffer: RESP arrays of bulk strings
//!   (what RESP2 and RESP3 clients both send) and inline commands (what a person
//!   types into `nc`). It is pipelined and resumable, and enforces [`Limits`]
//!   with the same error text Redis sends ([`ProtocolError`]).
//! - [`ReplyEncoder`] writes every RESP3 reply type into a reusable buffer and
//!   downgrades them to RESP2 the way Redis does for clients that did not send
//!   `HELLO 3`.
//! - [`encode_request`] and [`ReplyParser`] are the client side of the same
//!   protocol, for tests, fuzzers and the load generator.
#![deny(missing_docs, missing_debug_implementations)]

mod double;
mod encoder;
mod error;
mod inline;
mod limits;
mod number;
mod owned;
mod parser;
mod reply;
mod request;

pub use double::{format_double, DoubleText};
pub use encoder::{ReplyEncoder, RespVersion};
pub use error::{ErrorText, ProtocolError};
pub use limits::Limits;
pub use number::parse_i64;
pub use owned::{drain_commands, parse_in_pieces, OwnedCommand};
pub use parser::{Command, RequestParser, Requests, INLINE_ARGS};
pub use reply::{Reply, ReplyError, ReplyParser};
pub use request::{encode_inline_request, encode_request};
