//! The keyspace's table: byte-string keys with values, in dense positions,
//! found by hash.
//!
//! Layout: `slots` is a `Vec` of `(CompactKey, V)` pairs, densely, so a
//! position is an index there; `index` is a `hashbrown::HashTable` of `u32`
//! positions, 4 bytes per bucket plus hashbrown's control byte. The table
//! keeps no hash: a key is hashed again from its bytes when the table grows
//! or a position moves. Keys of up to [`INLINE_MAX`] bytes sit inside the
//! pair, with no allocation of their own; longer ones are boxed.
//!
//! Against `IndexMap<Box<[u8]>, V>` (8-byte stored hash, 16-byte boxed key
//! plus its allocation, 8-byte index buckets) a short key with a 32-byte
//! value costs 56 bytes in the dense array and about 6 to 11 in the index,
//! instead of 56, 10 to 21 and the key's allocation.
//!
//! Positions are what the keyspace needs beyond lookups: RANDOMKEY and the
//! sampled expiry pick a random position, and SCAN walks positions
//! downwards. Removal moves the last pair into the hole (as
//! `IndexMap::swap_remove_index` does), so a key that stays through a walk
//! is never skipped: the key moved came from a position the walk had
//! already passed. New keys are pushed at the end.

use std::fmt;
use std::ops::Deref;

use ahash::RandomState;
use hashbrown::hash_table::Entry as TableEntry;
use hashbrown::HashTable;

/// The longest key kept inline.
pub const INLINE_MAX: usize = 22;

/// Keys one table holds at most: positions are `u32`.
pub const KEYS_MAX: usize = u32::MAX as usize;

/// A key as stored: inline up to [`INLINE_MAX`] bytes, boxed beyond. 24
/// bytes either way.
#[derive(Clone)]
pub enum CompactKey {
    /// A short key: its length, then its bytes (the rest zero).
    Inline(u8, [u8; INLINE_MAX]),
    /// A long key.
    Boxed(Box<[u8]>),
}

impl CompactKey {
    /// Stores `bytes`.
    pub fn new(bytes: &[u8]) -> CompactKey {
        if bytes.len() <= INLINE_MAX {
            let mut inline = [0u8; INLINE_MAX];
            inline[..bytes.len()].copy_from_slice(bytes);
            // Fits: the length is at most INLINE_MAX.
            CompactKey::Inline(bytes.len() as u8, inline)
        } else {
            CompactKey::Boxed(bytes.into())
        }
    }

    /// The key's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            CompactKey::Inline(len, bytes) => &bytes[..usize::from(*len)],
            CompactKey::Boxed(bytes) => bytes,
        }
    }
}

impl Deref for CompactKey {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for CompactKey {
    fn eq(&self, other: &CompactKey) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for CompactKey {}

impl fmt::Debug for CompactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// Keys with values, in dense positions `0..len`, with O(1) lookup by key.
pub struct KeyTable<V> {
    /// Positions of the pairs in `slots`, found by the key's hash.
    index: HashTable<u32>,
    /// The pairs, densely.
    slots: Vec<(CompactKey, V)>,
    /// Seeded at random per table, so clients cannot choose colliding keys.
    state: RandomState,
}

impl<V> Default for KeyTable<V> {
    fn default() -> KeyTable<V> {
        KeyTable {
            index: HashTable::new(),
            slots: Vec::new(),
            state: RandomState::new(),
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for KeyTable<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.slots.iter().map(|(key, value)| (key, value)))
            .finish()
    }
}

/// A key's place in the index, found empty by [`KeyTable::entry`].
pub struct Vacant<'t, V> {
    slot: hashbrown::hash_table::VacantEntry<'t, u32>,
    slots: &'t mut Vec<(CompactKey, V)>,
}

impl<V> Vacant<'_, V> {
    /// Pushes the pair at the end; returns its position.
    ///
    /// # Panics
    ///
    /// When the table already holds [`KEYS_MAX`] keys.
    pub fn insert(self, key: &[u8], value: V) -> usize {
        let at = self.slots.len();
        assert!(
            at < KEYS_MAX,
            "a key table holds at most {KEYS_MAX} keys (u32 positions)"
        );
        // Fits: checked just above.
        self.slot.insert(at as u32);
        self.slots.push((CompactKey::new(key), value));
        at
    }
}

/// The position a slot of the index holds, as an index into `slots`.
#[inline]
fn position(slot: &u32) -> usize {
    *slot as usize
}

#[inline]
fn hash_of(state: &RandomState, key: &[u8]) -> u64 {
    state.hash_one(key)
}

impl<V> KeyTable<V> {
    /// Keys stored.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no key is stored.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The position of `key`.
    #[inline]
    pub fn get_index_of(&self, key: &[u8]) -> Option<usize> {
        let hash = hash_of(&self.state, key);
        let slots = &self.slots;
        self.index
            .find(hash, |slot| slots[position(slot)].0.as_bytes() == key)
            .map(position)
    }

    /// The value under `key`.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        let index = self.get_index_of(key)?;
        self.slots.get(index).map(|(_, value)| value)
    }

    /// The value under `key`, mutably.
    #[inline]
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let index = self.get_index_of(key)?;
        self.slots.get_mut(index).map(|(_, value)| value)
    }

    /// The key and value at `index`.
    #[inline]
    pub fn get_index(&self, index: usize) -> Option<(&CompactKey, &V)> {
        self.slots.get(index).map(|(key, value)| (key, value))
    }

    /// The key and value at `index`, the value mutably.
    #[inline]
    pub fn get_index_mut(&mut self, index: usize) -> Option<(&CompactKey, &mut V)> {
        self.slots.get_mut(index).map(|(key, value)| (&*key, value))
    }

    /// Stores `value` under `key`: in place if the key exists (returning the
    /// old value), else at the end.
    ///
    /// # Panics
    ///
    /// When the key is new and the table already holds [`KEYS_MAX`] keys.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        match self.entry(key) {
            Ok(at) => {
                let (_, slot) = self.slots.get_mut(at)?;
                Some(std::mem::replace(slot, value))
            }
            Err(vacant) => {
                vacant.insert(key, value);
                None
            }
        }
    }

    /// The position of `key`, or where to insert it. Hashes the key once.
    #[inline]
    pub fn entry(&mut self, key: &[u8]) -> Result<usize, Vacant<'_, V>> {
        let KeyTable {
            index,
            slots,
            state,
        } = self;
        let hash = hash_of(state, key);
        let entry = index.entry(
            hash,
            |slot| slots[position(slot)].0.as_bytes() == key,
            |slot| hash_of(state, slots[position(slot)].0.as_bytes()),
        );
        match entry {
            TableEntry::Occupied(occupied) => Ok(position(occupied.get())),
            TableEntry::Vacant(slot) => Err(Vacant { slot, slots }),
        }
    }

    /// Removes `key`, moving the last pair into its position; returns its
    /// value.
    pub fn swap_remove(&mut self, key: &[u8]) -> Option<V> {
        let index = self.get_index_of(key)?;
        self.swap_remove_index(index).map(|(_, value)| value)
    }

    /// Removes the pair at `index`, moving the last pair into the hole.
    pub fn swap_remove_index(&mut self, index: usize) -> Option<(CompactKey, V)> {
        let removed_key = &self.slots.get(index)?.0;
        let hash = hash_of(&self.state, removed_key.as_bytes());
        match self.index.find_entry(hash, |slot| position(slot) == index) {
            Ok(occupied) => {
                occupied.remove();
            }
            Err(_) => panic!("key table: position {index} is missing from the index"),
        }
        let last = self.slots.len() - 1;
        if index != last {
            let hash = hash_of(&self.state, self.slots[last].0.as_bytes());
            let slot = self
                .index
                .find_mut(hash, |slot| position(slot) == last)
                .expect("key table: the last position is in the index");
            // Fits: index < last < KEYS_MAX.
            *slot = index as u32;
        }
        Some(self.slots.swap_remove(index))
    }

    /// Every pair, in position order.
    pub fn iter(&self) -> impl Iterator<Item = (&CompactKey, &V)> {
        self.slots.iter().map(|(key, value)| (key, value))
    }

    /// Removes everything and gives the memory back.
    pub fn clear(&mut self) {
        self.index = HashTable::new();
        self.slots = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<CompactKey>(), 24);
        assert_eq!(std::mem::size_of::<(CompactKey, u64)>(), 32);
        assert_eq!(
            std::mem::size_of::<(CompactKey, crate::shard::Entry)>(),
            56,
            "a key slot of the keyspace"
        );
    }

    #[test]
    fn compact_keys_round_trip() {
        for len in [0, 1, 21, 22, 23, 100] {
            let bytes: Vec<u8> = (0..len).map(|i| i as u8 ^ 0x5a).collect();
            let key = CompactKey::new(&bytes);
            assert_eq!(key.as_bytes(), &bytes[..]);
            assert_eq!(matches!(key, CompactKey::Inline(..)), len <= INLINE_MAX);
            assert_eq!(key.clone(), key);
        }
        assert_ne!(CompactKey::new(b"a"), CompactKey::new(b"a\0"));
    }

    #[test]
    fn insert_get_remove() {
        let mut table = KeyTable::default();
        assert!(table.is_empty());
        assert_eq!(table.insert(b"a", 1), None);
        assert_eq!(table.insert(b"b", 2), None);
        let long = [b'x'; 40];
        assert_eq!(table.insert(&long, 3), None);
        assert_eq!(table.insert(b"a", 10), Some(1));
        assert_eq!(table.len(), 3);
        assert_eq!(table.get(b"a"), Some(&10));
        assert_eq!(table.get_index_of(&long), Some(2));
        assert_eq!(table.get(b"c"), None);
        // Removing position 0 moves the last key there.
        let (key, value) = table.swap_remove_index(0).unwrap();
        assert_eq!((key.as_bytes(), value), (&b"a"[..], 10));
        assert_eq!(
            table.get_index(0).map(|(k, v)| (k.to_vec(), *v)),
            Some((long.to_vec(), 3))
        );
        assert_eq!(table.get_index_of(&long), Some(0));
        assert_eq!(table.swap_remove(b"b"), Some(2));
        assert_eq!(table.swap_remove(b"b"), None);
        assert_eq!(table.swap_remove_index(5).map(|(_, v)| v), None);
        *table.get_mut(&long).unwrap() += 1;
        assert_eq!(table.get(&long), Some(&4));
        table.clear();
        assert_eq!(table.len(), 0);
        assert_eq!(table.get(&long), None);
    }

    /// Random operations against a `HashMap` of key → value and a `Vec` of
    /// keys in the order swap-remove semantics give.
    #[test]
    fn model() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..4 {
            let mut table: KeyTable<u64> = KeyTable::default();
            let mut model: HashMap<Vec<u8>, u64> = HashMap::new();
            let mut order: Vec<Vec<u8>> = Vec::new();
            let universe = [50u64, 500, 5000, 20000][round];
            for step in 0..40_000u64 {
                let id = next() % universe;
                // Short keys inline, every third one long enough to be boxed.
                let key = if id % 3 == 0 {
                    format!("a-long-key-that-is-boxed:{id:08}").into_bytes()
                } else {
                    format!("k:{id}").into_bytes()
                };
                match next() % 8 {
                    0..=2 => {
                        let old = table.insert(&key, step);
                        let expected = model.insert(key.clone(), step);
                        assert_eq!(old, expected);
                        if expected.is_none() {
                            order.push(key);
                        }
                    }
                    3 => {
                        let removed = table.swap_remove(&key);
                        assert_eq!(removed, model.remove(&key));
                        if removed.is_some() {
                            let at = order.iter().position(|k| *k == key).unwrap();
                            order.swap_remove(at);
                        }
                    }
                    4 if !order.is_empty() => {
                        let at = (next() % order.len() as u64) as usize;
                        let (key, value) = table.swap_remove_index(at).unwrap();
                        assert_eq!(key.as_bytes(), &order[at][..]);
                        assert_eq!(Some(value), model.remove(&order[at]));
                        order.swap_remove(at);
                    }
                    5 => {
                        let at = match table.entry(&key) {
                            Ok(at) => {
                                assert!(model.contains_key(&key));
                                at
                            }
                            Err(vacant) => {
                                assert!(!model.contains_key(&key));
                                model.insert(key.clone(), step);
                                order.push(key.clone());
                                vacant.insert(&key, step)
                            }
                        };
                        assert_eq!(order[at], key);
                    }
                    6 => {
                        if let Some(value) = table.get_mut(&key) {
                            *value += 1;
                        }
                        if let Some(value) = model.get_mut(&key) {
                            *value += 1;
                        }
                    }
                    _ => {
                        assert_eq!(table.get(&key), model.get(&key));
                        let at = table.get_index_of(&key);
                        assert_eq!(at.map(|at| &order[at]), model.get(&key).map(|_| &key));
                    }
                }
                assert_eq!(table.len(), model.len());
            }
            let listed: Vec<Vec<u8>> = table.iter().map(|(key, _)| key.to_vec()).collect();
            assert_eq!(listed, order);
            for (at, key) in order.iter().enumerate() {
                assert_eq!(table.get_index_of(key), Some(at));
                let (stored, value) = table.get_index(at).unwrap();
                assert_eq!(stored.as_bytes(), &key[..]);
                assert_eq!(Some(value), model.get(key));
            }
        }
    }
}
