//! `shoal-bench bank`: money transfers between accounts under concurrent
//! clients, each transfer made atomic by a transaction (`--mode multi`:
//! WATCH + MULTI/EXEC, `begin`: Shoal's BEGIN/COMMIT, `multi-blind`:
//! MULTI/EXEC with no read), reporting committed transfers per second,
//! conflicts and latency, then checking that the balances still add up.
//!
//! Accounts of a transfer are a uniform random pair, so on a server with S
//! shards they live on different shards (S-1)/S of the time: most
//! transactions span two shards.

pub mod args;
pub mod client;
pub mod report;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use shoal_protocol::{encode_request, Reply, ReplyParser};

use crate::conn;
use crate::error::{BenchError, Result};
use crate::proc_stat;
use crate::rng::splitmix64;
use crate::signals;
use args::{BankConfig, BankParsed, Mode};
use client::{Tally, Workload};
use report::Summary;

/// Keys per SET batch or MGET when setting up and summing.
const BATCH_KEYS: usize = 1000;
/// How long a setup or check request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `shoal-bench bank ARGS…`.
pub fn main(args: &[String]) -> Result<()> {
    let config = match args::parse(args)? {
        BankParsed::Help => {
            print!("{}", args::USAGE);
            return Ok(());
        }
        BankParsed::Run(config) => *config,
    };
    signals::install();
    let summary = run(&config)?;
    print!("{}", report::text(&summary, &config.percentiles));
    if let Some(path) = &config.json_out_file {
        let text = serde_json::to_string_pretty(&report::json(&summary, &config))
            .map_err(|e| BenchError::protocol(format!("encoding JSON: {e}")))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| BenchError::io(format!("writing {}", path.display()), e))?;
    }
    if !summary.sum_ok() {
        return Err(BenchError::protocol(format!(
            "the balances add up to {}, not {}: transfers were not atomic",
            summary.sum, summary.expected_sum
        )));
    }
    if summary.tally.errors > 0 {
        return Err(BenchError::protocol(format!(
            "{} errors; first: {}",
            summary.tally.errors,
            summary
                .tally
                .error_samples
                .first()
                .cloned()
                .unwrap_or_default()
        )));
    }
    if summary.interrupted {
        return Err(BenchError::interrupted(
            "interrupted: the figures above cover the time run",
        ));
    }
    Ok(())
}

/// A blocking connection for setting up and checking: pipelined batches.
struct Plain {
    stream: TcpStream,
    input: Vec<u8>,
}

impl Plain {
    fn open(config: &BankConfig) -> Result<Plain> {
        let shared = config.connection_config();
        let stream = conn::connect(conn::resolve(&shared)?, &shared)?;
        stream
            .set_read_timeout(Some(REQUEST_TIMEOUT))
            .map_err(|e| BenchError::io("setting a read timeout", e))?;
        Ok(Plain {
            stream,
            input: Vec::new(),
        })
    }

    /// Sends every command in one write, then reads one reply each.
    fn pipeline(&mut self, commands: &[Vec<&[u8]>]) -> Result<Vec<Reply>> {
        let mut wire = Vec::new();
        for command in commands {
            encode_request(command, &mut wire);
        }
        self.stream
            .write_all(&wire)
            .map_err(|e| BenchError::io("sending", e))?;
        let mut replies = Vec::with_capacity(commands.len());
        let mut chunk = vec![0u8; 64 * 1024];
        while replies.len() < commands.len() {
            match ReplyParser::default()
                .parse(&self.input)
                .map_err(|e| BenchError::protocol(format!("invalid reply: {e}")))?
            {
                Some((reply, used)) => {
                    self.input.drain(..used);
                    replies.push(reply);
                }
                None => {
                    let n = self
                        .stream
                        .read(&mut chunk)
                        .map_err(|e| BenchError::io("reading a reply", e))?;
                    if n == 0 {
                        return Err(BenchError::protocol("the server closed the connection"));
                    }
                    self.input.extend_from_slice(&chunk[..n]);
                }
            }
        }
        Ok(replies)
    }
}

/// Sets every account to the start balance.
fn open_accounts(plain: &mut Plain, keys: &[String], start: i64) -> Result<()> {
    let balance = start.to_string();
    for batch in keys.chunks(BATCH_KEYS) {
        let commands: Vec<Vec<&[u8]>> = batch
            .iter()
            .map(|key| vec![&b"SET"[..], key.as_bytes(), balance.as_bytes()])
            .collect();
        for reply in plain.pipeline(&commands)? {
            if reply != Reply::Simple(b"OK".to_vec()) {
                return Err(BenchError::protocol(format!(
                    "setting up the accounts: SET replied {}",
                    client::show(&reply)
                )));
            }
        }
    }
    Ok(())
}

/// The sum of every account's balance (MGET in batches).
pub fn sum_balances(plain_config: &BankConfig, keys: &[String]) -> Result<i64> {
    let mut plain = Plain::open(plain_config)?;
    let mut sum: i64 = 0;
    for batch in keys.chunks(BATCH_KEYS) {
        let mut command: Vec<&[u8]> = vec![b"MGET"];
        command.extend(batch.iter().map(|key| key.as_bytes()));
        let reply = plain.pipeline(&[command])?.remove(0);
        let Reply::Array(values) = reply else {
            return Err(BenchError::protocol(format!(
                "MGET replied {}",
                client::show(&reply)
            )));
        };
        if values.len() != batch.len() {
            return Err(BenchError::protocol(format!(
                "MGET of {} keys replied {} values",
                batch.len(),
                values.len()
            )));
        }
        for (key, value) in batch.iter().zip(values) {
            let balance = client::balance(&value, key).map_err(BenchError::protocol)?;
            sum = sum
                .checked_add(balance)
                .ok_or_else(|| BenchError::protocol("the sum of the balances overflows 64 bits"))?;
        }
    }
    Ok(sum)
}

/// Whether the server answers BEGIN with +OK (it is rolled back at once).
pub fn supports_begin(config: &BankConfig) -> Result<std::result::Result<(), String>> {
    let mut plain = Plain::open(config)?;
    let replies = plain.pipeline(&[vec![&b"BEGIN"[..]]])?;
    if replies[0] != Reply::Simple(b"OK".to_vec()) {
        return Ok(Err(format!("BEGIN replied {}", client::show(&replies[0]))));
    }
    let replies = plain.pipeline(&[vec![&b"ROLLBACK"[..]]])?;
    if replies[0] != Reply::Simple(b"OK".to_vec()) {
        return Ok(Err(format!(
            "ROLLBACK replied {}",
            client::show(&replies[0])
        )));
    }
    Ok(Ok(()))
}

/// Sets up the accounts, runs the transfers, sums the balances.
pub fn run(config: &BankConfig) -> Result<Summary> {
    let keys: Vec<String> = (0..config.accounts)
        .map(|i| config.account_key(i))
        .collect();
    if config.mode == Mode::Begin {
        if let Err(why) = supports_begin(config)? {
            return Err(BenchError::protocol(format!(
                "--mode begin needs a server with BEGIN/COMMIT: {why}"
            )));
        }
    }
    open_accounts(&mut Plain::open(config)?, &keys, config.start_balance)?;
    let shared = config.connection_config();
    let addr = conn::resolve(&shared)?;
    let mut per_thread: Vec<(Vec<TcpStream>, Vec<u64>)> = (0..config.threads)
        .map(|_| (Vec::new(), Vec::new()))
        .collect();
    for index in 0..config.clients {
        let stream = conn::connect(addr, &shared)?;
        let slot = &mut per_thread[(index % config.threads) as usize];
        slot.0.push(stream);
        slot.1.push(splitmix64(config.seed ^ u64::from(index)));
    }
    let workload = Workload {
        mode: config.mode,
        keys: keys.clone(),
        max_amount: config.max_amount,
    };
    let cpu_before = config.server_pid.map(proc_stat::cpu_time).transpose()?;
    let started = Instant::now();
    let deadline = started + config.test_time;
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = per_thread
            .into_iter()
            .map(|(streams, seeds)| {
                let workload = &workload;
                scope.spawn(move || {
                    client::run_thread(streams, workload, &seeds, deadline, config.drain_timeout)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a bank thread does not panic"))
            .collect()
    });
    let elapsed = started.elapsed();
    let cpu_after = config.server_pid.map(proc_stat::cpu_time).transpose()?;
    let mut tally = Tally::default();
    for one in &tallies {
        tally.merge(one);
    }
    let sum = sum_balances(config, &keys)?;
    Ok(Summary {
        mode: config.mode,
        accounts: config.accounts,
        clients: config.clients,
        threads: config.threads,
        elapsed,
        tally,
        server_cpu: cpu_before
            .zip(cpu_after)
            .map(|(before, after)| after.saturating_sub(before)),
        sum,
        expected_sum: config.expected_total(),
        interrupted: signals::stop_requested(),
    })
}
