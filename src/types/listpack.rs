//! A listpack: small collections as one exactly sized buffer, the way
//! Redis keeps small hashes, lists and sorted sets.
//!
//! Layout: a 4-byte little-endian entry count, then each entry as its length
//! (LEB128) and its bytes. One allocation holds the whole collection and
//! nothing is spare, which is what makes a million small hashes cheap; the
//! price is O(n) access by position, fine under the conversion thresholds
//! (`*-max-listpack-entries`, 128 to 512 entries).

use std::fmt;

/// Bytes taken by the entry count at the start of the buffer.
const HEADER_BYTES: usize = 4;
/// Entries at most: the count is a u32.
const ENTRIES_MAX: usize = u32::MAX as usize;

/// A compact sequence of byte strings.
#[derive(Clone, PartialEq, Eq)]
pub struct Listpack {
    /// Header and entries, exactly sized.
    bytes: Box<[u8]>,
}

impl Default for Listpack {
    fn default() -> Listpack {
        Listpack::new()
    }
}

impl fmt::Debug for Listpack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

/// Length prefix bytes for an entry of `len` bytes.
fn prefix_len(len: usize) -> usize {
    let mut len = len;
    let mut bytes = 1;
    while len >= 0x80 {
        len >>= 7;
        bytes += 1;
    }
    bytes
}

fn write_entry(out: &mut Vec<u8>, entry: &[u8]) {
    let mut len = entry.len();
    while len >= 0x80 {
        out.push((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(entry);
}

/// Reads the entry starting at `offset`: (its bytes' range, next offset).
fn read_entry(bytes: &[u8], offset: usize) -> (usize, usize, usize) {
    let mut len = 0usize;
    let mut shift = 0;
    let mut position = offset;
    loop {
        let byte = bytes[position];
        position += 1;
        len |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (position, position + len, position + len)
}

impl Listpack {
    /// An empty listpack.
    pub fn new() -> Listpack {
        Listpack {
            bytes: vec![0; HEADER_BYTES].into_boxed_slice(),
        }
    }

    /// A listpack holding `entries` in order.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Listpack {
        let mut out = vec![0; HEADER_BYTES];
        let mut count = 0;
        for entry in entries {
            write_entry(&mut out, entry);
            count += 1;
        }
        Listpack::from_parts(out, count)
    }

    fn from_parts(mut out: Vec<u8>, count: usize) -> Listpack {
        assert!(
            count <= ENTRIES_MAX,
            "listpacks stay far below 2^32 entries"
        );
        out[..HEADER_BYTES].copy_from_slice(&(count as u32).to_le_bytes());
        Listpack {
            bytes: out.into_boxed_slice(),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        let mut count = [0; HEADER_BYTES];
        count.copy_from_slice(&self.bytes[..HEADER_BYTES]);
        u32::from_le_bytes(count) as usize
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the buffer, for memory accounting.
    pub fn bytes_len(&self) -> usize {
        self.bytes.len()
    }

    fn set_len(&mut self, count: usize) {
        assert!(
            count <= ENTRIES_MAX,
            "listpacks stay far below 2^32 entries"
        );
        self.bytes[..HEADER_BYTES].copy_from_slice(&(count as u32).to_le_bytes());
    }

    /// The entries in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            bytes: &self.bytes,
            offset: HEADER_BYTES,
        }
    }

    /// The entry at `index`, if any (O(n)).
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.iter().nth(index)
    }

    /// The first entry.
    pub fn first(&self) -> Option<&[u8]> {
        self.iter().next()
    }

    /// The last entry.
    pub fn last(&self) -> Option<&[u8]> {
        self.iter().last()
    }

    /// The index of the first entry equal to `needle` among the entries at
    /// `start`, `start + step`, ... (hash fields and sorted-set members sit
    /// at even positions: `find(field, 0, 2)`).
    pub fn find(&self, needle: &[u8], start: usize, step: usize) -> Option<usize> {
        assert!(step > 0, "a step of zero would not advance");
        self.iter()
            .enumerate()
            .skip(start)
            .step_by(step)
            .find(|(_, entry)| *entry == needle)
            .map(|(index, _)| index)
    }

    /// Byte offset where entry `index` starts (`index == len()`: the end).
    fn offset_of(&self, index: usize) -> usize {
        assert!(
            index <= self.len(),
            "index {index} within 0..={}",
            self.len()
        );
        let mut offset = HEADER_BYTES;
        for _ in 0..index {
            offset = read_entry(&self.bytes, offset).2;
        }
        offset
    }

    /// Replaces `count` entries from `index` by `entries`: the one edit every
    /// insertion, removal and replacement is made of.
    pub fn splice(&mut self, index: usize, count: usize, entries: &[&[u8]]) {
        let len = self.len();
        assert!(
            index <= len && count <= len - index,
            "splice of {count} at {index} within {len} entries"
        );
        let start = self.offset_of(index);
        let mut end = start;
        for _ in 0..count {
            end = read_entry(&self.bytes, end).2;
        }
        let added: usize = entries
            .iter()
            .map(|entry| prefix_len(entry.len()) + entry.len())
            .sum();
        let mut out = Vec::with_capacity(self.bytes.len() - (end - start) + added);
        out.extend_from_slice(&self.bytes[..start]);
        entries
            .iter()
            .for_each(|entry| write_entry(&mut out, entry));
        out.extend_from_slice(&self.bytes[end..]);
        *self = Listpack::from_parts(out, len - count + entries.len());
    }

    /// Appends one entry.
    pub fn push_back(&mut self, entry: &[u8]) {
        let count = self.len() + 1;
        let mut out = std::mem::take(&mut self.bytes).into_vec();
        out.reserve_exact(prefix_len(entry.len()) + entry.len());
        write_entry(&mut out, entry);
        self.bytes = out.into_boxed_slice();
        self.set_len(count);
    }

    /// Appends several entries at once (a field and its value).
    pub fn extend_back(&mut self, entries: &[&[u8]]) {
        let count = self.len() + entries.len();
        let added: usize = entries
            .iter()
            .map(|entry| prefix_len(entry.len()) + entry.len())
            .sum();
        let mut out = std::mem::take(&mut self.bytes).into_vec();
        out.reserve_exact(added);
        entries
            .iter()
            .for_each(|entry| write_entry(&mut out, entry));
        self.bytes = out.into_boxed_slice();
        self.set_len(count);
    }

    /// Inserts one entry at the front.
    pub fn push_front(&mut self, entry: &[u8]) {
        self.splice(0, 0, &[entry]);
    }

    /// Inserts `entry` before entry `index` (`index == len()` appends).
    pub fn insert(&mut self, index: usize, entry: &[u8]) {
        self.splice(index, 0, &[entry]);
    }

    /// Replaces entry `index` by `entry`.
    pub fn replace(&mut self, index: usize, entry: &[u8]) {
        self.splice(index, 1, &[entry]);
    }

    /// Removes `count` entries from `index`.
    pub fn remove_range(&mut self, index: usize, count: usize) {
        self.splice(index, count, &[]);
    }

    /// Removes entry `index`.
    pub fn remove(&mut self, index: usize) {
        self.splice(index, 1, &[]);
    }

    /// Removes and returns the first entry.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let entry = self.first()?.to_vec();
        self.remove(0);
        Some(entry)
    }

    /// Removes and returns the last entry.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let len = self.len();
        let entry = self.last()?.to_vec();
        self.remove(len - 1);
        Some(entry)
    }
}

/// Iterator over a listpack's entries.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.offset >= self.bytes.len() {
            return None;
        }
        let (start, end, next) = read_entry(self.bytes, self.offset);
        self.offset = next;
        Some(&self.bytes[start..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(listpack: &Listpack) -> Vec<Vec<u8>> {
        listpack.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn keeps_entries_in_order_through_every_edit() {
        let mut listpack = Listpack::new();
        assert!(listpack.is_empty());
        listpack.push_back(b"b");
        listpack.push_front(b"a");
        listpack.extend_back(&[b"c", b""]);
        listpack.insert(2, b"bb");
        assert_eq!(entries(&listpack), [&b"a"[..], b"b", b"bb", b"c", b""]);
        listpack.replace(1, b"B");
        listpack.remove(4);
        assert_eq!(listpack.pop_front(), Some(b"a".to_vec()));
        assert_eq!(listpack.pop_back(), Some(b"c".to_vec()));
        assert_eq!(entries(&listpack), [&b"B"[..], b"bb"]);
        assert_eq!(listpack.len(), 2);
        listpack.remove_range(0, 2);
        assert!(listpack.is_empty());
        assert_eq!(listpack.pop_back(), None);
    }

    #[test]
    fn long_entries_take_multi_byte_lengths() {
        let long = vec![7u8; 300];
        let listpack = Listpack::from_entries([&long[..], b"x", &[0u8; 128][..]]);
        assert_eq!(listpack.get(0), Some(&long[..]));
        assert_eq!(listpack.get(1), Some(&b"x"[..]));
        assert_eq!(listpack.get(2).map(<[u8]>::len), Some(128));
        assert_eq!(listpack.get(3), None);
        assert_eq!(
            listpack.bytes_len(),
            HEADER_BYTES + 2 + 300 + 1 + 1 + 2 + 128
        );
    }

    #[test]
    fn find_looks_only_at_the_stepped_positions() {
        let listpack = Listpack::from_entries([&b"f1"[..], b"v1", b"v1", b"f1"]);
        assert_eq!(listpack.find(b"f1", 0, 2), Some(0));
        assert_eq!(listpack.find(b"v1", 0, 2), Some(2));
        assert_eq!(listpack.find(b"f1", 1, 2), Some(3));
        assert_eq!(listpack.find(b"zz", 0, 1), None);
    }

    #[test]
    fn buffer_is_exactly_sized() {
        let mut listpack = Listpack::new();
        for index in 0..100u32 {
            listpack.push_back(index.to_string().as_bytes());
        }
        let expected: usize = (0..100u32).map(|i| 1 + i.to_string().len()).sum();
        assert_eq!(listpack.bytes_len(), HEADER_BYTES + expected);
        assert_eq!(listpack.len(), 100);
    }
}
