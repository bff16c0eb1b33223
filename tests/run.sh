#!/usr/bin/env bash
# The project's test command (CI runs it through .ci/run):
#   1. tests/setup.sh installs the pinned test peers (npm ci into tests/node_modules),
#      tests/python/setup.sh the Python MCP SDK (a venv in tests/python/.venv) and
#      tests/keyring/setup.sh the Secret Service and kernel keyring tools (apt-get);
#   2. builds every workspace target, so the `codex` binary, every plugin cdylib and
#      every test plugin sit side by side before any test starts;
#   3. runs the tests (cargo-nextest when installed, else cargo test), never stopping
#      at the first failure;
#   4. checks formatting, clippy and that no crate declares a dependency it
#      does not use (tests/unused-deps.sh).
# Arguments are passed to the test runner (e.g. a test-name filter).
# Steps 3 and 4 all run even when one fails; the exit status is non-zero if any
# step failed, and the last line summarises every step.
#
# Environment: CARGO_TARGET_DIR (default: $HOME/.cache/codex-host/target, outside
# the clone so that repeated runs reuse the build). Under CI (CI=true) builds are
# not incremental, since each run is a fresh clone and incremental state only
# grows the reused build dir. Before building, a build dir on a disk with less
# than CODEX_MIN_FREE_GIB (default 20) GiB free is emptied, so that a build dir
# grown over many runs cannot fill the disk mid-build; so is one grown past
# CODEX_MAX_TARGET_GIB (default 40) GiB.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/codex-host/target}"
if [ "${CI:-}" = true ]; then
    export CARGO_INCREMENTAL=0
fi
run_started=$SECONDS
summary=()
failed=0

# Runs one named step, records "name ok|FAILED (seconds)" for the summary.
step() {
    local name=$1
    shift
    local started=$SECONDS
    printf '\n==> %s: %s\n' "$name" "$*"
    if "$@"; then
        summary+=("$name ok ($((SECONDS - started))s)")
        return 0
    else
        local status=$?
        summary+=("$name FAILED (exit $status)")
        failed=1
        return "$status"
    fi
}

skip() {
    printf '\n==> %s: skipped (%s)\n' "$1" "$2"
    summary+=("$1 skipped")
}

finish() {
    local verdict=PASS
    [ "$failed" -eq 0 ] || verdict=FAIL
    local line="" item
    for item in "${summary[@]}"; do
        line+="${line:+, }$item"
    done
    printf '\ntests/run.sh: %s in %ss: %s\n' "$verdict" "$((SECONDS - run_started))" "$line"
    exit "$failed"
}

if ! command -v cargo >/dev/null 2>&1; then
    echo "tests/run.sh: error: cargo is not on PATH; install Rust 1.88 or newer (https://rustup.rs), then rerun" >&2
    exit 1
fi

if ! step setup bash tests/setup.sh; then
    finish
fi
if ! step python-setup bash tests/python/setup.sh; then
    finish
fi
if ! step keyring-setup bash tests/keyring/setup.sh; then
    finish
fi
# shellcheck source=tests/node-env.sh
. tests/node-env.sh
echo "node for tests: $CODEX_TEST_NODE ($("$CODEX_TEST_NODE" --version 2>/dev/null || echo 'does not run'))"
echo "cargo target dir: $CARGO_TARGET_DIR"
bash tests/target-space.sh "$CARGO_TARGET_DIR" "${CODEX_MIN_FREE_GIB:-20}" "${CODEX_MAX_TARGET_GIB:-40}"

if step build cargo build --workspace --all-targets --locked; then
    if cargo nextest --version >/dev/null 2>&1; then
        step test cargo nextest run --workspace --locked --no-fail-fast "$@"
        # nextest does not run doctests.
        step doctest cargo test --workspace --locked --doc
    else
        step test cargo test --workspace --locked --no-fail-fast "$@"
    fi
    # One iteration of every benchmark row, no targets enforced (the full run
    # is tests/bench/run.sh, not part of CI); fails when a row cannot run.
    step bench-smoke bash tests/bench/run.sh --smoke
else
    skip test "the build failed"
fi

step fmt cargo fmt --all -- --check
step clippy cargo clippy --workspace --all-targets --locked -- -D warnings
step unused-deps bash tests/unused-deps.sh

finish
