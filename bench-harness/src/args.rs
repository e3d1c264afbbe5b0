//! The command line, as memtier_benchmark spells it.
//!
//! Flags take `--name=value`, `--name value`, `-x value` or `-xvalue`, as
//! getopt_long reads them, so a memtier command line runs unchanged where
//! the feature exists. memtier flags this tool does not implement are
//! refused by name ([`REFUSED`]) rather than ignored, so a result never
//! silently measures something else than what was asked.
//!
//! Additions of our own: `--rate` (total requests per second, open loop),
//! `--prefill`, `--json-out` (same as `--json-out-file`), `--server-pid`
//! (report the server's CPU time per operation) and `--drain-timeout`.

use std::path::PathBuf;
use std::time::Duration;

use crate::data::{DataSize, VALUE_BYTES_MAX};
use crate::error::{BenchError, Result};
use crate::keys::{self, KeyPattern, KeySpace};
use crate::template::{Breakdown, Template, Workload};

/// Most connections one run opens in total.
pub const CONNECTIONS_MAX: u64 = 65_536;
/// Deepest pipeline per connection.
pub const PIPELINE_MAX: u32 = 65_536;

/// Which protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// memtier's `redis`: no HELLO, whatever the server defaults to (RESP2).
    Redis,
    /// `HELLO 2` on connect.
    Resp2,
    /// `HELLO 3` on connect.
    Resp3,
}

/// Which address family to connect with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The first address the name resolves to.
    Any,
    /// `-4`.
    V4,
    /// `-6`.
    V6,
}

/// How long each connection runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// `-n N`: N requests per connection.
    Requests(u64),
    /// `-n allkeys`: as many requests as the connection's key range holds.
    AllKeys,
    /// `--test-time S`.
    Time(Duration),
}

/// How fast requests are sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// Closed loop: a new request as soon as a reply frees a pipeline slot.
    Closed,
    /// Open loop at this many requests per second per connection; latency
    /// counts from when each request was due.
    PerConnection(f64),
}

/// One `--command` with its `--command-ratio` and `--command-key-pattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// The template text.
    pub line: String,
    /// Times in a row it is sent.
    pub ratio: u32,
    /// Its key pattern.
    pub key_pattern: KeyPattern,
}

/// Everything a run needs, read from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// Server host name or address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Address family.
    pub family: Family,
    /// Protocol version to ask for.
    pub protocol: Protocol,
    /// `-a`: password, or `user:password`.
    pub auth: Option<String>,
    /// `--select-db`.
    pub select_db: Option<u32>,
    /// `--connection-timeout`.
    pub connect_timeout: Option<Duration>,
    /// `-t`.
    pub threads: u32,
    /// `-c`: connections per thread.
    pub clients: u32,
    /// `--pipeline`.
    pub pipeline: u32,
    /// `-n` or `--test-time`.
    pub length: Length,
    /// `--ratio`.
    pub ratio: (u32, u32),
    /// `--key-pattern`.
    pub key_patterns: (KeyPattern, KeyPattern),
    /// `--key-prefix`.
    pub key_prefix: String,
    /// Key range and distribution parameters.
    pub keys: KeySpace,
    /// Value sizes.
    pub data_size: DataSize,
    /// `-R`.
    pub random_data: bool,
    /// `--command`s; empty for a SET/GET run.
    pub commands: Vec<CommandSpec>,
    /// `--command-stats-breakdown`.
    pub breakdown: Breakdown,
    /// Closed or open loop.
    pub pace: Pace,
    /// `--distinct-client-seed`.
    pub distinct_client_seed: bool,
    /// The base seed (constant unless `--randomize`).
    pub seed: u64,
    /// `-x`.
    pub run_count: u32,
    /// `-D`: print error replies as they come.
    pub debug: bool,
    /// `-o`.
    pub out_file: Option<PathBuf>,
    /// `--json-out-file`.
    pub json_out_file: Option<PathBuf>,
    /// `--show-config`.
    pub show_config: bool,
    /// `--hide-histogram`.
    pub hide_histogram: bool,
    /// `--print-percentiles`.
    pub percentiles: Vec<f64>,
    /// `--print-all-runs`.
    pub print_all_runs: bool,
    /// `--prefill`: SET every key of the range before measuring.
    pub prefill: bool,
    /// `--server-pid`: whose CPU time to report per operation.
    pub server_pid: Option<u32>,
    /// `--drain-timeout`: how long to wait for replies still owed at the end.
    pub drain_timeout: Duration,
    /// The flags as given, for `--show-config` and the JSON output.
    pub argv: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "localhost".into(),
            port: 6379,
            family: Family::Any,
            protocol: Protocol::Redis,
            auth: None,
            select_db: None,
            connect_timeout: None,
            threads: 4,
            clients: 50,
            pipeline: 1,
            length: Length::Requests(10_000),
            ratio: (1, 10),
            key_patterns: (KeyPattern::Random, KeyPattern::Random),
            key_prefix: "memtier-".into(),
            keys: KeySpace {
                min: 0,
                max: 10_000_000,
                stddev: None,
                median: None,
                zipf_exp: 1.0,
            },
            data_size: DataSize::Fixed(32),
            random_data: false,
            commands: Vec::new(),
            breakdown: Breakdown::Command,
            pace: Pace::Closed,
            distinct_client_seed: false,
            seed: 0x5e11_5eed,
            run_count: 1,
            debug: false,
            out_file: None,
            json_out_file: None,
            show_config: false,
            hide_histogram: false,
            percentiles: vec![50.0, 90.0, 99.0, 99.9, 99.99],
            print_all_runs: false,
            prefill: false,
            server_pid: None,
            drain_timeout: Duration::from_secs(5),
            argv: Vec::new(),
        }
    }
}

impl Config {
    /// Total connections of the run.
    pub fn connections(&self) -> u64 {
        u64::from(self.threads) * u64::from(self.clients)
    }

    /// The workload the flags describe.
    pub fn workload(&self) -> Result<Workload> {
        if self.commands.is_empty() {
            return Workload::set_get(self.ratio.0, self.ratio.1, self.key_patterns);
        }
        let templates = self
            .commands
            .iter()
            .map(|spec| Template::parse(&spec.line, spec.key_pattern, spec.ratio))
            .collect::<Result<Vec<_>>>()?;
        Workload::arbitrary(templates, self.breakdown)
    }
}

/// What the command line asks for.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// Run a benchmark.
    Run(Box<Config>),
    /// `--help`.
    Help,
    /// `-v`, `--version`.
    Version,
}

/// memtier flags that are refused, by name, with why.
pub const REFUSED: &[(&str, &str)] = &[
    ("unix-socket", "UNIX sockets are not implemented"),
    ("tls", "TLS is not implemented"),
    ("cert", "TLS is not implemented"),
    ("key", "TLS is not implemented"),
    ("cacert", "TLS is not implemented"),
    ("tls-skip-verify", "TLS is not implemented"),
    ("tls-protocols", "TLS is not implemented"),
    ("sni", "TLS is not implemented"),
    ("cluster-mode", "cluster mode is not implemented"),
    ("client-stats", "per-client stats files are not implemented"),
    ("hdr-file-prefix", "HDR histogram files are not implemented"),
    ("statsd-host", "StatsD output is not implemented"),
    ("statsd-port", "StatsD output is not implemented"),
    ("statsd-prefix", "StatsD output is not implemented"),
    ("statsd-run-label", "StatsD output is not implemented"),
    ("graphite-port", "Graphite output is not implemented"),
    ("clients-start", "staircase ramp-up is not implemented"),
    ("clients-step", "staircase ramp-up is not implemented"),
    ("step-duration", "staircase ramp-up is not implemented"),
    ("reconnect-interval", "reconnection is not implemented"),
    ("reconnect-on-error", "reconnection is not implemented"),
    ("max-reconnect-attempts", "reconnection is not implemented"),
    (
        "reconnect-backoff-factor",
        "reconnection is not implemented",
    ),
    (
        "thread-conn-start-min-jitter-micros",
        "connection jitter is not implemented",
    ),
    (
        "thread-conn-start-max-jitter-micros",
        "connection jitter is not implemented",
    ),
    (
        "multi-key-get",
        "MGET requests are not implemented (use --command \"MGET ...\")",
    ),
    ("monitor-input", "MONITOR replay is not implemented"),
    ("monitor-pattern", "MONITOR replay is not implemented"),
    (
        "scan-incremental-iteration",
        "SCAN cursor following is not implemented",
    ),
    (
        "scan-incremental-max-iterations",
        "SCAN cursor following is not implemented",
    ),
    (
        "data-offset",
        "SETRANGE/GETRANGE offsets are not implemented",
    ),
    (
        "expiry-range",
        "expiring SETs are not implemented (use --command \"SET __key__ __data__ EX 60\")",
    ),
    ("data-import", "data import is not implemented"),
    ("data-verify", "data verification is not implemented"),
    ("verify-only", "data verification is not implemented"),
    ("generate-keys", "data import is not implemented"),
    ("no-expiry", "data import is not implemented"),
    ("wait-ratio", "WAIT commands are not implemented"),
    ("num-slaves", "WAIT commands are not implemented"),
    ("wait-timeout", "WAIT commands are not implemented"),
];

/// Options this tool implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Host,
    Port,
    Ipv4,
    Ipv6,
    Protocol,
    Auth,
    Uri,
    RunCount,
    Debug,
    Help,
    Version,
    OutFile,
    JsonOutFile,
    ShowConfig,
    HideHistogram,
    PrintPercentiles,
    PrintAllRuns,
    StatsBreakdown,
    Requests,
    RateLimiting,
    Rate,
    Clients,
    Threads,
    TestTime,
    Ratio,
    Pipeline,
    ConnectionTimeout,
    SelectDb,
    DistinctClientSeed,
    Randomize,
    Command,
    CommandRatio,
    CommandKeyPattern,
    DataSize,
    RandomData,
    DataSizeRange,
    DataSizeList,
    DataSizePattern,
    KeyPrefix,
    KeyMinimum,
    KeyMaximum,
    KeyPattern,
    KeyStddev,
    KeyMedian,
    KeyZipfExp,
    Prefill,
    ServerPid,
    DrainTimeout,
}

/// Long names, whether they take a value, and what they set.
const LONG: &[(&str, bool, Opt)] = &[
    ("server", true, Opt::Host),
    ("host", true, Opt::Host),
    ("port", true, Opt::Port),
    ("ipv4", false, Opt::Ipv4),
    ("ipv6", false, Opt::Ipv6),
    ("protocol", true, Opt::Protocol),
    ("authenticate", true, Opt::Auth),
    ("uri", true, Opt::Uri),
    ("run-count", true, Opt::RunCount),
    ("debug", false, Opt::Debug),
    ("help", false, Opt::Help),
    ("version", false, Opt::Version),
    ("out-file", true, Opt::OutFile),
    ("json-out-file", true, Opt::JsonOutFile),
    ("json-out", true, Opt::JsonOutFile),
    ("show-config", false, Opt::ShowConfig),
    ("hide-histogram", false, Opt::HideHistogram),
    ("print-percentiles", true, Opt::PrintPercentiles),
    ("print-all-runs", false, Opt::PrintAllRuns),
    ("command-stats-breakdown", true, Opt::StatsBreakdown),
    ("requests", true, Opt::Requests),
    ("rate-limiting", true, Opt::RateLimiting),
    ("rate", true, Opt::Rate),
    ("clients", true, Opt::Clients),
    ("threads", true, Opt::Threads),
    ("test-time", true, Opt::TestTime),
    ("ratio", true, Opt::Ratio),
    ("pipeline", true, Opt::Pipeline),
    ("connection-timeout", true, Opt::ConnectionTimeout),
    ("select-db", true, Opt::SelectDb),
    ("distinct-client-seed", false, Opt::DistinctClientSeed),
    ("randomize", false, Opt::Randomize),
    ("command", true, Opt::Command),
    ("command-ratio", true, Opt::CommandRatio),
    ("command-key-pattern", true, Opt::CommandKeyPattern),
    ("data-size", true, Opt::DataSize),
    ("random-data", false, Opt::RandomData),
    ("data-size-range", true, Opt::DataSizeRange),
    ("data-size-list", true, Opt::DataSizeList),
    ("data-size-pattern", true, Opt::DataSizePattern),
    ("key-prefix", true, Opt::KeyPrefix),
    ("key-minimum", true, Opt::KeyMinimum),
    ("key-maximum", true, Opt::KeyMaximum),
    ("key-pattern", true, Opt::KeyPattern),
    ("key-stddev", true, Opt::KeyStddev),
    ("key-median", true, Opt::KeyMedian),
    ("key-zipf-exp", true, Opt::KeyZipfExp),
    ("prefill", false, Opt::Prefill),
    ("server-pid", true, Opt::ServerPid),
    ("drain-timeout", true, Opt::DrainTimeout),
];

/// Short letters as memtier's getopt string `vs:S:p:P:o:x:DRn:c:t:d:a:h:46u:` has them.
const SHORT: &[(char, bool, Opt)] = &[
    ('v', false, Opt::Version),
    ('s', true, Opt::Host),
    ('h', true, Opt::Host),
    ('p', true, Opt::Port),
    ('P', true, Opt::Protocol),
    ('o', true, Opt::OutFile),
    ('x', true, Opt::RunCount),
    ('D', false, Opt::Debug),
    ('R', false, Opt::RandomData),
    ('n', true, Opt::Requests),
    ('c', true, Opt::Clients),
    ('t', true, Opt::Threads),
    ('d', true, Opt::DataSize),
    ('a', true, Opt::Auth),
    ('4', false, Opt::Ipv4),
    ('6', false, Opt::Ipv6),
    ('u', true, Opt::Uri),
];

/// Flags that must come after a `--command`.
struct Pending {
    requests: bool,
    test_time: bool,
    rate_limiting: Option<u64>,
    rate: Option<u64>,
    data_range: Option<(usize, usize)>,
    data_list: Option<Vec<(usize, u32)>>,
    size_by_key: Option<bool>,
    help: bool,
    version: bool,
}

/// Reads the flags (without the program name).
pub fn parse(args: &[String]) -> Result<Parsed> {
    let mut config = Config {
        argv: args.to_vec(),
        ..Config::default()
    };
    let mut pending = Pending {
        requests: false,
        test_time: false,
        rate_limiting: None,
        rate: None,
        data_range: None,
        data_list: None,
        size_by_key: None,
        help: false,
        version: false,
    };
    let mut at = 0;
    while at < args.len() {
        let (opt, value, used) = next_option(args, at)?;
        at += used;
        apply(&mut config, &mut pending, opt, value.as_deref())?;
    }
    if pending.help {
        return Ok(Parsed::Help);
    }
    if pending.version {
        return Ok(Parsed::Version);
    }
    finish(&mut config, &pending)?;
    Ok(Parsed::Run(Box::new(config)))
}

/// Reads one option at `args[at]`: which, its value, and how many words it took.
fn next_option(args: &[String], at: usize) -> Result<(Opt, Option<String>, usize)> {
    let word = &args[at];
    if let Some(long) = word.strip_prefix("--") {
        let (name, inline) = match long.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (long, None),
        };
        if let Some((_, why)) = REFUSED.iter().find(|(refused, _)| *refused == name) {
            return Err(BenchError::usage(format!(
                "memtier flag --{name} is not supported by shoal-bench: {why}"
            )));
        }
        let Some(&(_, takes_value, opt)) = LONG.iter().find(|(long, ..)| *long == name) else {
            return Err(BenchError::usage(format!(
                "unknown flag --{name} (see --help)"
            )));
        };
        return take_value(args, at, &format!("--{name}"), takes_value, opt, inline);
    }
    let mut chars = word.chars();
    if chars.next() == Some('-') {
        if let Some(letter) = chars.next() {
            let rest: String = chars.collect();
            if letter == 'S' {
                return Err(BenchError::usage(
                    "memtier flag -S (--unix-socket) is not supported by shoal-bench: UNIX sockets are not implemented",
                ));
            }
            let Some(&(_, takes_value, opt)) = SHORT.iter().find(|(l, ..)| *l == letter) else {
                return Err(BenchError::usage(format!(
                    "unknown flag -{letter} (see --help)"
                )));
            };
            let inline = (!rest.is_empty()).then_some(rest);
            if !takes_value && inline.is_some() {
                return Err(BenchError::usage(format!(
                    "{word}: -{letter} takes no value (write flags separately)"
                )));
            }
            return take_value(args, at, &format!("-{letter}"), takes_value, opt, inline);
        }
    }
    Err(BenchError::usage(format!(
        "unexpected argument {word:?} (flags start with - or --)"
    )))
}

fn take_value(
    args: &[String],
    at: usize,
    name: &str,
    takes_value: bool,
    opt: Opt,
    inline: Option<String>,
) -> Result<(Opt, Option<String>, usize)> {
    match (takes_value, inline) {
        (false, None) => Ok((opt, None, 1)),
        (false, Some(_)) => Err(BenchError::usage(format!("{name} takes no value"))),
        (true, Some(value)) => Ok((opt, Some(value), 1)),
        (true, None) => match args.get(at + 1) {
            Some(value) => Ok((opt, Some(value.clone()), 2)),
            None => Err(BenchError::usage(format!("{name} needs a value"))),
        },
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| BenchError::usage(format!("--{name}: {value:?} is not a valid number")))
}

fn positive(name: &str, value: &str) -> Result<u64> {
    match number::<u64>(name, value)? {
        0 => Err(BenchError::usage(format!(
            "--{name} must be greater than zero"
        ))),
        n => Ok(n),
    }
}

fn positive_u32(name: &str, value: &str) -> Result<u32> {
    u32::try_from(positive(name, value)?)
        .map_err(|_| BenchError::usage(format!("--{name} {value} is too large")))
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

fn last_command<'c>(config: &'c mut Config, flag: &str) -> Result<&'c mut CommandSpec> {
    config
        .commands
        .last_mut()
        .ok_or_else(|| BenchError::usage(format!("--{flag} must follow a --command")))
}

fn apply(config: &mut Config, pending: &mut Pending, opt: Opt, value: Option<&str>) -> Result<()> {
    let v = value.unwrap_or("");
    match opt {
        Opt::Host => config.host = v.to_string(),
        Opt::Port => config.port = number("port", v)?,
        Opt::Ipv4 => config.family = Family::V4,
        Opt::Ipv6 => config.family = Family::V6,
        Opt::Protocol => config.protocol = protocol(v)?,
        Opt::Auth => config.auth = Some(v.to_string()),
        Opt::Uri => apply_uri(config, v)?,
        Opt::RunCount => config.run_count = positive_u32("run-count", v)?,
        Opt::Debug => config.debug = true,
        Opt::Help => pending.help = true,
        Opt::Version => pending.version = true,
        Opt::OutFile => config.out_file = Some(PathBuf::from(v)),
        Opt::JsonOutFile => config.json_out_file = Some(PathBuf::from(v)),
        Opt::ShowConfig => config.show_config = true,
        Opt::HideHistogram => config.hide_histogram = true,
        Opt::PrintPercentiles => config.percentiles = percentiles(v)?,
        Opt::PrintAllRuns => config.print_all_runs = true,
        Opt::StatsBreakdown => {
            config.breakdown = match v.to_ascii_lowercase().as_str() {
                "command" => Breakdown::Command,
                "line" => Breakdown::Line,
                _ => {
                    return Err(BenchError::usage(
                        "--command-stats-breakdown must be 'command' or 'line'",
                    ))
                }
            }
        }
        Opt::Requests => {
            pending.requests = true;
            config.length = if v == "allkeys" {
                Length::AllKeys
            } else {
                Length::Requests(positive("requests", v)?)
            };
        }
        Opt::TestTime => {
            pending.test_time = true;
            config.length = Length::Time(seconds("test-time", v)?);
        }
        Opt::RateLimiting => pending.rate_limiting = Some(positive("rate-limiting", v)?),
        Opt::Rate => pending.rate = Some(positive("rate", v)?),
        Opt::Clients => config.clients = positive_u32("clients", v)?,
        Opt::Threads => config.threads = positive_u32("threads", v)?,
        Opt::Ratio => {
            let pair = v
                .split_once(':')
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
            config.ratio = pair
                .ok_or_else(|| BenchError::usage("--ratio must be written SET:GET, e.g. 1:10"))?;
        }
        Opt::Pipeline => config.pipeline = positive_u32("pipeline", v)?,
        Opt::ConnectionTimeout => {
            let secs: u64 = number("connection-timeout", v)?;
            config.connect_timeout = (secs > 0).then(|| Duration::from_secs(secs));
        }
        Opt::SelectDb => config.select_db = Some(number("select-db", v)?),
        Opt::DistinctClientSeed => config.distinct_client_seed = true,
        Opt::Randomize => config.seed = random_seed(),
        Opt::Command => config.commands.push(CommandSpec {
            line: v.to_string(),
            ratio: 1,
            key_pattern: KeyPattern::Random,
        }),
        Opt::CommandRatio => {
            last_command(config, "command-ratio")?.ratio = number("command-ratio", v)?
        }
        Opt::CommandKeyPattern => {
            let pattern = KeyPattern::from_letter(v).ok_or_else(|| {
                BenchError::usage("--command-key-pattern must be one of R, S, G, Z, P")
            })?;
            last_command(config, "command-key-pattern")?.key_pattern = pattern;
        }
        Opt::DataSize => config.data_size = DataSize::Fixed(positive("data-size", v)? as usize),
        Opt::RandomData => config.random_data = true,
        Opt::DataSizeRange => {
            pending.data_range = Some(DataSize::parse_range(v).ok_or_else(|| {
                BenchError::usage("--data-size-range must be written MIN-MAX with 1 <= MIN <= MAX")
            })?)
        }
        Opt::DataSizeList => {
            pending.data_list = Some(DataSize::parse_list(v).ok_or_else(|| {
                BenchError::usage("--data-size-list must be written SIZE:WEIGHT,SIZE:WEIGHT,...")
            })?)
        }
        Opt::DataSizePattern => {
            pending.size_by_key = Some(match v {
                "R" => false,
                "S" => true,
                _ => return Err(BenchError::usage("--data-size-pattern must be R or S")),
            })
        }
        Opt::KeyPrefix => config.key_prefix = v.to_string(),
        Opt::KeyMinimum => config.keys.min = number("key-minimum", v)?,
        Opt::KeyMaximum => config.keys.max = number("key-maximum", v)?,
        Opt::KeyPattern => {
            config.key_patterns = keys::parse_pair(v).ok_or_else(|| {
                BenchError::usage(
                    "--key-pattern must be written SET:GET with each of R, S, G, Z, P",
                )
            })?
        }
        Opt::KeyStddev => config.keys.stddev = Some(number("key-stddev", v)?),
        Opt::KeyMedian => config.keys.median = Some(number("key-median", v)?),
        Opt::KeyZipfExp => config.keys.zipf_exp = number("key-zipf-exp", v)?,
        Opt::Prefill => config.prefill = true,
        Opt::ServerPid => config.server_pid = Some(number("server-pid", v)?),
        Opt::DrainTimeout => config.drain_timeout = seconds("drain-timeout", v)?,
    }
    Ok(())
}

fn protocol(value: &str) -> Result<Protocol> {
    match value {
        "redis" => Ok(Protocol::Redis),
        "resp2" => Ok(Protocol::Resp2),
        "resp3" => Ok(Protocol::Resp3),
        "memcache_text" | "memcache_binary" => Err(BenchError::usage(format!(
            "--protocol {value} is not supported by shoal-bench: only redis, resp2 and resp3"
        ))),
        _ => Err(BenchError::usage(
            "--protocol must be redis, resp2 or resp3",
        )),
    }
}

/// `redis://[user[:password]@]host[:port][/db]`.
fn apply_uri(config: &mut Config, uri: &str) -> Result<()> {
    if uri.starts_with("rediss://") {
        return Err(BenchError::usage(
            "--uri rediss:// needs TLS, which is not implemented",
        ));
    }
    let rest = uri
        .strip_prefix("redis://")
        .ok_or_else(|| BenchError::usage(format!("--uri {uri:?} must start with redis://")))?;
    let (authority, db) = match rest.split_once('/') {
        Some((authority, db)) => (authority, Some(db)),
        None => (rest, None),
    };
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((credentials, host_port)) => (Some(credentials), host_port),
        None => (None, authority),
    };
    if let Some(credentials) = credentials {
        config.auth = Some(match credentials.split_once(':') {
            Some(("", password)) => password.to_string(),
            Some(_) => credentials.to_string(),
            None => credentials.to_string(),
        });
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
            config.host = host.trim_matches(|c| c == '[' || c == ']').to_string();
            config.port = number("uri port", port)?;
        }
        _ => config.host = host_port.to_string(),
    }
    if let Some(db) = db.filter(|db| !db.is_empty()) {
        config.select_db = Some(number("uri database", db)?);
    }
    Ok(())
}

fn percentiles(text: &str) -> Result<Vec<f64>> {
    let mut list = text
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=100.0).contains(p))
        })
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| {
            BenchError::usage("--print-percentiles must be written like 50,99,99.9 (each 0..100)")
        })?;
    list.sort_by(f64::total_cmp);
    list.dedup();
    Ok(list)
}

pub(crate) fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    crate::rng::splitmix64(nanos ^ u64::from(std::process::id()))
}

/// Checks flags against each other once all are read.
fn finish(config: &mut Config, pending: &Pending) -> Result<()> {
    if pending.requests && pending.test_time {
        return Err(BenchError::usage(
            "--test-time and --requests are mutually exclusive",
        ));
    }
    config.pace = match (pending.rate_limiting, pending.rate) {
        (Some(_), Some(_)) => {
            return Err(BenchError::usage(
                "--rate and --rate-limiting are mutually exclusive",
            ))
        }
        (Some(per_connection), None) => Pace::PerConnection(per_connection as f64),
        (None, Some(total)) => Pace::PerConnection(total as f64 / config.connections() as f64),
        (None, None) => Pace::Closed,
    };
    if config.connections() > CONNECTIONS_MAX {
        return Err(BenchError::usage(format!(
            "{} connections (-t × -c) is more than the {CONNECTIONS_MAX} allowed",
            config.connections()
        )));
    }
    if config.pipeline > PIPELINE_MAX {
        return Err(BenchError::usage(format!(
            "--pipeline is limited to {PIPELINE_MAX}"
        )));
    }
    finish_data(config, pending)?;
    finish_keys(config)?;
    // Builds the templates once, so a bad --command fails before connecting.
    config.workload().map(|_| ())
}

fn finish_data(config: &mut Config, pending: &Pending) -> Result<()> {
    match (&pending.data_range, &pending.data_list) {
        (Some(_), Some(_)) => {
            return Err(BenchError::usage(
                "--data-size-range and --data-size-list are mutually exclusive",
            ))
        }
        (Some((min, max)), None) => {
            config.data_size = DataSize::Range {
                min: *min,
                max: *max,
                by_key: pending.size_by_key.unwrap_or(false),
            }
        }
        (None, Some(list)) => config.data_size = DataSize::Weighted(list.clone()),
        (None, None) if pending.size_by_key.is_some() => {
            return Err(BenchError::usage(
                "--data-size-pattern needs --data-size-range",
            ))
        }
        (None, None) => {}
    }
    if config.data_size.max() > VALUE_BYTES_MAX {
        return Err(BenchError::usage(format!(
            "values are limited to {VALUE_BYTES_MAX} bytes"
        )));
    }
    Ok(())
}

fn finish_keys(config: &Config) -> Result<()> {
    if config.keys.min > config.keys.max {
        return Err(BenchError::usage(
            "--key-minimum is larger than --key-maximum",
        ));
    }
    if !(config.keys.zipf_exp > 0.0 && config.keys.zipf_exp < 5.0) {
        return Err(BenchError::usage("--key-zipf-exp must be in (0, 5)"));
    }
    if config.keys.stddev.is_some_and(|s| s <= 0.0) {
        return Err(BenchError::usage("--key-stddev must be positive"));
    }
    let (set, get) = config.key_patterns;
    if config.commands.is_empty()
        && (set == KeyPattern::Parallel || get == KeyPattern::Parallel)
        && set != get
    {
        return Err(BenchError::usage(
            "parallel key-pattern must be configured for both SET and GET commands",
        ));
    }
    let parallel = config
        .commands
        .iter()
        .any(|c| c.key_pattern == KeyPattern::Parallel)
        || (config.commands.is_empty() && set == KeyPattern::Parallel);
    if (parallel || config.length == Length::AllKeys) && config.keys.len() < config.connections() {
        return Err(BenchError::usage(format!(
            "the key range holds {} keys, fewer than the {} connections that split it",
            config.keys.len(),
            config.connections()
        )));
    }
    Ok(())
}

/// The `--help` text.
pub fn usage() -> String {
    let mut text = String::from(
        "Usage: shoal-bench [options]            (a memtier_benchmark-compatible load generator)
       shoal-bench bank --help            (money transfers under transactions)
       shoal-bench compare --help         (side-by-side server comparison)
       shoal-bench flamegraph --help      (perf script output to a flamegraph SVG)

Connection:
  -s, --server=ADDR, -h, --host=ADDR  server address (default: localhost)
  -p, --port=PORT                     server port (default: 6379)
  -4, --ipv4 / -6, --ipv6             force the address family
  -P, --protocol=redis|resp2|resp3    resp2/resp3 send HELLO on connect (default: redis)
  -a, --authenticate=[USER:]PASSWORD  AUTH on connect
  -u, --uri=redis://[USER:PASS@]HOST[:PORT][/DB]
      --select-db=DB                  SELECT on connect
      --connection-timeout=SECS       connect timeout (default: none)
Load:
  -t, --threads=N                     threads (default: 4)
  -c, --clients=N                     connections per thread (default: 50)
      --pipeline=N                    requests in flight per connection (default: 1)
  -n, --requests=N|allkeys            requests per connection (default: 10000)
      --test-time=SECS                run for a time instead
      --rate-limiting=N               open loop: N requests/s per connection
      --rate=N                        open loop: N requests/s in total
      --drain-timeout=SECS            wait this long for owed replies at the end (default: 5)
      --prefill                       SET every key of the range first (not measured)
Commands:
      --ratio=SET:GET                 (default: 1:10)
      --command=\"CMD __key__ __data__\" arbitrary command (repeatable)
      --command-ratio=N               times in a row for the last --command (default: 1)
      --command-key-pattern=R|S|G|Z|P key pattern of the last --command (default: R)
Keys and values:
      --key-prefix=TEXT               (default: memtier-)
      --key-minimum=N, --key-maximum=N (default: 0, 10000000)
      --key-pattern=SET:GET           R random, S sequential, G gaussian, Z zipf, P parallel (default: R:R)
      --key-stddev=X, --key-median=X, --key-zipf-exp=X
  -d, --data-size=BYTES               (default: 32)
      --data-size-range=MIN-MAX, --data-size-pattern=R|S, --data-size-list=SIZE:WEIGHT,...
  -R, --random-data                   random letters instead of 'x's
      --distinct-client-seed          a different random sequence per connection
      --randomize                     seed from the clock
Output:
  -o, --out-file=FILE                 the text report (default: stdout)
      --json-out-file=FILE, --json-out=FILE
      --print-percentiles=LIST        (default: 50,90,99,99.9,99.99)
      --hide-histogram, --show-config, --print-all-runs, -x, --run-count=N, -D, --debug
      --command-stats-breakdown=command|line
      --server-pid=PID                report the server's CPU time per operation
  -v, --version, --help

memtier flags that are refused by name:\n",
    );
    for (name, why) in REFUSED {
        text.push_str(&format!("  --{name}: {why}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Result<Config> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        match parse(&args)? {
            Parsed::Run(config) => Ok(*config),
            other => panic!("not a run: {other:?}"),
        }
    }

    #[test]
    fn a_memtier_command_line_reads_unchanged() {
        let config = run(
            "-s 127.0.0.1 -p 7001 -t 2 -c 10 --pipeline=16 --ratio=1:4 -d 100 \
             --key-pattern=G:R --key-prefix=k: --key-minimum=1 --key-maximum 1000 \
             --test-time=3 --hide-histogram --json-out-file=/tmp/x.json --distinct-client-seed",
        )
        .unwrap();
        assert_eq!((config.host.as_str(), config.port), ("127.0.0.1", 7001));
        assert_eq!(
            (config.threads, config.clients, config.pipeline),
            (2, 10, 16)
        );
        assert_eq!(config.ratio, (1, 4));
        assert_eq!(config.data_size, DataSize::Fixed(100));
        assert_eq!(
            config.key_patterns,
            (KeyPattern::Gaussian, KeyPattern::Random)
        );
        assert_eq!((config.keys.min, config.keys.max), (1, 1000));
        assert_eq!(config.key_prefix, "k:");
        assert_eq!(config.length, Length::Time(Duration::from_secs(3)));
        assert!(config.hide_histogram && config.distinct_client_seed);
        assert_eq!(config.pace, Pace::Closed);
    }

    #[test]
    fn short_flags_take_attached_values() {
        let config = run("-p7002 -c5 -t1 -n100 -Presp3").unwrap();
        assert_eq!(config.port, 7002);
        assert_eq!(config.length, Length::Requests(100));
        assert_eq!(config.protocol, Protocol::Resp3);
    }

    #[test]
    fn commands_take_their_ratio_and_pattern() {
        let args: Vec<String> = [
            "--command=SET __key__ __data__",
            "--command-ratio=2",
            "--command-key-pattern=S",
            "--command",
            "GET __key__",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let Parsed::Run(config) = parse(&args).unwrap() else {
            panic!()
        };
        assert_eq!(config.commands.len(), 2);
        assert_eq!(config.commands[0].ratio, 2);
        assert_eq!(config.commands[0].key_pattern, KeyPattern::Sequential);
        assert_eq!(config.commands[1].key_pattern, KeyPattern::Random);
        assert!(run("--command-ratio=2").is_err());
    }

    #[test]
    fn rates_become_a_per_connection_pace() {
        let config = run("-t 2 -c 5 --rate 1000").unwrap();
        assert_eq!(config.pace, Pace::PerConnection(100.0));
        let config = run("--rate-limiting 50").unwrap();
        assert_eq!(config.pace, Pace::PerConnection(50.0));
        assert!(run("--rate 10 --rate-limiting 5").is_err());
    }

    #[test]
    fn unimplemented_memtier_flags_are_refused_by_name() {
        let error = run("--cluster-mode").unwrap_err();
        assert!(
            error.message.contains("--cluster-mode"),
            "{}",
            error.message
        );
        let error = run("--multi-key-get=3").unwrap_err();
        assert!(error.message.contains("--multi-key-get"));
        assert!(run("-S /tmp/sock").unwrap_err().message.contains("-S"));
        assert!(run("--no-such-flag")
            .unwrap_err()
            .message
            .contains("unknown"));
    }

    #[test]
    fn contradictions_are_refused() {
        assert!(run("-n 10 --test-time 1").is_err());
        assert!(run("--key-pattern P:R").is_err());
        assert!(run("--key-minimum 10 --key-maximum 5").is_err());
        assert!(run("--key-pattern P:P --key-maximum 3 -t 1 -c 10").is_err());
        assert!(run("--pipeline 0").is_err());
        assert!(run("--ratio 0:0").is_err());
        assert!(run("--data-size-pattern S").is_err());
        assert!(run("--protocol memcache_text").is_err());
    }

    #[test]
    fn percentiles_and_data_ranges_parse() {
        let config =
            run("--print-percentiles 99.9,50 --data-size-range=10-20 --data-size-pattern=S")
                .unwrap();
        assert_eq!(config.percentiles, [50.0, 99.9]);
        assert_eq!(
            config.data_size,
            DataSize::Range {
                min: 10,
                max: 20,
                by_key: true
            }
        );
        assert!(run("--print-percentiles 101").is_err());
    }

    #[test]
    fn uris_set_host_port_auth_and_db() {
        let config = run("--uri redis://default:pw@example.org:7000/3").unwrap();
        assert_eq!((config.host.as_str(), config.port), ("example.org", 7000));
        assert_eq!(config.auth.as_deref(), Some("default:pw"));
        assert_eq!(config.select_db, Some(3));
        let config = run("-u redis://:secret@h").unwrap();
        assert_eq!(config.auth.as_deref(), Some("secret"));
        assert_eq!((config.host.as_str(), config.port), ("h", 6379));
    }

    #[test]
    fn help_and_version_are_recognised() {
        assert!(matches!(parse(&["--help".into()]), Ok(Parsed::Help)));
        assert!(matches!(parse(&["-v".into()]), Ok(Parsed::Version)));
    }
}
