//! A value alone on its own cache lines.

use std::ops::Deref;

/// Keeps `T` on cache lines of its own, so that a core writing it does not
/// invalidate the lines its neighbours sit on (false sharing).
///
/// 128 bytes rather than 64: Intel's spatial prefetcher pulls cache lines in
/// adjacent pairs, so two hot values 64 bytes apart still ping-pong. The same
/// figure is what crossbeam's `CachePadded` and glommio use on x86-64.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

const _: () = assert!(std::mem::align_of::<CachePadded<u8>>() == 128);

impl<T> Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
