//! Shoal's actor runtime: fixed-capacity lock-free mailboxes between worker
//! threads, with wake-ups and backpressure, and no knowledge of Redis.
//!
//! - [`spsc`]: the mailbox, a bounded single-producer single-consumer ring
//!   that never blocks and never drops a message (a full ring hands it back).
//! - [`mesh`](mesh()): one ring per ordered pair of workers, and each worker's
//!   [`Endpoint`] onto them.
//! - [`wake`]: how a peer wakes a worker blocked in its reactor, paid only when
//!   the worker actually sleeps, and why no wake-up is lost.
//!
//! # A worker's loop
//!
//! Two workers each send the other 1000 numbers. Each turn reads its mail,
//! sends what fits, and sleeps only when the turn did nothing and
//! [`Endpoint::prepare_sleep`] agrees. Here a worker sleeps in `thread::park`,
//! whose token is sticky as [`Wake`] requires; the server's reactor blocks in
//! `io_uring_enter` or `epoll_wait` instead.
//!
//! ```
//! use std::collections::VecDeque;
//! use std::sync::{Arc, OnceLock};
//! use std::thread::{self, Thread};
//!
//! use shoal_actors::{mesh, Wake};
//!
//! /// Unparks the worker's thread, once it has said which one it is.
//! struct Unpark(OnceLock<Thread>);
//!
//! impl Wake for Unpark {
//!     fn wake(&self) {
//!         if let Some(thread) = self.0.get() {
//!             thread.unpark();
//!         }
//!     }
//! }
//!
//! const COUNT: u64 = 1000;
//! let unparkers: Vec<Arc<Unpark>> = (0..2).map(|_| Arc::new(Unpark(OnceLock::new()))).collect();
//! let wakers = unparkers.iter().map(|u| Arc::clone(u) as Arc<dyn Wake>).collect();
//! let endpoints = mesh::<u64>(2, 64, wakers);
//! thread::scope(|scope| {
//!     for (mut endpoint, unparker) in endpoints.into_iter().zip(&unparkers) {
//!         scope.spawn(move || {
//!             // Before the first `prepare_sleep`, so no wake can miss us.
//!             unparker.0.set(thread::current()).expect("set once");
//!             let peer = 1 - endpoint.id();
//!             let mut outbox: VecDeque<u64> = (1..=COUNT).collect();
//!             let mut received = 0;
//!             while received < COUNT || !outbox.is_empty() {
//!                 let got = endpoint.drain(64, |from, n| {
//!                     assert_eq!((from, n), (peer, received + 1));
//!                     received = n;
//!                 });
//!                 let sent = endpoint.send_batch_deferred(peer, &mut outbox);
//!                 endpoint.flush_wakes();
//!                 if got == 0 && sent == 0 && endpoint.prepare_sleep() {
//!                     thread::park();
//!                     endpoint.woke();
//!                 }
//!             }
//!         });
//!     }
//! });
//! ```
#![deny(missing_docs, missing_debug_implementations)]

pub mod mesh;
mod padded;
pub mod spsc;
pub mod wake;

pub use mesh::{mesh, Endpoint, MAX_WORKERS};
pub use wake::Wake;
