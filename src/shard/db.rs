//! One logical database of one shard: keys, values and their expiry.

use ahash::RandomState;
use indexmap::{IndexMap, IndexSet};

use super::access::{AccessPolicy, Lookup, Tracking};
use super::value::Value;

/// A key as stored.
pub type Key = Box<[u8]>;

/// What is stored under a key.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// Unix time in milliseconds at which the key expires; 0 for never.
    pub expire_at_ms: u64,
    /// The access clock: seconds of the last access under LRU, the
    /// frequency counter under LFU (see [`AccessPolicy`]).
    pub access_clock: u32,
}

/// Keys held by one shard for one database. An `IndexMap` gives O(1)
/// random access by position, which serves RANDOMKEY, sampled expiry and a
/// SCAN cursor that survives deletions.
#[derive(Debug, Default)]
pub struct Db {
    entries: IndexMap<Key, Entry, RandomState>,
    /// Keys that have an expiry time, for the active expiry cycle.
    volatile: IndexSet<Key, RandomState>,
}

impl Db {
    /// Keys stored, counting any whose expiry passed but was not yet noticed.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Keys with an expiry time.
    pub fn volatile_len(&self) -> usize {
        self.volatile.len()
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        self.entries = IndexMap::default();
        self.volatile = IndexSet::default();
    }

    fn is_expired(entry: &Entry, now_ms: u64) -> bool {
        entry.expire_at_ms != 0 && entry.expire_at_ms <= now_ms
    }

    /// Removes the entry at `index`, keeping the volatile set in step.
    fn remove_index(&mut self, index: usize) -> Option<(Key, Entry)> {
        let (key, entry) = self.entries.swap_remove_index(index)?;
        if entry.expire_at_ms != 0 {
            self.volatile.swap_remove(&*key);
        }
        Some((key, entry))
    }

    /// The position of `key` if it is live; an expired key is removed on
    /// the way (one hash lookup either way).
    fn live_index(&mut self, key: &[u8], now_ms: u64, tracking: &mut Tracking) -> Option<usize> {
        let index = self.entries.get_index_of(key)?;
        let expired = self
            .entries
            .get_index(index)
            .is_some_and(|(_, entry)| Self::is_expired(entry, now_ms));
        if expired {
            self.remove_index(index);
            tracking.count_expired();
            return None;
        }
        Some(index)
    }

    /// The live entry under `key`, recording the access as `lookup` says.
    pub fn get_mut(
        &mut self,
        key: &[u8],
        now_ms: u64,
        tracking: &mut Tracking,
        lookup: Lookup,
    ) -> Option<&mut Entry> {
        let Some(index) = self.live_index(key, now_ms, tracking) else {
            tracking.count(lookup, false);
            return None;
        };
        let (_, entry) = self.entries.get_index_mut(index)?;
        tracking.count(lookup, true);
        if lookup != Lookup::Peek {
            let policy = tracking.policy;
            policy.touch(&mut entry.access_clock, now_ms, &mut tracking.random);
        }
        Some(entry)
    }

    /// Stores `value` under `key`, dropping any expiry unless `keep_ttl`.
    /// An overwritten key keeps its LFU counter, as in Redis.
    pub fn set(
        &mut self,
        key: &[u8],
        value: Value,
        keep_ttl: bool,
        now_ms: u64,
        policy: AccessPolicy,
    ) {
        let existing = self.entries.get_index_of(key);
        match existing
            .and_then(|index| self.entries.get_index_mut(index))
            .map(|(_, entry)| entry)
        {
            Some(entry) => {
                entry.value = value;
                if policy == AccessPolicy::Lru {
                    entry.access_clock = policy.initial_clock(now_ms);
                }
                if !keep_ttl && entry.expire_at_ms != 0 {
                    entry.expire_at_ms = 0;
                    self.volatile.swap_remove(key);
                }
            }
            None => {
                self.entries.insert(
                    key.into(),
                    Entry {
                        value,
                        expire_at_ms: 0,
                        access_clock: policy.initial_clock(now_ms),
                    },
                );
            }
        }
    }

    /// Stores a whole entry (RENAME, COPY, MOVE), with its expiry.
    pub fn insert_entry(&mut self, key: &[u8], entry: Entry) {
        let volatile = entry.expire_at_ms != 0;
        self.remove(key);
        self.entries.insert(key.into(), entry);
        if volatile {
            self.volatile.insert(key.into());
        }
    }

    /// Removes `key`; returns its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let entry = self.entries.swap_remove(key)?;
        if entry.expire_at_ms != 0 {
            self.volatile.swap_remove(key);
        }
        Some(entry)
    }

    /// Sets or clears (`0`) the expiry of an existing key; false if absent.
    pub fn set_expire(&mut self, key: &[u8], expire_at_ms: u64) -> bool {
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        let was_volatile = entry.expire_at_ms != 0;
        entry.expire_at_ms = expire_at_ms;
        match (was_volatile, expire_at_ms != 0) {
            (false, true) => {
                self.volatile.insert(key.into());
            }
            (true, false) => {
                self.volatile.swap_remove(key);
            }
            _ => {}
        }
        true
    }

    /// One round of Redis's active expiry: sample up to `samples` keys that
    /// have an expiry and remove those whose time passed. Returns how many
    /// were sampled and how many removed, so the caller can decide to go on.
    pub fn sample_expired(
        &mut self,
        samples: usize,
        now_ms: u64,
        seed: u64,
        tracking: &mut Tracking,
    ) -> (usize, usize) {
        let mut removed = 0;
        let mut sampled = 0;
        let mut state = seed | 1;
        while sampled < samples && !self.volatile.is_empty() {
            // xorshift: cheap, and good enough to pick positions.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let index = (state % self.volatile.len() as u64) as usize;
            sampled += 1;
            let Some(key) = self.volatile.get_index(index) else {
                break;
            };
            let due = self
                .entries
                .get(&**key)
                .is_some_and(|entry| Self::is_expired(entry, now_ms));
            if due {
                let key = key.clone();
                self.remove(&key);
                tracking.count_expired();
                removed += 1;
            }
        }
        (sampled, removed)
    }

    /// The live entry under `key` without touching its access time or
    /// removing it (OBJECT must not count as an access).
    pub fn peek_entry(&self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.entries
            .get(key)
            .filter(|entry| !Self::is_expired(entry, now_ms))
    }

    /// The key at `index` in storage order, if any.
    pub fn key_at(&self, index: usize) -> Option<(&Key, &Entry)> {
        self.entries.get_index(index)
    }

    /// Visits live keys from position `start - 1` down towards 0, at most
    /// `limit` positions; returns the position to resume from (0 = done).
    ///
    /// Walking downwards keeps SCAN's guarantee with `swap_remove`: a
    /// removal moves the last key, already visited, into the hole, and new
    /// keys are appended behind the walk.
    pub fn scan_down(
        &self,
        start: usize,
        limit: usize,
        now_ms: u64,
        mut visit: impl FnMut(&Key, &Entry),
    ) -> usize {
        let mut position = start.min(self.entries.len());
        let mut visited = 0;
        while position > 0 && visited < limit {
            position -= 1;
            visited += 1;
            if let Some((key, entry)) = self.entries.get_index(position) {
                if !Self::is_expired(entry, now_ms) {
                    visit(key, entry);
                }
            }
        }
        position
    }

    /// Every live key, in storage order.
    pub fn iter_live(&self, now_ms: u64) -> impl Iterator<Item = (&Key, &Entry)> {
        self.entries
            .iter()
            .filter(move |(_, entry)| !Self::is_expired(entry, now_ms))
    }
}
