//! Messages between workers.

use shoal_protocol::RespVersion;

use crate::cmd::keys::ScanOptions;
use crate::shard::Entry;

/// Where a reply goes: a client of a worker, and the place of the command
/// in that client's pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The client's home worker.
    pub worker: usize,
    /// The client's id (ids are never reused, so a reply for a client that
    /// left is recognised and dropped).
    pub client: u64,
    /// The command's sequence number in the client's pipeline.
    pub seq: u64,
}

/// A key in a database.
pub type DbKey = (usize, Box<[u8]>);

/// A request to one shard for its part of a command that spans every shard.
#[derive(Debug, Clone)]
pub enum PartRequest {
    /// Key count of a database.
    DbSize,
    /// Keys matching a pattern.
    Keys(Vec<u8>),
    /// Empty one database, or all (`None`).
    Flush(Option<usize>),
    /// A random key.
    RandomKey(u64),
    /// One SCAN step from a position.
    Scan(u64, ScanOptions),
    /// Keys and keys with expiry per database (INFO keyspace).
    KeyspaceCounts,
}

/// One shard's part of the answer.
#[derive(Debug)]
pub enum PartResult {
    /// A count.
    Count(usize),
    /// Keys.
    Keys(Vec<Vec<u8>>),
    /// Done, nothing to report.
    Done,
    /// Maybe a key.
    Key(Option<Vec<u8>>),
    /// Next SCAN position and keys.
    Scan(u64, Vec<Vec<u8>>),
    /// Per database (keys, keys with expiry).
    Counts(Vec<(usize, usize)>),
}

/// What workers send each other.
#[derive(Debug)]
pub enum Msg {
    /// Run a single-shard command on the receiver's shard.
    Run {
        /// Who asked.
        origin: Origin,
        /// The client's selected database.
        db: usize,
        /// The client's protocol.
        resp: RespVersion,
        /// The command.
        args: Vec<Vec<u8>>,
    },
    /// The encoded reply to a `Run` or to a multi-shard command.
    Reply {
        /// Whom it answers.
        origin: Origin,
        /// The reply, encoded for the client's protocol.
        bytes: Vec<u8>,
    },
    /// Ask for a shard's part of a fan-out command.
    Part {
        /// The fan-out it belongs to, at the sender.
        token: u64,
        /// The client's selected database.
        db: usize,
        /// What to compute.
        request: PartRequest,
    },
    /// A shard's part.
    PartDone {
        /// The fan-out it belongs to.
        token: u64,
        /// The part.
        result: PartResult,
    },
    /// Lock these keys for transaction `tx` and send back their entries.
    Lock {
        /// Transaction id; the coordinator locks shards in ascending order.
        tx: u64,
        /// The worker coordinating it, which gets `Locked`.
        coordinator: usize,
        /// The keys on the receiving shard.
        keys: Vec<DbKey>,
    },
    /// The keys are locked; their entries as they are now.
    Locked {
        /// Transaction id.
        tx: u64,
        /// The shard that locked.
        shard: usize,
        /// Each key's live entry, if any.
        entries: Vec<(DbKey, Option<Entry>)>,
    },
    /// A line of MONITOR output for a monitoring client of the receiver.
    Monitor {
        /// The monitoring client's id.
        client: u64,
        /// The encoded line (`+<time> [<db> <addr>] "arg" ...`).
        line: std::sync::Arc<[u8]>,
    },
    /// Write these final states (if any) and release the transaction's locks.
    Apply {
        /// Transaction id.
        tx: u64,
        /// The keys that were locked.
        keys: Vec<DbKey>,
        /// The final state of each written key.
        writes: Vec<(DbKey, Option<Entry>)>,
    },
}
