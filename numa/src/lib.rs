//! Machine topology (NUMA nodes and their CPUs), the plan that places one
//! worker per CPU node by node, and thread pinning.
//!
//! The server reads the topology once at start ([`read_sysfs`], or
//! [`read_hwloc`] with the `hwloc` feature), turns `--threads` and `--cpus`
//! into a [`Placement`] with [`plan`], logs the plan's `Display` lines, and
//! each worker thread calls [`pin_current_thread`] with its CPU before it
//! allocates its shard, so that the shard's memory is local to its node.
//!
//! The default build needs no C library: `/sys` is read directly. The `hwloc`
//! feature adds a reader built on the system hwloc, mostly to check the first.
//!
//! ```
//! use shoal_numa::{parse_cpu_list, plan, Node, Topology};
//!
//! // A two-socket server, as `/sys` numbers its hyperthreads.
//! let topology = Topology::from_nodes(vec![
//!     Node::new(0, parse_cpu_list("0-15,32-47")?, None),
//!     Node::new(1, parse_cpu_list("16-31,48-63")?, None),
//! ]);
//! let cpus = parse_cpu_list("0-3,16-17")?;
//! let placement = plan(&topology, None, Some(&cpus))?;
//! assert_eq!(
//!     placement.to_string(),
//!     "4 workers on node 0: cores 0-3\n2 workers on node 1: cores 16-17"
//! );
//! assert_eq!(placement.workers[4].cpu, 16);
//! # Ok::<(), shoal_numa::Error>(())
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod cpulist;
mod error;
#[cfg(feature = "hwloc")]
mod hwloc;
mod pin;
mod plan;
mod sysfs;
mod topology;

pub use cpulist::{format_cpu_list, parse_cpu_list, CPUS_MAX};
pub use error::{Error, ErrorKind};
#[cfg(feature = "hwloc")]
pub use hwloc::read_hwloc;
pub use pin::pin_current_thread;
pub use plan::{plan, Placement, WorkerSlot, WORKERS_MAX};
pub use sysfs::{read_sysfs, read_sysfs_from, SYSFS_ROOT};
pub use topology::{allowed_cpus, Node, Topology};
