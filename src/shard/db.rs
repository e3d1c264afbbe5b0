//! One logical database of one shard: keys, values and their expiry.

use super::access::{AccessPolicy, Lookup, Tracking};
use super::key_table::{CompactKey, KeyTable};
use super::value::Value;

/// A key as stored: inline up to 22 bytes, boxed beyond (see
/// [`CompactKey`]); it dereferences to its bytes.
pub type Key = CompactKey;

/// What is stored under a key: 32 bytes, the expiry time kept apart (as
/// Redis keeps its `expires` dict), since most keys have none.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// The access clock: seconds of the last access under LRU, the
    /// frequency counter under LFU (see [`AccessPolicy`]).
    pub access_clock: u32,
    /// Whether the key has an expiry time (in the database's volatile map).
    volatile: bool,
}

/// An entry with its expiry time, as it travels between databases and
/// shards (RENAME, COPY, MOVE, multi-shard commands).
#[derive(Debug, Clone)]
pub struct Record {
    /// The entry.
    pub entry: Entry,
    /// Unix time in milliseconds at which the key expires; 0 for never.
    pub expire_at_ms: u64,
}

/// Keys held by one shard for one database. A [`KeyTable`] gives O(1)
/// random access by position, which serves RANDOMKEY, sampled expiry and a
/// SCAN cursor that survives deletions.
#[derive(Debug, Default)]
pub struct Db {
    entries: KeyTable<Entry>,
    /// Expiry times of the keys that have one; also what the active expiry
    /// cycle samples.
    volatile: KeyTable<u64>,
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
        self.entries.clear();
        self.volatile.clear();
    }

    /// The expiry time of `key` (0: none), expired or not.
    pub fn expire_of(&self, key: &[u8]) -> u64 {
        self.volatile.get(key).copied().unwrap_or(0)
    }

    fn is_expired(&self, key: &[u8], entry: &Entry, now_ms: u64) -> bool {
        entry.volatile && self.expire_of(key) <= now_ms
    }

    /// Removes the entry at `index`, keeping the volatile map in step.
    fn remove_index(&mut self, index: usize) -> Option<Record> {
        let (key, entry) = self.entries.swap_remove_index(index)?;
        let expire_at_ms = if entry.volatile {
            self.volatile.swap_remove(key.as_bytes()).unwrap_or(0)
        } else {
            0
        };
        Some(Record {
            entry,
            expire_at_ms,
        })
    }

    /// The position of `key` if it is live; an expired key is removed on
    /// the way.
    fn live_index(&mut self, key: &[u8], now_ms: u64, tracking: &mut Tracking) -> Option<usize> {
        let index = self.entries.get_index_of(key)?;
        let (_, entry) = self.entries.get_index(index)?;
        if self.is_expired(key, entry, now_ms) {
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
        match self.entries.entry(key) {
            Ok(index) => {
                let (_, entry) = self
                    .entries
                    .get_index_mut(index)
                    .expect("the position entry() found is stored");
                entry.value = value;
                if policy == AccessPolicy::Lru {
                    entry.access_clock = policy.initial_clock(now_ms);
                }
                if !keep_ttl && entry.volatile {
                    entry.volatile = false;
                    self.volatile.swap_remove(key);
                }
            }
            Err(vacant) => {
                vacant.insert(
                    key,
                    Entry {
                        value,
                        access_clock: policy.initial_clock(now_ms),
                        volatile: false,
                    },
                );
            }
        }
    }

    /// The live entry under `key` with its expiry, copied (COPY, and the
    /// entries a multi-shard command gathers). Records no access.
    pub fn record(&self, key: &[u8], now_ms: u64) -> Option<Record> {
        let entry = self.peek_entry(key, now_ms)?;
        Some(Record {
            entry: entry.clone(),
            expire_at_ms: self.expire_of(key),
        })
    }

    /// Stores a whole entry with its expiry (RENAME, COPY, MOVE).
    pub fn insert_record(&mut self, key: &[u8], record: Record) {
        let Record {
            mut entry,
            expire_at_ms,
        } = record;
        self.remove(key);
        entry.volatile = expire_at_ms != 0;
        self.entries.insert(key, entry);
        if expire_at_ms != 0 {
            self.volatile.insert(key, expire_at_ms);
        }
    }

    /// Removes `key`; returns its entry and expiry.
    pub fn remove(&mut self, key: &[u8]) -> Option<Record> {
        let index = self.entries.get_index_of(key)?;
        self.remove_index(index)
    }

    /// Sets or clears (`0`) the expiry of an existing key; false if absent.
    pub fn set_expire(&mut self, key: &[u8], expire_at_ms: u64) -> bool {
        let Some(entry) = self.entries.get_mut(key) else {
            return false;
        };
        entry.volatile = expire_at_ms != 0;
        if expire_at_ms != 0 {
            self.volatile.insert(key, expire_at_ms);
        } else {
            self.volatile.swap_remove(key);
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
            let Some((key, &expire_at_ms)) = self.volatile.get_index(index) else {
                break;
            };
            if expire_at_ms <= now_ms {
                let key = key.clone();
                self.remove(&key);
                tracking.count_expired();
                removed += 1;
            }
        }
        (sampled, removed)
    }

    /// The live entry under `key` without touching its access time or
    /// removing it.
    pub fn peek_entry(&self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.entries
            .get(key)
            .filter(|entry| !self.is_expired(key, entry, now_ms))
    }

    /// The key at `index` in storage order, if it is live.
    pub fn live_key_at(&self, index: usize, now_ms: u64) -> Option<&Key> {
        self.entries
            .get_index(index)
            .filter(|(key, entry)| !self.is_expired(key, entry, now_ms))
            .map(|(key, _)| key)
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
                if !self.is_expired(key, entry, now_ms) {
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
            .filter(move |(key, entry)| !self.is_expired(key, entry, now_ms))
    }
}
