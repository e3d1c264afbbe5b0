//! What a command handler sees: the shard, the selected database, the clock
//! and where to write its reply.

use shoal_protocol::ReplyEncoder;

use crate::shard::{Entry, Lookup, Shard, Value};

/// Redis's reply texts shared by many commands.
pub mod errors {
    /// A key holds another type.
    pub const WRONGTYPE: &[u8] =
        b"WRONGTYPE Operation against a key holding the wrong kind of value";
    /// An argument is not an integer.
    pub const NOT_INTEGER: &[u8] = b"ERR value is not an integer or out of range";
    /// An argument is not a float.
    pub const NOT_FLOAT: &[u8] = b"ERR value is not a valid float";
    /// Bad option combination.
    pub const SYNTAX: &[u8] = b"ERR syntax error";
    /// No such key (RENAME and friends).
    pub const NO_SUCH_KEY: &[u8] = b"ERR no such key";
    /// INCR and friends past i64.
    pub const OVERFLOW: &[u8] = b"ERR increment or decrement would overflow";
    /// Bad database index.
    pub const DB_INDEX: &[u8] = b"ERR DB index is out of range";
}

/// The context of one command executing on a shard.
#[derive(Debug)]
pub struct ShardCtx<'a> {
    /// The shard that owns the command's keys.
    pub shard: &'a mut Shard,
    /// The client's selected database.
    pub db: usize,
    /// Unix time in milliseconds, read once per loop turn.
    pub now_ms: u64,
    /// Where the reply goes.
    pub out: &'a mut ReplyEncoder,
    /// Set by a blocking command (BLPOP...) that found nothing to take and
    /// wrote no reply: the client waits for its keys instead.
    pub blocked: bool,
}

impl ShardCtx<'_> {
    /// The live entry under `key` in the selected database, looked up for
    /// writing (no hit or miss counted).
    pub fn entry(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.shard.entry(self.db, key, self.now_ms)
    }

    /// The live entry under `key`, looked up as `lookup` says.
    pub fn lookup(&mut self, key: &[u8], lookup: Lookup) -> Option<&mut Entry> {
        self.shard.lookup(self.db, key, self.now_ms, lookup)
    }

    /// Whether `key` exists (expired keys are removed first).
    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.entry(key).is_some()
    }

    /// Stores `value` under `key` in the selected database.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) {
        self.shard.set(self.db, key, value, keep_ttl, self.now_ms);
    }

    /// Removes `key`; returns whether it existed.
    pub fn remove(&mut self, key: &[u8]) -> bool {
        self.entry(key).is_some() && self.shard.db(self.db).remove(key).is_some()
    }
}
