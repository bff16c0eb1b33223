#!/usr/bin/env bash
# Runs MCP conformance-suite client scenarios against the real `codex` binary.
#
#   tests/conformance/run.sh CODEX_BIN SCENARIO...
#
# Needs tests/setup.sh to have run (Node 22 and @modelcontextprotocol/conformance
# from tests/package-lock.json). Each scenario runs in a fresh CODEX_HOME; the
# suite's results go to $CONFORMANCE_RESULTS (default: a temporary directory).
# Exits non-zero if any scenario fails (a WARNING check counts as a failure).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../node-env.sh
. "$here/../node-env.sh"

if [ "$#" -lt 2 ]; then
    echo "usage: tests/conformance/run.sh CODEX_BIN SCENARIO..." >&2
    exit 2
fi
CODEX_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
export CODEX_BIN
shift
if [ ! -f "$CODEX_TEST_CONFORMANCE" ]; then
    echo "run.sh: the conformance suite is not installed at $CODEX_TEST_CONFORMANCE; run tests/setup.sh" >&2
    exit 1
fi

results=${CONFORMANCE_RESULTS:-$(mktemp -d)}
failed=()
for scenario in "$@"; do
    home=$(mktemp -d)
    echo "==> conformance client scenario: $scenario"
    if CODEX_HOME=$home \
        CODEX_SYSTEM_CONFIG=$home/no-system-config.toml \
        CODEX_MANAGED_CONFIG=$home/no-managed-config.toml \
        "$CODEX_TEST_NODE" "$CODEX_TEST_CONFORMANCE" client \
        --command "$here/client.sh" --scenario "$scenario" -o "$results"; then
        echo "PASS $scenario"
    else
        echo "FAIL $scenario (results in $results)"
        failed+=("$scenario")
    fi
    rm -rf "$home"
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "conformance: failed: ${failed[*]}" >&2
    exit 1
fi
