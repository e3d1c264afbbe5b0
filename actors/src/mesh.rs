//! The full mesh of mailboxes between worker threads.
//!
//! Every ordered pair of distinct workers `(from, to)` gets its own
//! [`crate::spsc`] ring, so every ring has exactly one producer and one
//! consumer and no send takes a lock or a read-modify-write. A worker has no
//! ring to itself: work for its own shard runs inline, without a message
//! (DESIGN.md, "The path of a request"). `N` workers make `N × (N − 1)` rings,
//! each of the same fixed capacity, allocated once by [`mesh`].
//!
//! Each worker owns one [`Endpoint`], moved into its thread: its outboxes (the
//! producing ends of the rings to every peer), its inboxes (the consuming ends
//! of the rings from every peer), and its part of the wake-up protocol
//! described in [`crate::wake`]:
//!
//! - before blocking, a worker calls [`Endpoint::prepare_sleep`]; it blocks only
//!   if that returns true, and calls [`Endpoint::woke`] when it wakes;
//! - [`Endpoint::try_send`] and [`Endpoint::send_batch`] wake the receiver if it
//!   sleeps; their `_deferred` forms leave that to [`Endpoint::flush_wakes`],
//!   so that a loop turn's sends to one peer cost it one wake-up at most;
//! - a worker that found a peer's ring full may sleep too: [`Endpoint::drain`]
//!   on the peer wakes it once there is room again.
//!
//! Backpressure belongs to the caller: a full ring hands the message back, and
//! [`Endpoint::free_slots`] says how much room is left, so the worker can stop
//! reading the sockets whose commands would wait on that mailbox.

mod id_set;

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use self::id_set::IdSet;
use crate::padded::CachePadded;
use crate::spsc::{self, Receiver, Sender};
use crate::wake::{full_fence, Wake, WakeFlag};

/// The most workers [`mesh`] accepts.
///
/// Rings grow with the square of the worker count; 1024 covers the largest
/// machines (8 sockets of 128 threads) while keeping a mistaken setting from
/// allocating a million rings.
pub const MAX_WORKERS: usize = 1024;

/// Builds the mailboxes between `workers` workers, each ring holding at least
/// `capacity` messages, and returns one endpoint per worker, in worker order.
///
/// `wakers[i]` wakes worker `i`. Memory: `workers × (workers − 1)` rings of
/// `capacity` (rounded up to a power of two) slots of `size_of::<T>()` bytes.
///
/// # Panics
///
/// If `workers` is 0 or above [`MAX_WORKERS`], if `wakers.len() != workers`,
/// or if `capacity` is refused by [`spsc::channel`].
pub fn mesh<T: Send>(
    workers: usize,
    capacity: usize,
    wakers: Vec<Arc<dyn Wake>>,
) -> Vec<Endpoint<T>> {
    assert!(
        (1..=MAX_WORKERS).contains(&workers),
        "worker count {workers} is outside 1..={MAX_WORKERS}"
    );
    assert_eq!(wakers.len(), workers, "one waker per worker");
    let signals = Arc::new(Signals {
        workers,
        ring_capacity: spsc::rounded_capacity(capacity),
        sleeping: (0..workers).map(|_| CachePadded::default()).collect(),
        space_wanted: (0..workers * workers)
            .map(|_| WakeFlag::default())
            .collect(),
        wakers,
    });

    let mut outboxes: Vec<Vec<Option<Sender<T>>>> = (0..workers).map(|_| nones(workers)).collect();
    let mut inboxes: Vec<Vec<Option<Receiver<T>>>> = (0..workers).map(|_| nones(workers)).collect();
    for from in 0..workers {
        for to in (0..workers).filter(|&to| to != from) {
            let (sender, receiver) = spsc::channel(capacity);
            debug_assert_eq!(sender.capacity(), signals.ring_capacity);
            outboxes[from][to] = Some(sender);
            inboxes[to][from] = Some(receiver);
        }
    }

    outboxes
        .into_iter()
        .zip(inboxes)
        .enumerate()
        .map(|(id, (outboxes, inboxes))| Endpoint {
            id,
            outboxes: outboxes.into_boxed_slice(),
            inboxes: inboxes.into_boxed_slice(),
            signals: Arc::clone(&signals),
            wakes_due: IdSet::new(workers),
            blocked: IdSet::new(workers),
        })
        .collect()
}

fn nones<X>(count: usize) -> Vec<Option<X>> {
    (0..count).map(|_| None).collect()
}

/// The wake-up state every endpoint shares.
struct Signals {
    workers: usize,
    /// Slots per ring, the same for all.
    ring_capacity: usize,
    /// `sleeping[j]`: worker `j` is about to block, or blocked; whoever gives
    /// it work takes the flag and wakes it. Padded: every sender reads it.
    sleeping: Box<[CachePadded<WakeFlag>]>,
    /// `space_wanted[to * workers + from]`: worker `from` found its ring to
    /// `to` full and sleeps until `to` drains it. One row per receiver, so the
    /// receiver's check after a drain reads a few contiguous bytes.
    space_wanted: Box<[WakeFlag]>,
    /// `wakers[j]` wakes worker `j`.
    wakers: Vec<Arc<dyn Wake>>,
}

impl Signals {
    fn space_wanted(&self, from: usize, to: usize) -> &WakeFlag {
        &self.space_wanted[to * self.workers + from]
    }

    /// Wakes `worker` if it sleeps, taking its sleeping flag so that nobody
    /// else pays for the same sleep. The caller has published the work it
    /// gives `worker` and issued [`full_fence`] since.
    fn wake_if_sleeping(&self, worker: usize) {
        if self.sleeping[worker].take() {
            self.wakers[worker].wake();
        }
    }
}

/// One worker's end of the mesh: its mailboxes to and from every peer.
///
/// `Send`, so it can be moved into the worker's thread, and used there only.
pub struct Endpoint<T> {
    id: usize,
    /// `outboxes[to]`: the ring to worker `to`; `None` at our own id.
    outboxes: Box<[Option<Sender<T>>]>,
    /// `inboxes[from]`: the ring from worker `from`; `None` at our own id.
    inboxes: Box<[Option<Receiver<T>>]>,
    signals: Arc<Signals>,
    /// Peers sent to by a `_deferred` send whose wake check is pending.
    wakes_due: IdSet,
    /// Peers whose ring a send found full, with no successful send since.
    blocked: IdSet,
}

impl<T> Endpoint<T> {
    /// This worker's index, `0..workers()`.
    pub fn id(&self) -> usize {
        self.id
    }

    /// How many workers the mesh connects.
    pub fn workers(&self) -> usize {
        self.signals.workers
    }

    /// How many messages each ring holds when full (a power of two).
    pub fn capacity(&self) -> usize {
        self.signals.ring_capacity
    }

    /// How many messages could be sent to `to` right now without one coming
    /// back; a lower bound, since `to` may drain more at any moment.
    ///
    /// Checking this alone does not arm the wake-up for room (a refused send
    /// does): a worker that skips sending because this is 0 and then sleeps
    /// must have made at least one refused send to `to` first.
    pub fn free_slots(&self, to: usize) -> usize {
        self.outbox(to).free_slots()
    }

    /// Sends `msg` to worker `to` and wakes `to` if it sleeps, or gives `msg`
    /// back when the ring to `to` is full. Never blocks or drops.
    ///
    /// # Panics
    ///
    /// If `to` is this worker's id or not below [`Endpoint::workers`].
    pub fn try_send(&mut self, to: usize, msg: T) -> Result<(), T> {
        self.push(to, msg)?;
        full_fence();
        self.signals.wake_if_sleeping(to);
        Ok(())
    }

    /// [`Endpoint::try_send`] without the wake-up: `to` is woken, if it
    /// sleeps, by the next [`Endpoint::flush_wakes`] (or
    /// [`Endpoint::prepare_sleep`], or dropping the endpoint). Saves a fence
    /// per message; call `flush_wakes` at the end of every loop turn.
    pub fn try_send_deferred(&mut self, to: usize, msg: T) -> Result<(), T> {
        self.push(to, msg)?;
        self.wakes_due.insert(to);
        Ok(())
    }

    /// Moves as many messages from the front of `queue` to worker `to` as fit,
    /// publishes them with one store, and wakes `to` once if it sleeps.
    /// Returns how many moved; the rest stay in `queue`.
    pub fn send_batch(&mut self, to: usize, queue: &mut VecDeque<T>) -> usize {
        let sent = self.push_batch(to, queue);
        if sent > 0 {
            full_fence();
            self.signals.wake_if_sleeping(to);
        }
        sent
    }

    /// [`Endpoint::send_batch`] with the wake-up left to
    /// [`Endpoint::flush_wakes`], as for [`Endpoint::try_send_deferred`].
    pub fn send_batch_deferred(&mut self, to: usize, queue: &mut VecDeque<T>) -> usize {
        let sent = self.push_batch(to, queue);
        if sent > 0 {
            self.wakes_due.insert(to);
        }
        sent
    }

    /// Wakes every peer that a deferred send gave work to and that sleeps:
    /// one fence in all, and one wake per sleeping peer.
    pub fn flush_wakes(&mut self) {
        if self.wakes_due.is_empty() {
            return;
        }
        full_fence();
        let signals = &*self.signals;
        self.wakes_due.drain(|to| signals.wake_if_sleeping(to));
    }

    /// Hands up to `max_per_peer` messages from each peer to `f(from, msg)`,
    /// oldest first per peer, and returns how many in all. Wakes the peers
    /// that were sleeping until this worker made room in their ring.
    pub fn drain(&mut self, max_per_peer: usize, mut f: impl FnMut(usize, T)) -> usize {
        let mut total = 0;
        for (from, inbox) in self.inboxes.iter_mut().enumerate() {
            if let Some(receiver) = inbox {
                total += receiver.drain(max_per_peer, |msg| f(from, msg));
            }
        }
        if total > 0 {
            // Step W2 of the protocol: our `head` stores (in `drain`) come
            // before this fence, the loads of the space-wanted flags after.
            full_fence();
            let signals = &*self.signals;
            for from in (0..signals.workers).filter(|&from| from != self.id) {
                // Room is a reason to wake `from`, but the wake itself is
                // paid from its sleeping flag: one wake per sleep, whatever
                // the number of reasons.
                if signals.space_wanted(from, self.id).take() {
                    signals.wake_if_sleeping(from);
                }
            }
        }
        total
    }

    /// Whether any peer's message waits in this worker's inboxes.
    pub fn has_pending(&self) -> bool {
        self.inboxes
            .iter()
            .flatten()
            .any(|receiver| !receiver.is_empty())
    }

    /// Announces that this worker is about to block, and says whether it may.
    ///
    /// Flushes deferred wakes, raises this worker's sleeping flag (and a
    /// space-wanted flag for every peer whose ring a send found full), then
    /// rechecks its inboxes and those rings. Returns false, lowering the flags,
    /// if a message waits or a full ring has room again: the worker must not
    /// block but run another turn. Returns true if it may block; a peer that
    /// gives it work from then on wakes it through its [`Wake`], and it must
    /// call [`Endpoint::woke`] once it runs again.
    pub fn prepare_sleep(&mut self) -> bool {
        self.flush_wakes();
        let signals = &*self.signals;
        signals.sleeping[self.id].raise();
        for to in self.blocked.iter() {
            signals.space_wanted(self.id, to).raise();
        }
        // Step S2 of the protocol: the raises above come before this fence,
        // the rechecks below after it.
        full_fence();
        let room_again = self.blocked.iter().any(|to| self.free_slots(to) > 0);
        if room_again || self.has_pending() {
            self.woke();
            return false;
        }
        true
    }

    /// Lowers this worker's flags after it woke (for any reason), so that
    /// peers stop paying for wake-ups it no longer needs.
    pub fn woke(&mut self) {
        let signals = &*self.signals;
        signals.sleeping[self.id].lower();
        for to in self.blocked.iter() {
            signals.space_wanted(self.id, to).lower();
        }
    }

    /// Sends one message, tracking whether `to` refused it.
    fn push(&mut self, to: usize, msg: T) -> Result<(), T> {
        match self.outbox_mut(to).try_send(msg) {
            Ok(()) => {
                self.unblock(to);
                Ok(())
            }
            Err(msg) => {
                self.blocked.insert(to);
                Err(msg)
            }
        }
    }

    /// Sends what fits of `queue`, tracking whether `to` refused some.
    fn push_batch(&mut self, to: usize, queue: &mut VecDeque<T>) -> usize {
        let sent = self.outbox_mut(to).send_batch(queue);
        if queue.is_empty() {
            self.unblock(to);
        } else {
            self.blocked.insert(to);
        }
        sent
    }

    fn unblock(&mut self, to: usize) {
        if self.blocked.contains(to) {
            self.blocked.remove(to);
            // The peer may still take the flag and wake us once: harmless.
            self.signals.space_wanted(self.id, to).lower();
        }
    }

    fn outbox(&self, to: usize) -> &Sender<T> {
        match self.outboxes.get(to) {
            Some(Some(sender)) => sender,
            _ => no_mailbox(self.id, to, self.workers()),
        }
    }

    fn outbox_mut(&mut self, to: usize) -> &mut Sender<T> {
        let (id, workers) = (self.id, self.workers());
        match self.outboxes.get_mut(to) {
            Some(Some(sender)) => sender,
            _ => no_mailbox(id, to, workers),
        }
    }
}

#[cold]
#[inline(never)]
fn no_mailbox(id: usize, to: usize, workers: usize) -> ! {
    panic!(
        "worker {id} has no mailbox to worker {to} (of {workers}): a worker does not mail itself"
    )
}

impl<T> Drop for Endpoint<T> {
    /// Wakes the peers that deferred sends gave work to, so a worker that
    /// exits mid-turn leaves no message behind a sleeping peer.
    fn drop(&mut self) {
        self.flush_wakes();
    }
}

impl<T> fmt::Debug for Endpoint<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("workers", &self.workers())
            .field("wakes_due", &self.wakes_due)
            .field("blocked", &self.blocked)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the wakes each worker received.
    #[derive(Debug, Default)]
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counted_mesh(
        workers: usize,
        capacity: usize,
    ) -> (Vec<Endpoint<u32>>, Vec<Arc<CountingWaker>>) {
        let counters: Vec<Arc<CountingWaker>> = (0..workers).map(|_| Arc::default()).collect();
        let wakers = counters
            .iter()
            .map(|c| Arc::clone(c) as Arc<dyn Wake>)
            .collect();
        (mesh(workers, capacity, wakers), counters)
    }

    fn wakes(counters: &[Arc<CountingWaker>]) -> Vec<usize> {
        counters
            .iter()
            .map(|c| c.0.load(Ordering::Relaxed))
            .collect()
    }

    fn drain_all(endpoint: &mut Endpoint<u32>) -> Vec<(usize, u32)> {
        let mut got = Vec::new();
        endpoint.drain(usize::MAX, |from, msg| got.push((from, msg)));
        got
    }

    #[test]
    fn messages_reach_their_receiver_tagged_with_the_sender() {
        let (mut endpoints, _) = counted_mesh(3, 4);
        assert_eq!(
            endpoints.iter().map(Endpoint::id).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(endpoints
            .iter()
            .all(|e| e.workers() == 3 && e.capacity() == 4));
        endpoints[0].try_send(2, 10).unwrap();
        endpoints[1].try_send(2, 20).unwrap();
        endpoints[0].try_send(2, 11).unwrap();
        endpoints[2].try_send(0, 30).unwrap();
        assert!(!endpoints[1].has_pending());
        assert!(endpoints[2].has_pending());
        assert_eq!(drain_all(&mut endpoints[2]), [(0, 10), (0, 11), (1, 20)]);
        assert_eq!(drain_all(&mut endpoints[0]), [(2, 30)]);
        assert!(!endpoints[2].has_pending());
    }

    #[test]
    fn drain_takes_at_most_max_per_peer_from_each() {
        let (mut endpoints, _) = counted_mesh(3, 8);
        for n in 0..3 {
            endpoints[1].try_send(0, n).unwrap();
            endpoints[2].try_send(0, 100 + n).unwrap();
        }
        let mut got = Vec::new();
        assert_eq!(endpoints[0].drain(2, |from, msg| got.push((from, msg))), 4);
        assert_eq!(got, [(1, 0), (1, 1), (2, 100), (2, 101)]);
    }

    #[test]
    fn full_mailbox_gives_the_message_back() {
        let (mut endpoints, _) = counted_mesh(2, 2);
        assert_eq!(endpoints[0].free_slots(1), 2);
        endpoints[0].try_send(1, 1).unwrap();
        endpoints[0].try_send(1, 2).unwrap();
        assert_eq!(endpoints[0].free_slots(1), 0);
        assert_eq!(endpoints[0].try_send(1, 3), Err(3));
        let mut queue = VecDeque::from([3, 4, 5]);
        assert_eq!(endpoints[0].send_batch(1, &mut queue), 0);
        assert_eq!(drain_all(&mut endpoints[1]), [(0, 1), (0, 2)]);
        assert_eq!(endpoints[0].send_batch(1, &mut queue), 2);
        assert_eq!(queue, [5]);
    }

    #[test]
    #[should_panic(expected = "does not mail itself")]
    fn sending_to_oneself_is_a_bug() {
        let (mut endpoints, _) = counted_mesh(2, 2);
        let _ = endpoints[1].try_send(1, 0);
    }

    #[test]
    #[should_panic(expected = "one waker per worker")]
    fn every_worker_needs_a_waker() {
        let _ = mesh::<u32>(2, 4, Vec::new());
    }

    #[test]
    fn a_lone_worker_has_no_mailboxes() {
        let (mut endpoints, _) = counted_mesh(1, 4);
        assert!(!endpoints[0].has_pending());
        assert_eq!(endpoints[0].drain(usize::MAX, |_, _| unreachable!()), 0);
        assert!(endpoints[0].prepare_sleep());
    }

    #[test]
    fn awake_receivers_cost_no_wake() {
        let (mut endpoints, counters) = counted_mesh(2, 8);
        endpoints[0].try_send(1, 1).unwrap();
        endpoints[0].send_batch(1, &mut VecDeque::from([2, 3]));
        assert_eq!(wakes(&counters), [0, 0]);
    }

    #[test]
    fn prepare_sleep_refuses_while_mail_waits() {
        let (mut endpoints, counters) = counted_mesh(2, 8);
        endpoints[0].try_send(1, 1).unwrap();
        assert!(!endpoints[1].prepare_sleep());
        drain_all(&mut endpoints[1]);
        assert!(endpoints[1].prepare_sleep());
        assert_eq!(wakes(&counters), [0, 0]);
    }

    #[test]
    fn a_sleeping_receiver_is_woken_once_per_sleep() {
        let (mut endpoints, counters) = counted_mesh(3, 8);
        assert!(endpoints[2].prepare_sleep());
        endpoints[0].try_send(2, 1).unwrap();
        endpoints[1].try_send(2, 2).unwrap();
        endpoints[0].send_batch(2, &mut VecDeque::from([3, 4]));
        assert_eq!(wakes(&counters), [0, 0, 1]);

        endpoints[2].woke();
        drain_all(&mut endpoints[2]);
        endpoints[0].try_send(2, 5).unwrap();
        assert_eq!(wakes(&counters), [0, 0, 1], "awake again: no wake");
    }

    #[test]
    fn deferred_sends_wake_once_at_flush() {
        let (mut endpoints, counters) = counted_mesh(3, 8);
        assert!(endpoints[1].prepare_sleep());
        assert!(endpoints[2].prepare_sleep());
        endpoints[0].try_send_deferred(1, 1).unwrap();
        endpoints[0].try_send_deferred(1, 2).unwrap();
        endpoints[0].send_batch_deferred(2, &mut VecDeque::from([3, 4]));
        assert_eq!(wakes(&counters), [0, 0, 0]);
        endpoints[0].flush_wakes();
        assert_eq!(wakes(&counters), [0, 1, 1]);
        endpoints[0].flush_wakes();
        assert_eq!(wakes(&counters), [0, 1, 1]);
    }

    #[test]
    fn deferred_wakes_are_flushed_before_sleeping_and_on_drop() {
        let (mut endpoints, counters) = counted_mesh(3, 8);
        assert!(endpoints[1].prepare_sleep());
        assert!(endpoints[2].prepare_sleep());
        endpoints[0].try_send_deferred(1, 1).unwrap();
        assert!(endpoints[0].prepare_sleep());
        assert_eq!(wakes(&counters), [0, 1, 0]);
        endpoints[0].woke();
        endpoints[0].try_send_deferred(2, 2).unwrap();
        let sender = endpoints.remove(0);
        drop(sender);
        assert_eq!(wakes(&counters), [0, 1, 1]);
        assert_eq!(drain_all(&mut endpoints[1]), [(0, 2)]);
    }

    #[test]
    fn a_sender_waiting_for_room_is_woken_by_the_drain() {
        let (mut endpoints, counters) = counted_mesh(2, 2);
        endpoints[0].send_batch(1, &mut VecDeque::from([1, 2]));
        assert_eq!(endpoints[0].try_send(1, 3), Err(3));
        assert!(endpoints[0].prepare_sleep(), "nothing to read, no room");
        assert_eq!(drain_all(&mut endpoints[1]), [(0, 1), (0, 2)]);
        assert_eq!(wakes(&counters), [1, 0]);
        endpoints[0].woke();
        endpoints[0].try_send(1, 3).unwrap();
        endpoints[0].try_send(1, 4).unwrap();
        drain_all(&mut endpoints[1]);
        assert_eq!(wakes(&counters), [1, 0], "no longer waiting: no wake");
    }

    #[test]
    fn prepare_sleep_refuses_when_a_full_ring_has_room_again() {
        let (mut endpoints, counters) = counted_mesh(2, 1);
        endpoints[0].try_send(1, 1).unwrap();
        assert_eq!(endpoints[0].try_send(1, 2), Err(2));
        drain_all(&mut endpoints[1]);
        assert!(!endpoints[0].prepare_sleep());
        assert_eq!(wakes(&counters), [0, 0]);
    }

    #[test]
    fn endpoints_are_send() {
        fn assert_send<S: Send>() {}
        assert_send::<Endpoint<String>>();
    }
}
