//! How EXEC and COMMIT take their key locks over several shards.
//!
//! First every shard is asked at once, and a shard whose keys are busy
//! answers so instead of queueing the request: when all grant, the locks
//! cost one round trip instead of one per shard. If any was busy, the
//! granted locks are released and the locks are taken again shard by
//! shard in ascending order, each shard queueing the request first come,
//! first served: the order that keeps two transactions from waiting on
//! each other in a cycle. Nobody waits during the first try, so it cannot
//! deadlock either.

use super::msg::{DbKey, Msg, VersionCheck};
use super::Worker;

/// What a transaction locks: (shard, keys, checks), ascending by shard.
pub type LockPlan = Vec<(usize, Vec<DbKey>, Vec<VersionCheck>)>;

/// The plan for keys grouped by shard (ascending), with the check, if any,
/// each key's shard makes under the lock.
pub fn lock_plan(
    by_shard: std::collections::BTreeMap<usize, Vec<DbKey>>,
    check: impl Fn(&DbKey) -> Option<VersionCheck>,
) -> LockPlan {
    by_shard
        .into_iter()
        .map(|(shard, keys)| {
            let checks = keys.iter().filter_map(&check).collect();
            (shard, keys, checks)
        })
        .collect()
}

/// The position in `plan` of `shard`.
pub fn plan_index(plan: &LockPlan, shard: usize) -> Option<usize> {
    plan.iter().position(|(planned, _, _)| *planned == shard)
}

/// Where a transaction is in taking its locks.
#[derive(Debug)]
pub enum Locking {
    /// Every shard asked at once.
    AllAtOnce {
        /// Shards that answered.
        answered: usize,
        /// Plan indices of the shards that locked.
        granted: Vec<usize>,
        /// Some shard's keys were busy.
        busy: bool,
        /// Some check failed.
        stale: bool,
    },
    /// Shard by shard: the first `locked` shards of the plan locked.
    InOrder {
        /// Shards locked so far, a prefix of the plan.
        locked: usize,
    },
}

/// What to do after a shard's answer.
#[derive(Debug, PartialEq, Eq)]
pub enum LockStep {
    /// Other answers are due.
    Wait,
    /// Ask the shard at this plan index, waiting.
    AskNext(usize),
    /// Some shard was busy: release these plan indices, start in order.
    Retry(Vec<usize>),
    /// A check failed: release these plan indices, abort.
    Stale(Vec<usize>),
    /// Every shard locked and every check held.
    Locked,
}

impl Locking {
    /// How a plan of `shards` shards starts.
    pub fn new(shards: usize) -> Locking {
        if shards > 1 {
            Locking::AllAtOnce {
                answered: 0,
                granted: Vec::new(),
                busy: false,
                stale: false,
            }
        } else {
            Locking::InOrder { locked: 0 }
        }
    }

    /// Takes the answer of the shard at plan `index` of `shards`.
    pub fn answer(&mut self, index: usize, busy: bool, stale: bool, shards: usize) -> LockStep {
        match self {
            Locking::AllAtOnce {
                answered,
                granted,
                busy: any_busy,
                stale: any_stale,
            } => {
                *answered += 1;
                if busy {
                    *any_busy = true;
                } else {
                    granted.push(index);
                    *any_stale |= stale;
                }
                if *answered < shards {
                    return LockStep::Wait;
                }
                let granted = std::mem::take(granted);
                if *any_stale {
                    LockStep::Stale(granted)
                } else if *any_busy {
                    *self = Locking::InOrder { locked: 0 };
                    LockStep::Retry(granted)
                } else {
                    LockStep::Locked
                }
            }
            Locking::InOrder { locked } => {
                debug_assert!(!busy, "a waiting request is never busy");
                debug_assert_eq!(index, *locked, "shards lock in plan order");
                *locked += 1;
                if stale {
                    LockStep::Stale((0..*locked).collect())
                } else if *locked < shards {
                    LockStep::AskNext(*locked)
                } else {
                    LockStep::Locked
                }
            }
        }
    }
}

impl Worker {
    /// Sends the first requests of a plan: to every shard at once, or to
    /// the first when there is one.
    pub(super) fn start_locking(&mut self, tx: u64, plan: &LockPlan, gather: bool) {
        assert!(
            !plan.is_empty(),
            "a transaction with no keys takes no locks"
        );
        if plan.len() > 1 {
            for index in 0..plan.len() {
                self.ask_lock(tx, plan, index, false, gather);
            }
        } else {
            self.ask_lock(tx, plan, 0, true, gather);
        }
    }

    /// Asks the shard at plan `index` for its locks; `wait`: queue behind
    /// busy keys rather than answer busy.
    pub(super) fn ask_lock(
        &mut self,
        tx: u64,
        plan: &LockPlan,
        index: usize,
        wait: bool,
        gather: bool,
    ) {
        let (shard, keys, checks) = &plan[index];
        self.deliver(
            *shard,
            Msg::TxLock {
                tx,
                coordinator: self.id,
                keys: keys.clone(),
                checks: checks.clone(),
                gather,
                wait,
            },
        );
    }

    /// Releases the locks of the shards at these plan indices, writing
    /// nothing.
    pub(super) fn release_granted(&mut self, tx: u64, plan: &LockPlan, granted: &[usize]) {
        for &index in granted {
            let (shard, keys, _) = &plan[index];
            self.deliver(
                *shard,
                Msg::Apply {
                    tx,
                    keys: keys.clone(),
                    writes: Vec::new(),
                    waiter: None,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_granted_at_once_is_locked_after_the_last_answer() {
        let mut locking = Locking::new(3);
        assert_eq!(locking.answer(2, false, false, 3), LockStep::Wait);
        assert_eq!(locking.answer(0, false, false, 3), LockStep::Wait);
        assert_eq!(locking.answer(1, false, false, 3), LockStep::Locked);
    }

    #[test]
    fn a_busy_shard_releases_the_others_and_starts_in_order() {
        let mut locking = Locking::new(3);
        assert_eq!(locking.answer(1, true, false, 3), LockStep::Wait);
        assert_eq!(locking.answer(0, false, false, 3), LockStep::Wait);
        assert_eq!(
            locking.answer(2, false, false, 3),
            LockStep::Retry(vec![0, 2])
        );
        assert_eq!(locking.answer(0, false, false, 3), LockStep::AskNext(1));
        assert_eq!(locking.answer(1, false, false, 3), LockStep::AskNext(2));
        assert_eq!(locking.answer(2, false, false, 3), LockStep::Locked);
    }

    #[test]
    fn a_failed_check_aborts_whatever_else_answered() {
        let mut locking = Locking::new(2);
        assert_eq!(locking.answer(0, false, true, 2), LockStep::Wait);
        assert_eq!(locking.answer(1, true, false, 2), LockStep::Stale(vec![0]));
        let mut in_order = Locking::new(1);
        assert_eq!(in_order.answer(0, false, true, 1), LockStep::Stale(vec![0]));
        let mut in_order = Locking::InOrder { locked: 0 };
        assert_eq!(in_order.answer(0, false, false, 2), LockStep::AskNext(1));
        assert_eq!(
            in_order.answer(1, false, true, 2),
            LockStep::Stale(vec![0, 1])
        );
    }
}
