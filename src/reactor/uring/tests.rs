//! The io_uring reactor against real sockets on 127.0.0.1. Each test skips
//! (with a note) where the kernel or the container refuses io_uring.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use super::*;

/// How long a test waits for something the reactor should do at once.
const PATIENCE: Duration = Duration::from_secs(10);

/// A reactor on a fresh port, or `None` where io_uring is unavailable.
fn reactor() -> Option<(UringReactor, Waker, SocketAddr)> {
    reactor_with(Setup::Deferred)
}

fn reactor_with(setup: Setup) -> Option<(UringReactor, Waker, SocketAddr)> {
    // A deep backlog, so tests that open a thousand connections do not wait
    // for SYN retransmits.
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    socket.bind(&any.into()).expect("bind");
    socket.listen(4096).expect("listen");
    let listener: TcpListener = socket.into();
    let address = listener.local_addr().expect("local address");
    match UringReactor::with_setup(vec![listener], ConnOptions::default(), setup) {
        Ok((reactor, waker)) => Some((reactor, waker, address)),
        Err(error)
            if matches!(
                error.raw_os_error(),
                Some(libc::EPERM | libc::ENOSYS | libc::ENOMEM)
            ) || error.kind() == io::ErrorKind::Unsupported =>
        {
            eprintln!("skipped: io_uring is unavailable here: {error}");
            None
        }
        Err(error) => panic!("creating the io_uring reactor: {error}"),
    }
}

/// Polls until `found` picks something out of an event, collecting the
/// events seen on the way.
fn poll_for<T>(
    reactor: &mut UringReactor,
    seen: &mut Vec<Event>,
    mut found: impl FnMut(&Event) -> Option<T>,
) -> T {
    let deadline = Instant::now() + PATIENCE;
    let mut events = Vec::new();
    while Instant::now() < deadline {
        events.clear();
        reactor
            .poll(Some(Duration::from_millis(50)), &mut events)
            .expect("poll");
        seen.extend_from_slice(&events);
        if let Some(value) = events.iter().find_map(&mut found) {
            return value;
        }
    }
    panic!("the expected event did not come; saw {seen:?}");
}

/// Polls until `count` connections were accepted: their ids.
fn accept_n(reactor: &mut UringReactor, count: usize) -> Vec<ConnId> {
    let mut ids = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    let mut events = Vec::new();
    while ids.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} accepted",
            ids.len()
        );
        events.clear();
        reactor
            .poll(Some(Duration::from_millis(50)), &mut events)
            .expect("poll");
        ids.extend(events.iter().filter_map(|event| match *event {
            Event::Accepted { conn, .. } => Some(conn),
            _ => None,
        }));
    }
    assert_eq!(ids.len(), count, "more connections than expected");
    ids
}

fn accept(reactor: &mut UringReactor) -> ConnId {
    accept_n(reactor, 1)[0]
}

/// Receives until `want` bytes or Closed, polling for Readable between.
fn recv_exactly(reactor: &mut UringReactor, conn: ConnId, want: usize) -> (Vec<u8>, RecvStatus) {
    let mut buf = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    let mut events = Vec::new();
    loop {
        let status = reactor.recv(conn, &mut buf, 256 * 1024);
        if buf.len() >= want || status == RecvStatus::Closed {
            return (buf, status);
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {want} bytes came",
            buf.len()
        );
        events.clear();
        reactor
            .poll(Some(Duration::from_millis(20)), &mut events)
            .expect("poll");
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn tokens_round_trip_and_reject_unknown_ops() {
    for op in [
        Op::Accept,
        Op::Wake,
        Op::Recv,
        Op::Send,
        Op::Cancel,
        Op::Control,
    ] {
        for (index, generation) in [(0, 0), (7, 1), (u32::MAX as usize, GENERATION_MASK)] {
            let token = Token::new(op, index, generation);
            assert_eq!(Token::decode(token.encode()), Some(token));
        }
    }
    // The generation wraps inside its bits rather than spilling into the op.
    let wrapped = Token::new(Op::Recv, 3, GENERATION_MASK + 2);
    assert_eq!(wrapped.generation, 1);
    assert_eq!(
        Token::decode(wrapped.encode()).map(|token| token.op),
        Some(Op::Recv)
    );
    assert_eq!(Token::decode(0), None);
    assert_eq!(Token::decode(0xff << 56), None);
}

#[test]
fn a_wake_before_the_wait_ends_it_at_once_and_only_once() {
    let Some((mut reactor, waker, _)) = reactor() else {
        return;
    };
    let mut events = Vec::new();
    reactor
        .poll(Some(Duration::ZERO), &mut events)
        .expect("poll");
    waker.wake();
    let started = Instant::now();
    reactor.poll(Some(PATIENCE), &mut events).expect("poll");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the wake was lost"
    );
    // Consumed: the next wait runs its full timeout.
    let started = Instant::now();
    reactor
        .poll(Some(Duration::from_millis(200)), &mut events)
        .expect("poll");
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "a stale wake ended the wait"
    );
    assert!(events.is_empty(), "a wake-up is not an event: {events:?}");
}

#[test]
fn a_wake_from_another_thread_ends_a_blocked_wait() {
    let Some((mut reactor, waker, _)) = reactor() else {
        return;
    };
    let waking = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        waker.wake();
    });
    let started = Instant::now();
    reactor.poll(None, &mut Vec::new()).expect("poll");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the wake did not end the wait"
    );
    waking.join().expect("the waking thread");
}

#[test]
fn bytes_go_both_ways_and_writable_follows_the_send() {
    let Some((mut reactor, _waker, address)) = reactor() else {
        return;
    };
    let mut client = TcpStream::connect(address).expect("connect");
    let conn = accept(&mut reactor);
    client.write_all(b"PING\r\n").expect("write");
    let (input, status) = recv_exactly(&mut reactor, conn, 6);
    assert_eq!(
        (input.as_slice(), status),
        (&b"PING\r\n"[..], RecvStatus::Open)
    );

    let mut out = b"+PONG\r\n".to_vec();
    reactor.send(conn, &mut out).expect("send");
    assert!(out.is_empty(), "send takes the whole output");
    assert_eq!(reactor.unsent(conn), 7);
    let mut more = b"+MORE\r\n".to_vec();
    reactor
        .send(conn, &mut more)
        .expect("send while one is in flight");
    assert_eq!(more, b"+MORE\r\n", "a second send waits for Writable");
    poll_for(&mut reactor, &mut Vec::new(), |event| {
        (*event == Event::Writable { conn }).then_some(())
    });
    assert_eq!(reactor.unsent(conn), 0);
    reactor.send(conn, &mut more).expect("send after Writable");
    // Submissions go to the kernel with the next wait.
    reactor
        .poll(Some(Duration::ZERO), &mut Vec::new())
        .expect("poll");
    let mut reply = [0u8; 14];
    client.read_exact(&mut reply).expect("read");
    assert_eq!(&reply, b"+PONG\r\n+MORE\r\n");
}

#[test]
fn data_then_end_of_stream_gives_the_data_then_readable_then_closed() {
    let Some((mut reactor, _waker, address)) = reactor() else {
        return;
    };
    let mut client = TcpStream::connect(address).expect("connect");
    let conn = accept(&mut reactor);
    client.write_all(b"PING\r\n").expect("write");
    client.shutdown(Shutdown::Write).expect("half-close");
    // Wait until the end of stream is in too, then read.
    let deadline = Instant::now() + PATIENCE;
    while !reactor.conns[conn].eof {
        assert!(Instant::now() < deadline, "the end of stream never came");
        reactor
            .poll(Some(Duration::from_millis(20)), &mut Vec::new())
            .expect("poll");
    }
    let mut input = Vec::new();
    assert_eq!(reactor.recv(conn, &mut input, 1024), RecvStatus::Open);
    assert_eq!(input, b"PING\r\n");
    // The reply to the last request goes out before the close is reported.
    reactor
        .send(conn, &mut b"+PONG\r\n".to_vec())
        .expect("send");
    let mut events = Vec::new();
    let started = Instant::now();
    reactor.poll(Some(PATIENCE), &mut events).expect("poll");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the pending close waited"
    );
    assert!(events.contains(&Event::Readable { conn }), "{events:?}");
    assert_eq!(reactor.recv(conn, &mut input, 1024), RecvStatus::Closed);
    reactor.close(conn);
    while reactor.conns[conn].state != State::Free {
        assert!(
            Instant::now() < deadline,
            "the closed connection was never freed"
        );
        reactor
            .poll(Some(Duration::from_millis(20)), &mut Vec::new())
            .expect("poll");
    }
    let mut reply = Vec::new();
    client.read_to_end(&mut reply).expect("read");
    assert_eq!(reply, b"+PONG\r\n");
}

#[test]
fn a_large_output_arrives_whole_and_in_order() {
    let Some((mut reactor, _waker, address)) = reactor() else {
        return;
    };
    const LEN: usize = 24 << 20;
    let expected = pattern(LEN, 7);
    let reader = thread::spawn(move || {
        let mut client = TcpStream::connect(address).expect("connect");
        let mut got = Vec::with_capacity(LEN);
        let mut chunk = vec![0u8; 64 * 1024];
        while got.len() < LEN {
            let read = client.read(&mut chunk).expect("read");
            assert!(read > 0, "closed after {} bytes", got.len());
            got.extend_from_slice(&chunk[..read]);
            // Read slowly at first so the socket fills and sends come back short.
            if got.len() < LEN / 8 {
                thread::sleep(Duration::from_micros(200));
            }
        }
        got
    });
    let conn = accept(&mut reactor);
    let mut out = expected.clone();
    reactor.send(conn, &mut out).expect("send");
    poll_for(&mut reactor, &mut Vec::new(), |event| {
        (*event == Event::Writable { conn }).then_some(())
    });
    assert_eq!(reactor.unsent(conn), 0);
    let got = reader.join().expect("the reader");
    assert!(got == expected, "the bytes differ");
}

#[test]
fn input_past_the_buffer_ring_arrives_whole_from_many_connections() {
    let Some((mut reactor, _waker, address)) = reactor() else {
        return;
    };
    // 24 connections × 512 KiB: six times the ring, and each past the
    // per-connection cap, so receives are cancelled, starve and re-arm.
    const CONNS: usize = 24;
    const LEN: usize = 512 * 1024;
    let writers: Vec<_> = (0..CONNS)
        .map(|seed| {
            thread::spawn(move || {
                let mut client = TcpStream::connect(address).expect("connect");
                client.write_all(&pattern(LEN, seed as u8)).expect("write");
                client.shutdown(Shutdown::Write).expect("half-close");
                // Keep the socket open until the server has read it all.
                let mut rest = Vec::new();
                let _ = client.read_to_end(&mut rest);
            })
        })
        .collect();
    let ids = accept_n(&mut reactor, CONNS);
    // Let input pile up unread: held buffers stay bounded per connection.
    for _ in 0..20 {
        reactor
            .poll(Some(Duration::from_millis(10)), &mut Vec::new())
            .expect("poll");
        for &id in &ids {
            assert!(reactor.conns[id].held.len() <= HELD_PER_CONN_MAX + BUF_COUNT as usize / 4);
        }
    }
    let mut inputs = vec![Vec::new(); CONNS];
    let mut closed = [false; CONNS];
    let deadline = Instant::now() + PATIENCE;
    while closed.iter().any(|closed| !closed) {
        assert!(Instant::now() < deadline, "input stopped coming");
        for (slot, &id) in ids.iter().enumerate() {
            if !closed[slot] && reactor.recv(id, &mut inputs[slot], 64 * 1024) == RecvStatus::Closed
            {
                closed[slot] = true;
            }
        }
        reactor
            .poll(Some(Duration::from_millis(5)), &mut Vec::new())
            .expect("poll");
    }
    // Which client got which id depends on accept order: match by content.
    let mut seeds: Vec<u8> = inputs
        .iter()
        .map(|input| {
            assert_eq!(input.len(), LEN);
            let seed = input[0];
            assert!(
                *input == pattern(LEN, seed),
                "input for seed {seed} differs"
            );
            seed
        })
        .collect();
    seeds.sort_unstable();
    assert_eq!(seeds, (0..CONNS as u8).collect::<Vec<_>>());
    for &id in &ids {
        reactor.close(id);
    }
    for writer in writers {
        writer.join().expect("a writer");
    }
    assert_eq!(
        reactor.bufs.as_ref().map(BufRing::available),
        Some(BUF_COUNT as usize)
    );
}

#[test]
fn closing_with_a_send_stuck_cancels_it_then_reuses_the_id() {
    let Some((mut reactor, _waker, address)) = reactor() else {
        return;
    };
    // A client that never reads: the send cannot finish.
    let _silent = TcpStream::connect(address).expect("connect");
    let conn = accept(&mut reactor);
    let mut out = vec![b'x'; 32 << 20];
    reactor.send(conn, &mut out).expect("send");
    for _ in 0..5 {
        reactor
            .poll(Some(Duration::from_millis(10)), &mut Vec::new())
            .expect("poll");
    }
    assert!(reactor.unsent(conn) > 0, "the socket took 32 MiB unread");
    let generation = reactor.conns[conn].generation;
    reactor.close(conn);
    assert!(reactor.unsent(conn) == 0 && reactor.send(conn, &mut vec![1]).is_err());
    let deadline = Instant::now() + PATIENCE;
    while reactor.conns[conn].state != State::Free {
        assert!(
            Instant::now() < deadline,
            "the cancelled send was never reaped"
        );
        reactor
            .poll(Some(Duration::from_millis(10)), &mut Vec::new())
            .expect("poll");
    }
    let _next = TcpStream::connect(address).expect("connect");
    let reused = accept(&mut reactor);
    assert_eq!(reused, conn, "ids stay small and dense");
    assert_ne!(reactor.conns[reused].generation, generation);
}

#[test]
fn a_stale_completion_for_a_reused_id_is_ignored() {
    let Some((mut reactor, _waker, address)) = reactor() else {
        return;
    };
    let _client = TcpStream::connect(address).expect("connect");
    let conn = accept(&mut reactor);
    let current = reactor.conns[conn].generation;
    let stale = Token::new(Op::Send, conn, current.wrapping_sub(1)).encode();
    let ops = reactor.conns[conn].ops;
    let mut events = Vec::new();
    reactor.ops_in_flight += 1; // as if the stale send had been submitted
    reactor.dispatch(stale, 100, 0, &mut events);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(reactor.conns[conn].ops, ops);
    assert_eq!(reactor.unsent(conn), 0);
}

#[test]
fn stopping_accepts_closes_the_listener() {
    let Some((mut reactor, _waker, address)) = reactor() else {
        return;
    };
    reactor.stop_accepting();
    let deadline = Instant::now() + PATIENCE;
    while reactor.listeners[0].socket.is_some() {
        assert!(Instant::now() < deadline, "the accept was never cancelled");
        reactor
            .poll(Some(Duration::from_millis(10)), &mut Vec::new())
            .expect("poll");
    }
    assert!(
        TcpStream::connect(address).is_err(),
        "nothing listens any more"
    );
}

#[test]
fn dropping_reaps_every_operation_first() {
    let Some((mut reactor, _waker, address)) = reactor() else {
        return;
    };
    let _clients: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(address).expect("connect"))
        .collect();
    let ids = accept_n(&mut reactor, 4);
    for &id in &ids {
        reactor.send(id, &mut vec![b'y'; 8 << 20]).expect("send");
    }
    reactor
        .poll(Some(Duration::from_millis(10)), &mut Vec::new())
        .expect("poll");
    assert!(reactor.ops_in_flight > 2);
    assert!(
        reactor.cancel_and_reap(),
        "{} operations left",
        reactor.ops_in_flight
    );
    assert!(reactor.conns.iter().all(|conn| conn.state == State::Free));
}

#[test]
fn a_connection_not_read_holds_a_bounded_share_of_the_buffers() {
    let Some((mut reactor, _waker, address)) = reactor() else {
        return;
    };
    const LEN: usize = 4 << 20;
    let writer = thread::spawn(move || {
        let mut client = TcpStream::connect(address).expect("connect");
        client.write_all(&pattern(LEN, 3)).expect("write");
        client.shutdown(Shutdown::Write).expect("half-close");
        let mut rest = Vec::new();
        let _ = client.read_to_end(&mut rest);
    });
    let conn = accept(&mut reactor);
    let mut cancelled = false;
    for _ in 0..50 {
        reactor
            .poll(Some(Duration::from_millis(5)), &mut Vec::new())
            .expect("poll");
        let held = reactor.conns[conn].held.len();
        assert!(held <= 2 * HELD_PER_CONN_MAX, "{held} buffers held");
        cancelled |= reactor.conns[conn].recv != RecvState::Armed;
    }
    assert!(cancelled, "the receive kept running past the cap");
    // The rest waited in the socket and comes once the worker reads.
    let (input, status) = recv_exactly(&mut reactor, conn, LEN + 1);
    assert_eq!(status, RecvStatus::Closed);
    assert!(
        input == pattern(LEN, 3),
        "the input differs ({} bytes)",
        input.len()
    );
    reactor.close(conn);
    writer.join().expect("the writer");
}

#[test]
fn the_fallback_setups_serve_and_wake_too() {
    for setup in [Setup::Coop, Setup::Plain] {
        let Some((mut reactor, waker, address)) = reactor_with(setup) else {
            return;
        };
        assert_eq!(reactor.setup, setup, "this kernel takes every setup");
        let mut client = TcpStream::connect(address).expect("connect");
        let conn = accept(&mut reactor);
        client.write_all(b"PING\r\n").expect("write");
        let (input, _) = recv_exactly(&mut reactor, conn, 6);
        assert_eq!(input, b"PING\r\n");
        let payload = pattern(4 << 20, 9);
        let reader = thread::spawn(move || {
            let mut got = vec![0u8; 4 << 20];
            client.read_exact(&mut got).expect("read");
            got
        });
        reactor.send(conn, &mut payload.clone()).expect("send");
        poll_for(&mut reactor, &mut Vec::new(), |event| {
            (*event == Event::Writable { conn }).then_some(())
        });
        assert!(reader.join().expect("the reader") == payload);
        waker.wake();
        let started = Instant::now();
        reactor.poll(Some(PATIENCE), &mut Vec::new()).expect("poll");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{setup:?}: the wake was lost"
        );
        assert!(reactor.cancel_and_reap(), "{setup:?}: operations left");
    }
}

#[test]
fn connections_past_the_fixed_table_use_plain_descriptors() {
    let Some((mut reactor, _waker, address)) = reactor() else {
        return;
    };
    assert!(
        reactor.fixed_files > 0,
        "this kernel registers a fixed table"
    );
    reactor.fixed_files = 0;
    let mut client = TcpStream::connect(address).expect("connect");
    let conn = accept(&mut reactor);
    assert!(matches!(reactor.conns[conn].target, Target::Raw(_)));
    client.write_all(b"ECHO\r\n").expect("write");
    let (input, _) = recv_exactly(&mut reactor, conn, 6);
    assert_eq!(input, b"ECHO\r\n");
    reactor.send(conn, &mut input.clone()).expect("send");
    poll_for(&mut reactor, &mut Vec::new(), |event| {
        (*event == Event::Writable { conn }).then_some(())
    });
    let mut reply = [0u8; 6];
    client.read_exact(&mut reply).expect("read");
    assert_eq!(&reply, b"ECHO\r\n");
    reactor.close(conn);
    let deadline = Instant::now() + PATIENCE;
    while reactor.conns[conn].state != State::Free {
        assert!(Instant::now() < deadline, "never freed");
        reactor
            .poll(Some(Duration::from_millis(10)), &mut Vec::new())
            .expect("poll");
    }
    let mut rest = Vec::new();
    assert_eq!(client.read_to_end(&mut rest).expect("read to the close"), 0);
}

#[test]
fn more_connections_than_queue_entries_and_buffers_are_all_received() {
    let Some((mut reactor, _waker, address)) = reactor() else {
        return;
    };
    // More connections than the completion queue has entries and more
    // than twice the buffer ring, all sending at once: receives past the
    // ring end with ENOBUFS and must be re-armed as buffers come back.
    let count = CQ_ENTRIES as usize + 200;
    // Connect from another thread: past the listen backlog, connects wait
    // for the reactor to accept.
    let connecting = thread::spawn(move || {
        (0..count)
            .map(|_| TcpStream::connect(address).expect("connect"))
            .collect::<Vec<TcpStream>>()
    });
    let ids = accept_n(&mut reactor, count);
    let mut clients = connecting.join().expect("the connecting thread");
    reactor
        .poll(Some(Duration::ZERO), &mut Vec::new())
        .expect("poll");
    for (index, client) in clients.iter_mut().enumerate() {
        client
            .write_all(format!("{index:08}").as_bytes())
            .expect("write");
    }
    let mut inputs = vec![Vec::new(); count];
    let deadline = Instant::now() + PATIENCE;
    while inputs.iter().any(|input| input.len() < 8) {
        assert!(Instant::now() < deadline, "input stopped coming");
        for (slot, &id) in ids.iter().enumerate() {
            assert_eq!(reactor.recv(id, &mut inputs[slot], 1024), RecvStatus::Open);
        }
        reactor
            .poll(Some(Duration::from_millis(5)), &mut Vec::new())
            .expect("poll");
    }
    let mut seen = vec![false; count];
    for input in &inputs {
        let index: usize = std::str::from_utf8(input)
            .expect("ascii")
            .parse()
            .expect("a number");
        assert!(!seen[index], "client {index} twice");
        seen[index] = true;
    }
    assert!(seen.iter().all(|&seen| seen));
    drop(clients);
    assert!(
        reactor.cancel_and_reap(),
        "{} operations left",
        reactor.ops_in_flight
    );
}
