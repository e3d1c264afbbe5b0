//! The coordinator of multi-shard commands: lock every key, shard by shard
//! in ascending order, gather the entries, run the command once over them,
//! write the results back and release.
//!
//! Gathering values to the coordinator costs copies, but it lets every
//! command handler, written for one shard, run unchanged across shards:
//! one framework for MSET, MSETNX, RENAME, COPY, LCS, MGET, DEL, ...

use std::collections::BTreeMap;

use shoal_protocol::{ReplyEncoder, RespVersion};

use super::dispatch::command_key_positions;
use super::msg::{DbKey, Msg, Origin};
use super::Worker;
use crate::cmd::{self, keys::copy_target_db, CommandSpec, Exec, ShardCtx};
use crate::shard::{Entry, Shard};
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
    gathered: Vec<(DbKey, Option<Entry>)>,
}

/// The keys a command touches, with their databases.
fn db_keys(spec: &CommandSpec, args: &[&[u8]], db: usize, databases: usize) -> Vec<DbKey> {
    let positions = command_key_positions(spec, args);
    let copy_db = if spec.name == "copy" {
        copy_target_db(args)
            .filter(|&target| target >= 0 && (target as usize) < databases)
            .map(|target| target as usize)
    } else {
        None
    };
    positions
        .iter()
        .map(|&position| {
            let key_db = if position == 2 {
                copy_db.unwrap_or(db)
            } else {
                db
            };
            (key_db, Box::<[u8]>::from(args[position]))
        })
        .collect()
}

impl Worker {
    /// Starts a command whose keys live on several shards.
    pub(super) fn start_tx(&mut self, slot: usize, spec: &'static CommandSpec, args: &[&[u8]]) {
        let databases = self.shared.databases;
        let workers = self.shared.workers;
        let Some((origin, db, resp)) = self.await_origin(slot) else {
            return;
        };
        let mut by_shard: BTreeMap<usize, Vec<DbKey>> = BTreeMap::new();
        for key in db_keys(spec, args, db, databases) {
            let keys = by_shard.entry(key_shard(&key.1, workers)).or_default();
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
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
        entries: Vec<(DbKey, Option<Entry>)>,
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
                scratch.db(*db).insert_entry(key, entry.clone());
            }
        }
        let args: Vec<&[u8]> = state.args.iter().map(Vec::as_slice).collect();
        let spec = cmd::lookup(args[0]).expect("a running transaction's command exists");
        let mut out = ReplyEncoder::new(state.resp);
        if let Exec::Shard(handler) = spec.exec {
            handler(
                &mut ShardCtx {
                    shard: &mut scratch,
                    db: state.db,
                    now_ms: self.now_ms,
                    out: &mut out,
                },
                &args,
            );
        }
        let write = spec.is_write();
        for (shard, keys) in &state.plan {
            let writes = if write {
                keys.iter()
                    .map(|(db, key)| ((*db, key.clone()), scratch.db(*db).remove(key)))
                    .collect()
            } else {
                Vec::new()
            };
            self.deliver(
                *shard,
                Msg::Apply {
                    tx,
                    keys: keys.clone(),
                    writes,
                },
            );
        }
        self.send_reply(state.origin, out);
    }
}
