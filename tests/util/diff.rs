//! The differential harness: the same command scripts sent to `redis-server`
//! and to `shoal-server`, every reply compared, every mismatch reported with
//! the command and both replies.
//!
//! A [`Script`] is a list of [`Step`]s run on one fresh connection to each
//! server, after a `FLUSHALL`, so scripts do not depend on one another. A
//! step may instead run on another connection of the same server ([`on`]),
//! for what only a second client can show: a WATCHed key changed by someone
//! else, a transaction's writes not yet visible to others. Each
//! step says how its two replies are compared ([`Check`]): exactly unless a
//! reply legitimately differs between two correct servers (key order, cursors,
//! connection ids, clocks), in which case the step normalises both replies in
//! the same way and says why where it is built.

use std::fmt::Write as _;
use std::io::Write as _;
use std::ops::Range;
use std::time::{Duration, Instant};

use shoal_protocol::Reply;

use super::{Client, ReadOutcome, ServerProcess};

/// How long one whole comparison (every script, every thread count) may take.
/// A step waits at most `STEP_REPLY_TIMEOUT` per server; this bounds the sum.
const COMPARISON_BUDGET: Duration = Duration::from_secs(240);
/// How long a step waits for each server's reply before calling it a hang.
const STEP_REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// How many times a server is started before the harness gives up on
/// finding a free port of its own.
const START_ATTEMPTS_MAX: usize = 5;
/// The largest pipelined script, in request bytes.
const PIPELINE_MAX_BYTES: usize = 64 * 1024;
/// The most `SCAN` calls one [`Check::ScanAll`] step makes per server.
const SCAN_CALLS_MAX: usize = 10_000;

/// How the two replies of one step are compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// Byte for byte and type for type.
    Exact,
    /// Arrays compared as multisets (sorted first): KEYS has no defined order.
    Unordered,
    /// Field-value pairs (a RESP3 map or a flat RESP2 array of pairs)
    /// compared as a set of pairs: CONFIG GET with a pattern lists matches
    /// in the order of the server's own table.
    UnorderedPairs,
    /// Integers within `±n` of each other: a clock reading differs between two
    /// servers that run the step a few milliseconds apart, and TTL rounds.
    Near(i64),
    /// Only the kind of reply and, for aggregates, the kinds and count of the
    /// elements: values that are correct whatever they are (TIME, CLIENT ID,
    /// RANDOMKEY among several keys).
    Shape,
    /// Both replies are one well-formed SCAN page (a cursor and an array of
    /// keys), whatever the cursor and keys; anything else (an error)
    /// must match exactly. Which keys a single page holds depends on how
    /// the server lays out its key space.
    ScanPage,
    /// Exact, except the value after the field named here in a map (or a
    /// flat RESP2 array of pairs) is not compared: HELLO's `id`.
    MaskField(&'static str),
    /// The step's arguments are `SCAN`'s after the cursor; the harness
    /// iterates from cursor 0 until the server returns 0 and compares the
    /// SETS of keys seen. Cursor values and the order and batching of keys are
    /// the server's business; SCAN may return a key twice.
    ScanAll,
    /// INFO text (a bulk or verbatim string): only the `field:value` lines
    /// of the named fields are compared, each of which must be present.
    InfoFields(&'static [&'static str]),
    /// The replies are read but not compared: setup whose reply is not
    /// what the script tests (rare; every use says why).
    Ignore,
    /// Not a command: wait this many milliseconds (for times to pass).
    Pause(u64),
}

/// One command and how to compare its replies.
#[derive(Debug, Clone)]
pub struct Step {
    /// The command and its arguments.
    pub args: Vec<Vec<u8>>,
    /// How the replies are compared.
    pub check: Check,
    /// Which of the script's connections sends it: 0 is the script's own,
    /// the others are opened when a step first names them.
    pub connection: usize,
}

impl Step {
    /// A step from text arguments.
    pub fn new(args: &[&str], check: Check) -> Step {
        Step::bytes(
            args.iter().map(|arg| arg.as_bytes().to_vec()).collect(),
            check,
        )
    }

    /// A step from binary arguments.
    pub fn bytes(args: Vec<Vec<u8>>, check: Check) -> Step {
        Step {
            args,
            check,
            connection: 0,
        }
    }
}

/// `step` sent on the script's connection number `connection` (1 and up)
/// instead of its own (0): another client of the same server, prepared
/// like the script's own. Connections are numbered per script; each server
/// gets its own set, so connection 1 to Redis and connection 1 to Shoal
/// play the same client.
pub fn on(connection: usize, step: Step) -> Step {
    Step { connection, ..step }
}

/// A step compared exactly.
pub fn x(args: &[&str]) -> Step {
    Step::new(args, Check::Exact)
}

/// A step whose array reply is compared as a multiset.
pub fn unordered(args: &[&str]) -> Step {
    Step::new(args, Check::Unordered)
}

/// A step whose integer replies may differ by `tolerance`.
pub fn near(tolerance: i64, args: &[&str]) -> Step {
    Step::new(args, Check::Near(tolerance))
}

/// A step whose field-value pairs are compared in any order.
pub fn unordered_pairs(args: &[&str]) -> Step {
    Step::new(args, Check::UnorderedPairs)
}

/// A step compared by the shape of its reply only.
pub fn shape(args: &[&str]) -> Step {
    Step::new(args, Check::Shape)
}

/// A full SCAN iteration with these options, compared as a set of keys.
pub fn scan_all(options: &[&str]) -> Step {
    Step::new(options, Check::ScanAll)
}

/// A step whose replies must both be SCAN pages (or the same error).
pub fn scan_page(args: &[&str]) -> Step {
    Step::new(args, Check::ScanPage)
}

/// A wait of `ms` milliseconds between steps, at most a second.
pub fn pause(ms: u64) -> Step {
    assert!(ms <= 1000, "a pause of {ms} ms would slow the suite");
    Step::bytes(Vec::new(), Check::Pause(ms))
}

/// A step whose replies are not compared.
pub fn ignore(args: &[&str]) -> Step {
    Step::new(args, Check::Ignore)
}

/// A named sequence of steps run on one fresh connection per server (and
/// more where steps say so with [`on`]).
#[derive(Debug, Clone)]
pub struct Script {
    /// Shown in mismatch reports.
    pub name: String,
    /// The commands, in order.
    pub steps: Vec<Step>,
}

/// A step whose replies are compared with HELLO's `id` field masked.
pub fn hello(args: &[&str]) -> Step {
    Step::new(args, Check::MaskField("id"))
}

/// A script from its name and steps.
pub fn script(name: &str, steps: Vec<Step>) -> Script {
    Script {
        name: name.to_string(),
        steps,
    }
}

/// How the servers are started and each connection is prepared.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Switch every connection to RESP3 with `HELLO 3` before the script.
    pub resp3: bool,
    /// `requirepass` for both servers. Each script's connection then starts
    /// unauthenticated (the script sends AUTH or HELLO AUTH itself); the
    /// harness flushes through a separate authenticated connection.
    pub password: Option<String>,
    /// More arguments for both servers' command lines.
    pub server_args: Vec<String>,
    /// Send each script as one pipeline (every command written before any
    /// reply is read), so that replies of commands that run on different
    /// shards must still come back in order. A SCAN iteration, a pause or a
    /// step on another connection cannot be part of a pipeline: it ends the
    /// one before it (whose replies are all read first) and the steps after
    /// it start the next, so that another client's command still lands
    /// between the same two commands as in the unpipelined run. A
    /// connection that closes fails the rest of its pipeline as closed.
    pub pipelined: bool,
}

/// Runs every script against `redis-server` and against `shoal-server` with
/// `--threads N` for each `N` in `threads`, and panics with every mismatch.
pub fn compare_scripts(scripts: &[Script], threads: &[usize]) {
    compare_scripts_with(scripts, threads, &DiffOptions::default());
}

/// [`compare_scripts`] with RESP2 first, then the same scripts under RESP3.
pub fn compare_scripts_resp2_and_resp3(scripts: &[Script], threads: &[usize]) {
    let mut report = Vec::new();
    for resp3 in [false, true] {
        let options = DiffOptions {
            resp3,
            ..DiffOptions::default()
        };
        report.extend(run_comparison(scripts, threads, &options));
    }
    fail_on(report);
}

/// [`compare_scripts`] with server and connection options.
pub fn compare_scripts_with(scripts: &[Script], threads: &[usize], options: &DiffOptions) {
    fail_on(run_comparison(scripts, threads, options));
}

fn fail_on(report: Vec<String>) {
    assert!(
        report.is_empty(),
        "{} mismatch(es) between redis-server and shoal-server:\n\n{}",
        report.len(),
        report.join("\n")
    );
}

/// Runs the comparison and returns one entry per mismatch.
pub fn run_comparison(scripts: &[Script], threads: &[usize], options: &DiffOptions) -> Vec<String> {
    let deadline = Instant::now() + COMPARISON_BUDGET;
    let mut shared_args: Vec<&str> = Vec::new();
    if let Some(password) = &options.password {
        shared_args.extend(["--requirepass", password.as_str()]);
    }
    shared_args.extend(options.server_args.iter().map(String::as_str));
    // `ServerProcess::redis` turns persistence off itself; Shoal gets the
    // same two settings so that CONFIG GET shows the same values.
    let password = options.password.as_deref();
    let redis = start_verified(password, || ServerProcess::redis(&shared_args));
    let mut report = Vec::new();
    for &count in threads {
        let count_text = count.to_string();
        let mut shoal_args = vec!["--threads", &count_text, "--save", "", "--appendonly", "no"];
        shoal_args.extend_from_slice(&shared_args);
        let shoal = start_verified(password, || ServerProcess::shoal(&shoal_args));
        let label = format!(
            "threads={count} {}",
            if options.resp3 { "RESP3" } else { "RESP2" }
        );
        if let Err(failure) = run_scripts(
            scripts,
            &redis,
            &shoal,
            options,
            deadline,
            &label,
            &mut report,
        ) {
            // A server that stopped answering (Shoal crashed, say) fails
            // everything after it: report it once and move on.
            report.push(format!("[{label}] {failure}"));
        }
    }
    report
}

/// Starts a server with `start` until the process answering on its port is
/// the one just started. Ports are reserved per test process, but a
/// program outside the tests can still take one between the check and the
/// bind; the differential report would then compare against a stranger.
fn start_verified(password: Option<&str>, start: impl Fn() -> ServerProcess) -> ServerProcess {
    for _ in 0..START_ATTEMPTS_MAX {
        let server = start();
        if answers_as_itself(&server, password) {
            return server;
        }
    }
    panic!("no server of our own on a free port after {START_ATTEMPTS_MAX} attempts");
}

/// Whether INFO on the server's port names the server's own process.
fn answers_as_itself(server: &ServerProcess, password: Option<&str>) -> bool {
    let Ok(mut client) = connect("the server", server) else {
        return false;
    };
    let args: Vec<&[u8]> = match password {
        Some(password) => vec![b"AUTH", password.as_bytes()],
        None => vec![b"PING"],
    };
    if !matches!(exchange(&mut client, &args), ReadOutcome::Reply(_)) {
        return false;
    }
    let own_pid = format!("process_id:{}\r\n", server.pid());
    match exchange(&mut client, &[b"INFO", b"server"]) {
        ReadOutcome::Reply(Reply::Bulk(text) | Reply::Verbatim { text, .. }) => text
            .windows(own_pid.len())
            .any(|window| window == own_pid.as_bytes()),
        _ => false,
    }
}

/// Runs every script on one pair of servers, appending mismatches to
/// `report`; `Err` when a server cannot be reached any more.
fn run_scripts(
    scripts: &[Script],
    redis: &ServerProcess,
    shoal: &ServerProcess,
    options: &DiffOptions,
    deadline: Instant,
    label: &str,
    report: &mut Vec<String>,
) -> Result<(), String> {
    let mode = if options.pipelined { " pipelined" } else { "" };
    for script in scripts {
        let name = &script.name;
        let mut connections = Connections::open(redis, shoal, options)
            .map_err(|error| format!("script '{name}' before its first step: {error}"))?;
        for (range, pipelined) in batches(&script.steps, options.pipelined) {
            assert!(
                Instant::now() < deadline,
                "the comparison ran past {COMPARISON_BUDGET:?}; mismatches so far:\n{}",
                report.join("\n")
            );
            let first = range.start;
            let steps = &script.steps[range];
            let number = steps[0].connection;
            let outcome = if pipelined {
                connections.pipeline(steps)
            } else {
                connections
                    .step(&steps[0])
                    .map(|mismatch| mismatch.map(|mismatch| (0, mismatch)).into_iter().collect())
            };
            let mismatches =
                outcome.map_err(|error| format!("script '{name}' step {}: {error}", first + 1))?;
            for (offset, mismatch) in mismatches {
                let index = first + offset;
                let step = &script.steps[index];
                let connection = match step.connection {
                    0 => String::new(),
                    other => format!(" on connection {other}"),
                };
                report.push(format!(
                    "[{label}{mode}] script '{name}' step {}{connection}: {}\n{mismatch}",
                    index + 1,
                    show_command(&step.args)
                ));
            }
            connections.replace_if_broken(number).map_err(|error| {
                format!(
                    "script '{name}' after step {}: {error}",
                    first + steps.len()
                )
            })?;
        }
    }
    Ok(())
}

/// How a script's steps are sent: ranges of steps, each either one step
/// sent and answered on its own (`false`) or a run of steps sent as one
/// pipeline (`true`). Unpipelined, every step is its own range; pipelined,
/// each run of consecutive steps on one connection is a pipeline, ended by
/// a step on another connection, a SCAN iteration or a pause (neither of
/// which can be pipelined: one takes several round trips, the other must
/// wait after the replies before it).
fn batches(steps: &[Step], pipelined: bool) -> Vec<(Range<usize>, bool)> {
    let alone = |step: &Step| !pipelined || matches!(step.check, Check::ScanAll | Check::Pause(_));
    let mut batches: Vec<(Range<usize>, bool)> = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        if !alone(step) {
            if let Some((range, true)) = batches.last_mut() {
                if steps[range.start].connection == step.connection {
                    range.end = index + 1;
                    continue;
                }
            }
        }
        batches.push((index..index + 1, !alone(step)));
    }
    batches
}

/// A script's connections to both servers, by number. Connection 0 is
/// opened (and the servers flushed) before the first step; another is
/// opened when a step first names it, as most scripts need none.
struct Connections<'a> {
    redis_server: &'a ServerProcess,
    shoal_server: &'a ServerProcess,
    options: &'a DiffOptions,
    /// `None`: not opened yet, or closed or hung since (opened again
    /// when a step names it).
    pairs: Vec<Option<Pair>>,
}

impl<'a> Connections<'a> {
    /// Opens connection 0 and flushes both servers.
    fn open(
        redis_server: &'a ServerProcess,
        shoal_server: &'a ServerProcess,
        options: &'a DiffOptions,
    ) -> Result<Connections<'a>, String> {
        let own = Pair::open(redis_server, shoal_server, options)?;
        Ok(Connections {
            redis_server,
            shoal_server,
            options,
            pairs: vec![Some(own)],
        })
    }

    /// Connection `number`, opened first if it is not open (connection 0
    /// opened again flushes both servers, as before the first step).
    fn pair(&mut self, number: usize) -> Result<&mut Pair, String> {
        if self.pairs.len() <= number {
            self.pairs.resize_with(number + 1, || None);
        }
        let slot = &mut self.pairs[number];
        if slot.is_none() {
            let (redis, shoal, options) = (self.redis_server, self.shoal_server, self.options);
            let pair = if number == 0 {
                Pair::open(redis, shoal, options)
            } else {
                Pair::open_other(redis, shoal, options)
            };
            *slot = Some(pair.map_err(|error| format!("opening connection {number}: {error}"))?);
        }
        slot.as_mut()
            .ok_or_else(|| format!("connection {number} was not opened"))
    }

    /// Runs one step on its connection; a description of the mismatch,
    /// if any, or `Err` when a server cannot be reached.
    fn step(&mut self, step: &Step) -> Result<Option<String>, String> {
        if let Check::Pause(ms) = step.check {
            // A pause is no command: it opens no connection.
            std::thread::sleep(Duration::from_millis(ms));
            return Ok(None);
        }
        let pair = self.pair(step.connection)?;
        Ok(pair.step(step))
    }

    /// Sends steps, all on one connection, as one pipeline; the index
    /// (among `steps`) and description of each mismatch.
    fn pipeline(&mut self, steps: &[Step]) -> Result<Vec<(usize, String)>, String> {
        let Some(number) = steps.first().map(|step| step.connection) else {
            return Ok(Vec::new());
        };
        assert!(
            steps.iter().all(|step| step.connection == number),
            "a pipeline runs on one connection"
        );
        Ok(self.pair(number)?.pipeline(steps))
    }

    /// Replaces connection `number` when it closed or hung: connection 0
    /// at once, flushing both servers as before the first step (a script
    /// whose own connection closed goes on from a known state, whatever
    /// the other connections do next); another when a step next names it.
    fn replace_if_broken(&mut self, number: usize) -> Result<(), String> {
        let Some(slot) = self.pairs.get_mut(number) else {
            return Ok(());
        };
        if slot.as_ref().is_some_and(|pair| pair.needs_reopen) {
            *slot = None;
            if number == 0 {
                self.pair(0)?;
            }
        }
        Ok(())
    }
}

/// One connection to each server.
struct Pair {
    redis: Client,
    shoal: Client,
    /// A connection closed or hung: open fresh ones before the next step.
    needs_reopen: bool,
}

impl Pair {
    /// Connects to both without preparing either.
    fn connect(redis_server: &ServerProcess, shoal_server: &ServerProcess) -> Result<Pair, String> {
        Ok(Pair {
            redis: connect("redis-server", redis_server)?,
            shoal: connect("shoal-server", shoal_server)?,
            needs_reopen: false,
        })
    }

    /// A script's own connection: connects to both, authenticates, switches
    /// protocol, flushes; `Err` says which server could not be reached or
    /// refused which step.
    fn open(
        redis_server: &ServerProcess,
        shoal_server: &ServerProcess,
        options: &DiffOptions,
    ) -> Result<Pair, String> {
        let mut pair = Pair::connect(redis_server, shoal_server)?;
        if let Some(password) = &options.password {
            // An unauthenticated connection cannot switch to RESP3 (HELLO
            // without AUTH is refused), so scripts under a password do it.
            assert!(!options.resp3, "resp3 and password do not combine");
            let mut admin = Pair::connect(redis_server, shoal_server)?;
            admin.prepare(&["AUTH", password])?;
            admin.prepare(&["FLUSHALL"])?;
        } else {
            if options.resp3 {
                pair.prepare(&["HELLO", "3"])?;
            }
            pair.prepare(&["FLUSHALL"])?;
        }
        Ok(pair)
    }

    /// Another connection of a script: authenticated when the servers have
    /// a password (a script tests authentication on its own connection;
    /// the others are there to act on the data), switched to RESP3 like
    /// the script's own; nothing is flushed.
    fn open_other(
        redis_server: &ServerProcess,
        shoal_server: &ServerProcess,
        options: &DiffOptions,
    ) -> Result<Pair, String> {
        let mut pair = Pair::connect(redis_server, shoal_server)?;
        if let Some(password) = &options.password {
            pair.prepare(&["AUTH", password])?;
        }
        if options.resp3 {
            pair.prepare(&["HELLO", "3"])?;
        }
        Ok(pair)
    }

    /// A preparation step: both servers must answer without an error.
    fn prepare(&mut self, args: &[&str]) -> Result<(), String> {
        let args: Vec<&[u8]> = args.iter().map(|arg| arg.as_bytes()).collect();
        for (name, client) in [("redis", &mut self.redis), ("shoal", &mut self.shoal)] {
            match exchange(client, &args) {
                ReadOutcome::Reply(reply) if !matches!(reply, Reply::Error(_)) => {}
                outcome => {
                    return Err(format!(
                        "{name} failed the preparation step {}: {}",
                        show_command(&args.iter().map(|arg| arg.to_vec()).collect::<Vec<_>>()),
                        show_outcome(&outcome)
                    ))
                }
            }
        }
        Ok(())
    }

    /// Runs one step on both servers; a description of the mismatch, if any.
    fn step(&mut self, step: &Step) -> Option<String> {
        if step.check == Check::ScanAll {
            return self.scan_all(&step.args);
        }
        let args: Vec<&[u8]> = step.args.iter().map(Vec::as_slice).collect();
        let redis = exchange(&mut self.redis, &args);
        let shoal = exchange(&mut self.shoal, &args);
        if !matches!(
            (&redis, &shoal),
            (ReadOutcome::Reply(_), ReadOutcome::Reply(_))
        ) {
            self.needs_reopen = true;
        }
        let same = match (&redis, &shoal) {
            (ReadOutcome::Reply(a), ReadOutcome::Reply(b)) => same_under(step.check, a, b),
            (ReadOutcome::Closed, ReadOutcome::Closed) => true,
            _ => false,
        };
        (!same).then(|| {
            format!(
                "  redis: {}\n  shoal: {}\n  (compared: {:?})\n",
                show_outcome(&redis),
                show_outcome(&shoal),
                step.check
            )
        })
    }

    /// Sends every step to each server in one write, then reads every
    /// reply; the index and description of each mismatch.
    fn pipeline(&mut self, steps: &[Step]) -> Vec<(usize, String)> {
        for step in steps {
            assert!(
                !matches!(step.check, Check::ScanAll | Check::Pause(_)),
                "a pipeline cannot iterate SCAN or pause"
            );
        }
        let redis = pipeline_replies(&mut self.redis, steps);
        let shoal = pipeline_replies(&mut self.shoal, steps);
        if redis
            .iter()
            .chain(&shoal)
            .any(|outcome| !matches!(outcome, ReadOutcome::Reply(_)))
        {
            self.needs_reopen = true;
        }
        let mut mismatches = Vec::new();
        for (index, step) in steps.iter().enumerate() {
            let same = match (&redis[index], &shoal[index]) {
                (ReadOutcome::Reply(a), ReadOutcome::Reply(b)) => same_under(step.check, a, b),
                (a, b) => a == b,
            };
            if !same {
                mismatches.push((
                    index,
                    format!(
                        "  redis: {}\n  shoal: {}\n  (compared: {:?})\n",
                        show_outcome(&redis[index]),
                        show_outcome(&shoal[index]),
                        step.check
                    ),
                ));
            }
        }
        mismatches
    }

    /// Iterates SCAN on both servers and compares the sets of keys.
    fn scan_all(&mut self, options: &[Vec<u8>]) -> Option<String> {
        let redis = scan_keys(&mut self.redis, options);
        let shoal = scan_keys(&mut self.shoal, options);
        if redis.is_err() || shoal.is_err() {
            self.needs_reopen = true;
        }
        (redis != shoal).then(|| {
            let describe = |outcome: &Result<Vec<Vec<u8>>, String>| match outcome {
                Ok(keys) => format!(
                    "{} key(s) {{{}}}",
                    keys.len(),
                    keys.iter()
                        .map(|key| quote(key))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Err(error) => error.clone(),
            };
            format!(
                "  redis: {}\n  shoal: {}\n  (compared: full SCAN iteration as a set)\n",
                describe(&redis),
                describe(&shoal)
            )
        })
    }
}

/// Writes every step's command at once, then reads one outcome per step
/// (after a close or a hang, the rest are the same outcome).
fn pipeline_replies(client: &mut Client, steps: &[Step]) -> Vec<ReadOutcome> {
    let mut wire = Vec::new();
    for step in steps {
        let args: Vec<&[u8]> = step.args.iter().map(Vec::as_slice).collect();
        shoal_protocol::encode_request(&args, &mut wire);
    }
    // Small enough for the socket buffers: the harness writes it all before
    // reading, and a server that stops reading while its replies wait
    // must not be able to block this write.
    assert!(
        wire.len() <= PIPELINE_MAX_BYTES,
        "a pipeline of {} bytes",
        wire.len()
    );
    let mut outcomes = Vec::with_capacity(steps.len());
    if client.stream.write_all(&wire).is_err() {
        outcomes.resize(steps.len(), ReadOutcome::Closed);
        return outcomes;
    }
    while outcomes.len() < steps.len() {
        let outcome = client.read_reply_within(STEP_REPLY_TIMEOUT);
        let last = !matches!(outcome, ReadOutcome::Reply(_));
        outcomes.push(outcome.clone());
        if last {
            outcomes.resize(steps.len(), outcome);
        }
    }
    outcomes
}

/// A connection to `server`, or why there is none (it stopped listening).
fn connect(name: &str, server: &ServerProcess) -> Result<Client, String> {
    super::try_connect_stream(server.port)
        .map(Client::over)
        .map_err(|error| format!("{name} no longer accepts connections ({error})"))
}

/// Sends one command and reads its reply, a close, or a hang.
fn exchange(client: &mut Client, args: &[&[u8]]) -> ReadOutcome {
    if client.try_send(args).is_err() {
        return ReadOutcome::Closed;
    }
    client.read_reply_within(STEP_REPLY_TIMEOUT)
}

/// Every key a full SCAN iteration returns, sorted and deduplicated; `Err`
/// describes an error reply or a malformed one.
fn scan_keys(client: &mut Client, options: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
    let mut cursor = b"0".to_vec();
    let mut keys = Vec::new();
    for _ in 0..SCAN_CALLS_MAX {
        let mut args: Vec<&[u8]> = vec![b"SCAN", &cursor];
        args.extend(options.iter().map(Vec::as_slice));
        let reply = match exchange(client, &args) {
            ReadOutcome::Reply(reply) => reply,
            other => return Err(show_outcome(&other)),
        };
        let Reply::Array(parts) = &reply else {
            return Err(show(&reply));
        };
        let [Reply::Bulk(next), Reply::Array(batch)] = parts.as_slice() else {
            return Err(format!("malformed SCAN reply {}", show(&reply)));
        };
        for key in batch {
            match key {
                Reply::Bulk(key) => keys.push(key.clone()),
                other => return Err(format!("a SCAN key that is not a bulk: {}", show(other))),
            }
        }
        if next.as_slice() == b"0" {
            keys.sort();
            keys.dedup();
            return Ok(keys);
        }
        cursor.clone_from(next);
    }
    Err(format!("SCAN did not finish in {SCAN_CALLS_MAX} calls"))
}

/// Whether two replies agree under `check`.
/// The `field:value` lines of INFO text for `fields`, in that order;
/// None if the reply is not text or a field is missing.
fn info_fields(reply: &Reply, fields: &[&str]) -> Option<Vec<String>> {
    let (Reply::Bulk(text) | Reply::Verbatim { text, .. }) = reply else {
        return None;
    };
    let text = String::from_utf8_lossy(text);
    fields
        .iter()
        .map(|field| {
            let prefix = format!("{field}:");
            text.lines()
                .find(|line| line.starts_with(&prefix))
                .map(str::to_owned)
        })
        .collect()
}

pub fn same_under(check: Check, redis: &Reply, shoal: &Reply) -> bool {
    match check {
        Check::Exact | Check::ScanAll => redis == shoal,
        Check::Ignore | Check::Pause(_) => true,
        Check::Unordered => match (redis, shoal) {
            (Reply::Array(a), Reply::Array(b)) | (Reply::Set(a), Reply::Set(b)) => {
                sorted(a) == sorted(b)
            }
            _ => redis == shoal,
        },
        Check::UnorderedPairs => match (sorted_pairs(redis), sorted_pairs(shoal)) {
            (Some(a), Some(b)) => a == b && same_kind(redis, shoal),
            _ => redis == shoal,
        },
        Check::Near(tolerance) => match (redis, shoal) {
            (Reply::Integer(a), Reply::Integer(b)) => (a - b).abs() <= tolerance,
            _ => redis == shoal,
        },
        Check::Shape => same_shape(redis, shoal),
        Check::ScanPage => match (is_scan_page(redis), is_scan_page(shoal)) {
            (true, true) => true,
            _ => redis == shoal,
        },
        Check::MaskField(field) => masked(redis, field) == masked(shoal, field),
        Check::InfoFields(fields) => {
            let (a, b) = (info_fields(redis, fields), info_fields(shoal, fields));
            a.is_some() && a == b
        }
    }
}

/// Whether `reply` is a SCAN page: a cursor and an array of bulk keys.
fn is_scan_page(reply: &Reply) -> bool {
    match reply {
        Reply::Array(parts) => match parts.as_slice() {
            [Reply::Bulk(cursor), Reply::Array(keys)] => {
                cursor.iter().all(u8::is_ascii_digit)
                    && keys.iter().all(|key| matches!(key, Reply::Bulk(_)))
            }
            _ => false,
        },
        _ => false,
    }
}

/// The pairs of a map or flat array of pairs, shown and sorted.
fn sorted_pairs(reply: &Reply) -> Option<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = match reply {
        Reply::Map(pairs) => pairs.iter().map(|(k, v)| (show(k), show(v))).collect(),
        Reply::Array(items) if items.len() % 2 == 0 => items
            .chunks_exact(2)
            .map(|pair| (show(&pair[0]), show(&pair[1])))
            .collect(),
        _ => return None,
    };
    pairs.sort();
    Some(pairs)
}

fn same_kind(a: &Reply, b: &Reply) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn sorted(replies: &[Reply]) -> Vec<String> {
    let mut shown: Vec<String> = replies.iter().map(show).collect();
    shown.sort();
    shown
}

fn same_shape(a: &Reply, b: &Reply) -> bool {
    match (a, b) {
        (Reply::Array(a), Reply::Array(b))
        | (Reply::Set(a), Reply::Set(b))
        | (Reply::Push(a), Reply::Push(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_shape(a, b))
        }
        (Reply::Map(a), Reply::Map(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| same_shape(ka, kb) && same_shape(va, vb))
        }
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// The reply with the value after `field` replaced by a placeholder.
fn masked(reply: &Reply, field: &str) -> Reply {
    let is_field = |key: &Reply| matches!(key, Reply::Bulk(name) | Reply::Simple(name) if name == field.as_bytes());
    match reply {
        Reply::Map(pairs) => Reply::Map(
            pairs
                .iter()
                .map(|(key, value)| {
                    let value = if is_field(key) {
                        Reply::Null
                    } else {
                        value.clone()
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        Reply::Array(items) => {
            let mut items = items.clone();
            let mut index = 0;
            while index + 1 < items.len() {
                if is_field(&items[index]) {
                    items[index + 1] = Reply::Null;
                }
                index += 2;
            }
            Reply::Array(items)
        }
        other => other.clone(),
    }
}

/// A command as a reader would type it.
pub fn show_command(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|arg| quote(arg))
        .collect::<Vec<_>>()
        .join(" ")
}

fn show_outcome(outcome: &ReadOutcome) -> String {
    match outcome {
        ReadOutcome::Reply(reply) => show(reply),
        ReadOutcome::Closed => "(connection closed)".into(),
        ReadOutcome::TimedOut => format!("(no reply within {STEP_REPLY_TIMEOUT:?})"),
    }
}

/// A reply in a compact, unambiguous text form (RESP type markers kept).
pub fn show(reply: &Reply) -> String {
    let mut text = String::new();
    show_into(reply, &mut text);
    text
}

fn show_all<'a>(prefix: &str, items: impl Iterator<Item = &'a Reply>, text: &mut String) {
    text.push_str(prefix);
    text.push('[');
    for (index, item) in items.enumerate() {
        if index > 0 {
            text.push_str(", ");
        }
        show_into(item, text);
    }
    text.push(']');
}

fn show_into(reply: &Reply, text: &mut String) {
    match reply {
        Reply::Simple(bytes) => {
            let _ = write!(text, "+{}", String::from_utf8_lossy(bytes));
        }
        Reply::Error(bytes) => {
            let _ = write!(text, "-{}", String::from_utf8_lossy(bytes));
        }
        Reply::BlobError(bytes) => {
            let _ = write!(text, "!{}", String::from_utf8_lossy(bytes));
        }
        Reply::Integer(value) => {
            let _ = write!(text, ":{value}");
        }
        Reply::Bulk(bytes) => text.push_str(&quote(bytes)),
        Reply::Null => text.push_str("(nil)"),
        Reply::NullArray => text.push_str("(nil array)"),
        Reply::Array(items) => show_all("*", items.iter(), text),
        Reply::Set(items) => show_all("~", items.iter(), text),
        Reply::Push(items) => show_all(">", items.iter(), text),
        Reply::Map(pairs) => {
            text.push_str("%{");
            for (index, (key, value)) in pairs.iter().enumerate() {
                if index > 0 {
                    text.push_str(", ");
                }
                show_into(key, text);
                text.push_str(" => ");
                show_into(value, text);
            }
            text.push('}');
        }
        Reply::Double(value) => {
            let _ = write!(text, ",{value}");
        }
        Reply::Boolean(value) => {
            let _ = write!(text, "#{}", if *value { 't' } else { 'f' });
        }
        Reply::BigNumber(bytes) => {
            let _ = write!(text, "({}", String::from_utf8_lossy(bytes));
        }
        Reply::Verbatim { format, text: body } => {
            let _ = write!(text, "={}:{}", String::from_utf8_lossy(format), quote(body));
        }
        Reply::Attributed { attributes, value } => {
            text.push('|');
            show_into(&Reply::Map(attributes.clone()), text);
            show_into(value, text);
        }
    }
}

/// Bytes in double quotes with non-printable bytes escaped.
fn quote(bytes: &[u8]) -> String {
    let mut text = String::from("\"");
    for &byte in bytes {
        match byte {
            b'"' => text.push_str("\\\""),
            b'\\' => text.push_str("\\\\"),
            0x20..=0x7e => text.push(byte as char),
            _ => {
                let _ = write!(text, "\\x{byte:02x}");
            }
        }
    }
    text.push('"');
    text
}

/* ---------------------------------------------------------------------------
 * Keys that land on chosen shards
 * ------------------------------------------------------------------------- */

/// CRC16-XMODEM, the checksum Redis Cluster hashes keys with.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// Redis Cluster's hash slot of `key` (its `{hashtag}` when not empty).
pub fn key_slot(key: &[u8]) -> u16 {
    let hashed = key
        .iter()
        .position(|&byte| byte == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            let close = rest.iter().position(|&byte| byte == b'}')?;
            (close > 0).then(|| &rest[..close])
        })
        .unwrap_or(key);
    crc16(hashed) % 16384
}

/// The shard of `key` among `shards`, as Shoal splits slots into ranges.
pub fn key_shard(key: &[u8], shards: usize) -> usize {
    usize::from(key_slot(key)) * shards / 16384
}

/// Names `{prefix}N` for the smallest `N`s such that name `i` lands on shard
/// `i` of 4: keys that make a multi-key command cross every shard when the
/// server runs `--threads 4`.
pub fn keys_on_each_shard(prefix: &str) -> [String; 4] {
    let mut found: [Option<String>; 4] = Default::default();
    for number in 0..10_000 {
        let name = format!("{prefix}{number}");
        let shard = key_shard(name.as_bytes(), 4);
        if found[shard].is_none() {
            found[shard] = Some(name);
        }
        if found.iter().all(Option::is_some) {
            break;
        }
    }
    found.map(|name| name.expect("10,000 names cover 4 shards"))
}
