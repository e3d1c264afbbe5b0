//! Start-up and shutdown: place workers on cores, wire their mailboxes,
//! open the listening sockets, run, and stop on a signal or SHUTDOWN.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use socket2::{Domain, Protocol, Socket, Type};

use crate::config::Config;
use crate::reactor::{self, ConnOptions};
use crate::worker::{msg::Msg, shared::WorkerStats, Shared, Worker, WorkerSetup};

/// Pending connections the kernel queues per listening socket (Redis's `tcp-backlog`).
const LISTEN_BACKLOG: i32 = 511;

/// A listening socket that shares its port with the other workers'.
fn reuseport_listener(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if address.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_tcp_keepalive(&socket2::TcpKeepalive::new())?;
    socket.bind(&address.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// Fails when another process already listens on one of `addresses`.
/// The workers' sockets share their port through `SO_REUSEPORT`, and the
/// kernel would let a second server of the same user join that group and
/// take half the connections; a plain bind first (as Redis binds) refuses a
/// port in use, naming it, as `redis-server` does.
fn refuse_ports_in_use(addresses: &[(SocketAddr, bool)]) -> Result<(), String> {
    for &(address, _) in addresses {
        // Any failure other than "in use" (an address family this host
        // lacks, say) is left to `worker_listeners`, which knows which
        // addresses are optional.
        let Ok(socket) = Socket::new(
            Domain::for_address(address),
            Type::STREAM,
            Some(Protocol::TCP),
        ) else {
            continue;
        };
        let _ = socket.set_reuse_address(true);
        if address.is_ipv6() {
            let _ = socket.set_only_v6(true);
        }
        if let Err(error) = socket.bind(&address.into()) {
            if error.kind() == std::io::ErrorKind::AddrInUse {
                return Err(format!("cannot listen on {address}: {error}"));
            }
        }
    }
    Ok(())
}

/// Each bind address and whether failing to listen on it may be skipped.
fn bind_addresses(config: &Config) -> Result<Vec<(SocketAddr, bool)>, String> {
    let port = config.port();
    config
        .bind_addresses()
        .iter()
        .map(|address| {
            let host = match address.host.as_str() {
                "*" => "0.0.0.0",
                "::*" => "::",
                host => host,
            };
            format!("{host}:{port}")
                .parse()
                .or_else(|_| format!("[{host}]:{port}").parse())
                .map(|parsed| (parsed, address.optional))
                .map_err(|_| format!("invalid bind address '{host}'"))
        })
        .collect()
}

/// One listening socket per bind address for one worker; an optional
/// address (`-::1`, or `::1` in the default) that cannot be bound is
/// skipped, as Redis does on hosts without IPv6.
fn worker_listeners(addresses: &[(SocketAddr, bool)]) -> Result<Vec<TcpListener>, String> {
    let mut listeners = Vec::new();
    let mut last_error = None;
    for &(address, optional) in addresses {
        match reuseport_listener(address) {
            Ok(listener) => listeners.push(listener),
            Err(error) if optional => {
                last_error = Some(format!("cannot listen on {address}: {error}"))
            }
            Err(error) => return Err(format!("cannot listen on {address}: {error}")),
        }
    }
    if listeners.is_empty() {
        return Err(last_error.unwrap_or_else(|| "no bind address".into()));
    }
    Ok(listeners)
}

/// The placement plan: which core runs which worker.
fn placement(config: &Config) -> Result<shoal_numa::Placement, String> {
    let topology =
        shoal_numa::read_sysfs().map_err(|error| format!("reading the CPU topology: {error}"))?;
    let cpus = config.cpus();
    let cpus = (!cpus.is_empty()).then_some(cpus);
    let threads = (config.threads() > 0).then_some(config.threads());
    shoal_numa::plan(&topology, threads, cpus.as_deref())
        .map_err(|error| format!("placing workers: {error}"))
}

/// Blocks SIGINT and SIGTERM in every thread and turns them into a
/// shutdown request from one thread that waits for them.
fn handle_signals(shared: Arc<Shared>) {
    // SAFETY: sigset operations on a zeroed set we own; pthread_sigmask on
    // the calling thread before any worker exists, so all inherit it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        std::thread::spawn(move || loop {
            let mut signal = 0;
            if libc::sigwait(&set, &mut signal) == 0 {
                eprintln!("shoal-server: received signal {signal}, shutting down");
                shared.request_shutdown();
            }
        });
    }
}

/// Fits `maxclients` to the descriptors the process may open (raising the
/// limit where it may), logging what changed, as Redis does at start-up.
fn fit_max_clients(config: &mut Config, workers: usize) -> Result<(), String> {
    let fit = crate::fd_limit::fit_max_clients(config.max_clients(), workers);
    fit.log();
    match fit {
        crate::fd_limit::Fit::Fits(_) => Ok(()),
        crate::fd_limit::Fit::Reduced { max_clients, .. } => config
            .set(b"maxclients", max_clients.to_string().as_bytes())
            .map_err(|error| format!("reducing maxclients: {error}")),
        crate::fd_limit::Fit::TooFew(why) => Err(why),
    }
}

/// Runs the server until it is told to stop; the error says why it could not start.
pub fn run(mut config: Config) -> Result<(), String> {
    let addresses = bind_addresses(&config)?;
    refuse_ports_in_use(&addresses)?;
    let plan = placement(&config)?;
    let workers = plan.workers.len();
    fit_max_clients(&mut config, workers)?;
    let placement_text = plan.to_string();
    crate::stopwatch::calibrate();
    for line in placement_text.lines() {
        eprintln!("shoal-server: {line}");
    }
    let options = ConnOptions {
        keepalive_s: config.tcp_keepalive_s(),
    };
    let mut reactors = Vec::new();
    let mut wakers = Vec::new();
    for _ in 0..workers {
        let listeners = worker_listeners(&addresses)?;
        let (reactor, waker) = reactor::create(config.io_backend(), listeners, options)?;
        reactors.push(reactor);
        wakers.push(waker);
    }
    if let Some(reactor) = reactors.first() {
        eprintln!("shoal-server: I/O backend: {}", reactor.name());
    }
    let shared = Arc::new(Shared {
        workers,
        databases: config.databases(),
        port: config.port(),
        io_backend: reactors.first().map_or("none", |reactor| reactor.name()),
        next_client_id: AtomicU64::new(1),
        next_tx: AtomicU64::new(1),
        shutdown: AtomicBool::new(false),
        stats: (0..workers)
            .map(|_| WorkerStats::new(crate::cmd::COMMANDS.len()))
            .collect(),
        slowlog: Mutex::new(Default::default()),
        monitors: Mutex::new(Vec::new()),
        monitor_count: AtomicUsize::new(0),
        slowlog_threshold_us: AtomicI64::new(0),
        slowlog_max_len: AtomicUsize::new(0),
        settings_epoch: AtomicU64::new(0),
        started: Instant::now(),
        placement: placement_text,
        wakers: Mutex::new(wakers.clone()),
        config: Mutex::new(config.clone()),
    });
    shared.refresh_cached_settings();
    let endpoints = shoal_actors::mesh::<Msg>(workers, config.mailbox_capacity(), wakers);
    handle_signals(shared.clone());
    let mut threads = Vec::new();
    for ((endpoint, reactor), slot) in endpoints.into_iter().zip(reactors).zip(&plan.workers) {
        let setup = WorkerSetup {
            id: slot.worker,
            shared: shared.clone(),
            endpoint,
            reactor,
        };
        let worker = Worker::new(setup)
            .map_err(|error| format!("starting worker {}: {error}", slot.worker))?;
        let cpu = slot.cpu;
        let thread = std::thread::Builder::new()
            .name(format!("shoal-worker-{}", slot.worker))
            .spawn(move || {
                shoal_numa::pin_current_thread(cpu);
                worker.run();
            })
            .map_err(|error| format!("spawning a worker: {error}"))?;
        threads.push(thread);
    }
    eprintln!(
        "shoal-server: ready to accept connections on port {}",
        config.port()
    );
    for thread in threads {
        let _ = thread.join();
    }
    eprintln!("shoal-server: bye");
    Ok(())
}
