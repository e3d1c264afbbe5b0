//! Waking a sleeping worker, and the flags that say when a wake is needed.
//!
//! A worker that runs out of work blocks in its reactor (`io_uring_enter`,
//! `epoll_wait`). A peer that then gives it work must wake it, but a syscall
//! per message would cost more than the message. So each worker publishes a
//! flag, *sleeping*, before it blocks, and a sender makes the wake-up syscall
//! only when it sees the flag set, at most once per sleep (it swaps the flag
//! back to false). The same kind of flag, *space wanted*, lets a worker that
//! is waiting for room in a full mailbox sleep until the receiver drains it.
//!
//! # Why no wake-up is lost
//!
//! The sleeper and the waker each store, fence, then load, as in Dekker's
//! algorithm:
//!
//! ```text
//! sleeper (worker j)                     waker (a peer sending to j)
//! S1: sleeping[j] = true                 W1: publish message (ring tail)
//! S2: fence(SeqCst)                      W2: fence(SeqCst)
//! S3: load every inbound ring tail;      W3: if sleeping[j] && swap(sleeping[j], false)
//!     if a message: clear, do not block           { wake(j) }
//! S4: block until woken
//! ```
//!
//! SeqCst fences are totally ordered. If S2 comes before W2, the store S1 is
//! visible to the load W3 (or a later store to the flag is, made by another
//! waker that took the flag and woke j, or by j after it woke up), so j is
//! woken. If W2 comes before S2, the store W1 is visible to the load S3, so j
//! sees the message and does not block. Either way a message never waits on a
//! sleeping worker that nobody wakes. The argument needs the wake itself to be
//! *sticky*: a wake delivered after S3 but before S4 blocks must make S4
//! return at once (an eventfd's counter, `mio::Waker`, a condition variable
//! with a permit).
//!
//! Room in a full mailbox is the same argument with the roles swapped. The
//! blocked sender raises *space wanted* for that ring as well as its sleeping
//! flag at S1 and rechecks the ring's `head` at S3; the receiver publishes
//! `head` at W1 and, at W3, takes the space-wanted flag and then the sleeping
//! flag, waking the sender only if it gets both. If the sender's fence comes
//! first, the receiver sees both raises (or a later store to the sleeping
//! flag by someone who took it and woke the sender, or by the sender itself
//! once awake); otherwise the sender sees the room and does not block. Paying
//! every wake from the one sleeping flag keeps it to one wake per sleep,
//! however many reasons to wake there are.

use std::sync::atomic::{fence, AtomicBool, Ordering};

/// Wakes one worker thread blocked in its reactor.
///
/// Implemented by the reactor: an `eventfd` its ring polls, a `mio::Waker`, or
/// an `IORING_OP_MSG_RING` to its ring. Must be *sticky*: a wake that arrives
/// before the worker blocks makes its next block return at once (see the
/// module comment for why the protocol depends on it). Called from any
/// worker thread, at most once per sleep for each reason to wake.
pub trait Wake: Send + Sync {
    /// Makes the worker's current or next block return.
    fn wake(&self);
}

/// A "please wake me" flag: set by the side about to sleep, taken by the side
/// that gives it a reason to wake.
#[derive(Debug, Default)]
pub(crate) struct WakeFlag(AtomicBool);

impl WakeFlag {
    /// Asks to be woken. The caller must issue [`full_fence`] before it
    /// rechecks for work (step S2).
    pub(crate) fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Withdraws the request: the caller is awake or decided not to sleep.
    pub(crate) fn lower(&self) {
        self.0.store(false, Ordering::Relaxed);
    }

    /// Returns true, and lowers the flag, if it was raised: the caller then
    /// owes the sleeper exactly one wake. The caller must issue [`full_fence`]
    /// after publishing its work and before this (step W2).
    pub(crate) fn take(&self) -> bool {
        // The plain load first keeps the common case (nobody asleep) free of
        // a read-modify-write that would pull the line into exclusive state.
        self.0.load(Ordering::Relaxed) && self.0.swap(false, Ordering::Relaxed)
    }
}

/// The fence between a store and a load on each side of the protocol.
pub(crate) fn full_fence() {
    fence(Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raised_flag_is_taken_once() {
        let flag = WakeFlag::default();
        assert!(!flag.take());
        flag.raise();
        assert!(flag.take());
        assert!(!flag.take(), "the second taker owes no wake");
        flag.raise();
        flag.lower();
        assert!(!flag.take());
    }
}
