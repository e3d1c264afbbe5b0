//! Shoal's actor runtime: fixed-capacity lock-free mailboxes, one per
//! (sender, receiver) worker pair, with wake-ups and backpressure.
//!
//! Not built yet: this crate holds its place in the workspace so that the
//! layering in `DESIGN.md` is enforced from the start.
#![deny(missing_docs, missing_debug_implementations)]
