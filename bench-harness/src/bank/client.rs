//! One thread's bank clients: each a small state machine over a
//! non-blocking connection, all driven by one `mio::Poll`.
//!
//! A client always has exactly one batch of requests in flight (the
//! requests of one step, written together) and decides its next step from
//! the batch's replies only once they are all in. The decisions are the
//! pure functions [`judge_read`] and [`judge_write`], tested on their own.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mio::{Events, Interest, Poll, Token};
use shoal_protocol::{encode_request, parse_i64, Reply, ReplyParser};

use super::args::Mode;
use crate::rng::Rng;
use crate::signals;
use crate::stats::new_histogram;

/// Error messages kept verbatim per run; later ones are only counted.
pub const ERROR_SAMPLES_MAX: usize = 5;

/// Two distinct accounts out of `accounts` (at least 2), uniform over all
/// ordered pairs.
pub fn pick_pair(rng: &mut Rng, accounts: u64) -> (u64, u64) {
    debug_assert!(accounts >= 2);
    let from = rng.below(accounts);
    let mut to = rng.below(accounts - 1);
    if to >= from {
        to += 1;
    }
    (from, to)
}

/// One transfer: `amount` from account `from` to account `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// Debited account.
    pub from: u64,
    /// Credited account.
    pub to: u64,
    /// Amount moved, at least 1.
    pub amount: i64,
}

/// What the replies to the read step say to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadVerdict {
    /// Funds suffice: send the write step.
    Proceed,
    /// The debited account holds less than the amount: release and move on.
    Declined,
}

/// How a write step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteVerdict {
    /// Applied.
    Committed,
    /// Someone else changed a key first; nothing was applied: retry.
    Conflict,
}

/// A reply as a person reads it: `+OK`, `-ERR …`, `:5`, `"10"`, `(nil)`.
pub fn show(reply: &Reply) -> String {
    match reply {
        Reply::Simple(text) => format!("+{}", String::from_utf8_lossy(text)),
        Reply::Error(text) => format!("-{}", String::from_utf8_lossy(text)),
        Reply::Integer(n) => format!(":{n}"),
        Reply::Bulk(bytes) => format!("{:?}", String::from_utf8_lossy(bytes)),
        Reply::Null => "(nil)".into(),
        Reply::NullArray => "(nil array)".into(),
        Reply::Array(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}

fn expect_simple(reply: &Reply, want: &[u8], what: &str) -> Result<(), String> {
    match reply {
        Reply::Simple(text) if text == want => Ok(()),
        other => Err(format!(
            "{what} replied {} instead of +{}",
            show(other),
            String::from_utf8_lossy(want)
        )),
    }
}

/// A balance as GET returns it: a bulk string holding an integer.
pub fn balance(reply: &Reply, key: &str) -> Result<i64, String> {
    match reply {
        Reply::Bulk(bytes) => parse_i64(bytes)
            .ok_or_else(|| format!("GET {key} replied {}, not an integer", show(reply))),
        Reply::Null => Err(format!("GET {key} replied (nil): the account is missing")),
        other => Err(format!("GET {key} replied {}", show(other))),
    }
}

/// Judges the replies to the read step (`WATCH|BEGIN`, `GET from`, `GET to`).
pub fn judge_read(mode: Mode, replies: &[Reply], amount: i64) -> Result<ReadVerdict, String> {
    let opener = match mode {
        Mode::Multi => "WATCH",
        Mode::Begin => "BEGIN",
        Mode::MultiBlind => return Err("multi-blind has no read step".into()),
    };
    let [open, from, to] = replies else {
        return Err(format!("{} replies to the read step, not 3", replies.len()));
    };
    expect_simple(open, b"OK", opener)?;
    let from = balance(from, "from")?;
    balance(to, "to")?;
    Ok(if from < amount {
        ReadVerdict::Declined
    } else {
        ReadVerdict::Proceed
    })
}

/// Judges the replies to the write step.
pub fn judge_write(mode: Mode, replies: &[Reply]) -> Result<WriteVerdict, String> {
    let integer = |reply: &Reply, what: &str| match reply {
        Reply::Integer(_) => Ok(()),
        other => Err(format!("{what} replied {}", show(other))),
    };
    match mode {
        Mode::Multi | Mode::MultiBlind => {
            let [multi, first, second, exec] = replies else {
                return Err(format!("{} replies to MULTI…EXEC, not 4", replies.len()));
            };
            expect_simple(multi, b"OK", "MULTI")?;
            expect_simple(first, b"QUEUED", "the first queued command")?;
            expect_simple(second, b"QUEUED", "the second queued command")?;
            match exec {
                Reply::NullArray | Reply::Null if mode == Mode::Multi => Ok(WriteVerdict::Conflict),
                Reply::Array(items) if items.len() == 2 => {
                    integer(&items[0], "the debit inside EXEC")?;
                    integer(&items[1], "the credit inside EXEC")?;
                    Ok(WriteVerdict::Committed)
                }
                other => Err(format!("EXEC replied {}", show(other))),
            }
        }
        Mode::Begin => {
            let [debit, credit, commit] = replies else {
                return Err(format!(
                    "{} replies to INCRBY, INCRBY, COMMIT, not 3",
                    replies.len()
                ));
            };
            integer(debit, "INCRBY (debit) inside BEGIN")?;
            integer(credit, "INCRBY (credit) inside BEGIN")?;
            match commit {
                Reply::Simple(text) if text == b"OK" => Ok(WriteVerdict::Committed),
                Reply::Error(text) if text.starts_with(b"CONFLICT") => Ok(WriteVerdict::Conflict),
                other => Err(format!("COMMIT replied {}", show(other))),
            }
        }
    }
}

/// Appends the read step's requests.
pub fn encode_read(mode: Mode, from: &str, to: &str, out: &mut Vec<u8>) -> usize {
    match mode {
        Mode::Multi => encode_request(&[b"WATCH", from.as_bytes(), to.as_bytes()], out),
        Mode::Begin => encode_request(&[b"BEGIN"], out),
        Mode::MultiBlind => return 0,
    }
    encode_request(&[b"GET", from.as_bytes()], out);
    encode_request(&[b"GET", to.as_bytes()], out);
    3
}

/// Appends the write step's requests; returns how many replies they owe.
pub fn encode_write(mode: Mode, from: &str, to: &str, amount: i64, out: &mut Vec<u8>) -> usize {
    let mut buf = itoa::Buffer::new();
    let amount_text = buf.format(amount).to_string();
    let negative = format!("-{amount_text}");
    match mode {
        Mode::Multi => {
            encode_request(&[b"MULTI"], out);
            encode_request(&[b"INCRBY", from.as_bytes(), negative.as_bytes()], out);
            encode_request(&[b"INCRBY", to.as_bytes(), amount_text.as_bytes()], out);
            encode_request(&[b"EXEC"], out);
            4
        }
        Mode::MultiBlind => {
            encode_request(&[b"MULTI"], out);
            encode_request(&[b"DECRBY", from.as_bytes(), amount_text.as_bytes()], out);
            encode_request(&[b"INCRBY", to.as_bytes(), amount_text.as_bytes()], out);
            encode_request(&[b"EXEC"], out);
            4
        }
        Mode::Begin => {
            encode_request(&[b"INCRBY", from.as_bytes(), negative.as_bytes()], out);
            encode_request(&[b"INCRBY", to.as_bytes(), amount_text.as_bytes()], out);
            encode_request(&[b"COMMIT"], out);
            3
        }
    }
}

/// Appends the request that ends a read step whose transfer is declined.
pub fn encode_release(mode: Mode, out: &mut Vec<u8>) {
    match mode {
        Mode::Begin => encode_request(&[b"ROLLBACK"], out),
        Mode::Multi | Mode::MultiBlind => encode_request(&[b"UNWATCH"], out),
    }
}

/// What one thread's clients did.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Transfers committed.
    pub committed: u64,
    /// Write steps sent (EXEC or COMMIT attempts).
    pub attempts: u64,
    /// Attempts that ended in a conflict (and were retried).
    pub conflicts: u64,
    /// Transfers given up because the debited account was short.
    pub declined: u64,
    /// Errors: error replies other than conflicts, replies of the wrong
    /// shape, lost connections, replies that never came.
    pub errors: u64,
    /// The first few error messages.
    pub error_samples: Vec<String>,
    /// From a transfer's first request to its commit, retries included.
    pub latency_ns: Histogram<u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            committed: 0,
            attempts: 0,
            conflicts: 0,
            declined: 0,
            errors: 0,
            error_samples: Vec::new(),
            latency_ns: new_histogram(),
        }
    }
}

impl Tally {
    /// Counts an error, keeping its text if it is among the first few.
    pub fn error(&mut self, message: String) {
        self.errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES_MAX {
            self.error_samples.push(message);
        }
    }

    /// Adds `other` into this one.
    pub fn merge(&mut self, other: &Tally) {
        self.committed += other.committed;
        self.attempts += other.attempts;
        self.conflicts += other.conflicts;
        self.declined += other.declined;
        self.errors += other.errors;
        for sample in &other.error_samples {
            if self.error_samples.len() < ERROR_SAMPLES_MAX {
                self.error_samples.push(sample.clone());
            }
        }
        self.latency_ns
            .add(&other.latency_ns)
            .expect("histograms with equal bounds add");
    }
}

/// Which step a client's batch in flight belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Read,
    Write,
    Release,
    Done,
}

/// What a thread's clients share: the workload.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The mode.
    pub mode: Mode,
    /// Account keys, by index.
    pub keys: Vec<String>,
    /// Largest amount.
    pub max_amount: i64,
}

struct Client {
    stream: mio::net::TcpStream,
    out: Vec<u8>,
    written: usize,
    input: Vec<u8>,
    owed: usize,
    replies: Vec<Reply>,
    step: Step,
    transfer: Transfer,
    started: Instant,
    rng: Rng,
}

impl Client {
    fn new_transfer(&mut self, workload: &Workload) {
        let (from, to) = pick_pair(&mut self.rng, workload.keys.len() as u64);
        let amount = self.rng.between(1, workload.max_amount as u64) as i64;
        self.transfer = Transfer { from, to, amount };
        self.started = Instant::now();
    }

    fn keys<'w>(&self, workload: &'w Workload) -> (&'w str, &'w str) {
        (
            &workload.keys[self.transfer.from as usize],
            &workload.keys[self.transfer.to as usize],
        )
    }

    /// Queues the first step of the current transfer.
    fn send_first(&mut self, workload: &Workload) {
        let (from, to) = self.keys(workload);
        match workload.mode {
            Mode::MultiBlind => self.send_write(workload),
            mode => {
                self.owed = encode_read(mode, from, to, &mut self.out);
                self.step = Step::Read;
            }
        }
    }

    fn send_write(&mut self, workload: &Workload) {
        let (from, to) = self.keys(workload);
        self.owed = encode_write(workload.mode, from, to, self.transfer.amount, &mut self.out);
        self.step = Step::Write;
    }

    /// Writes what is queued; `Ok` also when the socket is full.
    fn flush(&mut self) -> io::Result<()> {
        while self.written < self.out.len() {
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.written = 0;
        Ok(())
    }

    /// Reads until the socket is empty, parsing replies as they complete.
    fn read(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(n) => self.input.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading: {e}")),
            }
        }
        let mut used = 0;
        while let Some((reply, len)) = ReplyParser::default()
            .parse(&self.input[used..])
            .map_err(|e| format!("invalid reply: {e}"))?
        {
            used += len;
            if self.owed == 0 {
                return Err(format!("an unexpected reply: {}", show(&reply)));
            }
            self.owed -= 1;
            self.replies.push(reply);
        }
        self.input.drain(..used);
        Ok(())
    }

    /// Acts on a complete batch of replies: queues the next one, or stops.
    fn advance(&mut self, workload: &Workload, stopping: bool, tally: &mut Tally) {
        let replies = std::mem::take(&mut self.replies);
        let next = match self.step {
            Step::Read => match judge_read(workload.mode, &replies, self.transfer.amount) {
                Ok(ReadVerdict::Proceed) => {
                    tally.attempts += 1;
                    self.send_write(workload);
                    return;
                }
                Ok(ReadVerdict::Declined) => {
                    tally.declined += 1;
                    encode_release(workload.mode, &mut self.out);
                    self.owed = 1;
                    self.step = Step::Release;
                    return;
                }
                Err(message) => Err(message),
            },
            Step::Write => {
                if workload.mode == Mode::MultiBlind {
                    tally.attempts += 1;
                }
                match judge_write(workload.mode, &replies) {
                    Ok(WriteVerdict::Committed) => {
                        tally.committed += 1;
                        let ns = self.started.elapsed().as_nanos();
                        tally
                            .latency_ns
                            .saturating_record(u64::try_from(ns).unwrap_or(u64::MAX).max(1));
                        Ok(true)
                    }
                    Ok(WriteVerdict::Conflict) => {
                        tally.conflicts += 1;
                        Ok(false)
                    }
                    Err(message) => Err(message),
                }
            }
            Step::Release => match &replies[..] {
                [Reply::Simple(ok)] if ok == b"OK" => Ok(true),
                other => Err(format!(
                    "{} replied {}",
                    match workload.mode {
                        Mode::Begin => "ROLLBACK",
                        _ => "UNWATCH",
                    },
                    other.iter().map(show).collect::<Vec<_>>().join(", ")
                )),
            },
            Step::Done => return,
        };
        match next {
            Err(message) => {
                tally.error(message);
                self.step = Step::Done;
            }
            Ok(_) if stopping => self.step = Step::Done,
            Ok(finished) => {
                if finished {
                    self.new_transfer(workload);
                }
                self.send_first(workload);
            }
        }
    }
}

/// Runs `streams` (connected, set up, blocking) as clients until `deadline`,
/// then lets each finish the batch it has in flight (up to `drain`).
pub fn run_thread(
    streams: Vec<std::net::TcpStream>,
    workload: &Workload,
    seeds: &[u64],
    deadline: Instant,
    drain: Duration,
) -> Tally {
    let mut tally = Tally::default();
    let mut poll = match Poll::new() {
        Ok(poll) => poll,
        Err(e) => {
            tally.error(format!("creating a poller: {e}"));
            return tally;
        }
    };
    let mut clients = Vec::with_capacity(streams.len());
    for (index, stream) in streams.into_iter().enumerate() {
        let registered = stream.set_nonblocking(true).and_then(|()| {
            let mut stream = mio::net::TcpStream::from_std(stream);
            poll.registry()
                .register(
                    &mut stream,
                    Token(index),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .map(|()| stream)
        });
        match registered {
            Ok(stream) => clients.push(Client {
                stream,
                out: Vec::with_capacity(512),
                written: 0,
                input: Vec::with_capacity(4096),
                owed: 0,
                replies: Vec::with_capacity(4),
                step: Step::Done,
                transfer: Transfer {
                    from: 0,
                    to: 1,
                    amount: 1,
                },
                started: Instant::now(),
                rng: Rng::new(seeds[index]),
            }),
            Err(e) => tally.error(format!("registering a connection: {e}")),
        }
    }
    for client in &mut clients {
        client.new_transfer(workload);
        client.send_first(workload);
        if let Err(e) = client.flush() {
            tally.error(format!("sending: {e}"));
            client.step = Step::Done;
        }
    }
    let mut events = Events::with_capacity(1024);
    let mut active = clients.iter().filter(|c| c.step != Step::Done).count();
    let mut stopped_at: Option<Instant> = None;
    while active > 0 {
        let now = Instant::now();
        if stopped_at.is_none() && (now >= deadline || signals::stop_requested()) {
            stopped_at = Some(now);
        }
        let stopping = stopped_at.is_some();
        if stopped_at.is_some_and(|at| now >= at + drain) {
            break;
        }
        let wait = if stopping {
            Duration::from_millis(50)
        } else {
            deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(100))
        };
        if let Err(e) = poll.poll(&mut events, Some(wait)) {
            if e.kind() != io::ErrorKind::Interrupted {
                tally.error(format!("polling: {e}"));
                break;
            }
        }
        for event in &events {
            let client = &mut clients[event.token().0];
            if client.step == Step::Done {
                continue;
            }
            let outcome = client
                .flush()
                .map_err(|e| format!("sending: {e}"))
                .and_then(|()| client.read());
            if let Err(message) = outcome {
                tally.error(message);
                client.step = Step::Done;
            } else if client.owed == 0 {
                client.advance(workload, stopping, &mut tally);
                if client.step != Step::Done {
                    if let Err(e) = client.flush() {
                        tally.error(format!("sending: {e}"));
                        client.step = Step::Done;
                    }
                }
            }
            if client.step == Step::Done {
                active -= 1;
                let _ = poll.registry().deregister(&mut client.stream);
            }
        }
    }
    let unanswered = clients.iter().filter(|c| c.step != Step::Done).count();
    if unanswered > 0 {
        tally.error(format!(
            "{unanswered} clients still waited for replies {drain:?} after the end"
        ));
        tally.errors += unanswered as u64 - 1;
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Reply {
        Reply::Simple(b"OK".to_vec())
    }

    fn queued() -> Reply {
        Reply::Simple(b"QUEUED".to_vec())
    }

    fn bulk(text: &str) -> Reply {
        Reply::Bulk(text.as_bytes().to_vec())
    }

    #[test]
    fn pairs_are_distinct_in_range_and_cover_every_ordered_pair() {
        let mut rng = Rng::new(1);
        let mut seen = [[0u32; 4]; 4];
        for _ in 0..40_000 {
            let (a, b) = pick_pair(&mut rng, 4);
            assert_ne!(a, b);
            assert!(a < 4 && b < 4);
            seen[a as usize][b as usize] += 1;
        }
        for (a, row) in seen.iter().enumerate() {
            for (b, &count) in row.iter().enumerate() {
                if a == b {
                    assert_eq!(count, 0);
                } else {
                    // 12 ordered pairs, about 3333 each.
                    assert!((3000..3700).contains(&count), "{a}->{b}: {count}");
                }
            }
        }
        let mut two = Rng::new(2);
        for _ in 0..100 {
            let (a, b) = pick_pair(&mut two, 2);
            assert_eq!(a + b, 1);
        }
    }

    #[test]
    fn read_step_proceeds_declines_or_fails() {
        let replies = [ok(), bulk("50"), bulk("7")];
        assert_eq!(
            judge_read(Mode::Multi, &replies, 50),
            Ok(ReadVerdict::Proceed)
        );
        assert_eq!(
            judge_read(Mode::Begin, &replies, 51),
            Ok(ReadVerdict::Declined)
        );
        let refused = [
            Reply::Error(b"ERR unknown command 'BEGIN'".to_vec()),
            bulk("50"),
            bulk("7"),
        ];
        let error = judge_read(Mode::Begin, &refused, 1).unwrap_err();
        assert!(error.contains("BEGIN") && error.contains("unknown command"));
        assert!(judge_read(Mode::Multi, &[ok(), Reply::Null, bulk("1")], 1)
            .unwrap_err()
            .contains("missing"));
        assert!(judge_read(Mode::Multi, &[ok(), bulk("x"), bulk("1")], 1).is_err());
        assert!(judge_read(Mode::Multi, &[ok()], 1).is_err());
    }

    #[test]
    fn write_step_commits_conflicts_or_fails() {
        let exec = |reply: Reply| vec![ok(), queued(), queued(), reply];
        let applied = Reply::Array(vec![Reply::Integer(5), Reply::Integer(9)]);
        assert_eq!(
            judge_write(Mode::Multi, &exec(applied.clone())),
            Ok(WriteVerdict::Committed)
        );
        assert_eq!(
            judge_write(Mode::Multi, &exec(Reply::NullArray)),
            Ok(WriteVerdict::Conflict)
        );
        // Without WATCH a null EXEC cannot happen: it is an error.
        assert!(judge_write(Mode::MultiBlind, &exec(Reply::NullArray)).is_err());
        assert_eq!(
            judge_write(Mode::MultiBlind, &exec(applied)),
            Ok(WriteVerdict::Committed)
        );
        let half = Reply::Array(vec![
            Reply::Integer(5),
            Reply::Error(b"ERR value is not an integer or out of range".to_vec()),
        ]);
        assert!(judge_write(Mode::Multi, &exec(half))
            .unwrap_err()
            .contains("credit"));
        let begin = |commit: Reply| vec![Reply::Integer(1), Reply::Integer(2), commit];
        assert_eq!(
            judge_write(Mode::Begin, &begin(ok())),
            Ok(WriteVerdict::Committed)
        );
        assert_eq!(
            judge_write(
                Mode::Begin,
                &begin(Reply::Error(b"CONFLICT transaction aborted".to_vec()))
            ),
            Ok(WriteVerdict::Conflict)
        );
        assert!(judge_write(
            Mode::Begin,
            &begin(Reply::Error(b"TXABORTED transaction aborted".to_vec()))
        )
        .unwrap_err()
        .contains("COMMIT"));
    }

    #[test]
    fn steps_encode_the_documented_commands() {
        let mut out = Vec::new();
        assert_eq!(encode_read(Mode::Multi, "a:1", "a:2", &mut out), 3);
        assert_eq!(
            out,
            b"*3\r\n$5\r\nWATCH\r\n$3\r\na:1\r\n$3\r\na:2\r\n\
              *2\r\n$3\r\nGET\r\n$3\r\na:1\r\n*2\r\n$3\r\nGET\r\n$3\r\na:2\r\n"
        );
        out.clear();
        assert_eq!(encode_write(Mode::Begin, "a:1", "a:2", 12, &mut out), 3);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("INCRBY\r\n$3\r\na:1\r\n$3\r\n-12\r\n"));
        assert!(text.contains("INCRBY\r\n$3\r\na:2\r\n$2\r\n12\r\n"));
        assert!(text.ends_with("*1\r\n$6\r\nCOMMIT\r\n"));
        out.clear();
        assert_eq!(encode_write(Mode::MultiBlind, "a", "b", 3, &mut out), 4);
        assert!(String::from_utf8(out).unwrap().contains("DECRBY"));
    }

    #[test]
    fn tallies_merge_and_keep_only_the_first_errors() {
        let mut a = Tally {
            committed: 3,
            ..Tally::default()
        };
        a.latency_ns.record(1_000).unwrap();
        let mut b = Tally {
            committed: 4,
            conflicts: 2,
            ..Tally::default()
        };
        for n in 0..ERROR_SAMPLES_MAX + 2 {
            b.error(format!("e{n}"));
        }
        a.merge(&b);
        assert_eq!(a.committed, 7);
        assert_eq!(a.conflicts, 2);
        assert_eq!(a.errors, ERROR_SAMPLES_MAX as u64 + 2);
        assert_eq!(a.error_samples.len(), ERROR_SAMPLES_MAX);
        assert_eq!(a.latency_ns.len(), 1);
    }
}
