//! A listpack: small collections as one exactly sized buffer, the way
//! Redis keeps small hashes, lists and sorted sets.
//!
//! Layout: a 4-byte little-endian entry count, then each entry as its length
//! (LEB128) and its bytes. One allocation holds the whole collection and
//! nothing is spare, which is what makes a million small hashes cheap; the
//! price is O(n) access by position, fine under the conversion thresholds
//! (`zset-max-listpack-entries`, 128 entries by default). Sorted sets use it;
//! hashes and lists keep their own variants (prefix-compressed pairs, and
//! entries readable from both ends).

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

    /// The entries in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            bytes: &self.bytes,
            offset: HEADER_BYTES,
        }
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

    /// Removes `count` entries from `index`.
    pub fn remove_range(&mut self, index: usize, count: usize) {
        self.splice(index, count, &[]);
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
        assert_eq!(listpack.len(), 0);
        listpack.splice(0, 0, &[b"b"]);
        listpack.splice(0, 0, &[b"a"]);
        listpack.splice(2, 0, &[b"c", b""]);
        listpack.splice(2, 0, &[b"bb"]);
        assert_eq!(entries(&listpack), [&b"a"[..], b"b", b"bb", b"c", b""]);
        listpack.splice(1, 1, &[b"B"]);
        listpack.remove_range(4, 1);
        listpack.remove_range(0, 1);
        assert_eq!(entries(&listpack), [&b"B"[..], b"bb", b"c"]);
        assert_eq!(listpack.len(), 3);
        listpack.remove_range(0, 3);
        assert_eq!(listpack.len(), 0);
        assert_eq!(listpack, Listpack::new());
    }

    #[test]
    fn long_entries_take_multi_byte_lengths() {
        let long = vec![7u8; 300];
        let listpack = Listpack::from_entries([&long[..], b"x", &[0u8; 128][..]]);
        let all = entries(&listpack);
        assert_eq!(all[0], long);
        assert_eq!(all[1], b"x");
        assert_eq!(all[2].len(), 128);
        assert_eq!(all.len(), 3);
        assert_eq!(
            listpack.bytes.len(),
            HEADER_BYTES + 2 + 300 + 1 + 1 + 2 + 128
        );
    }

    #[test]
    fn buffer_is_exactly_sized() {
        let numbers: Vec<String> = (0..100u32).map(|index| index.to_string()).collect();
        let listpack = Listpack::from_entries(numbers.iter().map(String::as_bytes));
        let expected: usize = numbers.iter().map(|number| 1 + number.len()).sum();
        assert_eq!(listpack.bytes.len(), HEADER_BYTES + expected);
        assert_eq!(listpack.len(), 100);
    }
}
