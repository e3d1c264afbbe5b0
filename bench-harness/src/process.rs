//! Starting the processes a comparison measures, each isolated the way
//! `scripts/compare_redis.py` isolates them: pinned to chosen CPUs, in a
//! session of its own (so a Ctrl-C at the terminal reaches only us, and
//! we stop them in order), with its autogroup at nice -20 so other work on
//! a shared machine cannot take its CPU. And stopping them, always:
//! [`ChildGuard`] stops its process when dropped, on error and on panic.

use std::ffi::CString;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{BenchError, Result};

/// How long a process gets between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// A set of CPUs, from a list such as `0`, `2-3` or `0,2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuSet(pub Vec<usize>);

impl CpuSet {
    /// Parses a CPU list as `taskset -c` writes it.
    pub fn parse(text: &str) -> Result<CpuSet> {
        let mut cpus = Vec::new();
        for part in text.split(',') {
            let bad = || BenchError::usage(format!("bad CPU list {text:?}"));
            let (low, high) = match part.split_once('-') {
                Some((low, high)) => (
                    low.trim().parse().map_err(|_| bad())?,
                    high.trim().parse().map_err(|_| bad())?,
                ),
                None => {
                    let cpu: usize = part.trim().parse().map_err(|_| bad())?;
                    (cpu, cpu)
                }
            };
            if low > high || high >= libc::CPU_SETSIZE as usize {
                return Err(bad());
            }
            cpus.extend(low..=high);
        }
        cpus.sort_unstable();
        cpus.dedup();
        Ok(CpuSet(cpus))
    }

    fn to_libc(&self) -> libc::cpu_set_t {
        // SAFETY: cpu_set_t is a plain bit array; all zeros is the empty set,
        // and CPU_SET is given indices below CPU_SETSIZE (checked in parse).
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            for &cpu in &self.0 {
                libc::CPU_SET(cpu, &mut set);
            }
            set
        }
    }
}

/// Pins the calling thread to `cpus`.
pub fn pin_current_thread(cpus: &CpuSet) -> std::io::Result<()> {
    let set = cpus.to_libc();
    // SAFETY: pid 0 is the calling thread; `set` is a valid cpu_set_t of
    // the size passed.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// How a child process is isolated.
#[derive(Debug, Clone, Default)]
pub struct Isolation {
    /// CPUs to pin it to.
    pub cpus: Option<CpuSet>,
    /// Whether it gets its own session (and with it its own autogroup).
    pub new_session: bool,
    /// Whether its autogroup is set to nice -20.
    pub autogroup_boost: bool,
}

/// Starts `argv` isolated as asked, its output going to `log`.
pub fn spawn(argv: &[String], isolation: &Isolation, log: &File) -> Result<Child> {
    let Some((program, rest)) = argv.split_first() else {
        return Err(BenchError::usage("an empty command line"));
    };
    let mut command = Command::new(program);
    command.args(rest).stdin(Stdio::null());
    let out = log
        .try_clone()
        .map_err(|e| BenchError::io("duplicating a log file", e))?;
    let err = log
        .try_clone()
        .map_err(|e| BenchError::io("duplicating a log file", e))?;
    command.stdout(out).stderr(err);
    let cpu_set = isolation.cpus.as_ref().map(CpuSet::to_libc);
    let new_session = isolation.new_session;
    let boost = isolation.autogroup_boost;
    let autogroup = CString::new("/proc/self/autogroup").expect("no NUL in a constant path");
    // SAFETY: the closure runs in the child between fork and exec, so it
    // may only make async-signal-safe calls: setsid, sched_setaffinity,
    // open, write and close are system calls, and everything it touches
    // (`cpu_set`, `autogroup`) was built before the fork. A failed boost
    // is ignored here and reported by the caller from /proc.
    unsafe {
        command.pre_exec(move || {
            if new_session && libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(set) = &cpu_set {
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if boost {
                let fd = libc::open(autogroup.as_ptr(), libc::O_WRONLY);
                if fd >= 0 {
                    libc::write(fd, b"-20".as_ptr().cast(), 3);
                    libc::close(fd);
                }
            }
            Ok(())
        });
    }
    command
        .spawn()
        .map_err(|e| BenchError::io(format!("starting {program}"), e))
}

/// The autogroup nice value of `pid`, if the kernel has autogroups.
pub fn autogroup_nice(pid: u32) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/autogroup")).ok()?;
    text.split_whitespace().last()?.parse().ok()
}

/// Stops its process (and the process group it leads) when dropped.
#[derive(Debug)]
pub struct ChildGuard {
    /// What the process is, for messages.
    pub name: String,
    child: Option<Child>,
    group_leader: bool,
}

impl ChildGuard {
    /// Guards `child`; `group_leader` if it was started in its own session.
    pub fn new(name: impl Into<String>, child: Child, group_leader: bool) -> ChildGuard {
        ChildGuard {
            name: name.into(),
            child: Some(child),
            group_leader,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The exit status, if it has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits up to `timeout` for the process to exit by itself, polling
    /// `give_up` (Ctrl-C) as it waits.
    pub fn wait_timeout(
        &mut self,
        timeout: Duration,
        give_up: impl Fn() -> bool,
    ) -> Result<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return Ok(status);
            }
            if give_up() {
                return Err(BenchError::interrupted(format!(
                    "interrupted while {} ran",
                    self.name
                )));
            }
            if Instant::now() >= deadline {
                return Err(BenchError::interrupted(format!(
                    "{} ran longer than {:.0} s",
                    self.name,
                    timeout.as_secs_f64()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then SIGKILL after [`STOP_GRACE`]; waits for the exit.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        let pid = child.id() as libc::pid_t;
        let target = if self.group_leader { -pid } else { pid };
        // SAFETY: kill has no memory-safety preconditions; the pid is our
        // child's, not yet reaped, so it cannot name another process.
        unsafe { libc::kill(target, libc::SIGTERM) };
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        // SAFETY: as above.
        unsafe { libc::kill(target, libc::SIGKILL) };
        let _ = child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The program's file name, for naming a server after its command.
pub fn program_name(program: &str) -> String {
    std::path::Path::new(program)
        .file_name()
        .map(|name| String::from_utf8_lossy(name.as_bytes()).into_owned())
        .unwrap_or_else(|| program.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse_as_taskset_writes_them() {
        assert_eq!(CpuSet::parse("1").unwrap(), CpuSet(vec![1]));
        assert_eq!(CpuSet::parse("0,2-3,2").unwrap(), CpuSet(vec![0, 2, 3]));
        assert!(CpuSet::parse("3-1").is_err());
        assert!(CpuSet::parse("x").is_err());
    }

    #[test]
    fn a_guard_stops_its_process_on_drop() {
        let log = tempfile_log();
        let isolation = Isolation {
            cpus: Some(CpuSet(vec![0])),
            new_session: true,
            autogroup_boost: false,
        };
        let child = spawn(&["sleep".into(), "30".into()], &isolation, &log).unwrap();
        let pid = child.id();
        let started = Instant::now();
        drop(ChildGuard::new("sleep", child, true));
        assert!(started.elapsed() < STOP_GRACE);
        // The pid is reaped: signalling it now fails.
        // SAFETY: signal 0 only checks for existence.
        assert_ne!(unsafe { libc::kill(pid as libc::pid_t, 0) }, 0);
    }

    fn tempfile_log() -> File {
        let path =
            std::env::temp_dir().join(format!("shoal-bench-test-{}.log", std::process::id()));
        File::create(path).unwrap()
    }
}
