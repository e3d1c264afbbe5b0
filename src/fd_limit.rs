//! Fitting `maxclients` to the descriptors the process may open, as
//! Redis's `adjustOpenFilesLimit` does: raise `RLIMIT_NOFILE` to what the
//! clients need, and where the system refuses, lower `maxclients` to what
//! fits. A client past the limit then gets "max number of clients reached"
//! instead of waiting unanswered in the listen backlog.

/// Descriptors kept for everything but clients (Redis's
/// `CONFIG_MIN_RESERVED_FDS`): standard streams, files, the first worker's
/// ring or epoll, waker and listeners.
const RESERVED_FDS: u64 = 32;
/// Descriptors each further worker keeps: its ring or epoll, its waker
/// and its listeners.
const RESERVED_FDS_PER_WORKER: u64 = 4;

/// Descriptors reserved for everything but clients with `workers` workers.
fn reserved(workers: usize) -> u64 {
    RESERVED_FDS + RESERVED_FDS_PER_WORKER * (workers.max(1) as u64 - 1)
}

/// What fitting `maxclients` to the descriptor limit found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fit {
    /// The limit already allowed it, or was raised to: lines to log.
    Fits(Vec<String>),
    /// The limit allows only `max_clients` clients: lines to log.
    Reduced { max_clients: u64, log: Vec<String> },
    /// Not even one client fits: why the server cannot start.
    TooFew(String),
}

impl Fit {
    /// Writes what fitting did to the server log (a refusal to start is
    /// the caller's to report).
    pub fn log(&self) {
        if let Fit::Fits(log) | Fit::Reduced { log, .. } = self {
            for line in log {
                eprintln!("shoal-server: {line}");
            }
        }
    }
}

/// Raises the descriptor limit for `max_clients` clients with `workers`
/// workers where it is lower, and says what fits.
pub fn fit_max_clients(max_clients: u64, workers: usize) -> Fit {
    let reserved = reserved(workers);
    let wanted = max_clients.saturating_add(reserved);
    let refusal = match raise_nofile(wanted) {
        Ok(RaiseOutcome::AlreadyEnough) => return Fit::Fits(Vec::new()),
        Ok(RaiseOutcome::Raised { from }) => {
            return Fit::Fits(vec![format!(
            "Increased maximum number of open files to {wanted} (it was originally set to {from})."
        )])
        }
        Err(refused) => refused,
    };
    let Refusal {
        before,
        granted,
        error,
    } = refusal;
    if granted <= reserved {
        return Fit::TooFew(format!(
            "Your current 'ulimit -n' of {before} is not enough for the server to start. \
             Please increase your open file limit to at least {wanted}. Exiting."
        ));
    }
    let reduced = granted - reserved;
    Fit::Reduced {
        max_clients: reduced,
        log: vec![
            format!(
                "You requested maxclients of {max_clients} requiring at least {wanted} max file descriptors."
            ),
            format!(
                "Server can't set maximum open files to {wanted} because of OS error: {error}."
            ),
            format!(
                "Current maximum open files is {granted}. maxclients has been reduced to {reduced} \
                 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
            ),
        ],
    }
}

/// A raise that succeeded.
enum RaiseOutcome {
    AlreadyEnough,
    Raised { from: u64 },
}

/// A raise the system refused: the limit before and now, and why.
struct Refusal {
    before: u64,
    granted: u64,
    error: std::io::Error,
}

/// Raises the soft `RLIMIT_NOFILE` to `wanted` (the hard one too where it
/// is lower and the process may); on refusal, the soft limit goes as high
/// as the hard one allows.
fn raise_nofile(wanted: u64) -> Result<RaiseOutcome, Refusal> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given, which we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        // Redis assumes 1024 when it cannot read the limit.
        let error = std::io::Error::last_os_error();
        return Err(Refusal {
            before: 1024,
            granted: 1024,
            error,
        });
    }
    let (current, hard) = (limit.rlim_cur, limit.rlim_max);
    if current >= wanted {
        return Ok(RaiseOutcome::AlreadyEnough);
    }
    let set = |soft: u64, hard: u64| {
        let limit = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit only reads the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    let error = match set(wanted, hard.max(wanted)) {
        Ok(()) => return Ok(RaiseOutcome::Raised { from: current }),
        Err(error) => error,
    };
    // Raising the hard limit needs privilege; the soft one may still rise
    // as far as the hard one.
    let granted = if hard > current && set(hard, hard).is_ok() {
        hard
    } else {
        current
    };
    Err(Refusal {
        before: current,
        granted,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_worker_keeps_redis_reserve_and_each_further_one_its_own() {
        assert_eq!(reserved(1), 32);
        assert_eq!(reserved(0), 32);
        assert_eq!(reserved(16), 32 + 15 * 4);
    }

    #[test]
    fn a_limit_already_high_enough_is_left_alone() {
        // One client always fits the limit this test process runs under.
        assert_eq!(fit_max_clients(1, 1), Fit::Fits(Vec::new()));
    }
}
