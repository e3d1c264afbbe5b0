#!/usr/bin/env bash
# Transactions: money transfers with `shoal-bench bank` against redis-server
# and shoal-server, alternating, and a markdown table of medians.
#
# Runs, each --seconds long, every round in a rotated order:
#   redis-server              --mode multi (WATCH + MULTI/EXEC) and multi-blind
#   shoal-server --threads 1  --mode multi, begin, multi-blind
#   shoal-server --threads 2  --mode multi, begin, multi-blind
# Every server runs pinned to --server-cpus and the load generator to
# --client-cpu, each process in its own session with autogroup nice -20 (as
# scripts/vs_redis_benchmark.sh and compare_redis.py do). Accounts are set to
# their start balance before each run (1000 accounts, 50 clients, one client
# thread); a run whose balances do not add up, or that got any error, fails
# and is shown as such.
#
# Columns: committed transfers/s (median), ratio to redis-server's MULTI/EXEC,
# conflict rate (conflicts / commit attempts), and server CPU µs per committed
# transfer (utime + stime of the server from /proc over the run).
#
#   bench-harness/scripts/transactions.sh [--rounds 3] [--seconds 3]
#       [--clients 50] [--accounts 1000] [--server-cpus 0] [--client-cpu 1]
#       [--port 7301] [--json-dir DIR]
# The servers listen on --port, --port + 1 and --port + 2.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH_BIN="$TARGET/release/shoal-bench"
SHOAL_BIN="$TARGET/release/shoal-server"
ROUNDS=3
RUN_SECONDS=3
CLIENTS=50
ACCOUNTS=1000
SERVER_CPUS=0
CLIENT_CPU=1
PORT=7301
JSON_DIR=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --seconds) RUN_SECONDS="$2"; shift 2 ;;
        --clients) CLIENTS="$2"; shift 2 ;;
        --accounts) ACCOUNTS="$2"; shift 2 ;;
        --server-cpus) SERVER_CPUS="$2"; shift 2 ;;
        --client-cpu) CLIENT_CPU="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;
        --json-dir) JSON_DIR="$2"; shift 2 ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
for bin in "$BENCH_BIN" "$SHOAL_BIN"; do
    [[ -x $bin ]] || { echo "build it first: cargo build --release --bin shoal-server -p shoal-bench ($bin is missing)" >&2; exit 1; }
done
command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed to read the JSON reports" >&2; exit 1; }

# "$@" pinned to CPUs $1, in its own session, autogroup nice -20 where allowed.
# With PIDFILE set, the PID the command runs under is written there (setsid
# forks when it is a process group leader, so $! may not be that PID).
isolated() {
    local cpus=$1; shift
    PIDFILE=${PIDFILE:-/dev/null} setsid bash -c \
        'echo $$ > "$PIDFILE"; echo -20 > /proc/self/autogroup 2>/dev/null; exec taskset -c "$0" "$@"' \
        "$cpus" "$@"
}

SCRATCH=$(mktemp -d)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        # Not necessarily our child (see isolated): poll until it is gone.
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
    done
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Whether something answers PING on port $1.
answers() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && read -r -t 1 reply <&3 && [[ $reply == +PONG* ]]) 2>/dev/null
}

# start NAME PORT COMMAND...: starts a server and waits until it answers PING.
declare -A SERVER_PID SERVER_PORT
start() {
    local name=$1 port=$2; shift 2
    if answers "$port"; then
        echo "port $port is taken by another server: pick others with --port" >&2
        exit 1
    fi
    PIDFILE="$SCRATCH/$name.pid" isolated "$SERVER_CPUS" "$@" --port "$port" >"$SCRATCH/$name.log" 2>&1 &
    for _ in $(seq 100); do
        [[ -s "$SCRATCH/$name.pid" ]] && break
        sleep 0.05
    done
    local pid
    pid=$(cat "$SCRATCH/$name.pid")
    PIDS+=("$pid")
    SERVER_PID[$name]=$pid
    SERVER_PORT[$name]=$port
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || { echo "$name exited at start:" >&2; cat "$SCRATCH/$name.log" >&2; exit 1; }
        answers "$port" && return 0
        sleep 0.1
    done
    echo "$name did not answer PING" >&2
    exit 1
}

start redis $PORT redis-server --bind 127.0.0.1 --save '' --appendonly no
start shoal-t1 $((PORT + 1)) "$SHOAL_BIN" --bind 127.0.0.1 --save '' --threads 1
start shoal-t2 $((PORT + 2)) "$SHOAL_BIN" --bind 127.0.0.1 --save '' --threads 2

CASES=("redis multi" "redis multi-blind"
       "shoal-t1 multi" "shoal-t1 begin" "shoal-t1 multi-blind"
       "shoal-t2 multi" "shoal-t2 begin" "shoal-t2 multi-blind")
OUT=${JSON_DIR:-$SCRATCH/json}
mkdir -p "$OUT"

for round in $(seq "$ROUNDS"); do
    count=${#CASES[@]}
    for i in $(seq 0 $((count - 1))); do
        # Rotate the order each round so drift falls on every case alike.
        read -r name mode <<<"${CASES[$(((i + round - 1) % count))]}"
        json="$OUT/$name-$mode-$round.json"
        if isolated "$CLIENT_CPU" "$BENCH_BIN" bank -s 127.0.0.1 -p "${SERVER_PORT[$name]}" \
            -c "$CLIENTS" -t 1 --accounts "$ACCOUNTS" --mode "$mode" --test-time "$RUN_SECONDS" \
            --server-pid "${SERVER_PID[$name]}" --seed "$round" --json-out-file "$json" \
            >"$SCRATCH/run.out" 2>"$SCRATCH/run.err"; then
            echo "round $round: $name $mode: $(awk '/^Transfers/ {print $3}' "$SCRATCH/run.out") transfers/s" >&2
        else
            why=$(tail -1 "$SCRATCH/run.err")
            echo "round $round: $name $mode FAILED: $why" >&2
            printf '%s\n' "$why" >"$OUT/$name-$mode-$round.failed"
        fi
    done
done

python3 - "$OUT" "$ROUNDS" "${CASES[@]}" <<'EOF'
import json, os, statistics, sys

out, rounds, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
labels = {"redis": "redis-server", "shoal-t1": "shoal --threads 1", "shoal-t2": "shoal --threads 2"}

def runs(name, mode):
    found, failed = [], []
    for r in range(1, rounds + 1):
        path = os.path.join(out, f"{name}-{mode}-{r}.json")
        bad = os.path.join(out, f"{name}-{mode}-{r}.failed")
        if os.path.exists(bad):
            failed.append(open(bad).read().strip())
        elif os.path.exists(path):
            found.append(json.load(open(path))["bank"])
    return found, failed

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

base = med([r["transfers_per_sec"] for r in runs("redis", "multi")[0]])
print(f"| server | mode | transfers/s (median of {rounds}) | x redis MULTI/EXEC | conflict rate | server CPU µs/transfer | runs (transfers/s) |")
print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
for case in cases:
    name, mode = case.split()
    found, failed = runs(name, mode)
    if not found:
        why = failed[0] if failed else "no run"
        print(f"| {labels[name]} | {mode} | failed | | | | {why} |")
        continue
    rate = med([r["transfers_per_sec"] for r in found])
    ratio = f"{rate / base:.2f}" if base else "n/a"
    conflicts = med([r["conflict_rate"] for r in found])
    cpu = med([r["server_cpu_usec_per_transfer"] for r in found])
    cpu_text = f"{cpu:.2f}" if cpu is not None else "n/a"
    each = " ".join(f"{r['transfers_per_sec']:.0f}" for r in found)
    if failed:
        each += f" ({len(failed)} failed: {failed[0]})"
    print(f"| {labels[name]} | {mode} | {rate:.0f} | {ratio} | {conflicts * 100:.2f}% | {cpu_text} | {each} |")
EOF
