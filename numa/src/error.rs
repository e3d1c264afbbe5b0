//! The crate's one error type: what failed (a kind) and with which value.

use std::fmt;
use std::io;

/// What went wrong, without the details; match on this rather than on text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file under `/sys` could not be read; the value is its path.
    Read,
    /// A file under `/sys` held text this crate cannot interpret; the value is
    /// its path and the detail says what was wrong.
    Malformed,
    /// A CPU list (`--cpus`, or a `cpulist` file) is not valid; the value is
    /// the offending entry.
    CpuList,
    /// The worker count is zero or above [`crate::WORKERS_MAX`]; the value is
    /// the count asked for.
    Threads,
    /// A CPU asked for is not one this process may run on; the value is the CPU.
    CpuUnavailable,
    /// The topology, or the `--cpus` list, leaves no CPU to place a worker on;
    /// the value is empty and the detail says which.
    NoCpus,
    /// The CPUs this process may run on could not be queried.
    Affinity,
    /// The hwloc library failed; the value names the step.
    Hwloc,
}

impl ErrorKind {
    /// A short phrase for the start of the error message.
    fn describe(self) -> &'static str {
        match self {
            ErrorKind::Read => "cannot read",
            ErrorKind::Malformed => "unexpected contents in",
            ErrorKind::CpuList => "invalid CPU list entry",
            ErrorKind::Threads => "invalid worker count",
            ErrorKind::CpuUnavailable => "CPU not available",
            ErrorKind::NoCpus => "no CPU to place workers on",
            ErrorKind::Affinity => "cannot query the CPU affinity of",
            ErrorKind::Hwloc => "hwloc failed at",
        }
    }
}

/// An error from reading the topology, parsing a CPU list or planning
/// placement. Its message names the offending value, so that it can be shown
/// to an operator as it is.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    value: String,
    detail: String,
    source: Option<io::Error>,
}

impl Error {
    /// An error of `kind` about `value`, with `detail` saying why.
    pub(crate) fn new(
        kind: ErrorKind,
        value: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Error {
            kind,
            value: value.into(),
            detail: detail.into(),
            source: None,
        }
    }

    /// An I/O failure on `path`; the `io::Error` is kept as the source.
    pub(crate) fn io(kind: ErrorKind, path: &std::path::Path, source: io::Error) -> Self {
        Error {
            kind,
            value: path.display().to_string(),
            detail: String::new(),
            source: Some(source),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The offending value: a path, a CPU list entry, a CPU number or a count.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.describe())?;
        // An empty value (an empty CPU list) would only print as "``".
        if !self.value.is_empty() {
            write!(f, " `{}`", self.value)?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}
