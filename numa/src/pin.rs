//! Pinning the calling thread to one logical CPU.

/// One more than the highest CPU `core_affinity` can pin to: it builds a
/// fixed-size `cpu_set_t`, and setting a bit past its end panics inside
/// `libc::CPU_SET` instead of failing.
#[cfg(target_os = "linux")]
const PIN_CPUS_MAX: usize = libc::CPU_SETSIZE as usize;
#[cfg(not(target_os = "linux"))]
const PIN_CPUS_MAX: usize = crate::cpulist::CPUS_MAX;

/// Pins the calling thread to `cpu`, so that it runs there only and the
/// memory it first touches is allocated on that CPU's node. Returns whether
/// the system accepted it; a worker left unpinned still runs, only without
/// the locality, so callers log a `false` rather than stop.
pub fn pin_current_thread(cpu: usize) -> bool {
    if cpu >= PIN_CPUS_MAX {
        return false;
    }
    core_affinity::set_for_current(core_affinity::CoreId { id: cpu })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::allowed_cpus;

    // Elsewhere `core_affinity` only hints, and the mask cannot be read back.
    #[cfg(target_os = "linux")]
    #[test]
    fn pins_to_an_allowed_cpu() {
        let allowed = allowed_cpus().unwrap();
        let cpu = *allowed.last().unwrap();
        // A thread of its own, so the test harness's thread keeps its mask.
        let after = std::thread::spawn(move || {
            let pinned = pin_current_thread(cpu);
            (pinned, allowed_cpus().unwrap())
        })
        .join()
        .unwrap();
        assert_eq!(after, (true, vec![cpu]));
    }

    #[test]
    fn refuses_cpu_beyond_the_affinity_set_without_panicking() {
        assert!(!pin_current_thread(PIN_CPUS_MAX));
        assert!(!pin_current_thread(usize::MAX));
    }
}
