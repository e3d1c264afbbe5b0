//! Random commands against a live server: for each seed, a deterministic
//! stream of every command `COMMAND LIST` names (less the ones that end the
//! connection or the server), with arguments drawn from a pool of keys on
//! every shard, edge-case integers and floats, range bounds, option words,
//! empty, binary and long strings, mixed with commands that build values of
//! every type and encoding. Four connections pipeline their streams at once.
//! Errors are fine; a reply that does not parse, a closed connection, a
//! reply that never comes or a shard that stops answering is not.

mod util;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread;
use std::time::{Duration, Instant};

use shoal_protocol::Reply;
use util::{show, Client, ReadOutcome, ServerProcess, REPLY_TIMEOUT};

/// One run per seed, each against a fresh server. A stream depends only on
/// its seed and on what `COMMAND LIST`, `INFO` and `DOCS` say (a new
/// command changes every stream). Seeds that found a crash stay here so the
/// fix can be verified:
/// - 0x5, 0x8, 0x13: `CONFIG SET maxmemory-policy allkeys-lfu`, then a
///   lookup of a key made under LRU, overflowed in `AccessPolicy::lfu_counter`
///   (src/shard/access.rs).
/// - 0x3d (in most runs), 0x2, 0x10 and 0x37 (now and then, as the four
///   connections interleave): `EXPIRETIME` of a key that expires at
///   `i64::MAX` ms overflowed in `ttl_generic` (src/cmd/keys.rs).
///
/// The server's standard error (with the panic) is not kept: to see it,
/// run `shoal-server` by hand and replay the batch a failure prints.
const SEEDS: [u64; 8] = [0x1, 0x2, 0x5, 0x8, 0x10, 0x13, 0x37, 0x3d];

/// Connections sending at once, one thread each.
const CLIENTS: usize = 4;
/// Commands pipelined in one write, the batch's closing marker included.
const BATCH_COMMANDS: usize = 50;
/// Batches each connection sends per seed: 10,000 commands per seed.
const BATCHES_PER_CLIENT: usize = 50;
/// Arguments a random command takes at most, when it does not follow its
/// grammar.
const ARGS_MAX: usize = 8;
/// A seed's connections stop starting batches after this long, so the
/// whole test stays under a minute on a slow machine.
const SEED_TIME_MAX: Duration = Duration::from_secs(6);

const _: () = assert!(BATCH_COMMANDS > POPULATE_MAX * 2 + 1);

#[test]
fn random_commands_never_crash_or_hang_with_4_threads() {
    run_every_seed(4);
}

#[test]
fn random_commands_never_crash_or_hang_with_1_thread() {
    run_every_seed(1);
}

/// Runs every seed, so one failing run shows all that fail.
fn run_every_seed(threads: usize) {
    let mut sent = 0;
    let mut failures = Vec::new();
    for seed in SEEDS {
        match run_seed(threads, seed) {
            Ok(count) => sent += count,
            Err(failure) => {
                failures.push(format!("--threads {threads}, seed {seed:#x}:\n{failure}"))
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} seeds failed:\n\n{}",
        failures.len(),
        SEEDS.len(),
        failures.join("\n\n")
    );
    eprintln!(
        "--threads {threads}: {sent} commands over {} seeds",
        SEEDS.len()
    );
}

/// Runs one seed against a fresh server: the number of commands sent, or
/// what went wrong.
fn run_seed(threads: usize, seed: u64) -> Result<usize, String> {
    let server = ServerProcess::shoal(&["--threads", &threads.to_string()]);
    let specs = command_specs(&mut server.connect());
    let deadline = Instant::now() + SEED_TIME_MAX;
    let workers: Vec<_> = (0..CLIENTS)
        .map(|index| {
            let client = server.connect();
            let specs = specs.clone();
            let stream_seed = splitmix64(splitmix64(seed).wrapping_add(index as u64));
            thread::spawn(move || run_client(client, specs, stream_seed, deadline))
        })
        .collect();
    let mut sent = 0;
    let mut failures = Vec::new();
    for (index, worker) in workers.into_iter().enumerate() {
        match worker
            .join()
            .expect("a client thread reports, never panics")
        {
            Ok(count) => sent += count,
            Err(failure) => failures.push(format!("client {index}: {failure}")),
        }
    }
    if !failures.is_empty() {
        return Err(failures.join("\n\n"));
    }
    still_serves(&server)?;
    Ok(sent)
}

/// What the stream needs to know of one command, from `COMMAND INFO`.
#[derive(Debug, Clone)]
struct Spec {
    /// The name, split at `|` for a subcommand (`["client", "id"]`).
    parts: Vec<String>,
    /// Redis's arity: the exact argument count with the name, or at least
    /// its magnitude when negative.
    arity: i64,
    /// Key positions in the whole command: first, last (negative counts
    /// from the end), step; 0 when keys are not at fixed places.
    keys: (i64, i64, i64),
    /// Its arguments as `COMMAND DOCS` describes them.
    grammar: Vec<ArgDoc>,
}

/// One argument of a command's grammar, from `COMMAND DOCS`.
#[derive(Debug, Clone)]
struct ArgDoc {
    name: String,
    kind: ArgKind,
    /// The word written before the value (`LIMIT`, `WEIGHTS`), if any.
    token: Option<String>,
    optional: bool,
    multiple: bool,
    /// With `multiple`: the token comes before every value, not just the
    /// first.
    multiple_token: bool,
}

#[derive(Debug, Clone)]
enum ArgKind {
    Key,
    Integer,
    Double,
    Text,
    Pattern,
    UnixTime,
    PureToken,
    OneOf(Vec<ArgDoc>),
    Block(Vec<ArgDoc>),
}

/// Commands and subcommands that end or stall the connection or the
/// server, left out of the stream.
const LEFT_OUT: &[&str] = &[
    "shutdown",
    "debug",
    "monitor",
    "quit",
    "reset",
    "client|kill",
    "client|pause",
    "client|unpause",
    "client|reply",
];

/// Every command and subcommand the server lists, less `LEFT_OUT`, with
/// its arity and key positions.
fn command_specs(client: &mut Client) -> Vec<Spec> {
    let Reply::Array(items) = client.call(&["COMMAND", "LIST"]) else {
        panic!("COMMAND LIST is an array");
    };
    let mut names: Vec<String> = items
        .iter()
        .map(|item| match item {
            Reply::Bulk(name) => String::from_utf8_lossy(name).to_lowercase(),
            other => panic!("COMMAND LIST holds names, not {}", show(other)),
        })
        .filter(|name| !LEFT_OUT.contains(&name.as_str()))
        .collect();
    // The stream depends on the order of names, which must not depend on
    // the server's table order.
    names.sort();
    names.dedup();
    assert!(
        names.len() > 100 && names.iter().any(|name| name == "zadd"),
        "COMMAND LIST: {names:?}"
    );
    let mut info = vec!["COMMAND", "INFO"];
    info.extend(names.iter().map(String::as_str));
    let Reply::Array(infos) = client.call(&info) else {
        panic!("COMMAND INFO is an array");
    };
    assert_eq!(infos.len(), names.len(), "one COMMAND INFO entry per name");
    let mut docs = vec!["COMMAND", "DOCS"];
    docs.extend(names.iter().map(String::as_str));
    let docs = client.call(&docs);
    let docs = map_entries(&docs);
    names
        .iter()
        .zip(&infos)
        .map(|(name, info)| {
            let doc = docs.iter().find(|(doc_name, _)| doc_name == name);
            let grammar = doc.map_or_else(Vec::new, |(_, doc)| grammar_of(doc));
            spec_of(name, info, grammar)
        })
        .collect()
}

/// A RESP2 map (an array of names and values, alternating) or a RESP3
/// one, as pairs.
fn map_entries(reply: &Reply) -> Vec<(String, &Reply)> {
    match reply {
        Reply::Array(items) => items
            .chunks_exact(2)
            .map(|pair| (text_of(&pair[0]), &pair[1]))
            .collect(),
        Reply::Map(entries) => entries
            .iter()
            .map(|(name, value)| (text_of(name), value))
            .collect(),
        _ => Vec::new(),
    }
}

fn text_of(reply: &Reply) -> String {
    match reply {
        Reply::Bulk(bytes) | Reply::Simple(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        other => show(other),
    }
}

/// The `arguments` of one command's docs.
fn grammar_of(doc: &Reply) -> Vec<ArgDoc> {
    let fields = map_entries(doc);
    fields
        .iter()
        .find(|(name, _)| name == "arguments")
        .map_or_else(Vec::new, |(_, arguments)| arg_docs(arguments))
}

fn arg_docs(arguments: &Reply) -> Vec<ArgDoc> {
    match arguments {
        Reply::Array(items) => items.iter().map(arg_doc).collect(),
        _ => Vec::new(),
    }
}

fn arg_doc(reply: &Reply) -> ArgDoc {
    let fields = map_entries(reply);
    let field = |wanted: &str| {
        fields
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| *value)
    };
    let flags: Vec<String> = match field("flags") {
        Some(Reply::Array(items) | Reply::Set(items)) => items.iter().map(text_of).collect(),
        _ => Vec::new(),
    };
    let children = || field("arguments").map_or_else(Vec::new, arg_docs);
    let kind = match field("type").map(text_of).as_deref() {
        Some("key") => ArgKind::Key,
        Some("integer") => ArgKind::Integer,
        Some("double") => ArgKind::Double,
        Some("pattern") => ArgKind::Pattern,
        Some("unix-time") => ArgKind::UnixTime,
        Some("pure-token") => ArgKind::PureToken,
        Some("oneof") => ArgKind::OneOf(children()),
        Some("block") => ArgKind::Block(children()),
        _ => ArgKind::Text,
    };
    let has_flag = |flag: &str| flags.iter().any(|each| each == flag);
    ArgDoc {
        name: field("name").map(text_of).unwrap_or_default(),
        kind,
        token: field("token").map(text_of),
        optional: has_flag("optional"),
        multiple: has_flag("multiple"),
        multiple_token: has_flag("multiple_token"),
    }
}

fn spec_of(name: &str, info: &Reply, grammar: Vec<ArgDoc>) -> Spec {
    let integer = |index: usize| match info {
        Reply::Array(fields) => match fields.get(index) {
            Some(Reply::Integer(value)) => *value,
            other => panic!("COMMAND INFO {name} field {index}: {other:?}"),
        },
        other => panic!("COMMAND INFO {name}: {}", show(other)),
    };
    Spec {
        parts: name.split('|').map(str::to_string).collect(),
        arity: integer(1),
        keys: (integer(3), integer(4), integer(5)),
        grammar,
    }
}

/// Whether a fresh connection still pings, and DBSIZE (which asks every
/// shard) and a write and read of a key on every shard still answer.
fn still_serves(server: &ServerProcess) -> Result<(), String> {
    let mut client = server.connect();
    // The stream may have left a tiny maxmemory that would refuse writes.
    let checks: Vec<(Vec<&str>, Option<Reply>)> = [
        (vec!["PING"], Some(Reply::Simple(b"PONG".to_vec()))),
        (vec!["CONFIG", "SET", "maxmemory", "0"], Some(ok())),
        (vec!["DBSIZE"], None),
    ]
    .into_iter()
    .chain(KEYS.iter().flat_map(|key| {
        [
            (vec!["SET", *key, "still"], Some(ok())),
            (vec!["GET", *key], Some(Reply::Bulk(b"still".to_vec()))),
        ]
    }))
    .collect();
    for (args, expected) in checks {
        let wire: Vec<&[u8]> = args.iter().map(|arg| arg.as_bytes()).collect();
        client.send(&wire);
        let reply = match client.read_reply_within(REPLY_TIMEOUT) {
            ReadOutcome::Reply(reply) => reply,
            other => return Err(format!("{args:?} after the run: {other:?}")),
        };
        let fine = match &expected {
            Some(expected) => reply == *expected,
            None => matches!(reply, Reply::Integer(_)),
        };
        if !fine {
            return Err(format!("{args:?} after the run: {}", show(&reply)));
        }
    }
    Ok(())
}

fn ok() -> Reply {
    Reply::Simple(b"OK".to_vec())
}

/// Sends `BATCHES_PER_CLIENT` batches (fewer if `deadline` passes): the
/// number of commands sent, or what went wrong and the batch that did it.
fn run_client(
    mut client: Client,
    specs: Vec<Spec>,
    seed: u64,
    deadline: Instant,
) -> Result<usize, String> {
    let mut rng = Rng::new(seed);
    let mut sent = 0;
    for batch_index in 0..BATCHES_PER_CLIENT {
        if Instant::now() >= deadline {
            break;
        }
        let batch = make_batch(&mut rng, &specs, batch_index);
        let outcome = catch_unwind(AssertUnwindSafe(|| send_batch(&mut client, &batch)));
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(failure)) => Some(failure),
            Err(panic) => Some(panic_text(&panic)),
        };
        if let Some(failure) = failure {
            return Err(format!(
                "batch {batch_index} of stream seed {seed:#x}: {failure}\nthe batch:\n{}",
                describe_batch(&batch)
            ));
        }
        sent += batch.len();
    }
    Ok(sent)
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else {
        "a panic".to_string()
    }
}

/// Pipelines `batch` in one write and reads every reply; the last command
/// is an ECHO of a marker, so a missing or extra reply shows.
fn send_batch(client: &mut Client, batch: &[Vec<Vec<u8>>]) -> Result<(), String> {
    let mut wire = Vec::new();
    for command in batch {
        let args: Vec<&[u8]> = command.iter().map(Vec::as_slice).collect();
        shoal_protocol::encode_request(&args, &mut wire);
    }
    client.send_raw(&wire);
    let mut last = Reply::Null;
    for (index, command) in batch.iter().enumerate() {
        last = match client.read_reply_within(REPLY_TIMEOUT) {
            ReadOutcome::Reply(reply) => reply,
            other => {
                return Err(format!(
                    "{other:?} waiting for reply {index}, to {}",
                    describe(command)
                ))
            }
        };
    }
    let marker = batch.last().expect("a batch ends with its marker");
    match &last {
        Reply::Bulk(echoed) if *echoed == marker[1] => Ok(()),
        other => Err(format!(
            "the last reply is {}, not the marker {}",
            show(other),
            describe(marker)
        )),
    }
}

fn describe(command: &[Vec<u8>]) -> String {
    let shown: Vec<String> = command
        .iter()
        .map(|arg| {
            if arg.len() > 80 {
                format!("<{} bytes starting {:?}>", arg.len(), ascii(&arg[..16]))
            } else {
                format!("{:?}", ascii(arg))
            }
        })
        .collect();
    if shown.len() > 12 {
        format!("{} ... ({} arguments)", shown[..12].join(" "), shown.len())
    } else {
        shown.join(" ")
    }
}

fn describe_batch(batch: &[Vec<Vec<u8>>]) -> String {
    let lines: Vec<String> = batch
        .iter()
        .enumerate()
        .map(|(index, command)| format!("  {index:2}: {}", describe(command)))
        .collect();
    lines.join("\n")
}

fn ascii(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

// ---------------------------------------------------------------------------
// The stream
// ---------------------------------------------------------------------------

/// One step of SplitMix64: turns related seeds into unrelated ones.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// xorshift64*: small, deterministic, good enough to pick from pools.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // xorshift never leaves zero.
        Rng(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..bound`.
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn percent(&mut self, chance: usize) -> bool {
        self.below(100) < chance
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Keys on every shard, some sharing a hash tag.
const KEYS: &[&str] = &[
    "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11", "k12", "k13", "k14",
    "k15", "{t}a", "{t}b", "{t}c", "{u}a", "{u}b",
];

const INTEGERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "-2",
    "-5",
    "-6",
    "10",
    "100",
    "-100",
    "1000",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "00",
    "+1",
    " 1",
    "0x10",
];

const FLOATS: &[&str] = &[
    "1.5", "-1.5", "0.1", "-0", "inf", "-inf", "+inf", "nan", "1e308", "-1e308", "1e400", "1e-320",
    "(1", "(-1", "(inf", "(-inf", "(nan", "[a", "(a", "[", "(", "+", "-", "[\u{e9}", "3.0",
];

const WORDS: &[&str] = &[
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "LIMIT",
    "WITHSCORES",
    "WITHSCORE",
    "BYSCORE",
    "BYLEX",
    "REV",
    "COUNT",
    "MATCH",
    "TYPE",
    "LEFT",
    "RIGHT",
    "MIN",
    "MAX",
    "WEIGHTS",
    "AGGREGATE",
    "SUM",
    "KEEPTTL",
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "PERSIST",
    "GET",
    "REPLACE",
    "DB",
    "IDX",
    "LEN",
    "RANK",
    "MAXLEN",
    "BEFORE",
    "AFTER",
    "WITHVALUES",
    "WITHMATCHLEN",
    "MINMATCHLEN",
    "NOVALUES",
    "ASYNC",
    "SYNC",
    "STORE",
    "string",
    "list",
    "set",
    "zset",
    "hash",
    "*",
    "k*",
    "[a-z]*",
    "?",
    "\\",
    "[^k]*",
    "*a*a*a*a*a*a*b",
];

const MEMBERS: &[&str] = &[
    "a", "b", "c", "m1", "f0", "f1", "v", "e0", "e1", "e2", "0", "1", "7",
];

/// Lexicographic range bounds, valid and not.
const LEX_BOUNDS: &[&str] = &[
    "-", "+", "[a", "(a", "[e1", "(e2", "[0", "(7", "[", "(", "[\u{ff}", "a",
];

/// Valid scores and increments, mostly.
const DOUBLES: &[&str] = &[
    "0", "1", "-1", "1.5", "-1.5", "0.1", "-0", "3.0", "inf", "-inf", "1e308", "-1e308", "nan",
    "1e400",
];

const PATTERNS: &[&str] = &[
    "*",
    "k*",
    "e*",
    "[a-z]*",
    "?",
    "\\",
    "[^k]*",
    "*a*a*a*a*a*a*b",
    "[",
    "",
];

/// Configuration parameters CONFIG SET may change: encoding thresholds and
/// harmless knobs, never one that locks clients out or closes them.
const CONFIG_NAMES: &[&str] = &[
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "list-max-listpack-size",
    "list-compress-depth",
    "set-max-intset-entries",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
    "hz",
    "slowlog-max-len",
    "slowlog-log-slower-than",
    "lfu-log-factor",
    "lfu-decay-time",
    "maxmemory",
    "maxmemory-policy",
];

const POLICIES: &[&str] = &[
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-ttl",
];

/// One random argument where a key goes: mostly a key.
fn key_arg(rng: &mut Rng) -> Vec<u8> {
    if rng.percent(85) {
        rng.pick(KEYS).as_bytes().to_vec()
    } else {
        random_arg(rng)
    }
}

/// One random argument anywhere else.
fn random_arg(rng: &mut Rng) -> Vec<u8> {
    let text = match rng.below(100) {
        0..=14 => *rng.pick(KEYS),
        15..=44 => *rng.pick(INTEGERS),
        45..=59 => *rng.pick(FLOATS),
        60..=79 => *rng.pick(WORDS),
        80..=91 => *rng.pick(MEMBERS),
        _ => return odd_arg(rng),
    };
    text.as_bytes().to_vec()
}

/// Empty, binary, RESP-looking and long arguments.
fn odd_arg(rng: &mut Rng) -> Vec<u8> {
    match rng.below(6) {
        0 => Vec::new(),
        1 => b"\x00\xff\r\n\x80".to_vec(),
        2 => b"*1\r\n$4\r\nPING\r\n".to_vec(),
        3 => vec![b'a'; 70],
        4 => vec![b'x'; 1000 + rng.below(1000)],
        _ => (0..rng.below(40)).map(|_| rng.next() as u8).collect(),
    }
}

/// A random command: a listed name (any case) with arguments that
/// mostly follow its documented grammar, else as many as its arity asks
/// with keys where its keys go, else anything. Shaped so it cannot block
/// for long or stop anything.
fn random_command(rng: &mut Rng, specs: &[Spec]) -> Vec<Vec<u8>> {
    let mut spec = rng.pick(specs);
    // Flushing wipes what the stream built: keep it rare.
    while spec.parts[0].starts_with("flush") && rng.percent(90) {
        spec = rng.pick(specs);
    }
    let mut command: Vec<Vec<u8>> = spec
        .parts
        .iter()
        .map(|part| {
            if rng.percent(20) {
                part.to_uppercase().into_bytes()
            } else {
                part.clone().into_bytes()
            }
        })
        .collect();
    if rng.percent(60) {
        grammar_args(rng, &spec.grammar, &mut command);
        if rng.percent(15) {
            mutate(rng, spec.parts.len(), &mut command);
        }
    } else {
        arity_args(rng, spec, &mut command);
    }
    let parts = spec.parts.len();
    if spec.parts == ["config", "set"] {
        shape_config_set(rng, &mut command[parts..]);
    }
    cap_blocking_timeout(&spec.parts[0], &mut command[1..]);
    command
}

/// Arguments by arity and key positions alone.
fn arity_args(rng: &mut Rng, spec: &Spec, command: &mut Vec<Vec<u8>>) {
    let length = command_length(rng, spec);
    for position in command.len()..length {
        let arg = if is_key_position(spec, position, length) {
            key_arg(rng)
        } else {
            random_arg(rng)
        };
        command.push(arg);
    }
}

/// Replaces, drops or repeats one argument after the name.
fn mutate(rng: &mut Rng, parts: usize, command: &mut Vec<Vec<u8>>) {
    if command.len() <= parts {
        command.push(random_arg(rng));
        return;
    }
    let at = parts + rng.below(command.len() - parts);
    match rng.below(3) {
        0 => command[at] = random_arg(rng),
        1 => {
            command.remove(at);
        }
        _ => {
            let copy = command[at].clone();
            command.insert(at, copy);
        }
    }
}

/// Arguments following `docs`, mostly valid ones: optional ones half the
/// time, repeated ones one to three times, `numkeys` mostly matching the
/// keys after it.
fn grammar_args(rng: &mut Rng, docs: &[ArgDoc], out: &mut Vec<Vec<u8>>) {
    let mut index = 0;
    while index < docs.len() {
        let doc = &docs[index];
        let counted = docs.get(index + 1).filter(|next| next.multiple);
        if let (true, Some(next)) = (doc.name == "numkeys", counted) {
            let count = 1 + rng.below(3);
            out.push(if rng.percent(85) {
                count.to_string().into_bytes()
            } else {
                random_arg(rng)
            });
            emit_repeated(rng, next, count, out);
            index += 2;
            continue;
        }
        if !doc.optional || rng.percent(50) {
            let count = if doc.multiple { 1 + rng.below(3) } else { 1 };
            emit_repeated(rng, doc, count, out);
        }
        index += 1;
    }
}

fn emit_repeated(rng: &mut Rng, doc: &ArgDoc, count: usize, out: &mut Vec<Vec<u8>>) {
    for repeat in 0..count {
        if let Some(token) = &doc.token {
            if repeat == 0 || doc.multiple_token {
                out.push(token.as_bytes().to_vec());
            }
        }
        emit_value(rng, doc, out);
    }
}

fn emit_value(rng: &mut Rng, doc: &ArgDoc, out: &mut Vec<Vec<u8>>) {
    let value = match &doc.kind {
        ArgKind::PureToken => return,
        ArgKind::OneOf(choices) if !choices.is_empty() => {
            let choice = rng.pick(choices);
            return emit_repeated(rng, choice, 1, out);
        }
        ArgKind::OneOf(_) => return,
        ArgKind::Block(children) => return grammar_args(rng, children, out),
        _ if rng.percent(5) => random_arg(rng),
        ArgKind::Key => key_arg(rng),
        ArgKind::Integer | ArgKind::UnixTime => rng.pick(INTEGERS).as_bytes().to_vec(),
        ArgKind::Double => rng.pick(DOUBLES).as_bytes().to_vec(),
        ArgKind::Pattern => rng.pick(PATTERNS).as_bytes().to_vec(),
        ArgKind::Text => text_value(rng, &doc.name),
    };
    out.push(value);
}

/// A string argument, by what its name says it is.
fn text_value(rng: &mut Rng, name: &str) -> Vec<u8> {
    let bound = ["start", "stop", "end", "min", "max"].contains(&name);
    let pool = match rng.below(100) {
        0..=34 if bound => INTEGERS,
        35..=69 if bound => FLOATS,
        _ if bound => LEX_BOUNDS,
        0..=49 => MEMBERS,
        50..=69 => INTEGERS,
        70..=84 => KEYS,
        _ => return odd_arg(rng),
    };
    rng.pick(pool).as_bytes().to_vec()
}

/// How many arguments, the name included: three times in four what the
/// arity allows, else anything from the name alone to `ARGS_MAX` more.
fn command_length(rng: &mut Rng, spec: &Spec) -> usize {
    let parts = spec.parts.len();
    let minimum = spec.arity.unsigned_abs() as usize;
    if !rng.percent(75) || minimum < parts {
        return parts + rng.below(ARGS_MAX + 1);
    }
    if spec.arity >= 0 {
        minimum
    } else {
        minimum + rng.below(ARGS_MAX + 1)
    }
}

fn is_key_position(spec: &Spec, position: usize, length: usize) -> bool {
    let (first, last, step) = spec.keys;
    if first <= 0 || step <= 0 {
        return false;
    }
    let last = if last < 0 { length as i64 + last } else { last };
    let position = position as i64;
    position >= first && position <= last && (position - first) % step == 0
}

/// CONFIG SET only of `CONFIG_NAMES`, with pool values (or an eviction
/// policy): `args` are the ones after `SET`.
fn shape_config_set(rng: &mut Rng, args: &mut [Vec<u8>]) {
    for pair in args.chunks_mut(2) {
        let name = *rng.pick(CONFIG_NAMES);
        pair[0] = name.as_bytes().to_vec();
        if name == "maxmemory-policy" && pair.len() == 2 {
            pair[1] = rng.pick(POLICIES).as_bytes().to_vec();
        }
    }
}

/// Blocking commands get a 10 ms timeout where their timeout goes, so none
/// waits forever on a key nothing pushes to.
fn cap_blocking_timeout(name: &str, args: &mut [Vec<u8>]) {
    let slot = match name {
        "blpop" | "brpop" | "bzpopmin" | "bzpopmax" | "blmove" | "brpoplpush" => args.last_mut(),
        "blmpop" | "bzmpop" => args.first_mut(),
        _ => None,
    };
    if let Some(slot) = slot {
        *slot = b"0.01".to_vec();
    }
}

/// Value-building commands a batch starts with, at most.
const POPULATE_MAX: usize = 5;

/// A batch: a few value-building commands, random commands, the end of
/// any transaction they opened, then the marker.
fn make_batch(rng: &mut Rng, specs: &[Spec], batch_index: usize) -> Vec<Vec<Vec<u8>>> {
    let mut batch = Vec::with_capacity(BATCH_COMMANDS);
    for _ in 0..rng.below(POPULATE_MAX + 1) {
        let key = rng.pick(KEYS).as_bytes().to_vec();
        if rng.percent(15) {
            let ttl_ms = rng
                .pick(&["1", "20", "100", "100000", "100000000"])
                .as_bytes()
                .to_vec();
            batch.push(vec![b"PEXPIRE".to_vec(), key, ttl_ms]);
        } else {
            batch.push(vec![b"DEL".to_vec(), key.clone()]);
            batch.push(populate(rng, key));
        }
    }
    while batch.len() < BATCH_COMMANDS - 3 {
        batch.push(random_command(rng, specs));
    }
    // A random MULTI or BEGIN may have left the connection inside a
    // transaction (the marker would only be queued): leave it.
    batch.push(vec![b"DISCARD".to_vec()]);
    batch.push(vec![b"ROLLBACK".to_vec()]);
    let marker = format!("marker-{batch_index}-{}", rng.next());
    batch.push(vec![b"ECHO".to_vec(), marker.into_bytes()]);
    debug_assert_eq!(batch.len(), BATCH_COMMANDS);
    batch
}

/// A valid command that stores a value of some type and encoding at `key`
/// (just deleted): small ones, and ones past the listpack and intset
/// thresholds.
fn populate(rng: &mut Rng, key: Vec<u8>) -> Vec<Vec<u8>> {
    let count = if rng.percent(15) {
        600
    } else {
        1 + rng.below(6)
    };
    let (name, mut command): (&[u8], _) = match rng.below(7) {
        0 => (b"SET", vec![element(rng, 0)]),
        1 => (
            b"HSET",
            pairs(rng, count, |index, _| format!("f{index}").into_bytes()),
        ),
        2 => (b"RPUSH", elements(rng, count)),
        3 => (b"LPUSH", elements(rng, count)),
        4 => (
            b"SADD",
            (0..count)
                .map(|index| index.to_string().into_bytes())
                .collect(),
        ),
        5 => (b"SADD", elements(rng, count)),
        _ => (b"ZADD", pairs(rng, count, |_, rng| score(rng))),
    };
    command.splice(0..0, [name.to_vec(), key]);
    command
}

fn elements(rng: &mut Rng, count: usize) -> Vec<Vec<u8>> {
    (0..count).map(|index| element(rng, index)).collect()
}

/// `count` pairs of `first(index)` and an element (field and value, or
/// score and member).
fn pairs(rng: &mut Rng, count: usize, first: impl Fn(usize, &mut Rng) -> Vec<u8>) -> Vec<Vec<u8>> {
    let mut args = Vec::with_capacity(count * 2);
    for index in 0..count {
        args.push(first(index, rng));
        args.push(element(rng, index));
    }
    args
}

fn score(rng: &mut Rng) -> Vec<u8> {
    let text = *rng.pick(&["0", "1.5", "-2", "inf", "-inf", "3", "1e308"]);
    text.as_bytes().to_vec()
}

/// An element for a collection: mostly distinct short strings or integers,
/// sometimes a value past the 64-byte listpack limit.
fn element(rng: &mut Rng, index: usize) -> Vec<u8> {
    match rng.below(10) {
        0 => format!("{index}-{}", "v".repeat(70)).into_bytes(),
        1..=3 => index.to_string().into_bytes(),
        4 => rng.pick(MEMBERS).as_bytes().to_vec(),
        _ => format!("e{index}").into_bytes(),
    }
}
