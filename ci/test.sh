#!/usr/bin/env bash
# The README's test command: every unit, property, integration and
# differential test in the workspace (the differential tests need redis-server),
# with the servers the tests start on the epoll backend; then the server's
# tests again on the io_uring backend when this kernel (or container) allows
# it. (`--io-backend auto`, the default, is one of the two.)
set -euo pipefail
cd "$(dirname "$0")/.."
SHOAL_TEST_IO_BACKEND=epoll cargo test --workspace --all-targets

# Whether `shoal-server --io-backend uring` starts here: 0 yes, 1 io_uring is
# unavailable (EPERM/ENOSYS/too old), 2 the server failed for another reason.
uring_starts() {
  local server="${CARGO_TARGET_DIR:-target}/debug/shoal-server"
  local log
  log=$(mktemp)
  "$server" --port 0 --bind 127.0.0.1 --threads 1 --io-backend uring >"$log" 2>&1 &
  local pid=$!
  local verdict=2
  for _ in $(seq 100); do
    if grep -q 'ready to accept connections' "$log"; then
      verdict=0
      break
    fi
    if grep -q 'io_uring is unavailable' "$log"; then
      verdict=1
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [ "$verdict" -eq 0 ] || cat "$log" >&2
  rm -f "$log"
  return "$verdict"
}

status=0
uring_starts || status=$?
case "$status" in
  0) SHOAL_TEST_IO_BACKEND=uring cargo test --tests ;;
  1) echo "ci/test.sh: io_uring is unavailable here; the uring run is skipped" ;;
  *) echo "ci/test.sh: shoal-server --io-backend uring failed to start" >&2; exit 1 ;;
esac
