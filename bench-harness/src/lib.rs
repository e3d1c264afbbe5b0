//! A memtier_benchmark-style load generator and side-by-side comparisons.
//!
//! Not built yet: this crate holds its place in the workspace so that the
//! layering in `DESIGN.md` is enforced from the start.
#![deny(missing_docs, missing_debug_implementations)]
