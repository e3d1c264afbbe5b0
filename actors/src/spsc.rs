//! A fixed-capacity, lock-free ring from one producer thread to one consumer
//! thread: the mailbox between two workers.
//!
//! The ring holds `capacity` slots (a power of two) indexed by two free-running
//! counters: `tail`, the next slot the producer writes, and `head`, the next
//! slot the consumer reads. Slot `i` lives at `i & mask`; the ring holds
//! `tail - head` messages (wrapping arithmetic), never more than `capacity`.
//!
//! Each counter has a single writer and sits on cache lines of its own. Each
//! side also keeps a private copy of the *other* side's counter and rereads the
//! shared one only when that copy says the ring is full (producer) or empty
//! (consumer), so in steady state the two cores exchange a cache line once per
//! batch, not once per message.
//!
//! Ordering: the producer writes a slot, then publishes `tail` with `Release`;
//! the consumer loads `tail` with `Acquire` before reading the slot. Symmetric
//! for `head`: the consumer moves the message out of the slot, then publishes
//! `head` with `Release`; the producer loads `head` with `Acquire` before
//! overwriting the slot. A batch costs one `Release` store, whatever its size.
//!
//! Nothing here blocks, allocates after [`channel`], or drops a message: a full
//! ring hands the message back to the caller, who decides what waits.

use std::cell::{Cell, UnsafeCell};
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::padded::CachePadded;

/// The largest capacity [`channel`] accepts: 2^20 slots.
///
/// A mailbox that needs more than a million slots is hiding overload rather
/// than absorbing a burst, and a full mesh allocates `workers²` rings, so a
/// typo in a capacity setting should fail at start, not allocate gigabytes.
pub const MAX_CAPACITY: usize = 1 << 20;

const _: () = assert!(MAX_CAPACITY.is_power_of_two());
// Indices are free-running and compared with wrapping subtraction, which is
// exact as long as the distance between them (at most the capacity) fits.
const _: () = assert!(MAX_CAPACITY <= usize::MAX / 2);

/// Creates a ring of at least `capacity` slots (rounded up to a power of two)
/// and returns its two ends.
///
/// # Panics
///
/// If `capacity` is 0 or greater than [`MAX_CAPACITY`].
pub fn channel<T: Send>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    channel_starting_at(capacity, 0)
}

/// [`channel`] with both counters starting at `start_index`, so tests can
/// drive the free-running indices across `usize::MAX`.
fn channel_starting_at<T: Send>(capacity: usize, start_index: usize) -> (Sender<T>, Receiver<T>) {
    let capacity = rounded_capacity(capacity);
    let ring = Arc::new(Ring::new(capacity, start_index));
    let sender = Sender {
        ring: Arc::clone(&ring),
        tail: start_index,
        head_cached: start_index,
        _not_sync: PhantomData,
    };
    let receiver = Receiver {
        ring,
        head: start_index,
        tail_cached: start_index,
        _not_sync: PhantomData,
    };
    debug_assert_eq!(sender.free_slots(), capacity);
    (sender, receiver)
}

/// The number of slots a ring asked for `capacity` gets.
///
/// # Panics
///
/// If `capacity` is 0 or greater than [`MAX_CAPACITY`].
pub(crate) fn rounded_capacity(capacity: usize) -> usize {
    assert!(capacity >= 1, "a ring needs at least one slot");
    assert!(
        capacity <= MAX_CAPACITY,
        "ring capacity {capacity} is above the maximum {MAX_CAPACITY}"
    );
    capacity.next_power_of_two()
}

/// The state both ends share.
struct Ring<T> {
    /// Next index the consumer reads. Written only by the [`Receiver`].
    head: CachePadded<AtomicUsize>,
    /// Next index the producer writes. Written only by the [`Sender`].
    tail: CachePadded<AtomicUsize>,
    /// `slots.len() - 1`; the length is a power of two.
    mask: usize,
    /// Slot `i & mask` holds a message exactly when `head <= i < tail`.
    slots: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: the ring moves `T`s from one thread to another, so it needs
// `T: Send` and nothing more. Each slot is touched by one side at a time: the
// producer only writes slots outside `[head, tail)` and the consumer only reads
// slots inside it, and the Release/Acquire pairs on `head` and `tail` order
// every hand-over (see the module comment). `T: Sync` is not needed because no
// `&T` is ever shared between the two threads.
unsafe impl<T: Send> Sync for Ring<T> {}
// SAFETY: as above; owning the ring owns the queued `T`s, which are `Send`.
unsafe impl<T: Send> Send for Ring<T> {}

impl<T> Ring<T> {
    fn new(capacity: usize, start_index: usize) -> Self {
        debug_assert!(capacity.is_power_of_two() && capacity <= MAX_CAPACITY);
        let slots = (0..capacity)
            .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
            .collect();
        Ring {
            head: CachePadded(AtomicUsize::new(start_index)),
            tail: CachePadded(AtomicUsize::new(start_index)),
            mask: capacity - 1,
            slots,
        }
    }

    fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// The cell behind free-running index `index`.
    fn slot(&self, index: usize) -> *mut MaybeUninit<T> {
        self.slots[index & self.mask].get()
    }
}

impl<T> Drop for Ring<T> {
    /// Drops the messages still queued: both ends are gone, and each end
    /// publishes its counter when it is dropped, so `[head, tail)` is exactly
    /// the set of slots that hold a message.
    fn drop(&mut self) {
        let head = *self.head.0.get_mut();
        let tail = *self.tail.0.get_mut();
        let queued = tail.wrapping_sub(head);
        assert!(queued <= self.capacity(), "ring counters out of order");
        if !std::mem::needs_drop::<T>() {
            return;
        }
        for offset in 0..queued {
            let index = head.wrapping_add(offset) & self.mask;
            // SAFETY: slots in `[head, tail)` hold initialised messages that
            // the consumer never moved out, and `&mut self` means neither end
            // exists any more, so each is dropped exactly once, here.
            unsafe { self.slots[index].get_mut().assume_init_drop() };
        }
    }
}

/// The producing end of a ring. `Send` (move it to the producer's thread) but
/// neither `Clone` nor `Sync`: there is exactly one producer.
///
/// ```compile_fail
/// fn assert_sync<S: Sync>() {}
/// assert_sync::<shoal_actors::spsc::Sender<u64>>();
/// ```
/// ```compile_fail
/// let (tx, _rx) = shoal_actors::spsc::channel::<u64>(4);
/// let _second_producer = tx.clone();
/// ```
pub struct Sender<T> {
    ring: Arc<Ring<T>>,
    /// Our own counter; equals `ring.tail` except in the middle of a batch.
    tail: usize,
    /// The consumer's counter as we last read it: a lower bound of `ring.head`.
    head_cached: usize,
    _not_sync: PhantomData<Cell<()>>,
}

impl<T> Sender<T> {
    /// How many messages the ring holds when full.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// How many messages could be sent right now without one coming back.
    ///
    /// A lower bound: the consumer may free more slots at any moment, never
    /// fewer. Reads the consumer's counter, so it costs a cache miss when the
    /// consumer has moved since the last look.
    pub fn free_slots(&self) -> usize {
        let head = self.ring.head.load(Ordering::Acquire);
        let queued = self.tail.wrapping_sub(head);
        debug_assert!(queued <= self.capacity());
        self.capacity() - queued
    }

    /// Enqueues `msg`, or gives it back in `Err` when the ring is full.
    /// Never blocks and never drops the message.
    pub fn try_send(&mut self, msg: T) -> Result<(), T> {
        if self.free_slots_cached() == 0 && self.refresh_free_slots() == 0 {
            return Err(msg);
        }
        self.write(msg);
        self.publish();
        Ok(())
    }

    /// Moves as many messages from the front of `queue` as fit into the ring,
    /// in order, and publishes them with one store. Returns how many moved;
    /// the rest stay in `queue`.
    pub fn send_batch(&mut self, queue: &mut VecDeque<T>) -> usize {
        let mut free = self.free_slots_cached();
        if free < queue.len() {
            free = self.refresh_free_slots();
        }
        let count = free.min(queue.len());
        let sent = self.write_and_publish(count, &mut queue.drain(..count));
        debug_assert_eq!(sent, count);
        sent
    }

    /// Takes messages from `items` while the ring has room and publishes them
    /// with one store. Returns how many were sent.
    ///
    /// `items` is advanced only for messages that fit, so what is left stays
    /// in it: pass an iterator that keeps unsent items (a range, a `VecDeque`
    /// via [`Sender::send_batch`]), not one such as `Vec::drain` that drops them
    /// when it goes out of scope.
    pub fn send_from_iter<I: Iterator<Item = T>>(&mut self, items: &mut I) -> usize {
        let free = self.refresh_free_slots();
        self.write_and_publish(free, items)
    }

    /// Writes at most `max` messages from `items` and publishes them once.
    /// The caller has checked that `max` slots are free.
    fn write_and_publish<I: Iterator<Item = T>>(&mut self, max: usize, items: &mut I) -> usize {
        debug_assert!(max <= self.free_slots_cached());
        let mut sent = 0;
        while sent < max {
            let Some(msg) = items.next() else { break };
            self.write(msg);
            sent += 1;
        }
        if sent > 0 {
            self.publish();
        }
        sent
    }

    /// Free slots according to the cached consumer counter (no shared read).
    fn free_slots_cached(&self) -> usize {
        let queued = self.tail.wrapping_sub(self.head_cached);
        debug_assert!(queued <= self.capacity());
        self.capacity() - queued
    }

    /// Rereads the consumer's counter and returns the free slots it implies.
    fn refresh_free_slots(&mut self) -> usize {
        // Acquire: the consumer moved each message out before publishing
        // `head` past it, so those slots may be overwritten after this load.
        self.head_cached = self.ring.head.load(Ordering::Acquire);
        self.free_slots_cached()
    }

    /// Writes `msg` into the next slot, unpublished. The caller has checked
    /// that the slot is free.
    fn write(&mut self, msg: T) {
        debug_assert!(self.free_slots_cached() > 0, "write into a full ring");
        let slot = self.ring.slot(self.tail);
        // SAFETY: `tail - head_cached < capacity`, so slot `tail` is outside
        // `[head, tail)`: it holds no message (the consumer moved it out before
        // the `head` we acquired) and the consumer will not read it until we
        // publish a `tail` past it. We are the only producer (`&mut self`,
        // `Sender` is neither `Clone` nor `Sync`).
        unsafe { (*slot).write(msg) };
        // Advanced per message, not per batch, so that a batch cut short by a
        // panicking iterator still accounts for every slot it filled.
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes every written message visible to the consumer.
    fn publish(&self) {
        debug_assert!(self.free_slots_cached() <= self.capacity());
        // Release: the slot writes above happen-before the consumer's Acquire
        // load that sees this value.
        self.ring.tail.store(self.tail, Ordering::Release);
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // Normally a no-op; after a panic in the middle of a batch it makes
        // the written slots part of `[head, tail)`, so they are dropped.
        self.publish();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.capacity())
            .field("tail", &self.tail)
            .field("head_cached", &self.head_cached)
            .finish()
    }
}

/// The consuming end of a ring. `Send` (move it to the consumer's thread) but
/// neither `Clone` nor `Sync`: there is exactly one consumer.
///
/// ```compile_fail
/// fn assert_sync<S: Sync>() {}
/// assert_sync::<shoal_actors::spsc::Receiver<u64>>();
/// ```
/// ```compile_fail
/// let (_tx, rx) = shoal_actors::spsc::channel::<u64>(4);
/// let _second_consumer = rx.clone();
/// ```
pub struct Receiver<T> {
    ring: Arc<Ring<T>>,
    /// Our own counter; equals `ring.head` except in the middle of a drain.
    head: usize,
    /// The producer's counter as we last read it: a lower bound of `ring.tail`.
    tail_cached: usize,
    _not_sync: PhantomData<Cell<()>>,
}

impl<T> Receiver<T> {
    /// How many messages the ring holds when full.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Whether no message is waiting right now.
    pub fn is_empty(&self) -> bool {
        // The cached counter answers "no" without touching the producer's
        // cache line; only "yes" needs a fresh look.
        self.available_cached() == 0 && self.ring.tail.load(Ordering::Acquire) == self.head
    }

    /// Takes the oldest message, or `None` when the ring is empty.
    pub fn try_recv(&mut self) -> Option<T> {
        if self.available_cached() == 0 && self.refresh_available() == 0 {
            return None;
        }
        let msg = self.read();
        self.publish();
        Some(msg)
    }

    /// Hands up to `max` messages, oldest first, to `f`, and frees their slots
    /// with one store. Returns how many were handed over.
    pub fn drain(&mut self, max: usize, mut f: impl FnMut(T)) -> usize {
        let mut available = self.available_cached();
        if available < max {
            available = self.refresh_available();
        }
        let count = available.min(max);
        for _ in 0..count {
            f(self.read());
        }
        if count > 0 {
            self.publish();
        }
        count
    }

    /// Messages waiting according to the cached producer counter.
    fn available_cached(&self) -> usize {
        let queued = self.tail_cached.wrapping_sub(self.head);
        debug_assert!(queued <= self.capacity());
        queued
    }

    /// Rereads the producer's counter and returns the messages it implies.
    fn refresh_available(&mut self) -> usize {
        // Acquire: pairs with the producer's Release store of `tail`, so the
        // slots below it are fully written before we read them.
        self.tail_cached = self.ring.tail.load(Ordering::Acquire);
        self.available_cached()
    }

    /// Moves the message out of the next slot, without freeing the slot for
    /// the producer yet. The caller has checked that one is there.
    fn read(&mut self) -> T {
        debug_assert!(self.available_cached() > 0, "read from an empty ring");
        let slot = self.ring.slot(self.head);
        // SAFETY: `head < tail_cached`, a `tail` the producer published with
        // Release after writing this slot and we loaded with Acquire, so the
        // slot holds an initialised message. Advancing `head` right after means
        // it is read exactly once, and the producer does not overwrite it until
        // we publish a `head` past it.
        let msg = unsafe { (*slot).assume_init_read() };
        // Advanced before the caller's closure runs, so that a panic in it
        // cannot make the ring drop this message a second time.
        self.head = self.head.wrapping_add(1);
        msg
    }

    /// Returns every slot read so far to the producer.
    fn publish(&self) {
        debug_assert!(self.available_cached() <= self.capacity());
        // Release: our reads of the slots happen-before the producer's Acquire
        // load that sees this value, and so before it overwrites them.
        self.ring.head.store(self.head, Ordering::Release);
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Normally a no-op; after a panic in a `drain` closure it removes the
        // messages already moved out from `[head, tail)`, so the ring does not
        // drop them again.
        self.publish();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.capacity())
            .field("head", &self.head)
            .field("tail_cached", &self.tail_cached)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts its drops in a shared counter.
    #[derive(Debug)]
    struct DropCounter(Arc<AtomicUsize>);

    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn capacity_rounds_up_to_a_power_of_two() {
        for (asked, got) in [(1, 1), (2, 2), (3, 4), (5, 8), (64, 64), (65, 128)] {
            let (tx, rx) = channel::<u8>(asked);
            assert_eq!((tx.capacity(), rx.capacity()), (got, got), "asked {asked}");
            assert_eq!(tx.free_slots(), got);
        }
        let (tx, _rx) = channel::<u8>(MAX_CAPACITY);
        assert_eq!(tx.capacity(), MAX_CAPACITY);
    }

    #[test]
    #[should_panic(expected = "at least one slot")]
    fn zero_capacity_is_refused() {
        let _ = channel::<u8>(0);
    }

    #[test]
    #[should_panic(expected = "above the maximum")]
    fn capacity_above_the_maximum_is_refused() {
        let _ = channel::<u8>(MAX_CAPACITY + 1);
    }

    #[test]
    fn messages_come_out_in_the_order_they_went_in() {
        let (mut tx, mut rx) = channel(8);
        for n in 0..5 {
            tx.try_send(n).unwrap();
        }
        assert_eq!(
            (0..5).map(|_| rx.try_recv()).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4].map(Some)
        );
        assert_eq!(rx.try_recv(), None);
        assert!(rx.is_empty());
    }

    #[test]
    fn full_ring_gives_the_message_back() {
        let (mut tx, mut rx) = channel(4);
        for n in 0..4 {
            tx.try_send(n).unwrap();
        }
        assert_eq!(tx.free_slots(), 0);
        assert_eq!(tx.try_send(99), Err(99));
        assert_eq!(rx.try_recv(), Some(0));
        assert_eq!(tx.free_slots(), 1);
        tx.try_send(4).unwrap();
        assert_eq!(tx.try_send(100), Err(100));
        assert_eq!(
            std::iter::from_fn(|| rx.try_recv()).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
    }

    #[test]
    fn one_slot_ring_alternates() {
        let (mut tx, mut rx) = channel(1);
        for n in 0..10 {
            tx.try_send(n).unwrap();
            assert_eq!(tx.try_send(n + 100), Err(n + 100));
            assert_eq!(rx.try_recv(), Some(n));
            assert_eq!(rx.try_recv(), None);
        }
    }

    #[test]
    fn wraps_around_the_slots_many_times() {
        let (mut tx, mut rx) = channel(4);
        let mut next_expected = 0u32;
        for n in 0..1000u32 {
            tx.try_send(n).unwrap();
            if n % 3 == 2 {
                while let Some(got) = rx.try_recv() {
                    assert_eq!(got, next_expected);
                    next_expected += 1;
                }
            }
        }
        while let Some(got) = rx.try_recv() {
            assert_eq!(got, next_expected);
            next_expected += 1;
        }
        assert_eq!(next_expected, 1000);
    }

    #[test]
    fn indices_wrap_across_usize_max() {
        let (mut tx, mut rx) = channel_starting_at(4, usize::MAX - 5);
        let mut next_expected = 0u32;
        for n in 0..40u32 {
            while tx.try_send(n).is_err() {
                assert_eq!(rx.try_recv(), Some(next_expected));
                next_expected += 1;
            }
            assert!(tx.free_slots() < 4);
        }
        rx.drain(usize::MAX, |got| {
            assert_eq!(got, next_expected);
            next_expected += 1;
        });
        assert_eq!(next_expected, 40);
        assert_eq!(tx.free_slots(), 4);
    }

    #[test]
    fn queued_messages_are_dropped_with_the_ring() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = channel_starting_at(8, usize::MAX - 2);
        for _ in 0..6 {
            tx.try_send(DropCounter(Arc::clone(&drops))).unwrap();
        }
        drop(rx.try_recv());
        drop(rx.try_recv());
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        drop(tx);
        assert_eq!(
            drops.load(Ordering::Relaxed),
            2,
            "a live receiver keeps them"
        );
        drop(rx);
        assert_eq!(drops.load(Ordering::Relaxed), 6);
    }

    #[test]
    fn refused_message_is_returned_not_dropped() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, rx) = channel(1);
        tx.try_send(DropCounter(Arc::clone(&drops))).unwrap();
        let refused = tx.try_send(DropCounter(Arc::clone(&drops))).unwrap_err();
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        drop(refused);
        drop((tx, rx));
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn batch_sends_what_fits_and_keeps_the_rest() {
        let (mut tx, mut rx) = channel(8);
        tx.try_send(0).unwrap();
        let mut queue: VecDeque<u32> = (1..=10).collect();
        assert_eq!(tx.send_batch(&mut queue), 7);
        assert_eq!(queue, [8, 9, 10]);
        assert_eq!(tx.send_batch(&mut queue), 0);

        let mut got = Vec::new();
        assert_eq!(rx.drain(5, |n| got.push(n)), 5);
        assert_eq!(tx.send_batch(&mut queue), 3);
        assert!(queue.is_empty());
        assert_eq!(rx.drain(usize::MAX, |n| got.push(n)), 6);
        assert_eq!(got, (0..=10).collect::<Vec<_>>());
        assert_eq!(rx.drain(usize::MAX, |_| unreachable!()), 0);
    }

    #[test]
    fn send_from_iter_takes_only_what_fits() {
        let (mut tx, mut rx) = channel(4);
        let mut numbers = 0..10u32;
        assert_eq!(tx.send_from_iter(&mut numbers), 4);
        assert_eq!(
            numbers.next(),
            Some(4),
            "the fifth item stays in the iterator"
        );
        assert_eq!(rx.drain(2, drop), 2);
        assert_eq!(tx.send_from_iter(&mut numbers), 2);
        assert_eq!(tx.send_from_iter(&mut std::iter::empty()), 0);
        let mut got = Vec::new();
        rx.drain(usize::MAX, |n| got.push(n));
        assert_eq!(got, [2, 3, 5, 6]);
    }

    #[test]
    fn drain_respects_its_maximum() {
        let (mut tx, mut rx) = channel(16);
        tx.send_from_iter(&mut (0..12u32));
        let mut got = Vec::new();
        assert_eq!(rx.drain(5, |n| got.push(n)), 5);
        assert_eq!(rx.drain(0, |n| got.push(n)), 0);
        assert_eq!(rx.drain(5, |n| got.push(n)), 5);
        assert_eq!(rx.drain(5, |n| got.push(n)), 2);
        assert_eq!(got, (0..12).collect::<Vec<_>>());
    }

    #[test]
    fn panic_in_drain_closure_drops_each_message_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = channel(8);
        for _ in 0..5 {
            tx.try_send(DropCounter(Arc::clone(&drops))).unwrap();
        }
        let mut seen = 0;
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rx.drain(usize::MAX, |msg| {
                seen += 1;
                drop(msg);
                assert!(seen < 3, "closure gives up on the third message");
            })
        }));
        assert!(unwound.is_err());
        assert_eq!(drops.load(Ordering::Relaxed), 3);
        assert!(rx.try_recv().is_some(), "the fourth message is next");
        assert_eq!(tx.free_slots(), 7);
        drop((tx, rx));
        assert_eq!(drops.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn panic_in_batch_iterator_keeps_the_messages_written() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = channel(8);
        let counter = Arc::clone(&drops);
        let mut made = 0;
        let mut items = std::iter::from_fn(|| {
            made += 1;
            assert!(made <= 3, "iterator gives up on the fourth item");
            Some(DropCounter(Arc::clone(&counter)))
        });
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tx.send_from_iter(&mut items)
        }));
        assert!(unwound.is_err());
        assert_eq!(
            tx.try_send(DropCounter(Arc::clone(&drops))).map_err(drop),
            Ok(())
        );
        assert_eq!(rx.drain(usize::MAX, drop), 4);
        assert_eq!(drops.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn zero_sized_messages_are_counted() {
        let (mut tx, mut rx) = channel(4);
        assert_eq!(tx.send_from_iter(&mut std::iter::repeat(())), 4);
        assert_eq!(tx.try_send(()), Err(()));
        assert_eq!(rx.drain(usize::MAX, drop), 4);
    }

    #[test]
    fn ends_are_send() {
        fn assert_send<S: Send>() {}
        assert_send::<Sender<String>>();
        assert_send::<Receiver<String>>();
    }
}
