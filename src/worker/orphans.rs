//! Blocked clients that left while their retry was running.
//!
//! A woken waiter's retry runs on the key's shard and pops there; if the
//! client disconnected meanwhile, the reply finds nobody. Redis never pops
//! for a client that is gone, so the popped elements go back where they
//! came from: BLPOP's to the head, BRPOP's to the tail, BLMPOP's in their
//! order, BZPOP*'s members with their scores (only if nobody added them
//! again meanwhile). BLMOVE and BRPOPLPUSH already put their element in
//! the destination list: it is not lost, and stays there.

use shoal_protocol::{Reply, ReplyParser};

use super::blocking::BlockedClient;
use super::msg::{Msg, Origin};
use super::Worker;
use crate::cmd::args::is;
use crate::slot::key_shard;

impl Worker {
    /// A blocked client leaves with its retry running: remember what it
    /// ran until the retry's outcome arrives.
    pub(super) fn keep_orphan(&mut self, state: BlockedClient) {
        if state.running {
            self.orphans.insert(state.origin.client, state);
        }
    }

    /// The outcome of an orphan's retry: what it popped goes back.
    pub(super) fn settle_orphan(&mut self, origin: Origin, reply: Option<&[u8]>) {
        if self.orphans.is_empty() {
            return;
        }
        let is_orphan = self
            .orphans
            .get(&origin.client)
            .is_some_and(|state| state.origin == origin);
        if !is_orphan {
            return;
        }
        let Some(state) = self.orphans.remove(&origin.client) else {
            return;
        };
        let parsed = reply.and_then(|bytes| ReplyParser::default().parse(bytes).ok().flatten());
        let Some((popped, _)) = parsed else {
            return;
        };
        let args: Vec<&[u8]> = state.args.iter().map(Vec::as_slice).collect();
        let Some(push) = give_back_command(&args, popped) else {
            return;
        };
        let shard = key_shard(&push[1], self.shared.workers);
        // Nobody waits for the push's reply: an origin of no client.
        let nobody = Origin {
            worker: self.id,
            client: u64::MAX,
            seq: 0,
        };
        self.deliver(
            shard,
            Msg::Run {
                origin: nobody,
                db: state.db,
                resp: state.resp,
                args: push,
            },
        );
    }
}

/// The command that puts back what the blocking command `args` popped,
/// as its reply `popped` shows; `None` when nothing needs to go back.
fn give_back_command(args: &[&[u8]], popped: Reply) -> Option<Vec<Vec<u8>>> {
    let Reply::Array(parts) = popped else {
        return None;
    };
    let name = args[0];
    let bulk = |reply: &Reply| match reply {
        Reply::Bulk(bytes) => Some(bytes.clone()),
        // Rust prints the shortest text that reads back as the same f64.
        Reply::Double(score) => Some(format!("{score}").into_bytes()),
        _ => None,
    };
    if is(name, "BLPOP") || is(name, "BRPOP") {
        let [key, element] = parts.as_slice() else {
            return None;
        };
        let push = if is(name, "BLPOP") { "LPUSH" } else { "RPUSH" };
        return Some(vec![push.into(), bulk(key)?, bulk(element)?]);
    }
    if is(name, "BLMPOP") {
        let [key, Reply::Array(elements)] = parts.as_slice() else {
            return None;
        };
        // The popped end is where they go back, the first popped last.
        let from_left = args.iter().any(|arg| is(arg, "LEFT"));
        let mut push = vec![
            if from_left {
                b"LPUSH".to_vec()
            } else {
                b"RPUSH".to_vec()
            },
            bulk(key)?,
        ];
        for element in elements.iter().rev() {
            push.push(bulk(element)?);
        }
        return Some(push);
    }
    if is(name, "BZPOPMIN") || is(name, "BZPOPMAX") {
        let [key, member, score] = parts.as_slice() else {
            return None;
        };
        return Some(vec![
            b"ZADD".to_vec(),
            bulk(key)?,
            b"NX".to_vec(),
            bulk(score)?,
            bulk(member)?,
        ]);
    }
    if is(name, "BZMPOP") {
        let [key, Reply::Array(pairs)] = parts.as_slice() else {
            return None;
        };
        let mut push = vec![b"ZADD".to_vec(), bulk(key)?, b"NX".to_vec()];
        for pair in pairs {
            let Reply::Array(pair) = pair else {
                return None;
            };
            let [member, score] = pair.as_slice() else {
                return None;
            };
            push.push(bulk(score)?);
            push.push(bulk(member)?);
        }
        return Some(push);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Reply {
        Reply::Bulk(text.as_bytes().to_vec())
    }

    fn words(command: &[Vec<u8>]) -> Vec<String> {
        command
            .iter()
            .map(|word| String::from_utf8_lossy(word).into_owned())
            .collect()
    }

    #[test]
    fn list_pops_go_back_to_the_end_they_left() {
        let popped = Reply::Array(vec![bulk("k"), bulk("a")]);
        let push = give_back_command(&[b"BLPOP", b"k", b"0"], popped.clone());
        assert_eq!(words(&push.expect("a push")), ["LPUSH", "k", "a"]);
        let push = give_back_command(&[b"brpop", b"k", b"0"], popped);
        assert_eq!(words(&push.expect("a push")), ["RPUSH", "k", "a"]);
        let popped = Reply::Array(vec![bulk("k"), Reply::Array(vec![bulk("a"), bulk("b")])]);
        let args: [&[u8]; 6] = [b"BLMPOP", b"0", b"1", b"k", b"LEFT", b"COUNT"];
        let push = give_back_command(&args, popped);
        assert_eq!(words(&push.expect("a push")), ["LPUSH", "k", "b", "a"]);
    }

    #[test]
    fn sorted_set_pops_go_back_with_their_scores() {
        let popped = Reply::Array(vec![bulk("z"), bulk("m"), bulk("1.5")]);
        let push = give_back_command(&[b"BZPOPMIN", b"z", b"0"], popped);
        assert_eq!(
            words(&push.expect("a push")),
            ["ZADD", "z", "NX", "1.5", "m"]
        );
        let popped = Reply::Array(vec![
            bulk("z"),
            Reply::Array(vec![Reply::Array(vec![bulk("m"), Reply::Double(2.0)])]),
        ]);
        let push = give_back_command(&[b"BZMPOP", b"0", b"1", b"z", b"MIN"], popped);
        assert_eq!(words(&push.expect("a push")), ["ZADD", "z", "NX", "2", "m"]);
    }

    #[test]
    fn timeouts_and_moves_give_nothing_back() {
        assert!(give_back_command(&[b"BLPOP", b"k", b"0"], Reply::NullArray).is_none());
        let moved = Reply::Bulk(b"a".to_vec());
        assert!(
            give_back_command(&[b"BLMOVE", b"k", b"d", b"LEFT", b"LEFT", b"0"], moved).is_none()
        );
    }
}
