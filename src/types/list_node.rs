//! One node of a list's quicklist: a run of elements in one exactly sized
//! buffer, readable from either end.
//!
//! Layout: a 4-byte little-endian element count, a 4-byte count of free
//! bytes before the first element (room for pushes at the head), those
//! bytes, then each element as its length (LEB128), its bytes, and its
//! length again with the LEB128 bytes reversed (a "back length", as in
//! Redis's listpack). The shared
//! [`Listpack`](super::listpack::Listpack) reads forward only; a list pops
//! from its tail as often as from its head, and the back length finds the
//! last element without walking the node (RPOP and LRANGE from the tail
//! would otherwise cost a pass over up to 8 KiB per element). Pops at the
//! tail shrink the buffer in place (a realloc the allocator answers without
//! moving) and pushes there grow it the same way. At the head, moving every
//! element for each push or pop cost LPUSH a tenth of its time on 8 KiB
//! nodes (Redis's listpack pays the same): a node past `HEADROOM_FROM_BYTES`
//! keeps free room before its first element, so head pushes write into it
//! and head pops only widen it, and the elements move once per
//! `HEADROOM_MAX_BYTES` or so. Smaller nodes stay exactly sized.
//!
//! The price is one byte per element under 128 bytes (two up to 16 KiB):
//! an element of `n` bytes takes `n + 2` bytes, against Redis's `n + 2` for
//! strings under 64 bytes.

use std::fmt;

/// Bytes taken by the element count and the head room size.
pub const HEADER_BYTES: usize = 8;
/// Nodes whose elements take fewer bytes get no head room: moving them is
/// cheap, and many small lists should not carry spare bytes.
const HEADROOM_FROM_BYTES: usize = 512;
/// The most head room a node gets at once.
const HEADROOM_MAX_BYTES: usize = 4096;
/// Elements at most: the count is a u32.
const ENTRIES_MAX: usize = u32::MAX as usize;

/// A run of list elements in one buffer.
#[derive(Clone)]
pub struct ListNode {
    /// Header, head room and entries.
    bytes: Box<[u8]>,
}

impl PartialEq for ListNode {
    fn eq(&self, other: &ListNode) -> bool {
        self.len() == other.len() && self.entries() == other.entries()
    }
}

impl Eq for ListNode {}

impl Default for ListNode {
    fn default() -> ListNode {
        ListNode::new()
    }
}

impl fmt::Debug for ListNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

/// Bytes of the LEB128 form of `len`.
fn varint_bytes(len: usize) -> usize {
    let mut rest = len >> 7;
    let mut bytes = 1;
    while rest > 0 {
        rest >>= 7;
        bytes += 1;
    }
    bytes
}

/// Bytes an element of `len` bytes takes in a node.
pub fn entry_bytes(len: usize) -> usize {
    len + 2 * varint_bytes(len)
}

/// Writes `entry` with its lengths at the start of `out`, which is exactly
/// `entry_bytes(entry.len())` long.
fn encode_into(out: &mut [u8], entry: &[u8]) {
    let prefix = varint_bytes(entry.len());
    debug_assert_eq!(out.len(), entry.len() + 2 * prefix);
    let mut len = entry.len();
    for index in 0..prefix {
        let more = if index + 1 < prefix { 0x80 } else { 0 };
        let group = (len & 0x7f) as u8 | more;
        len >>= 7;
        out[index] = group;
        // The back length holds the same groups in reverse, so that reading
        // backwards meets the low group first, as reading forwards does.
        out[out.len() - 1 - index] = group;
    }
    out[prefix..prefix + entry.len()].copy_from_slice(entry);
}

fn write_entry(out: &mut Vec<u8>, entry: &[u8]) {
    let start = out.len();
    out.resize(start + entry_bytes(entry.len()), 0);
    encode_into(&mut out[start..], entry);
}

/// Reads the entry starting at `offset`: (data start, data end, next
/// entry's offset).
fn read_forward(bytes: &[u8], offset: usize) -> (usize, usize, usize) {
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
    let data_end = position + len;
    (position, data_end, data_end + (position - offset))
}

/// Reads the entry ending at `end`: (its offset, data start, data end).
fn read_backward(bytes: &[u8], end: usize) -> (usize, usize, usize) {
    let mut len = 0usize;
    let mut shift = 0;
    let mut position = end;
    loop {
        position -= 1;
        let byte = bytes[position];
        len |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let prefix = end - position;
    let data_start = position - len;
    (data_start - prefix, data_start, position)
}

impl ListNode {
    /// An empty node.
    pub fn new() -> ListNode {
        ListNode {
            bytes: vec![0; HEADER_BYTES].into_boxed_slice(),
        }
    }

    /// A node holding `entries` in order.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> ListNode {
        let mut out = vec![0; HEADER_BYTES];
        let mut count = 0;
        for entry in entries {
            write_entry(&mut out, entry);
            count += 1;
        }
        ListNode::from_parts(out, count)
    }

    /// A node from a buffer laid out as the module says, with `count`
    /// elements after `room` free bytes.
    fn from_parts_with_room(mut out: Vec<u8>, count: usize, room: usize) -> ListNode {
        assert!(count <= ENTRIES_MAX, "nodes stay far below 2^32 elements");
        assert!(
            HEADER_BYTES + room <= out.len(),
            "the head room lies inside"
        );
        out[..4].copy_from_slice(&(count as u32).to_le_bytes());
        out[4..HEADER_BYTES].copy_from_slice(&(room as u32).to_le_bytes());
        ListNode {
            bytes: out.into_boxed_slice(),
        }
    }

    fn from_parts(out: Vec<u8>, count: usize) -> ListNode {
        ListNode::from_parts_with_room(out, count, 0)
    }

    fn header_field(&self, at: usize) -> usize {
        let mut field = [0; 4];
        field.copy_from_slice(&self.bytes[at..at + 4]);
        u32::from_le_bytes(field) as usize
    }

    /// Free bytes before the first element.
    fn room(&self) -> usize {
        self.header_field(4)
    }

    /// Where the first element starts.
    fn data_start(&self) -> usize {
        HEADER_BYTES + self.room()
    }

    /// The encoded elements.
    fn entries(&self) -> &[u8] {
        &self.bytes[self.data_start()..]
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.header_field(0)
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of the header and the elements (the head room left out): what
    /// the list's fill limit counts.
    pub fn bytes_len(&self) -> usize {
        self.bytes.len() - self.room()
    }

    /// Gives back the head room (a node no pushes will reach).
    pub fn trim_room(&mut self) {
        if self.room() > 0 {
            let mut out = Vec::with_capacity(self.bytes_len());
            out.resize(HEADER_BYTES, 0);
            out.extend_from_slice(self.entries());
            *self = ListNode::from_parts(out, self.len());
        }
    }

    /// The elements, from the head; reversible.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            bytes: &self.bytes,
            front: self.data_start(),
            back: self.bytes.len(),
        }
    }

    /// The element at `index`, walking from the nearer end.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let len = self.len();
        if index >= len {
            None
        } else if index < len / 2 {
            self.iter().nth(index)
        } else {
            self.iter().nth_back(len - 1 - index)
        }
    }

    /// Whether some element equals `needle`.
    pub fn contains(&self, needle: &[u8]) -> bool {
        self.iter().any(|entry| entry == needle)
    }

    /// Byte offset where element `index` starts (`len()`: the end), walking
    /// from the nearer end.
    fn offset_of(&self, index: usize) -> usize {
        let len = self.len();
        assert!(index <= len, "index {index} within 0..={len}");
        let mut iter = self.iter();
        if index <= len / 2 {
            for _ in 0..index {
                iter.next();
            }
            iter.front
        } else {
            for _ in index..len {
                iter.next_back();
            }
            iter.back
        }
    }

    /// Replaces `count` elements from `index` by `entries`, in a new buffer:
    /// the edit every change in the middle is made of.
    pub fn splice(&mut self, index: usize, count: usize, entries: &[&[u8]]) {
        let len = self.len();
        assert!(
            index <= len && count <= len - index,
            "splice of {count} at {index} within {len} elements"
        );
        let start = self.offset_of(index);
        let mut end = start;
        for _ in 0..count {
            end = read_forward(&self.bytes, end).2;
        }
        let added: usize = entries.iter().map(|entry| entry_bytes(entry.len())).sum();
        let mut out = Vec::with_capacity(self.bytes_len() - (end - start) + added);
        out.extend_from_slice(&self.bytes[..HEADER_BYTES]);
        out.extend_from_slice(&self.bytes[self.data_start()..start]);
        entries
            .iter()
            .for_each(|entry| write_entry(&mut out, entry));
        out.extend_from_slice(&self.bytes[end..]);
        *self = ListNode::from_parts(out, len - count + entries.len());
    }

    /// Inserts `entry` before element `index` (`len()`: appends).
    pub fn insert(&mut self, index: usize, entry: &[u8]) {
        self.splice(index, 0, &[entry]);
    }

    /// Replaces element `index` by `entry`.
    pub fn replace(&mut self, index: usize, entry: &[u8]) {
        self.splice(index, 1, &[entry]);
    }

    /// Removes element `index`.
    pub fn remove(&mut self, index: usize) {
        self.splice(index, 1, &[]);
    }

    /// Removes `count` elements from `index`.
    pub fn remove_range(&mut self, index: usize, count: usize) {
        self.splice(index, count, &[]);
    }

    /// Runs `edit` over the buffer as a vector, then stores it back exactly
    /// sized, with `count` as the new element count. Growing and shrinking
    /// at the end reallocate in place whenever the allocator can.
    fn edit_in_place(&mut self, count: usize, edit: impl FnOnce(&mut Vec<u8>)) {
        let room = self.room();
        let mut bytes = std::mem::take(&mut self.bytes).into_vec();
        edit(&mut bytes);
        *self = ListNode::from_parts_with_room(bytes, count, room);
    }

    /// Appends one element.
    pub fn push_back(&mut self, entry: &[u8]) {
        self.extend_back(&[entry]);
    }

    /// Appends elements in order.
    pub fn extend_back(&mut self, entries: &[&[u8]]) {
        let added: usize = entries.iter().map(|entry| entry_bytes(entry.len())).sum();
        self.edit_in_place(self.len() + entries.len(), |bytes| {
            bytes.reserve_exact(added);
            entries.iter().for_each(|entry| write_entry(bytes, entry));
        });
    }

    /// Inserts elements before the first, in order (the first given ends up
    /// first).
    pub fn extend_front(&mut self, entries: &[&[u8]]) {
        let added: usize = entries.iter().map(|entry| entry_bytes(entry.len())).sum();
        let count = self.len() + entries.len();
        let room = self.room();
        if room < added {
            // Move the elements once, leaving room for the pushes to come
            // when the node is large enough to make moving them costly.
            let data_len = self.bytes.len() - self.data_start();
            let spare = if data_len + added >= HEADROOM_FROM_BYTES {
                (data_len / 2).clamp(HEADROOM_FROM_BYTES / 2, HEADROOM_MAX_BYTES)
            } else {
                0
            };
            let new_room = spare + added;
            let mut out = Vec::with_capacity(HEADER_BYTES + new_room + data_len);
            out.resize(HEADER_BYTES + new_room, 0);
            out.extend_from_slice(self.entries());
            *self = ListNode::from_parts_with_room(out, self.len(), new_room);
        }
        let room = self.room();
        let mut offset = HEADER_BYTES + room - added;
        for entry in entries {
            let size = entry_bytes(entry.len());
            encode_into(&mut self.bytes[offset..offset + size], entry);
            offset += size;
        }
        self.set_header(count, room - added);
    }

    /// Rewrites the header in place.
    fn set_header(&mut self, count: usize, room: usize) {
        assert!(count <= ENTRIES_MAX, "nodes stay far below 2^32 elements");
        self.bytes[..4].copy_from_slice(&(count as u32).to_le_bytes());
        self.bytes[4..HEADER_BYTES].copy_from_slice(&(room as u32).to_le_bytes());
    }

    /// Inserts one element before the first.
    pub fn push_front(&mut self, entry: &[u8]) {
        self.extend_front(&[entry]);
    }

    /// Removes and returns the first element.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let first = self.data_start();
        let (data_start, data_end, next) = read_forward(&self.bytes, first);
        let entry = self.bytes[data_start..data_end].to_vec();
        let room = next - HEADER_BYTES;
        let data_len = self.bytes.len() - next;
        if room <= HEADROOM_MAX_BYTES.max(data_len) && data_len >= HEADROOM_FROM_BYTES / 2 {
            // The popped bytes join the head room: nothing moves.
            self.set_header(len - 1, room);
        } else {
            // Too much room for what is left: give it back.
            let mut out = Vec::with_capacity(HEADER_BYTES + data_len);
            out.resize(HEADER_BYTES, 0);
            out.extend_from_slice(&self.bytes[next..]);
            *self = ListNode::from_parts(out, len - 1);
        }
        Some(entry)
    }

    /// Removes and returns the last element.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let (start, data_start, data_end) = read_backward(&self.bytes, self.bytes.len());
        let entry = self.bytes[data_start..data_end].to_vec();
        self.edit_in_place(len - 1, |bytes| bytes.truncate(start));
        Some(entry)
    }
}

/// Iterator over a node's elements, from either end.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    bytes: &'a [u8],
    /// Offset of the next element from the head.
    front: usize,
    /// End of the next element from the tail.
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.front >= self.back {
            return None;
        }
        let (start, end, next) = read_forward(self.bytes, self.front);
        self.front = next;
        Some(&self.bytes[start..end])
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        if self.front >= self.back {
            return None;
        }
        let (offset, start, end) = read_backward(self.bytes, self.back);
        self.back = offset;
        Some(&self.bytes[start..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(node: &ListNode) -> Vec<Vec<u8>> {
        node.iter().map(<[u8]>::to_vec).collect()
    }

    #[test]
    fn reads_the_same_from_either_end() {
        let long = vec![9u8; 20_000];
        let entries: Vec<&[u8]> = vec![b"a", b"", &long, &[0x80; 127], &[1; 128], b"z"];
        let node = ListNode::from_entries(entries.iter().copied());
        assert_eq!(node.len(), 6);
        assert!(node.iter().eq(entries.iter().copied()));
        assert!(node.iter().rev().eq(entries.iter().rev().copied()));
        for (index, entry) in entries.iter().enumerate() {
            assert_eq!(node.get(index), Some(*entry));
        }
        assert_eq!(node.get(6), None);
        let expected: usize = entries.iter().map(|entry| entry_bytes(entry.len())).sum();
        assert_eq!(node.bytes_len(), HEADER_BYTES + expected);
        assert_eq!(entry_bytes(127), 129);
        assert_eq!(entry_bytes(128), 132);
        assert_eq!(entry_bytes(20_000), 20_006);
    }

    #[test]
    fn a_double_ended_walk_meets_in_the_middle() {
        let node = ListNode::from_entries([&b"1"[..], b"2", b"3"]);
        let mut iter = node.iter();
        assert_eq!(iter.next(), Some(&b"1"[..]));
        assert_eq!(iter.next_back(), Some(&b"3"[..]));
        assert_eq!(iter.next_back(), Some(&b"2"[..]));
        assert_eq!(iter.next(), None);
        assert_eq!(iter.next_back(), None);
    }

    #[test]
    fn pushes_and_pops_keep_the_buffer_exact() {
        let mut node = ListNode::new();
        node.push_back(b"b");
        node.push_front(b"a");
        node.extend_back(&[b"c", &[5u8; 300]]);
        node.extend_front(&[b"x", b"y"]);
        assert_eq!(
            elements(&node),
            [&b"x"[..], b"y", b"a", b"b", b"c", &[5u8; 300]]
        );
        let expected = HEADER_BYTES + 5 * 3 + entry_bytes(300);
        assert_eq!(node.bytes_len(), expected);
        assert_eq!(node.pop_back(), Some(vec![5u8; 300]));
        assert_eq!(node.pop_front(), Some(b"x".to_vec()));
        assert_eq!(node.bytes_len(), HEADER_BYTES + 4 * 3);
        node.replace(1, b"A");
        node.insert(4, b"end");
        node.remove(0);
        assert_eq!(elements(&node), [&b"A"[..], b"b", b"c", b"end"]);
        node.remove_range(1, 2);
        assert_eq!(elements(&node), [&b"A"[..], b"end"]);
        assert!(node.contains(b"end"));
        assert!(!node.contains(b"b"));
        assert_eq!(node.pop_back(), Some(b"end".to_vec()));
        assert_eq!(node.pop_back(), Some(b"A".to_vec()));
        assert_eq!(node.pop_back(), None);
        assert_eq!(node.pop_front(), None);
        assert_eq!(node.bytes_len(), HEADER_BYTES);
    }

    #[test]
    fn a_large_node_pushes_and_pops_at_the_head_without_moving_its_elements() {
        let big = [7u8; 100];
        let mut node = ListNode::from_entries((0..20).map(|_| &big[..]));
        let mut moves = 0;
        let mut pointer = node.bytes.as_ptr();
        for round in 0..200u32 {
            node.push_front(&round.to_le_bytes());
            if node.bytes.as_ptr() != pointer {
                moves += 1;
                pointer = node.bytes.as_ptr();
            }
        }
        assert!(
            moves <= 3,
            "200 head pushes moved the elements {moves} times"
        );
        assert_eq!(node.get(0), Some(&199u32.to_le_bytes()[..]));
        assert_eq!(node.len(), 220);
        for round in (0..150u32).rev() {
            assert_eq!(
                node.pop_front(),
                Some(round.wrapping_add(50).to_le_bytes().to_vec())
            );
        }
        assert_eq!(node.len(), 70);
        let logical = node.bytes_len();
        assert!(node.bytes.len() > logical, "the popped bytes are head room");
        node.trim_room();
        assert_eq!(node.bytes.len(), logical);
        assert_eq!(node.get(0), Some(&49u32.to_le_bytes()[..]));
        assert_eq!(node.get(69), Some(&big[..]));
    }

    #[test]
    fn random_edits_match_a_vector() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        let mut node = ListNode::new();
        let mut model: Vec<Vec<u8>> = Vec::new();
        for step in 0..20_000 {
            let len = model.len();
            let element = vec![b'a' + next(3) as u8; [0, 1, 5, 127, 128, 300][next(6)]];
            match next(9) {
                0 | 1 => {
                    node.push_back(&element);
                    model.push(element);
                }
                2 | 3 => {
                    node.push_front(&element);
                    model.insert(0, element);
                }
                4 => assert_eq!(node.pop_back(), model.pop()),
                5 => assert_eq!(node.pop_front(), (len > 0).then(|| model.remove(0))),
                6 if len > 0 => {
                    let index = next(len);
                    node.replace(index, &element);
                    model[index] = element;
                }
                7 => {
                    let index = next(len + 1);
                    let count = next(len - index + 1).min(3);
                    node.remove_range(index, count);
                    model.drain(index..index + count);
                }
                _ => {
                    let index = next(len + 1);
                    assert_eq!(node.get(index), model.get(index).map(Vec::as_slice));
                }
            }
            assert_eq!(node.len(), model.len(), "step {step}");
            if step % 101 == 0 {
                assert!(node.iter().eq(model.iter().map(Vec::as_slice)));
                assert!(node.iter().rev().eq(model.iter().rev().map(Vec::as_slice)));
                let bytes: usize = model.iter().map(|entry| entry_bytes(entry.len())).sum();
                assert_eq!(node.bytes_len(), HEADER_BYTES + bytes);
            }
        }
    }
}
