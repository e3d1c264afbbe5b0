//! The slow log: commands that ran longer than `slowlog-log-slower-than`.
//! Entries are rare, so one shared, locked list serves every worker.

use std::collections::VecDeque;

/// Arguments kept per entry, as Redis's `SLOWLOG_ENTRY_MAX_ARGC`.
const ARGS_MAX: usize = 32;
/// Bytes kept per argument, as Redis's `SLOWLOG_ENTRY_MAX_STRING`.
const ARG_BYTES_MAX: usize = 128;

/// One slow command.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    /// Increasing id.
    pub id: u64,
    /// Unix seconds when it ran.
    pub timestamp_s: u64,
    /// How long it ran.
    pub duration_us: u64,
    /// Its arguments, trimmed as Redis trims them.
    pub args: Vec<Vec<u8>>,
    /// The client's address.
    pub client_addr: String,
    /// The client's name.
    pub client_name: Vec<u8>,
}

/// The slow log itself.
#[derive(Debug, Default)]
pub struct SlowLog {
    next_id: u64,
    entries: VecDeque<SlowEntry>,
}

/// Trims arguments the way Redis stores them in the slow log.
fn trimmed_args(args: &[&[u8]]) -> Vec<Vec<u8>> {
    let kept = if args.len() > ARGS_MAX {
        ARGS_MAX - 1
    } else {
        args.len()
    };
    let mut trimmed: Vec<Vec<u8>> = args[..kept]
        .iter()
        .map(|arg| {
            if arg.len() <= ARG_BYTES_MAX {
                return arg.to_vec();
            }
            let mut short = arg[..ARG_BYTES_MAX].to_vec();
            short.extend_from_slice(
                format!("... ({} more bytes)", arg.len() - ARG_BYTES_MAX).as_bytes(),
            );
            short
        })
        .collect();
    if kept < args.len() {
        trimmed.push(format!("... ({} more arguments)", args.len() - kept).into_bytes());
    }
    trimmed
}

impl SlowLog {
    /// Records a slow command, keeping at most `max_len` entries.
    pub fn record(
        &mut self,
        args: &[&[u8]],
        duration_us: u64,
        timestamp_s: u64,
        client: (&str, &[u8]),
        max_len: usize,
    ) {
        let entry = SlowEntry {
            id: self.next_id,
            timestamp_s,
            duration_us,
            args: trimmed_args(args),
            client_addr: client.0.to_string(),
            client_name: client.1.to_vec(),
        };
        self.next_id += 1;
        self.entries.push_front(entry);
        self.entries.truncate(max_len);
    }

    /// The newest `count` entries (all when `None`).
    pub fn newest(&self, count: Option<usize>) -> Vec<SlowEntry> {
        self.entries
            .iter()
            .take(count.unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Forgets every entry.
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_arguments_and_argument_lists_are_trimmed_as_redis_does() {
        let long = vec![b'x'; 130];
        let trimmed = trimmed_args(&[b"SET", &long]);
        assert_eq!(trimmed[1].len(), 128 + "... (2 more bytes)".len());
        let many: Vec<&[u8]> = (0..40).map(|_| &b"a"[..]).collect();
        let trimmed = trimmed_args(&many);
        assert_eq!(trimmed.len(), 32);
        assert_eq!(trimmed[31], b"... (9 more arguments)".to_vec());
    }

    #[test]
    fn newest_first_and_bounded() {
        let mut log = SlowLog::default();
        for i in 0..5u64 {
            log.record(&[b"GET"], i, 0, ("addr", b""), 3);
        }
        let entries = log.newest(None);
        assert_eq!(
            entries.iter().map(|e| e.id).collect::<Vec<_>>(),
            vec![4, 3, 2]
        );
        assert_eq!(log.newest(Some(1)).len(), 1);
    }
}
