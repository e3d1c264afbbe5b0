//! One node of a list's quicklist: a run of elements in one exactly sized
//! buffer, readable from either end.
//!
//! Layout: a 4-byte little-endian element count, a 4-byte count of free
//! bytes before the first element (room for pushes at the head), those
//! bytes, then the elements `e0 .. e(k-1)` interleaved with `k + 1`
//! boundaries: `B0 e0 B1 e1 .. B(k-1) e(k-1) Bk`. Boundary `Bj` holds
//! `len(e(j-1)) XOR len(ej)`, a missing neighbour counting as length 0, so
//! `B0` is the first element's length and `Bk` the last's. An empty node
//! has no boundary at all. A walk forwards knows the length of the element
//! it just passed and learns the next one's from the boundary after it; a
//! walk backwards does the same the other way (the XOR-linked list trick,
//! applied to lengths).
//!
//! A boundary reads the same from both ends: a value below 128 is that one
//! byte (high bit clear); a larger one is `0x80 | w`, the value in `w`
//! little-endian bytes (the fewest that hold it), and `0x80 | w` again.
//!
//! The shared [`Listpack`](super::listpack::Listpack) reads forward only; a
//! list pops from its tail as often as from its head, and the boundaries
//! find the last element without walking the node (RPOP and LRANGE from
//! the tail would otherwise cost a pass over up to 8 KiB per element). Pops
//! at the tail shrink the buffer in place (a realloc the allocator answers
//! without moving) and pushes there grow it the same way. At the head,
//! moving every element for each push or pop cost LPUSH a tenth of its time
//! on 8 KiB nodes (Redis's listpack pays the same): a node past
//! `HEADROOM_FROM_BYTES` keeps free room before its first element, so head
//! pushes write into it and head pops only widen it, and the elements move
//! once per `HEADROOM_MAX_BYTES` or so. Smaller nodes stay exactly sized.
//!
//! The price of reading from both ends is one boundary per element plus one
//! per node: an element of `n` bytes beside neighbours under 128 bytes takes
//! `n + 1` bytes, where a length before the element and the same length
//! reversed after it (Redis's listpack, and this node before) take `n + 2`.
//! Lengths from 128 to 255 take `n + 3`, and up to 64 KiB `n + 4`. The cost
//! of the XOR: sizes depend on neighbours (an element's boundaries change
//! when its neighbour does), so the list sizes nodes through
//! [`ListNode::bytes_len_after_push`], [`ListNode::splice_bytes_len`] and
//! [`ListNode::merged_bytes_len`], which are exact.

use std::fmt;

use smallvec::SmallVec;

/// Bytes taken by the element count and the head room size.
pub const HEADER_BYTES: usize = 8;
/// Nodes whose elements take fewer bytes get no head room: moving them is
/// cheap, and many small lists should not carry spare bytes.
const HEADROOM_FROM_BYTES: usize = 512;
/// The most head room a node gets at once.
const HEADROOM_MAX_BYTES: usize = 4096;
/// Elements at most: the count is a u32.
const ENTRIES_MAX: usize = u32::MAX as usize;
/// Boundary values below this take one byte: the value itself.
const BOUNDARY_SHORT_BELOW: usize = 0x80;
/// Bytes of the widest value a long boundary holds: any length fits.
const BOUNDARY_VALUE_BYTES_MAX: usize = std::mem::size_of::<usize>();

// The tag of a long boundary holds its width below the high bit.
const _: () = assert!(BOUNDARY_VALUE_BYTES_MAX < BOUNDARY_SHORT_BELOW);

/// A run of list elements in one buffer.
#[derive(Clone)]
pub struct ListNode {
    /// Header, head room and entries.
    bytes: Box<[u8]>,
}

/// Two nodes are equal when they hold the same elements: the encoding of a
/// run of elements is unique, so comparing the bytes is enough.
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

/* ---------------------------------------------------------------------------
 * Boundaries
 * ------------------------------------------------------------------------- */

/// Fewest little-endian bytes that hold `value` (at least one).
fn value_bytes(value: usize) -> usize {
    let bits = (usize::BITS - value.leading_zeros()) as usize;
    bits.div_ceil(8).max(1)
}

/// Bytes of the boundary holding `value`.
fn boundary_bytes(value: usize) -> usize {
    if value < BOUNDARY_SHORT_BELOW {
        1
    } else {
        value_bytes(value) + 2
    }
}

/// Writes the boundary holding `value` at the start of `out`; returns its
/// size.
fn write_boundary(out: &mut [u8], value: usize) -> usize {
    if value < BOUNDARY_SHORT_BELOW {
        out[0] = value as u8;
        return 1;
    }
    let width = value_bytes(value);
    debug_assert!(width <= BOUNDARY_VALUE_BYTES_MAX);
    let tag = 0x80 | width as u8;
    out[0] = tag;
    out[1..=width].copy_from_slice(&value.to_le_bytes()[..width]);
    out[width + 1] = tag;
    width + 2
}

/// The width a long boundary's tag gives.
fn tag_width(tag: u8) -> usize {
    let width = usize::from(tag & 0x7f);
    debug_assert!(
        (1..=BOUNDARY_VALUE_BYTES_MAX).contains(&width),
        "boundary tag {tag:#x}"
    );
    width
}

fn read_value(bytes: &[u8]) -> usize {
    let mut value = [0; BOUNDARY_VALUE_BYTES_MAX];
    value[..bytes.len()].copy_from_slice(bytes);
    usize::from_le_bytes(value)
}

/// Reads the boundary starting at `at`: (its value, where it ends).
fn read_forward(bytes: &[u8], at: usize) -> (usize, usize) {
    let tag = bytes[at];
    if tag & 0x80 == 0 {
        return (usize::from(tag), at + 1);
    }
    let width = tag_width(tag);
    debug_assert_eq!(bytes[at + width + 1], tag, "a boundary ends as it starts");
    (read_value(&bytes[at + 1..=at + width]), at + width + 2)
}

/// Reads the boundary ending at `end`: (its value, where it starts).
fn read_backward(bytes: &[u8], end: usize) -> (usize, usize) {
    let tag = bytes[end - 1];
    if tag & 0x80 == 0 {
        return (usize::from(tag), end - 1);
    }
    let width = tag_width(tag);
    let start = end - width - 2;
    debug_assert_eq!(bytes[start], tag, "a boundary starts as it ends");
    (read_value(&bytes[start + 1..end - 1]), start)
}

/// Bytes of a run of elements of `lens` between a neighbour of length
/// `left` and one of length `right` (`None`: the node ends there): each
/// element with the boundary before it, then the boundary after the last
/// (between the neighbours when the run is empty; nothing when there is
/// neither element nor neighbour).
fn run_bytes(
    left: Option<usize>,
    lens: impl IntoIterator<Item = usize>,
    right: Option<usize>,
) -> usize {
    let mut bytes = 0;
    let mut previous = left;
    for len in lens {
        bytes += boundary_bytes(previous.unwrap_or(0) ^ len) + len;
        previous = Some(len);
    }
    if previous.is_some() || right.is_some() {
        bytes += boundary_bytes(previous.unwrap_or(0) ^ right.unwrap_or(0));
    }
    bytes
}

/// Writes the run [`run_bytes`] measures into `out`, exactly that long.
fn encode_run(out: &mut [u8], left: Option<usize>, entries: &[&[u8]], right: Option<usize>) {
    let mut at = 0;
    let mut previous = left;
    for entry in entries {
        at += write_boundary(&mut out[at..], previous.unwrap_or(0) ^ entry.len());
        out[at..at + entry.len()].copy_from_slice(entry);
        at += entry.len();
        previous = Some(entry.len());
    }
    if previous.is_some() || right.is_some() {
        at += write_boundary(&mut out[at..], previous.unwrap_or(0) ^ right.unwrap_or(0));
    }
    debug_assert_eq!(at, out.len(), "the run fills its place");
}

/// Bytes a node of `bytes_len` bytes whose end element (the one a push
/// lands beside) is `end_len` bytes long (`None`: the node is empty) takes
/// after one more element of `len` bytes is pushed there. Either end gives
/// the same: the end boundary is replaced by the boundary between the two,
/// the element and the new end boundary.
pub fn bytes_len_after_push(bytes_len: usize, end_len: Option<usize>, len: usize) -> usize {
    bytes_len - end_len.map_or(0, boundary_bytes) + run_bytes(end_len, [len], None)
}

/// Where elements `index .. index + count` of a node lie, with their
/// neighbours: what a splice keeps on either side.
struct Span {
    /// Start of the boundary before element `index`.
    start: usize,
    /// Length of element `index - 1`, if there is one.
    left: Option<usize>,
    /// Where the kept bytes resume: the data of element `index + count`, or
    /// the end of the buffer when there is none.
    end: usize,
    /// Length of element `index + count`, if there is one.
    right: Option<usize>,
}

/* ---------------------------------------------------------------------------
 * The node
 * ------------------------------------------------------------------------- */

impl ListNode {
    /// An empty node.
    pub fn new() -> ListNode {
        ListNode {
            bytes: vec![0; HEADER_BYTES].into_boxed_slice(),
        }
    }

    /// A node holding `entries` in order.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> ListNode {
        let entries: SmallVec<[&[u8]; 8]> = entries.into_iter().collect();
        let run = run_bytes(None, entries.iter().map(|entry| entry.len()), None);
        let mut out = vec![0; HEADER_BYTES + run];
        encode_run(&mut out[HEADER_BYTES..], None, &entries, None);
        ListNode::from_parts(out, entries.len())
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

    /// Rewrites the header in place.
    fn set_header(&mut self, count: usize, room: usize) {
        assert!(count <= ENTRIES_MAX, "nodes stay far below 2^32 elements");
        self.bytes[..4].copy_from_slice(&(count as u32).to_le_bytes());
        self.bytes[4..HEADER_BYTES].copy_from_slice(&(room as u32).to_le_bytes());
    }

    /// Free bytes before the first element.
    fn room(&self) -> usize {
        self.header_field(4)
    }

    /// Where the first boundary starts.
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

    /// Length of the first element (the first boundary holds it).
    fn first_len(&self) -> Option<usize> {
        (!self.is_empty()).then(|| read_forward(&self.bytes, self.data_start()).0)
    }

    /// Length of the last element (the last boundary holds it).
    fn last_len(&self) -> Option<usize> {
        (!self.is_empty()).then(|| read_backward(&self.bytes, self.bytes.len()).0)
    }

    /// Length of the element at the head (`left`) or the tail, if any.
    pub fn end_len(&self, left: bool) -> Option<usize> {
        if left {
            self.first_len()
        } else {
            self.last_len()
        }
    }

    /// What [`bytes_len`](Self::bytes_len) becomes once an element of `len`
    /// bytes is pushed at the head (`left`) or the tail.
    pub fn bytes_len_after_push(&self, left: bool, len: usize) -> usize {
        bytes_len_after_push(self.bytes_len(), self.end_len(left), len)
    }

    /// What [`bytes_len`](Self::bytes_len) of `left` and `right` made one
    /// node (the elements of `left`, then those of `right`) is.
    pub fn merged_bytes_len(left: &ListNode, right: &ListNode) -> usize {
        let apart = left.bytes_len() + right.bytes_len() - HEADER_BYTES;
        match (left.last_len(), right.first_len()) {
            // The two end boundaries become the one between them.
            (Some(last), Some(first)) => {
                apart - boundary_bytes(last) - boundary_bytes(first) + boundary_bytes(last ^ first)
            }
            _ => apart,
        }
    }

    /// What [`bytes_len`](Self::bytes_len) becomes once `count` elements
    /// from `index` are replaced by elements of `lens` bytes.
    pub fn splice_bytes_len(&self, index: usize, count: usize, lens: &[usize]) -> usize {
        self.spliced_bytes_len(&self.span(index, count), lens.iter().copied())
    }

    fn spliced_bytes_len(&self, span: &Span, lens: impl IntoIterator<Item = usize>) -> usize {
        HEADER_BYTES
            + (span.start - self.data_start())
            + run_bytes(span.left, lens, span.right)
            + (self.bytes.len() - span.end)
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
            front_len: 0,
            back: self.bytes.len(),
            back_len: 0,
            remaining: self.len(),
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

    /// Where the boundary before element `index` (`len()`: the last
    /// boundary) starts, and the length of element `index - 1` if there is
    /// one, walking from the nearer end of a node that is not empty.
    fn boundary_before(&self, index: usize) -> (usize, Option<usize>) {
        let len = self.len();
        debug_assert!(0 < len && index <= len, "index {index} within 1..={len}");
        let mut iter = self.iter();
        if index <= len / 2 {
            if index > 0 {
                iter.nth(index - 1);
            }
            (iter.front, (index > 0).then_some(iter.front_len))
        } else {
            if index < len {
                iter.nth_back(len - 1 - index);
            }
            // The walk stopped after the boundary; it holds the length of
            // the element before it XOR the one after, which the walk knows.
            let (value, start) = read_backward(&self.bytes, iter.back);
            (start, Some(value ^ iter.back_len))
        }
    }

    /// Locates elements `index .. index + count`.
    fn span(&self, index: usize, count: usize) -> Span {
        let len = self.len();
        assert!(
            index <= len && count <= len - index,
            "splice of {count} at {index} within {len} elements"
        );
        if len == 0 {
            let end = self.bytes.len();
            return Span {
                start: end,
                left: None,
                end,
                right: None,
            };
        }
        let (start, left) = self.boundary_before(index);
        let mut at = start;
        let mut previous = left.unwrap_or(0);
        for _ in 0..count {
            let (value, data) = read_forward(&self.bytes, at);
            previous ^= value;
            at = data + previous;
        }
        if index + count == len {
            // Nothing is kept after: the last boundary goes too.
            return Span {
                start,
                left,
                end: self.bytes.len(),
                right: None,
            };
        }
        let (value, data) = read_forward(&self.bytes, at);
        Span {
            start,
            left,
            end: data,
            right: Some(value ^ previous),
        }
    }

    /// Replaces `count` elements from `index` by `entries`, in a new buffer:
    /// the edit every change in the middle is made of. The bytes before the
    /// boundary ahead of `index` and from the data of the first element kept
    /// after are copied as they are; the boundaries between are written
    /// anew.
    pub fn splice(&mut self, index: usize, count: usize, entries: &[&[u8]]) {
        let len = self.len();
        let span = self.span(index, count);
        let lens = entries.iter().map(|entry| entry.len());
        let run = run_bytes(span.left, lens.clone(), span.right);
        let mut out = Vec::with_capacity(self.spliced_bytes_len(&span, lens));
        out.extend_from_slice(&self.bytes[..HEADER_BYTES]);
        out.extend_from_slice(&self.bytes[self.data_start()..span.start]);
        let at = out.len();
        out.resize(at + run, 0);
        encode_run(&mut out[at..], span.left, entries, span.right);
        out.extend_from_slice(&self.bytes[span.end..]);
        debug_assert_eq!(out.len(), out.capacity(), "spliced exactly sized");
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

    /// Appends elements in order: the last boundary gives way to the
    /// elements and their boundaries.
    pub fn extend_back(&mut self, entries: &[&[u8]]) {
        if entries.is_empty() {
            return;
        }
        let last = self.last_len();
        let keep = self.bytes.len() - last.map_or(0, boundary_bytes);
        let run = run_bytes(last, entries.iter().map(|entry| entry.len()), None);
        self.edit_in_place(self.len() + entries.len(), |bytes| {
            bytes.truncate(keep);
            bytes.reserve_exact(run);
            bytes.resize(keep + run, 0);
            encode_run(&mut bytes[keep..], last, entries, None);
        });
    }

    /// Inserts elements before the first, in order (the first given ends up
    /// first). They and their boundaries replace the first boundary and end
    /// where the first element's data starts.
    pub fn extend_front(&mut self, entries: &[&[u8]]) {
        if entries.is_empty() {
            return;
        }
        let first = self.first_len();
        let first_data = self.data_start() + first.map_or(0, boundary_bytes);
        let run = run_bytes(None, entries.iter().map(|entry| entry.len()), first);
        let count = self.len() + entries.len();
        let run_end = if first_data - HEADER_BYTES >= run {
            first_data
        } else {
            // Move the elements once, leaving room for the pushes to come
            // when the node is large enough to make moving them costly.
            let data_len = self.bytes.len() - first_data;
            let spare = if data_len + run >= HEADROOM_FROM_BYTES {
                (data_len / 2).clamp(HEADROOM_FROM_BYTES / 2, HEADROOM_MAX_BYTES)
            } else {
                0
            };
            let run_end = HEADER_BYTES + spare + run;
            let mut out = Vec::with_capacity(run_end + data_len);
            out.resize(run_end, 0);
            out.extend_from_slice(&self.bytes[first_data..]);
            self.bytes = out.into_boxed_slice();
            run_end
        };
        let start = run_end - run;
        encode_run(&mut self.bytes[start..run_end], None, entries, first);
        self.set_header(count, start - HEADER_BYTES);
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
        let (first_len, data) = read_forward(&self.bytes, self.data_start());
        let entry = self.bytes[data..data + first_len].to_vec();
        let start = if len == 1 {
            self.bytes.len()
        } else {
            // The second element's length becomes the first boundary,
            // written where its data starts. The bytes it replaces always
            // hold it: the boundary between the two carries the bits of
            // the second length above the first's.
            let (value, second_data) = read_forward(&self.bytes, data + first_len);
            let second_len = value ^ first_len;
            let start = second_data - boundary_bytes(second_len);
            debug_assert!(start >= self.data_start(), "the first boundary fits");
            write_boundary(&mut self.bytes[start..second_data], second_len);
            start
        };
        let room = start - HEADER_BYTES;
        let data_len = self.bytes.len() - start;
        if room <= HEADROOM_MAX_BYTES.max(data_len) && data_len >= HEADROOM_FROM_BYTES / 2 {
            // The popped bytes join the head room: nothing moves.
            self.set_header(len - 1, room);
        } else {
            // Too much room for what is left: give it back.
            let mut out = Vec::with_capacity(HEADER_BYTES + data_len);
            out.resize(HEADER_BYTES, 0);
            out.extend_from_slice(&self.bytes[start..]);
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
        let (last_len, data_end) = read_backward(&self.bytes, self.bytes.len());
        let data_start = data_end - last_len;
        let entry = self.bytes[data_start..data_end].to_vec();
        if len == 1 {
            let end = self.data_start();
            self.edit_in_place(0, |bytes| bytes.truncate(end));
        } else {
            // The element before becomes the last: its length is the last
            // boundary, in no more bytes than the ones it replaces.
            let (value, start) = read_backward(&self.bytes, data_start);
            let before_len = value ^ last_len;
            let end = start + boundary_bytes(before_len);
            debug_assert!(end <= self.bytes.len(), "the last boundary fits");
            self.edit_in_place(len - 1, |bytes| {
                bytes.truncate(end);
                write_boundary(&mut bytes[start..], before_len);
            });
        }
        Some(entry)
    }
}

/// Iterator over a node's elements, from either end. An offset alone does
/// not say where an element ends: each end also carries the length of the
/// element it last passed.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    bytes: &'a [u8],
    /// Start of the boundary before the next element from the head.
    front: usize,
    /// Length of the element before that boundary (0 at the head).
    front_len: usize,
    /// End of the boundary after the next element from the tail.
    back: usize,
    /// Length of the element after that boundary (0 at the tail).
    back_len: usize,
    /// Elements not yet returned from either end.
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let (value, start) = read_forward(self.bytes, self.front);
        let len = value ^ self.front_len;
        self.front = start + len;
        self.front_len = len;
        Some(&self.bytes[start..start + len])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let (value, end) = read_backward(self.bytes, self.back);
        let len = value ^ self.back_len;
        self.back = end - len;
        self.back_len = len;
        Some(&self.bytes[end - len..end])
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes a boundary takes at most: the value and a tag at either end.
    const BOUNDARY_BYTES_MAX: usize = BOUNDARY_VALUE_BYTES_MAX + 2;

    /// Lengths whose boundaries take every width up to three value bytes,
    /// and whose XORs with each other cross widths.
    const WIDTH_LENGTHS: [usize; 7] = [0, 1, 127, 128, 255, 256, 70_000];

    fn elements(node: &ListNode) -> Vec<Vec<u8>> {
        node.iter().map(<[u8]>::to_vec).collect()
    }

    /// Distinct elements of the given lengths, so that a misplaced one shows.
    fn filled(lens: &[usize]) -> Vec<Vec<u8>> {
        lens.iter()
            .enumerate()
            .map(|(index, &len)| vec![b'a' + (index % 26) as u8; len])
            .collect()
    }

    fn refs(entries: &[Vec<u8>]) -> Vec<&[u8]> {
        entries.iter().map(Vec::as_slice).collect()
    }

    /// What a node of `entries` takes, from the layout the module describes.
    fn expected_bytes_len<T: AsRef<[u8]>>(entries: &[T]) -> usize {
        if entries.is_empty() {
            return HEADER_BYTES;
        }
        let lens: Vec<usize> = entries.iter().map(|entry| entry.as_ref().len()).collect();
        let mut bytes =
            HEADER_BYTES + boundary_bytes(lens[0]) + boundary_bytes(lens[lens.len() - 1]);
        for pair in lens.windows(2) {
            bytes += boundary_bytes(pair[0] ^ pair[1]);
        }
        bytes + lens.iter().sum::<usize>()
    }

    /// Reads the node whole from both ends and element by element.
    fn assert_holds(node: &ListNode, model: &[Vec<u8>]) {
        assert_eq!(node.len(), model.len());
        assert!(node.iter().eq(model.iter().map(Vec::as_slice)));
        assert!(node.iter().rev().eq(model.iter().rev().map(Vec::as_slice)));
        for (index, entry) in model.iter().enumerate() {
            assert_eq!(node.get(index), Some(entry.as_slice()), "element {index}");
        }
        assert_eq!(node.get(model.len()), None);
        assert_eq!(node.bytes_len(), expected_bytes_len(model));
    }

    #[test]
    fn boundaries_take_the_fewest_bytes() {
        assert_eq!(boundary_bytes(0), 1);
        assert_eq!(boundary_bytes(127), 1);
        assert_eq!(boundary_bytes(128), 3);
        assert_eq!(boundary_bytes(255), 3);
        assert_eq!(boundary_bytes(256), 4);
        assert_eq!(boundary_bytes(65_535), 4);
        assert_eq!(boundary_bytes(65_536), 5);
        assert_eq!(boundary_bytes(usize::MAX), BOUNDARY_BYTES_MAX);
        for value in [0, 1, 127, 128, 255, 256, 70_000, 1 << 40, usize::MAX] {
            let mut out = [0xee; BOUNDARY_BYTES_MAX + 2];
            let size = write_boundary(&mut out[1..], value);
            assert_eq!(size, boundary_bytes(value));
            assert_eq!(read_forward(&out, 1), (value, 1 + size));
            assert_eq!(read_backward(&out, 1 + size), (value, 1));
        }
    }

    #[test]
    fn a_node_is_laid_out_as_documented() {
        let node = ListNode::from_entries([&b"ab"[..], b"c"]);
        assert_eq!(node.entries(), [2, b'a', b'b', 2 ^ 1, b'c', 1]);
        let long = [7u8; 128];
        let node = ListNode::from_entries([&b"x"[..], &long]);
        let mut expected = vec![1, b'x', 0x81, 129, 0x81];
        expected.extend_from_slice(&long);
        expected.extend_from_slice(&[0x81, 128, 0x81]);
        assert_eq!(node.entries(), expected);
        assert_eq!(ListNode::new().entries(), []);
        // Short elements take one byte more than their data, and the node
        // one more for its last boundary.
        let short = ListNode::from_entries((0..100).map(|_| &b"element:12345"[..]));
        assert_eq!(short.bytes_len(), HEADER_BYTES + 100 * 14 + 1);
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
        assert_eq!(node.bytes_len(), expected_bytes_len(&entries));
    }

    #[test]
    fn boundaries_of_every_width_read_the_same_from_both_ends() {
        // Every ordered pair of lengths as neighbours, in one node and
        // alone, so that each XOR is read forwards and backwards.
        let mut lens = Vec::new();
        for &a in &WIDTH_LENGTHS {
            for &b in &WIDTH_LENGTHS {
                lens.extend([a, b]);
                let pair = filled(&[a, b, a]);
                assert_holds(&ListNode::from_entries(refs(&pair)), &pair);
            }
        }
        let model = filled(&lens);
        let node = ListNode::from_entries(refs(&model));
        assert_holds(&node, &model);
        let mut iter = node.iter();
        for step in 0..model.len() {
            let (got, want) = if step % 3 == 0 {
                (iter.next_back(), &model[model.len() - 1 - step / 3])
            } else {
                (iter.next(), &model[step - step.div_ceil(3)])
            };
            assert_eq!(got, Some(want.as_slice()), "step {step}");
            assert_eq!(iter.len(), model.len() - 1 - step);
        }
        assert_eq!(iter.next(), None);
        assert_eq!(iter.next_back(), None);
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
        // Five one-byte elements, 300 bytes, and six boundaries: five
        // short ones, then 1 ^ 300 and 300 in four bytes each.
        assert_eq!(node.bytes_len(), HEADER_BYTES + 5 * 2 + 300 + 4 + 4);
        assert_eq!(node.pop_back(), Some(vec![5u8; 300]));
        assert_eq!(node.pop_front(), Some(b"x".to_vec()));
        assert_eq!(node.bytes_len(), HEADER_BYTES + 4 * 2 + 1);
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
        assert_eq!(node, ListNode::new());
    }

    #[test]
    fn sizes_are_known_before_the_edit() {
        for &end in &WIDTH_LENGTHS {
            for &len in &WIDTH_LENGTHS {
                let base = filled(&[3, end]);
                let entry = vec![b'z'; len];
                for left in [true, false] {
                    let mut node = ListNode::from_entries(refs(&base));
                    if left {
                        node = ListNode::from_entries(refs(&base).into_iter().rev());
                    }
                    let predicted = node.bytes_len_after_push(left, len);
                    if left {
                        node.push_front(&entry);
                    } else {
                        node.push_back(&entry);
                    }
                    assert_eq!(node.bytes_len(), predicted, "{len} beside {end}");
                }
                let empty = ListNode::new();
                assert_eq!(
                    empty.bytes_len_after_push(false, len),
                    ListNode::from_entries([&entry[..]]).bytes_len()
                );
                let left = ListNode::from_entries(refs(&filled(&[1, end])));
                let right = ListNode::from_entries([&entry[..], b"q"]);
                let merged = ListNode::from_entries(left.iter().chain(right.iter()));
                assert_eq!(
                    ListNode::merged_bytes_len(&left, &right),
                    merged.bytes_len()
                );
                assert_eq!(ListNode::merged_bytes_len(&left, &empty), left.bytes_len());
            }
        }
    }

    #[test]
    fn splices_at_the_first_last_and_middle_elements() {
        let base = filled(&[5, 128, 0, 300, 1, 127, 256]);
        for &len in &WIDTH_LENGTHS {
            let new = vec![b'#'; len];
            for index in [0, 1, 3, base.len() - 1, base.len()] {
                for count in 0..=(base.len() - index).min(3) {
                    for added in 0..=2 {
                        let entries: Vec<&[u8]> = vec![&new[..]; added];
                        let mut node = ListNode::from_entries(refs(&base));
                        let lens = vec![len; added];
                        let predicted = node.splice_bytes_len(index, count, &lens);
                        node.splice(index, count, &entries);
                        let mut model = base.clone();
                        model.splice(index..index + count, vec![new.clone(); added]);
                        assert_holds(&node, &model);
                        assert_eq!(node.bytes_len(), predicted);
                    }
                }
            }
        }
        let mut node = ListNode::from_entries(refs(&base));
        node.remove_range(0, base.len());
        assert_eq!(node, ListNode::new());
        node.splice(0, 0, &[b"only"]);
        assert_holds(&node, &[b"only".to_vec()]);
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
    fn head_pushes_and_pops_across_widths_keep_the_room() {
        // Head pushes of every width onto a node large enough for room:
        // each rewrites the first boundary, narrower or wider than before.
        let mut model = filled(&[100; 10]);
        let mut node = ListNode::from_entries(refs(&model));
        let mut moves = 0;
        let mut pointer = node.bytes.as_ptr();
        for round in 0..300 {
            let len = [0, 1, 127, 128, 255, 256, 2, 200][round % 8];
            let entry = vec![(round % 251) as u8; len];
            node.push_front(&entry);
            model.insert(0, entry);
            if node.bytes.as_ptr() != pointer {
                moves += 1;
                pointer = node.bytes.as_ptr();
            }
            assert_eq!(node.bytes_len(), expected_bytes_len(&model));
        }
        assert_holds(&node, &model);
        assert!(
            moves <= 40,
            "300 head pushes moved the elements {moves} times"
        );
        while model.len() > 5 {
            assert_eq!(node.pop_front(), Some(model.remove(0)));
            assert_eq!(node.bytes_len(), expected_bytes_len(&model));
            assert_eq!(node.get(0), Some(model[0].as_slice()));
        }
        assert_holds(&node, &model);
        let logical = node.bytes_len();
        node.trim_room();
        assert_eq!(node.bytes.len(), logical);
        assert_holds(&node, &model);
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
            let size = match next(200) {
                0 => 70_000,
                pick => [0, 1, 5, 127, 128, 255, 256, 300][pick % 8],
            };
            let element = vec![b'a' + next(3) as u8; size];
            match next(9) {
                0 | 1 => {
                    let predicted = node.bytes_len_after_push(false, size);
                    node.push_back(&element);
                    assert_eq!(node.bytes_len(), predicted);
                    model.push(element);
                }
                2 | 3 => {
                    let predicted = node.bytes_len_after_push(true, size);
                    node.push_front(&element);
                    assert_eq!(node.bytes_len(), predicted);
                    model.insert(0, element);
                }
                4 => assert_eq!(node.pop_back(), model.pop()),
                5 => assert_eq!(node.pop_front(), (len > 0).then(|| model.remove(0))),
                6 if len > 0 => {
                    let index = next(len);
                    let predicted = node.splice_bytes_len(index, 1, &[size]);
                    node.replace(index, &element);
                    assert_eq!(node.bytes_len(), predicted);
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
                assert_eq!(node.bytes_len(), expected_bytes_len(&model));
            }
        }
    }
}
