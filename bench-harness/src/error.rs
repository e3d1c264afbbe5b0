//! The crate's one error type: what failed, and of which kind.

use std::fmt;

/// What kind of failure a [`BenchError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A command-line flag or value that cannot be used.
    Usage,
    /// A socket, file or process operation failed.
    Io,
    /// The server sent bytes that are not RESP, or refused a setup command.
    Protocol,
    /// The run was stopped by a signal or ran past its time limit.
    Interrupted,
}

/// A failure, with a message that names what failed and with which value.
#[derive(Debug)]
pub struct BenchError {
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// What failed, for a person to read.
    pub message: String,
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, BenchError>;

impl BenchError {
    /// A bad flag or flag value.
    pub fn usage(message: impl Into<String>) -> Self {
        BenchError {
            kind: ErrorKind::Usage,
            message: message.into(),
        }
    }

    /// An I/O failure, with what was being done when it happened.
    pub fn io(context: impl fmt::Display, error: std::io::Error) -> Self {
        BenchError {
            kind: ErrorKind::Io,
            message: format!("{context}: {error}"),
        }
    }

    /// A protocol violation or a refused setup command.
    pub fn protocol(message: impl Into<String>) -> Self {
        BenchError {
            kind: ErrorKind::Protocol,
            message: message.into(),
        }
    }

    /// A run stopped by a signal or a time limit.
    pub fn interrupted(message: impl Into<String>) -> Self {
        BenchError {
            kind: ErrorKind::Interrupted,
            message: message.into(),
        }
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BenchError {}
