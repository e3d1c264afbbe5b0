//! The hash table of a large set (Redis's `hashtable` encoding): members in a
//! dense array, found through an open-addressing index.
//!
//! Layout: `members` holds each member as an exactly sized boxed byte string
//! (16 bytes each, plus the string); `slots` is a power-of-two array of
//! 8-byte slots, each empty (0) or holding a member's position plus one in
//! its low 32 bits and 32 bits of the member's hash in its high bits.
//! Lookups probe linearly and compare the stored hash bits before touching a
//! member; growing re-places slots by those bits without hashing a member
//! again; removal shifts the probe run back instead of leaving tombstones.
//!
//! The dense array is what the set commands need beyond lookups: a uniform
//! random member is one random position (SPOP, SRANDMEMBER), and SSCAN walks
//! positions downwards. Removal moves the last member into the hole, so a
//! member that stays in the set through a walk is never skipped: the member
//! moved was at a position the walk had already passed or is still ahead.

use std::fmt;
use std::sync::OnceLock;

/// Slots at least, once a table exists.
const SLOTS_MIN: usize = 8;
/// The table grows when more than this share of its slots would be used:
/// linear probing stays short up to three quarters.
const LOAD_NUMERATOR: usize = 3;
const LOAD_DENOMINATOR: usize = 4;
/// Slots at most: a slot's hash bits choose among 2^32 of them.
const SLOTS_MAX: usize = 1 << 32;
/// Members at most: what the largest table holds at its load limit. A
/// position plus one then fits the slot's 32 low bits.
pub const MEMBERS_MAX: usize = SLOTS_MAX / LOAD_DENOMINATOR * LOAD_NUMERATOR;
const _: () = assert!(MEMBERS_MAX < u32::MAX as usize);
const _: () = assert!(SLOTS_MIN.is_power_of_two() && SLOTS_MAX.is_power_of_two());
/// A table shrinks when fewer than one slot in this many is used (Redis
/// resizes its dict under 10%).
const SHRINK_RATIO: usize = 8;
const POSITION_MASK: u64 = u32::MAX as u64;

/// The hasher every table shares: seeded at random once per process, so
/// clients cannot choose colliding members, and zero bytes per table.
fn hasher() -> &'static ahash::RandomState {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new)
}

/// The 32 bits of a member's hash that slots keep.
fn hash_of(member: &[u8]) -> u32 {
    hasher().hash_one(member) as u32
}

fn slot_of(hash: u32, position: usize) -> u64 {
    debug_assert!(position < MEMBERS_MAX);
    (u64::from(hash) << 32) | (position as u64 + 1)
}

fn slot_hash(slot: u64) -> u32 {
    (slot >> 32) as u32
}

/// The position a non-empty slot names.
fn slot_position(slot: u64) -> usize {
    debug_assert!(slot != 0, "an occupied slot");
    ((slot & POSITION_MASK) - 1) as usize
}

/// The smallest power-of-two slot count that holds `members` under the load
/// limit.
fn slots_for(members: usize) -> usize {
    let needed = (members * LOAD_DENOMINATOR).div_ceil(LOAD_NUMERATOR) + 1;
    needed.next_power_of_two().clamp(SLOTS_MIN, SLOTS_MAX)
}

/// A set of byte strings with positions.
#[derive(Clone, Default)]
pub struct MemberTable {
    /// The members, densely; positions are indices here.
    members: Vec<Box<[u8]>>,
    /// The index: empty, or a member's hash bits and position (see the
    /// module comment). Empty until the first insertion.
    slots: Box<[u64]>,
}

/// Where a probe for a member ended.
enum Probe {
    /// The member is at this position, named by this slot.
    Found { slot: usize, position: usize },
    /// The member is absent; this empty slot is where it would go.
    Vacant(usize),
}

impl MemberTable {
    /// An empty table sized for `members` members.
    pub fn with_capacity(members: usize) -> MemberTable {
        let slots = slots_for(members.min(MEMBERS_MAX));
        MemberTable {
            members: Vec::with_capacity(slots / LOAD_DENOMINATOR * LOAD_NUMERATOR),
            slots: vec![0; slots].into_boxed_slice(),
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether the table holds [`MEMBERS_MAX`] members and takes no more.
    pub fn is_full(&self) -> bool {
        self.members.len() >= MEMBERS_MAX
    }

    /// The member at `position` (below `len`).
    pub fn get(&self, position: usize) -> &[u8] {
        &self.members[position]
    }

    /// The members in position order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.members.iter().map(|member| &member[..])
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// Probes for `member`, whose hash bits are `hash`.
    fn probe(&self, member: &[u8], hash: u32) -> Probe {
        debug_assert!(!self.slots.is_empty(), "probing needs slots");
        let mask = self.mask();
        let mut index = hash as usize & mask;
        loop {
            let slot = self.slots[index];
            if slot == 0 {
                return Probe::Vacant(index);
            }
            if slot_hash(slot) == hash {
                let position = slot_position(slot);
                if *self.members[position] == *member {
                    return Probe::Found {
                        slot: index,
                        position,
                    };
                }
            }
            index = (index + 1) & mask;
        }
    }

    /// The position of `member`, if present.
    pub fn find(&self, member: &[u8]) -> Option<usize> {
        if self.members.is_empty() {
            return None;
        }
        match self.probe(member, hash_of(member)) {
            Probe::Found { position, .. } => Some(position),
            Probe::Vacant(_) => None,
        }
    }

    /// Whether `member` is present.
    pub fn contains(&self, member: &[u8]) -> bool {
        self.find(member).is_some()
    }

    /// Adds `member`; false if it was present. The caller checks
    /// [`MemberTable::is_full`] first.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        let hash = hash_of(member);
        if !self.members.is_empty() {
            if let Probe::Found { .. } = self.probe(member, hash) {
                return false;
            }
        }
        assert!(!self.is_full(), "callers check is_full before adding");
        if (self.members.len() + 1) * LOAD_DENOMINATOR > self.slots.len() * LOAD_NUMERATOR {
            self.resize(slots_for(self.members.len() + 1));
        }
        let Probe::Vacant(index) = self.probe(member, hash) else {
            unreachable!("absent a moment ago");
        };
        self.slots[index] = slot_of(hash, self.members.len());
        self.members.push(member.into());
        true
    }

    /// Removes `member`; false if it was absent.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        if self.members.is_empty() {
            return false;
        }
        match self.probe(member, hash_of(member)) {
            Probe::Found { slot, position } => {
                self.remove_found(slot, position);
                true
            }
            Probe::Vacant(_) => false,
        }
    }

    /// Removes and returns the member at `position` (below `len`); the last
    /// member takes its position.
    pub fn swap_remove(&mut self, position: usize) -> Box<[u8]> {
        let slot = self.slot_naming(position);
        self.remove_found(slot, position)
    }

    /// The slot that names `position`.
    fn slot_naming(&self, position: usize) -> usize {
        let mask = self.mask();
        let mut index = hash_of(&self.members[position]) as usize & mask;
        while self.slots[index] & POSITION_MASK != position as u64 + 1 {
            debug_assert!(self.slots[index] != 0, "every member has a slot");
            index = (index + 1) & mask;
        }
        index
    }

    fn remove_found(&mut self, slot: usize, position: usize) -> Box<[u8]> {
        self.vacate(slot);
        let last = self.members.len() - 1;
        if position != last {
            let moved = self.slot_naming(last);
            self.slots[moved] = slot_of(slot_hash(self.slots[moved]), position);
        }
        let member = self.members.swap_remove(position);
        if self.members.len() * SHRINK_RATIO < self.slots.len() && self.slots.len() > SLOTS_MIN {
            self.resize(slots_for(self.members.len()));
        }
        member
    }

    /// Empties slot `hole`, shifting back later slots of its probe run that
    /// may then be found closer to where their hash places them.
    fn vacate(&mut self, mut hole: usize) {
        let mask = self.mask();
        let mut next = (hole + 1) & mask;
        loop {
            let slot = self.slots[next];
            if slot == 0 {
                break;
            }
            let home = slot_hash(slot) as usize & mask;
            let displacement = next.wrapping_sub(home) & mask;
            let gap = next.wrapping_sub(hole) & mask;
            if displacement >= gap {
                self.slots[hole] = slot;
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.slots[hole] = 0;
    }

    /// Re-places every slot into `slots` slots, by the hash bits they keep,
    /// and sizes the member array to the same load limit.
    fn resize(&mut self, slots: usize) {
        debug_assert!(slots.is_power_of_two() && slots >= SLOTS_MIN);
        let old = std::mem::replace(&mut self.slots, vec![0; slots].into_boxed_slice());
        let mask = slots - 1;
        for slot in old.iter().copied().filter(|&slot| slot != 0) {
            let mut index = slot_hash(slot) as usize & mask;
            while self.slots[index] != 0 {
                index = (index + 1) & mask;
            }
            self.slots[index] = slot;
        }
        let members_max = slots / LOAD_DENOMINATOR * LOAD_NUMERATOR;
        if self.members.capacity() < members_max {
            self.members.reserve_exact(members_max - self.members.len());
        } else {
            self.members.shrink_to(members_max);
        }
    }

    /// Visits members from position `start - 1` down towards 0, at most
    /// `limit` of them; returns the position to resume from (0: done).
    pub fn scan_down<'t>(
        &'t self,
        start: usize,
        limit: usize,
        mut visit: impl FnMut(&'t [u8]),
    ) -> usize {
        let mut position = start.min(self.members.len());
        let end = position.saturating_sub(limit);
        while position > end {
            position -= 1;
            visit(&self.members[position]);
        }
        position
    }
}

impl PartialEq for MemberTable {
    /// The same members, in any position.
    fn eq(&self, other: &MemberTable) -> bool {
        self.len() == other.len() && self.iter().all(|member| other.contains(member))
    }
}

impl fmt::Debug for MemberTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// Every slot points at its member, every member has one slot, and
    /// every member is found from its hash without crossing an empty slot.
    fn assert_consistent(table: &MemberTable) {
        let occupied = table.slots.iter().filter(|&&slot| slot != 0).count();
        assert_eq!(occupied, table.len());
        for (position, member) in table.iter().enumerate() {
            assert_eq!(table.find(member), Some(position));
        }
    }

    #[test]
    fn inserts_finds_and_removes() {
        let mut table = MemberTable::default();
        assert!(!table.contains(b"a"));
        assert!(!table.remove(b"a"));
        assert!(table.insert(b"a"));
        assert!(!table.insert(b"a"));
        assert!(table.insert(b""));
        assert!(table.contains(b""));
        assert_eq!(table.len(), 2);
        assert!(table.remove(b"a"));
        assert_eq!(table.iter().collect::<Vec<_>>(), [&b""[..]]);
        assert!(table.remove(b""));
        assert!(table.is_empty());
    }

    #[test]
    fn grows_and_shrinks_within_its_load_limits() {
        let mut table = MemberTable::default();
        for number in 0..10_000 {
            table.insert(number.to_string().as_bytes());
        }
        assert!(table.slots.len() * LOAD_NUMERATOR >= table.len() * LOAD_DENOMINATOR);
        assert!(table.slots.len() <= 2 * slots_for(table.len()));
        assert_consistent(&table);
        for number in 0..9_990 {
            assert!(table.remove(number.to_string().as_bytes()));
        }
        assert!(table.slots.len() <= 64, "{} slots", table.slots.len());
        assert_consistent(&table);
    }

    #[test]
    fn a_scan_returns_every_member_that_stays_despite_removals() {
        let mut table = MemberTable::default();
        for number in 0..1000 {
            table.insert(number.to_string().as_bytes());
        }
        let mut seen = BTreeSet::new();
        let mut cursor = table.len();
        let mut state = 99;
        loop {
            cursor = table.scan_down(cursor, 7, |member| {
                seen.insert(member.to_vec());
            });
            // Remove members both behind and ahead of the cursor, and add
            // some: none of that may hide a member that stays.
            for _ in 0..3 {
                let position = (xorshift(&mut state) % table.len() as u64) as usize;
                let member = table.get(position).to_vec();
                if member.starts_with(b"9") {
                    table.swap_remove(position);
                }
            }
            table.insert(format!("new{}", xorshift(&mut state) % 100).as_bytes());
            if cursor == 0 {
                break;
            }
        }
        for number in 0..1000 {
            let member = number.to_string().into_bytes();
            if !member.starts_with(b"9") {
                assert!(seen.contains(&member), "{number} missed");
            }
        }
    }

    #[test]
    fn equality_ignores_positions() {
        let mut first = MemberTable::default();
        let mut second = MemberTable::with_capacity(100);
        for member in ["x", "y", "z"] {
            first.insert(member.as_bytes());
        }
        for member in ["z", "x", "y"] {
            second.insert(member.as_bytes());
        }
        assert_eq!(first, second);
        second.remove(b"z");
        assert_ne!(first, second);
    }

    /// Thousands of random operations agree with a `BTreeSet`, and the
    /// index stays consistent throughout.
    #[test]
    fn agrees_with_a_btreeset_model() {
        let mut state: u64 = 0xdead_beef_cafe_f00d;
        let mut table = MemberTable::default();
        let mut model: BTreeSet<Vec<u8>> = BTreeSet::new();
        for round in 0..30_000 {
            let draw = xorshift(&mut state);
            // A small universe makes hits, misses and long runs all common.
            let member = format!("m{}", draw % 700).into_bytes();
            match xorshift(&mut state) % 5 {
                0 | 1 => assert_eq!(table.insert(&member), model.insert(member.clone())),
                2 | 3 => assert_eq!(table.remove(&member), model.remove(&member)),
                _ if !table.is_empty() => {
                    let position = (xorshift(&mut state) % table.len() as u64) as usize;
                    let removed = table.swap_remove(position);
                    assert!(model.remove(&removed[..]));
                }
                _ => {}
            }
            assert_eq!(table.contains(&member), model.contains(&member));
            assert_eq!(table.len(), model.len());
            if round % 1000 == 0 {
                assert_consistent(&table);
            }
        }
        assert_consistent(&table);
        let members: BTreeSet<Vec<u8>> = table.iter().map(<[u8]>::to_vec).collect();
        assert_eq!(members, model);
    }
}
