//! Topology from the hwloc library (cargo feature `hwloc`).
//!
//! A second opinion on the `/sys` reader, and the reader for systems hwloc
//! knows that this crate does not parse. The system library is linked
//! (Debian: `libhwloc-dev`); hwlocality's `vendored` build is not used because
//! it downloads hwloc while building.

use hwlocality::object::types::ObjectType;
use hwlocality::object::TopologyObject;
use hwlocality::topology::builder::BuildFlags;

use crate::cpulist::CPUS_MAX;
use crate::error::{Error, ErrorKind};
use crate::topology::{allowed_cpus, Node, Topology};

/// Reads this machine's topology through hwloc, each node's `cpus` narrowed to
/// the CPUs this process may run on, exactly as [`crate::read_sysfs`] does.
pub fn read_hwloc() -> Result<Topology, Error> {
    // Include what hwloc would otherwise drop as disallowed (CPUs outside the
    // cgroup cpuset): `all_cpus` means every CPU of the node, as in `/sys`,
    // and narrowing is left to the shared `restrict_to`, which follows
    // sched_getaffinity and so also sees `taskset`.
    let topology = hwlocality::Topology::builder()
        .with_flags(BuildFlags::INCLUDE_DISALLOWED)
        .map_err(|error| hwloc_error("setting build flags", error))?
        .build()
        .map_err(|error| hwloc_error("loading the topology", error))?;
    let mut nodes = Vec::new();
    for object in topology.objects_with_type(ObjectType::NUMANode) {
        nodes.push(node_of(object)?);
    }
    Ok(Topology::from_nodes(nodes).restrict_to(&allowed_cpus()?))
}

/// Our view of one hwloc NUMA node object.
fn node_of(object: &TopologyObject) -> Result<Node, Error> {
    let id = object.os_index().ok_or_else(|| {
        Error::new(
            ErrorKind::Hwloc,
            "reading a NUMA node",
            "the node has no operating-system index",
        )
    })?;
    let cpus = match object.cpuset() {
        Some(set) => cpus_of(id, &set)?,
        None => Vec::new(),
    };
    // hwloc reports 0 where it could not learn the size, as `/sys` does by
    // leaving the file out.
    let memory_bytes = Some(object.total_memory()).filter(|&bytes| bytes > 0);
    Ok(Node::new(id, cpus, memory_bytes))
}

/// The CPU numbers of node `id`'s cpuset.
fn cpus_of(id: usize, set: &hwlocality::cpu::cpuset::CpuSet) -> Result<Vec<usize>, Error> {
    // An infinite set would never finish iterating; a node never has one.
    if set.weight().is_none() {
        return Err(Error::new(
            ErrorKind::Hwloc,
            format!("NUMA node {id}"),
            "its CPU set is infinite",
        ));
    }
    let mut cpus = Vec::new();
    for index in set.iter_set() {
        let cpu = usize::from(index);
        if cpu >= CPUS_MAX {
            return Err(Error::new(
                ErrorKind::Hwloc,
                format!("NUMA node {id}"),
                format!("CPU {cpu} is above the highest supported, {}", CPUS_MAX - 1),
            ));
        }
        cpus.push(cpu);
    }
    Ok(cpus)
}

fn hwloc_error(step: &str, error: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Hwloc, step, error.to_string())
}
