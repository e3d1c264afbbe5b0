//! The load itself: threads × connections × pipeline, each thread driving
//! its connections with non-blocking sockets under one `mio::Poll`.
//!
//! Closed loop (the default): a connection keeps `--pipeline` requests in
//! flight and sends the next as soon as a reply frees a slot; latency runs
//! from the write to the reply.
//!
//! Open loop (`--rate`, `--rate-limiting`): each connection has a schedule,
//! one request every 1/rate seconds, and latency runs from when a request
//! was *due*, not from when it was sent. A stalled server leaves requests
//! waiting for a free pipeline slot, and that wait is counted: coordinated
//! omission does not hide stalls (the approach of wrk2).
//!
//! Costs per request are kept to an expansion into a reused buffer, a scan
//! of the reply, and a histogram increment; syscalls are one read and one
//! write per connection per wake-up. Reads stop at a short read instead of
//! reading again to see `WouldBlock`: with edge-triggered readiness, data
//! arriving later raises a new event.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::args::{Config, Length, Pace};
use crate::conn::{self, ReadBuf};
use crate::data::Values;
use crate::error::{BenchError, Result};
use crate::keys::KeyGen;
use crate::resp::{scan_reply, ReplyKind};
use crate::rng::Rng;
use crate::signals;
use crate::stats::CmdStats;
use crate::template::{Sequencer, Workload};

/// Most readiness events taken per wake-up.
const EVENTS_MAX: usize = 1024;
/// The longest a thread sleeps before looking at the stop flag again.
const CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// Open loop: below this much time to the next due request, the thread
/// polls without sleeping, because `epoll_wait` sleeps in whole milliseconds.
const SPIN_NS: u64 = 2_000_000;
/// How often the main thread reports progress.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);
/// Most error reply texts printed with `--debug`, per thread.
const DEBUG_ERRORS_MAX: u32 = 20;
/// Most bytes of an error reply kept for the report.
const ERROR_TEXT_BYTES_MAX: usize = 200;

/// What all threads together did.
#[derive(Debug)]
pub struct Outcome {
    /// Per template, merged over threads.
    pub stats: Vec<CmdStats>,
    /// From the start to the last reply of the slowest thread.
    pub elapsed: Duration,
    /// Connections lost while running.
    pub connection_errors: u64,
    /// Requests sent whose reply never came (connection lost, or still
    /// owed when the drain timeout ran out).
    pub lost: u64,
    /// The first error reply or connection failure, as text.
    pub first_error: Option<String>,
    /// Whether a signal stopped the run early.
    pub interrupted: bool,
}

/// Where workers wait, set up, until the main thread starts the clock.
/// Unlike a `Barrier` it counts only the threads that exist, so a thread
/// that failed to start cannot leave the others waiting forever.
#[derive(Default)]
struct Gate {
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Gate {
    /// A worker is set up (or failed to be).
    fn arrive(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.0 += 1;
        }
        self.changed.notify_all();
    }

    /// The main thread waits for `count` workers.
    fn wait_for(&self, count: usize) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        while state.0 < count {
            match self.changed.wait(state) {
                Ok(next) => state = next,
                Err(_) => return,
            }
        }
    }

    /// The main thread lets the workers go.
    fn open(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.1 = true;
        }
        self.changed.notify_all();
    }

    /// A worker waits to be let go.
    fn wait_open(&self) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        while !state.1 {
            match self.changed.wait(state) {
                Ok(next) => state = next,
                Err(_) => return,
            }
        }
    }
}

/// State shared by the main thread and the workers.
struct Shared {
    gate: Gate,
    failed: AtomicBool,
    failure: Mutex<Option<BenchError>>,
    stop: AtomicBool,
    replies: Vec<AtomicU64>,
}

/// Runs `workload` as `config` says. `on_start` runs once every connection
/// is set up, just before the clock starts; `progress` gets the replies so
/// far and the time since the start, about once a second.
pub fn run(
    config: &Config,
    workload: &Workload,
    on_start: &mut dyn FnMut(),
    progress: &mut dyn FnMut(u64, Duration),
) -> Result<Outcome> {
    let addr = conn::resolve(config)?;
    let threads = config.threads as usize;
    let shared = Shared {
        gate: Gate::default(),
        failed: AtomicBool::new(false),
        failure: Mutex::new(None),
        stop: AtomicBool::new(false),
        replies: (0..threads).map(|_| AtomicU64::new(0)).collect(),
    };
    let outcomes = std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(threads);
        for thread in 0..threads {
            let shared = &shared;
            let spawned = std::thread::Builder::new()
                .name(format!("load-{thread}"))
                .spawn_scoped(scope, move || {
                    worker(thread, config, workload, addr, shared)
                });
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(error) => {
                    shared.failed.store(true, Ordering::Relaxed);
                    if let Ok(mut failure) = shared.failure.lock() {
                        failure.get_or_insert(BenchError::io("starting a load thread", error));
                    }
                    break;
                }
            }
        }
        shared.gate.wait_for(handles.len());
        if !shared.failed.load(Ordering::Relaxed) {
            on_start();
        }
        let started = Instant::now();
        shared.gate.open();
        watch(&shared, &handles, started, progress);
        let mut outcomes = Vec::with_capacity(threads);
        for handle in handles {
            match handle.join() {
                Ok(outcome) => outcomes.push(outcome),
                Err(_) => return Err(BenchError::protocol("a load thread panicked")),
            }
        }
        Ok(outcomes)
    })?;
    if let Some(error) = shared.failure.lock().ok().and_then(|mut f| f.take()) {
        return Err(error);
    }
    Ok(merge(outcomes, workload.templates.len()))
}

/// Waits for the workers, passing on Ctrl-C and reporting progress.
fn watch(
    shared: &Shared,
    handles: &[std::thread::ScopedJoinHandle<'_, ThreadOutcome>],
    started: Instant,
    progress: &mut dyn FnMut(u64, Duration),
) {
    let mut next_report = PROGRESS_INTERVAL;
    while !handles.iter().all(|h| h.is_finished()) {
        std::thread::sleep(Duration::from_millis(20));
        if signals::stop_requested() {
            shared.stop.store(true, Ordering::Relaxed);
        }
        let elapsed = started.elapsed();
        if elapsed >= next_report {
            next_report += PROGRESS_INTERVAL;
            let replies = shared
                .replies
                .iter()
                .map(|r| r.load(Ordering::Relaxed))
                .sum();
            progress(replies, elapsed);
        }
    }
}

fn merge(outcomes: Vec<ThreadOutcome>, templates: usize) -> Outcome {
    let mut stats: Vec<CmdStats> = (0..templates).map(|_| CmdStats::default()).collect();
    let mut outcome = Outcome {
        stats: Vec::new(),
        elapsed: Duration::ZERO,
        connection_errors: 0,
        lost: 0,
        first_error: None,
        interrupted: signals::stop_requested(),
    };
    for thread in outcomes {
        for (total, part) in stats.iter_mut().zip(&thread.stats) {
            total.merge(part);
        }
        outcome.elapsed = outcome.elapsed.max(thread.elapsed);
        outcome.connection_errors += thread.connection_errors;
        outcome.lost += thread.lost;
        if outcome.first_error.is_none() {
            outcome.first_error = thread.first_error;
        }
    }
    outcome.stats = stats;
    outcome
}

/// What one thread did.
#[derive(Debug, Default)]
struct ThreadOutcome {
    stats: Vec<CmdStats>,
    elapsed: Duration,
    connection_errors: u64,
    lost: u64,
    first_error: Option<String>,
}

fn worker(
    thread: usize,
    config: &Config,
    workload: &Workload,
    addr: SocketAddr,
    shared: &Shared,
) -> ThreadOutcome {
    let driver = Driver::connect(thread, config, workload, addr);
    let driver = match driver {
        Ok(driver) => Some(driver),
        Err(error) => {
            shared.failed.store(true, Ordering::Relaxed);
            if let Ok(mut failure) = shared.failure.lock() {
                failure.get_or_insert(error);
            }
            None
        }
    };
    shared.gate.arrive();
    shared.gate.wait_open();
    match driver {
        Some(mut driver) if !shared.failed.load(Ordering::Relaxed) => {
            driver.drive(&shared.stop, &shared.replies[thread]);
            driver.outcome()
        }
        _ => ThreadOutcome::default(),
    }
}

/// One request in flight: which template, and when its latency started.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    template: u32,
    since_ns: u64,
}

/// One connection while the load runs.
struct Conn {
    stream: TcpStream,
    out: Vec<u8>,
    out_sent: usize,
    input: ReadBuf,
    in_flight: VecDeque<InFlight>,
    remaining: u64,
    sequencer: Sequencer,
    keys: Vec<KeyGen>,
    rng: Rng,
    due_ns: u64,
    interval_ns: u64,
    open: bool,
    done: bool,
}

/// One thread's connections and what they recorded.
struct Driver<'a> {
    config: &'a Config,
    workload: &'a Workload,
    values: Values,
    prefix: Vec<u8>,
    conns: Vec<Conn>,
    stats: Vec<CmdStats>,
    poll: Poll,
    pipeline: usize,
    open_loop: bool,
    base: Instant,
    deadline_ns: Option<u64>,
    stopping: bool,
    drain_until_ns: u64,
    busy: usize,
    replies: u64,
    last_reply_ns: u64,
    connection_errors: u64,
    lost: u64,
    first_error: Option<String>,
    debug_errors: u32,
}

impl<'a> Driver<'a> {
    /// Opens and sets up this thread's connections.
    fn connect(
        thread: usize,
        config: &'a Config,
        workload: &'a Workload,
        addr: SocketAddr,
    ) -> Result<Driver<'a>> {
        let poll = Poll::new().map_err(|e| BenchError::io("creating a poller", e))?;
        let clients = config.clients as usize;
        let total = config.connections();
        let (open_loop, interval_ns) = match config.pace {
            Pace::Closed => (false, 0),
            Pace::PerConnection(rate) => (true, (1e9 / rate).max(1.0) as u64),
        };
        let mut conns = Vec::with_capacity(clients);
        for local in 0..clients {
            let global = (thread * clients + local) as u64;
            let stream = conn::connect(addr, config)?;
            stream
                .set_nonblocking(true)
                .map_err(|e| BenchError::io("making a socket non-blocking", e))?;
            let mut stream = TcpStream::from_std(stream);
            poll.registry()
                .register(
                    &mut stream,
                    Token(local),
                    Interest::READABLE | Interest::WRITABLE,
                )
                .map_err(|e| BenchError::io("registering a socket", e))?;
            let keys: Vec<KeyGen> = workload
                .templates
                .iter()
                .map(|t| KeyGen::new(t.key_pattern, &config.keys, global, total))
                .collect();
            let remaining = match config.length {
                Length::Requests(n) => n,
                Length::AllKeys => keys.first().map_or(0, |k| k.range().1 - k.range().0 + 1),
                Length::Time(_) => u64::MAX,
            };
            let seed_offset = if config.distinct_client_seed {
                global + 1
            } else {
                0
            };
            conns.push(Conn {
                stream,
                out: Vec::with_capacity(4096),
                out_sent: 0,
                input: ReadBuf::default(),
                in_flight: VecDeque::with_capacity(config.pipeline as usize),
                remaining,
                sequencer: Sequencer::default(),
                keys,
                rng: Rng::new(config.seed.wrapping_add(seed_offset)),
                // Stagger the schedules so connections do not fire together.
                due_ns: interval_ns.saturating_mul(global) / total.max(1),
                interval_ns,
                open: true,
                done: false,
            });
        }
        Ok(Driver {
            config,
            workload,
            values: Values::new(
                config.data_size.clone(),
                config.random_data,
                config.seed.wrapping_add(thread as u64),
            ),
            prefix: config.key_prefix.as_bytes().to_vec(),
            busy: conns.len(),
            conns,
            stats: workload
                .templates
                .iter()
                .map(|_| CmdStats::default())
                .collect(),
            poll,
            pipeline: config.pipeline as usize,
            open_loop,
            base: Instant::now(),
            deadline_ns: None,
            stopping: false,
            drain_until_ns: u64::MAX,
            replies: 0,
            last_reply_ns: 0,
            connection_errors: 0,
            lost: 0,
            first_error: None,
            debug_errors: 0,
        })
    }

    #[inline]
    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// Runs until every connection is done, the drain time ran out, or a
    /// poll error.
    fn drive(&mut self, stop: &AtomicBool, replies_seen: &AtomicU64) {
        self.base = Instant::now();
        if let Length::Time(time) = self.config.length {
            self.deadline_ns = Some(time.as_nanos() as u64);
        }
        let mut events = Events::with_capacity(EVENTS_MAX);
        let now = self.now_ns();
        for index in 0..self.conns.len() {
            self.service(index, now);
        }
        loop {
            let now = self.now_ns();
            let past_deadline = self.deadline_ns.is_some_and(|deadline| now >= deadline);
            if !self.stopping && (past_deadline || stop.load(Ordering::Relaxed)) {
                self.begin_stop(now);
            }
            if self.busy == 0 || (self.stopping && now >= self.drain_until_ns) {
                break;
            }
            let timeout = self.timeout(now);
            if let Err(error) = self.poll.poll(&mut events, Some(timeout)) {
                if error.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                for index in 0..self.conns.len() {
                    self.fail(index, format!("polling: {error}"));
                }
                break;
            }
            // A fresh clock per connection: replies are stamped when read and
            // requests when written, not when the wake-up began (handling
            // fifty connections can take a good part of a millisecond).
            for event in events.iter() {
                let index = event.token().0;
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    if let Err(message) = self.read(index, self.now_ns()) {
                        self.fail(index, message);
                    }
                }
                self.service(index, self.now_ns());
            }
            if self.open_loop {
                let now = self.now_ns();
                for index in 0..self.conns.len() {
                    self.service(index, now);
                }
            }
            replies_seen.store(self.replies, Ordering::Relaxed);
        }
        replies_seen.store(self.replies, Ordering::Relaxed);
    }

    /// Stops sending and gives owed replies until the drain timeout.
    fn begin_stop(&mut self, now: u64) {
        self.stopping = true;
        self.drain_until_ns = now.saturating_add(self.config.drain_timeout.as_nanos() as u64);
        for index in 0..self.conns.len() {
            self.update_done(index);
        }
    }

    /// How long to sleep in `poll`.
    fn timeout(&self, now: u64) -> Duration {
        let mut wake_ns = now + CHECK_INTERVAL.as_nanos() as u64;
        if self.stopping {
            wake_ns = wake_ns.min(self.drain_until_ns);
        } else if let Some(deadline) = self.deadline_ns {
            wake_ns = wake_ns.min(deadline);
        }
        if self.open_loop && !self.stopping {
            let pipeline = self.pipeline;
            let next_due = self
                .conns
                .iter()
                .filter(|c| c.open && c.remaining > 0 && c.in_flight.len() < pipeline)
                .map(|c| c.due_ns)
                .min();
            if let Some(due) = next_due {
                if due < now + SPIN_NS {
                    return Duration::ZERO;
                }
                // epoll sleeps whole milliseconds, rounding up: wake a
                // millisecond early and spin the rest.
                wake_ns = wake_ns.min(due - 1_000_000);
            }
        }
        Duration::from_nanos(wake_ns.saturating_sub(now))
    }

    /// Sends what the connection may send now and flushes it.
    #[inline]
    fn service(&mut self, index: usize, now: u64) {
        if !self.conns[index].open {
            return;
        }
        self.fill(index, now);
        if let Err(message) = self.flush(index) {
            self.fail(index, message);
        }
        self.update_done(index);
    }

    /// Appends requests until the pipeline is full (closed loop) or no
    /// request is due yet (open loop).
    #[inline]
    fn fill(&mut self, index: usize, now: u64) {
        if self.stopping {
            return;
        }
        let Driver {
            conns,
            stats,
            workload,
            values,
            prefix,
            pipeline,
            open_loop,
            deadline_ns,
            ..
        } = self;
        let conn = &mut conns[index];
        let templates = &workload.templates;
        while conn.in_flight.len() < *pipeline && conn.remaining > 0 {
            let since_ns = if *open_loop {
                if conn.due_ns > now || deadline_ns.is_some_and(|d| conn.due_ns >= d) {
                    break;
                }
                let due = conn.due_ns;
                conn.due_ns += conn.interval_ns;
                due
            } else {
                now
            };
            let which = conn.sequencer.next(templates);
            let template = &templates[which];
            let key = if template.uses_key {
                conn.keys[which].next_index(&mut conn.rng)
            } else {
                0
            };
            let data = if template.uses_data {
                values.value(key, conn.keys[which].range(), &mut conn.rng)
            } else {
                &[]
            };
            let bytes = template.expand(prefix, key, data, &mut conn.out);
            let stats = &mut stats[which];
            stats.sent += 1;
            stats.bytes_tx += bytes as u64;
            conn.in_flight.push_back(InFlight {
                template: which as u32,
                since_ns,
            });
            conn.remaining -= 1;
        }
    }

    /// Writes what is buffered until done or the socket is full.
    #[inline]
    fn flush(&mut self, index: usize) -> std::result::Result<(), String> {
        let conn = &mut self.conns[index];
        while conn.out_sent < conn.out.len() {
            match (&conn.stream).write(&conn.out[conn.out_sent..]) {
                Ok(0) => return Err("the socket accepted no bytes".into()),
                Ok(n) => conn.out_sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("writing: {e}")),
            }
        }
        if conn.out_sent == conn.out.len() {
            conn.out.clear();
            conn.out_sent = 0;
        }
        Ok(())
    }

    /// Reads and accounts every complete reply.
    fn read(&mut self, index: usize, now: u64) -> std::result::Result<(), String> {
        loop {
            let conn = &mut self.conns[index];
            if !conn.open {
                return Ok(());
            }
            let space = conn.input.space().map_err(|e| e.to_string())?;
            let wanted = space.len();
            match (&conn.stream).read(space) {
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(n) => {
                    conn.input.filled(n);
                    self.account(index, now)?;
                    if n < wanted {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading: {e}")),
            }
        }
    }

    /// Matches complete replies in the read buffer to requests in flight.
    #[inline]
    fn account(&mut self, index: usize, now: u64) -> std::result::Result<(), String> {
        loop {
            let conn = &mut self.conns[index];
            let unread = conn.input.unread();
            let scanned = match scan_reply(unread) {
                Ok(Some(scanned)) => scanned,
                Ok(None) => return Ok(()),
                Err(error) => return Err(error.message),
            };
            if scanned.kind == ReplyKind::Error {
                let text = &unread[..scanned.len.min(ERROR_TEXT_BYTES_MAX)];
                let text = String::from_utf8_lossy(text).trim_end().to_string();
                self.note_error_reply(text);
            }
            let conn = &mut self.conns[index];
            conn.input.consume(scanned.len);
            if scanned.kind == ReplyKind::Push {
                continue;
            }
            let Some(request) = conn.in_flight.pop_front() else {
                return Err("a reply arrived with no request in flight".into());
            };
            let latency_ns = now.saturating_sub(request.since_ns);
            self.stats[request.template as usize].record_reply(
                scanned.kind,
                scanned.len,
                latency_ns,
            );
            self.replies += 1;
            self.last_reply_ns = now;
        }
    }

    #[cold]
    fn note_error_reply(&mut self, text: String) {
        if self.config.debug && self.debug_errors < DEBUG_ERRORS_MAX {
            self.debug_errors += 1;
            eprintln!("error reply: {text}");
        }
        if self.first_error.is_none() {
            self.first_error = Some(text);
        }
    }

    /// Gives up on a connection: its requests in flight are lost.
    #[cold]
    fn fail(&mut self, index: usize, message: String) {
        let conn = &mut self.conns[index];
        if !conn.open {
            return;
        }
        conn.open = false;
        self.lost += conn.in_flight.len() as u64;
        conn.in_flight.clear();
        // Deregistering a socket that is about to be dropped cannot matter.
        let _ = self.poll.registry().deregister(&mut conn.stream);
        self.connection_errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(format!("connection {index}: {message}"));
        }
        self.update_done(index);
    }

    /// Marks a connection done once it owes and will send nothing.
    #[inline]
    fn update_done(&mut self, index: usize) {
        let conn = &mut self.conns[index];
        if conn.done {
            return;
        }
        let idle = (conn.remaining == 0 || self.stopping) && conn.in_flight.is_empty();
        if !conn.open || idle {
            conn.done = true;
            self.busy -= 1;
        }
    }

    fn outcome(self) -> ThreadOutcome {
        let owed: u64 = self
            .conns
            .iter()
            .filter(|c| c.open)
            .map(|c| c.in_flight.len() as u64)
            .sum();
        ThreadOutcome {
            stats: self.stats,
            elapsed: Duration::from_nanos(self.last_reply_ns),
            connection_errors: self.connection_errors,
            lost: self.lost + owed,
            first_error: self.first_error,
        }
    }
}
