//! The large sorted-set encoding: an order-statistics treap over an arena,
//! plus an open-addressing member index into that arena.
//!
//! Redis keeps a large sorted set as a skiplist with spans (for ranks) and a
//! dict from member to score. This is the same pair of views, laid out to
//! cost less per member:
//!
//! - Every member lives in one arena slot ([`Node`], 40 bytes): its score,
//!   its bytes (stored once, exactly sized), the two child links of a treap
//!   ordered by `(score, member)`, the size of its subtree (which gives ranks
//!   in O(log n)) and its heap priority (random, so the expected depth is
//!   O(log n) whatever the insertion order). Links are u32 slot numbers,
//!   not pointers; freed slots form a free list through `left`.
//! - The member index is a power-of-two table of u64 words, each the upper
//!   32 bits of the member's hash (its tag) and its slot number. The home
//!   bucket of a member is its tag masked by the table size, so the table
//!   can be resized, and scanned with Redis's reverse-binary cursor, from
//!   the words alone. Linear probing with backward-shift deletion keeps
//!   every member between its home and the first empty word after it.
//!
//! `OBJECT ENCODING` calls this `skiplist`, as Redis calls the encoding it
//! stands in for.

use std::cmp::Ordering;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::OnceLock;

/// No node: the end of a link.
const NIL: u32 = u32::MAX;
/// An unused word of the member index.
const EMPTY: u64 = u64::MAX;
/// The smallest member index, in words.
const INDEX_MIN_WORDS: usize = 8;
/// Members at most: slot numbers are u32 and `NIL` is reserved.
pub const MEMBERS_MAX: usize = (u32::MAX - 1) as usize;
/// The arena is compacted when it holds more than this many slots and
/// fewer than a quarter of them are live.
const COMPACT_MIN_SLOTS: usize = 64;

const _: () = assert!(INDEX_MIN_WORDS.is_power_of_two());

/// One member: an arena slot.
#[derive(Clone)]
struct Node {
    score: f64,
    /// The member's bytes; empty (no allocation) in a free slot.
    member: Box<[u8]>,
    left: u32,
    right: u32,
    /// Members in the subtree rooted here; 0 marks a free slot.
    size: u32,
    /// Heap order of the treap: a parent's priority is at least its children's.
    priority: u32,
}

/// A sorted set too large for a listpack.
#[derive(Clone)]
pub struct ScoreTree {
    nodes: Vec<Node>,
    root: u32,
    /// Head of the free-slot list, linked through `left`.
    free: u32,
    /// The member index: `tag << 32 | slot`, or `EMPTY`.
    index: Box<[u64]>,
    /// State of the priority generator (xorshift64*).
    rng: u64,
}

/// The process's hash keys, random per process as Redis's siphash seed is.
fn hasher() -> &'static ahash::RandomState {
    static HASHER: OnceLock<ahash::RandomState> = OnceLock::new();
    HASHER.get_or_init(ahash::RandomState::new)
}

/// The tag of a member: the upper half of its hash.
fn tag_of(member: &[u8]) -> u32 {
    (hasher().hash_one(member) >> 32) as u32
}

fn word(tag: u32, slot: u32) -> u64 {
    u64::from(tag) << 32 | u64::from(slot)
}

fn word_tag(word: u64) -> u32 {
    (word >> 32) as u32
}

fn word_slot(word: u64) -> u32 {
    word as u32
}

/// A fresh seed for a tree's priorities: unpredictable from outside, so no
/// client can choose an insertion order that unbalances the treap.
fn priority_seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, AtomicOrdering::Relaxed);
    hasher().hash_one(count) | 1
}

/// Index words for `members` members at most three quarters full.
fn index_words_for(members: usize) -> usize {
    (members.saturating_mul(4) / 3 + 1)
        .next_power_of_two()
        .max(INDEX_MIN_WORDS)
}

impl Default for ScoreTree {
    fn default() -> ScoreTree {
        ScoreTree::new()
    }
}

impl fmt::Debug for ScoreTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.iter_from(0, false)
                    .map(|(member, score)| (String::from_utf8_lossy(member), score)),
            )
            .finish()
    }
}

impl PartialEq for ScoreTree {
    /// Equal when they hold the same members with the same scores, however
    /// their arenas are laid out.
    fn eq(&self, other: &ScoreTree) -> bool {
        self.len() == other.len()
            && self
                .iter_from(0, false)
                .zip(other.iter_from(0, false))
                .all(|(a, b)| a.0 == b.0 && a.1.to_bits() == b.1.to_bits())
    }
}

/* ---------------------------------------------------------------------------
 * Construction and the member index
 * ------------------------------------------------------------------------- */

impl ScoreTree {
    /// An empty tree.
    pub fn new() -> ScoreTree {
        ScoreTree {
            nodes: Vec::new(),
            root: NIL,
            free: NIL,
            index: vec![EMPTY; INDEX_MIN_WORDS].into_boxed_slice(),
            rng: priority_seed(),
        }
    }

    /// A tree of `pairs`, which must be in `(score, member)` order with
    /// distinct members; O(n).
    pub fn from_sorted<M: Into<Box<[u8]>>>(pairs: impl IntoIterator<Item = (M, f64)>) -> ScoreTree {
        let mut tree = ScoreTree::new();
        for (member, score) in pairs {
            assert!(
                tree.nodes.len() < MEMBERS_MAX,
                "a sorted set holds fewer than 2^32 - 1 members"
            );
            let priority = tree.next_priority();
            tree.nodes.push(Node {
                score,
                member: member.into(),
                left: NIL,
                right: NIL,
                size: 1,
                priority,
            });
        }
        debug_assert!(
            tree.nodes
                .windows(2)
                .all(|pair| key_order(&pair[0], &pair[1]) == Ordering::Less),
            "pairs arrive sorted and distinct"
        );
        tree.root = tree.build_cartesian();
        tree.index_from_arena(index_words_for(tree.nodes.len()));
        tree
    }

    /// Links the arena's nodes, which are in key order, into a treap: the
    /// classic stack construction of a Cartesian tree, sizes summed as each
    /// node's subtree completes.
    fn build_cartesian(&mut self) -> u32 {
        let mut spine: Vec<u32> = Vec::new();
        for id in 0..self.nodes.len() as u32 {
            let mut last = NIL;
            while let Some(&top) = spine.last() {
                if self.nodes[top as usize].priority >= self.nodes[id as usize].priority {
                    break;
                }
                spine.pop();
                self.update_size(top);
                last = top;
            }
            self.nodes[id as usize].left = last;
            if let Some(&top) = spine.last() {
                self.nodes[top as usize].right = id;
            }
            spine.push(id);
        }
        let root = spine.first().copied().unwrap_or(NIL);
        while let Some(top) = spine.pop() {
            self.update_size(top);
        }
        root
    }

    fn next_priority(&mut self) -> u32 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    /// Members held.
    pub fn len(&self) -> usize {
        self.size(self.root)
    }

    /// Whether no member is held.
    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    fn mask(&self) -> usize {
        self.index.len() - 1
    }

    fn home(&self, tag: u32) -> usize {
        tag as usize & self.mask()
    }

    /// The index position and slot of `member`, if present.
    fn find(&self, member: &[u8]) -> Option<(usize, u32)> {
        let tag = tag_of(member);
        let mut position = self.home(tag);
        loop {
            let word = self.index[position];
            if word == EMPTY {
                return None;
            }
            let slot = word_slot(word);
            if word_tag(word) == tag && *self.nodes[slot as usize].member == *member {
                return Some((position, slot));
            }
            position = (position + 1) & self.mask();
        }
    }

    /// Records `slot` under `tag`; the caller made room.
    fn index_insert(&mut self, tag: u32, slot: u32) {
        debug_assert!(self.len() * 4 <= self.index.len() * 3, "room was made");
        let mut position = self.home(tag);
        while self.index[position] != EMPTY {
            position = (position + 1) & self.mask();
        }
        self.index[position] = word(tag, slot);
    }

    /// Empties index position `hole`, shifting later words of its cluster
    /// back so that each stays reachable from its home.
    fn index_remove_at(&mut self, mut hole: usize) {
        let mask = self.mask();
        let mut next = (hole + 1) & mask;
        while self.index[next] != EMPTY {
            let home = self.home(word_tag(self.index[next]));
            // The word may fill the hole unless its home lies cyclically
            // in (hole, next]: then it would move before its home.
            let distance_to_next = next.wrapping_sub(home) & mask;
            let distance_to_hole = hole.wrapping_sub(home) & mask;
            if distance_to_hole < distance_to_next {
                self.index[hole] = self.index[next];
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.index[hole] = EMPTY;
    }

    /// Indexes every live arena slot afresh in `words` words (after the
    /// arena was built whole).
    fn index_from_arena(&mut self, words: usize) {
        assert!(words.is_power_of_two() && words >= INDEX_MIN_WORDS);
        self.index = vec![EMPTY; words].into_boxed_slice();
        for slot in 0..self.nodes.len() {
            if self.nodes[slot].size > 0 {
                let tag = tag_of(&self.nodes[slot].member);
                self.index_insert(tag, slot as u32);
            }
        }
    }

    /// Moves the index into `words` words; tags give the new homes, so no
    /// member is hashed again.
    fn resize_index(&mut self, words: usize) {
        assert!(words.is_power_of_two() && words >= INDEX_MIN_WORDS);
        let old = std::mem::replace(&mut self.index, vec![EMPTY; words].into_boxed_slice());
        for word in old.iter().copied().filter(|&word| word != EMPTY) {
            self.index_insert(word_tag(word), word_slot(word));
        }
    }

    /// Grows the index before one more member would fill it past 3/4.
    fn reserve_one(&mut self) {
        if (self.len() + 1) * 4 > self.index.len() * 3 {
            self.resize_index(self.index.len() * 2);
        }
    }

    /// Shrinks the index below 1/8 full, and compacts an arena that is
    /// mostly free slots, as Redis resizes a dict that emptied.
    fn shrink_if_sparse(&mut self) {
        let len = self.len();
        if self.nodes.len() > COMPACT_MIN_SLOTS && len * 4 < self.nodes.len() {
            self.compact();
            return;
        }
        if self.index.len() > INDEX_MIN_WORDS && len * 8 < self.index.len() {
            self.resize_index(index_words_for(len));
        }
    }

    /// Moves the live members into a fresh, exactly sized arena.
    fn compact(&mut self) {
        let mut live = Vec::with_capacity(self.len());
        let mut iter = TreeIter::new(self, 0, false);
        while let Some(slot) = iter.next_slot() {
            live.push(slot);
        }
        let mut nodes = std::mem::take(&mut self.nodes);
        let pairs: Vec<(Box<[u8]>, f64)> = live
            .into_iter()
            .map(|slot| {
                let node = &mut nodes[slot as usize];
                (std::mem::take(&mut node.member), node.score)
            })
            .collect();
        *self = ScoreTree::from_sorted(pairs);
    }

    fn alloc(&mut self, member: &[u8], score: f64) -> u32 {
        let priority = self.next_priority();
        let node = Node {
            score,
            member: member.into(),
            left: NIL,
            right: NIL,
            size: 1,
            priority,
        };
        if self.free != NIL {
            let slot = self.free;
            self.free = self.nodes[slot as usize].left;
            self.nodes[slot as usize] = node;
            slot
        } else {
            assert!(
                self.nodes.len() < MEMBERS_MAX,
                "a sorted set holds fewer than 2^32 - 1 members"
            );
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    /// Frees `slot`, returning its member's bytes.
    fn release(&mut self, slot: u32) -> Box<[u8]> {
        let node = &mut self.nodes[slot as usize];
        node.size = 0;
        node.right = NIL;
        node.left = self.free;
        self.free = slot;
        std::mem::take(&mut node.member)
    }
}

/* ---------------------------------------------------------------------------
 * The treap
 * ------------------------------------------------------------------------- */

/// Orders two nodes as Redis's skiplist does: by score, then by member bytes.
fn key_order(a: &Node, b: &Node) -> Ordering {
    compare_key(a.score, &a.member, b)
}

/// Orders `(score, member)` against a node's key. Scores are never NaN.
fn compare_key(score: f64, member: &[u8], node: &Node) -> Ordering {
    match score.partial_cmp(&node.score) {
        Some(Ordering::Equal) | None => member.cmp(&node.member),
        Some(order) => order,
    }
}

impl ScoreTree {
    fn size(&self, id: u32) -> usize {
        if id == NIL {
            0
        } else {
            self.nodes[id as usize].size as usize
        }
    }

    fn update_size(&mut self, id: u32) {
        let node = &self.nodes[id as usize];
        let size = 1 + self.size(node.left) + self.size(node.right);
        self.nodes[id as usize].size = size as u32;
    }

    fn less(&self, a: u32, b: u32) -> bool {
        key_order(&self.nodes[a as usize], &self.nodes[b as usize]) == Ordering::Less
    }

    fn priority(&self, id: u32) -> u32 {
        self.nodes[id as usize].priority
    }

    /// Links node `id` into subtree `t`; returns the subtree's new root.
    fn insert_node(&mut self, t: u32, id: u32) -> u32 {
        if t == NIL {
            return id;
        }
        if self.priority(id) > self.priority(t) {
            let (left, right) = self.split_before(t, id);
            let node = &mut self.nodes[id as usize];
            node.left = left;
            node.right = right;
            self.update_size(id);
            return id;
        }
        if self.less(id, t) {
            let child = self.insert_node(self.nodes[t as usize].left, id);
            self.nodes[t as usize].left = child;
        } else {
            let child = self.insert_node(self.nodes[t as usize].right, id);
            self.nodes[t as usize].right = child;
        }
        self.nodes[t as usize].size += 1;
        t
    }

    /// Splits subtree `t` into the nodes ordered before node `id` and the rest.
    fn split_before(&mut self, t: u32, id: u32) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        if self.less(t, id) {
            let (left, right) = self.split_before(self.nodes[t as usize].right, id);
            self.nodes[t as usize].right = left;
            self.update_size(t);
            (t, right)
        } else {
            let (left, right) = self.split_before(self.nodes[t as usize].left, id);
            self.nodes[t as usize].left = right;
            self.update_size(t);
            (left, t)
        }
    }

    /// Splits subtree `t` into its first `count` nodes and the rest.
    fn split_at(&mut self, t: u32, count: usize) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let left_size = self.size(self.nodes[t as usize].left);
        if count <= left_size {
            let (left, right) = self.split_at(self.nodes[t as usize].left, count);
            self.nodes[t as usize].left = right;
            self.update_size(t);
            (left, t)
        } else {
            let (left, right) = self.split_at(self.nodes[t as usize].right, count - left_size - 1);
            self.nodes[t as usize].right = left;
            self.update_size(t);
            (t, right)
        }
    }

    /// Joins two subtrees, every node of `a` ordered before every node of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.priority(a) > self.priority(b) {
            let right = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = right;
            self.update_size(a);
            a
        } else {
            let left = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = left;
            self.update_size(b);
            b
        }
    }

    /// Unlinks node `id`, which is in subtree `t`; returns the new root.
    fn unlink_node(&mut self, t: u32, id: u32) -> u32 {
        assert_ne!(t, NIL, "the node is in the tree");
        if t == id {
            let node = &self.nodes[id as usize];
            return self.merge(node.left, node.right);
        }
        if self.less(id, t) {
            let child = self.unlink_node(self.nodes[t as usize].left, id);
            self.nodes[t as usize].left = child;
        } else {
            let child = self.unlink_node(self.nodes[t as usize].right, id);
            self.nodes[t as usize].right = child;
        }
        self.nodes[t as usize].size -= 1;
        t
    }

    /// The slot of the node at `rank` (0-based), if any.
    fn slot_at(&self, mut rank: usize) -> Option<u32> {
        let mut t = self.root;
        while t != NIL {
            let node = &self.nodes[t as usize];
            let left_size = self.size(node.left);
            match rank.cmp(&left_size) {
                Ordering::Less => t = node.left,
                Ordering::Equal => return Some(t),
                Ordering::Greater => {
                    rank -= left_size + 1;
                    t = node.right;
                }
            }
        }
        None
    }
}

/* ---------------------------------------------------------------------------
 * Type API
 * ------------------------------------------------------------------------- */

impl ScoreTree {
    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member)
            .map(|(_, slot)| self.nodes[slot as usize].score)
    }

    /// Adds `member`, which must be absent.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        debug_assert!(!score.is_nan(), "scores are never NaN");
        debug_assert!(self.find(member).is_none(), "the caller checked");
        self.reserve_one();
        let slot = self.alloc(member, score);
        self.index_insert(tag_of(member), slot);
        self.root = self.insert_node(self.root, slot);
    }

    /// Gives `member`, which must be present, a new score.
    pub fn set_score(&mut self, member: &[u8], score: f64) {
        debug_assert!(!score.is_nan(), "scores are never NaN");
        let (_, slot) = self.find(member).expect("the caller checked the member");
        self.root = self.unlink_node(self.root, slot);
        let node = &mut self.nodes[slot as usize];
        node.score = score;
        node.left = NIL;
        node.right = NIL;
        node.size = 1;
        self.root = self.insert_node(self.root, slot);
    }

    /// Removes `member`; returns its score if it was present.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (position, slot) = self.find(member)?;
        let score = self.nodes[slot as usize].score;
        self.index_remove_at(position);
        self.root = self.unlink_node(self.root, slot);
        self.release(slot);
        self.shrink_if_sparse();
        Some(score)
    }

    /// The 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let (_, slot) = self.find(member)?;
        let target = &self.nodes[slot as usize];
        let mut rank = 0;
        let mut t = self.root;
        while t != NIL {
            let node = &self.nodes[t as usize];
            match compare_key(target.score, &target.member, node) {
                Ordering::Less => t = node.left,
                Ordering::Equal => return Some(rank + self.size(node.left)),
                Ordering::Greater => {
                    rank += self.size(node.left) + 1;
                    t = node.right;
                }
            }
        }
        unreachable!("an indexed member is in the tree")
    }

    /// The member and score at `rank` (0-based, ascending).
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        self.slot_at(rank).map(|slot| {
            let node = &self.nodes[slot as usize];
            (&*node.member, node.score)
        })
    }

    /// How many members, in order, satisfy `before` before the first one
    /// that does not; `before` must hold for a prefix of the order (as "score
    /// below the range's minimum" does). O(log n).
    pub fn partition_point(&self, before: impl Fn(&[u8], f64) -> bool) -> usize {
        let mut count = 0;
        let mut t = self.root;
        while t != NIL {
            let node = &self.nodes[t as usize];
            if before(&node.member, node.score) {
                count += self.size(node.left) + 1;
                t = node.right;
            } else {
                t = node.left;
            }
        }
        count
    }

    /// The members from `rank` on, ascending, or from `rank` down to the
    /// first when `reverse`.
    pub fn iter_from(&self, rank: usize, reverse: bool) -> TreeIter<'_> {
        TreeIter::new(self, rank, reverse)
    }

    /// Removes `count` members from `rank` on, handing each to `removed` in
    /// ascending order. O(log n + count).
    pub fn remove_range(
        &mut self,
        rank: usize,
        count: usize,
        mut removed: impl FnMut(Box<[u8]>, f64),
    ) {
        let (before, rest) = self.split_at(self.root, rank);
        let (middle, after) = self.split_at(rest, count);
        self.root = self.merge(before, after);
        let mut doomed = Vec::with_capacity(self.size(middle));
        let mut stack = Vec::new();
        let mut t = middle;
        while t != NIL || !stack.is_empty() {
            while t != NIL {
                stack.push(t);
                t = self.nodes[t as usize].left;
            }
            let slot = stack.pop().expect("the loop condition");
            doomed.push(slot);
            t = self.nodes[slot as usize].right;
        }
        for slot in doomed {
            let (position, _) = self
                .find(&self.nodes[slot as usize].member)
                .expect("every tree member is indexed");
            self.index_remove_at(position);
            let score = self.nodes[slot as usize].score;
            let member = self.release(slot);
            removed(member, score);
        }
        self.shrink_if_sparse();
    }

    /// One step of a `ZSCAN` over the member index from `cursor`: calls
    /// `visit` for the members of the buckets visited, at least `count` of
    /// them unless the scan ends or `count * 10` buckets were visited;
    /// returns the next cursor (0: done). Redis's reverse-binary cursor
    /// (`dictScan`): members present for the whole scan are visited at least
    /// once, even when the index is resized between steps.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], f64)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let mask = self.mask() as u64;
        let mut cursor = cursor;
        let mut visited = 0;
        let mut buckets_left = count.saturating_mul(10);
        loop {
            visited += self.visit_bucket((cursor & mask) as usize, &mut visit);
            cursor |= !mask;
            cursor = cursor.reverse_bits().wrapping_add(1).reverse_bits();
            buckets_left = buckets_left.saturating_sub(1);
            if cursor == 0 || visited >= count || buckets_left == 0 {
                return cursor;
            }
        }
    }

    /// Visits the members whose home is `bucket`; returns how many.
    fn visit_bucket(&self, bucket: usize, visit: &mut impl FnMut(&[u8], f64)) -> usize {
        let mut position = bucket;
        let mut visited = 0;
        while self.index[position] != EMPTY {
            let word = self.index[position];
            if self.home(word_tag(word)) == bucket {
                let node = &self.nodes[word_slot(word) as usize];
                visit(&node.member, node.score);
                visited += 1;
            }
            position = (position + 1) & self.mask();
        }
        visited
    }

    /// Checks every invariant (tests only: O(n)).
    #[cfg(test)]
    pub fn check(&self) {
        let mut seen = 0;
        let mut previous: Option<u32> = None;
        let mut iter = TreeIter::new(self, 0, false);
        while let Some(slot) = iter.next_slot() {
            let node = &self.nodes[slot as usize];
            assert_eq!(
                node.size as usize,
                1 + self.size(node.left) + self.size(node.right)
            );
            for child in [node.left, node.right] {
                if child != NIL {
                    assert!(self.priority(child) <= node.priority, "heap order");
                }
            }
            if let Some(previous) = previous {
                assert!(self.less(previous, slot), "key order");
            }
            assert_eq!(self.find(&node.member).map(|(_, found)| found), Some(slot));
            previous = Some(slot);
            seen += 1;
        }
        assert_eq!(seen, self.len());
        let indexed = self.index.iter().filter(|&&word| word != EMPTY).count();
        assert_eq!(indexed, seen, "one index word per member");
        assert!(seen * 4 <= self.index.len() * 3 || self.index.len() == INDEX_MIN_WORDS);
    }
}

/// An in-order walk over a [`ScoreTree`], forward or backward, holding the
/// path still to visit.
#[derive(Debug)]
pub struct TreeIter<'a> {
    tree: &'a ScoreTree,
    stack: Vec<u32>,
    reverse: bool,
}

impl<'a> TreeIter<'a> {
    fn new(tree: &'a ScoreTree, mut rank: usize, reverse: bool) -> TreeIter<'a> {
        let mut stack = Vec::new();
        let mut t = if rank < tree.len() { tree.root } else { NIL };
        while t != NIL {
            let node = &tree.nodes[t as usize];
            let left_size = tree.size(node.left);
            match rank.cmp(&left_size) {
                Ordering::Less => {
                    if !reverse {
                        stack.push(t);
                    }
                    t = node.left;
                }
                Ordering::Equal => {
                    stack.push(t);
                    break;
                }
                Ordering::Greater => {
                    if reverse {
                        stack.push(t);
                    }
                    rank -= left_size + 1;
                    t = node.right;
                }
            }
        }
        TreeIter {
            tree,
            stack,
            reverse,
        }
    }

    fn next_slot(&mut self) -> Option<u32> {
        let slot = self.stack.pop()?;
        let node = &self.tree.nodes[slot as usize];
        let (mut t, reverse) = if self.reverse {
            (node.left, true)
        } else {
            (node.right, false)
        };
        while t != NIL {
            self.stack.push(t);
            let child = &self.tree.nodes[t as usize];
            t = if reverse { child.right } else { child.left };
        }
        Some(slot)
    }
}

impl<'a> Iterator for TreeIter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        let slot = self.next_slot()?;
        let node = &self.tree.nodes[slot as usize];
        Some((&node.member, node.score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    /// The model: ordered (score bits made orderable, member) pairs plus
    /// a member → score map.
    #[derive(Default)]
    struct Model {
        order: BTreeSet<(OrderedScore, Vec<u8>)>,
        scores: HashMap<Vec<u8>, f64>,
    }

    #[derive(Clone, Copy, PartialEq)]
    struct OrderedScore(f64);
    impl PartialOrd for OrderedScore {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Eq for OrderedScore {}
    impl Ord for OrderedScore {
        fn cmp(&self, other: &Self) -> Ordering {
            self.0.partial_cmp(&other.0).expect("no NaN")
        }
    }

    impl Model {
        fn sorted(&self) -> Vec<(Vec<u8>, f64)> {
            self.order.iter().map(|(s, m)| (m.clone(), s.0)).collect()
        }
        fn remove(&mut self, member: &[u8]) -> Option<f64> {
            let score = self.scores.remove(member)?;
            self.order.remove(&(OrderedScore(score), member.to_vec()));
            Some(score)
        }
        fn insert(&mut self, member: &[u8], score: f64) {
            self.remove(member);
            self.scores.insert(member.to_vec(), score);
            self.order.insert((OrderedScore(score), member.to_vec()));
        }
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn collect(tree: &ScoreTree) -> Vec<(Vec<u8>, f64)> {
        tree.iter_from(0, false)
            .map(|(m, s)| (m.to_vec(), s))
            .collect()
    }

    #[test]
    fn node_is_forty_bytes() {
        assert_eq!(std::mem::size_of::<Node>(), 40);
    }

    #[test]
    fn from_sorted_builds_a_valid_treap() {
        for n in [0usize, 1, 2, 3, 10, 1000] {
            let pairs: Vec<(Vec<u8>, f64)> = (0..n)
                .map(|i| (format!("m{i:05}").into_bytes(), i as f64 / 3.0))
                .collect();
            let tree = ScoreTree::from_sorted(pairs.clone());
            tree.check();
            assert_eq!(collect(&tree), pairs);
        }
    }

    #[test]
    fn iterators_start_at_any_rank_in_both_directions() {
        let pairs: Vec<(Vec<u8>, f64)> = (0..50)
            .map(|i| (vec![b'a' + (i % 26) as u8, i as u8], (i / 3) as f64))
            .collect();
        let mut sorted = pairs.clone();
        sorted.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then(a.0.cmp(&b.0)));
        let mut tree = ScoreTree::new();
        for (member, score) in &pairs {
            tree.insert(member, *score);
        }
        tree.check();
        for rank in 0..=50 {
            let forward: Vec<_> = tree
                .iter_from(rank, false)
                .map(|(m, s)| (m.to_vec(), s))
                .collect();
            assert_eq!(forward, sorted[rank.min(50)..].to_vec());
            let backward: Vec<_> = tree
                .iter_from(rank, true)
                .map(|(m, s)| (m.to_vec(), s))
                .collect();
            let mut expected = sorted[..(rank + 1).min(50)].to_vec();
            expected.reverse();
            if rank == 50 {
                expected.clear();
            }
            assert_eq!(backward, expected, "backward from {rank}");
        }
    }

    #[test]
    fn random_operations_agree_with_an_ordered_model() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let mut tree = ScoreTree::new();
        let mut model = Model::default();
        for step in 0..20_000 {
            let member = format!("member:{}", rng.below(600)).into_bytes();
            let score = (rng.below(40) as f64) - 20.0;
            match rng.below(10) {
                0..=3 => {
                    if tree.score(&member).is_some() {
                        tree.set_score(&member, score);
                    } else {
                        tree.insert(&member, score);
                    }
                    model.insert(&member, score);
                }
                4 | 5 => assert_eq!(tree.remove(&member), model.remove(&member)),
                6 => {
                    let sorted = model.sorted();
                    let expected = sorted.iter().position(|(m, _)| *m == member);
                    assert_eq!(tree.rank(&member), expected);
                    if let Some(rank) = expected {
                        assert_eq!(
                            tree.get(rank).map(|(m, s)| (m.to_vec(), s)),
                            Some(sorted[rank].clone())
                        );
                    }
                }
                7 => {
                    let sorted = model.sorted();
                    let min = (rng.below(40) as f64) - 20.0;
                    let below = tree.partition_point(|_, s| s < min);
                    assert_eq!(below, sorted.iter().filter(|(_, s)| *s < min).count());
                }
                8 if !model.scores.is_empty() => {
                    let len = tree.len();
                    let start = rng.below(len);
                    let count = rng.below(len - start + 1).min(5);
                    let mut sorted = model.sorted();
                    let expected: Vec<_> = sorted.drain(start..start + count).collect();
                    let mut removed = Vec::new();
                    tree.remove_range(start, count, |m, s| removed.push((m.to_vec(), s)));
                    assert_eq!(removed, expected);
                    for (member, _) in &expected {
                        model.remove(member);
                    }
                }
                _ => assert_eq!(tree.score(&member), model.scores.get(&member).copied()),
            }
            if step % 500 == 0 {
                tree.check();
                assert_eq!(collect(&tree), model.sorted());
            }
        }
        tree.check();
        assert_eq!(collect(&tree), model.sorted());
    }

    #[test]
    fn emptying_shrinks_the_arena_and_the_index() {
        let mut tree = ScoreTree::new();
        for i in 0..10_000 {
            tree.insert(format!("{i}").as_bytes(), f64::from(i));
        }
        for i in 0..9_990 {
            assert_eq!(tree.remove(format!("{i}").as_bytes()), Some(f64::from(i)));
        }
        tree.check();
        assert!(tree.nodes.len() < 100, "{}", tree.nodes.len());
        assert!(tree.index.len() <= 64, "{}", tree.index.len());
        assert_eq!(tree.get(0).map(|(m, _)| m.to_vec()), Some(b"9990".to_vec()));
    }

    #[test]
    fn a_full_scan_visits_every_member_despite_resizes() {
        let mut tree = ScoreTree::new();
        for i in 0..1000 {
            tree.insert(format!("m{i}").as_bytes(), f64::from(i));
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut steps = 0;
        loop {
            cursor = tree.scan(cursor, 10, |m, _| {
                seen.insert(m.to_vec());
            });
            steps += 1;
            // Grow the index mid-scan; the first 1000 members must still all be seen.
            if steps == 20 {
                for i in 1000..3000 {
                    tree.insert(format!("m{i}").as_bytes(), f64::from(i));
                }
            }
            if cursor == 0 {
                break;
            }
        }
        assert!((0..1000).all(|i| seen.contains(format!("m{i}").as_bytes())));
        assert!(steps > 50, "{steps} steps for 1000+ members in tens");
    }
}
