//! Commands that run on the client's home worker with the client's state:
//! connection commands and server administration.

use std::time::Duration;

use shoal_protocol::{ReplyEncoder, RespVersion};

use super::blocking::UnblockKind;
use super::fanout::{Gather, InfoBuilder};
use super::msg::{KillFilter, PartRequest};
use super::{info, Worker};
use crate::client::Client;
use crate::cmd::args::{int_arg, is};
use crate::cmd::{errors, Local};

/// Redis version reported to clients, which gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";

/// `CLIENT SETNAME` and `HELLO SETNAME` accept printable ASCII without spaces.
fn valid_client_name(name: &[u8]) -> bool {
    name.iter().all(|&byte| (b'!'..=b'~').contains(&byte))
}

const BAD_NAME: &[u8] = b"ERR Client names cannot contain spaces, newlines or special characters.";

impl Worker {
    /// Runs a home-worker command; false when the connection is to close.
    pub(super) fn run_local(&mut self, slot: usize, local: Local, args: &[&[u8]]) -> bool {
        match local {
            Local::Multi => {
                self.multi(slot);
                return true;
            }
            Local::Exec => {
                self.exec(slot);
                return true;
            }
            Local::Discard => {
                self.discard(slot);
                return true;
            }
            Local::Watch => {
                self.watch(slot, args);
                return true;
            }
            Local::Unwatch => {
                self.unwatch(slot);
                return true;
            }
            Local::Begin => {
                self.begin(slot);
                return true;
            }
            Local::Commit => {
                self.commit(slot);
                return true;
            }
            Local::Rollback => {
                self.rollback(slot);
                return true;
            }
            Local::Reset => {
                // RESET leaves MULTI, WATCH and BEGIN, as Redis leaves MULTI.
                self.unwatch_all(slot);
                if let Some(client) = self.client_mut(slot) {
                    client.multi = None;
                    client.retry_age = None;
                    if let Some(txn) = client.txn.take() {
                        self.forget_transaction(*txn);
                    }
                }
            }
            Local::Info => {
                self.info(slot, args);
                return true;
            }
            Local::Shutdown => {
                self.shared.request_shutdown();
                return false;
            }
            Local::Debug if args.len() >= 2 && is(args[1], "SLEEP") => {
                let seconds = args
                    .get(2)
                    .and_then(|arg| crate::cmd::args::parse_float(arg))
                    .unwrap_or(0.0);
                std::thread::sleep(Duration::from_secs_f64(seconds.clamp(0.0, 3600.0)));
                self.reply(slot, |out| out.ok());
                return true;
            }
            Local::Client if is(args[1], "LIST") => {
                let shards = self.all_shards();
                self.fan_out(
                    slot,
                    PartRequest::ClientList,
                    Gather::Text(String::new()),
                    shards,
                );
                return true;
            }
            Local::Client if is(args[1], "UNBLOCK") => {
                match parse_unblock(&args[2..]) {
                    Ok((client, kind)) => {
                        let shards = self.all_shards();
                        self.fan_out(
                            slot,
                            PartRequest::Unblock(client, kind),
                            Gather::Sum(0),
                            shards,
                        );
                    }
                    Err(message) => self.reply(slot, |out| out.error(message)),
                }
                return true;
            }
            Local::Client if is(args[1], "KILL") => {
                let requester = self
                    .conns
                    .get(slot)
                    .and_then(Option::as_ref)
                    .map_or(0, |conn| conn.client.id);
                match KillFilter::parse(&args[2..], requester) {
                    Ok(filter) => {
                        let gather = Gather::Killed {
                            old_form: filter.old_form,
                            count: 0,
                        };
                        let shards = self.all_shards();
                        self.fan_out(slot, PartRequest::Kill(filter), gather, shards);
                    }
                    Err(message) => self.reply(slot, |out| out.error(&message)),
                }
                return true;
            }
            _ => {}
        }
        let shared = self.shared.clone();
        let id = self.id;
        let now_ms = self.now_ms;
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return false;
        };
        let client = &mut conn.client;
        let mut keep_open = true;
        match local {
            Local::Ping => match args {
                [_] => client.reply_now(|out| out.simple_string(b"PONG")),
                [_, message] => client.reply_now(|out| out.bulk(message)),
                _ => client.reply_now(|out| out.error(&super::dispatch::arity_error("ping"))),
            },
            Local::Echo => client.reply_now(|out| out.bulk(args[1])),
            Local::Quit => {
                client.reply_now(|out| out.ok());
                keep_open = false;
            }
            Local::Select => select(client, args, shared.databases),
            Local::Hello => hello(client, args, &shared.config_password(), id),
            Local::Auth => auth(client, args, &shared.config_password()),
            Local::Reset => {
                client.db = 0;
                client.name.clear();
                client.out.set_version(RespVersion::Resp2);
                let password = shared.config_password();
                client.authenticated = password.is_empty();
                client.parser.set_auth_required(!password.is_empty());
                client.reply_now(|out| out.simple_string(b"RESET"));
            }
            Local::Client => client_command(client, args, now_ms),
            Local::Config => super::config_cmd::config(client, args, &shared),
            Local::Command => super::command_cmd::command(client, args),
            Local::Time => {
                let micros = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |elapsed| elapsed.as_micros());
                client.reply_now(|out| {
                    out.array(2);
                    out.bulk(itoa::Buffer::new().format(micros / 1_000_000).as_bytes());
                    out.bulk(itoa::Buffer::new().format(micros % 1_000_000).as_bytes());
                });
            }
            Local::Slowlog => slowlog(client, args, &shared),
            Local::Debug => {
                client.reply_now(|out| out.error(b"ERR DEBUG subcommand not supported by Shoal"))
            }
            Local::Monitor => {
                if !client.monitor {
                    client.monitor = true;
                    if let Ok(mut monitors) = shared.monitors.lock() {
                        monitors.push((id, client.id));
                        shared
                            .monitor_count
                            .store(monitors.len(), std::sync::atomic::Ordering::Relaxed);
                    }
                }
                client.reply_now(|out| out.ok());
            }
            Local::Info
            | Local::Shutdown
            | Local::Multi
            | Local::Exec
            | Local::Discard
            | Local::Watch
            | Local::Unwatch
            | Local::Begin
            | Local::Commit
            | Local::Rollback => unreachable!("handled above"),
        }
        self.mark_dirty(slot);
        keep_open
    }

    fn reply(&mut self, slot: usize, write: impl FnOnce(&mut ReplyEncoder)) {
        if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
            conn.client.reply_now(write);
        }
    }

    /// CLIENT LIST lines for this worker's clients (all, or one id).
    pub(super) fn client_list_text(&self, only: Option<u64>) -> String {
        let mut text = String::new();
        for conn in self.conns.iter().flatten() {
            let client = &conn.client;
            if only.is_some_and(|id| id != client.id) {
                continue;
            }
            text.push_str(&client_line(client, self.now_ms));
            text.push('\n');
        }
        text
    }

    /// Marks this worker's clients matching `filter` to close; how many.
    pub(super) fn kill_clients(&mut self, filter: &KillFilter) -> usize {
        let mut killed = Vec::new();
        for (slot, conn) in self.conns.iter_mut().enumerate() {
            let Some(conn) = conn.as_mut() else { continue };
            if filter.matches(&conn.client) {
                conn.client.close_after_reply = true;
                killed.push((slot, conn.client.id));
            }
        }
        // A blocked client's open reply slot would keep it from closing.
        let killed: Vec<usize> = killed
            .into_iter()
            .map(|(slot, client)| {
                if let Some(origin) = self.drop_block(client) {
                    self.complete(origin, Vec::new());
                }
                slot
            })
            .collect();
        let count = killed.len();
        killed.into_iter().for_each(|slot| self.mark_dirty(slot));
        count
    }

    fn info(&mut self, slot: usize, args: &[&[u8]]) {
        let sections = info::Sections::parse(&args[1..]);
        let shared = self.shared.clone();
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let client_count = shared.connected_clients();
        let _ = client_count;
        if !sections.wants_keyspace() {
            let text = info::render(&shared, &sections, None);
            conn.client
                .reply_now(|out| out.verbatim(b"txt", text.as_bytes()));
            self.mark_dirty(slot);
            return;
        }
        let totals = vec![(0, 0); shared.databases];
        let build = Box::new(move |counts: &[(usize, usize)]| {
            info::render(&shared, &sections, Some(counts)).into_bytes()
        });
        let shards = self.all_shards();
        self.fan_out(
            slot,
            PartRequest::KeyspaceCounts,
            Gather::Keyspace(totals, InfoBuilder(build)),
            shards,
        );
    }
}

impl super::Shared {
    /// The password clients must give (empty: none).
    pub fn config_password(&self) -> String {
        self.config
            .lock()
            .ok()
            .and_then(|config| {
                config
                    .requirepass()
                    .map(|password| String::from_utf8_lossy(password).into_owned())
            })
            .unwrap_or_default()
    }
}

fn select(client: &mut Client, args: &[&[u8]], databases: usize) {
    match int_arg(args[1]) {
        Ok(index) if i32::try_from(index).is_err() => client.reply_now(|out| {
            out.error(b"ERR value is out of range, value must between -2147483648 and 2147483647")
        }),
        Err(message) => client.reply_now(|out| out.error(message)),
        Ok(index) if index < 0 || index as usize >= databases => {
            client.reply_now(|out| out.error(errors::DB_INDEX))
        }
        Ok(index) => {
            client.db = index as usize;
            client.reply_now(|out| out.ok());
        }
    }
}

const WRONGPASS: &[u8] = b"WRONGPASS invalid username-password pair or user is disabled.";

/// Checks a username and password against `requirepass` (user `default` only).
fn password_ok(user: &[u8], given: &[u8], password: &str) -> bool {
    user == b"default" && !password.is_empty() && given == password.as_bytes()
}

fn auth(client: &mut Client, args: &[&[u8]], password: &str) {
    let (user, given) = match args {
        [_, given] => (&b"default"[..], *given),
        [_, user, given] => (*user, *given),
        _ => return client.reply_now(|out| out.error(errors::SYNTAX)),
    };
    if args.len() == 2 && password.is_empty() {
        return client.reply_now(|out| {
            out.error(b"ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
        });
    }
    if password_ok(user, given, password) || (password.is_empty() && user == b"default") {
        client.authenticated = true;
        client.parser.set_auth_required(false);
        client.reply_now(|out| out.ok());
    } else {
        client.reply_now(|out| out.error(WRONGPASS));
    }
}

fn hello(client: &mut Client, args: &[&[u8]], password: &str, _worker: usize) {
    let mut version = None;
    let mut next = 1;
    if args.len() >= 2 {
        match int_arg(args[1]) {
            Ok(v) if (2..=3).contains(&v) => version = Some(v),
            Ok(_) => {
                return client.reply_now(|out| out.error(b"NOPROTO unsupported protocol version"))
            }
            Err(_) => {
                return client.reply_now(|out| {
                    out.error(b"ERR Protocol version is not an integer or out of range")
                })
            }
        }
        next = 2;
    }
    let (mut credentials, mut name) = (None, None);
    while next < args.len() {
        let more = args.len() - 1 - next;
        if is(args[next], "AUTH") && more >= 2 {
            credentials = Some((args[next + 1], args[next + 2]));
            next += 3;
        } else if is(args[next], "SETNAME") && more >= 1 {
            if !valid_client_name(args[next + 1]) {
                return client.reply_now(|out| out.error(BAD_NAME));
            }
            name = Some(args[next + 1]);
            next += 2;
        } else {
            let message = format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(args[next])
            );
            return client.reply_now(|out| out.error(message.as_bytes()));
        }
    }
    if let Some((user, given)) = credentials {
        if password_ok(user, given, password) || (password.is_empty() && user == b"default") {
            client.authenticated = true;
            client.parser.set_auth_required(false);
        } else {
            return client.reply_now(|out| out.error(WRONGPASS));
        }
    }
    if !client.authenticated {
        return client.reply_now(|out| {
            out.error(b"NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
        });
    }
    if let Some(name) = name {
        client.name = name.to_vec();
    }
    if let Some(version) = version {
        client.out.set_version(if version == 3 {
            RespVersion::Resp3
        } else {
            RespVersion::Resp2
        });
    }
    let proto = if client.resp() == RespVersion::Resp3 {
        3
    } else {
        2
    };
    let id = client.id as i64;
    client.reply_now(|out| {
        out.map(7);
        out.bulk(b"server");
        out.bulk(b"redis");
        out.bulk(b"version");
        out.bulk(REDIS_VERSION.as_bytes());
        out.bulk(b"proto");
        out.integer(proto);
        out.bulk(b"id");
        out.integer(id);
        out.bulk(b"mode");
        out.bulk(b"standalone");
        out.bulk(b"role");
        out.bulk(b"master");
        out.bulk(b"modules");
        out.array(0);
    });
}

/// One CLIENT LIST / CLIENT INFO line, in Redis's field order.
fn client_line(client: &Client, now_ms: u64) -> String {
    let age = now_ms.saturating_sub(client.created_ms) / 1000;
    let idle = now_ms.saturating_sub(client.last_active_ms) / 1000;
    let flags = if client.no_evict { "e" } else { "N" };
    let resp = if client.resp() == RespVersion::Resp3 {
        3
    } else {
        2
    };
    format!(
        "id={} addr={} laddr={} fd=0 name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi=-1 qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem={} tot-mem=0 events=r cmd={} user=default redir=-1 resp={}",
        client.id,
        client.addr,
        client.laddr,
        String::from_utf8_lossy(&client.name),
        age,
        idle,
        flags,
        client.db,
        client.query.len(),
        client.out.len(),
        client.last_command,
        resp
    )
}

fn client_command(client: &mut Client, args: &[&[u8]], now_ms: u64) {
    let sub = args[1];
    if is(sub, "ID") {
        let id = client.id as i64;
        client.reply_now(|out| out.integer(id));
    } else if is(sub, "SETNAME") {
        if !valid_client_name(args[2]) {
            return client.reply_now(|out| out.error(BAD_NAME));
        }
        client.name = args[2].to_vec();
        client.reply_now(|out| out.ok());
    } else if is(sub, "GETNAME") {
        let name = client.name.clone();
        client.reply_now(|out| {
            if name.is_empty() {
                out.null()
            } else {
                out.bulk(&name)
            }
        });
    } else if is(sub, "INFO") {
        let mut line = client_line(client, now_ms);
        line.push('\n');
        client.reply_now(|out| out.verbatim(b"txt", line.as_bytes()));
    } else if is(sub, "NO-EVICT") {
        if is(args[2], "ON") {
            client.no_evict = true;
        } else if is(args[2], "OFF") {
            client.no_evict = false;
        } else {
            return client.reply_now(|out| out.error(errors::SYNTAX));
        }
        client.reply_now(|out| out.ok());
    } else {
        let lines: &[&str] = &[
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ID",
            "    Return the ID of the current connection.",
            "GETNAME",
            "    Return the name of the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "LIST",
            "    Return information about client connections.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port> | ID <client-id> | ADDR <ip:port>",
            "    Kill a connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect the current client connection from eviction.",
            "HELP",
            "    Prints this help.",
        ];
        client.reply_help(lines);
    }
}

fn slowlog(client: &mut Client, args: &[&[u8]], shared: &super::Shared) {
    let sub = args[1];
    let Ok(mut log) = shared.slowlog.lock() else {
        return client.reply_now(|out| out.error(b"ERR slow log unavailable"));
    };
    if is(sub, "GET") {
        let count = match args.get(2).map(|arg| int_arg(arg)) {
            None => Some(10),
            Some(Ok(-1)) => None,
            Some(Ok(count)) if count >= 0 => Some(count as usize),
            Some(_) => {
                return client
                    .reply_now(|out| out.error(b"ERR count should be greater than or equal to -1"))
            }
        };
        let entries = log.newest(count);
        client.reply_now(|out| {
            out.array(entries.len());
            for entry in &entries {
                out.array(6);
                out.integer(entry.id as i64);
                out.integer(entry.timestamp_s as i64);
                out.integer(entry.duration_us as i64);
                out.array(entry.args.len());
                entry.args.iter().for_each(|arg| out.bulk(arg));
                out.bulk(entry.client_addr.as_bytes());
                out.bulk(&entry.client_name);
            }
        });
    } else if is(sub, "LEN") {
        let len = log.len() as i64;
        client.reply_now(|out| out.integer(len));
    } else if is(sub, "RESET") {
        log.reset();
        client.reply_now(|out| out.ok());
    } else {
        let lines: &[&str] = &[
            "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
            "HELP",
            "    Prints this help.",
        ];
        client.reply_help(lines);
    }
}

/// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`'s arguments, or Redis's error.
fn parse_unblock(args: &[&[u8]]) -> Result<(u64, UnblockKind), &'static [u8]> {
    let client = shoal_protocol::parse_i64(args[0]).ok_or(crate::cmd::errors::NOT_INTEGER)?;
    let kind = match args.get(1) {
        None => UnblockKind::Timeout,
        Some(reason) if is(reason, "TIMEOUT") => UnblockKind::Timeout,
        Some(reason) if is(reason, "ERROR") => UnblockKind::Error,
        Some(_) => return Err(b"ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
    };
    if args.len() > 2 {
        return Err(crate::cmd::errors::SYNTAX);
    }
    Ok((u64::try_from(client).unwrap_or(0), kind))
}
