//! The coordinator of multi-shard commands: lock every key, shard by shard
//! in ascending order, gather the entries, run the command once over them,
//! write the results back and release.
//!
//! Gathering values to the coordinator costs copies, but it lets every
//! command handler, written for one shard, run unchanged across shards:
//! one framework for MSET, MSETNX, RENAME, COPY, LCS, MGET, DEL, ...

use std::collections::BTreeMap;

use shoal_protocol::{ReplyEncoder, RespVersion};

use super::blocking;
use super::dispatch::command_key_positions;
use super::msg::{DbKey, Msg, Origin, WaiterNote};
use super::Worker;
use crate::cmd::{self, keys::copy_target_db, CommandSpec, Exec, ShardCtx};
use crate::shard::{Record, Shard};
use crate::slot::key_shard;

/// A multi-shard command in progress on its client's home worker.
#[derive(Debug)]
pub struct TxState {
    origin: Origin,
    db: usize,
    resp: RespVersion,
    args: Vec<Vec<u8>>,
    /// (shard, its keys), in ascending shard order: the lock order.
    plan: Vec<(usize, Vec<DbKey>)>,
    /// How many shards have locked so far.
    locked: usize,
    gathered: Vec<(DbKey, Option<Record>)>,
}

/// The keys a command touches, with their databases.
/// `keys` grouped by the shard that owns them, in ascending shard order
/// (the lock order), each key once.
pub(super) fn keys_by_shard(
    keys: impl IntoIterator<Item = DbKey>,
    workers: usize,
) -> BTreeMap<usize, Vec<DbKey>> {
    let mut by_shard: BTreeMap<usize, Vec<DbKey>> = BTreeMap::new();
    for key in keys {
        let keys = by_shard.entry(key_shard(&key.1, workers)).or_default();
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    by_shard
}

pub(super) fn db_keys(
    spec: &CommandSpec,
    args: &[&[u8]],
    db: usize,
    databases: usize,
) -> Vec<DbKey> {
    let positions = command_key_positions(spec, args);
    let copy_db = if spec.name == "copy" {
        copy_target_db(args)
            .filter(|&target| target >= 0 && (target as usize) < databases)
            .map(|target| target as usize)
    } else {
        None
    };
    let mut keys: Vec<DbKey> = positions
        .iter()
        .map(|&position| {
            let key_db = if position == 2 {
                copy_db.unwrap_or(db)
            } else {
                db
            };
            (key_db, Box::<[u8]>::from(args[position]))
        })
        .collect();
    // MOVE writes the key in its target database too.
    if spec.name == "move" && args.len() == 3 {
        if let Some(target) = std::str::from_utf8(args[2])
            .ok()
            .and_then(|text| text.parse::<usize>().ok())
            .filter(|&target| target < databases && target != db)
        {
            keys.push((target, Box::from(args[1])));
        }
    }
    keys
}

impl Worker {
    /// Starts a command whose keys live on several shards.
    pub(super) fn start_tx(&mut self, slot: usize, spec: &'static CommandSpec, args: &[&[u8]]) {
        let Some((origin, db, resp)) = self.await_origin(slot) else {
            return;
        };
        self.start_tx_for(origin, db, resp, spec, args);
    }

    /// Starts a multi-shard command whose reply goes to `origin`.
    pub(super) fn start_tx_for(
        &mut self,
        origin: Origin,
        db: usize,
        resp: RespVersion,
        spec: &'static CommandSpec,
        args: &[&[u8]],
    ) {
        let databases = self.shared.databases;
        let by_shard = keys_by_shard(db_keys(spec, args, db, databases), self.shared.workers);
        let tx = self
            .shared
            .next_tx
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let state = TxState {
            origin,
            db,
            resp,
            args: args.iter().map(|arg| arg.to_vec()).collect(),
            plan: by_shard.into_iter().collect(),
            locked: 0,
            gathered: Vec::new(),
        };
        assert!(state.plan.len() > 1, "a multi-shard command spans shards");
        let (first, keys) = (state.plan[0].0, state.plan[0].1.clone());
        self.txs.insert(tx, state);
        self.deliver(
            first,
            Msg::Lock {
                tx,
                coordinator: self.id,
                keys,
            },
        );
    }

    /// A shard locked its keys: lock the next, or run the command.
    pub(super) fn tx_locked(
        &mut self,
        tx: u64,
        shard: usize,
        entries: Vec<(DbKey, Option<Record>)>,
    ) {
        let Some(state) = self.txs.get_mut(&tx) else {
            return;
        };
        debug_assert_eq!(
            state.plan[state.locked].0, shard,
            "shards lock in plan order"
        );
        state.locked += 1;
        state.gathered.extend(entries);
        if state.locked < state.plan.len() {
            let (next, keys) = (
                state.plan[state.locked].0,
                state.plan[state.locked].1.clone(),
            );
            self.deliver(
                next,
                Msg::Lock {
                    tx,
                    coordinator: self.id,
                    keys,
                },
            );
            return;
        }
        let state = self.txs.remove(&tx).expect("present above");
        self.finish_tx(tx, state);
    }

    fn finish_tx(&mut self, tx: u64, state: TxState) {
        let counters = self.shard.tracking.counters.clone();
        let mut scratch = Shard::new(self.id, self.shared.databases, counters);
        self.refresh_shard_settings();
        scratch.apply_settings(self.shard.settings());
        for ((db, key), entry) in &state.gathered {
            if let Some(entry) = entry {
                scratch.db(*db).insert_record(key, entry.clone());
            }
        }
        let args: Vec<&[u8]> = state.args.iter().map(Vec::as_slice).collect();
        let spec = cmd::lookup(args[0]).expect("a running transaction's command exists");
        let mut out = ReplyEncoder::new(state.resp);
        let mut blocked = false;
        if let Exec::Shard(handler) = spec.exec {
            let mut ctx = ShardCtx {
                shard: &mut scratch,
                db: state.db,
                now_ms: self.now_ms,
                out: &mut out,
                blocked: false,
            };
            handler(&mut ctx, &args);
            blocked = ctx.blocked;
        }
        let origin = state.origin;
        let waiting = blocking::is_blocking(spec).then(|| {
            // A client that left while its try ran must not stay registered.
            let alive = self
                .blocked
                .get(&origin.client)
                .is_some_and(|client| client.origin == origin);
            let waited = blocking::waited_positions(spec, &args);
            (blocked && alive, waited)
        });
        let write = spec.is_write();
        for (shard, keys) in &state.plan {
            let writes = if write {
                keys.iter()
                    .map(|(db, key)| ((*db, key.clone()), scratch.db(*db).remove(key)))
                    .collect()
            } else {
                Vec::new()
            };
            let waiter = waiting.as_ref().map(|(blocked, waited)| WaiterNote {
                waiter: origin,
                kind: blocking::WaitKind::of(spec),
                waited: waited
                    .iter()
                    .map(|&position| (state.db, Box::<[u8]>::from(args[position])))
                    .filter(|key| keys.contains(key))
                    .collect(),
                blocked: *blocked,
            });
            self.deliver(
                *shard,
                Msg::Apply {
                    tx,
                    keys: keys.clone(),
                    writes,
                    waiter,
                },
            );
        }
        match waiting {
            Some((true, _)) => {
                let home = self.id;
                self.on_blocked(origin, home);
            }
            // Found nothing but its client left: nothing to answer.
            Some((false, _)) if blocked => {
                self.orphans.remove(&origin.client);
            }
            _ => self.send_reply(origin, out),
        }
    }
}
