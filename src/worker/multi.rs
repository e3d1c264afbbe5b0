//! MULTI / EXEC / DISCARD / WATCH / UNWATCH, as Redis 7 has them, atomic
//! across shards.
//!
//! Commands queue on the client. EXEC runs them in one of two ways:
//! - every key (queued or watched) lives on this worker's shard and no
//!   lock is held on it: they run here and now, one after the other, and
//!   nothing else runs on the shard meanwhile;
//! - otherwise EXEC locks every key it touches, shard by shard in
//!   ascending order (each shard also checks the watched keys it holds),
//!   gathers their entries in one message per shard, runs the commands
//!   over them here, and sends each shard its final entries in one message
//!   that also releases the locks. No other client sees a state between
//!   two of its commands.
//!
//! WATCH records each key's version on its shard (see `versions`); EXEC
//! fails with a null reply when one moved or a live key expired.

use shoal_protocol::ReplyEncoder;

use super::changes::reply_says_unchanged;
use super::dispatch::{command_key_positions, is_fan_out_local};
use super::locking::{lock_plan, plan_index, LockPlan, LockStep, Locking};
use super::msg::{DbKey, Msg, Origin, VersionCheck};
use super::tx::{db_keys, keys_by_shard};
use super::Worker;
use crate::cmd::args::is;
use crate::cmd::{self, CommandSpec, Exec, FanOut, Local, ShardCtx};
use crate::shard::{Record, Shard};
use crate::slot::key_shard;

/// Redis's reply to EXEC after a command failed to queue.
const EXECABORT: &[u8] = b"EXECABORT Transaction discarded because of previous errors.";

/// Redis's answer to MONITOR inside EXEC (it would block the client).
const MONITOR_IN_EXEC: &[u8] = b"ERR MONITOR isn't allowed for DENY BLOCKING client";

/// A client's MULTI: what it queued, and whether something failed to queue.
#[derive(Debug, Default)]
pub struct MultiState {
    /// The commands, in order.
    pub queued: Vec<Vec<Vec<u8>>>,
    /// A command was refused while queueing: EXEC aborts.
    pub failed: bool,
}

/// One key a client WATCHes.
#[derive(Debug, Clone)]
pub struct WatchedKey {
    /// Database and key.
    pub key: DbKey,
    /// Its version when watched.
    pub version: u64,
    /// Whether it held a live value then.
    pub live: bool,
}

/// An EXEC that locks keys on other shards, on its client's worker.
#[derive(Debug)]
pub struct ExecTx {
    origin: Origin,
    resp: shoal_protocol::RespVersion,
    queued: Vec<Vec<Vec<u8>>>,
    /// (shard, keys, checks) in ascending shard order: the lock order.
    plan: LockPlan,
    locking: Locking,
    gathered: Vec<(DbKey, Option<Record>)>,
    /// Watched keys, tracked until every check is done: an untracked key
    /// forgets its version.
    watched: Vec<DbKey>,
}

/// Whether a command runs at once even inside MULTI, as in Redis.
fn runs_inside_multi(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// The database each queued command runs in: the client's, changed by
/// the SELECTs queued before it.
fn databases_of(queued: &[Vec<Vec<u8>>], mut db: usize, databases: usize) -> Vec<usize> {
    queued
        .iter()
        .map(|args| {
            let here = db;
            if args.len() == 2 && is(&args[0], "SELECT") {
                if let Some(index) = std::str::from_utf8(&args[1])
                    .ok()
                    .and_then(|text| text.parse::<usize>().ok())
                    .filter(|&index| index < databases)
                {
                    db = index;
                }
            }
            here
        })
        .collect()
}

impl Worker {
    /// Queues a command of a client inside MULTI, or runs it when it is one
    /// of those that act on the transaction itself. `None`: run it.
    pub(super) fn queue_in_multi(
        &mut self,
        slot: usize,
        spec: &'static CommandSpec,
        args: &[&[u8]],
    ) -> Option<()> {
        if runs_inside_multi(spec) {
            return None;
        }
        let workers = self.shared.workers;
        let client = &mut self.conns.get_mut(slot)?.as_mut()?.client;
        let multi = client.multi.as_mut()?;
        let upper = spec.name.to_ascii_uppercase();
        let refusal = if spec.flags.contains(&"no_multi") {
            Some(b"ERR Command not allowed inside a transaction".to_vec())
        } else if matches!(
            spec.exec,
            Exec::Local(Local::Begin | Local::Commit | Local::Rollback)
        ) {
            Some(format!("ERR {upper} inside MULTI is not allowed").into_bytes())
        } else if workers > 1
            && match spec.exec {
                Exec::FanOut(_) => true,
                Exec::Local(local) => is_fan_out_local(local, args),
                Exec::Shard(_) => false,
            }
        {
            Some(
                format!("ERR {upper} inside MULTI is not supported with more than one thread")
                    .into_bytes(),
            )
        } else {
            None
        };
        match refusal {
            Some(message) => {
                multi.failed = true;
                client.reply_now(|out| out.error(&message));
            }
            None => {
                // As Redis: once doomed, the queue stops growing.
                if !multi.failed {
                    multi
                        .queued
                        .push(args.iter().map(|arg| arg.to_vec()).collect());
                }
                client.reply_now(|out| out.simple_string(b"QUEUED"));
            }
        }
        Some(())
    }

    /// MULTI.
    pub(super) fn multi(&mut self, slot: usize) {
        let Some(client) = self.client_mut(slot) else {
            return;
        };
        if client.txn.is_some() {
            client.reply_now(|out| out.error(b"ERR MULTI inside BEGIN is not allowed"));
        } else if client.multi.is_some() {
            client.reply_now(|out| out.error(b"ERR MULTI calls can not be nested"));
        } else {
            client.multi = Some(MultiState::default());
            client.reply_now(|out| out.ok());
        }
    }

    /// DISCARD.
    pub(super) fn discard(&mut self, slot: usize) {
        let Some(client) = self.client_mut(slot) else {
            return;
        };
        if client.multi.take().is_none() {
            client.reply_now(|out| out.error(b"ERR DISCARD without MULTI"));
            return;
        }
        client.reply_now(|out| out.ok());
        self.unwatch_all(slot);
    }

    /// WATCH key [key ...].
    pub(super) fn watch(&mut self, slot: usize, args: &[&[u8]]) {
        let workers = self.shared.workers;
        let Some(client) = self.client_mut(slot) else {
            return;
        };
        if client.multi.is_some() {
            client.reply_now(|out| out.error(b"ERR WATCH inside MULTI is not allowed"));
            return;
        }
        if client.txn.is_some() {
            client.reply_now(|out| out.error(b"ERR WATCH inside BEGIN is not allowed"));
            return;
        }
        let db = client.db;
        let new_keys = args[1..]
            .iter()
            .map(|key| (db, Box::<[u8]>::from(*key)))
            .filter(|key| !client.watched.iter().any(|watched| watched.key == *key));
        let mut by_shard = keys_by_shard(new_keys, workers);
        let home = self.id;
        if let Some(keys) = by_shard.remove(&home) {
            let found: Vec<WatchedKey> = keys
                .into_iter()
                .map(|key| {
                    let version = self.versions.track(&key, None);
                    let live = self.is_live(&key);
                    WatchedKey { key, version, live }
                })
                .collect();
            if let Some(client) = self.client_mut(slot) {
                client.watched.extend(found);
            }
        }
        if by_shard.is_empty() {
            if let Some(client) = self.client_mut(slot) {
                client.reply_now(|out| out.ok());
            }
            return;
        }
        let Some((origin, _, _)) = self.await_origin(slot) else {
            return;
        };
        if let Some(client) = self.client_mut(slot) {
            client.watch_replies_due = by_shard.len();
        }
        for (shard, keys) in by_shard {
            self.deliver(shard, Msg::Watch { origin, keys });
        }
    }

    /// Versions of watched keys from another shard.
    pub(super) fn watched(&mut self, origin: Origin, entries: Vec<(DbKey, u64, bool)>) {
        let Some(&slot) = self.by_client_id.get(&origin.client) else {
            // The client left: nobody depends on the keys any more.
            self.untrack_keys(entries.into_iter().map(|(key, _, _)| key), None);
            return;
        };
        let Some(client) = self.client_mut(slot) else {
            return;
        };
        client
            .watched
            .extend(entries.into_iter().map(|(key, version, live)| WatchedKey {
                key,
                version,
                live,
            }));
        client.watch_replies_due = client.watch_replies_due.saturating_sub(1);
        if client.watch_replies_due == 0 {
            let mut out = ReplyEncoder::new(client.resp());
            out.ok();
            self.complete(origin, out.take_bytes());
        }
    }

    /// UNWATCH.
    pub(super) fn unwatch(&mut self, slot: usize) {
        self.unwatch_all(slot);
        if let Some(client) = self.client_mut(slot) {
            client.reply_now(|out| out.ok());
        }
    }

    /// Forgets every key the client watches, on their shards.
    pub(super) fn unwatch_all(&mut self, slot: usize) {
        let Some(client) = self.client_mut(slot) else {
            return;
        };
        let watched = std::mem::take(&mut client.watched);
        self.untrack_keys(watched.into_iter().map(|watched| watched.key), None);
    }

    /// Stops tracking `keys` for a watcher or a transaction, shard by shard.
    pub(super) fn untrack_keys(&mut self, keys: impl Iterator<Item = DbKey>, reader: Option<u64>) {
        for (shard, keys) in keys_by_shard(keys, self.shared.workers) {
            if shard == self.id {
                keys.iter()
                    .for_each(|key| self.versions.untrack(key, reader));
            } else {
                self.deliver(shard, Msg::Untrack { keys, reader });
            }
        }
    }

    /// Whether a key watched on this shard is as it was.
    fn watch_holds(&self, watched: &WatchedKey) -> bool {
        self.versions.version(&watched.key) == watched.version
            && (!watched.live || self.is_live(&watched.key))
    }

    /// EXEC.
    pub(super) fn exec(&mut self, slot: usize) {
        let databases = self.shared.databases;
        let workers = self.shared.workers;
        let Some(client) = self.client_mut(slot) else {
            return;
        };
        let Some(multi) = client.multi.take() else {
            client.reply_now(|out| out.error(b"ERR EXEC without MULTI"));
            return;
        };
        if multi.failed {
            client.reply_now(|out| out.error(EXECABORT));
            self.unwatch_all(slot);
            return;
        }
        let watched = std::mem::take(&mut client.watched);
        let dbs = databases_of(&multi.queued, client.db, databases);
        let mut keys: Vec<DbKey> = Vec::new();
        for (args, &db) in multi.queued.iter().zip(&dbs) {
            let borrowed: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            if let Some(spec) = cmd::lookup(borrowed[0]) {
                if matches!(spec.exec, Exec::Shard(_)) {
                    keys.extend(db_keys(spec, &borrowed, db, databases));
                }
            }
        }
        keys.extend(watched.iter().map(|watched| watched.key.clone()));
        keys.sort_unstable();
        keys.dedup();
        let home = self.id;
        let all_home = keys.iter().all(|key| key_shard(&key.1, workers) == home);
        // A transaction without keys locks nothing: it runs here even while
        // others wait for this shard's locks.
        let locked_here = !keys.is_empty()
            && !self.locks.is_idle()
            && (self.locks.has_waiting() || self.locks.any_db_key_locked(&keys));
        if all_home && !locked_here {
            let stale = watched.iter().any(|watched| !self.watch_holds(watched));
            self.untrack_keys(watched.into_iter().map(|watched| watched.key), None);
            if stale {
                if let Some(client) = self.client_mut(slot) {
                    client.reply_now(|out| out.null_array());
                }
                return;
            }
            self.exec_here(slot, multi.queued);
            return;
        }
        self.exec_locked(slot, multi.queued, keys, watched);
    }

    /// Runs queued commands on this shard, now, one after the other.
    fn exec_here(&mut self, slot: usize, queued: Vec<Vec<Vec<u8>>>) {
        if let Some(client) = self.client_mut(slot) {
            client.reply_now(|out| out.array(queued.len()));
        }
        for args in &queued {
            let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let Some(spec) = cmd::lookup(args[0]) else {
                continue;
            };
            self.count_call(spec);
            match spec.exec {
                Exec::Shard(_) => {
                    self.refresh_shard_settings();
                    let now_ms = self.now_ms;
                    let Worker { shard, conns, .. } = self;
                    let Some(conn) = conns.get_mut(slot).and_then(Option::as_mut) else {
                        return;
                    };
                    let db = conn.client.db;
                    let reply = run_in_exec(shard, db, now_ms, conn.client.resp(), spec, &args);
                    conn.client.reply_now(|out| out.raw(&reply));
                    self.after_write(spec, &args, db, Some(&reply));
                }
                Exec::Local(Local::Monitor) => {
                    if let Some(client) = self.client_mut(slot) {
                        client.reply_now(|out| out.error(MONITOR_IN_EXEC));
                    }
                }
                Exec::Local(local) => {
                    self.run_local(slot, local, &args);
                }
                Exec::FanOut(kind) => self.fan_out_now(slot, kind, &args),
            }
        }
    }

    /// Starts an EXEC that locks keys shard by shard.
    fn exec_locked(
        &mut self,
        slot: usize,
        queued: Vec<Vec<Vec<u8>>>,
        keys: Vec<DbKey>,
        watched: Vec<WatchedKey>,
    ) {
        let workers = self.shared.workers;
        let plan = lock_plan(keys_by_shard(keys, workers), |key| {
            let watched = watched.iter().find(|watched| watched.key == *key)?;
            Some(VersionCheck {
                key: key.clone(),
                version: watched.version,
                must_be_live: watched.live,
                written: false,
            })
        });
        let watched: Vec<DbKey> = watched.into_iter().map(|watched| watched.key).collect();
        let Some((origin, _, resp)) = self.await_origin(slot) else {
            self.untrack_keys(watched.into_iter(), None);
            return;
        };
        let tx = self
            .shared
            .next_tx
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.start_locking(tx, &plan, true);
        let state = ExecTx {
            origin,
            resp,
            queued,
            locking: Locking::new(plan.len()),
            plan,
            gathered: Vec::new(),
            watched,
        };
        self.execs.insert(tx, state);
    }

    /// A shard answered an EXEC's or a COMMIT's lock request.
    pub(super) fn tx_locked_for_transaction(
        &mut self,
        tx: u64,
        shard: usize,
        entries: Vec<(DbKey, Option<Record>)>,
        stale: bool,
        busy: bool,
    ) {
        if self.commits.contains_key(&tx) {
            self.commit_locked(tx, shard, stale, busy);
            return;
        }
        let Some(mut state) = self.execs.remove(&tx) else {
            return;
        };
        let Some(index) = plan_index(&state.plan, shard) else {
            debug_assert!(false, "an answer from a shard outside the plan");
            return;
        };
        state.gathered.extend(entries);
        match state.locking.answer(index, busy, stale, state.plan.len()) {
            LockStep::Wait => {
                self.execs.insert(tx, state);
            }
            LockStep::AskNext(next) => {
                self.ask_lock(tx, &state.plan, next, true, true);
                self.execs.insert(tx, state);
            }
            LockStep::Retry(granted) => {
                self.release_granted(tx, &state.plan, &granted);
                state.gathered.clear();
                self.ask_lock(tx, &state.plan, 0, true, true);
                self.execs.insert(tx, state);
            }
            LockStep::Stale(granted) => {
                self.release_granted(tx, &state.plan, &granted);
                self.untrack_keys(std::mem::take(&mut state.watched).into_iter(), None);
                let mut out = ReplyEncoder::new(state.resp);
                out.null_array();
                self.send_reply(state.origin, out);
            }
            LockStep::Locked => self.finish_exec(tx, state),
        }
    }

    /// Every lock is held: run the queued commands over the gathered
    /// entries, reply, and hand each shard its final entries.
    fn finish_exec(&mut self, tx: u64, mut state: ExecTx) {
        self.untrack_keys(std::mem::take(&mut state.watched).into_iter(), None);
        let counters = self.shard.tracking.counters.clone();
        let mut scratch = Shard::new(self.id, self.shared.databases, counters);
        self.refresh_shard_settings();
        scratch.apply_settings(self.shard.settings());
        for ((db, key), record) in &state.gathered {
            if let Some(record) = record {
                scratch.db(*db).insert_record(key, record.clone());
            }
        }
        let slot = self.by_client_id.get(&state.origin.client).copied();
        let mut db = slot
            .and_then(|slot| self.client_mut(slot))
            .map_or(0, |client| client.db);
        let mut out = ReplyEncoder::new(state.resp);
        out.array(state.queued.len());
        let mut written: Vec<DbKey> = Vec::new();
        for args in &state.queued {
            let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            let Some(spec) = cmd::lookup(args[0]) else {
                continue;
            };
            self.count_call(spec);
            match spec.exec {
                Exec::Shard(_) => {
                    let reply = run_in_exec(&mut scratch, db, self.now_ms, state.resp, spec, &args);
                    out.raw(&reply);
                    if spec.is_write() && !reply_says_unchanged(spec, &args, &reply) {
                        written.extend(db_keys(spec, &args, db, self.shared.databases));
                    }
                }
                Exec::Local(Local::Monitor) => out.error(MONITOR_IN_EXEC),
                Exec::Local(local) => {
                    let reply = slot.map(|slot| self.run_local_captured(slot, local, &args));
                    match reply {
                        Some(bytes) => out.raw(&bytes),
                        // The client left: its connection commands do nothing.
                        None => out.null(),
                    }
                    if let Some(client) = slot.and_then(|slot| self.client_mut(slot)) {
                        db = client.db;
                    }
                }
                Exec::FanOut(_) => {
                    debug_assert!(false, "keyspace-wide commands are refused at queue time");
                    out.null();
                }
            }
        }
        for (shard, keys, _) in &state.plan {
            let writes = keys
                .iter()
                .filter(|key| written.contains(key))
                .map(|(db, key)| ((*db, key.clone()), scratch.db(*db).remove(key)))
                .collect();
            self.deliver(
                *shard,
                Msg::Apply {
                    tx,
                    keys: keys.clone(),
                    writes,
                    waiter: None,
                },
            );
        }
        self.send_reply(state.origin, out);
    }

    /// Counts a command run inside EXEC, as Redis counts each one it calls.
    fn count_call(&self, spec: &'static CommandSpec) {
        let stats = &self.shared.stats[self.id];
        super::shared::bump(&stats.commands, 1);
        super::shared::bump(
            &stats.per_command[crate::cmd::table::index_of(spec)].calls,
            1,
        );
    }

    /// Runs a connection command for the client in `slot`, returning its
    /// reply instead of sending it (for EXEC's array).
    fn run_local_captured(&mut self, slot: usize, local: Local, args: &[&[u8]]) -> Vec<u8> {
        let Some(client) = self.client_mut(slot) else {
            return Vec::new();
        };
        let resp = client.resp();
        let pending = std::mem::take(&mut client.pending);
        let out = std::mem::replace(&mut client.out, ReplyEncoder::new(resp));
        self.run_local(slot, local, args);
        let Some(client) = self.client_mut(slot) else {
            return Vec::new();
        };
        let mut captured = std::mem::replace(&mut client.out, out);
        // HELLO inside EXEC switches the connection's protocol.
        client.out.set_version(captured.version());
        debug_assert!(
            client.pending.is_empty(),
            "a captured command replied later"
        );
        client.pending = pending;
        captured.take_bytes()
    }

    /// Records a write command's keys as written, for watchers and
    /// transactions, and wakes clients blocked on them.
    /// `reply` is its encoded reply, when known (it is whenever a key is
    /// tracked): a failed or no-op write changes nothing.
    pub(super) fn after_write(
        &mut self,
        spec: &CommandSpec,
        args: &[&[u8]],
        db: usize,
        reply: Option<&[u8]>,
    ) {
        // Only while some key is tracked: the common write pays one check.
        if !self.versions.is_empty()
            && spec.is_write()
            && reply.is_none_or(|reply| !reply_says_unchanged(spec, args, reply))
        {
            let databases = self.shared.databases;
            for (key_db, key) in db_keys(spec, args, db, databases) {
                self.versions.touch(key_db, &key);
            }
        }
        if !self.registry.is_empty() {
            let positions = command_key_positions(spec, args);
            self.wake_waiters(positions.iter().map(|&position| args[position]));
        }
    }

    /// A keyspace-wide command inside EXEC on a single-shard server: its
    /// one part computed and answered now.
    fn fan_out_now(&mut self, slot: usize, kind: FanOut, args: &[&[u8]]) {
        debug_assert_eq!(self.shared.workers, 1, "refused at queue time otherwise");
        let Some((request, gather, _)) = self.plan_fanout(slot, kind, args) else {
            return;
        };
        let Some(client) = self.client_mut(slot) else {
            return;
        };
        let db = client.db;
        let result = self.compute_part(db, request);
        if let Some(client) = self.client_mut(slot) {
            client.reply_now(|out| super::fanout::reply_single_part(out, gather, result));
        }
    }

    /// A flush empties tracked keys: their watchers must see it.
    pub(super) fn touch_flushed(&mut self, db: Option<usize>) {
        let now_ms = self.now_ms;
        let Worker {
            versions, shard, ..
        } = self;
        versions.touch_flushed(db, |key_db, key| {
            shard.db_ref(key_db).peek_entry(key, now_ms).is_some()
        });
    }

    /// The client in `slot`.
    pub(super) fn client_mut(&mut self, slot: usize) -> Option<&mut crate::client::Client> {
        Some(&mut self.conns.get_mut(slot)?.as_mut()?.client)
    }
}

/// Runs one queued shard command: a blocking one does not block inside a
/// transaction, it answers as if its timeout passed, as Redis does.
fn run_in_exec(
    shard: &mut Shard,
    db: usize,
    now_ms: u64,
    resp: shoal_protocol::RespVersion,
    spec: &CommandSpec,
    args: &[&[u8]],
) -> Vec<u8> {
    let Exec::Shard(handler) = spec.exec else {
        return Vec::new();
    };
    let mut out = ReplyEncoder::new(resp);
    let mut ctx = ShardCtx {
        shard,
        db,
        now_ms,
        out: &mut out,
        blocked: false,
    };
    handler(&mut ctx, args);
    if ctx.blocked {
        // Redis's blocking commands check CLIENT_DENY_BLOCKING themselves:
        // the moving ones answer a null bulk, the others a null array.
        if matches!(spec.name, "blmove" | "brpoplpush") {
            out.null();
        } else {
            crate::cmd::blocking::write_timeout_reply(&mut out);
        }
    }
    out.take_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(words: &[&str]) -> Vec<Vec<u8>> {
        words.iter().map(|word| word.as_bytes().to_vec()).collect()
    }

    #[test]
    fn select_changes_the_database_of_later_commands() {
        let queued = vec![
            command(&["SET", "a", "1"]),
            command(&["SELECT", "3"]),
            command(&["SET", "a", "2"]),
            command(&["SELECT", "99"]),
            command(&["GET", "a"]),
        ];
        assert_eq!(databases_of(&queued, 1, 16), vec![1, 1, 3, 3, 3]);
    }

    #[test]
    fn transaction_commands_run_inside_multi() {
        for name in ["exec", "discard", "multi", "watch", "quit", "reset"] {
            let spec = cmd::lookup(name.as_bytes()).expect("in the table");
            assert!(runs_inside_multi(spec), "{name}");
        }
        let spec = cmd::lookup(b"set").expect("in the table");
        assert!(!runs_inside_multi(spec));
    }
}
