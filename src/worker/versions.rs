//! Versions of the keys someone depends on: keys WATCHed before a MULTI,
//! and keys a BEGIN transaction has read. Only those keys are tracked, so
//! a shard where nobody watches pays one emptiness check per write.
//!
//! A tracked key's version moves on every write to it (any write command
//! that did not fail, a transaction's commit, a flush that emptied it);
//! whoever recorded the version before sees the change by comparing.
//! Expiry does not move it: a watched key that expires is caught by its
//! liveness instead, as Redis's `isWatchedKeyExpired` catches it.

use ahash::AHashMap;

use super::msg::DbKey;

/// One tracked key.
#[derive(Debug, Default)]
struct Tracked {
    version: u64,
    /// How many watchers and transactions depend on it.
    holders: u32,
    /// Open BEGIN transactions that read it, by age (their id): an older
    /// one has priority over a younger writer at commit.
    readers: Vec<u64>,
}

/// The tracked keys of one shard.
#[derive(Debug, Default)]
pub struct KeyVersions {
    tracked: AHashMap<DbKey, Tracked>,
    /// The last version handed out; versions only grow.
    clock: u64,
}

impl KeyVersions {
    /// Whether no key is tracked: writes need not look.
    pub fn is_empty(&self) -> bool {
        self.tracked.is_empty()
    }

    /// Starts depending on `key` (for a BEGIN transaction `reader`, its
    /// id); returns its current version.
    pub fn track(&mut self, key: &DbKey, reader: Option<u64>) -> u64 {
        let tracked = match self.tracked.get_mut(key) {
            Some(tracked) => tracked,
            None => self.tracked.entry(key.clone()).or_default(),
        };
        tracked.holders += 1;
        if let Some(reader) = reader {
            tracked.readers.push(reader);
        }
        tracked.version
    }

    /// Stops one dependency on `key` taken by `track`.
    pub fn untrack(&mut self, key: &DbKey, reader: Option<u64>) {
        let Some(tracked) = self.tracked.get_mut(key) else {
            return;
        };
        if let Some(reader) = reader {
            if let Some(position) = tracked.readers.iter().position(|&id| id == reader) {
                tracked.readers.swap_remove(position);
            }
        }
        tracked.holders = tracked.holders.saturating_sub(1);
        if tracked.holders == 0 {
            self.tracked.remove(key);
        }
    }

    /// The current version of `key` (0 for a key nobody tracks).
    pub fn version(&self, key: &DbKey) -> u64 {
        self.tracked.get(key).map_or(0, |tracked| tracked.version)
    }

    /// Whether an open transaction older than `tx` (a smaller id) read `key`.
    pub fn read_by_older(&self, key: &DbKey, tx: u64) -> bool {
        self.tracked
            .get(key)
            .is_some_and(|tracked| tracked.readers.iter().any(|&reader| reader < tx))
    }

    /// Records a write to `key` in database `db`.
    pub fn touch(&mut self, db: usize, key: &[u8]) {
        if self.tracked.is_empty() {
            return;
        }
        // Looking up needs an owned key; only done while someone watches.
        if let Some(tracked) = self.tracked.get_mut(&(db, Box::<[u8]>::from(key))) {
            self.clock += 1;
            tracked.version = self.clock;
        }
    }

    /// Records that every tracked key of database `db` (every database for
    /// `None`) for which `exists` holds was emptied by a flush.
    pub fn touch_flushed(&mut self, db: Option<usize>, exists: impl Fn(usize, &[u8]) -> bool) {
        for ((key_db, key), tracked) in &mut self.tracked {
            if db.is_none_or(|db| db == *key_db) && exists(*key_db, key) {
                self.clock += 1;
                tracked.version = self.clock;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> DbKey {
        (0, name.as_bytes().into())
    }

    #[test]
    fn a_write_moves_only_a_tracked_key() {
        let mut versions = KeyVersions::default();
        versions.touch(0, b"a");
        assert!(versions.is_empty(), "untracked writes leave nothing");
        let before = versions.track(&key("a"), None);
        versions.touch(0, b"b");
        versions.touch(1, b"a");
        assert_eq!(versions.version(&key("a")), before, "other keys and dbs");
        versions.touch(0, b"a");
        assert_ne!(versions.version(&key("a")), before);
    }

    #[test]
    fn the_last_holder_leaving_forgets_the_key() {
        let mut versions = KeyVersions::default();
        versions.track(&key("a"), None);
        versions.track(&key("a"), Some(7));
        assert!(versions.read_by_older(&key("a"), 8));
        assert!(!versions.read_by_older(&key("a"), 7));
        versions.untrack(&key("a"), Some(7));
        assert!(!versions.read_by_older(&key("a"), 8));
        assert!(!versions.is_empty());
        versions.untrack(&key("a"), None);
        assert!(versions.is_empty());
    }

    #[test]
    fn a_flush_moves_the_keys_that_existed() {
        let mut versions = KeyVersions::default();
        let a = versions.track(&key("a"), None);
        let b = versions.track(&key("b"), None);
        versions.touch_flushed(Some(0), |_, key| key == b"a");
        assert_ne!(versions.version(&key("a")), a);
        assert_eq!(versions.version(&key("b")), b);
        versions.touch_flushed(Some(1), |_, _| true);
        assert_eq!(versions.version(&key("b")), b, "another database");
    }
}
