//! Blocking commands (BLPOP and its family) across shards, without holding
//! a worker thread.
//!
//! A blocking command first runs like any other command: on the shard that
//! owns its keys, or under the multi-shard coordinator's key locks. Its
//! handler either answers, or finds nothing and says so (`ShardCtx::blocked`)
//! without writing a reply. Then, in the same step that saw the keys empty,
//! every shard holding one of the waited keys registers the client as a
//! waiter for those keys (so no push can slip in between), and the client's
//! home worker keeps it blocked: its reply slot stays open and its pipeline
//! waits.
//!
//! When a waited key comes to hold a value of the awaited type, its shard
//! wakes the first waiter in the key's queue (one at a time, so waiters are
//! served in the order they blocked). The waiter's home runs the command
//! again, exactly as the first time. Elements only ever leave a key inside
//! a command that runs atomically on its keys, so an element is delivered
//! exactly once: a waiter that finds the key emptied by someone else stays
//! blocked in its place in the queue. A shard forgets a waiter when the
//! waiter is served, times out, is unblocked, or disconnects.

use std::collections::VecDeque;

use ahash::AHashMap;

use super::dispatch::{key_placement, KeyPlacement};
use super::msg::{DbKey, Msg, Origin, WaiterNote};
use super::Worker;
use crate::cmd::blocking::{parse_timeout_ms, write_timeout_reply};
use crate::cmd::{self, CommandSpec};
use crate::slot::key_shard;

/// A blocked client as shards know it: its home worker, id and reply slot.
pub type Waiter = Origin;

/// The type of value a blocking command waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitKind {
    /// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP.
    List,
    /// BZPOPMIN, BZPOPMAX, BZMPOP.
    ZSet,
}

impl WaitKind {
    /// What a blocking command waits for.
    pub fn of(spec: &CommandSpec) -> WaitKind {
        if spec.name.starts_with("bz") {
            WaitKind::ZSet
        } else {
            WaitKind::List
        }
    }

    /// The `TYPE` name of the awaited values.
    pub fn type_name(self) -> &'static str {
        match self {
            WaitKind::List => "list",
            WaitKind::ZSet => "zset",
        }
    }
}

/// Whether a command blocks when it finds nothing.
#[inline]
pub fn is_blocking(spec: &CommandSpec) -> bool {
    // Asked for every command: every blocking command's name starts with
    // 'b', which rejects nearly all others without comparing flag names.
    spec.name.starts_with('b') && spec.flags.contains(&"blocking")
}

/// The argument positions of the keys a blocking command waits on: the
/// source only for the moves, every key otherwise.
pub fn waited_positions(spec: &CommandSpec, args: &[&[u8]]) -> smallvec::SmallVec<[usize; 8]> {
    if matches!(spec.name, "blmove" | "brpoplpush") {
        return smallvec::smallvec![1];
    }
    super::dispatch::command_key_positions(spec, args)
}

/// The position of a blocking command's timeout argument.
pub fn timeout_position(spec: &CommandSpec, args: &[&[u8]]) -> usize {
    if matches!(spec.name, "blmpop" | "bzmpop") {
        1
    } else {
        args.len() - 1
    }
}

/* ---------------------------------------------------------------------------
 * The shard side: who waits on which key
 * ------------------------------------------------------------------------- */

/// The waiters of one key, in the order they blocked.
#[derive(Debug, Default)]
struct KeyWaiters {
    queue: VecDeque<(Waiter, WaitKind)>,
    /// The waiter woken and not yet seen again: no other is woken meanwhile.
    woken: Option<Waiter>,
}

/// One shard's blocked clients, by key.
#[derive(Debug, Default)]
pub struct Registry {
    keys: AHashMap<DbKey, KeyWaiters>,
}

impl Registry {
    /// Whether nobody waits on this shard (the common case: one check).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Queues `waiter` on `key`, keeping its place if it is there already.
    pub fn register(&mut self, key: DbKey, waiter: Waiter, kind: WaitKind) {
        let waiters = self.keys.entry(key).or_default();
        if !waiters.queue.iter().any(|(queued, _)| *queued == waiter) {
            waiters.queue.push_back((waiter, kind));
        }
    }

    /// The waiter's command ran here again: it is no longer being woken.
    pub fn attended(&mut self, waiter: Waiter) {
        for waiters in self.keys.values_mut() {
            if waiters.woken == Some(waiter) {
                waiters.woken = None;
            }
        }
    }

    /// Forgets `waiter` on `keys` (every key when `keys` is empty).
    pub fn unregister(&mut self, waiter: Waiter, keys: &[DbKey]) {
        let forget = |waiters: &mut KeyWaiters| {
            waiters.queue.retain(|(queued, _)| *queued != waiter);
            if waiters.woken == Some(waiter) {
                waiters.woken = None;
            }
        };
        if keys.is_empty() {
            self.keys.values_mut().for_each(forget);
        } else {
            for key in keys {
                if let Some(waiters) = self.keys.get_mut(key) {
                    forget(waiters);
                }
            }
        }
        self.keys.retain(|_, waiters| !waiters.queue.is_empty());
    }

    /// The waiters to wake now among the keys named `names` (in any
    /// database): for each such key that `holds(db, key, kind)` says holds
    /// an awaited value and has no waiter being woken, its first waiter of
    /// that kind.
    pub fn wakes<'a>(
        &mut self,
        names: impl Iterator<Item = &'a [u8]>,
        holds: impl Fn(usize, &[u8], WaitKind) -> bool,
    ) -> Vec<Waiter> {
        let mut wakes = Vec::new();
        for name in names {
            for ((db, key), waiters) in self.keys.iter_mut() {
                if **key != *name || waiters.woken.is_some() {
                    continue;
                }
                let first = waiters
                    .queue
                    .iter()
                    .find(|(_, kind)| holds(*db, key, *kind))
                    .map(|(waiter, _)| *waiter);
                if let Some(waiter) = first {
                    waiters.woken = Some(waiter);
                    if !wakes.contains(&waiter) {
                        wakes.push(waiter);
                    }
                }
            }
        }
        wakes
    }

    /// Every key someone waits on, for a check after a command that may
    /// have written anywhere (MOVE, FLUSHALL).
    pub fn waited_keys(&self) -> Vec<Box<[u8]>> {
        self.keys.keys().map(|(_, key)| key.clone()).collect()
    }
}

/* ---------------------------------------------------------------------------
 * The home side: a blocked client
 * ------------------------------------------------------------------------- */

/// How CLIENT UNBLOCK ends a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnblockKind {
    /// As if the timeout passed.
    Timeout,
    /// With `-UNBLOCKED client unblocked via CLIENT UNBLOCK`.
    Error,
}

/// A client of this worker running or blocked in a blocking command.
#[derive(Debug)]
pub struct BlockedClient {
    /// Its reply slot.
    pub origin: Origin,
    /// Selected database and protocol when it blocked.
    pub db: usize,
    /// The protocol its reply is encoded for.
    pub resp: shoal_protocol::RespVersion,
    /// The command, to run again when woken.
    pub args: Vec<Vec<u8>>,
    /// Unix milliseconds at which it times out; None: never.
    pub deadline_ms: Option<u64>,
    /// The waited keys and the shards that hold them.
    pub waited: Vec<(usize, DbKey)>,
    /// The command is running (first try or a retry): a timeout or an
    /// unblock waits for its outcome, so nothing it popped is lost.
    pub running: bool,
    /// CLIENT UNBLOCK asked while it was running.
    pub unblock: Option<UnblockKind>,
    /// A try came back blocked: its shards hold it as a waiter, so it is
    /// blocked as INFO counts (and in its place in the keys' queues).
    pub registered: bool,
}

impl BlockedClient {
    /// Whether it should stop waiting now.
    pub fn due(&self, now_ms: u64) -> bool {
        self.unblock.is_some() || self.deadline_ms.is_some_and(|deadline| deadline <= now_ms)
    }
}

/* ---------------------------------------------------------------------------
 * The worker's side: starting, waking, ending blocks
 * ------------------------------------------------------------------------- */

/// Redis's reply to a client ended by `CLIENT UNBLOCK id ERROR`.
const UNBLOCKED_ERROR: &[u8] = b"UNBLOCKED client unblocked via CLIENT UNBLOCK";

impl Worker {
    /// Runs a blocking command for the client in `slot`: its first try,
    /// which answers at once or leaves the client blocked.
    pub(super) fn start_blocking(
        &mut self,
        slot: usize,
        spec: &'static CommandSpec,
        args: &[&[u8]],
    ) {
        let Some((origin, db, resp)) = self.await_origin(slot) else {
            return;
        };
        // A bad timeout is the handler's to report; it never blocks then.
        let now_ms = super::unix_ms();
        let deadline_ms = match parse_timeout_ms(args[timeout_position(spec, args)], now_ms) {
            Ok(0) | Err(_) => None,
            // A fresh clock (the turn's may be late) and one millisecond
            // more, as it reads whole milliseconds: a client is never
            // answered before its full timeout.
            Ok(timeout_ms) => Some(now_ms.saturating_add(timeout_ms + 1)),
        };
        let workers = self.shared.workers;
        let waited = waited_positions(spec, args)
            .iter()
            .map(|&position| {
                let key = args[position];
                (key_shard(key, workers), (db, Box::<[u8]>::from(key)))
            })
            .collect();
        if let Some(deadline_ms) = deadline_ms {
            self.block_deadlines.insert((deadline_ms, origin.client));
        }
        self.blocked.insert(
            origin.client,
            BlockedClient {
                origin,
                db,
                resp,
                args: args.iter().map(|arg| arg.to_vec()).collect(),
                deadline_ms,
                waited,
                running: false,
                unblock: None,
                registered: false,
            },
        );
        self.try_blocked(origin.client);
    }

    /// Publishes how many clients are blocked here (INFO blocked_clients):
    /// those a shard has registered as waiters. A client whose first try
    /// is still on its way is not blocked yet, so a client seen blocked is
    /// already queued ahead of any that blocks after it.
    fn count_blocked(&self) {
        self.shared.stats[self.id]
            .blocked_clients
            .store(self.registered_blocks, std::sync::atomic::Ordering::Relaxed);
    }

    /// Removes a client's block, keeping the count of registered ones.
    fn take_block(&mut self, client: u64) -> Option<BlockedClient> {
        let state = self.blocked.remove(&client)?;
        if state.registered {
            self.registered_blocks -= 1;
            self.count_blocked();
        }
        self.forget_block(&state);
        Some(state)
    }

    /// Runs a blocked client's command (again), where its keys live.
    fn try_blocked(&mut self, client: u64) {
        let workers = self.shared.workers;
        let Some(state) = self.blocked.get_mut(&client) else {
            return;
        };
        debug_assert!(!state.running, "one try at a time");
        state.running = true;
        let (origin, db, resp, args) = (state.origin, state.db, state.resp, state.args.clone());
        let borrowed: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let spec = cmd::lookup(borrowed[0]).expect("a blocked command is in the table");
        match key_placement(spec, &borrowed, workers) {
            KeyPlacement::Many => self.start_tx_for(origin, db, resp, spec, &borrowed),
            KeyPlacement::One(shard) => self.deliver(
                shard,
                Msg::Run {
                    origin,
                    db,
                    resp,
                    args,
                },
            ),
            // No keys (BLMPOP's count was bad): the handler says so.
            KeyPlacement::Keyless => self.deliver(
                self.id,
                Msg::Run {
                    origin,
                    db,
                    resp,
                    args,
                },
            ),
        }
    }

    /// The shard side of a blocking command's try that ran here: keep the
    /// waiter registered on its keys if it found nothing, else forget it.
    pub(super) fn note_blocking_try(
        &mut self,
        origin: Origin,
        spec: &CommandSpec,
        args: &[&[u8]],
        db: usize,
        blocked: bool,
    ) {
        let kind = WaitKind::of(spec);
        let keys: Vec<DbKey> = waited_positions(spec, args)
            .iter()
            .map(|&position| (db, Box::<[u8]>::from(args[position])))
            .collect();
        self.note_waiter(WaiterNote {
            waiter: origin,
            kind,
            waited: keys,
            blocked,
        });
    }

    /// Registers or forgets a waiter as its try's outcome says.
    pub(super) fn note_waiter(&mut self, note: WaiterNote) {
        self.registry.attended(note.waiter);
        if note.blocked {
            for key in note.waited {
                self.registry.register(key, note.waiter, note.kind);
            }
        } else {
            self.registry.unregister(note.waiter, &note.waited);
        }
    }

    /// Wakes the first waiter of each named key that now holds a value of
    /// the awaited type. Free when nobody waits on this shard.
    pub(super) fn wake_waiters<'a>(&mut self, names: impl Iterator<Item = &'a [u8]>) {
        if self.registry.is_empty() {
            return;
        }
        let now_ms = self.now_ms;
        let shard = &self.shard;
        let wakes = self.registry.wakes(names, |db, key, kind| {
            shard
                .db_ref(db)
                .peek_entry(key, now_ms)
                .is_some_and(|entry| entry.value.type_name() == kind.type_name())
        });
        let from = self.id;
        for waiter in wakes {
            self.deliver(
                waiter.worker,
                Msg::Wake {
                    waiter,
                    shard: from,
                },
            );
        }
    }

    /// After a command that may have written anywhere: every waited key.
    pub(super) fn wake_any_waiters(&mut self) {
        if self.registry.is_empty() {
            return;
        }
        let keys = self.registry.waited_keys();
        self.wake_waiters(keys.iter().map(|key| &**key));
    }

    /// A shard found nothing for this client's try: it waits, unless its
    /// time ran out or it was unblocked meanwhile.
    pub(super) fn on_blocked(&mut self, origin: Origin, shard: usize) {
        let current = self
            .blocked
            .get_mut(&origin.client)
            .filter(|state| state.origin == origin);
        let Some(state) = current else {
            // The client left while its try ran, which found nothing: the
            // shard must forget it.
            self.orphans.remove(&origin.client);
            self.deliver(
                shard,
                Msg::Unregister {
                    waiter: origin,
                    keys: Vec::new(),
                },
            );
            return;
        };
        state.running = false;
        let newly_registered = !std::mem::replace(&mut state.registered, true);
        let (due, unblock) = (state.due(self.now_ms), state.unblock);
        if newly_registered {
            self.registered_blocks += 1;
            self.count_blocked();
        }
        if due {
            self.end_block(origin.client, unblock);
        }
    }

    /// A shard says a waited key holds a value: try again.
    pub(super) fn on_wake(&mut self, waiter: Origin, shard: usize) {
        let current = self
            .blocked
            .get(&waiter.client)
            .filter(|state| state.origin == waiter);
        match current {
            Some(state) if state.running => {
                // The try under way reads every waited key: it serves or
                // re-registers, which tells the shard.
            }
            Some(_) => self.try_blocked(waiter.client),
            None => self.deliver(
                shard,
                Msg::Unregister {
                    waiter,
                    keys: Vec::new(),
                },
            ),
        }
    }

    /// A reply for a blocked client's slot arrived: the block is over.
    pub(super) fn on_blocking_reply(&mut self, origin: Origin) {
        if self.blocked.is_empty() {
            return;
        }
        let served = self
            .blocked
            .get(&origin.client)
            .is_some_and(|state| state.origin == origin);
        if served {
            self.take_block(origin.client);
        }
    }

    /// Ends a block without a value: the timeout reply, or CLIENT UNBLOCK's.
    fn end_block(&mut self, client: u64, unblock: Option<UnblockKind>) {
        let Some(state) = self.take_block(client) else {
            return;
        };
        let mut out = shoal_protocol::ReplyEncoder::new(state.resp);
        match unblock {
            Some(UnblockKind::Error) => out.error(UNBLOCKED_ERROR),
            _ => write_timeout_reply(&mut out),
        }
        self.complete(state.origin, out.take_bytes());
    }

    /// Tells every shard holding a waited key to forget the client.
    fn forget_block(&mut self, state: &BlockedClient) {
        if let Some(deadline_ms) = state.deadline_ms {
            self.block_deadlines
                .remove(&(deadline_ms, state.origin.client));
        }
        let mut shards: Vec<usize> = state.waited.iter().map(|(shard, _)| *shard).collect();
        shards.sort_unstable();
        shards.dedup();
        for shard in shards {
            let keys = state
                .waited
                .iter()
                .filter(|(holder, _)| *holder == shard)
                .map(|(_, key)| key.clone())
                .collect();
            self.deliver(
                shard,
                Msg::Unregister {
                    waiter: state.origin,
                    keys,
                },
            );
        }
    }

    /// Times out the blocked clients whose deadline passed (a client whose
    /// try is running times out when the try comes back empty).
    pub(super) fn expire_blocks(&mut self) {
        let now_ms = self.now_ms;
        let due: Vec<u64> = self
            .block_deadlines
            .iter()
            .take_while(|(deadline_ms, _)| *deadline_ms <= now_ms)
            .map(|&(_, client)| client)
            .filter(|client| self.blocked.get(client).is_some_and(|state| !state.running))
            .collect();
        for client in due {
            self.end_block(client, None);
        }
    }

    /// How long the loop may sleep before a blocked client times out.
    pub(super) fn until_next_block_deadline(&self) -> Option<std::time::Duration> {
        self.block_deadlines.first().map(|(deadline_ms, _)| {
            std::time::Duration::from_millis(deadline_ms.saturating_sub(self.now_ms))
        })
    }

    /// CLIENT UNBLOCK for a client of this worker: 1 if it was blocked.
    pub(super) fn unblock_client(&mut self, client: u64, kind: UnblockKind) -> usize {
        let Some(state) = self.blocked.get_mut(&client) else {
            return 0;
        };
        if state.running {
            state.unblock = Some(kind);
        } else {
            self.end_block(client, Some(kind));
        }
        1
    }

    /// A blocked client is going away (disconnect, CLIENT KILL): forget it
    /// everywhere; its open reply slot is filled with nothing.
    pub(super) fn drop_block(&mut self, client: u64) -> Option<Origin> {
        let state = self.take_block(client)?;
        let origin = state.origin;
        self.keep_orphan(state);
        Some(origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiter(client: u64) -> Waiter {
        Origin {
            worker: 0,
            client,
            seq: 0,
        }
    }

    fn key(name: &str) -> DbKey {
        (0, name.as_bytes().into())
    }

    #[test]
    fn waiters_are_woken_one_at_a_time_in_the_order_they_blocked() {
        let mut registry = Registry::default();
        for client in 1..=3 {
            registry.register(key("k"), waiter(client), WaitKind::List);
        }
        // Registering again keeps the place.
        registry.register(key("k"), waiter(1), WaitKind::List);
        let holds = |_: usize, _: &[u8], kind: WaitKind| kind == WaitKind::List;
        assert_eq!(registry.wakes([&b"k"[..]].into_iter(), holds), [waiter(1)]);
        // Until the woken one is seen again, nobody else is woken.
        assert!(registry.wakes([&b"k"[..]].into_iter(), holds).is_empty());
        registry.unregister(waiter(1), &[key("k")]);
        assert_eq!(registry.wakes([&b"k"[..]].into_iter(), holds), [waiter(2)]);
        // A woken waiter that found nothing keeps its place at the front.
        registry.attended(waiter(2));
        assert_eq!(registry.wakes([&b"k"[..]].into_iter(), holds), [waiter(2)]);
        registry.unregister(waiter(2), &[]);
        registry.unregister(waiter(3), &[]);
        assert!(registry.is_empty());
    }

    #[test]
    fn only_waiters_of_the_held_type_are_woken() {
        let mut registry = Registry::default();
        registry.register(key("k"), waiter(1), WaitKind::ZSet);
        registry.register(key("k"), waiter(2), WaitKind::List);
        let holds = |_: usize, _: &[u8], kind: WaitKind| kind == WaitKind::List;
        assert_eq!(registry.wakes([&b"k"[..]].into_iter(), holds), [waiter(2)]);
        assert!(registry
            .wakes([&b"other"[..]].into_iter(), holds)
            .is_empty());
    }
}
