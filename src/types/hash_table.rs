//! The `hashtable` encoding of large hashes: each pair is one allocation
//! (field length, field, value) in an insertion-ordered hash set keyed by
//! the field.
//!
//! One allocation per pair rather than two, and 24 bytes of table entry
//! (hash and boxed pair) rather than 40 for a map of boxed fields to boxed
//! values. Positions give O(1) random pairs (HRANDFIELD) and a scan cursor
//! that survives removals (see [`PairTable::scan`]).

use std::hash::{Hash, Hasher};

use ahash::RandomState;
use indexmap::set::MutableValues;
use indexmap::{Equivalent, IndexSet};

/// One field and its value in a single exactly sized buffer: the field's
/// length (LEB128), the field, the value.
#[derive(Clone)]
struct Pair(Box<[u8]>);

impl Pair {
    fn new(field: &[u8], value: &[u8]) -> Pair {
        let mut prefix = [0u8; 10];
        let mut prefix_len = 0;
        let mut len = field.len();
        loop {
            let low = (len & 0x7f) as u8;
            len >>= 7;
            prefix[prefix_len] = if len > 0 { low | 0x80 } else { low };
            prefix_len += 1;
            if len == 0 {
                break;
            }
        }
        let mut bytes = Vec::with_capacity(prefix_len + field.len() + value.len());
        bytes.extend_from_slice(&prefix[..prefix_len]);
        bytes.extend_from_slice(field);
        bytes.extend_from_slice(value);
        Pair(bytes.into_boxed_slice())
    }

    /// Where the field starts and ends.
    fn field_range(&self) -> (usize, usize) {
        let mut len = 0usize;
        let mut shift = 0;
        let mut at = 0;
        loop {
            let byte = self.0[at];
            at += 1;
            len |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return (at, at + len);
            }
            shift += 7;
        }
    }

    fn field(&self) -> &[u8] {
        let (start, end) = self.field_range();
        &self.0[start..end]
    }

    fn value(&self) -> &[u8] {
        &self.0[self.field_range().1..]
    }
}

// A pair is identified by its field alone: that is what the set looks up.
impl Hash for Pair {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.field().hash(state);
    }
}

impl PartialEq for Pair {
    fn eq(&self, other: &Pair) -> bool {
        self.field() == other.field()
    }
}

impl Eq for Pair {}

/// A field to look a pair up by; hashes as [`Pair`] does.
struct FieldRef<'a>(&'a [u8]);

impl Hash for FieldRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl Equivalent<Pair> for FieldRef<'_> {
    fn equivalent(&self, pair: &Pair) -> bool {
        self.0 == pair.field()
    }
}

/// A large hash: pairs in a hash set by field.
#[derive(Clone, Default)]
pub struct PairTable {
    pairs: IndexSet<Pair, RandomState>,
}

impl std::fmt::Debug for PairTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(field, value)| {
                (
                    String::from_utf8_lossy(field),
                    String::from_utf8_lossy(value),
                )
            }))
            .finish()
    }
}

impl PairTable {
    /// An empty table with room for `pairs` pairs.
    pub fn with_capacity(pairs: usize) -> PairTable {
        PairTable {
            pairs: IndexSet::with_capacity_and_hasher(pairs, RandomState::new()),
        }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// The value of `field`, if present.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.pairs.get(&FieldRef(field)).map(Pair::value)
    }

    /// Sets `field` to `value`; returns whether the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.pairs.get_full_mut2(&FieldRef(field)) {
            Some((_, pair)) => {
                // Same field, so the same hash and place in the set.
                *pair = Pair::new(field, value);
                false
            }
            None => {
                self.pairs.insert(Pair::new(field, value));
                true
            }
        }
    }

    /// Removes `field`; whether it was there. The last pair takes its
    /// position (see [`PairTable::scan`]).
    pub fn remove(&mut self, field: &[u8]) -> bool {
        self.pairs.swap_remove(&FieldRef(field))
    }

    /// Pair `index` (`index < len()`).
    pub fn get_index(&self, index: usize) -> (&[u8], &[u8]) {
        let pair = self.pairs.get_index(index).expect("index below len");
        (pair.field(), pair.value())
    }

    /// Every pair, in the table's order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.pairs.iter().map(|pair| (pair.field(), pair.value()))
    }

    /// Visits up to `count` positions going down from `cursor - 1` (cursor
    /// 0: from the end); returns the cursor to continue from, 0 when done.
    ///
    /// Walking down keeps SCAN's guarantee under `swap_remove`: a removal
    /// moves the last pair, already visited, into the hole, and new pairs
    /// are appended behind the walk. A cursor past the end (from before
    /// removals) starts at the end.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        let len = self.pairs.len();
        let mut position = match usize::try_from(cursor) {
            Ok(0) | Err(_) => len,
            Ok(cursor) => cursor.min(len),
        };
        let mut visited = 0;
        while position > 0 && visited < count {
            position -= 1;
            visited += 1;
            let (field, value) = self.get_index(position);
            visit(field, value);
        }
        position as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_found_by_field_and_replaced_in_place() {
        let mut table = PairTable::with_capacity(4);
        assert!(table.set(b"f", b"1"));
        assert!(table.set(b"g", b""));
        assert!(!table.set(b"f", b"22"));
        assert_eq!(table.get(b"f"), Some(&b"22"[..]));
        assert_eq!(table.get(b"g"), Some(&b""[..]));
        assert_eq!(table.get(b"h"), None);
        assert_eq!(table.get_index(0), (&b"f"[..], &b"22"[..]));
        assert!(table.remove(b"f"));
        assert!(!table.remove(b"f"));
        assert_eq!(table.len(), 1);
        let long = vec![b'q'; 1000];
        assert!(table.set(&long, &long));
        assert_eq!(table.get(&long), Some(&long[..]));
    }

    #[test]
    fn a_scan_sees_every_pair_present_throughout() {
        let mut table = PairTable::default();
        for index in 0..100 {
            table.set(format!("f{index}").as_bytes(), b"v");
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = table.scan(cursor, 7, |field, _| {
                seen.insert(field.to_vec());
            });
            // Remove a pair and add one between calls.
            round += 1;
            table.remove(format!("f{}", round * 3).as_bytes());
            table.set(format!("new{round}").as_bytes(), b"v");
            if cursor == 0 {
                break;
            }
        }
        for index in 0..100 {
            let kept_throughout = index % 3 != 0 || index / 3 > round || index == 0;
            if kept_throughout {
                assert!(seen.contains(format!("f{index}").as_bytes()), "f{index}");
            }
        }
    }
}
