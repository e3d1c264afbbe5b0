//! The command line of `shoal-bench bank`.

use std::path::PathBuf;
use std::time::Duration;

use crate::args::Config;
use crate::error::{BenchError, Result};

/// How a client makes a transfer atomic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `WATCH a b; GET a; GET b`, then `MULTI; INCRBY a -x; INCRBY b x;
    /// EXEC`; a null EXEC is a conflict and the transfer is retried.
    Multi,
    /// `BEGIN; GET a; GET b`, then `INCRBY a -x; INCRBY b x; COMMIT`; a
    /// `-CONFLICT` COMMIT is retried.
    Begin,
    /// `MULTI; DECRBY a x; INCRBY b x; EXEC` with no WATCH and no read.
    MultiBlind,
}

impl Mode {
    /// The name `--mode` takes.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Multi => "multi",
            Mode::Begin => "begin",
            Mode::MultiBlind => "multi-blind",
        }
    }

    fn parse(text: &str) -> Option<Mode> {
        match text {
            "multi" => Some(Mode::Multi),
            "begin" => Some(Mode::Begin),
            "multi-blind" => Some(Mode::MultiBlind),
            _ => None,
        }
    }
}

/// Everything a bank run needs.
#[derive(Debug, Clone, PartialEq)]
pub struct BankConfig {
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// `-a`: password, or `user:password`.
    pub auth: Option<String>,
    /// `-c`: clients (connections) in total.
    pub clients: u32,
    /// `-t`: threads the clients are spread over.
    pub threads: u32,
    /// `--test-time`.
    pub test_time: Duration,
    /// `--accounts`.
    pub accounts: u64,
    /// `--start-balance`: every account's balance before the run.
    pub start_balance: i64,
    /// `--max-amount`: transfers move 1..=this.
    pub max_amount: i64,
    /// `--mode`.
    pub mode: Mode,
    /// `--key-prefix`: accounts are `<prefix><i>`.
    pub key_prefix: String,
    /// `--json-out-file`.
    pub json_out_file: Option<PathBuf>,
    /// `--server-pid`: whose CPU time to divide by the committed transfers.
    pub server_pid: Option<u32>,
    /// `--seed` (or `--randomize`).
    pub seed: u64,
    /// `--print-percentiles`.
    pub percentiles: Vec<f64>,
    /// `--drain-timeout`: how long to wait at the end for replies still owed.
    pub drain_timeout: Duration,
    /// The flags as given, for the JSON output.
    pub argv: Vec<String>,
}

impl Default for BankConfig {
    fn default() -> Self {
        BankConfig {
            host: "localhost".into(),
            port: 6379,
            auth: None,
            clients: 50,
            threads: 1,
            test_time: Duration::from_secs(10),
            accounts: 1000,
            start_balance: 1000,
            max_amount: 100,
            mode: Mode::Multi,
            key_prefix: "account:".into(),
            json_out_file: None,
            server_pid: None,
            seed: 0x5e11_5eed,
            percentiles: vec![50.0, 90.0, 99.0, 99.9, 99.99],
            drain_timeout: Duration::from_secs(10),
            argv: Vec::new(),
        }
    }
}

impl BankConfig {
    /// The key of account `index`.
    pub fn account_key(&self, index: u64) -> String {
        format!("{}{index}", self.key_prefix)
    }

    /// What every account together holds, before and (if transfers are
    /// atomic) after the run.
    pub fn expected_total(&self) -> i64 {
        // `parse` refuses products that overflow.
        self.start_balance * self.accounts as i64
    }

    /// The connection settings the shared connection code takes.
    pub fn connection_config(&self) -> Config {
        Config {
            host: self.host.clone(),
            port: self.port,
            auth: self.auth.clone(),
            threads: self.threads,
            clients: self.clients,
            ..Config::default()
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum BankParsed {
    /// Run the benchmark.
    Run(Box<BankConfig>),
    /// `--help`.
    Help,
}

/// The usage text.
pub const USAGE: &str = "Usage: shoal-bench bank [options]

Money transfers between accounts, each made atomic by a transaction. Sets
--accounts keys <prefix>0.. to --start-balance, then --clients clients move a
random amount (1..=--max-amount) between two distinct random accounts, over and
over, for --test-time seconds. At the end the balances are summed: the sum must
equal accounts x start balance, or the run fails (exit status 1). Any error
reply also fails the run; the client that got it stops.

Pairs are uniform over all distinct pairs, so on a server with S shards the two
accounts of a transfer live on different shards (S-1)/S of the time.

  -s, --server HOST        server (default: localhost)
  -p, --port PORT          port (default: 6379)
  -a, --authenticate PASS  AUTH password, or USER:PASS
  -c, --clients N          clients in total, one connection each (default: 50)
  -t, --threads N          threads the clients are spread over (default: 1)
      --test-time SECS     how long transfers run (default: 10)
      --mode MODE          multi (default): WATCH a b; GET a; GET b, then
                             MULTI; INCRBY a -x; INCRBY b x; EXEC
                             (a null EXEC is a conflict, retried)
                           begin: BEGIN; GET a; GET b, then INCRBY a -x;
                             INCRBY b x; COMMIT (ROLLBACK when funds are
                             short; -CONFLICT is retried)
                           multi-blind: MULTI; DECRBY a x; INCRBY b x; EXEC,
                             no WATCH, no read
      --accounts N         accounts (default: 1000)
      --start-balance N    each account's balance at the start (default: 1000)
      --max-amount N       largest amount moved (default: 100)
      --key-prefix TEXT    account keys are TEXT<i> (default: account:)
      --json-out-file FILE the report as JSON (also --json-out)
      --server-pid PID     report the server's CPU time per committed transfer
      --seed N             random seed (default: a constant)
      --randomize          a random seed
      --print-percentiles LIST  latency percentiles (default: 50,90,99,99.9,99.99)
      --drain-timeout SECS how long to wait for replies still owed at the end
                           (default: 10)
      --help               this text

Requests of one step are sent together (one write), as the modes list them.
";

/// Reads `shoal-bench bank` flags (without `bank`).
pub fn parse(args: &[String]) -> Result<BankParsed> {
    let mut config = BankConfig {
        argv: args.to_vec(),
        ..BankConfig::default()
    };
    let mut at = 0;
    while at < args.len() {
        let word = &args[at];
        at += 1;
        let (name, inline) = split_flag(word)?;
        if name == "help" {
            return Ok(BankParsed::Help);
        }
        if name == "randomize" {
            if inline.is_some() {
                return Err(BenchError::usage("--randomize takes no value"));
            }
            config.seed = crate::args::random_seed();
            continue;
        }
        let value = match inline {
            Some(value) => value,
            None => {
                let value = args
                    .get(at)
                    .ok_or_else(|| BenchError::usage(format!("{word} needs a value")))?;
                at += 1;
                value.clone()
            }
        };
        apply(&mut config, name, &value)?;
    }
    if config.accounts < 2 {
        return Err(BenchError::usage(
            "--accounts must be at least 2: a transfer needs two accounts",
        ));
    }
    if config
        .start_balance
        .checked_mul(config.accounts as i64)
        .is_none()
    {
        return Err(BenchError::usage(
            "--accounts x --start-balance does not fit in a 64-bit integer",
        ));
    }
    if config.threads > config.clients {
        return Err(BenchError::usage(format!(
            "--threads {} is more than --clients {}: every thread needs a client",
            config.threads, config.clients
        )));
    }
    Ok(BankParsed::Run(Box::new(config)))
}

/// The flag's long name (short letters mapped to theirs) and an inline value.
fn split_flag(word: &str) -> Result<(&'static str, Option<String>)> {
    const SHORT: &[(char, &str)] = &[
        ('s', "server"),
        ('h', "server"),
        ('p', "port"),
        ('a', "authenticate"),
        ('c', "clients"),
        ('t', "threads"),
    ];
    const LONG: &[&str] = &[
        "server",
        "host",
        "port",
        "authenticate",
        "clients",
        "threads",
        "test-time",
        "mode",
        "accounts",
        "start-balance",
        "max-amount",
        "key-prefix",
        "json-out-file",
        "json-out",
        "server-pid",
        "seed",
        "randomize",
        "print-percentiles",
        "drain-timeout",
        "help",
    ];
    if let Some(long) = word.strip_prefix("--") {
        let (name, inline) = match long.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (long, None),
        };
        return match LONG.iter().find(|known| **known == name) {
            Some(known) => Ok((known, inline)),
            None => Err(BenchError::usage(format!(
                "unknown flag --{name} for bank (see shoal-bench bank --help)"
            ))),
        };
    }
    let mut chars = word.chars();
    if let (Some('-'), Some(letter)) = (chars.next(), chars.next()) {
        let rest: String = chars.collect();
        return match SHORT.iter().find(|(l, _)| *l == letter) {
            Some((_, name)) => Ok((name, (!rest.is_empty()).then_some(rest))),
            None => Err(BenchError::usage(format!(
                "unknown flag -{letter} for bank (see shoal-bench bank --help)"
            ))),
        };
    }
    Err(BenchError::usage(format!(
        "unexpected argument {word:?} (flags start with - or --)"
    )))
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| BenchError::usage(format!("--{name}: {value:?} is not a valid number")))
}

fn positive<T: std::str::FromStr + PartialOrd + Default>(name: &str, value: &str) -> Result<T> {
    let n: T = number(name, value)?;
    if n <= T::default() {
        return Err(BenchError::usage(format!(
            "--{name} must be greater than zero"
        )));
    }
    Ok(n)
}

fn seconds(name: &str, value: &str) -> Result<Duration> {
    let secs: f64 = number(name, value)?;
    if !(secs > 0.0 && secs < 1e9) {
        return Err(BenchError::usage(format!(
            "--{name} must be a positive number of seconds"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn apply(config: &mut BankConfig, name: &str, value: &str) -> Result<()> {
    match name {
        "server" | "host" => config.host = value.to_string(),
        "port" => config.port = number(name, value)?,
        "authenticate" => config.auth = Some(value.to_string()),
        "clients" => config.clients = positive(name, value)?,
        "threads" => config.threads = positive(name, value)?,
        "test-time" => config.test_time = seconds(name, value)?,
        "mode" => {
            config.mode = Mode::parse(value).ok_or_else(|| {
                BenchError::usage(format!(
                    "--mode {value:?}: must be multi, begin or multi-blind"
                ))
            })?
        }
        "accounts" => config.accounts = positive(name, value)?,
        "start-balance" => config.start_balance = number(name, value)?,
        "max-amount" => config.max_amount = positive(name, value)?,
        "key-prefix" => config.key_prefix = value.to_string(),
        "json-out-file" | "json-out" => config.json_out_file = Some(PathBuf::from(value)),
        "server-pid" => config.server_pid = Some(positive(name, value)?),
        "seed" => config.seed = number(name, value)?,
        "print-percentiles" => {
            config.percentiles = value
                .split(',')
                .map(|p| match p.trim().parse::<f64>() {
                    Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
                    _ => Err(BenchError::usage(format!(
                        "--print-percentiles: {p:?} is not a percentile (0-100)"
                    ))),
                })
                .collect::<Result<Vec<_>>>()?
        }
        "drain-timeout" => config.drain_timeout = seconds(name, value)?,
        other => unreachable!("flag --{other} is listed but not applied"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn run(line: &str) -> BankConfig {
        match parse(&words(line)) {
            Ok(BankParsed::Run(config)) => *config,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    fn refused(line: &str) -> String {
        match parse(&words(line)) {
            Err(error) => error.message,
            Ok(other) => panic!("{line:?} was accepted: {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let config = run("");
        assert_eq!(config.accounts, 1000);
        assert_eq!(config.clients, 50);
        assert_eq!(config.threads, 1);
        assert_eq!(config.mode, Mode::Multi);
        assert_eq!(config.account_key(7), "account:7");
        assert_eq!(config.expected_total(), 1_000_000);
        assert_eq!(config.test_time, Duration::from_secs(10));
    }

    #[test]
    fn every_spelling_of_a_flag_is_read() {
        let config = run(
            "-s 127.0.0.1 -p7000 -c 8 --threads=2 --test-time 1.5 --mode begin \
             --accounts 10 --start-balance 50 --max-amount 5 --key-prefix acct: \
             --json-out out.json --server-pid 42 --seed 9 --print-percentiles 50,99",
        );
        assert_eq!(config.host, "127.0.0.1");
        assert_eq!(config.port, 7000);
        assert_eq!(config.clients, 8);
        assert_eq!(config.threads, 2);
        assert_eq!(config.test_time, Duration::from_millis(1500));
        assert_eq!(config.mode, Mode::Begin);
        assert_eq!(config.accounts, 10);
        assert_eq!(config.expected_total(), 500);
        assert_eq!(config.max_amount, 5);
        assert_eq!(config.account_key(3), "acct:3");
        assert_eq!(config.json_out_file, Some(PathBuf::from("out.json")));
        assert_eq!(config.server_pid, Some(42));
        assert_eq!(config.seed, 9);
        assert_eq!(config.percentiles, vec![50.0, 99.0]);
        assert_eq!(run("--mode multi-blind").mode, Mode::MultiBlind);
        assert_eq!(parse(&words("-c 3 --help")).unwrap(), BankParsed::Help);
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        assert!(refused("--mode watch").contains("--mode"));
        assert!(refused("--accounts 1").contains("at least 2"));
        assert!(refused("--accounts 0").contains("--accounts"));
        assert!(refused("-c 0").contains("--clients"));
        assert!(refused("-c 2 -t 3").contains("every thread"));
        assert!(refused("--max-amount -1").contains("--max-amount"));
        assert!(refused("--test-time 0").contains("--test-time"));
        assert!(refused("--pipeline 4").contains("unknown flag --pipeline"));
        assert!(refused("-x 3").contains("unknown flag -x"));
        assert!(refused("--port").contains("needs a value"));
        assert!(refused("--print-percentiles 50,101").contains("percentile"));
        assert!(refused("--accounts 4000000000 --start-balance 4000000000").contains("64-bit"));
        assert!(refused("stray").contains("unexpected argument"));
    }
}
