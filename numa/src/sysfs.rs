//! Topology from `/sys/devices/system`, with no C library.
//!
//! Linux describes NUMA nodes as directories `node/node<N>/`, each with a
//! `cpulist` (the node's logical CPUs, `0-15,32-47`) and a `meminfo` whose
//! `MemTotal` line is the node's memory. A kernel built without NUMA, or a
//! container that hides the directory, has no `node/` at all: the machine is
//! then one node 0 holding every online CPU (`cpu/online`), memory unknown.
//! This is the same answer hwloc gives there, so both readers agree.

use std::fs;
use std::io;
use std::path::Path;

use crate::cpulist::parse_cpu_list;
use crate::error::{Error, ErrorKind};
use crate::topology::{allowed_cpus, Node, Topology};

/// Where Linux mounts the system devices that [`read_sysfs`] reads.
pub const SYSFS_ROOT: &str = "/sys/devices/system";

/// Reads this machine's topology from `/sys/devices/system`, each node's
/// `cpus` narrowed to the CPUs this process may run on (see
/// [`allowed_cpus`]: call it before pinning threads).
pub fn read_sysfs() -> Result<Topology, Error> {
    let topology = read_sysfs_from(Path::new(SYSFS_ROOT))?;
    Ok(topology.restrict_to(&allowed_cpus()?))
}

/// Reads a topology from a tree laid out like `/sys/devices/system` (`root`
/// holds `node/` and `cpu/`), such as one recorded from another machine.
///
/// Nothing is narrowed by this process's affinity, which belongs to the
/// machine running the code rather than to the tree: every node's `cpus`
/// equals its `all_cpus`. [`read_sysfs`] narrows them.
pub fn read_sysfs_from(root: &Path) -> Result<Topology, Error> {
    let node_dir = root.join("node");
    let ids = match node_ids(&node_dir)? {
        Some(ids) if !ids.is_empty() => ids,
        // No node directory, or one with no node in it: no NUMA here.
        _ => return read_without_numa(root),
    };
    let mut nodes = Vec::with_capacity(ids.len());
    for id in ids {
        nodes.push(read_node(&node_dir.join(format!("node{id}")), id)?);
    }
    Ok(Topology::from_nodes(nodes))
}

/// The ids of the `node<N>` entries of `dir`, or `None` if `dir` does not
/// exist. Other entries (`online`, `possible`, `has_cpu`, ...) are skipped.
fn node_ids(dir: &Path) -> Result<Option<Vec<usize>>, Error> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(Error::io(ErrorKind::Read, dir, error)),
    };
    let mut ids = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| Error::io(ErrorKind::Read, dir, error))?;
        if let Some(id) = entry.file_name().to_str().and_then(node_id) {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(Some(ids))
}

/// `node12` is node 12; anything else is not a node directory.
fn node_id(name: &str) -> Option<usize> {
    let digits = name.strip_prefix("node")?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One node directory: its `cpulist` is required, its `meminfo` optional
/// (memory is only reported, never planned with).
fn read_node(dir: &Path, id: usize) -> Result<Node, Error> {
    let cpus = read_cpu_list_file(&dir.join("cpulist"))?;
    let memory_bytes = read_memory(&dir.join("meminfo"))?;
    Ok(Node::new(id, cpus, memory_bytes))
}

/// The one node of a machine without NUMA: every online CPU.
fn read_without_numa(root: &Path) -> Result<Topology, Error> {
    let cpus = read_cpu_list_file(&root.join("cpu").join("online"))?;
    Ok(Topology::from_nodes(vec![Node::new(0, cpus, None)]))
}

/// A file holding a CPU list; a bad list is reported against the file.
fn read_cpu_list_file(path: &Path) -> Result<Vec<usize>, Error> {
    let text = read_text(path)?;
    parse_cpu_list(&text).map_err(|error| malformed(path, error.to_string()))
}

/// The `MemTotal` of a node's `meminfo`, in bytes; `None` if there is no such
/// file.
fn read_memory(path: &Path) -> Result<Option<u64>, Error> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(Error::io(ErrorKind::Read, path, error)),
    };
    match parse_mem_total(&text) {
        Some(bytes) => Ok(Some(bytes)),
        None => Err(malformed(path, "no readable `MemTotal: <n> kB` line")),
    }
}

/// Finds `Node 0 MemTotal:  65759592 kB` and returns it in bytes. The kernel
/// says `kB` but means KiB.
fn parse_mem_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.contains("MemTotal:"))?;
    let (_, value) = line.split_once("MemTotal:")?;
    let kib: u64 = value.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kib.checked_mul(1024)
}

fn read_text(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|error| Error::io(ErrorKind::Read, path, error))
}

fn malformed(path: &Path, detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::Malformed, path.display().to_string(), detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recorded `/sys/devices/system` tree in a temporary directory.
    struct Tree {
        dir: tempfile::TempDir,
    }

    impl Tree {
        fn new() -> Self {
            Tree {
                dir: tempfile::tempdir().unwrap(),
            }
        }

        fn write(&self, relative: &str, contents: &str) -> &Self {
            let path = self.dir.path().join(relative);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, contents).unwrap();
            self
        }

        fn node(&self, id: usize, cpulist: &str, mem_total_kib: u64) -> &Self {
            self.write(&format!("node/node{id}/cpulist"), &format!("{cpulist}\n"));
            self.write(
                &format!("node/node{id}/meminfo"),
                &format!(
                    "Node {id} MemTotal:       {mem_total_kib} kB\n\
                     Node {id} MemFree:        1234 kB\n"
                ),
            )
        }

        fn read(&self) -> Result<Topology, Error> {
            read_sysfs_from(self.dir.path())
        }
    }

    /// The files besides `node<N>/` that a real `node/` directory holds.
    fn write_node_dir_noise(tree: &Tree) {
        for name in [
            "has_cpu",
            "has_memory",
            "has_normal_memory",
            "online",
            "possible",
        ] {
            tree.write(&format!("node/{name}"), "0-1\n");
        }
        tree.write("node/power/.keep", "");
        tree.write("node/uevent", "");
    }

    #[test]
    fn reads_a_two_socket_machine() {
        let tree = Tree::new();
        tree.node(0, "0-15,32-47", 65_759_592)
            .node(1, "16-31,48-63", 66_052_180)
            .write("cpu/online", "0-63\n");
        write_node_dir_noise(&tree);

        let topology = tree.read().unwrap();
        assert_eq!(topology.nodes.len(), 2);
        let node0 = &topology.nodes[0];
        assert_eq!(node0.id, 0);
        assert_eq!(node0.cpus, (0..16).chain(32..48).collect::<Vec<_>>());
        assert_eq!(node0.all_cpus, node0.cpus);
        assert_eq!(node0.memory_bytes, Some(65_759_592 * 1024));
        let node1 = &topology.nodes[1];
        assert_eq!(node1.id, 1);
        assert_eq!(node1.cpus, (16..32).chain(48..64).collect::<Vec<_>>());
        assert_eq!(node1.memory_bytes, Some(66_052_180 * 1024));
        assert_eq!(topology.cpu_count(), 64);
    }

    #[test]
    fn reads_a_single_node_laptop() {
        let tree = Tree::new();
        tree.node(0, "0-7", 16_318_328).write("cpu/online", "0-7\n");
        let topology = tree.read().unwrap();
        assert_eq!(
            topology,
            Topology {
                nodes: vec![Node::new(0, (0..8).collect(), Some(16_318_328 * 1024))]
            }
        );
    }

    #[test]
    fn nodes_are_ordered_by_number_not_name() {
        let tree = Tree::new();
        tree.node(10, "20-21", 1)
            .node(2, "4-5", 1)
            .node(0, "0-1", 1);
        let ids: Vec<usize> = tree
            .read()
            .unwrap()
            .nodes
            .iter()
            .map(|node| node.id)
            .collect();
        assert_eq!(ids, vec![0, 2, 10]);
    }

    #[test]
    fn memory_only_node_has_no_cpus() {
        let tree = Tree::new();
        tree.node(0, "0-3", 8).node(1, "", 4);
        let topology = tree.read().unwrap();
        assert_eq!(topology.nodes[1].cpus, Vec::<usize>::new());
        assert_eq!(topology.nodes[1].memory_bytes, Some(4 * 1024));
    }

    #[test]
    fn missing_meminfo_leaves_memory_unknown() {
        let tree = Tree::new();
        tree.write("node/node0/cpulist", "0-3\n");
        assert_eq!(tree.read().unwrap().nodes[0].memory_bytes, None);
    }

    #[test]
    fn falls_back_to_online_cpus_without_node_directory() {
        let tree = Tree::new();
        tree.write("cpu/online", "0-5\n");
        let topology = tree.read().unwrap();
        assert_eq!(
            topology,
            Topology {
                nodes: vec![Node::new(0, (0..6).collect(), None)]
            }
        );
    }

    #[test]
    fn falls_back_when_node_directory_has_no_node() {
        let tree = Tree::new();
        write_node_dir_noise(&tree);
        tree.write("cpu/online", "0-1,3\n");
        let topology = tree.read().unwrap();
        assert_eq!(topology.nodes.len(), 1);
        assert_eq!(topology.nodes[0].cpus, vec![0, 1, 3]);
    }

    #[test]
    fn no_node_directory_and_no_online_file_is_a_read_error() {
        let tree = Tree::new();
        let error = tree.read().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Read);
        assert!(error.value().ends_with("cpu/online"), "{error}");
    }

    #[test]
    fn missing_cpulist_is_a_read_error_naming_the_file() {
        let tree = Tree::new();
        tree.write("node/node0/meminfo", "Node 0 MemTotal: 1 kB\n");
        let error = tree.read().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Read);
        assert!(error.value().ends_with("node/node0/cpulist"), "{error}");
    }

    #[test]
    fn bad_cpulist_is_malformed_and_names_file_and_entry() {
        let tree = Tree::new();
        tree.write("node/node0/cpulist", "0-3,banana\n");
        let error = tree.read().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Malformed);
        assert!(error.value().ends_with("node/node0/cpulist"), "{error}");
        assert!(
            error.to_string().contains("`banana` is not a CPU number"),
            "{error}"
        );
    }

    #[test]
    fn meminfo_without_mem_total_is_malformed() {
        let tree = Tree::new();
        tree.write("node/node0/cpulist", "0\n")
            .write("node/node0/meminfo", "Node 0 MemFree: 12 kB\n");
        let error = tree.read().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Malformed);
        assert!(error.value().ends_with("node/node0/meminfo"), "{error}");
    }

    #[test]
    fn mem_total_parsing() {
        assert_eq!(parse_mem_total("Node 3 MemTotal:  2 kB\n"), Some(2048));
        assert_eq!(parse_mem_total("Node 3 MemTotal:  2 MB\n"), None);
        assert_eq!(parse_mem_total("Node 3 MemTotal:  x kB\n"), None);
        assert_eq!(parse_mem_total(&format!("MemTotal: {} kB", u64::MAX)), None);
    }

    #[test]
    fn node_names() {
        assert_eq!(node_id("node0"), Some(0));
        assert_eq!(node_id("node17"), Some(17));
        assert_eq!(node_id("node"), None);
        assert_eq!(node_id("nodex"), None);
        assert_eq!(node_id("online"), None);
    }

    #[test]
    fn this_machine_reads_and_narrows_to_allowed_cpus() {
        let topology = read_sysfs().unwrap();
        assert!(!topology.nodes.is_empty());
        assert!(topology.cpu_count() > 0);
        for node in &topology.nodes {
            assert!(node.cpus.iter().all(|cpu| node.all_cpus.contains(cpu)));
        }
        let allowed = allowed_cpus().unwrap();
        assert!(topology.cpus().all(|cpu| allowed.contains(&cpu)));
    }
}
