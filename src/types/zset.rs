//! Sorted sets: member-score pairs in a listpack while small, an
//! order-statistics tree with a member index when large (Redis's
//! `listpack` and `skiplist` encodings).
//!
//! Everything a command needs is here, the same for both encodings: adding
//! with ZADD's conditions, ranks, score and lexicographic ranges (with
//! Redis's own boundary rules), removal of rank ranges, popping, scanning.
//! The commands in `cmd/zsets.rs` never look inside an encoding.

#[path = "zset_float.rs"]
pub mod float;
#[path = "zset_tree.rs"]
pub mod tree;

use super::listpack::{self, Listpack};
use crate::config::EncodingLimits;
use float::parse_range_bound;
use tree::{ScoreTree, TreeIter};

/// A sorted set value.
#[derive(Debug, Clone, PartialEq)]
pub enum ZSetValue {
    /// Members and scores alternating, ordered by score then member.
    Listpack(Listpack),
    /// The large encoding: see [`ScoreTree`].
    Skiplist(Box<ScoreTree>),
}

/* ---------------------------------------------------------------------------
 * Scores inside a listpack
 * ------------------------------------------------------------------------- */

/// Redis 7.0 stores a listpack score as an integer when it is one within
/// ±2^62 (`double2ll`), else as `%.17g` text; reading it back gives the
/// same double, except that -0 comes back as 0.
const LISTPACK_INTEGER_MAX: f64 = 4_611_686_018_427_387_904.0;
/// Bytes of a score entry holding the double itself.
const DOUBLE_ENTRY_BYTES: usize = 8;

/// The integer a listpack would store `score` as, if any.
fn listpack_integer(score: f64) -> Option<i64> {
    let fits = (-LISTPACK_INTEGER_MAX..=LISTPACK_INTEGER_MAX).contains(&score);
    (fits && score.fract() == 0.0).then_some(score as i64)
}

/// A score entry: integers as zigzag little-endian bytes, as few as hold
/// them (0 to 7: one byte for small scores, none for 0), anything else as
/// the 8 bytes of the double. The length tells which.
fn encode_score(score: f64) -> ([u8; DOUBLE_ENTRY_BYTES], usize) {
    if let Some(integer) = listpack_integer(score) {
        let zigzag = ((integer << 1) ^ (integer >> 63)) as u64;
        let len = DOUBLE_ENTRY_BYTES - (zigzag.leading_zeros() / 8) as usize;
        if len < DOUBLE_ENTRY_BYTES {
            return (zigzag.to_le_bytes(), len);
        }
    }
    (score.to_le_bytes(), DOUBLE_ENTRY_BYTES)
}

fn decode_score(entry: &[u8]) -> f64 {
    if entry.len() == DOUBLE_ENTRY_BYTES {
        let mut bytes = [0; DOUBLE_ENTRY_BYTES];
        bytes.copy_from_slice(entry);
        return f64::from_le_bytes(bytes);
    }
    debug_assert!(entry.len() < DOUBLE_ENTRY_BYTES, "an integer score entry");
    let mut bytes = [0; 8];
    bytes[..entry.len()].copy_from_slice(entry);
    let zigzag = u64::from_le_bytes(bytes);
    let integer = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
    integer as f64
}

/// Pairs of a sorted-set listpack, in order.
#[derive(Debug, Clone)]
pub struct Pairs<'a> {
    entries: listpack::Iter<'a>,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        let member = self.entries.next()?;
        let score = self.entries.next().expect("members and scores alternate");
        Some((member, decode_score(score)))
    }
}

fn pairs(listpack: &Listpack) -> Pairs<'_> {
    Pairs {
        entries: listpack.iter(),
    }
}

/// The pair index and score of `member`.
fn listpack_find(listpack: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
    pairs(listpack)
        .enumerate()
        .find(|(_, (candidate, _))| *candidate == member)
        .map(|(index, (_, score))| (index, score))
}

/// Inserts a pair where it belongs in `(score, member)` order.
fn listpack_insert(listpack: &mut Listpack, member: &[u8], score: f64) {
    let position = pairs(listpack)
        .position(|(other, other_score)| {
            other_score > score || (other_score == score && other > member)
        })
        .unwrap_or(listpack.len() / 2);
    let (bytes, len) = encode_score(score);
    listpack.splice(2 * position, 0, &[member, &bytes[..len]]);
}

/* ---------------------------------------------------------------------------
 * Ranges
 * ------------------------------------------------------------------------- */

/// A range a command selects members by, with Redis's boundary tests.
pub trait MemberRange {
    /// Nothing can be in the range (min above max, or equal and exclusive).
    fn is_empty(&self) -> bool;
    /// The member is at or past the minimum.
    fn gte_min(&self, member: &[u8], score: f64) -> bool;
    /// The member is at or before the maximum.
    fn lte_max(&self, member: &[u8], score: f64) -> bool;
}

/// A score range (`ZRANGEBYSCORE min max`), Redis's `zrangespec`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// Lower end.
    pub min: f64,
    /// Upper end.
    pub max: f64,
    /// `(min`: the lower end itself is out.
    pub min_exclusive: bool,
    /// `(max`: the upper end itself is out.
    pub max_exclusive: bool,
}

impl ScoreRange {
    /// Parses `min` and `max` as Redis's `zslParseRange` does.
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, min_exclusive) = parse_range_bound(min)?;
        let (max, max_exclusive) = parse_range_bound(max)?;
        Some(ScoreRange {
            min,
            max,
            min_exclusive,
            max_exclusive,
        })
    }
}

impl MemberRange for ScoreRange {
    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_exclusive || self.max_exclusive))
    }

    fn gte_min(&self, _member: &[u8], score: f64) -> bool {
        if self.min_exclusive {
            score > self.min
        } else {
            score >= self.min
        }
    }

    fn lte_max(&self, _member: &[u8], score: f64) -> bool {
        if self.max_exclusive {
            score < self.max
        } else {
            score <= self.max
        }
    }
}

/// One end of a lexicographic range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: before every member.
    Lowest,
    /// `+`: after every member.
    Highest,
    /// `[member`.
    Inclusive(Vec<u8>),
    /// `(member`.
    Exclusive(Vec<u8>),
}

/// A lexicographic range (`ZRANGEBYLEX min max`), Redis's `zlexrangespec`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    /// Lower end.
    pub min: LexBound,
    /// Upper end.
    pub max: LexBound,
}

/// Where a bound or a member sits, for Redis's `sdscmplex`: `-` and `+`
/// sort before and after every string, and equal to themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LexPoint<'a> {
    Lowest,
    Bytes(&'a [u8]),
    Highest,
}

impl LexBound {
    /// Parses `-`, `+`, `(member` or `[member` as `zslParseLexRangeItem`.
    fn parse(arg: &[u8]) -> Option<LexBound> {
        // A lone `-` or `+` as C sees it: the next byte, if any, is a NUL.
        let alone = arg.get(1).is_none_or(|&byte| byte == 0);
        match arg.first()? {
            b'-' if alone => Some(LexBound::Lowest),
            b'+' if alone => Some(LexBound::Highest),
            b'(' => Some(LexBound::Exclusive(arg[1..].to_vec())),
            b'[' => Some(LexBound::Inclusive(arg[1..].to_vec())),
            _ => None,
        }
    }

    fn point(&self) -> LexPoint<'_> {
        match self {
            LexBound::Lowest => LexPoint::Lowest,
            LexBound::Highest => LexPoint::Highest,
            LexBound::Inclusive(bytes) | LexBound::Exclusive(bytes) => LexPoint::Bytes(bytes),
        }
    }

    /// `-` and `+` are exclusive ends in Redis.
    fn is_exclusive(&self) -> bool {
        !matches!(self, LexBound::Inclusive(_))
    }
}

impl LexRange {
    /// Parses `min` and `max` as Redis's `zslParseLexRange` does.
    pub fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }
}

impl MemberRange for LexRange {
    fn is_empty(&self) -> bool {
        let order = self.min.point().cmp(&self.max.point());
        order.is_gt() || (order.is_eq() && (self.min.is_exclusive() || self.max.is_exclusive()))
    }

    fn gte_min(&self, member: &[u8], _score: f64) -> bool {
        let order = LexPoint::Bytes(member).cmp(&self.min.point());
        if self.min.is_exclusive() {
            order.is_gt()
        } else {
            order.is_ge()
        }
    }

    fn lte_max(&self, member: &[u8], _score: f64) -> bool {
        let order = LexPoint::Bytes(member).cmp(&self.max.point());
        if self.max.is_exclusive() {
            order.is_lt()
        } else {
            order.is_le()
        }
    }
}

/* ---------------------------------------------------------------------------
 * Adding
 * ------------------------------------------------------------------------- */

/// ZADD's conditions on one member.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddFlags {
    /// Only add new members.
    pub nx: bool,
    /// Only update existing members.
    pub xx: bool,
    /// Only update to a greater score.
    pub gt: bool,
    /// Only update to a lesser score.
    pub lt: bool,
    /// The score is an increment.
    pub incr: bool,
}

/// What [`ZSetValue::add`] did (Redis's `ZADD_OUT_*` flags).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AddOutcome {
    /// A new member, with this score.
    Added(f64),
    /// An existing member now has this score.
    Updated(f64),
    /// An existing member already had this score.
    Unchanged(f64),
    /// The conditions skipped the member.
    Skipped,
    /// The increment made the score NaN; nothing changed.
    NotANumber,
}

/* ---------------------------------------------------------------------------
 * Type API
 * ------------------------------------------------------------------------- */

impl ZSetValue {
    /// An empty listpack-encoded set.
    pub fn new_listpack() -> ZSetValue {
        ZSetValue::Listpack(Listpack::new())
    }

    /// The empty set ZADD creates for its first member of `member_len`
    /// bytes: a listpack unless the limits forbid one (`zaddGenericCommand`).
    pub fn for_first_member(limits: &EncodingLimits, member_len: usize) -> ZSetValue {
        if limits.zset_max_listpack_entries == 0
            || limits.zset_max_listpack_value < member_len as u64
        {
            ZSetValue::Skiplist(Box::default())
        } else {
            ZSetValue::new_listpack()
        }
    }

    /// A set of `pairs`, already in `(score, member)` order with distinct
    /// members, in the encoding Redis gives a stored result: a listpack when
    /// both limits allow it (`zsetConvertToListpackIfNeeded`).
    pub fn from_sorted(pairs: Vec<(Vec<u8>, f64)>, limits: &EncodingLimits) -> ZSetValue {
        let longest = pairs
            .iter()
            .map(|(member, _)| member.len())
            .max()
            .unwrap_or(0);
        if pairs.len() as u64 <= limits.zset_max_listpack_entries
            && longest as u64 <= limits.zset_max_listpack_value
        {
            let encoded: Vec<([u8; DOUBLE_ENTRY_BYTES], usize)> = pairs
                .iter()
                .map(|(_, score)| encode_score(*score))
                .collect();
            let entries = pairs
                .iter()
                .zip(&encoded)
                .flat_map(|((member, _), (score, len))| [&member[..], &score[..*len]]);
            ZSetValue::Listpack(Listpack::from_entries(entries))
        } else {
            ZSetValue::Skiplist(Box::new(ScoreTree::from_sorted(pairs)))
        }
    }

    /// The name `OBJECT ENCODING` answers with.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSetValue::Listpack(_) => "listpack",
            ZSetValue::Skiplist(_) => "skiplist",
        }
    }

    /// Members held.
    pub fn len(&self) -> usize {
        match self {
            ZSetValue::Listpack(listpack) => listpack.len() / 2,
            ZSetValue::Skiplist(tree) => tree.len(),
        }
    }

    /// Whether no member is held (the key must then go).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Listpack(listpack) => {
                listpack_find(listpack, member).map(|(_, score)| score)
            }
            ZSetValue::Skiplist(tree) => tree.score(member),
        }
    }

    /// Adds or updates `member` under ZADD's `flags` (Redis's `zsetAdd`),
    /// converting a listpack that a new member would take past `limits`.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        flags: AddFlags,
        limits: &EncodingLimits,
    ) -> AddOutcome {
        debug_assert!(!score.is_nan(), "parsing refuses NaN");
        let Some(current) = self.score(member) else {
            if flags.xx {
                return AddOutcome::Skipped;
            }
            self.insert_new(member, score, limits);
            return AddOutcome::Added(score);
        };
        if flags.nx {
            return AddOutcome::Skipped;
        }
        let mut score = score;
        if flags.incr {
            score += current;
            if score.is_nan() {
                return AddOutcome::NotANumber;
            }
        }
        if (flags.lt && score >= current) || (flags.gt && score <= current) {
            return AddOutcome::Skipped;
        }
        if score == current {
            return AddOutcome::Unchanged(score);
        }
        match self {
            ZSetValue::Listpack(listpack) => {
                let (index, _) = listpack_find(listpack, member).expect("found above");
                listpack.remove_range(2 * index, 2);
                listpack_insert(listpack, member, score);
            }
            ZSetValue::Skiplist(tree) => tree.set_score(member, score),
        }
        AddOutcome::Updated(score)
    }

    fn insert_new(&mut self, member: &[u8], score: f64, limits: &EncodingLimits) {
        if let ZSetValue::Listpack(listpack) = self {
            let too_many = (listpack.len() / 2 + 1) as u64 > limits.zset_max_listpack_entries;
            if !too_many && member.len() as u64 <= limits.zset_max_listpack_value {
                listpack_insert(listpack, member, score);
                return;
            }
            self.convert_to_tree();
        }
        match self {
            ZSetValue::Skiplist(tree) => tree.insert(member, score),
            ZSetValue::Listpack(_) => unreachable!("converted above"),
        }
    }

    /// Moves a listpack's pairs into the large encoding (never back).
    fn convert_to_tree(&mut self) {
        if let ZSetValue::Listpack(listpack) = self {
            let tree = ScoreTree::from_sorted(pairs(listpack));
            *self = ZSetValue::Skiplist(Box::new(tree));
        }
    }

    /// Removes `member`; whether it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSetValue::Listpack(listpack) => match listpack_find(listpack, member) {
                Some((index, _)) => {
                    listpack.remove_range(2 * index, 2);
                    true
                }
                None => false,
            },
            ZSetValue::Skiplist(tree) => tree.remove(member).is_some(),
        }
    }

    /// The 0-based rank of `member`, lowest score first.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSetValue::Listpack(listpack) => {
                listpack_find(listpack, member).map(|(index, _)| index)
            }
            ZSetValue::Skiplist(tree) => tree.rank(member),
        }
    }

    /// The member and score at `rank` (0-based, lowest score first).
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSetValue::Listpack(listpack) => pairs(listpack).nth(rank),
            ZSetValue::Skiplist(tree) => tree.get(rank),
        }
    }

    /// The members from `rank` on, lowest score first; with `reverse`,
    /// from `rank` down to the lowest.
    pub fn iter_from(&self, rank: usize, reverse: bool) -> Iter<'_> {
        match (self, reverse) {
            (ZSetValue::Listpack(listpack), false) => Iter::Forward(pairs(listpack).skip(rank)),
            (ZSetValue::Listpack(listpack), true) => {
                let upto: Vec<(&[u8], f64)> =
                    pairs(listpack).take(rank.saturating_add(1)).collect();
                let upto = if rank < self.len() { upto } else { Vec::new() };
                Iter::Backward(upto.into_iter().rev())
            }
            (ZSetValue::Skiplist(tree), reverse) => Iter::Tree(tree.iter_from(rank, reverse)),
        }
    }

    /// Every member, lowest score first.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, false)
    }

    /// The rank of the first member in `range` (`zslFirstInRange`): the
    /// range must overlap the set's ends, then the first member at or past
    /// the minimum must not be past the maximum.
    pub fn first_in_range(&self, range: &impl MemberRange) -> Option<usize> {
        if !self.ends_overlap(range) {
            return None;
        }
        let rank = match self {
            ZSetValue::Listpack(listpack) => {
                pairs(listpack).position(|(member, score)| range.gte_min(member, score))?
            }
            ZSetValue::Skiplist(tree) => {
                tree.partition_point(|member, score| !range.gte_min(member, score))
            }
        };
        let (member, score) = self.get(rank)?;
        range.lte_max(member, score).then_some(rank)
    }

    /// The rank of the last member in `range` (`zslLastInRange`).
    pub fn last_in_range(&self, range: &impl MemberRange) -> Option<usize> {
        if !self.ends_overlap(range) {
            return None;
        }
        let rank = match self {
            ZSetValue::Listpack(listpack) => {
                let all: Vec<(&[u8], f64)> = pairs(listpack).collect();
                all.iter()
                    .rposition(|&(member, score)| range.lte_max(member, score))?
            }
            ZSetValue::Skiplist(tree) => tree
                .partition_point(|member, score| range.lte_max(member, score))
                .checked_sub(1)?,
        };
        let (member, score) = self.get(rank)?;
        range.gte_min(member, score).then_some(rank)
    }

    /// How many members are in `range` (ZCOUNT, ZLEXCOUNT, what ZREMRANGEBY*
    /// removes): counted while in range in a listpack as Redis does, from
    /// the two end ranks in the large encoding (O(log n)).
    pub fn count_in_range(&self, range: &impl MemberRange) -> usize {
        let Some(first) = self.first_in_range(range) else {
            return 0;
        };
        match self {
            ZSetValue::Listpack(_) => self
                .iter_from(first, false)
                .take_while(|&(member, score)| range.lte_max(member, score))
                .count(),
            ZSetValue::Skiplist(_) => match self.last_in_range(range) {
                Some(last) => (last + 1).saturating_sub(first),
                None => self.len() - first,
            },
        }
    }

    /// `zslIsInRange`: the range is not empty, the last member is at or
    /// past its minimum and the first at or before its maximum.
    fn ends_overlap(&self, range: &impl MemberRange) -> bool {
        let len = self.len();
        if range.is_empty() || len == 0 {
            return false;
        }
        let last = self.get(len - 1).is_some_and(|(m, s)| range.gte_min(m, s));
        last && self.get(0).is_some_and(|(m, s)| range.lte_max(m, s))
    }

    /// Removes `count` members from `rank` on, handing each to `removed`
    /// lowest first.
    pub fn remove_range(
        &mut self,
        rank: usize,
        count: usize,
        mut removed: impl FnMut(Vec<u8>, f64),
    ) {
        assert!(rank + count <= self.len(), "a range within the set");
        match self {
            ZSetValue::Listpack(listpack) => {
                pairs(listpack)
                    .skip(rank)
                    .take(count)
                    .for_each(|(member, score)| removed(member.to_vec(), score));
                listpack.remove_range(2 * rank, 2 * count);
            }
            ZSetValue::Skiplist(tree) => tree.remove_range(rank, count, |member, score| {
                removed(member.into_vec(), score)
            }),
        }
    }

    /// Removes and returns up to `count` members with the lowest scores
    /// (`min`) or the highest, in the order popped. For ZPOPMIN, ZPOPMAX,
    /// ZMPOP and their blocking forms.
    pub fn pop(&mut self, min: bool, count: usize) -> Vec<(Vec<u8>, f64)> {
        let count = count.min(self.len());
        let mut popped = Vec::with_capacity(count);
        let rank = if min { 0 } else { self.len() - count };
        self.remove_range(rank, count, |member, score| popped.push((member, score)));
        if !min {
            popped.reverse();
        }
        popped
    }

    /// One `ZSCAN` step from `cursor`: calls `visit` with each member and
    /// the text of its score as Redis prints it there; returns the next
    /// cursor. A listpack is visited whole (cursor 0), as Redis does.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            ZSetValue::Listpack(listpack) => {
                let mut digits = itoa::Buffer::new();
                for (member, score) in pairs(listpack) {
                    // The score as the listpack holds it: an integer's
                    // digits, or `%.17g` text.
                    match listpack_integer(score) {
                        Some(integer) => visit(member, digits.format(integer).as_bytes()),
                        None => visit(member, shoal_protocol::format_double(score).as_bytes()),
                    }
                }
                0
            }
            ZSetValue::Skiplist(tree) => tree.scan(cursor, count, |member, score| {
                visit(member, shoal_protocol::format_double(score).as_bytes())
            }),
        }
    }
}

/// Members in rank order, from [`ZSetValue::iter_from`].
#[derive(Debug)]
pub enum Iter<'a> {
    /// A listpack, forward.
    Forward(std::iter::Skip<Pairs<'a>>),
    /// A listpack, backward (the pairs up to the start, collected).
    Backward(std::iter::Rev<std::vec::IntoIter<(&'a [u8], f64)>>),
    /// The large encoding, either way.
    Tree(TreeIter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        match self {
            Iter::Forward(iter) => iter.next(),
            Iter::Backward(iter) => iter.next(),
            Iter::Tree(iter) => iter.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(entries: u64, value: u64) -> EncodingLimits {
        EncodingLimits {
            zset_max_listpack_entries: entries,
            zset_max_listpack_value: value,
            ..EncodingLimits::default()
        }
    }

    fn members(zset: &ZSetValue) -> Vec<(Vec<u8>, f64)> {
        zset.iter().map(|(m, s)| (m.to_vec(), s)).collect()
    }

    #[test]
    fn value_stays_small() {
        assert!(
            std::mem::size_of::<ZSetValue>() <= 16,
            "{}",
            std::mem::size_of::<ZSetValue>()
        );
    }

    #[test]
    fn score_entries_round_trip() {
        for score in [
            0.0,
            1.0,
            -1.0,
            63.0,
            64.0,
            -65.0,
            1.5,
            -2.25,
            1e17,
            4.611686018427388e18,
            -4.611686018427388e18,
            9.3e18,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            36028797018963968.0,
        ] {
            let (bytes, len) = encode_score(score);
            assert_eq!(
                decode_score(&bytes[..len]).to_bits(),
                score.to_bits(),
                "{score}"
            );
        }
        assert_eq!(encode_score(0.0).1, 0);
        assert_eq!(encode_score(5.0).1, 1);
        // A listpack forgets the sign of zero, as Redis's does.
        let (bytes, len) = encode_score(-0.0);
        assert_eq!(decode_score(&bytes[..len]).to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn listpack_converts_when_a_new_member_passes_a_limit() {
        let limits = limits(3, 5);
        let mut zset = ZSetValue::for_first_member(&limits, 1);
        for (i, member) in [&b"c"[..], b"a", b"b"].iter().enumerate() {
            assert_eq!(
                zset.add(member, 1.0, AddFlags::default(), &limits),
                AddOutcome::Added(1.0)
            );
            assert_eq!(zset.len(), i + 1);
        }
        assert_eq!(zset.encoding_name(), "listpack");
        assert_eq!(
            zset.add(
                b"a",
                2.0,
                AddFlags {
                    xx: true,
                    ..AddFlags::default()
                },
                &limits
            ),
            AddOutcome::Updated(2.0)
        );
        assert_eq!(
            zset.add(
                b"zz",
                0.5,
                AddFlags {
                    xx: true,
                    ..AddFlags::default()
                },
                &limits
            ),
            AddOutcome::Skipped
        );
        assert_eq!(zset.encoding_name(), "listpack");
        assert_eq!(
            zset.add(b"d", 0.0, AddFlags::default(), &limits),
            AddOutcome::Added(0.0)
        );
        assert_eq!(zset.encoding_name(), "skiplist");
        assert_eq!(
            members(&zset),
            vec![
                (b"d".to_vec(), 0.0),
                (b"b".to_vec(), 1.0),
                (b"c".to_vec(), 1.0),
                (b"a".to_vec(), 2.0)
            ]
        );
        let mut long = ZSetValue::for_first_member(&limits, 1);
        long.add(b"x", 1.0, AddFlags::default(), &limits);
        long.add(b"longer", 1.0, AddFlags::default(), &limits);
        assert_eq!(long.encoding_name(), "skiplist");
        assert_eq!(
            ZSetValue::for_first_member(&limits, 6).encoding_name(),
            "skiplist"
        );
        assert_eq!(
            ZSetValue::for_first_member(&self::limits(0, 64), 1).encoding_name(),
            "skiplist"
        );
    }

    #[test]
    fn add_follows_zadd_conditions() {
        let limits = EncodingLimits::default();
        let mut zset = ZSetValue::new_listpack();
        let gt = AddFlags {
            gt: true,
            ..AddFlags::default()
        };
        let lt = AddFlags {
            lt: true,
            ..AddFlags::default()
        };
        let incr = AddFlags {
            incr: true,
            ..AddFlags::default()
        };
        assert_eq!(zset.add(b"m", 5.0, gt, &limits), AddOutcome::Added(5.0));
        assert_eq!(zset.add(b"m", 4.0, gt, &limits), AddOutcome::Skipped);
        assert_eq!(zset.add(b"m", 6.0, gt, &limits), AddOutcome::Updated(6.0));
        assert_eq!(zset.add(b"m", 6.0, lt, &limits), AddOutcome::Skipped);
        assert_eq!(
            zset.add(b"m", 6.0, AddFlags::default(), &limits),
            AddOutcome::Unchanged(6.0)
        );
        assert_eq!(zset.add(b"m", 1.5, incr, &limits), AddOutcome::Updated(7.5));
        assert_eq!(
            zset.add(b"m", f64::INFINITY, incr, &limits),
            AddOutcome::Updated(f64::INFINITY)
        );
        assert_eq!(
            zset.add(b"m", f64::NEG_INFINITY, incr, &limits),
            AddOutcome::NotANumber
        );
        assert_eq!(zset.score(b"m"), Some(f64::INFINITY));
    }

    #[test]
    fn ranges_follow_redis_boundaries() {
        let limits = EncodingLimits::default();
        for big in [false, true] {
            let mut zset = ZSetValue::new_listpack();
            for (i, member) in [&b"a"[..], b"b", b"c", b"d", b"e"].iter().enumerate() {
                zset.add(member, i as f64, AddFlags::default(), &limits);
            }
            if big {
                zset.convert_to_tree();
            }
            let range = ScoreRange::parse(b"(1", b"3").unwrap();
            assert_eq!(zset.first_in_range(&range), Some(2));
            assert_eq!(zset.last_in_range(&range), Some(3));
            let empty = ScoreRange::parse(b"(2", b"2").unwrap();
            assert_eq!(zset.first_in_range(&empty), None);
            let outside = ScoreRange::parse(b"10", b"+inf").unwrap();
            assert_eq!(zset.first_in_range(&outside), None);
            let lex = LexRange::parse(b"(a", b"[c").unwrap();
            // Scores differ here, but members happen to be ordered too.
            assert_eq!(zset.first_in_range(&lex), Some(1));
            assert_eq!(zset.last_in_range(&lex), Some(2));
            let all = LexRange::parse(b"-", b"+").unwrap();
            assert_eq!(
                (zset.first_in_range(&all), zset.last_in_range(&all)),
                (Some(0), Some(4))
            );
            assert!(LexRange::parse(b"+", b"-").unwrap().is_empty());
            assert!(LexRange::parse(b"-", b"-").unwrap().is_empty());
            assert!(!LexRange::parse(b"[a", b"[a").unwrap().is_empty());
            assert_eq!(LexRange::parse(b"a", b"+"), None);
            assert_eq!(LexRange::parse(b"", b"+"), None);
            assert_eq!(LexRange::parse(b"-x", b"+"), None);
            let popped = zset.pop(false, 2);
            assert_eq!(popped, vec![(b"e".to_vec(), 4.0), (b"d".to_vec(), 3.0)]);
            let backward: Vec<_> = zset.iter_from(1, true).map(|(m, _)| m.to_vec()).collect();
            assert_eq!(backward, vec![b"b".to_vec(), b"a".to_vec()]);
            assert_eq!(zset.iter_from(3, true).count(), 0);
        }
    }

    #[test]
    fn listpack_scan_prints_scores_as_the_listpack_holds_them() {
        let limits = EncodingLimits::default();
        let mut zset = ZSetValue::new_listpack();
        zset.add(b"a", -0.0, AddFlags::default(), &limits);
        zset.add(b"b", 1e17, AddFlags::default(), &limits);
        zset.add(b"c", 1.5, AddFlags::default(), &limits);
        zset.add(b"d", 1e300, AddFlags::default(), &limits);
        let mut seen = Vec::new();
        assert_eq!(
            zset.scan(0, 10, |m, s| seen.push((m.to_vec(), s.to_vec()))),
            0
        );
        let expected: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (b"a".to_vec(), b"0".to_vec()),
            (b"c".to_vec(), b"1.5".to_vec()),
            (b"b".to_vec(), b"100000000000000000".to_vec()),
            (b"d".to_vec(), b"1.0000000000000001e+300".to_vec()),
        ];
        assert_eq!(seen, expected);
    }

    /// Random operations on both encodings against a sorted model.
    #[test]
    fn random_operations_agree_with_a_btreeset_model() {
        use std::collections::BTreeSet;
        #[derive(Clone, Copy, PartialEq)]
        struct Score(f64);
        impl PartialOrd for Score {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Eq for Score {}
        impl Ord for Score {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.0.partial_cmp(&other.0).expect("no NaN")
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |bound: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % bound as u64) as usize
        };
        for max_entries in [16u64, 1_000_000] {
            let limits = limits(max_entries, 64);
            let mut zset = ZSetValue::new_listpack();
            let mut model: BTreeSet<(Score, Vec<u8>)> = BTreeSet::new();
            for _ in 0..6_000 {
                let member = format!("m{}", next(40)).into_bytes();
                let current = model.iter().find(|(_, m)| *m == member).cloned();
                match next(7) {
                    0..=2 => {
                        let score = next(21) as f64 - 10.0;
                        zset.add(&member, score, AddFlags::default(), &limits);
                        if let Some(old) = current {
                            model.remove(&old);
                        }
                        model.insert((Score(score), member.clone()));
                    }
                    3 => {
                        assert_eq!(zset.remove(&member), current.is_some());
                        if let Some(old) = current {
                            model.remove(&old);
                        }
                    }
                    4 => {
                        let sorted: Vec<_> = model.iter().collect();
                        let rank = sorted.iter().position(|(_, m)| *m == member);
                        assert_eq!(zset.rank(&member), rank);
                    }
                    5 => {
                        let min = next(21) as f64 - 10.0;
                        let max = min + next(6) as f64;
                        let range = ScoreRange {
                            min,
                            max,
                            min_exclusive: next(2) == 0,
                            max_exclusive: next(2) == 0,
                        };
                        let inside: Vec<usize> = model
                            .iter()
                            .enumerate()
                            .filter(|(_, (s, m))| range.gte_min(m, s.0) && range.lte_max(m, s.0))
                            .map(|(rank, _)| rank)
                            .collect();
                        assert_eq!(zset.first_in_range(&range), inside.first().copied());
                        assert_eq!(zset.last_in_range(&range), inside.last().copied());
                    }
                    _ if !model.is_empty() => {
                        let min = next(2) == 0;
                        let count = next(3) + 1;
                        let popped = zset.pop(min, count);
                        let expected: Vec<(Vec<u8>, f64)> = if min {
                            model
                                .iter()
                                .take(count)
                                .map(|(s, m)| (m.clone(), s.0))
                                .collect()
                        } else {
                            model
                                .iter()
                                .rev()
                                .take(count)
                                .map(|(s, m)| (m.clone(), s.0))
                                .collect()
                        };
                        assert_eq!(popped, expected);
                        for (member, score) in expected {
                            model.remove(&(Score(score), member));
                        }
                    }
                    _ => {}
                }
                let expected: Vec<(Vec<u8>, f64)> =
                    model.iter().map(|(s, m)| (m.clone(), s.0)).collect();
                assert_eq!(members(&zset), expected);
            }
            assert_eq!(
                zset.encoding_name(),
                if max_entries == 16 {
                    "skiplist"
                } else {
                    "listpack"
                }
            );
        }
    }
}
