#!/usr/bin/env python3
"""Memory of one large sorted set in shoal-server and in redis-server.

Loads one sorted set of N members (`ZADD z i member:i`, i = 0..N-1) into each
server through a raw socket, pipelined in batches, and reports what the set
costs each of them:

- shoal-server (`--threads 1`, release build): `used_memory_rss` after the
  load minus `used_memory_rss` of the same server empty;
- redis-server: `used_memory` after minus `used_memory` empty (what its
  allocator holds for data, the figure Redis itself reports).

Both servers are started on free ports by this script and stopped by PID.

    cargo build --release
    python3 bench-harness/scripts/memory_zset.py --members 1000000

Needs Debian's redis-server on the PATH.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Commands per pipelined batch: bounded so neither side buffers much.
BATCH_COMMANDS = 10_000
START_TIMEOUT_S = 20


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def encode(*args):
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Connection:
    """A RESP2 connection that reads simple replies (lines and bulks)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buffer = b""

    def _line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def reply(self):
        line = self._line()
        if line.startswith(b"-"):
            raise RuntimeError(line.decode())
        if line.startswith(b"$"):
            size = int(line[1:])
            while len(self.buffer) < size + 2:
                self.buffer += self.sock.recv(1 << 20)
            body, self.buffer = self.buffer[:size], self.buffer[size + 2 :]
            return body
        return line[1:]

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self.reply()

    def pipeline(self, commands):
        self.sock.sendall(b"".join(encode(*command) for command in commands))
        for _ in commands:
            self.reply()


def info_field(conn, field):
    for line in conn.call("INFO", "memory").decode().splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    raise RuntimeError(f"INFO memory has no {field}")


class Server:
    def __init__(self, argv, port):
        self.port = port
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + START_TIMEOUT_S
        while True:
            try:
                self.conn = Connection(port)
                self.conn.call("PING")
                return
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{argv[0]} did not start on port {port}")
                time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def load(conn, members):
    for start in range(0, members, BATCH_COMMANDS):
        end = min(start + BATCH_COMMANDS, members)
        conn.pipeline([("ZADD", "z", i, f"member:{i}") for i in range(start, end)])
    count = int(conn.call("ZCARD", "z"))
    assert count == members, f"ZCARD {count}, expected {members}"
    return conn.call("OBJECT", "ENCODING", "z").decode()


def measure(argv, port, field, members):
    server = Server(argv, port)
    try:
        time.sleep(0.5)
        empty = info_field(server.conn, field)
        started = time.time()
        encoding = load(server.conn, members)
        seconds = time.time() - started
        time.sleep(0.5)
        loaded = info_field(server.conn, field)
        return loaded - empty, encoding, seconds
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--shoal", default=os.path.join(ROOT, "target", "release", "shoal-server"))
    args = parser.parse_args()
    if not os.path.exists(args.shoal):
        sys.exit(f"no shoal-server at {args.shoal}: cargo build --release, or pass --shoal")

    port = free_port()
    shoal = measure(
        [args.shoal, "--port", str(port), "--bind", "127.0.0.1", "--threads", "1", "--save", "", "--appendonly", "no"],
        port,
        "used_memory_rss",
        args.members,
    )
    port = free_port()
    redis = measure(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        port,
        "used_memory",
        args.members,
    )
    print(f"| one sorted set of {args.members} members | bytes | bytes/member | encoding | load s |")
    print("|---|---|---|---|---|")
    for name, figure, (delta, encoding, seconds) in [
        ("shoal-server", "used_memory_rss delta", shoal),
        ("redis-server", "used_memory delta", redis),
    ]:
        print(
            f"| {name} ({figure}) | {delta} ({delta / 1048576:.1f} MiB) | {delta / args.members:.1f} "
            f"| {encoding} | {seconds:.1f} |"
        )
    print(f"shoal / redis: {shoal[0] / redis[0]:.2f}")


if __name__ == "__main__":
    main()
