//! A memtier_benchmark-style load generator and side-by-side comparisons.
//!
//! The layers, from the wire up:
//!
//! - [`resp`] scans replies without allocating; [`template`], [`keys`],
//!   [`data`] and [`rng`] produce requests into reused buffers.
//! - [`conn`] opens and sets up one connection; [`engine`] drives the
//!   connections of each thread with `mio`, closed loop or open loop, and
//!   records latencies into [`stats`].
//! - [`args`] reads a memtier command line; [`report`] prints memtier's
//!   summary table and JSON; [`runner`] ties them into one benchmark.
//! - [`bank`] runs money transfers under transactions and checks the
//!   balances still add up.
//! - [`compare`] starts servers pinned to cores, alternates runs between
//!   them and reports medians, drawn by [`plot`]; [`flamegraph`] turns
//!   `perf script` output into an SVG.
//!
//! The crate knows the RESP protocol (through `shoal-protocol`) and nothing
//! of Shoal's server internals, so it measures Shoal and Redis alike.
#![deny(missing_docs, missing_debug_implementations)]

pub mod args;
pub mod bank;
pub mod compare;
pub mod conn;
pub mod data;
pub mod engine;
pub mod error;
pub mod flamegraph;
pub mod keys;
pub mod plot;
pub mod proc_stat;
pub mod process;
pub mod report;
pub mod resp;
pub mod rng;
pub mod runner;
pub mod signals;
pub mod stats;
pub mod template;
pub mod words;

pub use error::{BenchError, ErrorKind, Result};
