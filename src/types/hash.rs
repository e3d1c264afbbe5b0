//! Hashes: field-value pairs front coded in one buffer while small
//! (`listpack`), in a hash table of pairs once past Redis's thresholds
//! (`hashtable`), as Redis 7.0 converts them: when a field or value longer
//! than `hash-max-listpack-value` arrives, or the hash grows past
//! `hash-max-listpack-entries` pairs, and never back.

#[path = "hash_pack.rs"]
mod pack;
#[path = "hash_table.rs"]
mod table;

pub use pack::{PackedPairs, PairList};
pub use table::PairTable;

/// When a small hash converts to a hash table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListpackLimits {
    /// `hash-max-listpack-entries`: more pairs convert.
    pub max_entries: u64,
    /// `hash-max-listpack-value`: a longer field or value converts.
    pub max_value_bytes: u64,
}

/// A hash value.
#[derive(Debug, Clone)]
pub enum HashValue {
    /// Pairs in insertion order, front coded in one buffer.
    Listpack(PackedPairs),
    /// Pairs in a hash table, boxed so that a small hash stays one small
    /// box and one buffer.
    Table(Box<PairTable>),
}

// Every hash key pays for the box this lives in: keep it two words.
const _: () = assert!(std::mem::size_of::<HashValue>() <= 16);

impl Default for HashValue {
    /// An empty small hash (a command fills it before storing it).
    fn default() -> HashValue {
        HashValue::Listpack(PackedPairs::default())
    }
}

/// Two hashes are equal when they hold the same pairs, whatever their
/// encodings and orders.
impl PartialEq for HashValue {
    fn eq(&self, other: &HashValue) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let mut same = true;
        self.for_each(|field, value| {
            same = same && other.with_value(field, |theirs| theirs == value) == Some(true);
        });
        same
    }
}

impl HashValue {
    /// The name `OBJECT ENCODING` answers with.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            HashValue::Listpack(_) => "listpack",
            HashValue::Table(_) => "hashtable",
        }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        match self {
            HashValue::Listpack(packed) => packed.len(),
            HashValue::Table(table) => table.len(),
        }
    }

    /// Whether there are no pairs (a stored hash never is).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `found` with the value of `field`, if present.
    pub fn with_value<R>(&self, field: &[u8], found: impl FnOnce(&[u8]) -> R) -> Option<R> {
        match self {
            HashValue::Listpack(packed) => packed.with_value(field, found),
            HashValue::Table(table) => table.get(field).map(found),
        }
    }

    /// Whether `field` is present.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.with_value(field, |_| ()).is_some()
    }

    /// Visits every pair: in insertion order when small, in the table's
    /// order when large.
    pub fn for_each(&self, mut visit: impl FnMut(&[u8], &[u8])) {
        match self {
            HashValue::Listpack(packed) => {
                let mut pairs = packed.pairs();
                while let Some((field, value)) = pairs.next_pair() {
                    visit(field, value);
                }
            }
            HashValue::Table(table) => table.iter().for_each(|(field, value)| visit(field, value)),
        }
    }

    /// Converts a small hash to a table if any of `entries` (fields and
    /// values about to be written) is longer than the limit, as Redis's
    /// `hashTypeTryConversion` does before a write.
    fn convert_if_too_long(&mut self, entries: &[&[u8]], limits: ListpackLimits) {
        let too_long = entries
            .iter()
            .any(|entry| entry.len() as u64 > limits.max_value_bytes);
        if too_long {
            self.convert_to_table();
        }
    }

    /// Converts a small hash to the table encoding (no-op if it is one).
    pub fn convert_to_table(&mut self) {
        if let HashValue::Listpack(packed) = self {
            let mut table = PairTable::with_capacity(packed.len());
            let mut pairs = packed.pairs();
            while let Some((field, value)) = pairs.next_pair() {
                table.set(field, value);
            }
            *self = HashValue::Table(Box::new(table));
        }
    }

    /// Sets each field to its value (`pairs` alternates fields and values;
    /// a field named twice takes the later value at the earlier position);
    /// returns how many fields are new. Converts as `limits` say.
    pub fn set_pairs(&mut self, pairs: &[&[u8]], limits: ListpackLimits) -> usize {
        debug_assert!(pairs.len() % 2 == 0, "fields and values alternate");
        self.convert_if_too_long(pairs, limits);
        match self {
            HashValue::Listpack(packed) => {
                let mut list = packed.unpack();
                let created = pairs
                    .chunks_exact(2)
                    .filter(|pair| list.set(pair[0], pair[1]))
                    .count();
                if list.len() as u64 > limits.max_entries {
                    let mut table = PairTable::with_capacity(list.len());
                    list.iter().for_each(|(field, value)| {
                        table.set(field, value);
                    });
                    *self = HashValue::Table(Box::new(table));
                } else {
                    *packed = list.pack();
                }
                created
            }
            HashValue::Table(table) => pairs
                .chunks_exact(2)
                .filter(|pair| table.set(pair[0], pair[1]))
                .count(),
        }
    }

    /// Removes each of `fields` that is present; returns how many were.
    pub fn remove_fields(&mut self, fields: &[&[u8]]) -> usize {
        match self {
            HashValue::Listpack(packed) => {
                let mut list = packed.unpack();
                let removed = fields.iter().filter(|field| list.remove(field)).count();
                if removed > 0 {
                    *packed = list.pack();
                }
                removed
            }
            HashValue::Table(table) => fields.iter().filter(|field| table.remove(field)).count(),
        }
    }

    /// The pairs in an indexable form for drawing many at random: the
    /// small encoding decoded once, the table as it is.
    pub fn indexed(&self) -> Indexed<'_> {
        match self {
            HashValue::Listpack(packed) => Indexed::List(packed.unpack()),
            HashValue::Table(table) => Indexed::Table(table),
        }
    }

    /// One step of HSCAN from `cursor`: a small hash visits every pair and
    /// finishes (as Redis does); a table visits up to `count` positions.
    /// Returns the next cursor, 0 when done.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            HashValue::Listpack(_) => {
                self.for_each(visit);
                0
            }
            HashValue::Table(table) => table.scan(cursor, count, &mut visit),
        }
    }
}

/// Pairs by position (see [`HashValue::indexed`]).
#[derive(Debug)]
pub enum Indexed<'a> {
    /// A small hash, decoded.
    List(PairList),
    /// A table.
    Table(&'a PairTable),
}

impl Indexed<'_> {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        match self {
            Indexed::List(list) => list.len(),
            Indexed::Table(table) => table.len(),
        }
    }

    /// Pair `index` (`index < len()`).
    pub fn get(&self, index: usize) -> (&[u8], &[u8]) {
        match self {
            Indexed::List(list) => list.get(index),
            Indexed::Table(table) => table.get_index(index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator for the randomized tests.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, bound: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % bound as u64) as usize
        }
    }

    const LIMITS: ListpackLimits = ListpackLimits {
        max_entries: 8,
        max_value_bytes: 12,
    };

    fn pairs_of(hash: &HashValue) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut pairs = Vec::new();
        hash.for_each(|field, value| pairs.push((field.to_vec(), value.to_vec())));
        pairs
    }

    #[test]
    fn a_small_box_holds_either_encoding() {
        assert!(std::mem::size_of::<HashValue>() <= 16);
    }

    #[test]
    fn conversion_follows_the_limits_and_never_goes_back() {
        let mut hash = HashValue::default();
        assert_eq!(
            hash.set_pairs(&[b"a", b"1", b"b", b"2", b"a", b"3"], LIMITS),
            2
        );
        assert_eq!(hash.encoding_name(), "listpack");
        assert_eq!(
            pairs_of(&hash),
            [
                (b"a".to_vec(), b"3".to_vec()),
                (b"b".to_vec(), b"2".to_vec())
            ]
        );
        // A long value converts, and the pair goes into the table.
        assert_eq!(hash.set_pairs(&[b"a", b"a value past twelve"], LIMITS), 0);
        assert_eq!(hash.encoding_name(), "hashtable");
        assert_eq!(hash.remove_fields(&[b"a", b"b"]), 2);
        assert!(hash.is_empty());
        assert_eq!(hash.encoding_name(), "hashtable");

        let mut many = HashValue::default();
        let fields: Vec<String> = (0..9).map(|i| format!("f{i}")).collect();
        let args: Vec<&[u8]> = fields.iter().flat_map(|f| [f.as_bytes(), b"v"]).collect();
        assert_eq!(many.set_pairs(&args[..16], LIMITS), 8);
        assert_eq!(many.encoding_name(), "listpack");
        assert_eq!(many.set_pairs(&args[16..], LIMITS), 1);
        assert_eq!(many.encoding_name(), "hashtable");
        assert_eq!(many.len(), 9);
    }

    #[test]
    fn scan_of_a_small_hash_returns_everything_at_once() {
        let mut hash = HashValue::default();
        hash.set_pairs(&[b"a", b"1", b"b", b"2"], LIMITS);
        let mut seen = Vec::new();
        assert_eq!(hash.scan(12345, 1, |field, _| seen.push(field.to_vec())), 0);
        assert_eq!(seen, [b"a".to_vec(), b"b".to_vec()]);
    }

    /// Thousands of random edits against an insertion-ordered list of
    /// pairs: contents always agree, the small encoding keeps the model's
    /// order, and the encoding is the one Redis's rules give.
    #[test]
    fn random_edits_match_a_simple_model() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for round in 0..40 {
            let mut hash = HashValue::default();
            let mut model: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            let mut converted = false;
            for _ in 0..200 {
                let field = format!("field:{}", rng.below(12)).into_bytes();
                let value_len = if round % 4 == 0 {
                    rng.below(14)
                } else {
                    rng.below(6)
                };
                let value: Vec<u8> = (0..value_len)
                    .map(|i| b'a' + ((i + rng.below(3)) % 26) as u8)
                    .collect();
                match rng.below(5) {
                    0..=2 => {
                        let created = hash.set_pairs(&[&field, &value], LIMITS);
                        converted |= value.len() as u64 > LIMITS.max_value_bytes;
                        match model.iter_mut().find(|(f, _)| *f == field) {
                            Some(pair) => {
                                assert_eq!(created, 0);
                                pair.1 = value;
                            }
                            None => {
                                assert_eq!(created, 1);
                                model.push((field, value));
                            }
                        }
                        converted |= model.len() as u64 > LIMITS.max_entries;
                    }
                    3 => {
                        let removed = hash.remove_fields(&[&field, &field]);
                        let before = model.len();
                        model.retain(|(f, _)| *f != field);
                        assert_eq!(removed, before - model.len());
                    }
                    _ => {
                        let expected = model.iter().find(|(f, _)| *f == field).map(|p| p.1.clone());
                        assert_eq!(hash.with_value(&field, <[u8]>::to_vec), expected);
                        assert_eq!(hash.contains(&field), expected.is_some());
                    }
                }
                assert_eq!(hash.len(), model.len());
                let expected_encoding = if converted { "hashtable" } else { "listpack" };
                assert_eq!(hash.encoding_name(), expected_encoding);
                let mut pairs = pairs_of(&hash);
                if converted {
                    pairs.sort();
                    let mut sorted = model.clone();
                    sorted.sort();
                    assert_eq!(pairs, sorted);
                } else {
                    assert_eq!(pairs, model);
                }
                let indexed = hash.indexed();
                assert_eq!(indexed.len(), model.len());
                if !model.is_empty() {
                    let index = rng.below(model.len());
                    let (field, value) = indexed.get(index);
                    assert!(model.iter().any(|(f, v)| f == field && v == value));
                }
            }
            let copy = hash.clone();
            assert_eq!(copy, hash);
        }
    }
}
