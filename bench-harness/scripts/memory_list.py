#!/usr/bin/env python3
"""Memory of one long list in shoal-server and in redis-server.

Both servers start empty on free ports (persistence off, Shoal with
--threads 1) and first get the same few MiB of ECHO traffic, which stores
nothing: Shoal's io_uring receive ring (2 MiB per worker) becomes resident
as traffic passes through it, whatever the data, so it belongs in the
baseline (--warmup-bytes 0 measures from a cold start). The script then
reads each one's baseline, RPUSHes ELEMENTS short
values (`element-0`, `element-1`, ...) into one key in pipelined batches over
a raw socket, checks LLEN, reads the memory again and stops both servers by
their PIDs. It reports the growth of Shoal's `used_memory_rss` (what the
process really holds, allocator overhead included) beside the growth of
Redis's `used_memory` (what Redis's allocator accounting says it asked
for, without fragmentation) and, for reference, Redis's RSS growth.

    cargo build --release
    python3 bench-harness/scripts/memory_list.py --shoal target/release/shoal-server

Needs redis-server (7.0) on the PATH.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Elements per RPUSH, and RPUSH commands written before their replies are read.
BATCH_ELEMENTS = 1000
PIPELINE_COMMANDS = 16
# Warm-up traffic per ECHO.
ECHO_PAYLOAD_BYTES = 16 * 1024
START_TIMEOUT_S = 20
STOP_TIMEOUT_S = 10


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class Connection:
    """A RESP2 connection reading simple replies (status, error, integer, bulk)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buffer = b""

    def _line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def reply(self):
        line = self._line()
        kind, body = line[:1], line[1:]
        if kind == b"-":
            raise RuntimeError(body.decode())
        if kind in (b"+", b":"):
            return body
        if kind == b"$":
            size = int(body)
            if size < 0:
                return None
            while len(self.buffer) < size + 2:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buffer += chunk
            data, self.buffer = self.buffer[:size], self.buffer[size + 2 :]
            return data
        raise RuntimeError(f"unexpected reply {line!r}")

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self.reply()

    def close(self):
        self.sock.close()


def info_field(conn, field):
    text = conn.call("INFO", "memory").decode()
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    raise RuntimeError(f"INFO memory has no {field}")


class Server:
    def __init__(self, name, argv, port):
        self.name, self.port = name, port
        self.process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.time() + START_TIMEOUT_S
        while True:
            try:
                conn = Connection(port)
                conn.call("PING")
                conn.close()
                return
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{name} did not start on port {port}")
                time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def fill_list(conn, key, elements, batch, pipeline):
    """RPUSH `element-0` ... into `key`, `batch` elements per command,
    `pipeline` commands per round trip."""
    next_element = 0
    while next_element < elements:
        wire = []
        for _ in range(pipeline):
            if next_element >= elements:
                break
            end = min(next_element + batch, elements)
            wire.append(encode("RPUSH", key, *(f"element-{n}" for n in range(next_element, end))))
            next_element = end
        conn.sock.sendall(b"".join(wire))
        for _ in wire:
            conn.reply()
    length = int(conn.call("LLEN", key))
    if length != elements:
        raise RuntimeError(f"LLEN {length}, expected {elements}")


def warm_up(conn, total_bytes):
    """Sends `total_bytes` of ECHO traffic, which leaves no data behind, so
    that buffers sized by traffic rather than by data (Shoal's io_uring
    receive ring: 512 buffers of 4 KiB per worker, resident once used) are
    part of the baseline."""
    payload = b"w" * ECHO_PAYLOAD_BYTES
    sent = 0
    while sent < total_bytes:
        wire = [encode("ECHO", payload) for _ in range(PIPELINE_COMMANDS)]
        conn.sock.sendall(b"".join(wire))
        for _ in wire:
            conn.reply()
        sent += PIPELINE_COMMANDS * ECHO_PAYLOAD_BYTES


def measure(server, fields, options):
    conn = Connection(server.port)
    warm_up(conn, options.warmup_bytes)
    time.sleep(options.settle_seconds)
    before = {field: info_field(conn, field) for field in fields}
    fill_list(conn, "biglist", options.elements, options.batch, options.pipeline)
    time.sleep(options.settle_seconds)
    after = {field: info_field(conn, field) for field in fields}
    encoding = conn.call("OBJECT", "ENCODING", "biglist").decode()
    conn.close()
    return {field: after[field] - before[field] for field in fields}, encoding


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoal", default=os.path.join(ROOT, "target", "release", "shoal-server"))
    parser.add_argument("--redis", default="redis-server")
    parser.add_argument("--elements", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=BATCH_ELEMENTS, help="elements per RPUSH")
    parser.add_argument("--pipeline", type=int, default=PIPELINE_COMMANDS, help="RPUSHes per round trip")
    parser.add_argument("--settle-seconds", type=float, default=0.5)
    parser.add_argument(
        "--warmup-bytes",
        type=int,
        default=4 << 20,
        help="ECHO traffic sent to each server before the baseline (0: none)",
    )
    parser.add_argument("--io-backend", default=None, help="Shoal's --io-backend (auto, uring, epoll)")
    options = parser.parse_args()
    if not os.path.exists(options.shoal):
        sys.exit(f"no shoal-server at {options.shoal}: build it with cargo build --release")

    results = {}
    port = free_port()
    redis = Server(
        "redis-server",
        [options.redis, "--port", str(port), "--save", "", "--appendonly", "no"],
        port,
    )
    try:
        results["redis"] = measure(redis, ["used_memory", "used_memory_rss"], options)
    finally:
        redis.stop()

    port = free_port()
    shoal = Server(
        "shoal-server",
        [options.shoal, "--port", str(port), "--threads", "1", "--save", "", "--appendonly", "no"]
        + (["--io-backend", options.io_backend] if options.io_backend else []),
        port,
    )
    try:
        results["shoal"] = measure(shoal, ["used_memory_rss"], options)
    finally:
        shoal.stop()

    (redis_delta, redis_encoding), (shoal_delta, shoal_encoding) = results["redis"], results["shoal"]
    per = lambda total: total / options.elements
    print(
        f"one list of {options.elements} elements (element-N), RPUSH in batches of {options.batch},"
        f" {options.pipeline} per round trip; baseline after {options.warmup_bytes} bytes of ECHO"
    )
    print(
        f"redis-server used_memory     +{redis_delta['used_memory']:>12,} B"
        f"  ({per(redis_delta['used_memory']):.2f} B/element, encoding {redis_encoding})"
    )
    print(
        f"redis-server used_memory_rss +{redis_delta['used_memory_rss']:>12,} B"
        f"  ({per(redis_delta['used_memory_rss']):.2f} B/element, for reference)"
    )
    print(
        f"shoal-server used_memory_rss +{shoal_delta['used_memory_rss']:>12,} B"
        f"  ({per(shoal_delta['used_memory_rss']):.2f} B/element, encoding {shoal_encoding})"
    )
    verdict = "within" if shoal_delta["used_memory_rss"] <= redis_delta["used_memory"] else "OVER"
    print(f"shoal RSS growth is {verdict} redis used_memory growth")
    return 0 if verdict == "within" else 1


if __name__ == "__main__":
    sys.exit(main())
