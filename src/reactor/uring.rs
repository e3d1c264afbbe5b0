//! The io_uring backend, driven by hand (no async runtime).
//!
//! Every listening socket has a multishot accept in the ring; every
//! connection a multishot receive that takes its buffers from one provided
//! buffer ring per worker; output goes out by one `send` per connection at
//! a time. Other workers wake this one through an eventfd with a multishot
//! poll in the ring. A wait is one `io_uring_enter` that submits everything
//! queued since the last and waits for a completion or the timeout.
//!
//! Each submission's `user_data` is a [`Token`]: the operation, a
//! connection (or listener) index and the connection's generation. Every
//! operation of a connection is counted until its last completion is
//! reaped; `close` cancels them and frees the socket, the send buffer and
//! the id only when the count reaches zero, so nothing the kernel may still
//! touch is freed and no late completion lands on a reused id.

mod buf_ring;

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use io_uring::{cqueue, opcode, squeue, types, IoUring, Probe};

use self::buf_ring::BufRing;
use super::epoll::LISTENERS_MAX;
use super::{ConnId, ConnOptions, Event, Reactor, RecvStatus, Waker, ACCEPT_RETRY};

/// Submission queue entries. A loop turn queues about one send and at most
/// one re-armed receive per busy connection; past this `push` submits
/// early, so it bounds a batch, not the number of connections. The rings
/// are pinned memory: 512 SQEs (32 KiB) and 1024 CQEs (16 KiB) plus the
/// buffer ring's 8 KiB come to about 60 KiB per worker (measured: a worker
/// needs 64 KiB of RLIMIT_MEMLOCK), so the 8 MiB default covers ~128 workers.
const SQ_ENTRIES: u32 = 512;
/// Completion queue entries: twice the submission queue, so the
/// completions of a full batch plus multishot completions fit without the
/// kernel's overflow list.
const CQ_ENTRIES: u32 = 2 * SQ_ENTRIES;
/// Receive buffers per worker. The count bounds how many connections can
/// hold unread input at once before receives stop with ENOBUFS (and are
/// re-armed as buffers come back).
const BUF_COUNT: u16 = 512;
/// Bytes per receive buffer: a page, which holds a typical pipeline (16
/// SETs of 100-byte values are ~1.9 KiB); larger input takes more buffers.
/// 512 × 4 KiB = 2 MiB per worker of ordinary memory: the kernel copies
/// into the buffers and pins only their 8 KiB ring of descriptors, so the
/// buffers do not count against the locked-memory limit.
const BUF_SIZE_BYTES: u32 = 4096;
/// The provided-buffer group receives use.
const BUF_GROUP: u16 = 0;
/// Buffers one connection may hold unread before its receive is cancelled
/// (and the rest of its input left in the socket, so TCP pushes back on
/// the client): 256 KiB, what the worker takes from a connection per turn.
const HELD_PER_CONN_MAX: usize = 64;
const _: () = assert!(HELD_PER_CONN_MAX < BUF_COUNT as usize);
/// Registered (fixed) descriptor slots; connection `c` uses slot `c`, and
/// connections past the table (or past RLIMIT_NOFILE) use plain descriptors.
const FIXED_FILES_MAX: u32 = 16384;
/// Most bytes one send submission carries (the length field is 32 bits).
const SEND_CHUNK_BYTES_MAX: usize = 1 << 30;
/// A written send buffer up to this capacity is kept for the connection's
/// next output (`send` swaps it with the worker's); a larger one is freed,
/// so one big reply does not pin twice its size for the connection's life.
const SEND_BUF_KEEP_BYTES: usize = 256 * 1024;
/// Completions handled per poll before it returns (the CQ twice over), so
/// one call cannot run forever when completions keep coming.
const CQES_PER_POLL_MAX: usize = 2 * CQ_ENTRIES as usize;
/// How long dropping the reactor waits for cancelled operations to finish.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------
// user_data
// ---------------------------------------------------------------------------

/// Bits of the connection generation kept in a token.
const GENERATION_BITS: u32 = 24;
const GENERATION_MASK: u32 = (1 << GENERATION_BITS) - 1;

/// What a submission was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Op {
    /// Multishot accept; the index is the listener.
    Accept = 1,
    /// Multishot poll of the wake-up eventfd.
    Wake = 2,
    /// Multishot receive on a connection.
    Recv = 3,
    /// A send on a connection.
    Send = 4,
    /// A cancellation aimed at a connection's operations.
    Cancel = 5,
    /// A cancellation of listeners or of everything (shutdown).
    Control = 6,
}

/// A submission's `user_data`: op in bits 56..64, generation in 32..56,
/// index in 0..32. Zero is never a token (ops start at 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Token {
    op: Op,
    index: u32,
    generation: u32,
}

impl Token {
    fn new(op: Op, index: usize, generation: u32) -> Token {
        let index = u32::try_from(index).expect("connection ids stay below 2^32");
        Token {
            op,
            index,
            generation: generation & GENERATION_MASK,
        }
    }

    fn encode(self) -> u64 {
        (self.op as u64) << 56 | u64::from(self.generation) << 32 | u64::from(self.index)
    }

    fn decode(user_data: u64) -> Option<Token> {
        let op = match user_data >> 56 {
            1 => Op::Accept,
            2 => Op::Wake,
            3 => Op::Recv,
            4 => Op::Send,
            5 => Op::Cancel,
            6 => Op::Control,
            _ => return None,
        };
        Some(Token {
            op,
            index: user_data as u32,
            generation: (user_data >> 32) as u32 & GENERATION_MASK,
        })
    }
}

// ---------------------------------------------------------------------------
// Wake-ups
// ---------------------------------------------------------------------------

/// The eventfd other workers write to wake this one.
#[derive(Debug)]
struct EventFd(OwnedFd);

impl EventFd {
    fn new() -> io::Result<EventFd> {
        // SAFETY: eventfd takes no pointers; a non-negative result is a
        // new descriptor that we alone own.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and is owned by nothing else.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Clears the counter so the next wake is a new edge.
    fn reset(&self) {
        let mut value = 0u64;
        // SAFETY: reads 8 bytes into a live local u64 from our descriptor.
        // EAGAIN (already zero) is expected and harmless.
        unsafe {
            libc::read(self.0.as_raw_fd(), (&raw mut value).cast(), 8);
        }
    }
}

impl shoal_actors::Wake for EventFd {
    fn wake(&self) {
        let one = 1u64;
        // SAFETY: writes 8 bytes from a live local u64. The counter stays
        // non-zero until the worker resets it, so a wake that comes before
        // the worker blocks still ends its next wait (sticky). A failed
        // write (counter saturated) means a wake-up is pending anyway.
        unsafe {
            libc::write(self.0.as_raw_fd(), (&raw const one).cast(), 8);
        }
    }
}

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The id is free.
    Free,
    /// The worker uses it.
    Open,
    /// The worker closed it; waiting for its operations to finish.
    Closing,
}

/// The connection's multishot receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecvState {
    /// Not in the ring.
    Idle,
    /// In the ring.
    Armed,
    /// Cancelled (too much input held), its last completion not yet reaped.
    Cancelling,
}

/// How operations name a connection's socket.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// Registered descriptor slot.
    Fixed(u32),
    /// Plain descriptor.
    Raw(RawFd),
}

struct Conn {
    state: State,
    generation: u32,
    stream: Option<TcpStream>,
    target: Target,
    recv: RecvState,
    /// Buffers received and not yet handed to the worker: (id, bytes).
    held: VecDeque<(u16, u32)>,
    /// The peer closed or the socket failed: `recv` says Closed once `held`
    /// is empty.
    eof: bool,
    /// Waiting in `starved` for buffers to re-arm its receive.
    starved: bool,
    /// Output taken by `send`; the kernel reads it while `sending`.
    send_buf: Vec<u8>,
    /// Bytes of `send_buf` already written.
    send_done: usize,
    sending: bool,
    /// A send failed with this errno; the next `send` reports it.
    send_error: Option<i32>,
    /// Operations submitted (or queued) whose last completion is not reaped.
    ops: u32,
    /// The poll in which Readable was last reported (one per poll).
    readable_epoch: u64,
}

impl Conn {
    fn free() -> Conn {
        Conn {
            state: State::Free,
            generation: 0,
            stream: None,
            target: Target::Raw(-1),
            recv: RecvState::Idle,
            held: VecDeque::new(),
            eof: false,
            starved: false,
            send_buf: Vec::new(),
            send_done: 0,
            sending: false,
            send_error: None,
            ops: 0,
            readable_epoch: 0,
        }
    }
}

struct Listener {
    /// Kept open until its accept's last completion is reaped.
    socket: Option<TcpListener>,
    armed: bool,
    /// When a failed accept may be re-armed.
    retry_at: Option<Instant>,
}

/// How the ring was set up, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// SINGLE_ISSUER + DEFER_TASKRUN + COOP_TASKRUN (created disabled, enabled
    /// by the worker thread on its first poll).
    Deferred,
    /// SINGLE_ISSUER + COOP_TASKRUN.
    Coop,
    /// No optional flags.
    Plain,
}

impl Setup {
    fn describe(self) -> &'static str {
        match self {
            Setup::Deferred => "single-issuer, defer-taskrun, coop-taskrun",
            Setup::Coop => "single-issuer, coop-taskrun",
            Setup::Plain => "default flags",
        }
    }
}

/// The io_uring reactor of one worker.
pub struct UringReactor {
    // Declared first so it is dropped (the ring closed) before the memory
    // below; `Drop` has reaped every operation by then.
    ring: IoUring,
    bufs: Option<BufRing>,
    listeners: Vec<Listener>,
    conns: Vec<Conn>,
    free: Vec<ConnId>,
    /// Connections whose receive stopped for lack of buffers, oldest first.
    starved: VecDeque<ConnId>,
    /// Connections whose last input was handed over with the end of stream
    /// behind it: the next poll reports them Readable again, so the worker
    /// writes the replies to that input before it learns of the close.
    ending: Vec<ConnId>,
    /// Entries that did not fit in a full submission queue, in order.
    overflow: VecDeque<squeue::Entry>,
    /// Every submission whose last completion is not reaped yet.
    ops_in_flight: usize,
    wake: Arc<EventFd>,
    fixed_files: u32,
    setup: Setup,
    /// Whether the ring has been enabled / anything submitted.
    started: bool,
    /// No more accepts (stop_accepting or drop).
    stopped: bool,
    dropping: bool,
    epoch: u64,
    cqes: Vec<cqueue::Entry>,
    options: ConnOptions,
}

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

/// Creates the ring with the best flags this kernel takes, starting from
/// `first` (tests start lower to exercise the fallbacks).
fn build_ring(first: Setup) -> io::Result<(IoUring, Setup)> {
    let mut last_error = io::Error::from_raw_os_error(libc::EINVAL);
    let setups = [Setup::Deferred, Setup::Coop, Setup::Plain];
    for setup in setups.into_iter().skip_while(|&setup| setup != first) {
        let mut builder = IoUring::builder();
        builder.setup_cqsize(CQ_ENTRIES);
        match setup {
            Setup::Deferred => {
                builder
                    .setup_submit_all()
                    .setup_single_issuer()
                    .setup_defer_taskrun()
                    .setup_coop_taskrun()
                    .setup_r_disabled();
            }
            Setup::Coop => {
                builder
                    .setup_submit_all()
                    .setup_single_issuer()
                    .setup_coop_taskrun()
                    .setup_r_disabled();
            }
            Setup::Plain => {}
        }
        match builder.build(SQ_ENTRIES) {
            Ok(ring) => return Ok((ring, setup)),
            // An unknown flag is EINVAL: try fewer. Anything else (EPERM,
            // ENOSYS, ENOMEM) will not change with fewer flags.
            Err(error) if error.raw_os_error() == Some(libc::EINVAL) => last_error = error,
            Err(error) => return Err(error),
        }
    }
    Err(last_error)
}

/// Checks, by probing rather than by kernel version, that the kernel has
/// every operation and feature this backend uses.
fn check_support(ring: &IoUring) -> io::Result<()> {
    let mut probe = Probe::new();
    ring.submitter().register_probe(&mut probe)?;
    let needed = [
        (opcode::AcceptMulti::CODE, "accept"),
        (opcode::RecvMulti::CODE, "recv"),
        (opcode::Send::CODE, "send"),
        (opcode::PollAdd::CODE, "poll_add"),
        (opcode::AsyncCancel2::CODE, "async_cancel"),
        // Multishot receive has no opcode of its own; it came in the same
        // release (6.0) as SEND_ZC, so that opcode marks it.
        (opcode::SendZc::CODE, "send_zc (multishot recv)"),
    ];
    for (code, name) in needed {
        if !probe.is_supported(code) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("the kernel lacks io_uring operation {name}"),
            ));
        }
    }
    let params = ring.params();
    if !params.is_feature_ext_arg() || !params.is_feature_nodrop() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the kernel lacks io_uring features EXT_ARG or NODROP",
        ));
    }
    Ok(())
}

/// Registers a sparse table of fixed descriptors: its size, or 0 if the
/// kernel refused (connections then use plain descriptors).
fn register_fixed_files(ring: &IoUring) -> u32 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the live local.
    let nofile = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur
    } else {
        0
    };
    let slots = u32::try_from(nofile)
        .unwrap_or(u32::MAX)
        .min(FIXED_FILES_MAX);
    if slots == 0 || ring.submitter().register_files_sparse(slots).is_err() {
        return 0;
    }
    slots
}

impl UringReactor {
    /// A reactor listening on `listeners`, and the waker for other workers.
    /// Fails when the kernel (or the container) does not offer what this
    /// backend needs; the caller may fall back to epoll.
    pub fn new(
        listeners: Vec<TcpListener>,
        options: ConnOptions,
    ) -> io::Result<(UringReactor, Waker)> {
        UringReactor::with_setup(listeners, options, Setup::Deferred)
    }

    fn with_setup(
        listeners: Vec<TcpListener>,
        options: ConnOptions,
        first: Setup,
    ) -> io::Result<(UringReactor, Waker)> {
        assert!(listeners.len() <= LISTENERS_MAX, "too many bind addresses");
        let (ring, setup) = build_ring(first)?;
        check_support(&ring)?;
        let fixed_files = register_fixed_files(&ring);
        let bufs = BufRing::new(&ring.submitter(), BUF_COUNT, BUF_SIZE_BYTES, BUF_GROUP)?;
        let wake = Arc::new(EventFd::new()?);
        let mut reactor = UringReactor {
            ring,
            bufs: Some(bufs),
            listeners: Vec::new(),
            conns: Vec::new(),
            free: Vec::new(),
            starved: VecDeque::new(),
            ending: Vec::new(),
            overflow: VecDeque::new(),
            ops_in_flight: 0,
            wake: Arc::clone(&wake),
            fixed_files,
            setup,
            started: false,
            stopped: false,
            dropping: false,
            epoch: 0,
            cqes: Vec::with_capacity(CQ_ENTRIES as usize),
            options,
        };
        for listener in listeners {
            listener.set_nonblocking(true)?;
            reactor.listeners.push(Listener {
                socket: Some(listener),
                armed: false,
                retry_at: None,
            });
        }
        reactor.arm_wake();
        for index in 0..reactor.listeners.len() {
            reactor.arm_accept(index);
        }
        Ok((reactor, wake))
    }

    /// Why `new` failed, in words for the log: ENOMEM here is nearly always
    /// the locked-memory limit (the rings are pinned).
    pub fn explain(error: &io::Error) -> String {
        match error.raw_os_error() {
            Some(libc::ENOMEM) => format!(
                "{error}; the locked-memory limit (ulimit -l) may be too low: each worker pins about 64 KiB"
            ),
            Some(libc::EPERM) => format!("{error}; io_uring is disabled for this process (sysctl kernel.io_uring_disabled, seccomp or a container policy)"),
            _ => error.to_string(),
        }
    }

    /// The setup flags in use, for the log.
    pub fn setup_description(&self) -> &'static str {
        self.setup.describe()
    }

    fn bufs(&mut self) -> &mut BufRing {
        self.bufs
            .as_mut()
            .expect("the buffer ring lives until drop")
    }
}

// ---------------------------------------------------------------------------
// Submission
// ---------------------------------------------------------------------------

impl UringReactor {
    /// Queues one entry (counted in `ops_in_flight` until its last
    /// completion). A full queue is submitted and the push retried; if even
    /// that fails the entry waits in `overflow`, in order.
    fn push(&mut self, entry: squeue::Entry) {
        self.ops_in_flight += 1;
        if self.overflow.is_empty() && self.try_push(&entry) {
            return;
        }
        if self.overflow.is_empty()
            && self.started
            && self.ring.submit().is_ok()
            && self.try_push(&entry)
        {
            return;
        }
        self.overflow.push_back(entry);
    }

    fn try_push(&mut self, entry: &squeue::Entry) -> bool {
        // SAFETY: every entry this reactor builds points only at memory it
        // keeps alive until the entry's last completion is reaped: send
        // buffers stay in their Conn (freed in `finalize`, after `ops` is
        // zero), provided buffers in `bufs` (freed after `Drop` reaped
        // everything), and descriptors are closed only after the same.
        unsafe { self.ring.submission().push(entry).is_ok() }
    }

    /// Moves queued overflow entries into the submission queue.
    fn flush_overflow(&mut self) {
        while let Some(entry) = self.overflow.front() {
            let entry = entry.clone();
            if !self.try_push(&entry) {
                return;
            }
            self.overflow.pop_front();
        }
    }

    fn arm_wake(&mut self) {
        let fd = types::Fd(self.wake.0.as_raw_fd());
        let entry = opcode::PollAdd::new(fd, libc::POLLIN as u32)
            .multi(true)
            .build()
            .user_data(Token::new(Op::Wake, 0, 0).encode());
        self.push(entry);
    }

    fn arm_accept(&mut self, index: usize) {
        let Some(socket) = self.listeners[index].socket.as_ref() else {
            return;
        };
        let entry = opcode::AcceptMulti::new(types::Fd(socket.as_raw_fd()))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(Token::new(Op::Accept, index, 0).encode());
        self.listeners[index].armed = true;
        self.listeners[index].retry_at = None;
        self.push(entry);
    }

    fn arm_recv(&mut self, id: ConnId) {
        let conn = &mut self.conns[id];
        debug_assert!(conn.state == State::Open && conn.recv == RecvState::Idle);
        let group = BUF_GROUP;
        let entry = match conn.target {
            Target::Fixed(slot) => opcode::RecvMulti::new(types::Fixed(slot), group).build(),
            Target::Raw(fd) => opcode::RecvMulti::new(types::Fd(fd), group).build(),
        };
        let entry = entry.user_data(Token::new(Op::Recv, id, conn.generation).encode());
        conn.recv = RecvState::Armed;
        conn.ops += 1;
        self.push(entry);
    }

    /// Submits the unwritten rest of the connection's send buffer.
    fn push_send(&mut self, id: ConnId) {
        let conn = &mut self.conns[id];
        let rest = &conn.send_buf[conn.send_done..];
        debug_assert!(!rest.is_empty());
        let len = rest.len().min(SEND_CHUNK_BYTES_MAX) as u32;
        let entry = match conn.target {
            Target::Fixed(slot) => opcode::Send::new(types::Fixed(slot), rest.as_ptr(), len),
            Target::Raw(fd) => opcode::Send::new(types::Fd(fd), rest.as_ptr(), len),
        };
        let entry = entry
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(Token::new(Op::Send, id, conn.generation).encode());
        conn.sending = true;
        conn.ops += 1;
        self.push(entry);
    }

    /// Cancels one operation of a connection, named by its token.
    fn push_cancel_recv(&mut self, id: ConnId) {
        let conn = &mut self.conns[id];
        let target = Token::new(Op::Recv, id, conn.generation).encode();
        let entry = opcode::AsyncCancel2::new(types::CancelBuilder::user_data(target))
            .build()
            .user_data(Token::new(Op::Cancel, id, conn.generation).encode());
        conn.recv = RecvState::Cancelling;
        conn.ops += 1;
        self.push(entry);
    }

    /// Cancels every operation on a connection's socket.
    fn push_cancel_all(&mut self, id: ConnId) {
        let conn = &mut self.conns[id];
        let builder = match conn.target {
            Target::Fixed(slot) => types::CancelBuilder::fd(types::Fixed(slot)),
            Target::Raw(fd) => types::CancelBuilder::fd(types::Fd(fd)),
        };
        let entry = opcode::AsyncCancel2::new(builder.all())
            .build()
            .user_data(Token::new(Op::Cancel, id, conn.generation).encode());
        conn.ops += 1;
        self.push(entry);
    }
}

// ---------------------------------------------------------------------------
// Waiting and completions
// ---------------------------------------------------------------------------

impl UringReactor {
    /// Enables a ring created disabled: SINGLE_ISSUER binds the ring to the
    /// thread that enables it, which must be the worker's, not the one that
    /// created the reactor.
    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            if self.setup != Setup::Plain {
                self.ring.submitter().register_enable_rings()?;
            }
            self.started = true;
        }
        Ok(())
    }

    /// Submits what is queued and waits for a completion or the timeout.
    fn enter(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let submitter = self.ring.submitter();
        let result = match timeout {
            None => submitter.submit_and_wait(1),
            Some(timeout) => {
                let timespec = types::Timespec::from(timeout);
                let args = types::SubmitArgs::new().timespec(&timespec);
                submitter.submit_with_args(1, &args)
            }
        };
        match result {
            Ok(_) => Ok(()),
            // ETIME: the timeout passed. EINTR: a signal. EBUSY/EAGAIN: the
            // completion queue (or the kernel) is full; reaping frees it.
            Err(error)
                if matches!(
                    error.raw_os_error(),
                    Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN)
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    /// Re-arms what waited: failed accepts whose delay passed, and receives
    /// that ran out of buffers, as many as there are buffers for.
    fn rearm_waiting(&mut self, now: Instant) {
        for index in 0..self.listeners.len() {
            let listener = &self.listeners[index];
            if !self.stopped && !listener.armed && listener.retry_at.is_some_and(|at| at <= now) {
                self.arm_accept(index);
            }
        }
        let mut budget = self.bufs.as_ref().map_or(0, BufRing::available);
        while budget > 0 {
            let Some(id) = self.starved.pop_front() else {
                break;
            };
            let conn = &mut self.conns[id];
            if !conn.starved {
                continue;
            }
            conn.starved = false;
            if conn.state == State::Open
                && conn.recv == RecvState::Idle
                && !conn.eof
                && conn.held.len() < HELD_PER_CONN_MAX
            {
                self.arm_recv(id);
                budget -= 1;
            }
        }
    }

    /// The wait's timeout, shortened for a pending accept retry and zero
    /// when entries still wait for room in the submission queue.
    fn wait_timeout(&self, timeout: Option<Duration>, now: Instant) -> Option<Duration> {
        if !self.overflow.is_empty() {
            return Some(Duration::ZERO);
        }
        let retry = self
            .listeners
            .iter()
            .filter_map(|listener| listener.retry_at)
            .min()
            .map(|at| at.saturating_duration_since(now));
        match (timeout, retry) {
            (Some(timeout), Some(retry)) => Some(timeout.min(retry)),
            (None, retry) => retry,
            (timeout, None) => timeout,
        }
    }

    /// Handles every completion waiting in the queue.
    fn reap(&mut self, events: &mut Vec<Event>) {
        let mut handled = 0;
        while handled < CQES_PER_POLL_MAX {
            self.cqes.clear();
            self.cqes.extend(self.ring.completion());
            if self.cqes.is_empty() {
                return;
            }
            handled += self.cqes.len();
            let cqes = std::mem::take(&mut self.cqes);
            for cqe in &cqes {
                self.dispatch(cqe.user_data(), cqe.result(), cqe.flags(), events);
            }
            self.cqes = cqes;
        }
    }

    fn dispatch(&mut self, user_data: u64, res: i32, flags: u32, events: &mut Vec<Event>) {
        let more = cqueue::more(flags);
        if !more {
            debug_assert!(self.ops_in_flight > 0, "a completion nobody submitted");
            self.ops_in_flight = self.ops_in_flight.saturating_sub(1);
        }
        if let Some(bid) = cqueue::buffer_select(flags) {
            self.bufs().taken(bid);
        }
        let Some(token) = Token::decode(user_data) else {
            self.recycle_from(flags);
            return;
        };
        match token.op {
            Op::Accept => self.on_accept(token.index as usize, res, more, events),
            Op::Wake => self.on_wake(res, more),
            Op::Control => {}
            Op::Recv | Op::Send | Op::Cancel => {
                let id = token.index as usize;
                let current = self.conns.get(id).is_some_and(|conn| {
                    conn.state != State::Free && conn.generation == token.generation
                });
                if !current {
                    // A stale completion (cannot happen while every
                    // operation is reaped before its id is reused): give
                    // back its buffer and ignore it.
                    self.recycle_from(flags);
                    return;
                }
                match token.op {
                    Op::Recv => self.on_recv(id, res, flags, events),
                    Op::Send => self.on_send(id, res, events),
                    _ => self.finish_op(id),
                }
            }
        }
    }

    /// Gives back the buffer a completion carried, if any.
    fn recycle_from(&mut self, flags: u32) {
        if let Some(bid) = cqueue::buffer_select(flags) {
            self.bufs().recycle(bid);
        }
    }

    fn on_wake(&mut self, res: i32, more: bool) {
        if res > 0 {
            self.wake.reset();
        }
        if !more && !self.dropping {
            self.arm_wake();
        }
    }

    fn on_accept(&mut self, index: usize, res: i32, more: bool, events: &mut Vec<Event>) {
        if res >= 0 {
            // SAFETY: a successful accept's result is a new descriptor that
            // nothing else owns.
            let stream = TcpStream::from(unsafe { OwnedFd::from_raw_fd(res) });
            if !self.stopped {
                if let Some(event) = self.open_conn(stream) {
                    events.push(event);
                }
            }
        }
        if more {
            return;
        }
        let listener = &mut self.listeners[index];
        listener.armed = false;
        if self.stopped {
            listener.socket = None;
        } else if res >= 0 || res == -libc::ECONNABORTED {
            // A connection reset while it waited fails only itself.
            self.arm_accept(index);
        } else {
            // EMFILE and friends: the connection waits in the backlog;
            // retry after a pause rather than spin on the same error.
            listener.retry_at = Some(Instant::now() + ACCEPT_RETRY);
        }
    }

    fn on_recv(&mut self, id: ConnId, res: i32, flags: u32, events: &mut Vec<Event>) {
        let more = cqueue::more(flags);
        let bid = cqueue::buffer_select(flags);
        let epoch = self.epoch;
        let conn = &mut self.conns[id];
        if !more {
            conn.recv = RecvState::Idle;
        }
        let open = conn.state == State::Open;
        let mut readable = false;
        let mut recycle = None;
        match bid {
            Some(bid) if res > 0 && open => {
                conn.held.push_back((bid, res as u32));
                readable = true;
            }
            // Input for a closing connection: nobody will read it.
            Some(bid) => recycle = Some(bid),
            // Out of buffers (re-armed below or when buffers come back), or
            // cancelled by us: the input stays in the socket.
            None if res == -libc::ENOBUFS || res == -libc::ECANCELED => {}
            // End of stream, or the socket failed.
            None => {
                conn.eof = true;
                readable = true;
            }
        }
        if readable && open && conn.readable_epoch != epoch {
            conn.readable_epoch = epoch;
            events.push(Event::Readable { conn: id });
        }
        let over_cap = conn.recv == RecvState::Armed && conn.held.len() >= HELD_PER_CONN_MAX;
        if let Some(bid) = recycle {
            self.bufs().recycle(bid);
        }
        if more {
            if open && over_cap {
                self.push_cancel_recv(id);
            }
            return;
        }
        self.finish_op(id);
        if open {
            self.rearm_recv(id);
        }
    }

    /// Re-arms a connection's ended receive when it may take more input.
    fn rearm_recv(&mut self, id: ConnId) {
        let available = self.bufs.as_ref().map_or(0, BufRing::available);
        let conn = &mut self.conns[id];
        if conn.state != State::Open
            || conn.recv != RecvState::Idle
            || conn.eof
            || conn.starved
            || conn.held.len() >= HELD_PER_CONN_MAX
        {
            return;
        }
        if available == 0 {
            conn.starved = true;
            self.starved.push_back(id);
        } else {
            self.arm_recv(id);
        }
    }

    fn on_send(&mut self, id: ConnId, res: i32, events: &mut Vec<Event>) {
        let conn = &mut self.conns[id];
        conn.sending = false;
        if conn.state == State::Open {
            match res {
                written if written > 0 => {
                    conn.send_done += written as usize;
                    if conn.send_done < conn.send_buf.len() {
                        self.push_send(id);
                    } else {
                        if conn.send_buf.capacity() > SEND_BUF_KEEP_BYTES {
                            conn.send_buf = Vec::new();
                        }
                        conn.send_buf.clear();
                        conn.send_done = 0;
                        events.push(Event::Writable { conn: id });
                    }
                }
                error if error == -libc::EINTR || error == -libc::EAGAIN => self.push_send(id),
                error => {
                    // The worker learns of it from `send` after this event.
                    conn.send_error = Some(if error == 0 { libc::EPIPE } else { -error });
                    events.push(Event::Writable { conn: id });
                }
            }
        }
        self.finish_op(id);
    }

    /// One of a connection's operations is over; a closing connection is
    /// freed when it was the last.
    fn finish_op(&mut self, id: ConnId) {
        let conn = &mut self.conns[id];
        debug_assert!(
            conn.ops > 0,
            "connection {id}: more completions than operations"
        );
        conn.ops = conn.ops.saturating_sub(1);
        if conn.state == State::Closing && conn.ops == 0 {
            self.finalize(id);
        }
    }
}

// ---------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------

impl UringReactor {
    /// Sets up an accepted socket and arms its receive.
    fn open_conn(&mut self, stream: TcpStream) -> Option<Event> {
        let _ = stream.set_nodelay(true);
        if self.options.keepalive_s > 0 {
            let keepalive = socket2::TcpKeepalive::new()
                .with_time(Duration::from_secs(self.options.keepalive_s));
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        }
        // A connection reset before we got here has no peer: drop it.
        let peer: SocketAddr = stream.peer_addr().ok()?;
        let local: SocketAddr = stream.local_addr().ok()?;
        let id = self.free.pop().unwrap_or_else(|| {
            self.conns.push(Conn::free());
            self.conns.len() - 1
        });
        let raw = stream.as_raw_fd();
        let slot = u32::try_from(id)
            .ok()
            .filter(|&slot| slot < self.fixed_files);
        let target = match slot {
            Some(slot)
                if self
                    .ring
                    .submitter()
                    .register_files_update(slot, &[raw])
                    .is_ok() =>
            {
                Target::Fixed(slot)
            }
            _ => Target::Raw(raw),
        };
        let conn = &mut self.conns[id];
        debug_assert!(conn.state == State::Free && conn.ops == 0);
        conn.state = State::Open;
        conn.stream = Some(stream);
        conn.target = target;
        self.arm_recv(id);
        Some(Event::Accepted {
            conn: id,
            peer,
            local,
        })
    }

    /// Frees a closed connection whose operations have all been reaped:
    /// the socket, the send buffer, and the id (under a new generation).
    fn finalize(&mut self, id: ConnId) {
        let conn = &mut self.conns[id];
        debug_assert!(conn.state == State::Closing && conn.ops == 0 && conn.held.is_empty());
        if let Target::Fixed(slot) = conn.target {
            // -1 empties the slot; the socket closes with `stream` below.
            let _ = self.ring.submitter().register_files_update(slot, &[-1]);
        }
        let generation = conn.generation.wrapping_add(1) & GENERATION_MASK;
        let mut fresh = Conn::free();
        fresh.generation = generation;
        // Keep the (empty) queue's allocation for the next connection.
        fresh.held = std::mem::take(&mut conn.held);
        *conn = fresh;
        self.free.push(id);
    }

    fn open(&mut self, id: ConnId) -> Option<&mut Conn> {
        self.conns
            .get_mut(id)
            .filter(|conn| conn.state == State::Open)
    }
}

// ---------------------------------------------------------------------------
// The interface
// ---------------------------------------------------------------------------

impl Reactor for UringReactor {
    fn name(&self) -> &'static str {
        "io_uring"
    }

    fn poll(&mut self, timeout: Option<Duration>, events: &mut Vec<Event>) -> io::Result<()> {
        self.start()?;
        self.epoch += 1;
        let now = Instant::now();
        self.rearm_waiting(now);
        self.flush_overflow();
        let mut timeout = self.wait_timeout(timeout, now);
        let epoch = self.epoch;
        for id in std::mem::take(&mut self.ending) {
            if let Some(conn) = self.open(id) {
                conn.readable_epoch = epoch;
                events.push(Event::Readable { conn: id });
                timeout = Some(Duration::ZERO);
            }
        }
        self.enter(timeout)?;
        self.reap(events);
        Ok(())
    }

    fn recv(&mut self, id: ConnId, buf: &mut Vec<u8>, limit: usize) -> RecvStatus {
        let Some(conn) = self.conns.get_mut(id).filter(|c| c.state == State::Open) else {
            return RecvStatus::Closed;
        };
        let bufs = self
            .bufs
            .as_mut()
            .expect("the buffer ring lives until drop");
        let mut copied = 0;
        while copied < limit {
            let Some((bid, len)) = conn.held.pop_front() else {
                break;
            };
            buf.extend_from_slice(bufs.bytes(bid, len));
            bufs.recycle(bid);
            copied += len as usize;
        }
        if conn.held.is_empty() && conn.eof {
            if copied == 0 {
                return RecvStatus::Closed;
            }
            // As Redis does, answer the last requests before closing: the
            // worker writes their replies this turn and hears of the end
            // of stream next turn.
            self.ending.push(id);
            return RecvStatus::Open;
        }
        self.rearm_recv(id);
        RecvStatus::Open
    }

    fn send(&mut self, id: ConnId, out: &mut Vec<u8>) -> io::Result<()> {
        let Some(conn) = self.open(id) else {
            return Err(io::Error::from(io::ErrorKind::NotConnected));
        };
        if let Some(errno) = conn.send_error {
            return Err(io::Error::from_raw_os_error(errno));
        }
        if conn.sending || out.is_empty() {
            // What stays in `out` is handed over after the next Writable.
            return Ok(());
        }
        // Take the whole output; the worker keeps our old (empty) buffer
        // and its capacity.
        conn.send_buf.clear();
        std::mem::swap(&mut conn.send_buf, out);
        conn.send_done = 0;
        self.push_send(id);
        Ok(())
    }

    fn unsent(&self, id: ConnId) -> usize {
        self.conns
            .get(id)
            .filter(|conn| conn.state == State::Open && conn.sending)
            .map_or(0, |conn| conn.send_buf.len() - conn.send_done)
    }

    fn close(&mut self, id: ConnId) {
        let Some(conn) = self.open(id) else {
            return;
        };
        conn.state = State::Closing;
        conn.eof = false;
        let mut held = std::mem::take(&mut conn.held);
        let ops = conn.ops;
        for (bid, _) in held.drain(..) {
            self.bufs().recycle(bid);
        }
        // Keep the queue's allocation for the id's next connection.
        self.conns[id].held = held;
        if ops == 0 {
            self.finalize(id);
        } else {
            // A send already issued has put its bytes in the socket (it is
            // issued before this cancel); one still waiting for room is
            // cancelled with the receive.
            self.push_cancel_all(id);
        }
    }

    fn stop_accepting(&mut self) {
        self.stopped = true;
        for index in 0..self.listeners.len() {
            if self.listeners[index].armed {
                let target = Token::new(Op::Accept, index, 0).encode();
                let entry = opcode::AsyncCancel2::new(types::CancelBuilder::user_data(target))
                    .build()
                    .user_data(Token::new(Op::Control, index, 0).encode());
                self.push(entry);
            } else {
                self.listeners[index].socket = None;
                self.listeners[index].retry_at = None;
            }
        }
    }
}

impl UringReactor {
    /// Cancels every operation and reaps their completions, for up to
    /// `DRAIN_TIMEOUT`: whether nothing is left in flight.
    fn cancel_and_reap(&mut self) -> bool {
        self.stopped = true;
        self.dropping = true;
        for id in 0..self.conns.len() {
            self.close(id);
        }
        let entry = opcode::AsyncCancel2::new(types::CancelBuilder::any())
            .build()
            .user_data(Token::new(Op::Control, 0, 0).encode());
        self.push(entry);
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        let mut events = Vec::new();
        while self.ops_in_flight > 0 && Instant::now() < deadline {
            self.flush_overflow();
            if self.enter(Some(Duration::from_millis(10))).is_err() {
                break;
            }
            self.reap(&mut events);
            events.clear();
        }
        self.ops_in_flight == 0
    }
}

impl Drop for UringReactor {
    fn drop(&mut self) {
        if !self.started {
            // Nothing was ever submitted: the kernel holds no operation.
            return;
        }
        if !self.cancel_and_reap() {
            // The kernel may still write into receive buffers or read send
            // buffers: leak them rather than free memory it uses.
            eprintln!(
                "shoal-server: io_uring reactor dropped with {} operations in flight; leaking its buffers",
                self.ops_in_flight
            );
            if let Some(bufs) = self.bufs.take() {
                bufs.leak();
            }
            std::mem::forget(std::mem::take(&mut self.conns));
            return;
        }
        if let Some(bufs) = self.bufs.take() {
            let _ = self.ring.submitter().unregister_buf_ring(bufs.group());
        }
    }
}

#[cfg(test)]
mod tests;
