//! The shard's side of messages: run, lock, apply, and answer parts.

use super::msg::{DbKey, Msg, VersionCheck};
use super::Worker;
use crate::cmd;

impl Worker {
    /// Handles one message from another worker or from this one.
    pub(super) fn handle_msg(&mut self, msg: Msg) {
        match msg {
            Msg::Reply { origin, bytes } => {
                self.on_blocking_reply(origin);
                self.settle_orphan(origin, Some(&bytes));
                self.complete(origin, bytes);
            }
            Msg::Blocked { origin, shard } => self.on_blocked(origin, shard),
            Msg::Wake { waiter, shard } => self.on_wake(waiter, shard),
            Msg::Unregister { waiter, keys } => {
                self.registry.unregister(waiter, &keys);
                if keys.is_empty() {
                    self.wake_any_waiters();
                } else {
                    self.wake_waiters(keys.iter().map(|(_, key)| &**key));
                }
            }
            Msg::Monitor { client, line } => self.feed_monitor(client, &line),
            Msg::PartDone { token, result } => self.part_done(token, result),
            Msg::Locked { tx, shard, entries } => self.tx_locked(tx, shard, entries),

            Msg::Release { token, from } => {
                self.locks.release_whole((from, token));
                self.retry_waiting();
            }
            Msg::Apply {
                tx,
                keys,
                writes,
                waiter,
            } => {
                self.apply(tx, &keys, writes);
                if let Some(note) = waiter {
                    self.note_waiter(note);
                }
                self.wake_waiters(keys.iter().map(|(_, key)| &**key));
                self.retry_waiting();
            }
            Msg::TxLocked {
                tx,
                shard,
                entries,
                stale,
                busy,
            } => self.tx_locked_for_transaction(tx, shard, entries, stale, busy),
            ref msg @ Msg::TxLock {
                tx,
                coordinator,
                wait: false,
                ..
            } if self.must_wait(msg) => {
                // Asked without waiting: busy, nothing locked.
                self.answer_lock(coordinator, tx, Vec::new(), false, true);
            }
            Msg::Watch { origin, keys } => {
                let entries = keys
                    .into_iter()
                    .map(|key| {
                        let version = self.versions.track(&key, None);
                        let live = self.is_live(&key);
                        (key, version, live)
                    })
                    .collect();
                self.deliver(origin.worker, Msg::Watched { origin, entries });
            }
            Msg::Watched { origin, entries } => self.watched(origin, entries),
            Msg::Fetched {
                tx,
                reader,
                origin,
                entries,
            } => self.fetched(tx, reader, origin, entries),
            Msg::Untrack { keys, reader } => {
                keys.iter()
                    .for_each(|key| self.versions.untrack(key, reader));
            }
            msg @ (Msg::Run { .. }
            | Msg::Lock { .. }
            | Msg::TxLock { .. }
            | Msg::Fetch { .. }
            | Msg::Part { .. }) => {
                if self.must_wait(&msg) {
                    self.locks.wait(msg);
                } else {
                    self.execute_gated(msg);
                }
            }
        }
    }

    /// Whether a Run or Lock must queue behind held locks or older waiters.
    fn must_wait(&self, msg: &Msg) -> bool {
        if self.locks.is_idle() {
            return false;
        }
        if self.locks.has_waiting() {
            return true;
        }
        match msg {
            Msg::Run { db, args, .. } => {
                let borrowed: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                let Some(spec) = cmd::lookup(borrowed[0]) else {
                    return false;
                };
                let positions = super::dispatch::command_key_positions(spec, &borrowed);
                self.locks
                    .any_locked(*db, positions.iter().map(|&p| borrowed[p]))
            }
            Msg::Lock { keys, .. } | Msg::TxLock { keys, .. } | Msg::Fetch { keys, .. } => {
                self.locks.any_db_key_locked(keys)
            }
            // A held part reads or empties a whole database: it waits until
            // no multi-shard command holds keys here, so it never sees one
            // half done.
            Msg::Part { hold: true, .. } => true,
            Msg::Part { hold: false, .. } => false,
            _ => false,
        }
    }

    /// Runs a Run or grants a Lock whose keys are free.
    fn execute_gated(&mut self, msg: Msg) {
        match msg {
            Msg::Run {
                origin,
                db,
                resp,
                args,
            } => {
                let borrowed: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                let (bytes, blocked, spec) = self.run_on_shard(db, resp, &borrowed);
                if let Some(spec) = spec.filter(|spec| super::blocking::is_blocking(spec)) {
                    self.note_blocking_try(origin, spec, &borrowed, db, blocked);
                }
                if let Some(spec) = spec {
                    self.after_write(spec, &borrowed, db, Some(&bytes));
                }
                if blocked {
                    let shard = self.id;
                    self.deliver(origin.worker, Msg::Blocked { origin, shard });
                } else {
                    self.deliver(origin.worker, Msg::Reply { origin, bytes });
                }
            }
            Msg::Lock {
                tx,
                coordinator,
                keys,
            } => {
                self.locks.lock(tx, &keys);
                let entries = self.gather_records(&keys);
                let shard = self.id;
                self.deliver(coordinator, Msg::Locked { tx, shard, entries });
            }
            Msg::TxLock {
                tx,
                coordinator,
                keys,
                checks,
                gather,
                wait: _,
            } => {
                self.locks.lock(tx, &keys);
                let stale = !checks.iter().all(|check| self.check_holds(check, tx));
                let entries = if gather && !stale {
                    self.gather_records(&keys)
                } else {
                    Vec::new()
                };
                self.answer_lock(coordinator, tx, entries, stale, false);
            }
            Msg::Fetch {
                tx,
                reader,
                origin,
                keys,
            } => {
                let records = self.gather_records(&keys);
                let entries = records
                    .into_iter()
                    .map(|(key, record)| {
                        let version = self.versions.track(&key, reader);
                        (key, record, version)
                    })
                    .collect();
                self.deliver(
                    origin.worker,
                    Msg::Fetched {
                        tx,
                        reader,
                        origin,
                        entries,
                    },
                );
            }
            Msg::Part {
                token,
                from,
                db,
                request,
                hold,
            } => {
                let result = self.compute_part(db, request);
                if hold {
                    self.locks.hold_whole((from, token));
                }
                self.deliver(from, Msg::PartDone { token, result });
            }
            other => debug_assert!(false, "not a gated message: {other:?}"),
        }
    }

    /// Answers a transaction's lock request from this shard.
    fn answer_lock(
        &mut self,
        coordinator: usize,
        tx: u64,
        entries: Vec<(DbKey, Option<crate::shard::Record>)>,
        stale: bool,
        busy: bool,
    ) {
        let shard = self.id;
        self.deliver(
            coordinator,
            Msg::TxLocked {
                tx,
                shard,
                entries,
                stale,
                busy,
            },
        );
    }

    /// Each key's live entry with its expiry, as a transaction gathers it.
    pub(super) fn gather_records(
        &mut self,
        keys: &[DbKey],
    ) -> Vec<(DbKey, Option<crate::shard::Record>)> {
        let now_ms = self.now_ms;
        keys.iter()
            .map(|(db, key)| {
                // A lookup first, so an expired key is removed as any
                // access would; then the entry with its expiry.
                let record = self
                    .shard
                    .entry(*db, key, now_ms)
                    .is_some()
                    .then(|| self.shard.db_ref(*db).record(key, now_ms))
                    .flatten();
                ((*db, key.clone()), record)
            })
            .collect()
    }

    /// Whether `key` holds a value that has not expired.
    pub(super) fn is_live(&self, (db, key): &DbKey) -> bool {
        self.shard
            .db_ref(*db)
            .peek_entry(key, self.now_ms)
            .is_some()
    }

    /// Whether what transaction `tx` checks still holds on this shard.
    fn check_holds(&self, check: &VersionCheck, tx: u64) -> bool {
        self.versions.version(&check.key) == check.version
            && (!check.must_be_live || self.is_live(&check.key))
            && !(check.written && self.versions.read_by_older(&check.key, tx))
    }

    /// Writes a transaction's results and releases its locks.
    fn apply(
        &mut self,
        tx: u64,
        keys: &[DbKey],
        writes: Vec<(DbKey, Option<crate::shard::Record>)>,
    ) {
        for ((db, key), entry) in writes {
            self.versions.touch(db, &key);
            match entry {
                Some(entry) => self.shard.db(db).insert_record(&key, entry),
                None => {
                    self.shard.db(db).remove(&key);
                }
            }
        }
        self.locks.unlock(tx, keys);
    }

    /// Tries the waiting messages again, in order; the first that still
    /// waits keeps every later one waiting behind it.
    fn retry_waiting(&mut self) {
        let mut waiting = self.locks.take_waiting();
        while let Some(msg) = waiting.pop_front() {
            if self.must_wait(&msg) {
                self.locks.wait(msg);
                waiting.into_iter().for_each(|msg| self.locks.wait(msg));
                return;
            }
            self.execute_gated(msg);
        }
    }
}
