//! Machine topology (NUMA nodes and their cores), the plan that places one
//! worker per core node by node, and thread pinning.
//!
//! Not built yet: this crate holds its place in the workspace so that the
//! layering in `DESIGN.md` is enforced from the start.
#![deny(missing_docs, missing_debug_implementations)]
