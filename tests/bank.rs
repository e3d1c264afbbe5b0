//! Money transfers under transactions, against a real `shoal-server`: the
//! balances always add up, and every committed transfer is applied exactly
//! once while aborted ones leave no trace.
//!
//! 1,000 accounts spread over every shard. Transfer clients move random
//! amounts between two accounts, each transfer one transaction that also
//! appends a unique id to the client's own log list:
//!
//! - BEGIN; GET a; GET b, then INCRBY a -x; INCRBY b x; RPUSH log id; COMMIT,
//!   retried on `-CONFLICT` (ROLLBACK when a is short);
//! - or WATCH a b; GET a; GET b, then MULTI; INCRBY a -x; INCRBY b x;
//!   RPUSH log id; EXEC, retried on a null EXEC (UNWATCH when a is short).
//!
//! Meanwhile other clients sum all balances over and over, inside
//! BEGIN…COMMIT (a committed sum must equal the total; a conflicted one
//! counts for nothing) and with MULTI; MGET all; EXEC (always the total).
//! At the end each client's log holds exactly the ids of its committed
//! transfers, in order, and every balance equals the start plus the sum of
//! the committed transfers the clients computed.
//!
//! Each case runs with `--threads 1` and `--threads 4`, on the epoll and the
//! io_uring backend (io_uring where the kernel has it); one case keeps the
//! transfers on 8 hot accounts (two per shard) to force conflicts. Every
//! run is bounded: [`RUN_FOR`] of transfers and [`TRANSFERS_MAX`] per client.

mod util;

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use shoal_protocol::Reply;
use util::{free_port, key_shard, show, Client, ServerProcess};

/// Accounts in every run.
const ACCOUNTS: usize = 1000;
/// Every account's balance at the start.
const START: i64 = 1000;
/// What all accounts hold together, always.
const TOTAL: i64 = ACCOUNTS as i64 * START;
/// Clients making transfers.
const TRANSFER_CLIENTS: usize = 6;
/// How long the transfer clients start new transfers.
const RUN_FOR: Duration = Duration::from_secs(4);
/// Most transfers one client commits in a run.
const TRANSFERS_MAX: u64 = 50_000;
/// Largest amount moved.
const AMOUNT_MAX: u64 = 50;
/// Hot accounts per shard in the hot case.
const HOT_PER_SHARD: usize = 2;
/// One transfer retried this often is a livelock: the test fails.
const RETRIES_MAX: u64 = 100_000;

/// How a transfer is made atomic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tx {
    /// BEGIN … COMMIT, retried on CONFLICT.
    Begin,
    /// WATCH … MULTI … EXEC, retried on a null EXEC.
    Watch,
}

/// One run's settings.
#[derive(Debug, Clone, Copy)]
struct Case {
    tx: Tx,
    threads: usize,
    hot: bool,
}

macro_rules! bank_cases {
    ($($name:ident => ($tx:expr, $threads:expr, $hot:expr);)*) => {$(
        mod $name {
            use super::*;

            #[test]
            fn epoll() {
                run_case(Case { tx: $tx, threads: $threads, hot: $hot }, "epoll");
            }

            #[test]
            fn uring() {
                match uring_unavailable() {
                    Some(why) => println!("skipped: io_uring is unavailable here: {why}"),
                    None => run_case(Case { tx: $tx, threads: $threads, hot: $hot }, "uring"),
                }
            }
        }
    )*};
}

bank_cases! {
    begin_commit_threads_1 => (Tx::Begin, 1, false);
    begin_commit_threads_4 => (Tx::Begin, 4, false);
    begin_commit_threads_4_hot_accounts => (Tx::Begin, 4, true);
    watch_multi_exec_threads_1 => (Tx::Watch, 1, false);
    watch_multi_exec_threads_4 => (Tx::Watch, 4, false);
    watch_multi_exec_threads_4_hot_accounts => (Tx::Watch, 4, true);
}

/// The same WATCH/MULTI/EXEC transfers and MULTI/MGET/EXEC sums against
/// `redis-server`: the reference the Shoal runs are held to.
#[test]
fn watch_multi_exec_against_redis_server() {
    let redis = ServerProcess::redis(&[]);
    let outcome = run_bank(
        redis.port,
        Case {
            tx: Tx::Watch,
            threads: 1,
            hot: true,
        },
        false,
    );
    println!("redis-server, WATCH/MULTI/EXEC, hot accounts: {outcome}");
    assert!(outcome.conflicts > 0, "no conflict on hot accounts");
}

/// Why `--io-backend uring` cannot start here, or `None` when it can.
fn uring_unavailable() -> Option<String> {
    static WHY: OnceLock<Option<String>> = OnceLock::new();
    WHY.get_or_init(|| {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_shoal-server"))
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--threads", "1", "--io-backend", "uring"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start shoal-server");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("poll the child") {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return Some(format!(
                    "shoal-server exited with {status}: {}",
                    stderr.trim()
                ));
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            assert!(
                Instant::now() < deadline,
                "shoal-server --io-backend uring neither listened nor exited"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .clone()
}

fn run_case(case: Case, backend: &str) {
    let threads = case.threads.to_string();
    let server = ServerProcess::shoal(&["--threads", &threads, "--io-backend", backend]);
    let started = Instant::now();
    let outcome = run_bank(server.port, case, true);
    println!(
        "{:?} transfers, --threads {}, {backend}{}: {outcome} in {:.1} s",
        case.tx,
        case.threads,
        if case.hot { ", 8 hot accounts" } else { "" },
        started.elapsed().as_secs_f64()
    );
    if case.hot {
        assert!(
            outcome.conflicts > 0,
            "transfers on hot accounts never conflicted"
        );
    }
}

/// Account keys, the accounts transfers use, and the keys' shards checked.
fn accounts(case: Case) -> (Vec<String>, Vec<usize>) {
    let keys: Vec<String> = (0..ACCOUNTS).map(|i| format!("bank:acct:{i}")).collect();
    let shards = case.threads;
    let mut per_shard = vec![Vec::new(); shards];
    for (index, key) in keys.iter().enumerate() {
        per_shard[key_shard(key.as_bytes(), shards)].push(index);
    }
    for (shard, members) in per_shard.iter().enumerate() {
        assert!(
            members.len() >= HOT_PER_SHARD,
            "shard {shard} holds {} accounts",
            members.len()
        );
    }
    let used = if case.hot {
        per_shard
            .iter()
            .flat_map(|members| members[..HOT_PER_SHARD].iter().copied())
            .collect()
    } else {
        (0..ACCOUNTS).collect()
    };
    (keys, used)
}

/// What one run counted.
#[derive(Debug, Default)]
struct Outcome {
    committed: u64,
    conflicts: u64,
    declined: u64,
    begin_sums_committed: u64,
    begin_sums_conflicted: u64,
    multi_sums: u64,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} transfers committed, {} conflicts retried, {} declined (funds short); \
             sums: {} BEGIN committed, {} BEGIN conflicted, {} MULTI/EXEC",
            self.committed,
            self.conflicts,
            self.declined,
            self.begin_sums_committed,
            self.begin_sums_conflicted,
            self.multi_sums
        )
    }
}

/// What one transfer client did.
#[derive(Debug, Default)]
struct Ledger {
    /// Ids of the committed transfers, in commit order.
    ids: Vec<String>,
    /// Net change per account from this client's committed transfers.
    delta: HashMap<usize, i64>,
    conflicts: u64,
    declined: u64,
}

/// Sets up the accounts, runs transfer and summing clients, checks the end
/// state. `with_begin` adds the BEGIN…COMMIT summing client.
fn run_bank(port: u16, case: Case, with_begin: bool) -> Outcome {
    let (keys, used) = accounts(case);
    let logs: Vec<String> = (0..TRANSFER_CLIENTS)
        .map(|c| format!("bank:log:{c}"))
        .collect();
    let mut setup = Client::connect(port);
    let mut commands: Vec<Vec<String>> = keys
        .iter()
        .map(|key| vec!["SET".into(), key.clone(), START.to_string()])
        .collect();
    commands.push(
        std::iter::once("DEL".to_string())
            .chain(logs.iter().cloned())
            .collect(),
    );
    for reply in &setup.pipeline(&commands)[..ACCOUNTS] {
        expect(reply, &ok(), "SET");
    }

    let stop = AtomicBool::new(false);
    let deadline = Instant::now() + RUN_FOR;
    let (ledgers, begin_sums, multi_sums) = std::thread::scope(|scope| {
        let keys = &keys;
        let stop = &stop;
        let begin_summer = with_begin.then(|| scope.spawn(move || begin_sums(port, keys, stop)));
        let multi_summer = scope.spawn(move || multi_sums(port, keys, stop));
        let transfers: Vec<_> = (0..TRANSFER_CLIENTS)
            .map(|client| {
                let (used, log) = (&used, &logs[client]);
                scope.spawn(move || {
                    transfer_client(port, case.tx, client, keys, used, log, deadline)
                })
            })
            .collect();
        // Joined before anything can panic here: a summing client runs
        // until `stop`, and the scope waits for it.
        let ledgers: Vec<_> = transfers.into_iter().map(|t| t.join()).collect();
        stop.store(true, Ordering::Relaxed);
        let begin = begin_summer.map(|s| s.join());
        let multi = multi_summer.join();
        let ledgers: Vec<Ledger> = ledgers
            .into_iter()
            .map(|l| l.expect("a transfer client panicked"))
            .collect();
        let begin = begin.map(|b| b.expect("the BEGIN summing client panicked"));
        let multi = multi.expect("the MULTI summing client panicked");
        (ledgers, begin, multi)
    });

    // Every balance is the start plus what committed transfers moved.
    let mut expected = vec![START; ACCOUNTS];
    for ledger in &ledgers {
        for (&account, &delta) in &ledger.delta {
            expected[account] += delta;
        }
    }
    let balances = mget_balances(&mut setup, &keys);
    assert_eq!(balances.iter().sum::<i64>(), TOTAL, "the final sum");
    for (index, (balance, want)) in balances.iter().zip(&expected).enumerate() {
        assert_eq!(
            balance, want,
            "{}: balance {balance}, but the committed transfers make it {want}",
            keys[index]
        );
    }
    // Each log holds exactly its client's committed transfer ids, in order.
    for (client, ledger) in ledgers.iter().enumerate() {
        let reply = setup.call(&["LRANGE", &logs[client], "0", "-1"]);
        let Reply::Array(items) = reply else {
            panic!("LRANGE {} replied {}", logs[client], show(&reply));
        };
        let logged: Vec<String> = items
            .iter()
            .map(|item| match item {
                Reply::Bulk(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                other => panic!("a log entry is {}", show(other)),
            })
            .collect();
        if logged != ledger.ids {
            let extra: Vec<&String> = logged
                .iter()
                .filter(|id| !ledger.ids.contains(id))
                .collect();
            let missing: Vec<&String> = ledger
                .ids
                .iter()
                .filter(|id| !logged.contains(id))
                .collect();
            panic!(
                "client {client}: its log holds {} ids, it committed {}; in the log but not \
                 committed (first 5): {:?}; committed but not in the log (first 5): {:?}",
                logged.len(),
                ledger.ids.len(),
                &extra[..extra.len().min(5)],
                &missing[..missing.len().min(5)]
            );
        }
    }
    let (begin_sums_committed, begin_sums_conflicted) = begin_sums.unwrap_or((0, 0));
    Outcome {
        committed: ledgers.iter().map(|l| l.ids.len() as u64).sum(),
        conflicts: ledgers.iter().map(|l| l.conflicts).sum(),
        declined: ledgers.iter().map(|l| l.declined).sum(),
        begin_sums_committed,
        begin_sums_conflicted,
        multi_sums,
    }
}

/// splitmix64: a small generator, seeded per client.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

fn ok() -> Reply {
    Reply::Simple(b"OK".to_vec())
}

fn queued() -> Reply {
    Reply::Simple(b"QUEUED".to_vec())
}

/// A balance as GET or MGET returns it.
fn balance(reply: &Reply, key: &str) -> i64 {
    match reply {
        Reply::Bulk(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or_else(|| panic!("{key} holds {}, not an integer", show(reply))),
        other => panic!("reading {key} gave {}", show(other)),
    }
}

/// Fails unless `reply` is `want`, showing both as RESP text.
fn expect(reply: &Reply, want: &Reply, what: &str) {
    assert!(
        reply == want,
        "{what} replied {}, expected {}",
        show(reply),
        show(want)
    );
}

fn is_conflict(reply: &Reply) -> bool {
    matches!(reply, Reply::Error(text) if text.starts_with(b"CONFLICT "))
}

/// What the three writes of a transfer are, for messages.
const WRITES: [&str; 3] = ["INCRBY (debit)", "INCRBY (credit)", "RPUSH (log)"];

/// Makes transfers until `deadline` (or [`TRANSFERS_MAX`] commits).
fn transfer_client(
    port: u16,
    tx: Tx,
    client: usize,
    keys: &[String],
    used: &[usize],
    log: &str,
    deadline: Instant,
) -> Ledger {
    let mut c = Client::connect(port);
    let mut rng = Rng(0xba4c ^ ((client as u64) << 32));
    let mut ledger = Ledger::default();
    let mut attempt = 0u64;
    while Instant::now() < deadline && (ledger.ids.len() as u64) < TRANSFERS_MAX {
        let from = used[rng.below(used.len())];
        let mut to = used[rng.below(used.len() - 1)];
        if to == from {
            to = used[used.len() - 1];
        }
        let amount = 1 + (rng.next() % AMOUNT_MAX) as i64;
        let (a, b) = (&keys[from], &keys[to]);
        let mut retries = 0u64;
        // Retries until committed, declined, or the run is over.
        loop {
            attempt += 1;
            let id = format!("{client}:{attempt}");
            let committed_before = ledger.ids.len() as i64;
            let opener = match tx {
                Tx::Begin => owned(&["BEGIN"]),
                Tx::Watch => owned(&["WATCH", a, b]),
            };
            let read = c.pipeline(&[opener, owned(&["GET", a]), owned(&["GET", b])]);
            expect(&read[0], &ok(), &format!("{tx:?} opener"));
            let (balance_a, balance_b) = (balance(&read[1], a), balance(&read[2], b));
            if balance_a < amount {
                let release = match tx {
                    Tx::Begin => "ROLLBACK",
                    Tx::Watch => "UNWATCH",
                };
                expect(&c.call(&[release]), &ok(), release);
                ledger.declined += 1;
                break;
            }
            let debit = (-amount).to_string();
            let credit = amount.to_string();
            let writes = [
                owned(&["INCRBY", a, &debit]),
                owned(&["INCRBY", b, &credit]),
                owned(&["RPUSH", log, &id]),
            ];
            let values = [
                Reply::Integer(balance_a - amount),
                Reply::Integer(balance_b + amount),
                Reply::Integer(committed_before + 1),
            ];
            let committed = match tx {
                Tx::Begin => {
                    let mut batch = writes.to_vec();
                    batch.push(owned(&["COMMIT"]));
                    let replies = c.pipeline(&batch);
                    let committed = match &replies[3] {
                        reply if *reply == ok() => true,
                        reply if is_conflict(reply) => false,
                        other => panic!("COMMIT replied {}", show(other)),
                    };
                    // A committed transaction saw a consistent state: the
                    // balances it read, then its own writes (the log is this
                    // client's alone, so its length is known). A conflicted
                    // one may have seen anything.
                    if committed {
                        for ((reply, want), what) in replies.iter().zip(&values).zip(WRITES) {
                            expect(reply, want, &format!("{what} inside BEGIN"));
                        }
                    } else {
                        for (reply, what) in replies.iter().zip(WRITES) {
                            assert!(
                                matches!(reply, Reply::Integer(_)),
                                "{what} inside BEGIN replied {}",
                                show(reply)
                            );
                        }
                    }
                    committed
                }
                Tx::Watch => {
                    let mut batch = vec![owned(&["MULTI"])];
                    batch.extend(writes.iter().cloned());
                    batch.push(owned(&["EXEC"]));
                    let replies = c.pipeline(&batch);
                    expect(&replies[0], &ok(), "MULTI");
                    for reply in &replies[1..4] {
                        expect(reply, &queued(), "a write inside MULTI");
                    }
                    match &replies[4] {
                        Reply::NullArray | Reply::Null => false,
                        // EXEC ran with a and b as read under WATCH.
                        Reply::Array(results) => {
                            assert_eq!(results.len(), 3, "EXEC's results: {}", show(&replies[4]));
                            for ((reply, want), what) in results.iter().zip(&values).zip(WRITES) {
                                expect(reply, want, &format!("{what} inside EXEC"));
                            }
                            true
                        }
                        other => panic!("EXEC replied {}", show(other)),
                    }
                }
            };
            if committed {
                ledger.ids.push(id);
                *ledger.delta.entry(from).or_default() -= amount;
                *ledger.delta.entry(to).or_default() += amount;
                break;
            }
            ledger.conflicts += 1;
            retries += 1;
            assert!(
                retries < RETRIES_MAX,
                "one transfer conflicted {retries} times in a row"
            );
            if Instant::now() >= deadline {
                break;
            }
        }
    }
    ledger
}

/// The balances of all `keys`, read with one MGET.
fn mget_balances(c: &mut Client, keys: &[String]) -> Vec<i64> {
    let mut command = vec!["MGET".to_string()];
    command.extend(keys.iter().cloned());
    let reply = c.pipeline(&[command]).remove(0);
    let Reply::Array(values) = reply else {
        panic!("MGET replied {}", show(&reply));
    };
    assert_eq!(values.len(), keys.len());
    values
        .iter()
        .zip(keys)
        .map(|(value, key)| balance(value, key))
        .collect()
}

/// Sums inside BEGIN…COMMIT until `stop`, then once more with no transfer
/// running (that one must commit): (committed sums, conflicted sums).
/// Alternates one MGET of every key and a GET per key.
fn begin_sums(port: u16, keys: &[String], stop: &AtomicBool) -> (u64, u64) {
    let mut c = Client::connect(port);
    let (mut committed, mut conflicted) = (0u64, 0u64);
    let mut round = 0u64;
    loop {
        let last = stop.load(Ordering::Relaxed);
        round += 1;
        let mut batch = vec![owned(&["BEGIN"])];
        if round % 2 == 0 {
            let mut mget = vec!["MGET".to_string()];
            mget.extend(keys.iter().cloned());
            batch.push(mget);
        } else {
            batch.extend(keys.iter().map(|key| vec!["GET".to_string(), key.clone()]));
        }
        batch.push(owned(&["COMMIT"]));
        let replies = c.pipeline(&batch);
        expect(&replies[0], &ok(), "BEGIN");
        let commit = &replies[replies.len() - 1];
        let values: Vec<Reply> = match &replies[1..replies.len() - 1] {
            [Reply::Array(values)] => values.clone(),
            each => each.to_vec(),
        };
        assert_eq!(values.len(), keys.len(), "one balance per account");
        let sum: i64 = values
            .iter()
            .zip(keys)
            .map(|(value, key)| balance(value, key))
            .sum();
        if *commit == ok() {
            assert_eq!(sum, TOTAL, "a committed BEGIN…COMMIT read a wrong sum");
            committed += 1;
        } else if is_conflict(commit) {
            assert!(!last, "a read-only sum conflicted with no transfer running");
            conflicted += 1;
        } else {
            panic!("COMMIT of a sum replied {}", show(commit));
        }
        if last {
            return (committed, conflicted);
        }
    }
}

/// Sums with MULTI; MGET all; EXEC until `stop`: always the total.
fn multi_sums(port: u16, keys: &[String], stop: &AtomicBool) -> u64 {
    let mut c = Client::connect(port);
    let mut sums = 0;
    let mut mget = vec!["MGET".to_string()];
    mget.extend(keys.iter().cloned());
    while !stop.load(Ordering::Relaxed) || sums == 0 {
        let replies = c.pipeline(&[owned(&["MULTI"]), mget.clone(), owned(&["EXEC"])]);
        expect(&replies[0], &ok(), "MULTI");
        expect(&replies[1], &queued(), "MGET inside MULTI");
        let Reply::Array(results) = &replies[2] else {
            panic!("EXEC replied {}", show(&replies[2]));
        };
        let [Reply::Array(values)] = &results[..] else {
            panic!("EXEC's MGET gave {}", show(&replies[2]));
        };
        let sum: i64 = values
            .iter()
            .zip(keys)
            .map(|(value, key)| balance(value, key))
            .sum();
        assert_eq!(sum, TOTAL, "MULTI/MGET/EXEC read a sum that never existed");
        sums += 1;
    }
    sums
}
