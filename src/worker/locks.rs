//! Key locks of multi-shard commands, held per shard, and the commands
//! that wait for them.
//!
//! A multi-shard command (an MSET over keys of several shards, later
//! MULTI/EXEC) locks its keys shard by shard in ascending shard order, so
//! no two commands can each hold what the other waits for: no deadlock,
//! no global lock. While any command waits on this shard, newer ones queue
//! behind it, so work on one key runs in arrival order.

use ahash::AHashMap;
use std::collections::VecDeque;

use super::msg::{DbKey, Msg};

/// Locks held on this shard and the messages waiting for them.
#[derive(Debug, Default)]
pub struct LockTable {
    /// key → (database, holder) for each locked key.
    held: AHashMap<Box<[u8]>, Vec<(usize, u64)>>,
    /// Messages that arrived while a key they need was locked, in order.
    waiting: VecDeque<Msg>,
    /// A fan-out (worker, token) holding the whole shard.
    whole: Option<(usize, u64)>,
}

impl LockTable {
    /// Whether nothing is locked and nothing waits: the fast path.
    pub fn is_idle(&self) -> bool {
        self.held.is_empty() && self.waiting.is_empty() && self.whole.is_none()
    }

    /// Holds the whole shard for a fan-out; nothing may be locked.
    pub fn hold_whole(&mut self, holder: (usize, u64)) {
        debug_assert!(
            self.held.is_empty() && self.whole.is_none(),
            "holding a busy shard"
        );
        self.whole = Some(holder);
    }

    /// Releases a fan-out's hold.
    pub fn release_whole(&mut self, holder: (usize, u64)) {
        if self.whole == Some(holder) {
            self.whole = None;
        }
    }

    /// Whether any of `keys` (in database `db`) is locked.
    pub fn any_locked<'a>(&self, db: usize, mut keys: impl Iterator<Item = &'a [u8]>) -> bool {
        self.whole.is_some()
            || !self.held.is_empty()
                && keys.any(|key| {
                    self.held
                        .get(key)
                        .is_some_and(|holders| holders.iter().any(|&(held_db, _)| held_db == db))
                })
    }

    /// Whether any of `keys` (with their databases) is locked.
    pub fn any_db_key_locked(&self, keys: &[DbKey]) -> bool {
        keys.iter()
            .any(|(db, key)| self.any_locked(*db, std::iter::once(&**key)))
    }

    /// Whether messages are already queued (newer ones must queue behind).
    pub fn has_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Locks `keys` for `tx`; they must be free.
    pub fn lock(&mut self, tx: u64, keys: &[DbKey]) {
        for (db, key) in keys {
            let holders = self.held.entry(key.clone()).or_default();
            debug_assert!(
                holders.iter().all(|&(held_db, _)| held_db != *db),
                "locking a locked key"
            );
            holders.push((*db, tx));
        }
    }

    /// Releases `tx`'s locks on `keys`.
    pub fn unlock(&mut self, tx: u64, keys: &[DbKey]) {
        for (db, key) in keys {
            if let Some(holders) = self.held.get_mut(&**key) {
                holders.retain(|&(held_db, holder)| !(held_db == *db && holder == tx));
                if holders.is_empty() {
                    self.held.remove(&**key);
                }
            }
        }
    }

    /// Queues a message until locks are released.
    pub fn wait(&mut self, msg: Msg) {
        self.waiting.push_back(msg);
    }

    /// Takes every waiting message, oldest first, to be tried again.
    pub fn take_waiting(&mut self) -> VecDeque<Msg> {
        std::mem::take(&mut self.waiting)
    }
}
