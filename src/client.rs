//! One client connection's state on its home worker.

use std::collections::VecDeque;

use shoal_protocol::{ReplyEncoder, RequestParser, RespVersion};

/// A reply position in a client's pipeline.
#[derive(Debug)]
pub struct Slot {
    /// The command's sequence number.
    pub seq: u64,
    /// The encoded reply once known.
    pub reply: Option<Vec<u8>>,
}

/// A connected client.
#[derive(Debug)]
pub struct Client {
    /// Unique id (`CLIENT ID`), never reused.
    pub id: u64,
    /// Bytes received and not yet parsed.
    pub query: Vec<u8>,
    /// The request parser and its resume state.
    pub parser: RequestParser,
    /// Replies ready to send, in order.
    pub out: ReplyEncoder,
    /// Replies awaited from other shards, in pipeline order; while any is
    /// awaited, later replies wait here too so the order is kept.
    pub pending: VecDeque<Slot>,
    /// The next command's sequence number.
    pub next_seq: u64,
    /// The selected database.
    pub db: usize,
    /// `CLIENT SETNAME`.
    pub name: Vec<u8>,
    /// Whether AUTH succeeded (or no password is set).
    pub authenticated: bool,
    /// Close once the replies so far are sent.
    pub close_after_reply: bool,
    /// `CLIENT NO-EVICT`.
    pub no_evict: bool,
    /// Peer address text for CLIENT LIST.
    pub addr: String,
    /// Local address text for CLIENT LIST.
    pub laddr: String,
    /// When it connected, Unix milliseconds.
    pub created_ms: u64,
    /// Last command time, Unix milliseconds (idle timeout, CLIENT LIST).
    pub last_active_ms: u64,
    /// The last command's name.
    pub last_command: &'static str,
    /// In MONITOR mode: it receives every command the server runs.
    pub monitor: bool,
    /// Since when its unsent replies have stayed above the soft output limit.
    pub over_soft_limit_since_ms: Option<u64>,
    /// Parsing is paused until every awaited reply is in: a command that
    /// spans shards (or every shard) is a barrier in the pipeline.
    pub stalled: bool,
    /// Its MULTI, from MULTI to EXEC or DISCARD.
    pub multi: Option<crate::worker::multi::MultiState>,
    /// The keys it WATCHes, with their versions when watched.
    pub watched: Vec<crate::worker::multi::WatchedKey>,
    /// Shards yet to answer the WATCH in progress.
    pub watch_replies_due: usize,
    /// Its open BEGIN transaction.
    pub txn: Option<Box<crate::worker::begin::Interactive>>,
    /// The age its next BEGIN takes: that of a transaction that just lost
    /// a conflict, so retries grow older and win.
    pub retry_age: Option<u64>,
}

impl Client {
    /// A new client with id `id`.
    pub fn new(id: u64, addr: String, laddr: String, now_ms: u64, authenticated: bool) -> Client {
        Client {
            id,
            query: Vec::new(),
            parser: RequestParser::default(),
            out: ReplyEncoder::new(RespVersion::Resp2),
            pending: VecDeque::new(),
            next_seq: 0,
            db: 0,
            name: Vec::new(),
            authenticated,
            close_after_reply: false,
            no_evict: false,
            addr,
            laddr,
            created_ms: now_ms,
            last_active_ms: now_ms,
            last_command: "NULL",
            monitor: false,
            stalled: false,
            over_soft_limit_since_ms: None,
            multi: None,
            watched: Vec::new(),
            watch_replies_due: 0,
            txn: None,
            retry_age: None,
        }
    }

    /// The protocol replies use.
    pub fn resp(&self) -> RespVersion {
        self.out.version()
    }

    /// Writes a reply produced now, in pipeline order: straight to the
    /// output if nothing is awaited, else into a ready slot.
    pub fn reply_now(&mut self, write: impl FnOnce(&mut ReplyEncoder)) {
        if self.pending.is_empty() {
            write(&mut self.out);
            return;
        }
        let mut encoder = ReplyEncoder::new(self.resp());
        write(&mut encoder);
        let seq = self.take_seq();
        self.pending.push_back(Slot {
            seq,
            reply: Some(encoder.take_bytes()),
        });
    }

    /// Replies with a HELP text: one simple string per line.
    pub fn reply_help(&mut self, lines: &[&str]) {
        self.reply_now(|out| {
            out.array(lines.len());
            lines
                .iter()
                .for_each(|line| out.simple_string(line.as_bytes()));
        });
    }

    /// Reserves the next sequence number.
    pub fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Reserves a slot for a reply that will come later; returns its seq.
    pub fn await_reply(&mut self) -> u64 {
        let seq = self.take_seq();
        self.pending.push_back(Slot { seq, reply: None });
        seq
    }

    /// Fills the slot `seq` and moves every ready reply at the front to the output.
    pub fn fill(&mut self, seq: u64, reply: Vec<u8>) {
        let Some(front) = self.pending.front() else {
            return;
        };
        let Some(slot) = self.pending.get_mut((seq - front.seq) as usize) else {
            return;
        };
        debug_assert_eq!(slot.seq, seq);
        slot.reply = Some(reply);
        while self
            .pending
            .front()
            .is_some_and(|slot| slot.reply.is_some())
        {
            let slot = self.pending.pop_front().expect("front checked");
            self.out.raw(&slot.reply.expect("ready checked"));
        }
    }
}
