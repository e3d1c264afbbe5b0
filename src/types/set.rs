//! Sets, as Redis 7.0 keeps them: an intset (sorted integers, exactly
//! sized) while every member is an integer and there are at most
//! `set-max-intset-entries` of them, a hash table otherwise. A set converts
//! to a hash table the moment an add breaks either rule and never converts
//! back; only commands that build a new set (SINTERSTORE, SUNIONSTORE,
//! SDIFFSTORE, SPOP's rebuild, SMOVE into a new key) start from an intset.

// The encodings' own files sit beside this one (`set_*.rs`), as children
// of this module, so the shared `types/mod.rs` needs no line per family.
#[path = "set_intset.rs"]
pub mod intset;
#[path = "set_table.rs"]
pub mod table;

use intset::Intset;
use table::MemberTable;

/// Redis caps `set-max-intset-entries` at 2^30 whatever the configuration
/// says (its intset stores a 32-bit count).
const INTSET_ENTRIES_MAX: u64 = 1 << 30;

/// A set value: one small box around either encoding.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// Sorted distinct integers (Redis's intset).
    Intset(Intset),
    /// Any byte strings (Redis's hashtable).
    Hashtable(Box<MemberTable>),
}

/// A member as a set yields it: an intset's integer, or a table's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member<'a> {
    /// An integer, whose text is the member.
    Int(i64),
    /// The member's bytes.
    Bytes(&'a [u8]),
}

impl Member<'_> {
    /// The member as an integer, if it is the canonical text of one
    /// (Redis's `isSdsRepresentableAsLongLong`).
    pub fn as_int(self) -> Option<i64> {
        match self {
            Member::Int(value) => Some(value),
            Member::Bytes(bytes) => shoal_protocol::parse_i64(bytes),
        }
    }

    /// Calls `f` with the member's text, formatting an integer on the stack.
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(value) => f(itoa::Buffer::new().format(value).as_bytes()),
            Member::Bytes(bytes) => f(bytes),
        }
    }
}

/// The largest intset `limit` (`set-max-intset-entries`) allows.
fn intset_entries_max(limit: u64) -> usize {
    limit.min(INTSET_ENTRIES_MAX) as usize
}

impl SetValue {
    /// An empty set in the encoding Redis gives a set whose first member is
    /// `first` (`setTypeCreate`): an intset for an integer.
    pub fn for_member(first: Member<'_>) -> SetValue {
        match first.as_int() {
            Some(_) => SetValue::new_intset(),
            None => SetValue::Hashtable(Box::default()),
        }
    }

    /// An empty intset, where Redis starts the sets that commands build.
    pub fn new_intset() -> SetValue {
        SetValue::Intset(Intset::new())
    }

    /// The name `OBJECT ENCODING` answers with.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            SetValue::Intset(_) => "intset",
            SetValue::Hashtable(_) => "hashtable",
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            SetValue::Intset(ints) => ints.len(),
            SetValue::Hashtable(table) => table.len(),
        }
    }

    /// Whether there are no members (a stored set never is: commands remove
    /// the key of a set they empty).
    pub fn is_empty(&self) -> bool {
        match self {
            SetValue::Intset(ints) => ints.is_empty(),
            SetValue::Hashtable(table) => table.is_empty(),
        }
    }

    /// Whether an add of a new member would pass [`MEMBERS_MAX`].
    pub fn is_full(&self) -> bool {
        match self {
            SetValue::Intset(_) => false,
            SetValue::Hashtable(table) => table.is_full(),
        }
    }

    /// Whether `member` is in the set.
    pub fn contains(&self, member: Member<'_>) -> bool {
        match self {
            SetValue::Intset(ints) => member.as_int().is_some_and(|value| ints.contains(value)),
            SetValue::Hashtable(table) => member.with_bytes(|bytes| table.contains(bytes)),
        }
    }

    /// Adds `member`; false if it was present. Converts an intset to a hash
    /// table when `member` is not an integer or the intset grows past
    /// `max_intset_entries` (`set-max-intset-entries`), as `setTypeAdd`.
    /// The caller checks [`SetValue::is_full`] first.
    pub fn add(&mut self, member: Member<'_>, max_intset_entries: u64) -> bool {
        match self {
            SetValue::Intset(ints) => match member.as_int() {
                Some(value) => {
                    if !ints.insert(value) {
                        return false;
                    }
                    if ints.len() > intset_entries_max(max_intset_entries) {
                        self.convert_to_table(0);
                    }
                    true
                }
                None => {
                    self.convert_to_table(1);
                    self.add(member, max_intset_entries)
                }
            },
            SetValue::Hashtable(table) => member.with_bytes(|bytes| table.insert(bytes)),
        }
    }

    /// Turns an intset into a hash table with room for `extra` more members.
    fn convert_to_table(&mut self, extra: usize) {
        let SetValue::Intset(ints) = self else {
            return;
        };
        let mut table = MemberTable::with_capacity(ints.len() + extra);
        let mut text = itoa::Buffer::new();
        for value in ints.iter() {
            table.insert(text.format(value).as_bytes());
        }
        *self = SetValue::Hashtable(Box::new(table));
    }

    /// Removes `member`; false if it was absent.
    pub fn remove(&mut self, member: Member<'_>) -> bool {
        match self {
            SetValue::Intset(ints) => member.as_int().is_some_and(|value| ints.remove(value)),
            SetValue::Hashtable(table) => member.with_bytes(|bytes| table.remove(bytes)),
        }
    }

    /// The member at `index` (below `len`): ascending for an intset, table
    /// order for a hash table. Random members are drawn by index.
    pub fn get(&self, index: usize) -> Member<'_> {
        match self {
            SetValue::Intset(ints) => Member::Int(ints.get(index)),
            SetValue::Hashtable(table) => Member::Bytes(table.get(index)),
        }
    }

    /// Removes the member at `index` (below `len`). In a hash table the
    /// last member takes its index.
    pub fn remove_at(&mut self, index: usize) {
        match self {
            SetValue::Intset(ints) => {
                ints.remove_at(index);
            }
            SetValue::Hashtable(table) => {
                table.swap_remove(index);
            }
        }
    }

    /// Every member, in index order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Member<'_>> + '_ {
        (0..self.len()).map(|index| self.get(index))
    }

    /// The hash table, if the set is one (SSCAN walks it by position).
    pub fn as_table(&self) -> Option<&MemberTable> {
        match self {
            SetValue::Intset(_) => None,
            SetValue::Hashtable(table) => Some(table),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const LIMIT: u64 = 512;

    fn bytes(text: &str) -> Member<'_> {
        Member::Bytes(text.as_bytes())
    }

    #[test]
    fn the_box_stays_small() {
        assert!(std::mem::size_of::<SetValue>() <= 24);
    }

    #[test]
    fn integers_make_an_intset_until_the_limit() {
        let mut set = SetValue::for_member(bytes("1"));
        assert_eq!(set.encoding_name(), "intset");
        for value in 0..4 {
            assert!(set.add(Member::Int(value), 4));
        }
        assert_eq!(set.encoding_name(), "intset");
        assert!(!set.add(bytes("3"), 4));
        assert_eq!(set.encoding_name(), "intset");
        assert!(set.add(bytes("4"), 4));
        assert_eq!(set.encoding_name(), "hashtable");
        assert!(set.contains(Member::Int(4)) && set.contains(bytes("0")));
        assert!(set.remove(bytes("4")) && set.remove(bytes("3")));
        assert_eq!(set.encoding_name(), "hashtable", "never converts back");
    }

    #[test]
    fn only_canonical_integers_stay_in_an_intset() {
        for text in ["01", "+1", "-0", " 1", "1.0", "9223372036854775808", "a"] {
            assert_eq!(
                SetValue::for_member(bytes(text)).encoding_name(),
                "hashtable"
            );
            let mut set = SetValue::new_intset();
            set.add(bytes("7"), LIMIT);
            assert!(!set.contains(bytes(text)));
            assert!(set.add(bytes(text), LIMIT));
            assert_eq!(set.encoding_name(), "hashtable", "{text}");
            assert!(set.contains(bytes("7")) && set.contains(bytes(text)));
        }
        let mut set = SetValue::new_intset();
        assert!(set.add(bytes("-9223372036854775808"), LIMIT));
        assert_eq!(set.encoding_name(), "intset");
    }

    #[test]
    fn a_zero_limit_converts_on_the_first_add() {
        let mut set = SetValue::for_member(bytes("1"));
        assert!(set.add(bytes("1"), 0));
        assert_eq!(set.encoding_name(), "hashtable");
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn equality_is_by_members_within_an_encoding() {
        let mut intset = SetValue::new_intset();
        let mut table = SetValue::for_member(bytes("x"));
        for value in [3, 1, 2] {
            intset.add(Member::Int(value), LIMIT);
            table.add(Member::Int(value), LIMIT);
        }
        assert_eq!(intset.clone(), intset);
        table.remove(bytes("x"));
        assert_eq!(table.len(), 3);
        assert_eq!(table.clone(), table);
    }

    /// A model of Redis's rules: members as text, and the encoding it must
    /// have after each operation.
    #[test]
    fn agrees_with_a_model_of_members_and_encodings() {
        let mut state: u64 = 0x0bad_5eed_0bad_5eed;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for limit in [0, 3, 16, 64] {
            let mut set = SetValue::new_intset();
            let mut model: BTreeSet<Vec<u8>> = BTreeSet::new();
            let mut is_table = false;
            for _ in 0..5_000 {
                let draw = next();
                let text = match draw % 8 {
                    0 => format!("s{}", next() % 50),
                    1 => format!("{}", (next() as i64) >> 20),
                    _ => format!("{}", (next() % 100) as i64 - 50),
                };
                let member = Member::Bytes(text.as_bytes());
                match next() % 3 {
                    0 => {
                        let added = set.add(member, limit);
                        assert_eq!(added, model.insert(text.clone().into_bytes()));
                        let all_ints = model.iter().all(|m| shoal_protocol::parse_i64(m).is_some());
                        if added && (!all_ints || model.len() > limit as usize) {
                            is_table = true;
                        }
                    }
                    1 => assert_eq!(set.remove(member), model.remove(text.as_bytes())),
                    _ if !model.is_empty() => {
                        let index = (next() % set.len() as u64) as usize;
                        let removed = set.get(index).with_bytes(<[u8]>::to_vec);
                        set.remove_at(index);
                        assert!(model.remove(&removed));
                    }
                    _ => {}
                }
                assert_eq!(set.encoding_name() == "hashtable", is_table);
                assert_eq!(set.len(), model.len());
                assert_eq!(set.contains(member), model.contains(text.as_bytes()));
            }
            let members: BTreeSet<Vec<u8>> =
                set.iter().map(|m| m.with_bytes(<[u8]>::to_vec)).collect();
            assert_eq!(members, model);
        }
    }
}
