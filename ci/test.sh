#!/usr/bin/env bash
# The README's test command: every unit, property, integration and
# differential test in the workspace (the differential tests need redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-targets
