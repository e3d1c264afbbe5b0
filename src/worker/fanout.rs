//! Commands that visit every shard (KEYS, DBSIZE, FLUSHALL, RANDOMKEY,
//! INFO keyspace) or the shard a cursor names (SCAN), merged at home.

use shoal_protocol::ReplyEncoder;

use super::msg::{Msg, Origin, PartRequest, PartResult};
use super::Worker;
use crate::cmd::args::is;
use crate::cmd::errors;
use crate::cmd::keys::{self, parse_scan_options};
use crate::cmd::FanOut;

/// Bits of a SCAN cursor that name the shard; the rest is the position.
const SCAN_SHARD_BITS: u32 = 10;
const _: () = assert!(1 << SCAN_SHARD_BITS >= shoal_actors::MAX_WORKERS);

/// What a fan-out is gathering.
#[derive(Debug)]
pub enum Gather {
    /// Sum of counts (DBSIZE).
    Sum(usize),
    /// Keys (KEYS).
    Keys(Vec<Vec<u8>>),
    /// Nothing: reply OK (FLUSHDB, FLUSHALL).
    Ok,
    /// The first key found (RANDOMKEY).
    AnyKey(Option<Vec<u8>>),
    /// SCAN of one shard: cursor arithmetic needs that shard.
    Scan(usize),
    /// Text concatenated over workers (CLIENT LIST).
    Text(String),
    /// Clients closed (CLIENT KILL); the old form replies OK or an error.
    Killed {
        /// Whether this is `CLIENT KILL ip:port`.
        old_form: bool,
        /// Clients closed so far.
        count: usize,
    },
    /// Per-database counts summed over shards, then the INFO text is built.
    Keyspace(Vec<(usize, usize)>, InfoBuilder),
}

/// Renders INFO from per-database (keys, keys with expiry) counts.
pub type RenderInfo = dyn FnOnce(&[(usize, usize)]) -> Vec<u8> + Send;

/// Builds INFO's text once the keyspace counts are in.
pub struct InfoBuilder(pub Box<RenderInfo>);

impl std::fmt::Debug for InfoBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InfoBuilder")
    }
}

/// A fan-out waiting for its parts.
#[derive(Debug)]
pub struct FanOutState {
    origin: Origin,
    remaining: usize,
    gather: Gather,
    resp: shoal_protocol::RespVersion,
    /// For a held fan-out: the request, the shards still to visit (in
    /// ascending order) and those held so far.
    held: Option<HeldVisit>,
}

/// A fan-out that visits shards one by one, holding each, so that its parts
/// see one consistent state (a multi-shard command is either wholly before
/// or wholly after it).
#[derive(Debug)]
pub struct HeldVisit {
    request: PartRequest,
    db: usize,
    to_visit: std::collections::VecDeque<usize>,
    visited: Vec<usize>,
}

impl Worker {
    /// Starts a fan-out command for the client in `slot`.
    pub(super) fn start_fanout(&mut self, slot: usize, kind: FanOut, args: &[&[u8]]) {
        if let Some((request, gather, shards)) = self.plan_fanout(slot, kind, args) {
            self.fan_out(slot, request, gather, shards);
        }
    }

    /// What a fan-out asks each shard, how it merges, and which shards it
    /// visits; `None` when the arguments were answered with an error.
    pub(super) fn plan_fanout(
        &mut self,
        slot: usize,
        kind: FanOut,
        args: &[&[u8]],
    ) -> Option<(PartRequest, Gather, Vec<usize>)> {
        let all_shards = self.all_shards();
        let seed_salt = self.next_token;
        let now_ms = self.now_ms;
        let workers = self.shared.workers;
        let conn = self.conns.get_mut(slot).and_then(Option::as_mut)?;
        let client = &mut conn.client;
        let db = client.db;
        let (request, gather, shards): (PartRequest, Gather, Vec<usize>) = match kind {
            FanOut::DbSize => (PartRequest::DbSize, Gather::Sum(0), all_shards.clone()),
            FanOut::Keys => (
                PartRequest::Keys(args[1].to_vec()),
                Gather::Keys(Vec::new()),
                all_shards.clone(),
            ),
            FanOut::FlushDb | FanOut::FlushAll => {
                if args.len() > 2
                    || (args.len() == 2 && !is(args[1], "ASYNC") && !is(args[1], "SYNC"))
                {
                    client.reply_now(|out| out.error(errors::SYNTAX));
                    return None;
                }
                let target = if kind == FanOut::FlushDb {
                    Some(db)
                } else {
                    None
                };
                (PartRequest::Flush(target), Gather::Ok, all_shards.clone())
            }
            FanOut::RandomKey => {
                let seed = now_ms ^ client.id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed_salt;
                (
                    PartRequest::RandomKey(seed),
                    Gather::AnyKey(None),
                    all_shards.clone(),
                )
            }
            FanOut::Scan => {
                let Some(cursor) = crate::cmd::scan::parse_cursor(args[1]) else {
                    client.reply_now(|out| out.error(crate::cmd::scan::INVALID_CURSOR));
                    return None;
                };
                let options = match parse_scan_options(&args[2..]) {
                    Ok(options) => options,
                    Err(message) => {
                        client.reply_now(|out| out.error(&message));
                        return None;
                    }
                };
                let shard = (cursor & ((1 << SCAN_SHARD_BITS) - 1)) as usize;
                let position = cursor >> SCAN_SHARD_BITS;
                if shard >= workers {
                    // A cursor from another server layout: start over, as
                    // Redis does for a cursor it cannot interpret.
                    client.reply_now(|out| {
                        out.array(2);
                        out.bulk(b"0");
                        out.array(0);
                    });
                    return None;
                }
                (
                    PartRequest::Scan(position, options),
                    Gather::Scan(shard),
                    vec![shard],
                )
            }
        };
        Some((request, gather, shards))
    }

    /// Every shard index.
    pub(super) fn all_shards(&self) -> Vec<usize> {
        (0..self.shared.workers).collect()
    }

    /// Sends `request` to `shards` and waits for their parts.
    pub(super) fn fan_out(
        &mut self,
        slot: usize,
        request: PartRequest,
        gather: Gather,
        shards: Vec<usize>,
    ) {
        let token = self.new_token();
        let Some((origin, db, resp)) = self.await_origin(slot) else {
            return;
        };
        // Reading or emptying whole databases across shards needs one
        // consistent cut; gathering per-worker facts does not.
        let consistent = self.shared.workers > 1
            && matches!(
                request,
                PartRequest::DbSize
                    | PartRequest::Keys(_)
                    | PartRequest::Flush(_)
                    | PartRequest::RandomKey(_)
            );
        let remaining = shards.len();
        if consistent {
            let mut to_visit: std::collections::VecDeque<usize> = shards.into();
            let first = to_visit.pop_front().expect("every fan-out visits a shard");
            let held = HeldVisit {
                request: request.clone(),
                db,
                to_visit,
                visited: vec![first],
            };
            self.fanouts.insert(
                token,
                FanOutState {
                    origin,
                    remaining,
                    gather,
                    resp,
                    held: Some(held),
                },
            );
            self.deliver(
                first,
                Msg::Part {
                    from: self.id,
                    token,
                    db,
                    request,
                    hold: true,
                },
            );
            return;
        }
        self.fanouts.insert(
            token,
            FanOutState {
                origin,
                remaining,
                gather,
                resp,
                held: None,
            },
        );
        for shard in shards {
            self.deliver(
                shard,
                Msg::Part {
                    from: self.id,
                    token,
                    db,
                    request: request.clone(),
                    hold: false,
                },
            );
        }
    }

    /// Computes this shard's part.
    pub(super) fn compute_part(&mut self, db: usize, request: PartRequest) -> PartResult {
        let now_ms = self.now_ms;
        match request {
            PartRequest::DbSize => PartResult::Count(keys::dbsize_part(&self.shard, db)),
            PartRequest::Keys(pattern) => {
                PartResult::Keys(keys::keys_part(&self.shard, db, &pattern, now_ms))
            }
            PartRequest::Flush(Some(db)) => {
                self.touch_flushed(Some(db));
                self.shard.db(db).clear();
                PartResult::Done
            }
            PartRequest::Flush(None) => {
                self.touch_flushed(None);
                self.shard.flush_all();
                PartResult::Done
            }
            PartRequest::RandomKey(seed) => {
                PartResult::Key(keys::randomkey_part(&self.shard, db, now_ms, seed))
            }
            PartRequest::Scan(position, options) => {
                let (next, found) = keys::scan_part(&self.shard, db, position, &options, now_ms);
                PartResult::Scan(next, found)
            }
            PartRequest::KeyspaceCounts => PartResult::Counts(self.shard.keyspace_counts()),
            PartRequest::ClientList => PartResult::Text(self.client_list_text(None)),
            PartRequest::Kill(filter) => PartResult::Count(self.kill_clients(&filter)),
            PartRequest::Unblock(client, kind) => {
                PartResult::Count(self.unblock_client(client, kind))
            }
        }
    }

    /// Folds one shard's part in; replies when every part is in.
    pub(super) fn part_done(&mut self, token: u64, result: PartResult) {
        let Some(state) = self.fanouts.get_mut(&token) else {
            return;
        };
        state.remaining -= 1;
        let mut next_visit = None;
        if let Some(held) = state.held.as_mut() {
            if let Some(next) = held.to_visit.pop_front() {
                held.visited.push(next);
                next_visit = Some((next, held.db, held.request.clone()));
            }
        }
        if let Some((next, db, request)) = next_visit {
            self.deliver(
                next,
                Msg::Part {
                    from: self.id,
                    token,
                    db,
                    request,
                    hold: true,
                },
            );
        }
        let Some(state) = self.fanouts.get_mut(&token) else {
            return;
        };
        match (&mut state.gather, result) {
            (Gather::Sum(total), PartResult::Count(count)) => *total += count,
            (Gather::Killed { count: total, .. }, PartResult::Count(count)) => *total += count,
            (Gather::Text(all), PartResult::Text(text)) => all.push_str(&text),
            (Gather::Keys(all), PartResult::Keys(mut found)) => all.append(&mut found),
            (Gather::AnyKey(slot @ None), PartResult::Key(found)) => *slot = found,
            (Gather::Scan(shard), PartResult::Scan(next, found)) => {
                let workers = self.shared.workers;
                let shard = *shard;
                let cursor = if next > 0 {
                    (next << SCAN_SHARD_BITS) | shard as u64
                } else if shard + 1 < workers {
                    (shard + 1) as u64
                } else {
                    0
                };
                state.gather = Gather::Keys(found);
                state.remaining = 0;
                let state = self.fanouts.remove(&token).expect("present above");
                let mut out = ReplyEncoder::new(state.resp);
                out.array(2);
                out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
                if let Gather::Keys(found) = state.gather {
                    out.array(found.len());
                    found.iter().for_each(|key| out.bulk(key));
                }
                self.send_reply(state.origin, out);
                return;
            }
            (Gather::Keyspace(totals, _), PartResult::Counts(counts)) => {
                for (total, count) in totals.iter_mut().zip(counts) {
                    total.0 += count.0;
                    total.1 += count.1;
                }
            }
            _ => {}
        }
        if state.remaining > 0 {
            return;
        }
        let state = self.fanouts.remove(&token).expect("present above");
        if let Some(held) = &state.held {
            for &shard in &held.visited {
                self.deliver(
                    shard,
                    Msg::Release {
                        token,
                        from: self.id,
                    },
                );
            }
        }
        let mut out = ReplyEncoder::new(state.resp);
        match state.gather {
            Gather::Sum(total) => out.integer(total as i64),
            Gather::Keys(found) => {
                out.array(found.len());
                found.iter().for_each(|key| out.bulk(key));
            }
            Gather::Ok => out.ok(),
            Gather::Text(text) => out.verbatim(b"txt", text.as_bytes()),
            Gather::Killed {
                old_form: true,
                count: 0,
            } => out.error(b"ERR No such client"),
            Gather::Killed { old_form: true, .. } => out.ok(),
            Gather::Killed { count, .. } => out.integer(count as i64),
            Gather::AnyKey(Some(key)) => out.bulk(&key),
            Gather::AnyKey(None) => out.null(),
            Gather::Scan(_) => {}
            Gather::Keyspace(totals, build) => out.verbatim(b"txt", &(build.0)(&totals)),
        }
        self.send_reply(state.origin, out);
    }
}

/// The reply of a fan-out over a single shard, from its one part.
pub(super) fn reply_single_part(out: &mut ReplyEncoder, gather: Gather, result: PartResult) {
    match (gather, result) {
        (Gather::Sum(_), PartResult::Count(count)) => out.integer(count as i64),
        (Gather::Keys(_), PartResult::Keys(found)) => {
            out.array(found.len());
            found.iter().for_each(|key| out.bulk(key));
        }
        (Gather::Ok, _) => out.ok(),
        (Gather::AnyKey(_), PartResult::Key(Some(key))) => out.bulk(&key),
        (Gather::AnyKey(_), PartResult::Key(None)) => out.null(),
        (Gather::Scan(shard), PartResult::Scan(next, found)) => {
            let cursor = if next > 0 {
                (next << SCAN_SHARD_BITS) | shard as u64
            } else {
                0
            };
            out.array(2);
            out.bulk(itoa::Buffer::new().format(cursor).as_bytes());
            out.array(found.len());
            found.iter().for_each(|key| out.bulk(key));
        }
        (gather, result) => {
            debug_assert!(false, "no single-part reply for {gather:?} from {result:?}");
            out.null();
        }
    }
}
