//! The compact encoding of small hashes (`OBJECT ENCODING` says
//! `listpack`, as Redis's does): every field and value in one exactly sized
//! buffer, in insertion order.
//!
//! Layout: the pair count (LEB128), then each pair as a field entry and a
//! value entry. An entry is stored as the number of leading bytes it shares
//! with the previous entry of its kind (field after field, value after
//! value) and the bytes that follow them (front coding, as LevelDB stores
//! the keys of a block):
//!
//! ```text
//! entry  := header [shared] suffix
//! header := LEB128 of (suffix length << 1 | shares-a-prefix)
//! shared := LEB128, present when the header's low bit is set
//! ```
//!
//! An entry that shares nothing costs one length byte, as in the shared
//! [`Listpack`](super::listpack::Listpack); fields such as `field:1`,
//! `field:2` and values such as `2024-05-01T…` shrink to their differing
//! tails. Measured with `bench-harness/scripts/memory_collections.py` on a
//! million hashes of ten pairs `field:<j>` `value-<j>`: 0.76× Redis's
//! `used_memory`; with random text of the same lengths, which shares no
//! prefixes and so costs what a plain length-prefixed buffer would, 1.18×
//! (a keyspace entry costs about 40 bytes more than Redis's per key).
//!
//! The price is that entries are rebuilt while decoding, into two small
//! scratch buffers, and that every edit re-encodes the buffer (through
//! [`PairList`]). Both are O(n) in the size of the hash, as Redis's listpack
//! operations are, and n stays under `hash-max-listpack-entries`.

use std::ops::Range;

use smallvec::SmallVec;

/// Bytes of an entry rebuilt on the stack before spilling to the heap:
/// fields and values under the default `hash-max-listpack-value` fit.
const SCRATCH_INLINE_BYTES: usize = 64;

/// One rebuilt entry.
type Scratch = SmallVec<[u8; SCRATCH_INLINE_BYTES]>;

/// The pairs of a small hash, front coded in one exactly sized buffer.
#[derive(Clone, PartialEq, Eq)]
pub struct PackedPairs {
    bytes: Box<[u8]>,
}

impl Default for PackedPairs {
    fn default() -> PackedPairs {
        PackedPairs::from_pairs(std::iter::empty())
    }
}

impl std::fmt::Debug for PackedPairs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        let mut pairs = self.pairs();
        while let Some((field, value)) = pairs.next_pair() {
            map.entry(
                &String::from_utf8_lossy(field),
                &String::from_utf8_lossy(value),
            );
        }
        map.finish()
    }
}

fn varint_len(mut value: usize) -> usize {
    let mut bytes = 1;
    while value >= 0x80 {
        value >>= 7;
        bytes += 1;
    }
    bytes
}

fn write_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads the LEB128 number at `at`: (the number, the offset after it).
fn read_varint(bytes: &[u8], mut at: usize) -> (usize, usize) {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let byte = bytes[at];
        at += 1;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return (value, at);
        }
        shift += 7;
        debug_assert!(shift < usize::BITS, "a varint this encoder wrote");
    }
}

/// Rebuilds the entry at `at` over `text` (which holds the previous entry
/// of the same kind); returns the offset of the next entry.
fn decode_entry(bytes: &[u8], at: usize, text: &mut Scratch) -> usize {
    let (header, at) = read_varint(bytes, at);
    let suffix_len = header >> 1;
    let (shared, at) = if header & 1 == 1 {
        read_varint(bytes, at)
    } else {
        (0, at)
    };
    debug_assert!(shared <= text.len(), "a prefix of the previous entry");
    text.truncate(shared);
    text.extend_from_slice(&bytes[at..at + suffix_len]);
    at + suffix_len
}

fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Appends `entry`, front coded against `previous`.
fn encode_entry(out: &mut Vec<u8>, previous: &[u8], entry: &[u8]) {
    let shared = common_prefix_len(previous, entry);
    let suffix = &entry[shared..];
    // Sharing one byte costs the byte it saves: only longer prefixes count.
    if shared > 1 {
        write_varint(out, suffix.len() << 1 | 1);
        write_varint(out, shared);
    } else {
        write_varint(out, entry.len() << 1);
        out.extend_from_slice(entry);
        return;
    }
    out.extend_from_slice(suffix);
}

impl PackedPairs {
    /// The pairs in order, front coded into one exact buffer.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> PackedPairs {
        let mut body = Vec::new();
        let mut count = 0;
        let mut previous: (&[u8], &[u8]) = (b"", b"");
        for (field, value) in pairs {
            encode_entry(&mut body, previous.0, field);
            encode_entry(&mut body, previous.1, value);
            previous = (field, value);
            count += 1;
        }
        let mut bytes = Vec::with_capacity(varint_len(count) + body.len());
        write_varint(&mut bytes, count);
        bytes.extend_from_slice(&body);
        debug_assert_eq!(bytes.len(), bytes.capacity(), "exactly sized");
        PackedPairs {
            bytes: bytes.into_boxed_slice(),
        }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        read_varint(&self.bytes, 0).0
    }

    /// Bytes of the buffer.
    #[cfg(test)]
    fn bytes_len(&self) -> usize {
        self.bytes.len()
    }

    /// A decoder over the pairs in order.
    pub fn pairs(&self) -> Pairs<'_> {
        let (count, at) = read_varint(&self.bytes, 0);
        Pairs {
            bytes: &self.bytes,
            at,
            left: count,
            field: Scratch::new(),
            value: Scratch::new(),
        }
    }

    /// Calls `found` with the value of `field`, if present.
    pub fn with_value<R>(&self, field: &[u8], found: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let mut pairs = self.pairs();
        while let Some((candidate, value)) = pairs.next_pair() {
            if candidate == field {
                return Some(found(value));
            }
        }
        None
    }

    /// All pairs, decoded into a list that can be edited and packed again.
    pub fn unpack(&self) -> PairList {
        let mut list = PairList::with_capacity(self.len(), self.bytes.len() * 2);
        let mut pairs = self.pairs();
        while let Some((field, value)) = pairs.next_pair() {
            list.push(field, value);
        }
        list
    }
}

/// Decodes a [`PackedPairs`] pair by pair. Each pair is rebuilt into the
/// decoder's own buffers, so it lends the pair until the next call (use it
/// as `while let Some((field, value)) = pairs.next_pair()`).
#[derive(Debug)]
pub struct Pairs<'a> {
    bytes: &'a [u8],
    at: usize,
    left: usize,
    field: Scratch,
    value: Scratch,
}

impl Pairs<'_> {
    /// The next field and value, or `None` after the last.
    pub fn next_pair(&mut self) -> Option<(&[u8], &[u8])> {
        if self.left == 0 {
            debug_assert_eq!(self.at, self.bytes.len(), "the count matches the entries");
            return None;
        }
        self.left -= 1;
        self.at = decode_entry(self.bytes, self.at, &mut self.field);
        self.at = decode_entry(self.bytes, self.at, &mut self.value);
        Some((&self.field, &self.value))
    }
}

/// A small hash decoded for editing: the bytes of every entry in one
/// buffer and each pair's ranges into it, in order. Edits append to the
/// buffer and move ranges; [`PairList::pack`] writes the result once.
#[derive(Debug, Clone, Default)]
pub struct PairList {
    text: Vec<u8>,
    pairs: Vec<(Range<usize>, Range<usize>)>,
}

impl PairList {
    /// An empty list with room for `pairs` pairs and `text_bytes` of text.
    pub fn with_capacity(pairs: usize, text_bytes: usize) -> PairList {
        PairList {
            text: Vec::with_capacity(text_bytes),
            pairs: Vec::with_capacity(pairs),
        }
    }

    fn append_text(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.text.len();
        self.text.extend_from_slice(bytes);
        start..self.text.len()
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Appends a pair (the caller knows `field` is not present).
    pub fn push(&mut self, field: &[u8], value: &[u8]) {
        let field = self.append_text(field);
        let value = self.append_text(value);
        self.pairs.push((field, value));
    }

    /// The position of `field`, if present.
    pub fn position(&self, field: &[u8]) -> Option<usize> {
        self.pairs
            .iter()
            .position(|(candidate, _)| &self.text[candidate.clone()] == field)
    }

    /// Pair `index`.
    pub fn get(&self, index: usize) -> (&[u8], &[u8]) {
        let (field, value) = &self.pairs[index];
        (&self.text[field.clone()], &self.text[value.clone()])
    }

    /// Sets `field` to `value`, in place if present, else at the end;
    /// returns whether the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.position(field) {
            Some(index) => {
                let value = self.append_text(value);
                self.pairs[index].1 = value;
                false
            }
            None => {
                self.push(field, value);
                true
            }
        }
    }

    /// Removes `field`, keeping the order of the rest; whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.position(field) {
            Some(index) => {
                self.pairs.remove(index);
                true
            }
            None => false,
        }
    }

    /// The pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.pairs
            .iter()
            .map(|(field, value)| (&self.text[field.clone()], &self.text[value.clone()]))
    }

    /// The pairs, front coded into one exact buffer.
    pub fn pack(&self) -> PackedPairs {
        PackedPairs::from_pairs(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(packed: &PackedPairs) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        let mut pairs = packed.pairs();
        while let Some((field, value)) = pairs.next_pair() {
            out.push((field.to_vec(), value.to_vec()));
        }
        out
    }

    #[test]
    fn shared_prefixes_shrink_similar_entries() {
        let fields: Vec<String> = (0..10).map(|i| format!("field:{i}")).collect();
        let values: Vec<String> = (0..10).map(|i| format!("value-{i}")).collect();
        let packed = PackedPairs::from_pairs(
            fields
                .iter()
                .zip(&values)
                .map(|(f, v)| (f.as_bytes(), v.as_bytes())),
        );
        // Count, then the first pair whole (1 + 7 each), then nine pairs of
        // one header, one shared length and one byte each.
        assert_eq!(packed.bytes_len(), 1 + 2 * 8 + 9 * 2 * 3);
        assert_eq!(packed.len(), 10);
        let pairs = decoded(&packed);
        assert_eq!(pairs[3], (b"field:3".to_vec(), b"value-3".to_vec()));
        assert_eq!(
            packed.with_value(b"field:9", <[u8]>::to_vec),
            Some(b"value-9".to_vec())
        );
        assert_eq!(packed.with_value(b"field:", <[u8]>::to_vec), None);
    }

    #[test]
    fn unrelated_entries_cost_one_length_byte() {
        let packed = PackedPairs::from_pairs([(&b"a"[..], &b"xyz"[..]), (b"bc", b"")]);
        assert_eq!(packed.bytes_len(), 1 + (1 + 1) + (1 + 3) + (1 + 2) + 1);
        assert_eq!(
            decoded(&packed),
            [
                (b"a".to_vec(), b"xyz".to_vec()),
                (b"bc".to_vec(), Vec::new())
            ]
        );
    }

    #[test]
    fn long_and_empty_entries_round_trip() {
        let long = vec![b'x'; 300];
        let mut longer = long.clone();
        longer.extend_from_slice(&[b'y'; 200]);
        let pairs: Vec<(&[u8], &[u8])> = vec![
            (&long, b""),
            (&longer, &long),
            (b"", &longer),
            (&long[..299], &longer[..1]),
        ];
        let packed = PackedPairs::from_pairs(pairs.iter().copied());
        let expected: Vec<(Vec<u8>, Vec<u8>)> = pairs
            .iter()
            .map(|(f, v)| (f.to_vec(), v.to_vec()))
            .collect();
        assert_eq!(decoded(&packed), expected);
        assert_eq!(decoded(&packed.unpack().pack()), expected);
    }

    #[test]
    fn pair_list_edits_keep_insertion_order() {
        let mut list = PairList::default();
        assert!(list.set(b"a", b"1"));
        assert!(list.set(b"b", b"2"));
        assert!(list.set(b"c", b"3"));
        assert!(!list.set(b"a", b"10"));
        assert!(list.remove(b"b"));
        assert!(!list.remove(b"b"));
        let packed = list.pack();
        assert_eq!(
            decoded(&packed),
            [
                (b"a".to_vec(), b"10".to_vec()),
                (b"c".to_vec(), b"3".to_vec())
            ]
        );
        assert_eq!(list.get(1), (&b"c"[..], &b"3"[..]));
        assert_eq!(PairList::default().pack().len(), 0);
    }
}
