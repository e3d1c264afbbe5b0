#!/usr/bin/env python3
"""Memory of collections: shoal-server against redis-server, same data.

Loads one data set into each server through one pipelined raw-socket
connection, then reports Shoal's `used_memory_rss` (Shoal reports its process
RSS) against Redis's `used_memory` (what its allocator holds for data and
overhead, without fragmentation) and the ratio. Each server is started here
on a free port (`--threads 1` for Shoal, `--save ''` for Redis) and stopped
by its PID.

    python3 bench-harness/scripts/memory_collections.py --kind hash
    python3 bench-harness/scripts/memory_collections.py --kind list
    python3 bench-harness/scripts/memory_collections.py --kind zset
    python3 bench-harness/scripts/memory_collections.py --kind list --growth

--growth reports what the data added: each server first ECHOes a few MiB
(Shoal's io_uring receive ring, 2 MiB per worker, becomes resident as any
traffic passes through it), then its figure is read as the baseline.

Kinds (N is --count, 1,000,000 by default):
  hash  N hashes `hash:<i>` of --fields pairs `field:<j>` -> `value-<j>` (HSET);
        --random-text: random letters of the same lengths instead
  list  one list `list` of N elements `element:<i>` (RPUSH, --batch per command)
  zset  one sorted set `zset` of N members `member:<i>` with score i (ZADD)

Needs redis-server on PATH (or --redis) and a release build of shoal-server
(`cargo build --release`, or --shoal).
"""

import argparse
import os
import random
import signal
import socket
import string
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Seconds a server may take to answer PING after it starts.
START_TIMEOUT_S = 20
# Seconds to wait after loading, so that the allocator returns freed pages.
SETTLE_S = 2.0
# Commands written before their replies are read.
PIPELINE_COMMANDS = 1000


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def encode(*args):
    """One command in RESP."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Server:
    """A server process of our own on a free port, stopped by PID."""

    def __init__(self, name, argv_for_port):
        self.name = name
        self.port = free_port()
        self.process = subprocess.Popen(
            argv_for_port(self.port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.time() + START_TIMEOUT_S
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
                    conn.sendall(encode("PING"))
                    if conn.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.time() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"{name} did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def info_field(self, section, field):
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as conn:
            conn.sendall(encode("INFO", section))
            data = b""
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
                header, _, body = data.partition(b"\r\n")
                if header.startswith(b"$") and len(body) >= int(header[1:]) + 2:
                    break
        for line in data.decode().splitlines():
            if line.startswith(field + ":"):
                return int(line.split(":", 1)[1])
        raise RuntimeError(f"{self.name}: INFO {section} has no {field}")


def read_replies(conn, buffer, expected):
    """Reads `expected` one-line replies (integers); fails on an error reply."""
    lines = 0
    while lines < expected:
        chunk = conn.recv(1 << 20)
        if not chunk:
            raise RuntimeError("the server closed the connection while loading")
        if b"-" in chunk:
            for line in (buffer + chunk).split(b"\r\n"):
                if line.startswith(b"-"):
                    raise RuntimeError(f"the server replied {line.decode()!r}")
        lines += chunk.count(b"\r\n")
        buffer = chunk[chunk.rfind(b"\r\n") + 2:]
    return buffer


def load(port, commands):
    """Sends every command of the iterable, PIPELINE_COMMANDS at a time."""
    with socket.create_connection(("127.0.0.1", port), timeout=300) as conn:
        batch = []
        leftover = b""
        for command in commands:
            batch.append(command)
            if len(batch) == PIPELINE_COMMANDS:
                conn.sendall(b"".join(batch))
                leftover = read_replies(conn, leftover, len(batch))
                batch = []
        if batch:
            conn.sendall(b"".join(batch))
            read_replies(conn, leftover, len(batch))


def hash_commands(count, fields, random_text):
    """`HSET hash:<i> field:0 value-0 ... field:<fields-1> value-<fields-1>`;
    with `random_text`, fields and values of the same lengths made of random
    letters, so that no two entries share a prefix."""
    pairs = []
    for index in range(fields):
        pairs += [f"field:{index}", f"value-{index}"]
    generator = random.Random(7)
    letters = string.ascii_letters
    for index in range(count):
        if random_text:
            pairs = ["".join(generator.choices(letters, k=len(text))) for text in pairs]
            # Distinct fields: a repeated one would make a smaller hash.
            for slot in range(0, len(pairs), 2):
                pairs[slot] = f"{slot // 2}" + pairs[slot][1:]
        yield encode("HSET", f"hash:{index}", *pairs)


def list_commands(count, batch):
    """`RPUSH list element:<i> ...`, `batch` elements per command."""
    for start in range(0, count, batch):
        yield encode("RPUSH", "list", *(f"element:{i}" for i in range(start, min(count, start + batch))))


def zset_commands(count, batch):
    """`ZADD zset <i> member:<i> ...`, `batch` members per command."""
    for start in range(0, count, batch):
        args = []
        for i in range(start, min(count, start + batch)):
            args += [i, f"member:{i}"]
        yield encode("ZADD", "zset", *args)


def commands_for(args):
    if args.kind == "hash":
        return hash_commands(args.count, args.fields, args.random_text)
    if args.kind == "list":
        return list_commands(args.count, args.batch)
    return zset_commands(args.count, args.batch)


def describe(args):
    if args.kind == "hash":
        text = "random text" if args.random_text else "field:<j> value-<j>"
        return f"{args.count:,} hashes of {args.fields} fields, {text}"
    if args.kind == "list":
        return f"one list of {args.count:,} elements"
    return f"one sorted set of {args.count:,} members"


def warm_up(port):
    """ECHOes a few MiB that store nothing: Shoal's io_uring receive ring
    (2 MiB per worker) becomes resident as traffic passes through it,
    whatever the data, so it belongs in the baseline of a growth figure."""
    payload = "x" * (16 * 1024)
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        for _ in range(256):
            conn.sendall(encode("ECHO", payload))
            expected = len(payload) + len(str(len(payload))) + 5
            received = 0
            while received < expected:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("the server closed the connection while warming up")
                received += len(chunk)


def measure(name, argv_for_port, args, field):
    server = Server(name, argv_for_port)
    try:
        baseline = 0
        if args.growth:
            warm_up(server.port)
            time.sleep(SETTLE_S)
            baseline = server.info_field("memory", field)
        started = time.time()
        load(server.port, commands_for(args))
        loaded_s = time.time() - started
        time.sleep(SETTLE_S)
        used = server.info_field("memory", field)
        rss = server.info_field("memory", "used_memory_rss")
    finally:
        server.stop()
    print(f"{name}: loaded in {loaded_s:.1f} s, {field} {used / 1048576:.1f} MiB "
          f"(used_memory_rss {rss / 1048576:.1f} MiB, baseline {baseline / 1048576:.1f} MiB)",
          file=sys.stderr)
    return used - baseline


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=["hash", "list", "zset"], required=True)
    parser.add_argument("--count", type=int, default=1000000)
    parser.add_argument("--fields", type=int, default=10, help="pairs per hash (hash)")
    parser.add_argument("--random-text", action="store_true",
                        help="random letters instead of field:<j>/value-<j> (hash)")
    parser.add_argument("--batch", type=int, default=1000, help="elements per command (list, zset)")
    parser.add_argument("--growth", action="store_true",
                        help="report growth over each server's figure after warm-up traffic")
    parser.add_argument("--shoal", default=os.path.join(ROOT, "target", "release", "shoal-server"))
    parser.add_argument("--redis", default="redis-server")
    args = parser.parse_args()

    shoal = measure(
        "shoal",
        lambda port: [args.shoal, "--port", str(port), "--bind", "127.0.0.1", "--threads", "1",
                      "--save", "", "--appendonly", "no"],
        args,
        "used_memory_rss",
    )
    redis = measure(
        "redis",
        lambda port: [args.redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no"],
        args,
        "used_memory",
    )
    what = "growth of " if args.growth else ""
    print(f"| {describe(args)} | shoal {what}used_memory_rss | redis {what}used_memory | ratio |")
    print("| --- | --- | --- | --- |")
    print(f"| {args.kind} | {shoal / 1048576:.1f} MiB | {redis / 1048576:.1f} MiB | {shoal / redis:.2f} |")


if __name__ == "__main__":
    main()
