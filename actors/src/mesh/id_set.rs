//! A set of worker ids with constant-time insert and a list to walk.

/// A set of ids below a fixed bound: a membership table for O(1) insert and
/// remove checks, plus the members in insertion order so walking the set
/// costs its size, not the bound. Never allocates after construction.
pub(super) struct IdSet {
    member: Box<[bool]>,
    ids: Vec<usize>,
}

impl IdSet {
    /// An empty set for ids `0..bound`.
    pub(super) fn new(bound: usize) -> Self {
        IdSet {
            member: vec![false; bound].into_boxed_slice(),
            ids: Vec::with_capacity(bound),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub(super) fn contains(&self, id: usize) -> bool {
        self.member[id]
    }

    pub(super) fn insert(&mut self, id: usize) {
        if !self.member[id] {
            self.member[id] = true;
            debug_assert!(self.ids.len() < self.member.len());
            self.ids.push(id);
        }
    }

    pub(super) fn remove(&mut self, id: usize) {
        if self.member[id] {
            self.member[id] = false;
            let at = self.ids.iter().position(|&m| m == id);
            self.ids.swap_remove(at.expect("a member is listed"));
        }
    }

    /// The members, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.ids.iter().copied()
    }

    /// Empties the set, handing each member to `f`.
    pub(super) fn drain(&mut self, mut f: impl FnMut(usize)) {
        for id in self.ids.drain(..) {
            self.member[id] = false;
            f(id);
        }
    }
}

impl std::fmt::Debug for IdSet {
    /// Just the members: the table is as long as the worker count.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(&self.ids).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_once_and_removes() {
        let mut set = IdSet::new(4);
        set.insert(2);
        set.insert(2);
        set.insert(0);
        assert_eq!(set.iter().collect::<Vec<_>>(), [2, 0]);
        set.remove(2);
        set.remove(3);
        assert!(!set.contains(2) && set.contains(0));
        let mut drained = Vec::new();
        set.drain(|id| drained.push(id));
        assert_eq!(drained, [0]);
        assert!(set.is_empty() && !set.contains(0));
    }
}
