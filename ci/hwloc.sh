#!/usr/bin/env bash
# Builds, tests and lints shoal-numa with its `hwloc` feature: the second
# topology reader, linked against the system hwloc, and the test that checks
# it agrees with the /sys reader on this machine. Installs the Debian
# packages it needs (libhwloc-dev, libudev-dev, pkg-config) when missing.
#
# The feature is off in the default build, so `ci/test.sh` and `ci/lint.sh`
# need none of this; this script is the one place that exercises it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(libhwloc-dev libudev-dev pkg-config)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: missing ${missing[*]} and no apt-get here;" \
            "install hwloc's development files and pkg-config, then re-run" >&2
        exit 1
    fi
    echo "==> installing ${missing[*]}"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

echo "==> cargo test -p shoal-numa --features hwloc"
cargo test -p shoal-numa --features hwloc

echo "==> cargo clippy -p shoal-numa --all-targets --features hwloc"
cargo clippy -p shoal-numa --all-targets --features hwloc -- -D warnings
