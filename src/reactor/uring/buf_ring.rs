//! A provided-buffer ring: memory the kernel picks receive buffers from,
//! so a multishot receive needs no buffer of its own while it waits.
//!
//! Both the ring of descriptors and the buffers are anonymous mappings
//! (page-aligned, as the kernel requires of the ring). The kernel pins
//! only the descriptor ring; the buffers are ordinary memory it copies
//! into, so only `entries * 16` bytes count against the locked-memory limit.

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::types::BufRingEntry;
use io_uring::Submitter;

/// The most entries a buffer ring may have (the kernel's limit).
pub const ENTRIES_MAX: u16 = 32768;

/// One anonymous, page-aligned, zero-filled mapping.
struct Mapping {
    ptr: NonNull<u8>,
    len_bytes: usize,
}

impl Mapping {
    fn new(len_bytes: usize) -> io::Result<Mapping> {
        // SAFETY: an anonymous private mapping at an address the kernel
        // chooses aliases nothing; failure is reported as MAP_FAILED.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len_bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr =
            NonNull::new(ptr.cast::<u8>()).ok_or_else(|| io::Error::other("mmap gave null"))?;
        Ok(Mapping { ptr, len_bytes })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr` and `len_bytes` are exactly what mmap returned and
        // took; the owner (BufRing) drops a mapping only once the kernel can
        // no longer write to it (see `BufRing::leak`).
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len_bytes);
        }
    }
}

/// A registered provided-buffer ring with its buffers.
pub struct BufRing {
    /// The descriptor ring shared with the kernel (`entries` slots).
    ring: Mapping,
    /// The buffers, `entries * buf_size_bytes` bytes, buffer `b` at `b * buf_size_bytes`.
    buffers: Mapping,
    entries: u16,
    buf_size_bytes: u32,
    /// Our copy of the tail we publish to the kernel.
    tail: u16,
    /// Buffers the kernel filled and we have not given back yet.
    outstanding: u16,
    group: u16,
}

// SAFETY: the ring owns its mappings exclusively; the raw pointers inside
// are not shared with other threads (the kernel side belongs to one
// io_uring, driven by whichever single thread owns the reactor).
unsafe impl Send for BufRing {}

impl BufRing {
    /// Maps `entries` buffers of `buf_size_bytes`, fills the ring with all of
    /// them and registers it as buffer group `group`.
    pub fn new(
        submitter: &Submitter<'_>,
        entries: u16,
        buf_size_bytes: u32,
        group: u16,
    ) -> io::Result<BufRing> {
        assert!(
            entries.is_power_of_two() && entries <= ENTRIES_MAX,
            "a buffer ring has a power-of-two count of entries, at most {ENTRIES_MAX}"
        );
        let ring = Mapping::new(usize::from(entries) * std::mem::size_of::<BufRingEntry>())?;
        let buffers = Mapping::new(usize::from(entries) * buf_size_bytes as usize)?;
        let mut buf_ring = BufRing {
            ring,
            buffers,
            entries,
            buf_size_bytes,
            tail: 0,
            outstanding: entries,
            group,
        };
        for bid in 0..entries {
            buf_ring.recycle(bid);
        }
        // SAFETY: the ring mapping is page-aligned, holds `entries` entries
        // and lives as long as `buf_ring`; the reactor unregisters the group
        // (or lets the io_uring die) before dropping it, and leaks it
        // instead when operations could still pick buffers from it.
        unsafe {
            submitter.register_buf_ring_with_flags(
                buf_ring.ring.ptr.as_ptr() as u64,
                entries,
                group,
                0,
            )?;
        }
        Ok(buf_ring)
    }

    /// The buffer group id receives name.
    pub fn group(&self) -> u16 {
        self.group
    }

    /// Notes that the kernel filled buffer `bid` (a completion carried it).
    pub fn taken(&mut self, bid: u16) {
        debug_assert!(bid < self.entries, "buffer id {bid} out of range");
        debug_assert!(
            self.outstanding < self.entries,
            "more buffers taken than exist"
        );
        self.outstanding += 1;
    }

    /// Buffers the kernel can still fill.
    pub fn available(&self) -> usize {
        usize::from(self.entries - self.outstanding)
    }

    /// The first `len` bytes of buffer `bid`, which the kernel filled and
    /// which has not been recycled since.
    pub fn bytes(&self, bid: u16, len: u32) -> &[u8] {
        assert!(
            bid < self.entries && len <= self.buf_size_bytes,
            "buffer {bid} len {len}"
        );
        let offset = usize::from(bid) * self.buf_size_bytes as usize;
        // SAFETY: the range lies inside the buffers mapping (checked above);
        // the kernel wrote it before posting the completion that named
        // `bid` and writes it again only after `recycle(bid)`, which needs
        // `&mut self` and so cannot happen while this borrow lives.
        unsafe { std::slice::from_raw_parts(self.buffers.ptr.as_ptr().add(offset), len as usize) }
    }

    /// Gives buffer `bid` back to the kernel.
    pub fn recycle(&mut self, bid: u16) {
        debug_assert!(bid < self.entries, "buffer id {bid} out of range");
        debug_assert!(self.outstanding > 0, "recycled a buffer the kernel holds");
        self.outstanding -= 1;
        let index = usize::from(self.tail & (self.entries - 1));
        let base = self.ring.ptr.as_ptr().cast::<BufRingEntry>();
        let addr =
            self.buffers.ptr.as_ptr() as u64 + u64::from(bid) * u64::from(self.buf_size_bytes);
        // SAFETY: `index < entries`, so the entry lies inside the ring
        // mapping. The kernel reads only entries between its head and the
        // published tail; this slot is at the unpublished tail, so nothing
        // reads it until the store below. The setters leave `resv` (which
        // for entry 0 is the shared tail) untouched.
        unsafe {
            let entry = &mut *base.add(index);
            entry.set_addr(addr);
            entry.set_len(self.buf_size_bytes);
            entry.set_bid(bid);
        }
        self.tail = self.tail.wrapping_add(1);
        // SAFETY: `tail` points into entry 0 of the live ring mapping; a u16
        // and an AtomicU16 share size and alignment. Release orders the
        // entry written above before the kernel can see the new tail.
        unsafe {
            let tail = BufRingEntry::tail(base).cast::<AtomicU16>();
            (*tail).store(self.tail, Ordering::Release);
        }
    }

    /// Gives up the memory without unmapping it: for when operations that
    /// might still write into the buffers could not be reaped.
    pub fn leak(self) {
        std::mem::forget(self);
    }
}
