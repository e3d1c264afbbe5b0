//! The machine as placement sees it: NUMA nodes, each with its logical CPUs
//! and memory, and which of those CPUs this process may run on.

use std::fmt;

use crate::cpulist::format_cpu_list;
use crate::error::{Error, ErrorKind};

/// The NUMA nodes of the machine, in increasing id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// Every node, including nodes whose CPUs this process may not use (their
    /// `cpus` are empty) and memory-only nodes, so that memory stays visible.
    pub nodes: Vec<Node>,
}

/// One NUMA node: a set of logical CPUs sharing the same local memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The kernel's node number (`nodeN` in `/sys`), as `numactl` shows it.
    pub id: usize,
    /// The logical CPUs of this node that this process may run on (its
    /// affinity mask, which a cgroup cpuset or `taskset` narrows), sorted.
    pub cpus: Vec<usize>,
    /// Every logical CPU the node holds, allowed or not, sorted. Kept so that
    /// logs can say what a container or `taskset` took away.
    pub all_cpus: Vec<usize>,
    /// The node's memory in bytes, `None` where the system does not say (the
    /// no-NUMA fallback).
    pub memory_bytes: Option<u64>,
}

impl Node {
    /// A node whose CPUs are all allowed, as a recorded topology describes it.
    /// The CPUs are sorted and deduplicated.
    pub fn new(id: usize, mut cpus: Vec<usize>, memory_bytes: Option<u64>) -> Self {
        cpus.sort_unstable();
        cpus.dedup();
        Node {
            id,
            all_cpus: cpus.clone(),
            cpus,
            memory_bytes,
        }
    }
}

impl Topology {
    /// A topology from nodes in any order; they are sorted by id, as every
    /// other function of this crate expects.
    pub fn from_nodes(mut nodes: Vec<Node>) -> Self {
        nodes.sort_by_key(|node| node.id);
        Topology { nodes }
    }

    /// Every allowed CPU, node by node, in increasing order within a node.
    pub fn cpus(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes.iter().flat_map(|node| node.cpus.iter().copied())
    }

    /// How many CPUs this process may run on.
    pub fn cpu_count(&self) -> usize {
        self.nodes.iter().map(|node| node.cpus.len()).sum()
    }

    /// The node holding `cpu` among the allowed CPUs, if any.
    pub fn node_of(&self, cpu: usize) -> Option<usize> {
        self.nodes
            .iter()
            .find(|node| node.cpus.contains(&cpu))
            .map(|node| node.id)
    }

    /// The same machine with each node's `cpus` narrowed to `allowed` (from
    /// [`allowed_cpus`]); `all_cpus` is kept. Allowed CPUs that no node holds
    /// are ignored: placement can only use CPUs it can attribute to a node.
    pub fn restrict_to(&self, allowed: &[usize]) -> Topology {
        let mut allowed = allowed.to_vec();
        allowed.sort_unstable();
        let nodes = self
            .nodes
            .iter()
            .map(|node| Node {
                cpus: node
                    .all_cpus
                    .iter()
                    .copied()
                    .filter(|cpu| allowed.binary_search(cpu).is_ok())
                    .collect(),
                ..node.clone()
            })
            .collect();
        Topology { nodes }
    }
}

/// One line per node: `node 0: cpus 0-15,32-47 (allowed 0-3), 64.0 GiB`.
impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, node) in self.nodes.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "node {}: cpus {}",
                node.id,
                format_cpu_list(&node.all_cpus)
            )?;
            if node.cpus != node.all_cpus {
                write!(f, " (allowed {})", format_cpu_list(&node.cpus))?;
            }
            match node.memory_bytes {
                // Lossy on purpose: this is for people reading a log.
                Some(bytes) => write!(f, ", {:.1} GiB", bytes as f64 / (1u64 << 30) as f64)?,
                None => write!(f, ", memory unknown")?,
            }
        }
        Ok(())
    }
}

/// The logical CPUs this process may run on (`sched_getaffinity` on Linux),
/// sorted.
///
/// This is the calling thread's mask, which a thread inherits from the one
/// that spawned it: read the topology before pinning any thread, or a pinned
/// thread will see only its own CPU.
///
/// `core_affinity` asks with a fixed `cpu_set_t`, so CPUs from 1024 up are not
/// seen; machines that large are beyond what this crate has been tried on.
pub fn allowed_cpus() -> Result<Vec<usize>, Error> {
    let Some(ids) = core_affinity::get_core_ids() else {
        return Err(Error::new(
            ErrorKind::Affinity,
            "this process",
            "sched_getaffinity failed",
        ));
    };
    let mut cpus: Vec<usize> = ids.into_iter().map(|core| core.id).collect();
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_nodes() -> Topology {
        Topology::from_nodes(vec![
            Node::new(1, vec![2, 3], Some(1 << 30)),
            Node::new(0, vec![0, 1], Some(1 << 31)),
        ])
    }

    #[test]
    fn from_nodes_sorts_by_id() {
        let ids: Vec<usize> = two_nodes().nodes.iter().map(|node| node.id).collect();
        assert_eq!(ids, vec![0, 1]);
    }

    #[test]
    fn restrict_keeps_all_cpus_and_narrows_cpus() {
        let narrowed = two_nodes().restrict_to(&[3, 1, 99]);
        assert_eq!(narrowed.nodes[0].cpus, vec![1]);
        assert_eq!(narrowed.nodes[0].all_cpus, vec![0, 1]);
        assert_eq!(narrowed.nodes[1].cpus, vec![3]);
        assert_eq!(narrowed.cpus().collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(narrowed.cpu_count(), 2);
        assert_eq!(narrowed.node_of(3), Some(1));
        assert_eq!(narrowed.node_of(2), None);
    }

    #[test]
    fn display_shows_allowed_and_memory() {
        let text = two_nodes().restrict_to(&[0, 1, 2]).to_string();
        assert_eq!(
            text,
            "node 0: cpus 0-1, 2.0 GiB\nnode 1: cpus 2-3 (allowed 2), 1.0 GiB"
        );
    }

    #[test]
    fn allowed_cpus_of_this_process_are_not_empty() {
        let cpus = allowed_cpus().unwrap();
        assert!(!cpus.is_empty());
        assert!(cpus.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
