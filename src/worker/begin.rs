//! BEGIN / COMMIT / ROLLBACK: interactive, serializable transactions over
//! two-phase commit. The coordinator of a client's transaction lives on
//! the client's worker.
//!
//! - Reads: the first time a transaction touches a key, the key's shard
//!   sends its entry and version and tracks the key for the transaction.
//!   The copy goes into the transaction's private overlay, where every
//!   later command of the transaction runs, so reads see its own writes
//!   and nothing is visible to others before COMMIT.
//! - COMMIT, phase one: each involved shard, in ascending order, locks the
//!   transaction's keys and checks that their versions did not move and
//!   that no older open transaction read a key it writes (the older one
//!   wins, so an old transaction never starves under young ones; only a
//!   retry after a conflict holds younger writers back this way, so a long
//!   first attempt stalls nobody).
//!   Phase two: every shard agreed, so each applies its final entries and
//!   releases; otherwise every shard releases, nothing is applied, and
//!   COMMIT answers `-CONFLICT`. Locks are taken in shard order, so two
//!   commits never wait on each other in a cycle.

use ahash::{AHashMap, AHashSet};
use shoal_protocol::ReplyEncoder;

use super::changes::reply_says_unchanged;
use super::locking::{lock_plan, plan_index, LockPlan, LockStep, Locking};
use super::msg::{DbKey, Msg, Origin, VersionCheck};
use super::tx::{db_keys, keys_by_shard};
use super::Worker;
use crate::cmd::{self, CommandSpec, Exec, ShardCtx};
use crate::shard::{Record, Shard};

/// COMMIT's reply when a key the transaction used changed meanwhile.
pub const CONFLICT: &[u8] =
    b"CONFLICT transaction aborted: a key it used was changed by another client; nothing was applied, retry it";
/// The reply to a transaction open past `transaction-timeout`.
pub const TXABORTED: &[u8] =
    b"TXABORTED transaction aborted: open longer than transaction-timeout; ROLLBACK and retry";

/// A client's open BEGIN transaction.
pub struct Interactive {
    /// Its id, which is also its age (smaller is older): kept by the next
    /// BEGIN of the client after a conflict, so a retried transaction
    /// grows older and eventually wins.
    pub id: u64,
    /// A retry after a conflict: its reads hold back younger writers, so
    /// it cannot lose the same way forever. A first attempt holds back
    /// nobody (a long reader would otherwise stall every writer).
    priority: bool,
    started_ms: u64,
    /// Aborted for running past `transaction-timeout`.
    aborted: bool,
    /// Private copies of the keys it touched, where its commands run.
    overlay: Shard,
    /// Every key it touched, with the version it read.
    fetched: AHashMap<DbKey, u64>,
    /// Keys its write commands touched.
    written: AHashSet<DbKey>,
    /// A command waiting for keys from other shards.
    parked: Option<Parked>,
}

impl std::fmt::Debug for Interactive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interactive")
            .field("id", &self.id)
            .field("aborted", &self.aborted)
            .field("keys", &self.fetched.len())
            .finish()
    }
}

/// A command of a transaction waiting for its keys.
struct Parked {
    origin: Origin,
    args: Vec<Vec<u8>>,
    db: usize,
    /// Shards yet to answer.
    due: usize,
}

/// A COMMIT in progress on its client's worker.
#[derive(Debug)]
pub struct CommitTx {
    origin: Origin,
    /// How its reads are tracked (see `Interactive::priority`).
    reader: Option<u64>,
    /// (shard, keys, checks) in ascending shard order: the lock order.
    plan: LockPlan,
    locking: Locking,
    /// The final entry of every written key.
    writes: Vec<(DbKey, Option<Record>)>,
}

/// Keyspace-wide commands a transaction cannot run (it reads keys one by one).
fn keyspace_wide(spec: &CommandSpec) -> bool {
    matches!(spec.exec, Exec::FanOut(_)) || spec.name == "swapdb"
}

impl Worker {
    /// BEGIN.
    pub(super) fn begin(&mut self, slot: usize) {
        let databases = self.shared.databases;
        let counters = self.shard.tracking.counters.clone();
        let next = self
            .shared
            .next_tx
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.refresh_shard_settings();
        let mut overlay = Shard::new(self.id, databases, counters);
        overlay.apply_settings(self.shard.settings());
        let now_ms = self.now_ms;
        let Some(client) = self.client_mut(slot) else {
            return;
        };
        if client.txn.is_some() {
            client.reply_now(|out| out.error(b"ERR BEGIN calls can not be nested"));
            return;
        }
        let retry = client.retry_age.take();
        let id = retry.unwrap_or(next);
        client.txn = Some(Box::new(Interactive {
            id,
            priority: retry.is_some(),
            started_ms: now_ms,
            aborted: false,
            overlay,
            fetched: AHashMap::new(),
            written: AHashSet::new(),
            parked: None,
        }));
        client.reply_now(|out| out.ok());
    }

    /// ROLLBACK.
    pub(super) fn rollback(&mut self, slot: usize) {
        let Some(client) = self.client_mut(slot) else {
            return;
        };
        match client.txn.take() {
            None => client.reply_now(|out| out.error(b"ERR ROLLBACK without BEGIN")),
            Some(txn) => {
                client.reply_now(|out| out.ok());
                self.forget_transaction(*txn);
            }
        }
    }

    /// Ends a transaction without applying it: its keys are no longer
    /// tracked for it.
    pub(super) fn forget_transaction(&mut self, txn: Interactive) {
        let reader = txn.reader();
        self.untrack_keys(txn.fetched.into_keys(), reader);
    }

    /// What a command of a client inside BEGIN does instead of running as
    /// usual; `None`: it runs as usual (a connection command).
    pub(super) fn in_transaction(
        &mut self,
        slot: usize,
        spec: &'static CommandSpec,
        args: &[&[u8]],
    ) -> Option<()> {
        let client = self.client_mut(slot)?;
        let txn = client.txn.as_mut()?;
        let ends_it = matches!(spec.name, "commit" | "rollback" | "reset" | "quit");
        if txn.aborted && !ends_it {
            client.reply_now(|out| out.error(TXABORTED));
            return Some(());
        }
        if keyspace_wide(spec) {
            let message = format!(
                "ERR {} is not allowed inside BEGIN",
                spec.name.to_ascii_uppercase()
            );
            client.reply_now(|out| out.error(message.as_bytes()));
            return Some(());
        }
        let Exec::Shard(_) = spec.exec else {
            return None;
        };
        if super::blocking::is_blocking(spec) {
            client
                .reply_now(|out| out.error(b"ERR blocking commands are not allowed inside BEGIN"));
            return Some(());
        }
        let db = client.db;
        self.run_transaction_command(slot, spec, args, db);
        Some(())
    }

    /// Brings the command's keys into the transaction (from this shard at
    /// once, from others by message) and runs it when they are all in.
    fn run_transaction_command(
        &mut self,
        slot: usize,
        spec: &'static CommandSpec,
        args: &[&[u8]],
        db: usize,
    ) {
        let workers = self.shared.workers;
        let keys = db_keys(spec, args, db, self.shared.databases);
        let Some(txn) = self.client_mut(slot).and_then(|client| client.txn.as_mut()) else {
            return;
        };
        let id = txn.id;
        let reader = txn.reader();
        let missing = keys
            .into_iter()
            .filter(|key| !txn.fetched.contains_key(key));
        let mut by_shard = keys_by_shard(missing, workers);
        // Keys of this shard come at once unless a commit holds them.
        if let Some(keys) = by_shard.get(&self.id) {
            let busy = !self.locks.is_idle()
                && (self.locks.has_waiting() || self.locks.any_db_key_locked(keys));
            if !busy {
                let keys = by_shard.remove(&self.id).expect("present above");
                let records = self.gather_records(&keys);
                let entries: Vec<_> = records
                    .into_iter()
                    .map(|(key, record)| {
                        let version = self.versions.track(&key, reader);
                        (key, record, version)
                    })
                    .collect();
                if let Some(txn) = self.client_mut(slot).and_then(|client| client.txn.as_mut()) {
                    txn.take_in(entries);
                }
            }
        }
        if by_shard.is_empty() {
            let now_ms = self.now_ms;
            let Some(client) = self.client_mut(slot) else {
                return;
            };
            let Some(txn) = client.txn.as_mut() else {
                return;
            };
            let mut out = ReplyEncoder::new(client.out.version());
            txn.run(spec, args, db, now_ms, &mut out);
            let bytes = out.take_bytes();
            client.reply_now(|out| out.raw(&bytes));
            return;
        }
        let Some((origin, _, _)) = self.await_origin(slot) else {
            return;
        };
        if let Some(txn) = self.client_mut(slot).and_then(|client| client.txn.as_mut()) {
            txn.parked = Some(Parked {
                origin,
                args: args.iter().map(|arg| arg.to_vec()).collect(),
                db,
                due: by_shard.len(),
            });
        }
        for (shard, keys) in by_shard {
            self.deliver(
                shard,
                Msg::Fetch {
                    tx: id,
                    reader,
                    origin,
                    keys,
                },
            );
        }
    }

    /// Keys a transaction asked another shard for.
    pub(super) fn fetched(
        &mut self,
        tx: u64,
        reader: Option<u64>,
        origin: Origin,
        entries: Vec<(DbKey, Option<Record>, u64)>,
    ) {
        let now_ms = self.now_ms;
        let txn = self
            .by_client_id
            .get(&origin.client)
            .copied()
            .and_then(|slot| self.client_mut(slot))
            .and_then(|client| client.txn.as_mut())
            .filter(|txn| txn.id == tx && txn.parked.is_some());
        let Some(txn) = txn else {
            // The transaction ended meanwhile: the shard tracks for nobody.
            self.untrack_keys(entries.into_iter().map(|(key, _, _)| key), reader);
            return;
        };
        txn.take_in(entries);
        let parked = txn.parked.as_mut().expect("filtered above");
        parked.due -= 1;
        if parked.due > 0 {
            return;
        }
        let parked = txn.parked.take().expect("filtered above");
        let args: Vec<&[u8]> = parked.args.iter().map(Vec::as_slice).collect();
        let Some(spec) = cmd::lookup(args[0]) else {
            return;
        };
        let mut out = ReplyEncoder::new(origin_resp(self, origin));
        let Some(txn) = self
            .by_client_id
            .get(&origin.client)
            .copied()
            .and_then(|slot| self.client_mut(slot))
            .and_then(|client| client.txn.as_mut())
        else {
            return;
        };
        txn.run(spec, &args, parked.db, now_ms, &mut out);
        self.complete(parked.origin, out.take_bytes());
    }

    /// COMMIT.
    pub(super) fn commit(&mut self, slot: usize) {
        let workers = self.shared.workers;
        let Some(client) = self.client_mut(slot) else {
            return;
        };
        let Some(txn) = client.txn.take() else {
            client.reply_now(|out| out.error(b"ERR COMMIT without BEGIN"));
            return;
        };
        let mut txn = *txn;
        if txn.aborted {
            client.reply_now(|out| out.error(TXABORTED));
            return;
        }
        if txn.fetched.is_empty() {
            client.reply_now(|out| out.ok());
            return;
        }
        let id = txn.id;
        let keys = txn.fetched.keys().cloned();
        let plan = lock_plan(keys_by_shard(keys, workers), |key| {
            Some(VersionCheck {
                key: key.clone(),
                version: txn.fetched[key],
                must_be_live: false,
                written: txn.written.contains(key),
            })
        });
        let writes = txn
            .written
            .iter()
            .map(|(db, key)| ((*db, key.clone()), txn.overlay.db(*db).remove(key)))
            .collect();
        let Some((origin, _, _)) = self.await_origin(slot) else {
            return;
        };
        self.start_locking(id, &plan, false);
        let state = CommitTx {
            origin,
            reader: txn.reader(),
            locking: Locking::new(plan.len()),
            plan,
            writes,
        };
        self.commits.insert(id, state);
    }

    /// A shard answered a COMMIT's prepare: it locked the transaction's
    /// keys and checked them, or (a first try) found them busy.
    pub(super) fn commit_locked(&mut self, id: u64, shard: usize, stale: bool, busy: bool) {
        let Some(mut state) = self.commits.remove(&id) else {
            return;
        };
        let Some(index) = plan_index(&state.plan, shard) else {
            debug_assert!(false, "an answer from a shard outside the plan");
            return;
        };
        let granted = match state.locking.answer(index, busy, stale, state.plan.len()) {
            LockStep::Wait => {
                self.commits.insert(id, state);
                return;
            }
            LockStep::AskNext(next) => {
                self.ask_lock(id, &state.plan, next, true, false);
                self.commits.insert(id, state);
                return;
            }
            LockStep::Retry(granted) => {
                self.release_granted(id, &state.plan, &granted);
                self.ask_lock(id, &state.plan, 0, true, false);
                self.commits.insert(id, state);
                return;
            }
            LockStep::Stale(granted) => Some(granted),
            LockStep::Locked => None,
        };
        let mut out = ReplyEncoder::new(origin_resp(self, state.origin));
        if let Some(granted) = granted {
            self.release_granted(id, &state.plan, &granted);
            out.error(CONFLICT);
            // The retry keeps this age, so it is older than newcomers.
            if let Some(client) = self
                .by_client_id
                .get(&state.origin.client)
                .copied()
                .and_then(|slot| self.client_mut(slot))
            {
                client.retry_age = Some(id);
            }
        } else {
            let mut writes = state.writes;
            for (shard, keys, _) in &state.plan {
                let (mine, others): (Vec<_>, Vec<_>) =
                    writes.into_iter().partition(|(key, _)| keys.contains(key));
                writes = others;
                self.deliver(
                    *shard,
                    Msg::Apply {
                        tx: id,
                        keys: keys.clone(),
                        writes: mine,
                        waiter: None,
                    },
                );
            }
            out.ok();
        }
        let reader = state.reader;
        let keys = state.plan.into_iter().flat_map(|(_, keys, _)| keys);
        self.untrack_keys(keys, reader);
        self.send_reply(state.origin, out);
    }

    /// Aborts the transactions open longer than `transaction-timeout`.
    pub(super) fn abort_overdue_transactions(&mut self) {
        let limit_ms = self
            .shared
            .config
            .lock()
            .map_or(0, |config| config.transaction_timeout_ms());
        if limit_ms == 0 {
            return;
        }
        let now_ms = self.now_ms;
        let mut overdue = Vec::new();
        for conn in self.conns.iter_mut().flatten() {
            let Some(txn) = conn.client.txn.as_mut() else {
                continue;
            };
            if !txn.aborted
                && txn.parked.is_none()
                && now_ms.saturating_sub(txn.started_ms) > limit_ms
            {
                txn.aborted = true;
                overdue.push((txn.reader(), std::mem::take(&mut txn.fetched)));
                txn.written.clear();
            }
        }
        for (reader, fetched) in overdue {
            self.untrack_keys(fetched.into_keys(), reader);
        }
    }
}

/// The protocol of the client a reply slot belongs to (RESP2 if it left).
fn origin_resp(worker: &mut Worker, origin: Origin) -> shoal_protocol::RespVersion {
    worker
        .by_client_id
        .get(&origin.client)
        .copied()
        .and_then(|slot| worker.client_mut(slot))
        .map_or(shoal_protocol::RespVersion::Resp2, |client| client.resp())
}

impl Interactive {
    /// The reader id its key reads are tracked under: its age when it has
    /// priority, else none.
    fn reader(&self) -> Option<u64> {
        self.priority.then_some(self.id)
    }

    /// Adds keys read from a shard to the overlay.
    fn take_in(&mut self, entries: Vec<(DbKey, Option<Record>, u64)>) {
        for ((db, key), record, version) in entries {
            if let Some(record) = record {
                self.overlay.db(db).insert_record(&key, record);
            }
            self.fetched.insert((db, key), version);
        }
    }

    /// Runs a command over the overlay, its keys all present.
    fn run(
        &mut self,
        spec: &'static CommandSpec,
        args: &[&[u8]],
        db: usize,
        now_ms: u64,
        out: &mut ReplyEncoder,
    ) {
        let Exec::Shard(handler) = spec.exec else {
            return;
        };
        let before = out.len();
        let mut ctx = ShardCtx {
            shard: &mut self.overlay,
            db,
            now_ms,
            out,
            blocked: false,
        };
        handler(&mut ctx, args);
        if spec.is_write() && !reply_says_unchanged(spec, args, &out.as_bytes()[before..]) {
            let databases = self.overlay.databases();
            self.written.extend(db_keys(spec, args, db, databases));
        }
    }
}
