#!/usr/bin/env python3
"""Side-by-side benchmark of shoal-server and redis-server with redis-benchmark.

Each server runs pinned to one CPU and the load generator to another, each in
its own session with autogroup nice -20 (so other work on a shared machine
cannot take their CPU); servers alternate round by round and medians are
reported. Besides ops/s and latency percentiles the script reports the
server's CPU time per operation: its threads' time on a CPU from
/proc/PID/task/*/schedstat (utime + stime from /proc/PID/stat where that is
missing) over the run, divided by the growth of total_commands_processed. On a 2-core machine
the load generator saturates its core first at high pipeline depth, so CPU
per operation is the figure that shows the server's own cost.

    python3 bench-harness/scripts/compare_redis.py --rounds 3 --requests 400000
    python3 bench-harness/scripts/compare_redis.py --pipelines 16 --tests lpop --fill lpush

--fill runs redis-benchmark tests first on each fresh server, unmeasured, so
that a measured test finds what an earlier test of one redis-benchmark
invocation would have left (LPOP pops what LPUSH pushed; alone it pops a
missing key).

Needs redis-server and redis-benchmark (Debian's redis-server, redis-tools)
and a release build of shoal-server (cargo build --release).
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def isolated(cpu, argv):
    """argv run pinned to `cpu`, in its own session, autogroup nice -20."""
    script = 'echo -20 > /proc/self/autogroup 2>/dev/null; exec taskset -c "$0" "$@"'
    return ["bash", "-c", script, str(cpu)] + argv


def redis_call(port, *args):
    """One command over a raw socket; returns the reply's text."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        request = f"*{len(args)}\r\n" + "".join(f"${len(str(a))}\r\n{a}\r\n" for a in args)
        conn.sendall(request.encode())
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
            if data.startswith(b"$"):
                header, _, rest = data.partition(b"\r\n")
                if len(rest) >= int(header[1:]) + 2:
                    return rest[: int(header[1:])].decode()
            elif data.endswith(b"\r\n"):
                return data.decode()
    return data.decode()


def info_field(port, section, field):
    for line in redis_call(port, "INFO", section).splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    raise RuntimeError(f"INFO {section} has no {field}")


def cpu_seconds(pid):
    """The process's CPU time so far (user + system).

    Summed over its threads' /proc schedstat (nanoseconds on a CPU), where the
    kernel has it: /proc/PID/stat counts utime and stime in clock ticks of
    10 ms, too coarse for runs of a few hundred milliseconds (300,000 LPOPs
    take 15 to 20 ticks). Falls back to stat's utime + stime.
    """
    try:
        total_ns = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as schedstat:
                total_ns += int(schedstat.read().split()[0])
        return total_ns / 1e9
    except (OSError, ValueError, IndexError):
        pass
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the name.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Server:
    def __init__(self, name, argv, port, cpu):
        self.name, self.port = name, port
        self.process = subprocess.Popen(
            isolated(cpu, argv), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.time() + 20
        while True:
            try:
                redis_call(port, "PING")
                break
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{name} did not start")
                time.sleep(0.05)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_benchmark(server, cpu, tests, pipeline, clients, requests, data_size, fill=None, random_keys=1000000):
    def benchmark_argv(selected):
        argv = [
            "redis-benchmark", "-p", str(server.port), "-t", selected, "-c", str(clients), "-n", str(requests),
            "-d", str(data_size), "-P", str(pipeline), "--csv",
        ]
        # Without -r redis-benchmark uses one key and one member per test.
        return argv + (["-r", str(random_keys)] if random_keys else [])

    if fill:
        # Not measured: what the measured tests then work on (LPOP pops what
        # LPUSH pushed, as when redis-benchmark runs both in one invocation).
        subprocess.run(isolated(cpu, benchmark_argv(fill)), capture_output=True, timeout=600, start_new_session=True)
    before_cpu = cpu_seconds(server.process.pid)
    before_commands = int(info_field(server.port, "stats", "total_commands_processed"))
    argv = benchmark_argv(tests)
    output = subprocess.run(isolated(cpu, argv), capture_output=True, text=True, timeout=600, start_new_session=True)
    after_cpu = cpu_seconds(server.process.pid)
    after_commands = int(info_field(server.port, "stats", "total_commands_processed"))
    rows = {}
    for line in output.stdout.splitlines():
        cells = [cell.strip('"') for cell in line.split(",")]
        if cells[0] in ("test", "") or len(cells) < 7:
            continue
        rows[cells[0]] = {"rps": float(cells[1]), "p50": float(cells[4]), "p99": float(cells[6])}
    commands = max(after_commands - before_commands, 1)
    cpu_us_per_op = (after_cpu - before_cpu) * 1e6 / commands
    return rows, cpu_us_per_op


def fill_and_measure_memory(server, keys, value_size):
    """SET key:N <value> for N < keys through one pipelined connection; RSS after."""
    value = "x" * value_size
    batch = 10000
    with socket.create_connection(("127.0.0.1", server.port), timeout=120) as conn:
        for start in range(0, keys, batch):
            chunk = "".join(
                f"*3\r\n$3\r\nSET\r\n${len(f'key:{n}')}\r\nkey:{n}\r\n${value_size}\r\n{value}\r\n"
                for n in range(start, min(start + batch, keys))
            )
            conn.sendall(chunk.encode())
            expected = min(batch, keys - start) * 5
            received = 0
            while received < expected:
                received += len(conn.recv(1 << 20))
    time.sleep(0.5)
    return int(info_field(server.port, "memory", "used_memory_rss"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--data-size", type=int, default=64)
    parser.add_argument("--pipelines", default="1,16")
    parser.add_argument("--tests", default="set,get")
    parser.add_argument(
        "--fill",
        default=None,
        help="redis-benchmark tests run first, unmeasured, on each fresh server (e.g. lpush before lpop)",
    )
    parser.add_argument(
        "--random-keys",
        type=int,
        default=1000000,
        help="redis-benchmark's -r (keys and members drawn from this many); 0 leaves -r out, as its default",
    )
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--shoal", default=os.path.join(ROOT, "target", "release", "shoal-server"))
    parser.add_argument("--shoal-args", default="--threads 1")
    parser.add_argument("--memory-keys", type=int, default=1000000)
    args = parser.parse_args()

    servers = {
        "shoal": lambda port: [args.shoal, "--port", str(port), "--bind", "127.0.0.1", *args.shoal_args.split()],
        "redis": lambda port: ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    }
    results = {}  # (server, pipeline, test) -> list of rows; (server, pipeline, "cpu") -> list
    port = 17000
    for round_index in range(args.rounds):
        order = list(servers) if round_index % 2 == 0 else list(reversed(list(servers)))
        for name in order:
            for pipeline in [int(p) for p in args.pipelines.split(",")]:
                port += 1
                server = Server(name, servers[name](port), port, args.server_cpu)
                try:
                    rows, cpu_us = run_benchmark(
                        server, args.client_cpu, args.tests, pipeline, args.clients, args.requests, args.data_size,
                        args.fill, args.random_keys,
                    )
                finally:
                    server.stop()
                for test, row in rows.items():
                    results.setdefault((name, pipeline, test), []).append(row)
                results.setdefault((name, pipeline, "cpu"), []).append(cpu_us)
                print(f"round {round_index + 1} {name} P={pipeline}: "
                      + ", ".join(f"{t} {r['rps']:.0f} ops/s" for t, r in rows.items())
                      + f", {cpu_us:.3f} us CPU/op", file=sys.stderr)

    memory = {}
    if args.memory_keys > 0:
        for name in servers:
            port += 1
            server = Server(name, servers[name](port), port, args.server_cpu)
            try:
                memory[name] = fill_and_measure_memory(server, args.memory_keys, args.data_size)
            finally:
                server.stop()

    print(f"| pipeline | test | shoal ops/s | redis ops/s | ratio | shoal p50/p99 ms | redis p50/p99 ms | shoal CPU us/op | redis CPU us/op | CPU ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for pipeline in [int(p) for p in args.pipelines.split(",")] if args.rounds > 0 else []:
        cpu = {name: statistics.median(results[(name, pipeline, "cpu")]) for name in servers}
        for test in sorted({key[2] for key in results if key[1] == pipeline and key[2] != "cpu"}):
            med = {
                name: {field: statistics.median(r[field] for r in results[(name, pipeline, test)]) for field in ("rps", "p50", "p99")}
                for name in servers
            }
            print(
                f"| {pipeline} | {test} | {med['shoal']['rps']:.0f} | {med['redis']['rps']:.0f} | "
                f"{med['shoal']['rps'] / med['redis']['rps']:.2f} | {med['shoal']['p50']:.3f}/{med['shoal']['p99']:.3f} | "
                f"{med['redis']['p50']:.3f}/{med['redis']['p99']:.3f} | {cpu['shoal']:.3f} | {cpu['redis']:.3f} | "
                f"{cpu['shoal'] / cpu['redis']:.2f} |"
            )
    if memory:
        print()
        print(f"| {args.memory_keys} keys, {args.data_size}-byte values | shoal used_memory_rss | redis used_memory_rss | ratio |")
        print("| --- | --- | --- | --- |")
        print(f"| memory | {memory['shoal'] / 1048576:.1f} MiB | {memory['redis'] / 1048576:.1f} MiB | {memory['shoal'] / memory['redis']:.2f} |")


if __name__ == "__main__":
    main()
