//! A process's CPU time from `/proc/PID/stat`: user plus system time, the
//! figure `compare` divides by the operations a server served.

use std::time::Duration;

use crate::error::{BenchError, Result};

/// User plus system CPU time `pid` has used so far.
pub fn cpu_time(pid: u32) -> Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let text =
        std::fs::read_to_string(&path).map_err(|e| BenchError::io(format!("reading {path}"), e))?;
    let ticks = parse_cpu_ticks(&text)
        .ok_or_else(|| BenchError::protocol(format!("{path}: unexpected format")))?;
    Ok(ticks_to_duration(ticks, clock_ticks_per_second()))
}

/// utime + stime, in clock ticks, from the text of `/proc/PID/stat`. The
/// command name (field 2) may hold spaces and parentheses, so fields are
/// counted from the last `)`: utime and stime are fields 14 and 15 of the
/// file, the 12th and 13th after the name.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// `sysconf(_SC_CLK_TCK)`, 100 where it cannot be read.
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions; it returns -1 on error.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as u64
    } else {
        100
    }
}

fn ticks_to_duration(ticks: u64, per_second: u64) -> Duration {
    Duration::from_secs(ticks / per_second)
        + Duration::from_nanos((ticks % per_second) * 1_000_000_000 / per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utime_and_stime_are_read_after_the_name() {
        let stat = "4242 (shoal (x) srv) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                    250 75 0 0 20 0 3 0 12345 1000000 500 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(325));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn ticks_convert_to_time() {
        assert_eq!(ticks_to_duration(325, 100), Duration::from_millis(3_250));
    }

    #[test]
    fn this_process_has_a_cpu_time() {
        assert!(cpu_time(std::process::id()).is_ok());
    }
}
