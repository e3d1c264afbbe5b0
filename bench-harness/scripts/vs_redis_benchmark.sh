#!/usr/bin/env bash
# Is shoal-bench the bottleneck? Drives one redis-server with redis-benchmark
# and with shoal-bench, each from one core, alternating, and prints medians:
# the rate each reached and the client CPU it spent per request.
#
# redis-server runs pinned to --server-cpu, each load generator to
# --client-cpu, every process in its own session with autogroup nice -20 (as
# scripts/compare_redis.py does). The workload is GET over 50 connections at
# each pipeline depth; neither tool prefills, so both read missing keys and
# the replies are the same size.
#
#   bench-harness/scripts/vs_redis_benchmark.sh [--rounds 3] [--seconds 3]
#       [--pipelines "1 16"] [--server-cpu 0] [--client-cpu 1] [--port 7201]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BENCH_BIN="$TARGET/release/shoal-bench"
ROUNDS=3
RUN_SECONDS=3
PIPELINES="1 16"
SERVER_CPU=0
CLIENT_CPU=1
PORT=7201
CLIENTS=50
KEYS=100000

while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --seconds) RUN_SECONDS="$2"; shift 2 ;;
        --pipelines) PIPELINES="$2"; shift 2 ;;
        --server-cpu) SERVER_CPU="$2"; shift 2 ;;
        --client-cpu) CLIENT_CPU="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ -x $BENCH_BIN ]] || { echo "build it first: cargo build --release -p shoal-bench" >&2; exit 1; }
for tool in redis-server redis-benchmark; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 1; }
done

# "$@" pinned to CPU $1, in its own session, autogroup nice -20 where allowed.
isolated() {
    local cpu=$1; shift
    setsid bash -c 'echo -20 > /proc/self/autogroup 2>/dev/null; exec taskset -c "$0" "$@"' "$cpu" "$@"
}

SERVER_PID=""
cleanup() {
    if [[ -n $SERVER_PID ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

isolated "$SERVER_CPU" redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
    >/dev/null 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    redis-benchmark -p "$PORT" -t ping -n 1 -q >/dev/null 2>&1 && break
    sleep 0.1
done

SCRATCH=$(mktemp -d)
trap 'cleanup; rm -rf "$SCRATCH"' EXIT

# One run; prints "RATE CPU_US_PER_OP".
run_redis_benchmark() {
    local pipeline=$1 requests=$2
    isolated "$CLIENT_CPU" /usr/bin/time -f '%U %S' -o "$SCRATCH/time" \
        redis-benchmark -p "$PORT" -t get -c "$CLIENTS" -P "$pipeline" -n "$requests" \
        -r "$KEYS" --csv >"$SCRATCH/out" 2>/dev/null
    local rate
    rate=$(awk -F'"' '$2 == "GET" {print $4}' "$SCRATCH/out")
    awk -v rate="$rate" -v n="$requests" '{printf "%.0f %.3f\n", rate, ($1 + $2) * 1e6 / n}' "$SCRATCH/time"
}

run_shoal_bench() {
    local pipeline=$1
    isolated "$CLIENT_CPU" /usr/bin/time -f '%U %S' -o "$SCRATCH/time" \
        "$BENCH_BIN" -s 127.0.0.1 -p "$PORT" -t 1 -c "$CLIENTS" --pipeline "$pipeline" \
        --ratio 0:1 --key-maximum $((KEYS - 1)) --test-time "$RUN_SECONDS" --hide-histogram \
        >"$SCRATCH/out" 2>/dev/null
    local rate replies
    rate=$(awk '$1 == "Totals" {print $2}' "$SCRATCH/out")
    replies=$(awk '$1 == "Requests:" {print $4}' "$SCRATCH/out")
    awk -v rate="$rate" -v n="$replies" '{printf "%.0f %.3f\n", rate, ($1 + $2) * 1e6 / n}' "$SCRATCH/time"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "| pipeline | tool | GET/s (median of $ROUNDS) | client CPU µs/request | runs (GET/s) |"
echo "| --- | --- | ---: | ---: | --- |"
for pipeline in $PIPELINES; do
    : >"$SCRATCH/rb"; : >"$SCRATCH/sb"
    # redis-benchmark takes a request count: size it from a first shoal-bench
    # run so both tools run for about the same time.
    for round in $(seq "$ROUNDS"); do
        read -r rate cpu < <(run_shoal_bench "$pipeline")
        echo "$rate $cpu" >>"$SCRATCH/sb"
        requests=$(awk -v r="$rate" -v s="$RUN_SECONDS" 'BEGIN {printf "%d", r * s}')
        read -r rate cpu < <(run_redis_benchmark "$pipeline" "$requests")
        echo "$rate $cpu" >>"$SCRATCH/rb"
        echo "pipeline $pipeline round $round: shoal-bench $(tail -1 "$SCRATCH/sb"), redis-benchmark $(tail -1 "$SCRATCH/rb") (GET/s, µs CPU/request)" >&2
    done
    for tool in redis-benchmark shoal-bench; do
        file="$SCRATCH/rb"; [[ $tool == shoal-bench ]] && file="$SCRATCH/sb"
        echo "| $pipeline | $tool | $(cut -d' ' -f1 "$file" | median) | $(cut -d' ' -f2 "$file" | median) | $(cut -d' ' -f1 "$file" | paste -sd' ') |"
    done
done
