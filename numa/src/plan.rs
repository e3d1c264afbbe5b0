//! The placement plan: which CPU, and so which NUMA node, hosts each worker.
//!
//! Strategy, in order:
//!
//! 1. **Which CPUs.** The CPUs this process may run on (the topology's
//!    `cpus`), or the `--cpus` list, each of which must be one of them: a CPU
//!    the process may not use would make pinning fail later, so it is refused
//!    here with a message naming it.
//! 2. **In which order.** Node by node in increasing id, and by increasing CPU
//!    number within a node: all of node 0 before any of node 1, so that a
//!    small `--threads` keeps every worker, and the memory its shard
//!    allocates, on one node. Linux numbers one hardware thread of every core
//!    before the second threads (node 0 of a two-socket box is `0-15,32-47`),
//!    so increasing order also takes whole physical cores before their
//!    hyperthread siblings.
//! 3. **How many.** One worker per chosen CPU by default; `--threads N` takes
//!    the first N CPUs of that order.
//! 4. **More workers than CPUs** (`--threads 4` on a two-CPU CI runner) is
//!    not an error: the workers wrap around, so each CPU hosts
//!    `N / cpus` workers and the first `N % cpus` CPUs in the order one more.
//!    Workers sharing a CPU run, slower, rather than refusing to start; the
//!    rendered plan says `(2 workers per core)` so the log shows it.
//!
//! Workers are numbered in the same order, so the workers of one node have
//! consecutive numbers.

use std::fmt;

use crate::cpulist::format_cpu_list;
use crate::error::{Error, ErrorKind};
use crate::topology::Topology;

/// The most workers a plan may hold. Far above any machine this runs on
/// (8192 CPUs is Linux's own maximum), it stops `--threads 1000000` from
/// spawning a million threads.
pub const WORKERS_MAX: usize = 16_384;

/// Where every worker runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// One slot per worker, in worker order (`workers[i].worker == i`).
    pub workers: Vec<WorkerSlot>,
}

/// One worker's place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerSlot {
    /// The worker's number, from 0.
    pub worker: usize,
    /// The logical CPU it is pinned to.
    pub cpu: usize,
    /// The NUMA node of that CPU, where its shard's memory should live.
    pub node: usize,
}

/// A CPU chosen for workers, and its node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Seat {
    node: usize,
    cpu: usize,
}

/// Plans `threads` workers (default: one per CPU) over the topology's allowed
/// CPUs, or over `cpus` when given. See the module documentation for the
/// order and for what happens with more workers than CPUs.
pub fn plan(
    topology: &Topology,
    threads: Option<usize>,
    cpus: Option<&[usize]>,
) -> Result<Placement, Error> {
    let seats = match cpus {
        Some(requested) => requested_seats(topology, requested)?,
        None => allowed_seats(topology)?,
    };
    let count = worker_count(threads, seats.len())?;
    Ok(assign(&seats, count))
}

/// Every allowed CPU of the topology, in fill order.
fn allowed_seats(topology: &Topology) -> Result<Vec<Seat>, Error> {
    let mut seats: Vec<Seat> = topology
        .nodes
        .iter()
        .flat_map(|node| node.cpus.iter().map(|&cpu| Seat { node: node.id, cpu }))
        .collect();
    if seats.is_empty() {
        return Err(Error::new(
            ErrorKind::NoCpus,
            "",
            "no NUMA node has a CPU this process may run on",
        ));
    }
    seats.sort_unstable();
    seats.dedup();
    Ok(seats)
}

/// The `--cpus` list in fill order, each CPU checked against the topology.
fn requested_seats(topology: &Topology, requested: &[usize]) -> Result<Vec<Seat>, Error> {
    if requested.is_empty() {
        return Err(Error::new(ErrorKind::NoCpus, "", "the CPU list is empty"));
    }
    let mut seats = Vec::with_capacity(requested.len());
    for &cpu in requested {
        match topology.node_of(cpu) {
            Some(node) => seats.push(Seat { node, cpu }),
            None => return Err(unavailable(topology, cpu)),
        }
    }
    seats.sort_unstable();
    seats.dedup();
    Ok(seats)
}

/// Why `cpu` cannot host a worker, with the CPUs that can.
fn unavailable(topology: &Topology, cpu: usize) -> Error {
    let exists = topology
        .nodes
        .iter()
        .any(|node| node.all_cpus.contains(&cpu));
    let allowed: Vec<usize> = topology.cpus().collect();
    let reason = if exists {
        "this process may not run on it"
    } else {
        "the machine has no such CPU"
    };
    Error::new(
        ErrorKind::CpuUnavailable,
        cpu.to_string(),
        format!("{reason} (allowed: {})", format_cpu_list(&allowed)),
    )
}

/// The number of workers: `threads`, or one per seat by default.
fn worker_count(threads: Option<usize>, seat_count: usize) -> Result<usize, Error> {
    let count = threads.unwrap_or(seat_count);
    if count == 0 {
        return Err(Error::new(
            ErrorKind::Threads,
            "0",
            "at least one worker is needed",
        ));
    }
    if count > WORKERS_MAX {
        return Err(Error::new(
            ErrorKind::Threads,
            count.to_string(),
            format!("at most {WORKERS_MAX} workers are supported"),
        ));
    }
    Ok(count)
}

/// Gives each seat `count / seats` workers and the first `count % seats` one
/// more, numbering workers in seat order.
fn assign(seats: &[Seat], count: usize) -> Placement {
    debug_assert!(!seats.is_empty() && count > 0);
    let per_seat = count / seats.len();
    let extra = count % seats.len();
    let mut workers = Vec::with_capacity(count);
    for (index, seat) in seats.iter().enumerate() {
        let here = per_seat + usize::from(index < extra);
        for _ in 0..here {
            workers.push(WorkerSlot {
                worker: workers.len(),
                cpu: seat.cpu,
                node: seat.node,
            });
        }
    }
    debug_assert_eq!(workers.len(), count);
    Placement { workers }
}

impl Placement {
    /// How many workers the plan holds.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Whether the plan holds no worker; [`plan`] never returns one.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// The distinct CPUs the plan uses, sorted.
    pub fn cpus(&self) -> Vec<usize> {
        let mut cpus: Vec<usize> = self.workers.iter().map(|slot| slot.cpu).collect();
        cpus.sort_unstable();
        cpus.dedup();
        cpus
    }

    /// The most workers sharing one CPU: 1 unless there were more workers
    /// than CPUs.
    pub fn workers_per_cpu_max(&self) -> usize {
        per_cpu_counts(&self.workers).into_iter().max().unwrap_or(0)
    }

    /// Whether some CPU hosts more than one worker.
    pub fn is_oversubscribed(&self) -> bool {
        self.workers_per_cpu_max() > 1
    }
}

/// How many of `slots` sit on each distinct CPU, in CPU order.
fn per_cpu_counts(slots: &[WorkerSlot]) -> Vec<usize> {
    let mut cpus: Vec<usize> = slots.iter().map(|slot| slot.cpu).collect();
    cpus.sort_unstable();
    cpus.chunk_by(|a, b| a == b).map(<[usize]>::len).collect()
}

/// One line per node, in plan order:
/// `32 workers on node 0: cores 0-15,32-47`, and when CPUs are shared,
/// `4 workers on node 0: cores 0-1 (2 workers per core)`.
impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, group) in self.workers.chunk_by(|a, b| a.node == b.node).enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write_node_line(f, group)?;
        }
        Ok(())
    }
}

/// The line for the workers of one node.
fn write_node_line(f: &mut fmt::Formatter<'_>, group: &[WorkerSlot]) -> fmt::Result {
    let cpus: Vec<usize> = group.iter().map(|slot| slot.cpu).collect();
    let counts = per_cpu_counts(group);
    let node = group.first().map_or(0, |slot| slot.node);
    let workers = plural(group.len(), "worker");
    let cores = if counts.len() == 1 { "core" } else { "cores" };
    write!(
        f,
        "{workers} on node {node}: {cores} {}",
        format_cpu_list(&cpus)
    )?;
    let most = counts.iter().copied().max().unwrap_or(0);
    let least = counts.iter().copied().min().unwrap_or(0);
    if most > 1 {
        let up_to = if least == most { "" } else { "up to " };
        write!(f, " ({up_to}{most} workers per core)")?;
    }
    Ok(())
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpulist::parse_cpu_list;
    use crate::topology::Node;

    fn cpus(text: &str) -> Vec<usize> {
        parse_cpu_list(text).unwrap()
    }

    /// Two sockets of 16 cores with 2 hyperthreads each, numbered as Intel
    /// servers do: first threads 0-31, their siblings 32-63.
    fn two_socket() -> Topology {
        Topology::from_nodes(vec![
            Node::new(0, cpus("0-15,32-47"), Some(64 << 30)),
            Node::new(1, cpus("16-31,48-63"), Some(64 << 30)),
        ])
    }

    /// One node, 8 CPUs.
    fn laptop() -> Topology {
        Topology::from_nodes(vec![Node::new(0, cpus("0-7"), Some(16 << 30))])
    }

    fn plan_text(topology: &Topology, threads: Option<usize>, list: Option<&str>) -> String {
        let list = list.map(cpus);
        plan(topology, threads, list.as_deref())
            .unwrap()
            .to_string()
    }

    fn plan_error(topology: &Topology, threads: Option<usize>, list: Option<&[usize]>) -> Error {
        match plan(topology, threads, list) {
            Ok(placement) => panic!("expected an error, got plan:\n{placement}"),
            Err(error) => error,
        }
    }

    /// Invariants every plan keeps: numbered from 0, node groups contiguous
    /// and in increasing node order, each CPU on its own node.
    fn assert_well_formed(placement: &Placement, topology: &Topology) {
        for (index, slot) in placement.workers.iter().enumerate() {
            assert_eq!(slot.worker, index);
            assert_eq!(topology.node_of(slot.cpu), Some(slot.node));
        }
        assert!(placement
            .workers
            .windows(2)
            .all(|pair| pair[0].node <= pair[1].node));
    }

    #[test]
    fn two_socket_default_is_one_worker_per_cpu() {
        let topology = two_socket();
        let placement = plan(&topology, None, None).unwrap();
        assert_well_formed(&placement, &topology);
        assert_eq!(placement.len(), 64);
        assert!(!placement.is_oversubscribed());
        assert_eq!(
            placement.to_string(),
            "32 workers on node 0: cores 0-15,32-47\n32 workers on node 1: cores 16-31,48-63"
        );
        // Node 0 is filled, physical cores first, before node 1 starts.
        let first: Vec<usize> = placement.workers[..18]
            .iter()
            .map(|slot| slot.cpu)
            .collect();
        assert_eq!(first, cpus("0-15,32-33"));
        assert_eq!(
            placement.workers[32],
            WorkerSlot {
                worker: 32,
                cpu: 16,
                node: 1
            }
        );
    }

    #[test]
    fn two_socket_few_threads_stay_on_node_0_physical_cores() {
        let topology = two_socket();
        assert_eq!(
            plan_text(&topology, Some(1), None),
            "1 worker on node 0: core 0"
        );
        assert_eq!(
            plan_text(&topology, Some(16), None),
            "16 workers on node 0: cores 0-15"
        );
        assert_eq!(
            plan_text(&topology, Some(32), None),
            "32 workers on node 0: cores 0-15,32-47"
        );
    }

    #[test]
    fn two_socket_fills_node_0_before_node_1() {
        let topology = two_socket();
        let placement = plan(&topology, Some(40), None).unwrap();
        assert_well_formed(&placement, &topology);
        assert_eq!(
            placement.to_string(),
            "32 workers on node 0: cores 0-15,32-47\n8 workers on node 1: cores 16-23"
        );
    }

    #[test]
    fn two_socket_double_threads_put_two_workers_per_cpu() {
        let topology = two_socket();
        let placement = plan(&topology, Some(128), None).unwrap();
        assert_well_formed(&placement, &topology);
        assert_eq!(placement.workers_per_cpu_max(), 2);
        assert_eq!(
            placement.to_string(),
            "64 workers on node 0: cores 0-15,32-47 (2 workers per core)\n\
             64 workers on node 1: cores 16-31,48-63 (2 workers per core)"
        );
        // A CPU's workers have consecutive numbers.
        assert_eq!(placement.workers[0].cpu, 0);
        assert_eq!(placement.workers[1].cpu, 0);
        assert_eq!(placement.workers[2].cpu, 1);
    }

    #[test]
    fn two_socket_uneven_wrap_gives_extras_in_fill_order() {
        let topology = two_socket();
        let placement = plan(&topology, Some(100), None).unwrap();
        assert_well_formed(&placement, &topology);
        // 100 = 64 + 36: every CPU of node 0 and the first 4 of node 1 get two.
        assert_eq!(
            placement.to_string(),
            "64 workers on node 0: cores 0-15,32-47 (2 workers per core)\n\
             36 workers on node 1: cores 16-31,48-63 (up to 2 workers per core)"
        );
        let on_cpu_19 = placement
            .workers
            .iter()
            .filter(|slot| slot.cpu == 19)
            .count();
        let on_cpu_20 = placement
            .workers
            .iter()
            .filter(|slot| slot.cpu == 20)
            .count();
        assert_eq!((on_cpu_19, on_cpu_20), (2, 1));
    }

    #[test]
    fn two_socket_cpu_list_spans_both_nodes() {
        let topology = two_socket();
        assert_eq!(
            plan_text(&topology, None, Some("0-3,16-19")),
            "4 workers on node 0: cores 0-3\n4 workers on node 1: cores 16-19"
        );
    }

    #[test]
    fn cpu_list_order_does_not_matter() {
        let topology = two_socket();
        let placement = plan(&topology, None, Some(&[17, 2, 16, 1, 2])).unwrap();
        let slots: Vec<(usize, usize)> = placement
            .workers
            .iter()
            .map(|slot| (slot.cpu, slot.node))
            .collect();
        assert_eq!(slots, vec![(1, 0), (2, 0), (16, 1), (17, 1)]);
    }

    #[test]
    fn cpu_list_with_fewer_threads_fills_its_first_node_first() {
        let topology = two_socket();
        assert_eq!(
            plan_text(&topology, Some(2), Some("16,0,1")),
            "2 workers on node 0: cores 0-1"
        );
        assert_eq!(
            plan_text(&topology, Some(3), Some("16,0,1")),
            "2 workers on node 0: cores 0-1\n1 worker on node 1: core 16"
        );
    }

    #[test]
    fn cpu_list_with_more_threads_wraps() {
        let topology = two_socket();
        assert_eq!(
            plan_text(&topology, Some(5), Some("0-1")),
            "5 workers on node 0: cores 0-1 (up to 3 workers per core)"
        );
    }

    #[test]
    fn laptop_plans() {
        let topology = laptop();
        assert_eq!(
            plan_text(&topology, None, None),
            "8 workers on node 0: cores 0-7"
        );
        assert_eq!(
            plan_text(&topology, Some(4), None),
            "4 workers on node 0: cores 0-3"
        );
        assert_eq!(
            plan_text(&topology, Some(3), Some("0-3,6")),
            "3 workers on node 0: cores 0-2"
        );
        assert_eq!(
            plan_text(&topology, None, Some("6,0-3")),
            "5 workers on node 0: cores 0-3,6"
        );
        assert_eq!(
            plan_text(&topology, Some(16), None),
            "16 workers on node 0: cores 0-7 (2 workers per core)"
        );
    }

    #[test]
    fn four_threads_on_a_two_cpu_runner_wrap() {
        // The laptop inside a container that lets it use CPUs 0 and 1.
        let topology = laptop().restrict_to(&[0, 1]);
        let placement = plan(&topology, Some(4), None).unwrap();
        assert_well_formed(&placement, &topology);
        assert!(placement.is_oversubscribed());
        assert_eq!(placement.cpus(), vec![0, 1]);
        assert_eq!(
            placement.to_string(),
            "4 workers on node 0: cores 0-1 (2 workers per core)"
        );
    }

    #[test]
    fn default_uses_only_allowed_cpus() {
        let topology = two_socket().restrict_to(&cpus("14-17"));
        assert_eq!(
            plan_text(&topology, None, None),
            "2 workers on node 0: cores 14-15\n2 workers on node 1: cores 16-17"
        );
    }

    #[test]
    fn nodes_fill_in_id_order_even_if_listed_otherwise() {
        let topology = Topology {
            nodes: vec![
                Node::new(1, cpus("4-7"), None),
                Node::new(0, cpus("0-3"), None),
            ],
        };
        assert_eq!(
            plan_text(&topology, Some(2), None),
            "2 workers on node 0: cores 0-1"
        );
    }

    #[test]
    fn nodes_without_allowed_cpus_are_skipped() {
        let topology = Topology::from_nodes(vec![
            Node::new(0, Vec::new(), Some(1 << 30)),
            Node::new(1, cpus("0-1"), Some(1 << 30)),
        ]);
        assert_eq!(
            plan_text(&topology, None, None),
            "2 workers on node 1: cores 0-1"
        );
    }

    #[test]
    fn cpu_outside_the_machine_is_refused() {
        let error = plan_error(&laptop(), None, Some(&[3, 64]));
        assert_eq!(error.kind(), ErrorKind::CpuUnavailable);
        assert_eq!(error.value(), "64");
        assert_eq!(
            error.to_string(),
            "CPU not available `64`: the machine has no such CPU (allowed: 0-7)"
        );
    }

    #[test]
    fn cpu_outside_the_affinity_is_refused() {
        let topology = two_socket().restrict_to(&cpus("0-3"));
        let error = plan_error(&topology, None, Some(&[16]));
        assert_eq!(error.kind(), ErrorKind::CpuUnavailable);
        assert_eq!(
            error.to_string(),
            "CPU not available `16`: this process may not run on it (allowed: 0-3)"
        );
    }

    #[test]
    fn zero_threads_is_refused() {
        let error = plan_error(&laptop(), Some(0), None);
        assert_eq!(error.kind(), ErrorKind::Threads);
        assert_eq!(error.value(), "0");
    }

    #[test]
    fn thread_count_is_bounded() {
        assert_eq!(
            plan(&laptop(), Some(WORKERS_MAX), None).unwrap().len(),
            WORKERS_MAX
        );
        let error = plan_error(&laptop(), Some(WORKERS_MAX + 1), None);
        assert_eq!(error.kind(), ErrorKind::Threads);
        assert_eq!(error.value(), (WORKERS_MAX + 1).to_string());
    }

    #[test]
    fn empty_cpu_list_is_refused() {
        let error = plan_error(&laptop(), None, Some(&[]));
        assert_eq!(error.kind(), ErrorKind::NoCpus);
        assert_eq!(
            error.to_string(),
            "no CPU to place workers on: the CPU list is empty"
        );
    }

    #[test]
    fn topology_without_allowed_cpus_is_refused() {
        let topology = laptop().restrict_to(&[]);
        let error = plan_error(&topology, None, None);
        assert_eq!(error.kind(), ErrorKind::NoCpus);
        assert_eq!(
            error.to_string(),
            "no CPU to place workers on: no NUMA node has a CPU this process may run on"
        );
        assert_eq!(
            plan_error(&topology, Some(1), None).kind(),
            ErrorKind::NoCpus
        );
    }
}
