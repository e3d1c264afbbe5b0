//! Lists: a quicklist of compact nodes, the one encoding Redis 7.0 keeps
//! every list in.
//!
//! A list is a sequence of nodes (`list_node.rs`), each holding a run of
//! elements in one exactly sized buffer readable from either end, sized by
//! `list-max-listpack-size` (the quicklist's `fill`): -1 to -5 cap a node at
//! 4, 8, 16, 32 or 64 KiB; a positive fill caps it at that many elements and
//! 8 KiB (Redis's safety limit). Pushes and pops work on the end elements of
//! the end nodes, in place; access by index skips whole nodes by their
//! counts, from the nearer end.
//!
//! A list of one node — every small list — is that node alone: the value
//! costs its small box and one exactly sized buffer. Longer lists keep their
//! nodes in a vector behind a second box, with the total length cached.
//!
//! Like Redis, the fill is fixed when the list is created; a later `CONFIG
//! SET` shapes new lists only. Nodes are merged when an edit leaves two
//! neighbours that fit in one (Redis merges after splits only; the layout of
//! nodes is not visible to clients).

use std::fmt;

// Declared here rather than in `types/mod.rs`: the node is this type's own
// business.
#[path = "list_node.rs"]
mod node;

use node::{bytes_len_after_push, ListNode};

/// Node size caps for `list-max-listpack-size` -1 to -5.
const NODE_LEVEL_BYTES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// The most bytes a node may hold under a count fill (Redis's
/// `SIZE_SAFETY_LIMIT`), so that a large count cannot make nodes huge.
const NODE_SAFETY_BYTES: usize = 8192;
/// The fill stored for every `list-max-listpack-size` below -5 (and 0):
/// Redis then lets no node hold a second element.
const FILL_ONE_PER_NODE: i64 = -6;
/// Counts above this fill behave alike: no node of `NODE_SAFETY_BYTES` can
/// hold more elements, as each takes at least one byte.
const FILL_COUNT_MAX: i64 = NODE_SAFETY_BYTES as i64;

const _: () = assert!(FILL_COUNT_MAX <= i16::MAX as i64 && FILL_ONE_PER_NODE >= i16::MIN as i64);

/// How full a node may grow: Redis's quicklist `fill`, clamped to the range
/// where values behave differently, so it fits in two bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fill(i16);

impl Fill {
    fn from_config(list_max_listpack_size: i64) -> Fill {
        let fill = if list_max_listpack_size < -5 || list_max_listpack_size == 0 {
            FILL_ONE_PER_NODE
        } else {
            list_max_listpack_size.min(FILL_COUNT_MAX)
        };
        Fill(fill as i16)
    }

    /// Whether a node of `bytes` bytes and `count` elements is within the
    /// fill. A node of one element always is, whatever its size.
    fn fits(self, bytes: usize, count: usize) -> bool {
        if count <= 1 {
            return true;
        }
        match self.0 {
            level @ -5..=-1 => bytes <= NODE_LEVEL_BYTES[(-1 - level) as usize],
            count_max if count_max > 0 => bytes <= NODE_SAFETY_BYTES && count <= count_max as usize,
            _ => false,
        }
    }

    /// Whether `node` may take one more element of `len` bytes at its head
    /// (`left`) or its tail. An element's size depends on its neighbour:
    /// the node measures it exactly.
    fn allows_push(self, node: &ListNode, left: bool, len: usize) -> bool {
        self.fits(node.bytes_len_after_push(left, len), node.len() + 1)
    }

    /// Whether `node` may take one more element of `len` bytes before its
    /// element `index`.
    fn allows_insert(self, node: &ListNode, index: usize, len: usize) -> bool {
        self.fits(node.splice_bytes_len(index, 0, &[len]), node.len() + 1)
    }

    /// Whether `left` and `right` fit in one node.
    fn allows_merge(self, left: &ListNode, right: &ListNode) -> bool {
        let bytes = ListNode::merged_bytes_len(left, right);
        left.is_empty() || right.is_empty() || self.fits(bytes, left.len() + right.len())
    }
}

/// A list value (`OBJECT ENCODING` says `quicklist`, as Redis 7.0 does for
/// every list).
#[derive(Clone)]
pub struct ListValue {
    fill: Fill,
    nodes: Nodes,
}

/// The nodes of a list.
#[derive(Debug, Clone)]
enum Nodes {
    /// A list of one node (possibly empty): every small list.
    One(ListNode),
    /// Two nodes or more, none empty.
    Many(Box<Quicklist>),
}

/// The nodes of a list longer than one node.
#[derive(Debug, Clone)]
struct Quicklist {
    /// At least two, none empty.
    nodes: Vec<ListNode>,
    /// Elements in all nodes.
    len: usize,
}

impl fmt::Debug for ListValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListValue")
            .field("fill", &self.fill.0)
            .field("nodes", &self.node_slice())
            .finish()
    }
}

/// Two lists are equal when they hold the same elements in the same order,
/// however their nodes are laid out.
impl PartialEq for ListValue {
    fn eq(&self, other: &ListValue) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Nodes {
    /// Nodes from an edited vector: empty nodes dropped, one node unboxed.
    fn from_vec(mut nodes: Vec<ListNode>) -> Nodes {
        nodes.retain(|node| !node.is_empty());
        if nodes.len() <= 1 {
            return Nodes::One(nodes.pop().unwrap_or_default());
        }
        let len = nodes.iter().map(ListNode::len).sum();
        Nodes::Many(Box::new(Quicklist { nodes, len }))
    }
}

/* ---------------------------------------------------------------------------
 * Type API: the operations the list commands (and the blocking commands
 * built on them) use.
 * ------------------------------------------------------------------------- */

impl ListValue {
    /// An empty list whose nodes follow `list_max_listpack_size` (the
    /// `list-max-listpack-size` in force when the list is created).
    pub fn new(list_max_listpack_size: i64) -> ListValue {
        ListValue {
            fill: Fill::from_config(list_max_listpack_size),
            nodes: Nodes::One(ListNode::new()),
        }
    }

    /// The name `OBJECT ENCODING` answers with (Redis 7.0 has no other).
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.nodes {
            Nodes::One(node) => node.len(),
            Nodes::Many(list) => list.len,
        }
    }

    /// Whether the list has no elements (a key never holds such a list).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The nodes, in order.
    fn node_slice(&self) -> &[ListNode] {
        match &self.nodes {
            Nodes::One(node) => std::slice::from_ref(node),
            Nodes::Many(list) => &list.nodes,
        }
    }

    /// Adds `element` at the head (`left`) or the tail.
    pub fn push(&mut self, left: bool, element: &[u8]) {
        let fill = self.fill;
        match &mut self.nodes {
            Nodes::One(node) if fill.allows_push(node, left, element.len()) => {
                push_into(node, left, element);
            }
            Nodes::One(node) => {
                let old = std::mem::take(node);
                let new = ListNode::from_entries([element]);
                let nodes = if left { vec![new, old] } else { vec![old, new] };
                self.nodes = Nodes::from_vec(nodes);
            }
            Nodes::Many(list) => {
                list.len += 1;
                let end = if left {
                    list.nodes.first_mut()
                } else {
                    list.nodes.last_mut()
                };
                let end = end.expect("a quicklist has two nodes or more");
                if fill.allows_push(end, left, element.len()) {
                    push_into(end, left, element);
                } else if left {
                    list.nodes.insert(0, ListNode::from_entries([element]));
                } else {
                    list.nodes.push(ListNode::from_entries([element]));
                }
            }
        }
    }

    /// Adds `elements` one after another at the head (`left`, so that the
    /// last ends up first) or the tail, as that many [`push`](Self::push)es
    /// would, but a run at a time: the end node grows once, and the rest
    /// goes into new nodes built at their final size: one reallocation per
    /// node rather than one per element (RPUSH of 1,000 elements).
    pub fn push_many(&mut self, left: bool, elements: &[&[u8]]) {
        let fill = self.fill;
        let end = match &mut self.nodes {
            Nodes::One(node) => node,
            Nodes::Many(list) => {
                let end = if left {
                    list.nodes.first_mut()
                } else {
                    list.nodes.last_mut()
                };
                end.expect("a quicklist has two nodes or more")
            }
        };
        let taken = fitting(fill, end, left, elements);
        push_run(end, left, &elements[..taken]);
        if taken < elements.len() {
            // Full: it is no longer the end that takes pushes.
            end.trim_room();
        }
        if let Nodes::Many(list) = &mut self.nodes {
            list.len += taken;
        }
        let mut rest = &elements[taken..];
        if rest.is_empty() {
            return;
        }
        let mut fresh = Vec::new();
        let empty = ListNode::new();
        while !rest.is_empty() {
            let taken = fitting(fill, &empty, left, rest);
            debug_assert!(taken > 0, "an empty node takes any element");
            let mut node = ListNode::new();
            push_run(&mut node, left, &rest[..taken]);
            rest = &rest[taken..];
            if !rest.is_empty() {
                node.trim_room();
            }
            fresh.push(node);
        }
        let added = elements.len() - taken;
        let mut nodes = match std::mem::replace(&mut self.nodes, Nodes::One(ListNode::new())) {
            Nodes::One(node) if node.is_empty() => Vec::new(),
            Nodes::One(node) => vec![node],
            Nodes::Many(list) => {
                let Quicklist { nodes, len } = *list;
                // Every node here is non-empty and the count is known: no
                // pass over all the nodes (from_vec) for each new one.
                let mut nodes = nodes;
                if left {
                    // The first run is nearest the old head.
                    nodes.splice(0..0, fresh.into_iter().rev());
                } else {
                    nodes.extend(fresh);
                }
                self.nodes = Nodes::Many(Box::new(Quicklist {
                    nodes,
                    len: len + added,
                }));
                return;
            }
        };
        if left {
            nodes.splice(0..0, fresh.into_iter().rev());
        } else {
            nodes.extend(fresh);
        }
        self.nodes = Nodes::from_vec(nodes);
    }

    /// Removes and returns the element at the head (`left`) or the tail.
    pub fn pop(&mut self, left: bool) -> Option<Vec<u8>> {
        let list = match &mut self.nodes {
            Nodes::One(node) => return pop_from(node, left),
            Nodes::Many(list) => list,
        };
        let index = if left { 0 } else { list.nodes.len() - 1 };
        let element = pop_from(&mut list.nodes[index], left);
        debug_assert!(element.is_some(), "quicklist nodes are never empty");
        list.len -= 1;
        if list.nodes[index].is_empty() {
            list.nodes.remove(index);
            if list.nodes.len() == 1 {
                let node = list.nodes.pop().expect("one node left");
                self.nodes = Nodes::One(node);
            }
        }
        element
    }

    /// The element at `index` (from the head), if any.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        if index >= self.len() {
            return None;
        }
        let nodes = self.node_slice();
        let (node, offset) = locate_nearest(nodes, self.len(), index);
        nodes[node].get(offset)
    }

    /// Replaces the element at `index`; false if there is none.
    pub fn set(&mut self, index: usize, element: &[u8]) -> bool {
        if index >= self.len() {
            return false;
        }
        let len = self.len();
        self.edit(
            |_| len,
            |nodes, fill| set_in(nodes, fill, len, index, element),
        );
        true
    }

    /// Inserts `element` before the element at `index` (`len()`: at the
    /// tail).
    pub fn insert(&mut self, index: usize, element: &[u8]) {
        let len = self.len();
        assert!(index <= len, "insert at {index} within 0..={len}");
        if index == 0 {
            self.push(true, element);
        } else if index == len {
            self.push(false, element);
        } else {
            self.edit(
                |_| len + 1,
                |nodes, fill| insert_in(nodes, fill, len, index, element),
            );
        }
    }

    /// Removes `count` elements from `start`.
    pub fn remove_range(&mut self, start: usize, count: usize) {
        let len = self.len();
        assert!(
            start <= len && count <= len - start,
            "remove {count} at {start} within {len}"
        );
        if count == 0 {
            return;
        }
        if count == len {
            self.nodes = Nodes::One(ListNode::new());
            return;
        }
        self.edit(
            |_| len - count,
            |nodes, fill| remove_range_in(nodes, fill, len, start, count),
        );
    }

    /// Removes elements equal to `element`, at most `limit` of them (0: all),
    /// the first ones from the head, or from the tail when `from_tail`
    /// (LREM); returns how many went.
    pub fn remove_matching(&mut self, element: &[u8], limit: u64, from_tail: bool) -> u64 {
        let limit = if limit == 0 { u64::MAX } else { limit };
        let len = self.len();
        self.edit(
            |removed| len - *removed as usize,
            |nodes, fill| {
                let removed = remove_matching_in(nodes, element, limit, from_tail);
                if removed > 0 {
                    merge_all(nodes, fill);
                }
                removed
            },
        )
    }

    /// The index of the first element equal to `element`, from the head.
    pub fn position(&self, element: &[u8]) -> Option<usize> {
        self.iter().position(|entry| entry == element)
    }

    /// The elements from the head.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.node_slice().iter().flat_map(ListNode::iter)
    }

    /// The elements from `start` on (none when `start >= len()`).
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = &[u8]> + '_ {
        let nodes = self.node_slice();
        let (node, offset) = if start < self.len() {
            locate_nearest(nodes, self.len(), start)
        } else {
            (nodes.len(), 0)
        };
        nodes[node..].iter().flat_map(ListNode::iter).skip(offset)
    }

    /// The elements from the tail.
    pub fn iter_rev(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.node_slice()
            .iter()
            .rev()
            .flat_map(|node| node.iter().rev())
    }

    /// Runs an edit over the nodes as a vector (which leaves no node empty),
    /// then stores the length `len_after` says and unboxes a single node.
    fn edit<R>(
        &mut self,
        len_after: impl FnOnce(&R) -> usize,
        edit: impl FnOnce(&mut Vec<ListNode>, Fill) -> R,
    ) -> R {
        let fill = self.fill;
        let list = match &mut self.nodes {
            Nodes::One(node) => {
                let mut nodes = vec![std::mem::take(node)];
                let result = edit(&mut nodes, fill);
                self.nodes = Nodes::from_vec(nodes);
                return result;
            }
            Nodes::Many(list) => list,
        };
        let result = edit(&mut list.nodes, fill);
        list.len = len_after(&result);
        debug_assert!(list.nodes.iter().all(|node| !node.is_empty()));
        debug_assert_eq!(list.len, list.nodes.iter().map(ListNode::len).sum());
        if list.nodes.len() <= 1 {
            self.nodes = Nodes::One(list.nodes.pop().unwrap_or_default());
        } else if list.nodes.capacity() > 4 * list.nodes.len() {
            // A trimmed list gives back the node vector it no longer needs.
            list.nodes.shrink_to_fit();
        }
        result
    }
}

/* ---------------------------------------------------------------------------
 * Node edits
 * ------------------------------------------------------------------------- */

fn push_into(node: &mut ListNode, left: bool, element: &[u8]) {
    if left {
        node.push_front(element);
    } else {
        node.push_back(element);
    }
}

/// Adds a run of elements to one end of a node, as pushes one at a time
/// would place them: at the head, the last ends up first.
fn push_run(node: &mut ListNode, left: bool, run: &[&[u8]]) {
    match run {
        [] => {}
        [element] => push_into(node, left, element),
        _ if left => {
            let reversed: Vec<&[u8]> = run.iter().rev().copied().collect();
            node.extend_front(&reversed);
        }
        _ => node.extend_back(run),
    }
}

/// How many of `elements`, from the first, `node` takes within the fill
/// when they are pushed one by one at its head (`left`) or tail (an empty
/// node takes at least one). Each size is exact: it follows from the
/// element pushed before, so nodes fill to the last byte the fill allows.
fn fitting(fill: Fill, node: &ListNode, left: bool, elements: &[&[u8]]) -> usize {
    let mut bytes = node.bytes_len();
    let mut end_len = node.end_len(left);
    let mut taken = 0;
    for element in elements {
        bytes = bytes_len_after_push(bytes, end_len, element.len());
        if !fill.fits(bytes, node.len() + taken + 1) {
            break;
        }
        end_len = Some(element.len());
        taken += 1;
    }
    taken
}

fn pop_from(node: &mut ListNode, left: bool) -> Option<Vec<u8>> {
    if left {
        node.pop_front()
    } else {
        node.pop_back()
    }
}

/// The node holding element `index` (< `len`) and its offset there,
/// counting from whichever end of the list is nearer.
fn locate_nearest(nodes: &[ListNode], len: usize, index: usize) -> (usize, usize) {
    debug_assert!(index < len, "{index} within {len}");
    if index < len / 2 {
        return locate_from_head(nodes, index);
    }
    let mut from_tail = len - index;
    for (position, node) in nodes.iter().enumerate().rev() {
        if from_tail <= node.len() {
            return (position, node.len() - from_tail);
        }
        from_tail -= node.len();
    }
    unreachable!("index {index} below the length {len}")
}

/// The node where element `index` is or would be inserted, and its offset
/// there; `index` equal to the length gives the end of the last node.
fn locate_from_head(nodes: &[ListNode], index: usize) -> (usize, usize) {
    let mut rest = index;
    for (position, node) in nodes.iter().enumerate() {
        if rest < node.len() {
            return (position, rest);
        }
        rest -= node.len();
    }
    debug_assert_eq!(rest, 0, "index {index} within the list or at its end");
    let last = nodes.len() - 1;
    (last, nodes[last].len())
}

/// Inserts `element` before element `index` (below the length `len`),
/// splitting the node there when it is full.
fn insert_in(nodes: &mut Vec<ListNode>, fill: Fill, len: usize, index: usize, element: &[u8]) {
    let (position, offset) = locate_nearest(nodes, len, index);
    if fill.allows_insert(&nodes[position], offset, element.len()) {
        nodes[position].insert(offset, element);
        return;
    }
    if offset == 0 && position > 0 && fill.allows_push(&nodes[position - 1], false, element.len()) {
        nodes[position - 1].push_back(element);
        return;
    }
    // Split: what comes before the element (maybe nothing), the element in
    // a node of its own, what comes after (something: `offset` is below the
    // node's length); then merge the new node with a neighbour if it fits.
    let node = &nodes[position];
    let middle = ListNode::from_entries([element]);
    let right = ListNode::from_entries(node.iter().skip(offset));
    if offset == 0 {
        nodes.splice(position..=position, [middle, right]);
        merge_at(nodes, fill, position);
        return;
    }
    let left = ListNode::from_entries(node.iter().take(offset));
    nodes.splice(position..=position, [left, middle, right]);
    if !merge_at(nodes, fill, position) {
        merge_at(nodes, fill, position + 1);
    }
}

/// Replaces the element at `index` (below the length), moving it into a
/// node of its own when it no longer fits where it was.
fn set_in(nodes: &mut Vec<ListNode>, fill: Fill, len: usize, index: usize, element: &[u8]) {
    let (position, offset) = locate_nearest(nodes, len, index);
    let node = &mut nodes[position];
    let bytes = node.splice_bytes_len(offset, 1, &[element.len()]);
    if fill.fits(bytes, node.len()) {
        node.replace(offset, element);
    } else {
        // The node keeps at least one element: a node of one always fits.
        node.remove(offset);
        if index + 1 == len {
            let last = nodes.len() - 1;
            if fill.allows_push(&nodes[last], false, element.len()) {
                nodes[last].push_back(element);
            } else {
                nodes.push(ListNode::from_entries([element]));
            }
        } else {
            insert_in(nodes, fill, len - 1, index, element);
        }
    }
}

/// Removes `count` (at least one) elements from `start`: whole nodes go
/// without being read, the nodes at either end of the range are cut, and
/// merged when what is left of them fits in one.
fn remove_range_in(nodes: &mut Vec<ListNode>, fill: Fill, len: usize, start: usize, count: usize) {
    let (first, offset) = locate_nearest(nodes, len, start);
    // Elements to remove counted from the start of node `first`.
    let mut through = offset + count;
    let mut last = first;
    while through > nodes[last].len() {
        through -= nodes[last].len();
        last += 1;
    }
    if first == last {
        nodes[first].remove_range(offset, count);
    } else {
        nodes[last].remove_range(0, through);
        let first_len = nodes[first].len();
        nodes[first].remove_range(offset, first_len - offset);
        nodes.drain(first + 1..last);
        if nodes[first + 1].is_empty() {
            nodes.remove(first + 1);
        }
    }
    // What is left of the cut nodes: `first` (maybe empty) and the next.
    if nodes[first].is_empty() {
        nodes.remove(first);
    } else {
        merge_at(nodes, fill, first);
    }
}

/// Removes matches of `element`, at most `limit`, the first ones from the
/// head or (`from_tail`) the tail.
fn remove_matching_in(nodes: &mut [ListNode], element: &[u8], limit: u64, from_tail: bool) -> u64 {
    let mut removed = 0;
    for position in 0..nodes.len() {
        if removed == limit {
            break;
        }
        let position = if from_tail {
            nodes.len() - 1 - position
        } else {
            position
        };
        removed += filter_node(&mut nodes[position], element, limit - removed, from_tail);
    }
    removed
}

/// Removes up to `limit` elements equal to `element` from one node, the
/// first ones from its head or (`from_tail`) its tail; returns how many.
fn filter_node(node: &mut ListNode, element: &[u8], limit: u64, from_tail: bool) -> u64 {
    if limit == 0 || !node.contains(element) {
        return 0;
    }
    let entries: Vec<&[u8]> = node.iter().collect();
    let mut keep = vec![true; entries.len()];
    let mut removed = 0;
    let mut visit = |index: usize| {
        if removed < limit && entries[index] == element {
            keep[index] = false;
            removed += 1;
        }
    };
    if from_tail {
        (0..entries.len()).rev().for_each(&mut visit);
    } else {
        (0..entries.len()).for_each(&mut visit);
    }
    let kept = entries
        .iter()
        .zip(&keep)
        .filter(|(_, keep)| **keep)
        .map(|(entry, _)| *entry);
    let rebuilt = ListNode::from_entries(kept);
    *node = rebuilt;
    removed
}

/// Merges node `position` with the next one if they fit in one node;
/// returns whether it did.
fn merge_at(nodes: &mut Vec<ListNode>, fill: Fill, position: usize) -> bool {
    if position + 1 >= nodes.len() || !fill.allows_merge(&nodes[position], &nodes[position + 1]) {
        return false;
    }
    let right = nodes.remove(position + 1);
    let left = &nodes[position];
    let merged = ListNode::from_entries(left.iter().chain(right.iter()));
    nodes[position] = merged;
    true
}

/// Drops empty nodes and merges every run of neighbours that fits in one.
fn merge_all(nodes: &mut Vec<ListNode>, fill: Fill) {
    nodes.retain(|node| !node.is_empty());
    let mut position = 0;
    while position + 1 < nodes.len() {
        if !merge_at(nodes, fill, position) {
            position += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::node::HEADER_BYTES as NODE_HEADER_BYTES;
    use super::*;
    use std::collections::VecDeque;

    fn elements(list: &ListValue) -> Vec<Vec<u8>> {
        list.iter().map(<[u8]>::to_vec).collect()
    }

    /// The invariants every operation keeps.
    fn check(list: &ListValue) {
        match &list.nodes {
            Nodes::One(_) => {}
            Nodes::Many(quicklist) => {
                assert!(quicklist.nodes.len() >= 2, "a quicklist has two nodes");
                assert!(quicklist.nodes.iter().all(|node| !node.is_empty()));
                let total: usize = quicklist.nodes.iter().map(ListNode::len).sum();
                assert_eq!(total, quicklist.len);
            }
        }
        for node in list.node_slice() {
            assert!(
                list.fill.fits(node.bytes_len(), node.len()),
                "node of {} bytes, {} elements over fill {}",
                node.bytes_len(),
                node.len(),
                list.fill.0
            );
        }
    }

    #[test]
    fn header_size_matches_the_node() {
        assert_eq!(ListNode::new().bytes_len(), NODE_HEADER_BYTES);
        let node = ListNode::from_entries([&[1u8; 200][..], b"ab"]);
        // Boundaries 200 and 200 ^ 2 take three bytes each, 2 one.
        assert_eq!(node.bytes_len(), NODE_HEADER_BYTES + 3 + 200 + 3 + 2 + 1);
    }

    #[test]
    fn values_stay_small() {
        assert!(std::mem::size_of::<ListValue>() <= 24);
    }

    #[test]
    fn a_small_list_is_one_node() {
        let mut list = ListValue::new(-2);
        for element in [b"a", b"b", b"c"] {
            list.push(false, element);
        }
        assert!(matches!(list.nodes, Nodes::One(_)));
        assert_eq!(list.len(), 3);
        assert_eq!(list.get(2), Some(&b"c"[..]));
    }

    #[test]
    fn count_fill_splits_nodes_by_elements() {
        let mut list = ListValue::new(3);
        for index in 0..10u8 {
            list.push(false, &[index]);
        }
        let counts: Vec<usize> = list.node_slice().iter().map(ListNode::len).collect();
        assert_eq!(counts, [3, 3, 3, 1]);
        for index in 0..10u8 {
            list.push(true, &[100 + index]);
        }
        check(&list);
        assert_eq!(list.len(), 20);
        assert_eq!(list.get(0), Some(&[109u8][..]));
        assert_eq!(list.get(19), Some(&[9u8][..]));
    }

    #[test]
    fn size_fill_caps_node_bytes() {
        let mut list = ListValue::new(-1);
        for _ in 0..1000 {
            list.push(false, &[7u8; 100]);
        }
        check(&list);
        assert!(list
            .node_slice()
            .iter()
            .all(|node| node.bytes_len() <= 4096));
        // An element larger than any node gets a node of its own.
        list.push(false, &[1u8; 10_000]);
        list.insert(500, &[2u8; 10_000]);
        check(&list);
        assert_eq!(list.get(500).map(<[u8]>::len), Some(10_000));
        assert_eq!(list.len(), 1002);
    }

    #[test]
    fn one_per_node_fills() {
        for fill in [0, -6, -100] {
            let mut list = ListValue::new(fill);
            for index in 0..5u8 {
                list.push(index % 2 == 0, &[index]);
            }
            check(&list);
            assert_eq!(list.node_slice().len(), 5);
            assert_eq!(elements(&list), [[4], [2], [0], [1], [3]]);
        }
    }

    /// `count` elements: `prefix` followed by 0, 1, 2, ...
    fn numbered(prefix: &str, count: u32) -> Vec<Vec<u8>> {
        (0..count)
            .map(|index| format!("{prefix}{index}").into_bytes())
            .collect()
    }

    #[test]
    fn push_many_lays_out_elements_as_single_pushes_do() {
        let elements = numbered("element-", 500);
        let refs: Vec<&[u8]> = elements.iter().map(Vec::as_slice).collect();
        for fill in [-2, -1, 3, 1, 0] {
            for left in [true, false] {
                let mut one_by_one = ListValue::new(fill);
                let mut batched = ListValue::new(fill);
                for chunk in refs.chunks(70) {
                    chunk
                        .iter()
                        .for_each(|element| one_by_one.push(left, element));
                    batched.push_many(left, chunk);
                    check(&batched);
                }
                assert_eq!(batched, one_by_one);
                assert_eq!(batched.len(), 500);
            }
        }
        // Nodes filled a run at a time are as full as the fill allows.
        let mut list = ListValue::new(-2);
        list.push_many(false, &refs);
        list.push_many(false, &refs);
        let full_nodes = &list.node_slice()[..list.node_slice().len() - 1];
        assert!(full_nodes.iter().all(|node| node.bytes_len() > 8192 - 16));
    }

    #[test]
    fn pushed_nodes_fill_to_the_last_byte_the_fill_allows() {
        let elements = numbered("element:", 20_000);
        let refs: Vec<&[u8]> = elements.iter().map(Vec::as_slice).collect();
        for left in [false, true] {
            let mut one_by_one = ListValue::new(-2);
            refs.iter()
                .for_each(|element| one_by_one.push(left, element));
            let mut batched = ListValue::new(-2);
            batched.push_many(left, &refs);
            check(&one_by_one);
            let nodes = one_by_one.node_slice();
            let layout = |list: &ListValue| -> Vec<usize> {
                list.node_slice().iter().map(ListNode::bytes_len).collect()
            };
            assert_eq!(layout(&batched), layout(&one_by_one));
            assert!(nodes.len() > 10);
            // Every node a push left behind could not take the next element
            // pushed: the first of the node after it (or before, at the
            // head).
            for pair in nodes.windows(2) {
                let (full, next) = if left {
                    (&pair[1], pair[0].iter().next_back())
                } else {
                    (&pair[0], pair[1].iter().next())
                };
                let next = next.expect("nodes are not empty");
                assert!(full.bytes_len() <= 8192);
                assert!(full.bytes_len_after_push(left, next.len()) > 8192);
            }
        }
    }

    #[test]
    fn popping_to_one_node_unboxes_it() {
        let mut list = ListValue::new(2);
        for element in [b"a", b"b", b"c"] {
            list.push(false, element);
        }
        assert!(matches!(list.nodes, Nodes::Many(_)));
        assert_eq!(list.pop(false), Some(b"c".to_vec()));
        assert!(matches!(list.nodes, Nodes::One(_)));
        assert_eq!(list.pop(true), Some(b"a".to_vec()));
        assert_eq!(list.pop(true), Some(b"b".to_vec()));
        assert_eq!(list.pop(true), None);
        assert!(list.is_empty());
    }

    #[test]
    fn equality_ignores_the_node_layout() {
        let mut small = ListValue::new(1);
        let mut large = ListValue::new(-5);
        for index in 0..10u8 {
            small.push(false, &[index]);
            large.push(false, &[index]);
        }
        assert_eq!(small, large);
        large.set(3, b"x");
        assert_ne!(small, large);
    }

    #[test]
    fn reverse_iteration_crosses_nodes() {
        let mut list = ListValue::new(4);
        for index in 0..11u8 {
            list.push(false, &[index]);
        }
        let backwards: Vec<u8> = list.iter_rev().map(|element| element[0]).collect();
        assert_eq!(backwards, (0..11u8).rev().collect::<Vec<_>>());
        let from_seven: Vec<u8> = list.iter_from(7).map(|element| element[0]).collect();
        assert_eq!(from_seven, [7, 8, 9, 10]);
        assert_eq!(list.iter_from(11).count(), 0);
    }

    #[test]
    fn remove_matching_counts_from_either_end() {
        let mut list = ListValue::new(3);
        for element in [b"a", b"x", b"a", b"a", b"y", b"a", b"a"] {
            list.push(false, element);
        }
        assert_eq!(list.remove_matching(b"a", 2, true), 2);
        assert_eq!(elements(&list), [&b"a"[..], b"x", b"a", b"a", b"y"]);
        assert_eq!(list.remove_matching(b"a", 2, false), 2);
        assert_eq!(elements(&list), [&b"x"[..], b"a", b"y"]);
        assert_eq!(list.remove_matching(b"zz", 0, false), 0);
        assert_eq!(list.remove_matching(b"a", 0, false), 1);
        check(&list);
        assert_eq!(list.position(b"y"), Some(1));
    }

    /// A xorshift generator, so a failure repeats.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound.max(1) as u64) as usize
        }

        fn element(&mut self) -> Vec<u8> {
            // Mostly short, a few long enough to take a node alone.
            let len = match self.below(20) {
                0 => 3000 + self.below(6000),
                1..=3 => 100 + self.below(200),
                _ => self.below(12),
            };
            let byte = b'a' + self.below(4) as u8;
            vec![byte; len]
        }
    }

    /// One random operation applied to the list and to the model; while
    /// `growing`, pushes outnumber pops so that lists reach many nodes.
    fn random_step(
        rng: &mut Rng,
        list: &mut ListValue,
        model: &mut VecDeque<Vec<u8>>,
        growing: bool,
    ) {
        let len = model.len();
        let pick = match (growing, rng.below(16)) {
            (true, 13..) => 0,
            (false, 13..) => 3,
            (_, pick) => pick,
        };
        match pick {
            12 => {
                let run: Vec<Vec<u8>> = (0..rng.below(if growing { 300 } else { 5 }))
                    .map(|_| rng.element())
                    .collect();
                let refs: Vec<&[u8]> = run.iter().map(Vec::as_slice).collect();
                let left = rng.below(2) == 0;
                list.push_many(left, &refs);
                for element in run {
                    if left {
                        model.push_front(element);
                    } else {
                        model.push_back(element);
                    }
                }
            }
            0..=2 => {
                let element = rng.element();
                let left = rng.below(2) == 0;
                list.push(left, &element);
                if left {
                    model.push_front(element);
                } else {
                    model.push_back(element);
                }
            }
            3 | 4 => {
                let left = rng.below(2) == 0;
                let expected = if left {
                    model.pop_front()
                } else {
                    model.pop_back()
                };
                assert_eq!(list.pop(left), expected);
            }
            5 => {
                let index = rng.below(len + 1);
                let element = rng.element();
                list.insert(index, &element);
                model.insert(index, element);
            }
            6 => {
                let index = rng.below(len + 2);
                let element = rng.element();
                assert_eq!(list.set(index, &element), index < len);
                if index < len {
                    model[index] = element;
                }
            }
            7 => {
                let start = rng.below(len + 1);
                let count = rng
                    .below(len - start + 1)
                    .min(rng.below(if growing { 4 } else { 40 }));
                list.remove_range(start, count);
                model.drain(start..start + count);
            }
            8 => {
                let element = vec![b'a' + rng.below(4) as u8; rng.below(3)];
                let limit = rng.below(4) as u64;
                let from_tail = rng.below(2) == 0;
                let removed = list.remove_matching(&element, limit, from_tail);
                let mut expected = 0;
                let limit = if limit == 0 { u64::MAX } else { limit };
                let mut index_order: Vec<usize> = (0..model.len()).collect();
                if from_tail {
                    index_order.reverse();
                }
                let mut doomed = Vec::new();
                for index in index_order {
                    if expected < limit && model[index] == element {
                        doomed.push(index);
                        expected += 1;
                    }
                }
                doomed.sort_unstable();
                for index in doomed.into_iter().rev() {
                    model.remove(index);
                }
                assert_eq!(removed, expected);
            }
            9 => {
                let index = rng.below(len + 1);
                assert_eq!(list.get(index), model.get(index).map(Vec::as_slice));
            }
            10 => {
                let start = rng.below(len + 1);
                let got: Vec<&[u8]> = list.iter_from(start).take(5).collect();
                let want: Vec<&[u8]> = model
                    .iter()
                    .skip(start)
                    .take(5)
                    .map(Vec::as_slice)
                    .collect();
                assert_eq!(got, want);
            }
            _ => {
                let got: Vec<&[u8]> = list.iter_rev().take(7).collect();
                let want: Vec<&[u8]> = model.iter().rev().take(7).map(Vec::as_slice).collect();
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn random_operations_match_a_simple_model() {
        for (seed, fill) in [(1u64, -2i64), (2, 4), (3, -1), (4, 1), (5, 0), (6, 128)] {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed);
            let mut list = ListValue::new(fill);
            let mut model = VecDeque::new();
            let mut nodes_max = 0;
            for step in 0..6000 {
                random_step(&mut rng, &mut list, &mut model, step < 4000);
                nodes_max = nodes_max.max(list.node_slice().len());
                assert_eq!(list.len(), model.len(), "seed {seed} step {step}");
                if step % 97 == 0 {
                    check(&list);
                    assert!(list.iter().eq(model.iter().map(Vec::as_slice)));
                }
            }
            assert!(nodes_max >= 20, "seed {seed}: at most {nodes_max} nodes");
            check(&list);
            assert!(list.iter().eq(model.iter().map(Vec::as_slice)));
            assert!(list.iter_rev().eq(model.iter().rev().map(Vec::as_slice)));
        }
    }
}
