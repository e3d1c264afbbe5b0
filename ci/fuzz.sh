#!/usr/bin/env bash
# Fuzzes shoal-protocol: builds every cargo-fuzz target in fuzz/, then runs
# each for FUZZ_SECONDS seconds (default 60). Exits non-zero if any target
# crashes; the input that crashed it is saved under fuzz/artifacts/<target>/
# and can be replayed with `cargo fuzz run -s none <target> <that file>`.
#
# `-s none`: cargo-fuzz builds with AddressSanitizer by default, which needs
# the unstable `-Zsanitizer` flag and so a nightly compiler. With `-s none` the
# targets build on the stable toolchain (libFuzzer with coverage
# instrumentation, debug assertions and overflow checks, no sanitizer). The
# protocol crate has no unsafe code, so ASan would add little here. For the
# AddressSanitizer build on stable anyway, run
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target>
#
# Usage: [FUZZ_SECONDS=N] ci/fuzz.sh [target...]   (default: every target)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${FUZZ_SECONDS:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# Cargo caches the compiler's answers to its probe here; a probe that failed
# once (e.g. with other RUSTFLAGS) would otherwise keep failing the build.
rm -f fuzz/target/.rustc_info.json

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi
if [ "${#targets[@]}" -eq 0 ]; then
    echo "error: no fuzz targets found in fuzz/" >&2
    exit 1
fi

# Build everything first, so a target that does not compile fails the run
# before any time is spent fuzzing.
for target in "${targets[@]}"; do
    echo "==> building $target"
    cargo fuzz build -s none "$target"
done

failed=()
for target in "${targets[@]}"; do
    args=(-max_total_time="$seconds" -print_final_stats=1)
    if [ -f "fuzz/dicts/$target.dict" ]; then
        args+=(-dict="fuzz/dicts/$target.dict")
    fi
    echo "==> fuzzing $target for ${seconds}s"
    if ! cargo fuzz run -s none "$target" -- "${args[@]}"; then
        failed+=("$target")
        echo "!!! fuzz target $target FAILED; see fuzz/artifacts/$target/" >&2
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "" >&2
    echo "FUZZING FAILED: ${failed[*]}" >&2
    for target in "${failed[@]}"; do
        ls -l "fuzz/artifacts/$target/" >&2 || true
    done
    exit 1
fi
echo "==> all fuzz targets ran ${seconds}s without a crash: ${targets[*]}"
