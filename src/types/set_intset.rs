//! Redis's intset: a set of integers as one sorted, exactly sized array whose
//! element width (16, 32 or 64 bits) is the narrowest that holds every
//! member.
//!
//! Membership is a binary search; an insertion or a removal copies the array
//! into a new one of the new length, which is O(n) as Redis's `memmove` and
//! `realloc` are, and cheap under `set-max-intset-entries` (512 by default).
//! Like Redis, the array widens when a wider integer arrives and never
//! narrows again.

use std::fmt;

/// The integers of a set, sorted, distinct, at one width.
#[derive(Clone)]
pub enum Intset {
    /// Every member fits 16 bits.
    I16(Box<[i16]>),
    /// Some member needs 32 bits.
    I32(Box<[i32]>),
    /// Some member needs 64 bits.
    I64(Box<[i64]>),
}

/// An element width of the array.
trait Word: Copy + Ord + TryFrom<i64> + Into<i64> {}
impl Word for i16 {}
impl Word for i32 {}
impl Word for i64 {}

/// A copy of `words` with `value` at `position`, exactly sized.
fn inserted<T: Word>(words: &[T], position: usize, value: T) -> Box<[T]> {
    let mut grown = Vec::with_capacity(words.len() + 1);
    grown.extend_from_slice(&words[..position]);
    grown.push(value);
    grown.extend_from_slice(&words[position..]);
    debug_assert_eq!(grown.len(), grown.capacity());
    grown.into_boxed_slice()
}

/// A copy of `words` without the word at `position`, exactly sized.
fn removed<T: Word>(words: &[T], position: usize) -> Box<[T]> {
    let mut shrunk = Vec::with_capacity(words.len() - 1);
    shrunk.extend_from_slice(&words[..position]);
    shrunk.extend_from_slice(&words[position + 1..]);
    shrunk.into_boxed_slice()
}

/// Where `value` is or would go in `words`; `None` when it does not fit the
/// width (so it is not there, and adding it needs a wider array).
fn search<T: Word>(words: &[T], value: i64) -> Option<Result<usize, usize>> {
    let value = T::try_from(value).ok()?;
    Some(words.binary_search(&value))
}

/// `words` at a wider width.
fn widened<T: Word, U: Word + From<T>>(words: &[T]) -> Box<[U]> {
    words.iter().map(|&word| U::from(word)).collect()
}

impl Default for Intset {
    fn default() -> Intset {
        Intset::new()
    }
}

impl Intset {
    /// An empty intset at the narrowest width.
    pub fn new() -> Intset {
        Intset::I16(Box::new([]))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Intset::I16(words) => words.len(),
            Intset::I32(words) => words.len(),
            Intset::I64(words) => words.len(),
        }
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the array takes (for tests of the width).
    #[cfg(test)]
    pub fn bytes_len(&self) -> usize {
        match self {
            Intset::I16(words) => words.len() * 2,
            Intset::I32(words) => words.len() * 4,
            Intset::I64(words) => words.len() * 8,
        }
    }

    /// The member at `index` in ascending order; `index` must be below `len`.
    pub fn get(&self, index: usize) -> i64 {
        match self {
            Intset::I16(words) => words[index].into(),
            Intset::I32(words) => words[index].into(),
            Intset::I64(words) => words[index],
        }
    }

    /// Where `value` is (`Ok`) or would go (`Err`); `None` if it does not
    /// fit the current width.
    fn position(&self, value: i64) -> Option<Result<usize, usize>> {
        match self {
            Intset::I16(words) => search(words, value),
            Intset::I32(words) => search(words, value),
            Intset::I64(words) => search(words, value),
        }
    }

    /// Whether `value` is a member.
    pub fn contains(&self, value: i64) -> bool {
        matches!(self.position(value), Some(Ok(_)))
    }

    /// Adds `value`; false if it was already a member.
    pub fn insert(&mut self, value: i64) -> bool {
        let position = match self.position(value) {
            Some(Ok(_)) => return false,
            Some(Err(position)) => position,
            None => {
                self.widen_for(value);
                match self.position(value) {
                    Some(Err(position)) => position,
                    _ => unreachable!("a widened intset holds the value's width and lacks it"),
                }
            }
        };
        // The value fits the width: `position` succeeded at this width.
        match self {
            Intset::I16(words) => *words = inserted(words, position, value as i16),
            Intset::I32(words) => *words = inserted(words, position, value as i32),
            Intset::I64(words) => *words = inserted(words, position, value),
        }
        true
    }

    /// Widens the array so that `value` fits.
    fn widen_for(&mut self, value: i64) {
        let needs_64 = i32::try_from(value).is_err();
        *self = match &*self {
            Intset::I16(words) if needs_64 => Intset::I64(widened(words)),
            Intset::I16(words) => Intset::I32(widened(words)),
            Intset::I32(words) => Intset::I64(widened(words)),
            Intset::I64(_) => unreachable!("every i64 fits the widest array"),
        };
    }

    /// Removes `value`; false if it was not a member.
    pub fn remove(&mut self, value: i64) -> bool {
        match self.position(value) {
            Some(Ok(position)) => {
                self.remove_at(position);
                true
            }
            _ => false,
        }
    }

    /// Removes and returns the member at `index` (below `len`).
    pub fn remove_at(&mut self, index: usize) -> i64 {
        let value = self.get(index);
        match self {
            Intset::I16(words) => *words = removed(words, index),
            Intset::I32(words) => *words = removed(words, index),
            Intset::I64(words) => *words = removed(words, index),
        }
        value
    }

    /// The members in ascending order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = i64> + '_ {
        (0..self.len()).map(|index| self.get(index))
    }
}

impl PartialEq for Intset {
    /// Equal members, whatever the width.
    fn eq(&self, other: &Intset) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Intset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Intset;
    use std::collections::BTreeSet;

    #[test]
    fn widens_for_wider_values_and_stays_sorted() {
        let mut set = Intset::new();
        assert!(set.insert(5));
        assert!(set.insert(-3));
        assert!(!set.insert(5));
        assert!(matches!(set, Intset::I16(_)));
        assert_eq!(set.bytes_len(), 4);
        assert!(set.insert(70_000));
        assert!(matches!(set, Intset::I32(_)));
        assert!(set.insert(i64::MIN));
        assert!(matches!(set, Intset::I64(_)));
        assert_eq!(set.bytes_len(), 32);
        assert_eq!(set.iter().collect::<Vec<_>>(), [i64::MIN, -3, 5, 70_000]);
        // Removing the wide value keeps the width, as Redis does.
        assert!(set.remove(i64::MIN));
        assert!(matches!(set, Intset::I64(_)));
        assert!(!set.remove(i64::MIN));
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn sixteen_bits_jump_straight_to_sixty_four() {
        let mut set = Intset::new();
        set.insert(1);
        set.insert(i64::MAX);
        assert!(matches!(set, Intset::I64(_)));
        assert!(set.contains(1) && set.contains(i64::MAX) && !set.contains(2));
    }

    #[test]
    fn values_outside_the_width_are_not_members() {
        let mut set = Intset::new();
        set.insert(1);
        assert!(!set.contains(1 << 20));
        assert!(!set.remove(1 << 40));
    }

    #[test]
    fn equality_ignores_width() {
        let mut narrow = Intset::new();
        narrow.insert(1);
        let mut wide = Intset::new();
        wide.insert(1);
        wide.insert(1 << 40);
        wide.remove(1 << 40);
        assert_eq!(narrow, wide);
    }

    /// Thousands of random operations agree with a `BTreeSet`.
    #[test]
    fn agrees_with_a_btreeset_model() {
        let mut state: u64 = 0x1234_5678_9abc_def1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut set = Intset::new();
        let mut model = BTreeSet::new();
        for _ in 0..20_000 {
            let draw = next();
            // Mostly small values, sometimes 32- and 64-bit ones.
            let value = match draw % 10 {
                0 => (next() as i64) >> (draw % 3 * 20),
                _ => (next() % 400) as i64 - 200,
            };
            match next() % 4 {
                0 | 1 => assert_eq!(set.insert(value), model.insert(value)),
                2 => assert_eq!(set.remove(value), model.remove(&value)),
                _ if !model.is_empty() => {
                    let index = (next() % model.len() as u64) as usize;
                    let expected = *model.iter().nth(index).expect("index below len");
                    assert_eq!(set.remove_at(index), expected);
                    model.remove(&expected);
                }
                _ => {}
            }
            assert_eq!(set.contains(value), model.contains(&value));
            assert_eq!(set.len(), model.len());
        }
        assert!(set.iter().eq(model.iter().copied()));
    }
}
