//! A shard: the slice of the keyspace one worker owns, in every database.

pub mod access;
pub mod db;
pub mod key_table;
pub mod value;

use std::sync::Arc;

pub use access::{AccessPolicy, Lookup, ShardCounters, Tracking};
pub use db::{Db, Entry, Record};

use crate::config::EncodingLimits;

/// What a shard caches from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSettings {
    /// The access clock keys keep.
    pub policy: AccessPolicy,
    /// When compact collection encodings convert.
    pub limits: EncodingLimits,
}

impl Default for ShardSettings {
    fn default() -> ShardSettings {
        ShardSettings {
            policy: AccessPolicy::Lru,
            limits: EncodingLimits::default(),
        }
    }
}
pub use value::{StrValue, Value};

/// Keys sampled per database per active expiry round, as Redis's
/// `ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP`.
const EXPIRE_SAMPLES_PER_ROUND: usize = 20;
/// Rounds continue while more than this share of samples had expired (Redis: 10%).
const EXPIRE_REPEAT_PERCENT: usize = 10;
/// Rounds per database per cycle at most, so one cycle stays short.
const EXPIRE_ROUNDS_MAX: usize = 16;

/// One worker's keyspace.
#[derive(Debug)]
pub struct Shard {
    dbs: Vec<Db>,
    /// The access policy, counters and random state lookups use.
    pub tracking: Tracking,
    /// When compact collection encodings convert.
    pub limits: EncodingLimits,
    expire_seed: u64,
}

impl Shard {
    /// An empty shard with `databases` logical databases that adds to
    /// `counters`.
    pub fn new(id: usize, databases: usize, counters: Arc<ShardCounters>) -> Shard {
        assert!(databases > 0, "at least one database");
        let seed = 0x9e37_79b9_7f4a_7c15 ^ id as u64;
        Shard {
            dbs: (0..databases).map(|_| Db::default()).collect(),
            tracking: Tracking::new(counters, seed),
            limits: EncodingLimits::default(),
            expire_seed: seed,
        }
    }

    /// Takes new settings from the configuration.
    pub fn apply_settings(&mut self, settings: ShardSettings) {
        self.tracking.policy = settings.policy;
        self.limits = settings.limits;
    }

    /// The settings in force.
    pub fn settings(&self) -> ShardSettings {
        ShardSettings {
            policy: self.tracking.policy,
            limits: self.limits,
        }
    }

    /// A pseudo-random number (SPOP, SRANDMEMBER, HRANDFIELD, ...): cheap,
    /// not for anything that needs to be unpredictable.
    pub fn random_u64(&mut self) -> u64 {
        access::next_random(&mut self.tracking.random)
    }

    /// A pseudo-random index below `bound` (which must be positive).
    pub fn random_below(&mut self, bound: usize) -> usize {
        assert!(bound > 0, "a range to draw from");
        (self.random_u64() % bound as u64) as usize
    }

    /// The number of logical databases.
    pub fn databases(&self) -> usize {
        self.dbs.len()
    }

    /// Database `index`; the caller checked the index when it was selected.
    pub fn db(&mut self, index: usize) -> &mut Db {
        &mut self.dbs[index]
    }

    /// The live entry under `key` in database `db`, looked up for writing.
    pub fn entry(&mut self, db: usize, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        self.lookup(db, key, now_ms, Lookup::Write)
    }

    /// The live entry under `key` in database `db`, the access recorded as
    /// `lookup` says.
    pub fn lookup(
        &mut self,
        db: usize,
        key: &[u8],
        now_ms: u64,
        lookup: Lookup,
    ) -> Option<&mut Entry> {
        self.dbs[db].get_mut(key, now_ms, &mut self.tracking, lookup)
    }

    /// Stores `value` under `key` in database `db` (see [`Db::set`]).
    pub fn set(&mut self, db: usize, key: &[u8], value: Value, keep_ttl: bool, now_ms: u64) {
        let policy = self.tracking.policy;
        self.dbs[db].set(key, value, keep_ttl, now_ms, policy);
    }

    /// Database `index`, read-only.
    pub fn db_ref(&self, index: usize) -> &Db {
        &self.dbs[index]
    }

    /// Two distinct databases at once (MOVE).
    pub fn two_dbs(&mut self, first: usize, second: usize) -> (&mut Db, &mut Db) {
        assert_ne!(first, second, "MOVE checks that the databases differ");
        if first < second {
            let (low, high) = self.dbs.split_at_mut(second);
            (&mut low[first], &mut high[0])
        } else {
            let (low, high) = self.dbs.split_at_mut(first);
            (&mut high[0], &mut low[second])
        }
    }

    /// Empties every database.
    pub fn flush_all(&mut self) {
        self.dbs.iter_mut().for_each(Db::clear);
    }

    /// Redis's active expiry cycle over every database: sample keys with a
    /// TTL, remove the expired ones, repeat while many were expired.
    pub fn active_expire_cycle(&mut self, now_ms: u64) -> usize {
        let mut removed_total = 0;
        for db in &mut self.dbs {
            for _ in 0..EXPIRE_ROUNDS_MAX {
                self.expire_seed = self
                    .expire_seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let (sampled, removed) = db.sample_expired(
                    EXPIRE_SAMPLES_PER_ROUND,
                    now_ms,
                    self.expire_seed,
                    &mut self.tracking,
                );
                removed_total += removed;
                if sampled == 0 || removed * 100 <= sampled * EXPIRE_REPEAT_PERCENT {
                    break;
                }
            }
        }
        removed_total
    }

    /// Keys and keys with expiry per database, for `INFO keyspace`.
    pub fn keyspace_counts(&self) -> Vec<(usize, usize)> {
        self.dbs
            .iter()
            .map(|db| (db.len(), db.volatile_len()))
            .collect()
    }
}
