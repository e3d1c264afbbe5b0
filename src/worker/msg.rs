//! Messages between workers.

use shoal_protocol::RespVersion;

use super::blocking::{UnblockKind, WaitKind};
use crate::cmd::keys::ScanOptions;
use crate::shard::Record;

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
    /// CLIENT LIST lines of the worker's clients.
    ClientList,
    /// Close the worker's clients that match (CLIENT KILL).
    Kill(KillFilter),
    /// End the block of this client if it is the worker's (CLIENT UNBLOCK).
    Unblock(u64, UnblockKind),
}

/// Which clients CLIENT KILL closes.
#[derive(Debug, Clone, Default)]
pub struct KillFilter {
    /// `CLIENT KILL ip:port`: the old form, which replies OK or an error.
    pub old_form: bool,
    /// `ADDR ip:port` (or the old form's address).
    pub addr: Option<Vec<u8>>,
    /// `LADDR ip:port`.
    pub laddr: Option<Vec<u8>>,
    /// `ID client-id`.
    pub id: Option<u64>,
    /// The client asking, spared unless `SKIPME no`.
    pub skip: Option<u64>,
}

impl KillFilter {
    /// Parses CLIENT KILL's arguments after `KILL`; `requester` is the asking client's id.
    pub fn parse(args: &[&[u8]], requester: u64) -> Result<KillFilter, Vec<u8>> {
        if let [addr] = args {
            return Ok(KillFilter {
                old_form: true,
                addr: Some(addr.to_vec()),
                ..KillFilter::default()
            });
        }
        let mut filter = KillFilter {
            skip: Some(requester),
            ..KillFilter::default()
        };
        if args.len() % 2 != 0 {
            return Err(b"ERR syntax error".to_vec());
        }
        for pair in args.chunks_exact(2) {
            let (name, value) = (pair[0], pair[1]);
            if name.eq_ignore_ascii_case(b"ID") {
                let id = std::str::from_utf8(value)
                    .ok()
                    .and_then(|text| text.parse::<u64>().ok())
                    .filter(|&id| id > 0);
                filter.id =
                    Some(id.ok_or_else(|| b"ERR client-id should be greater than 0".to_vec())?);
            } else if name.eq_ignore_ascii_case(b"ADDR") {
                filter.addr = Some(value.to_vec());
            } else if name.eq_ignore_ascii_case(b"LADDR") {
                filter.laddr = Some(value.to_vec());
            } else if name.eq_ignore_ascii_case(b"SKIPME") {
                if value.eq_ignore_ascii_case(b"yes") {
                    filter.skip = Some(requester);
                } else if value.eq_ignore_ascii_case(b"no") {
                    filter.skip = None;
                } else {
                    return Err(b"ERR syntax error".to_vec());
                }
            } else {
                return Err(b"ERR syntax error".to_vec());
            }
        }
        Ok(filter)
    }

    /// Whether `client` is to be closed.
    pub fn matches(&self, client: &crate::client::Client) -> bool {
        self.addr
            .as_deref()
            .is_none_or(|addr| addr == client.addr.as_bytes())
            && self
                .laddr
                .as_deref()
                .is_none_or(|laddr| laddr == client.laddr.as_bytes())
            && self.id.is_none_or(|id| id == client.id)
            && self.skip != Some(client.id)
    }
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
    /// Text (CLIENT LIST lines).
    Text(String),
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
        /// The worker gathering the parts.
        from: usize,
        /// Hold this shard (no other command runs on it) until `Release`:
        /// the parts of one fan-out then form a consistent cut, like a
        /// multi-shard command's locks, taken in ascending shard order.
        hold: bool,
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
        entries: Vec<(DbKey, Option<Record>)>,
    },
    /// A line of MONITOR output for a monitoring client of the receiver.
    Monitor {
        /// The monitoring client's id.
        client: u64,
        /// The encoded line (`+<time> [<db> <addr>] "arg" ...`).
        line: std::sync::Arc<[u8]>,
    },
    /// Release a shard held for a fan-out.
    Release {
        /// The fan-out's token.
        token: u64,
        /// The worker that gathered it.
        from: usize,
    },
    /// Write these final states (if any) and release the transaction's locks.
    Apply {
        /// Transaction id.
        tx: u64,
        /// The keys that were locked.
        keys: Vec<DbKey>,
        /// The final state of each written key.
        writes: Vec<(DbKey, Option<Record>)>,
        /// Set when the transaction was a blocking command's try.
        waiter: Option<WaiterNote>,
    },
    /// Lock keys for a MULTI/EXEC or a COMMIT and check the versions its
    /// client depends on.
    TxLock {
        /// Transaction id (a BEGIN transaction's age); shards lock in
        /// ascending order.
        tx: u64,
        /// The worker coordinating it, which gets `TxLocked`.
        coordinator: usize,
        /// The keys on the receiving shard.
        keys: Vec<DbKey>,
        /// What must still hold for the transaction to go on.
        checks: Vec<VersionCheck>,
        /// Send the keys' entries back (EXEC runs its commands at home).
        gather: bool,
        /// Queue behind busy keys; else answer `busy` at once.
        wait: bool,
    },
    /// The keys are locked; whether every check held, and the entries.
    TxLocked {
        /// Transaction id.
        tx: u64,
        /// The shard that locked.
        shard: usize,
        /// Each key's live entry, if asked for.
        entries: Vec<(DbKey, Option<Record>)>,
        /// Some check failed: the transaction must not apply.
        stale: bool,
        /// The keys were busy and nothing was locked (a request that
        /// does not wait).
        busy: bool,
    },
    /// WATCH these keys: track them and answer their versions.
    Watch {
        /// The WATCH command's reply slot.
        origin: Origin,
        /// The keys on the receiving shard.
        keys: Vec<DbKey>,
    },
    /// Versions of watched keys: (key, version, live now).
    Watched {
        /// The WATCH command's reply slot.
        origin: Origin,
        /// Each key's version and whether it was live.
        entries: Vec<(DbKey, u64, bool)>,
    },
    /// A BEGIN transaction reads keys: their entries and versions, tracked
    /// for it until it ends.
    Fetch {
        /// The transaction's age (its id).
        tx: u64,
        /// The id to track its reads under, when it has priority.
        reader: Option<u64>,
        /// The reply slot of the command that needs them.
        origin: Origin,
        /// The keys on the receiving shard.
        keys: Vec<DbKey>,
    },
    /// Entries and versions for a BEGIN transaction.
    Fetched {
        /// The transaction's id.
        tx: u64,
        /// As in `Fetch`.
        reader: Option<u64>,
        /// The reply slot of the command that needs them.
        origin: Origin,
        /// Each key's live entry and version.
        entries: Vec<(DbKey, Option<Record>, u64)>,
    },
    /// Stop tracking these keys for a watcher (`reader` None) or a BEGIN
    /// transaction (its id).
    Untrack {
        /// The keys on the receiving shard.
        keys: Vec<DbKey>,
        /// The transaction that read them, if any.
        reader: Option<u64>,
    },
    /// A blocking command found nothing: its client now waits (the shard
    /// registered it on the keys it holds).
    Blocked {
        /// The blocked client's reply slot.
        origin: Origin,
        /// The shard that registered it.
        shard: usize,
    },
    /// A key the waiter waits on holds a value now: run the command again.
    Wake {
        /// The waiter.
        waiter: Origin,
        /// The shard whose key is ready.
        shard: usize,
    },
    /// Forget the waiter on these keys (every key when empty): it was
    /// served, timed out, was unblocked or disconnected.
    Unregister {
        /// The waiter.
        waiter: Origin,
        /// Its keys on the receiving shard.
        keys: Vec<DbKey>,
    },
}

/// What a shard learns from a blocking command's multi-shard try.
#[derive(Debug, Clone)]
pub struct WaiterNote {
    /// The client that ran it.
    pub waiter: Origin,
    /// What it waits for.
    pub kind: WaitKind,
    /// Its waited keys on the receiving shard.
    pub waited: Vec<DbKey>,
    /// It found nothing and waits on (else it was served).
    pub blocked: bool,
}

/// One condition a transaction checks under its locks.
#[derive(Debug, Clone)]
pub struct VersionCheck {
    /// The key.
    pub key: DbKey,
    /// The version it had when the client started depending on it.
    pub version: u64,
    /// For a watched key that was live then: it must still be live (a
    /// watched key that expires fails EXEC).
    pub must_be_live: bool,
    /// The transaction writes it: no older retried transaction still open may have read
    /// it (older transactions win, so none starves).
    pub written: bool,
}
