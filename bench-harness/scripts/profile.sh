#!/usr/bin/env bash
# Profiles shoal-server under load from shoal-bench:
#
#   1. `perf record -e cpu-clock -g` on the server while the load runs, folded
#      and drawn by `shoal-bench flamegraph` (the inferno crate) into
#      flamegraph.svg;
#   2. instructions per operation: `perf stat -e instructions` over the same
#      kind of run, divided by the commands the server counted (INFO
#      total_commands_processed). Where hardware counters are unavailable
#      (virtual machines often have none: perf prints "<not supported>"), the
#      script says so and counts instructions with `valgrind --tool=callgrind`
#      instead, if valgrind is installed; otherwise it says instructions are
#      unavailable.
#
# Server and load are pinned to their own CPUs (taskset) and every process the
# script starts is stopped on exit, error or Ctrl-C.
#
#   bench-harness/scripts/profile.sh [--seconds 5] [--out DIR] [--server-cpu 0]
#       [--client-cpu 1] [--port 7101] [--server-args "--threads 1"]
#       [--workload "-t 1 -c 50 --pipeline 16 --ratio 0:1 --key-maximum 99999"]
#       [--callgrind-requests 20000] [--no-build]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
SECONDS_RUN=5
OUT="$ROOT/bench-harness/results/profile"
SERVER_CPU=0
CLIENT_CPU=1
PORT=7101
SERVER_ARGS="--threads 1"
WORKLOAD="-t 1 -c 50 --pipeline 16 --ratio 0:1 --key-maximum 99999"
CALLGRIND_REQUESTS=20000
BUILD=1

while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) SECONDS_RUN="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --server-cpu) SERVER_CPU="$2"; shift 2 ;;
        --client-cpu) CLIENT_CPU="$2"; shift 2 ;;
        --port) PORT="$2"; shift 2 ;;
        --server-args) SERVER_ARGS="$2"; shift 2 ;;
        --workload) WORKLOAD="$2"; shift 2 ;;
        --callgrind-requests) CALLGRIND_REQUESTS="$2"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

SERVER_BIN="$TARGET/release/shoal-server"
BENCH_BIN="$TARGET/release/shoal-bench"
if [[ $BUILD == 1 ]]; then
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release --bin shoal-server -p shoal-bench)
fi
for bin in "$SERVER_BIN" "$BENCH_BIN"; do
    [[ -x $bin ]] || { echo "missing $bin (drop --no-build)" >&2; exit 1; }
done
command -v perf >/dev/null || { echo "perf is not installed" >&2; exit 1; }
mkdir -p "$OUT"

SERVER_PID=""
PERF_PID=""
stop_server() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
cleanup() {
    if [[ -n $PERF_PID ]]; then kill -INT "$PERF_PID" 2>/dev/null || true; fi
    stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Whether the server on port $1 answers PING, in a subshell so the socket
# and any error stay there.
ping_once() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && read -r -t 2 reply <&3 \
        && [[ $reply == +PONG* ]]) 2>/dev/null
}

# Waits until the server on port $1 answers PING, for up to $2 seconds.
wait_ping() {
    local port=$1 deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        ping_once "$port" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited; see $OUT/server.log" >&2; return 1; }
        sleep 0.1
    done
    echo "the server on port $port did not answer PING" >&2
    return 1
}

# Starts "$@" pinned to the server CPU; sets SERVER_PID.
start_server() {
    taskset -c "$SERVER_CPU" "$@" >"$OUT/server.log" 2>&1 &
    SERVER_PID=$!
}

# Runs the load against $1 with extra flags; the JSON goes to $2.
load() {
    local port=$1 json=$2; shift 2
    # shellcheck disable=SC2086 # WORKLOAD is a list of flags
    taskset -c "$CLIENT_CPU" "$BENCH_BIN" -s 127.0.0.1 -p "$port" $WORKLOAD \
        --server-pid "$SERVER_PID" --hide-histogram --json-out-file "$json" "$@"
}

# The commands the server processed during the run recorded in $1.
commands_of() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ALL STATS"]["Server"]["Commands processed"] or 0)' "$1"
}

# shellcheck disable=SC2086 # SERVER_ARGS is a list of flags
start_server "$SERVER_BIN" --port "$PORT" --bind 127.0.0.1 --save '' $SERVER_ARGS
wait_ping "$PORT" 20
echo "== prefill"
load "$PORT" "$OUT/prefill.json" --prefill -n 1 -t 1 -c 1 >/dev/null

echo "== perf record -e cpu-clock -g, $SECONDS_RUN s"
perf record -e cpu-clock -g -p "$SERVER_PID" -o "$OUT/perf.data" 2>"$OUT/perf-record.log" &
PERF_PID=$!
sleep 0.5
load "$PORT" "$OUT/load-record.json" --test-time "$SECONDS_RUN" | grep -E '^(Type|Totals|Server CPU)'
kill -INT "$PERF_PID"
wait "$PERF_PID" 2>/dev/null || true
PERF_PID=""
perf script -i "$OUT/perf.data" 2>/dev/null \
    | "$BENCH_BIN" flamegraph --title "shoal-server: $WORKLOAD" --output "$OUT/flamegraph.svg"
echo "wrote $OUT/flamegraph.svg"

echo "== perf stat -e instructions, $SECONDS_RUN s"
perf stat -e instructions -x, -p "$SERVER_PID" -o "$OUT/perf-stat.txt" &
PERF_PID=$!
sleep 0.5
load "$PORT" "$OUT/load-stat.json" --test-time "$SECONDS_RUN" >/dev/null
kill -INT "$PERF_PID"
wait "$PERF_PID" 2>/dev/null || true
PERF_PID=""
commands=$(commands_of "$OUT/load-stat.json")
instructions=$(awk -F, '$3 == "instructions" || $3 ~ /^instructions/ {print $1; exit}' "$OUT/perf-stat.txt")
if [[ $instructions =~ ^[0-9]+$ ]] && ((commands > 0)); then
    echo "instructions/op (perf stat): $((instructions / commands)) ($instructions instructions over $commands commands)"
    stop_server
    exit 0
fi
echo "perf stat cannot count instructions here (it reported: ${instructions:-nothing}); hardware counters are unavailable"
stop_server

if ! command -v valgrind >/dev/null || ! command -v callgrind_control >/dev/null; then
    echo "valgrind is not installed: instructions per operation are unavailable"
    exit 0
fi
echo "== valgrind --tool=callgrind, $CALLGRIND_REQUESTS requests (slow: the server runs ~50x slower)"
# epoll rather than io_uring: valgrind does not know io_uring's system calls.
CALLGRIND_PORT=$((PORT + 1))
rm -f "$OUT"/callgrind.out*
# shellcheck disable=SC2086
start_server valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out" \
    "$SERVER_BIN" --port "$CALLGRIND_PORT" --bind 127.0.0.1 --save '' --io-backend epoll $SERVER_ARGS
wait_ping "$CALLGRIND_PORT" 120
load "$CALLGRIND_PORT" "$OUT/prefill-callgrind.json" --prefill -n 1 -t 1 -c 1 >/dev/null
callgrind_control -i on "$SERVER_PID" >/dev/null
per_client=$((CALLGRIND_REQUESTS / 10))
load "$CALLGRIND_PORT" "$OUT/load-callgrind.json" -t 1 -c 10 -n "$per_client" --drain-timeout 60 \
    | grep -E '^(Totals|Server CPU)'
callgrind_control -i off "$SERVER_PID" >/dev/null
callgrind_control -d "$SERVER_PID" >/dev/null
stop_server
commands=$(commands_of "$OUT/load-callgrind.json")
# Each dump file holds the instructions since the previous dump, so they add
# up. A file states its total twice, as "summary:" and "totals:"; with
# instrumentation switched on late, "summary:" can read 0, so take the larger.
ir=$(awk 'FNR == 1 {sum += best; best = 0}
          /^(summary|totals):/ && $2 > best {best = $2}
          END {print sum + best}' "$OUT"/callgrind.out*)
if ((commands > 0 && ir > 0)); then
    echo "instructions/op (callgrind, epoll backend): $((ir / commands)) ($ir instructions over $commands commands)"
    echo "callgrind output: $OUT/callgrind.out* (callgrind_annotate shows where they go)"
else
    echo "callgrind counted nothing usable (Ir $ir, commands $commands): instructions are unavailable"
fi
