#!/usr/bin/env bash
# Fails when a crate of the workspace declares a dependency it does not use
# (cargo-machete, pinned; installed into ~/.cargo/bin when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

version=0.9.2
if ! cargo machete --version 2>/dev/null | grep -q "$version"; then
    echo "unused-deps: installing cargo-machete $version"
    # Its own target directory: the workspace's build is not disturbed.
    cargo install --locked --quiet cargo-machete --version "$version" \
        --target-dir "${CARGO_TARGET_DIR:-$HOME/.cache/codex-host/target}/tools"
fi
# examples/ are built out of tree against their own lockfile; skip them here.
cargo machete --skip-target-dir . && echo "unused-deps: every declared dependency is used"
