//! The hwloc reader and the `/sys` reader describe this machine the same way.
//! Built only with the `hwloc` feature (`ci/hwloc.sh`), which needs the
//! system hwloc library.
#![cfg(feature = "hwloc")]

use shoal_numa::{read_hwloc, read_sysfs, Topology};

/// Each node's id with its CPUs: allowed, then all.
fn cpu_sets(topology: &Topology) -> Vec<(usize, Vec<usize>, Vec<usize>)> {
    topology
        .nodes
        .iter()
        .map(|node| (node.id, node.cpus.clone(), node.all_cpus.clone()))
        .collect()
}

#[test]
fn hwloc_and_sysfs_agree_on_nodes_and_cpus() {
    let from_sysfs = read_sysfs().expect("reading /sys");
    let from_hwloc = read_hwloc().expect("reading through hwloc");
    println!("sysfs:\n{from_sysfs}\nhwloc:\n{from_hwloc}");
    assert_eq!(cpu_sets(&from_sysfs), cpu_sets(&from_hwloc));
}

#[test]
fn hwloc_memory_is_at_most_what_sysfs_reports() {
    // Not compared for equality: hwloc subtracts memory reserved for huge
    // pages from a node's MemTotal, and reports it separately.
    let from_sysfs = read_sysfs().expect("reading /sys");
    let from_hwloc = read_hwloc().expect("reading through hwloc");
    for (sysfs_node, hwloc_node) in from_sysfs.nodes.iter().zip(&from_hwloc.nodes) {
        if let (Some(sysfs_bytes), Some(hwloc_bytes)) =
            (sysfs_node.memory_bytes, hwloc_node.memory_bytes)
        {
            assert!(
                hwloc_bytes <= sysfs_bytes,
                "node {}: hwloc {hwloc_bytes} > sysfs {sysfs_bytes}",
                sysfs_node.id
            );
        }
    }
}
