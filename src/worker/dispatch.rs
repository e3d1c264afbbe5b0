//! From parsed command to execution: lookup, arity, auth, routing.

use std::sync::atomic::Ordering;

use shoal_protocol::ReplyEncoder;

use super::blocking;
use super::msg::{Msg, Origin};
use super::Worker;
use crate::cmd::args::is;
use crate::cmd::{self, table, table::SubcommandSpec, CommandSpec, Exec, ShardCtx};
use crate::slot::key_shard;
use crate::stopwatch::Stopwatch;

use super::shared::bump;

/// The most capacity an emptied query buffer keeps for the next read.
const QUERY_BUFFER_KEEP_BYTES: usize = 32 * 1024;

/// Redis's text for an unknown command: the name, then the first
/// arguments, quoted, up to 128 bytes in all.
pub fn unknown_command_error(args: &[&[u8]]) -> Vec<u8> {
    const SHOWN_BYTES_MAX: usize = 128;
    let mut message = b"ERR unknown command '".to_vec();
    message.extend_from_slice(&args[0][..args[0].len().min(SHOWN_BYTES_MAX)]);
    message.extend_from_slice(b"', with args beginning with: ");
    let mut shown = 0;
    for arg in &args[1..] {
        if shown >= SHOWN_BYTES_MAX {
            break;
        }
        let take = arg.len().min(SHOWN_BYTES_MAX - shown);
        message.push(b'\'');
        message.extend_from_slice(&arg[..take]);
        message.extend_from_slice(b"' ");
        shown += take + 3;
    }
    message
}

/// Redis's arity error for `name` (`container|sub` for subcommands).
pub fn arity_error(name: &str) -> Vec<u8> {
    format!("ERR wrong number of arguments for '{name}' command").into_bytes()
}

/// What checking a command before running it found.
enum Checked {
    Run(&'static CommandSpec),
    Reject(Vec<u8>),
}

fn check(args: &[&[u8]], authenticated: bool) -> Checked {
    let Some(spec) = cmd::lookup(args[0]) else {
        return Checked::Reject(unknown_command_error(args));
    };
    if !spec.subcommands.is_empty() && args.len() >= 2 {
        let sub = find_subcommand(spec, args[1]);
        match sub {
            None => {
                return Checked::Reject(
                    format!(
                        "ERR unknown subcommand '{}'. Try {} HELP.",
                        String::from_utf8_lossy(&args[1][..args[1].len().min(128)]),
                        spec.name.to_ascii_uppercase()
                    )
                    .into_bytes(),
                )
            }
            Some(sub) if !CommandSpec::arity_ok(sub.arity, args.len()) => {
                return Checked::Reject(arity_error(&format!("{}|{}", spec.name, sub.name)));
            }
            Some(_) => {}
        }
    } else if !CommandSpec::arity_ok(spec.arity, args.len()) {
        return Checked::Reject(arity_error(spec.name));
    }
    if !authenticated && !spec.flags.contains(&"no_auth") {
        return Checked::Reject(b"NOAUTH Authentication required.".to_vec());
    }
    Checked::Run(spec)
}

/// The subcommand of a container command named by `name`, any case.
pub fn find_subcommand(spec: &CommandSpec, name: &[u8]) -> Option<&'static SubcommandSpec> {
    let subcommands: &'static [SubcommandSpec] = spec.subcommands;
    subcommands
        .iter()
        .find(|sub| name.eq_ignore_ascii_case(sub.name.as_bytes()))
}

impl Worker {
    /// Parses and runs every complete command a connection has buffered.
    pub(super) fn process_input(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if conn.client.close_after_reply {
            conn.client.query.clear();
            return;
        }
        if conn.client.stalled {
            return;
        }
        let mut query = std::mem::take(&mut conn.client.query);
        let mut parser = std::mem::take(&mut conn.client.parser);
        let mut close = false;
        let mut over_limit = false;
        let mut stop_at = None;
        // Each command's time runs from the end of the one before (its
        // parsing and checks included): one clock read per command.
        let mut clock = Stopwatch::start();
        {
            let mut requests = parser.parse(&mut query);
            loop {
                let before = requests.consumed();
                let Some(request) = requests.next_command() else {
                    break;
                };
                match request {
                    Ok(command) => match self.dispatch(slot, command.args(), &mut clock) {
                        Flow::Continue if self.over_output_limit(slot) => {
                            over_limit = true;
                            break;
                        }
                        Flow::Continue => {}
                        Flow::Close => {
                            close = true;
                            break;
                        }
                        Flow::StallBefore => {
                            stop_at = Some(before);
                            break;
                        }
                        Flow::StallAfter => {
                            stop_at = Some(requests.consumed());
                            break;
                        }
                    },
                    Err(error) => {
                        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
                            conn.client.reply_now(|out| out.protocol_error(&error));
                        }
                        close = true;
                        break;
                    }
                }
            }
        }
        if over_limit {
            // A client that sends but never reads: closed at once, its
            // output dropped, as Redis's client-output-buffer-limit does.
            self.close_conn(slot);
            return;
        }
        let consumed = stop_at.unwrap_or_else(|| parser.consumed());
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if close {
            conn.client.close_after_reply = true;
            query.clear();
        } else {
            query.drain(..consumed);
        }
        // A burst (a long pipeline, a big value) leaves a large buffer
        // behind; an emptied one is given back, as Redis resizes its query
        // buffers, so thousands of idle clients hold no burst-sized memory.
        if query.is_empty() && query.capacity() > QUERY_BUFFER_KEEP_BYTES {
            query = Vec::new();
        }
        conn.client.stalled = stop_at.is_some();
        conn.client.query = query;
        conn.client.parser = parser;
        self.mark_dirty(slot);
    }

    /// Whether the client's unsent replies passed the hard output limit.
    fn over_output_limit(&self, slot: usize) -> bool {
        self.output_limit_bytes > 0
            && self
                .conns
                .get(slot)
                .and_then(Option::as_ref)
                .is_some_and(|conn| conn.client.out.len() as u64 > self.output_limit_bytes)
    }

    /// Runs one command for the client in `slot`; `clock` started when the
    /// one before ended.
    fn dispatch(&mut self, slot: usize, args: &[&[u8]], clock: &mut Stopwatch) -> Flow {
        let now_ms = self.now_ms;
        let workers = self.shared.workers;
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return Flow::Close;
        };
        let client = &mut conn.client;
        client.last_active_ms = now_ms;
        let spec = match check(args, client.authenticated) {
            Checked::Run(spec) => spec,
            Checked::Reject(message) if is(args[0], "EXEC") => {
                // As Redis's `rejectCommand`: a refused EXEC aborts (and
                // ends) the transaction, saying why, even outside MULTI.
                let reason = message.strip_prefix(b"ERR ").unwrap_or(&message);
                let mut text = b"EXECABORT Transaction discarded because of: ".to_vec();
                text.extend_from_slice(reason);
                client.reply_now(|out| out.error(&text));
                client.multi = None;
                bump(&self.shared.stats[self.id].errors, 1);
                self.unwatch_all(slot);
                return Flow::Continue;
            }
            Checked::Reject(message) => {
                client.reply_now(|out| out.error(&message));
                // As Redis: a command refused inside MULTI dooms the EXEC.
                if let Some(multi) = client.multi.as_mut() {
                    multi.failed = true;
                }
                bump(&self.shared.stats[self.id].errors, 1);
                return Flow::Continue;
            }
        };
        let (in_multi, in_txn) = (client.multi.is_some(), client.txn.is_some());
        if in_multi && self.queue_in_multi(slot, spec, args).is_some() {
            return Flow::Continue;
        }
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return Flow::Close;
        };
        let client = &mut conn.client;
        // Commands over several or all shards are barriers in the pipeline:
        // they wait for this client's earlier replies, and later commands
        // wait for them, so a pipeline behaves as if run one by one.
        let placement = match spec.exec {
            Exec::Shard(_) => key_placement(spec, args, workers),
            _ => KeyPlacement::Keyless,
        };
        // A blocking command is one too: nothing after it runs while the
        // client is blocked.
        let barrier = match spec.exec {
            Exec::FanOut(_) => true,
            Exec::Shard(_) => placement == KeyPlacement::Many || blocking::is_blocking(spec),
            Exec::Local(local) => is_fan_out_local(local, args),
        } || transaction_barrier(spec, in_txn);
        if barrier && !client.pending.is_empty() {
            return Flow::StallBefore;
        }
        client.last_command = spec.name;
        if self.shared.monitor_count.load(Ordering::Relaxed) > 0
            && !matches!(spec.exec, Exec::Local(cmd::Local::Monitor))
        {
            self.feed_monitors(slot, args);
        }
        let in_transaction = in_txn && self.in_transaction(slot, spec, args).is_some();
        let keep_open = in_transaction
            || match spec.exec {
                Exec::Local(local) => self.run_local(slot, local, args),
                Exec::FanOut(kind) => {
                    self.start_fanout(slot, kind, args);
                    true
                }
                Exec::Shard(handler) => {
                    self.route(slot, spec, handler, args, placement);
                    true
                }
            };
        let elapsed_us = clock.lap_us();
        let stats = &self.shared.stats[self.id];
        let index = table::index_of(spec);
        bump(&stats.commands, 1);
        let counters = &stats.per_command[index];
        bump(&counters.calls, 1);
        bump(&counters.usec, elapsed_us);
        let threshold_us = self.shared.slowlog_threshold_us.load(Ordering::Relaxed);
        if threshold_us >= 0 && elapsed_us as i64 >= threshold_us {
            self.record_slow(slot, args, elapsed_us);
        }
        let awaiting = self
            .conns
            .get(slot)
            .and_then(Option::as_ref)
            .is_some_and(|conn| !conn.client.pending.is_empty());
        match (keep_open, barrier && awaiting) {
            (false, _) => Flow::Close,
            (true, true) => Flow::StallAfter,
            (true, false) => Flow::Continue,
        }
    }

    fn record_slow(&mut self, slot: usize, args: &[&[u8]], elapsed_us: u64) {
        let max_len = self.shared.slowlog_max_len.load(Ordering::Relaxed);
        let (addr, name) = match self.conns.get(slot).and_then(Option::as_ref) {
            Some(conn) => (conn.client.addr.clone(), conn.client.name.clone()),
            None => (String::new(), Vec::new()),
        };
        if let Ok(mut log) = self.shared.slowlog.lock() {
            log.record(
                args,
                elapsed_us,
                self.now_ms / 1000,
                (&addr, &name),
                max_len,
            );
        }
    }

    /// Sends a shard command where its keys live.
    fn route(
        &mut self,
        slot: usize,
        spec: &'static CommandSpec,
        handler: cmd::table::ShardHandler,
        args: &[&[u8]],
        placement: KeyPlacement,
    ) {
        let now_ms = self.now_ms;
        let (target, spans_shards) = match placement {
            KeyPlacement::Keyless => (self.id, false),
            KeyPlacement::One(shard) => (shard, false),
            KeyPlacement::Many => (self.id, true),
        };
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let db = conn.client.db;
        if blocking::is_blocking(spec) {
            self.start_blocking(slot, spec, args);
            return;
        }
        if spans_shards {
            self.start_tx(slot, spec, args);
            return;
        }
        // The key positions are needed only when some lock is held here:
        // the common case skips computing them.
        let locked = !self.locks.is_idle()
            && (self.locks.has_waiting()
                || self.locks.any_locked(
                    db,
                    command_key_positions(spec, args).iter().map(|&p| args[p]),
                ));
        if target == self.id && !locked {
            self.refresh_shard_settings();
            let Worker {
                shard,
                conns,
                versions,
                ..
            } = self;
            let Some(conn) = conns.get_mut(slot).and_then(Option::as_mut) else {
                return;
            };
            if versions.is_empty() {
                conn.client.reply_now(|out| {
                    handler(
                        &mut ShardCtx {
                            shard,
                            db,
                            now_ms,
                            out,
                            blocked: false,
                        },
                        args,
                    )
                });
                self.after_write(spec, args, db, None);
            } else {
                // Someone watches a key: whether this write changed its
                // keys shows in the reply.
                let mut out = ReplyEncoder::new(conn.client.resp());
                handler(
                    &mut ShardCtx {
                        shard,
                        db,
                        now_ms,
                        out: &mut out,
                        blocked: false,
                    },
                    args,
                );
                let reply = out.take_bytes();
                conn.client.reply_now(|out| out.raw(&reply));
                self.after_write(spec, args, db, Some(&reply));
            }
            return;
        }
        let Some((origin, db, resp)) = self.await_origin(slot) else {
            return;
        };
        let args = args.iter().map(|arg| arg.to_vec()).collect();
        self.deliver(
            target,
            Msg::Run {
                origin,
                db,
                resp,
                args,
            },
        );
    }

    /// Reserves the next reply slot of the client in `slot` for a reply that
    /// comes later: where it goes, and the client's database and protocol.
    pub(super) fn await_origin(
        &mut self,
        slot: usize,
    ) -> Option<(Origin, usize, shoal_protocol::RespVersion)> {
        let client = &mut self.conns.get_mut(slot).and_then(Option::as_mut)?.client;
        let origin = Origin {
            worker: self.id,
            client: client.id,
            seq: client.await_reply(),
        };
        Some((origin, client.db, client.resp()))
    }

    /// Sends an encoded reply to the worker of the client it answers.
    pub(super) fn send_reply(&mut self, origin: Origin, mut out: ReplyEncoder) {
        let bytes = out.take_bytes();
        self.deliver(origin.worker, Msg::Reply { origin, bytes });
    }

    /// Hands a reply to the client it belongs to, on this worker.
    pub(super) fn complete(&mut self, origin: Origin, bytes: Vec<u8>) {
        debug_assert_eq!(origin.worker, self.id);
        let Some(&slot) = self.by_client_id.get(&origin.client) else {
            return;
        };
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
            conn.client.fill(origin.seq, bytes);
            // A client stalled behind a pipeline barrier parses on once
            // nothing is awaited.
            if conn.client.stalled && conn.client.pending.is_empty() {
                conn.client.stalled = false;
                self.resume.push(slot);
            }
            self.mark_dirty(slot);
        }
    }

    /// Runs a shard handler on this worker's shard into a fresh encoder:
    /// the reply, whether a blocking command found nothing (then the reply
    /// is empty), and the command's spec, looked up once for the caller too.
    pub(super) fn run_on_shard(
        &mut self,
        db: usize,
        resp: shoal_protocol::RespVersion,
        args: &[&[u8]],
    ) -> (Vec<u8>, bool, Option<&'static CommandSpec>) {
        let mut out = ReplyEncoder::new(resp);
        let started = Stopwatch::start();
        self.refresh_shard_settings();
        let spec = cmd::lookup(args[0]);
        let mut blocked = false;
        if let Some(Exec::Shard(handler)) = spec.map(|spec| spec.exec) {
            let mut ctx = ShardCtx {
                shard: &mut self.shard,
                db,
                now_ms: self.now_ms,
                out: &mut out,
                blocked: false,
            };
            handler(&mut ctx, args);
            blocked = ctx.blocked;
        }
        if let Some(spec) = spec {
            let elapsed_us = started.elapsed_us();
            bump(
                &self.shared.stats[self.id].per_command[table::index_of(spec)].usec,
                elapsed_us,
            );
        }
        (out.take_bytes(), blocked, spec)
    }
}

/// Appends `arg` quoted as Redis's `sdscatrepr` quotes it.
fn push_repr(line: &mut Vec<u8>, arg: &[u8]) {
    line.push(b'"');
    for &byte in arg {
        match byte {
            b'\\' => line.extend_from_slice(b"\\\\"),
            b'"' => line.extend_from_slice(b"\\\""),
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            b'\t' => line.extend_from_slice(b"\\t"),
            0x07 => line.extend_from_slice(b"\\a"),
            0x08 => line.extend_from_slice(b"\\b"),
            0x20..=0x7e => line.push(byte),
            _ => line.extend_from_slice(format!("\\x{byte:02x}").as_bytes()),
        }
    }
    line.push(b'"');
}

impl Worker {
    /// Sends a MONITOR line for this command to every monitoring client.
    fn feed_monitors(&mut self, slot: usize, args: &[&[u8]]) {
        let Some(conn) = self.conns.get(slot).and_then(Option::as_ref) else {
            return;
        };
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_micros());
        let mut line = format!(
            "+{}.{:06} [{} {}]",
            micros / 1_000_000,
            micros % 1_000_000,
            conn.client.db,
            conn.client.addr
        )
        .into_bytes();
        for arg in args {
            line.push(b' ');
            push_repr(&mut line, arg);
        }
        line.extend_from_slice(b"\r\n");
        let line: std::sync::Arc<[u8]> = line.into();
        let monitors = self
            .shared
            .monitors
            .lock()
            .map(|monitors| monitors.clone())
            .unwrap_or_default();
        for (worker, client) in monitors {
            self.deliver(
                worker,
                Msg::Monitor {
                    client,
                    line: line.clone(),
                },
            );
        }
    }

    /// Appends a MONITOR line to a monitoring client of this worker.
    pub(super) fn feed_monitor(&mut self, client: u64, line: &[u8]) {
        let Some(&slot) = self.by_client_id.get(&client) else {
            return;
        };
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
            conn.client.out.raw(line);
            self.mark_dirty(slot);
        }
    }
}

/// What running a command next does to the client's pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next command.
    Continue,
    /// Stop: the connection closes after its replies.
    Close,
    /// Stop before this command (it was not run): it is a barrier and
    /// earlier replies are still awaited.
    StallBefore,
    /// Stop after this barrier command until its reply is in.
    StallAfter,
}

/// Where a command's keys live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPlacement {
    /// It has no keys: it runs on the home shard.
    Keyless,
    /// Every key is on this shard.
    One(usize),
    /// Its keys span shards: the multi-shard coordinator runs it.
    Many,
}

/// Where the keys of a shard command live.
pub fn key_placement(spec: &CommandSpec, args: &[&[u8]], workers: usize) -> KeyPlacement {
    // The common cases without collecting positions: one shard holds every
    // key, or the command names exactly one key.
    if workers == 1 {
        return KeyPlacement::One(0);
    }
    let single_key = spec.first_key > 0
        && spec.first_key == spec.last_key
        && spec.find_keys.is_none()
        && spec.subcommands.is_empty();
    if let Some(key) = args.get(spec.first_key as usize).filter(|_| single_key) {
        return KeyPlacement::One(key_shard(key, workers));
    }
    let mut placement = KeyPlacement::Keyless;
    for &position in &command_key_positions(spec, args) {
        let shard = key_shard(args[position], workers);
        placement = match placement {
            KeyPlacement::Keyless => KeyPlacement::One(shard),
            KeyPlacement::One(first) if first == shard => placement,
            _ => return KeyPlacement::Many,
        };
    }
    placement
}

/// Commands of transactions that wait for everything before them and
/// hold back what follows until answered: EXEC and COMMIT run over the
/// state the earlier commands left, WATCH must have recorded its versions
/// before an EXEC checks them, and a command inside BEGIN may wait for
/// keys from other shards.
fn transaction_barrier(spec: &CommandSpec, in_txn: bool) -> bool {
    match spec.exec {
        Exec::Local(local) => matches!(
            local,
            cmd::Local::Exec | cmd::Local::Watch | cmd::Local::Commit
        ),
        Exec::Shard(_) => in_txn,
        Exec::FanOut(_) => false,
    }
}

/// Home-worker commands that gather from every worker.
pub(super) fn is_fan_out_local(local: cmd::Local, args: &[&[u8]]) -> bool {
    match local {
        cmd::Local::Info => true,
        cmd::Local::Client => {
            args.len() >= 2
                && (is(args[1], "LIST") || is(args[1], "KILL") || is(args[1], "UNBLOCK"))
        }
        _ => false,
    }
}

/// The argument positions of a command's keys, subcommands included.
pub fn command_key_positions(spec: &CommandSpec, args: &[&[u8]]) -> smallvec::SmallVec<[usize; 8]> {
    if !spec.subcommands.is_empty() {
        let has_key =
            args.len() >= 3 && find_subcommand(spec, args[1]).is_some_and(|sub| sub.first_key > 0);
        return if has_key {
            smallvec::smallvec![2]
        } else {
            smallvec::SmallVec::new()
        };
    }
    cmd::key_positions(spec, args)
}
