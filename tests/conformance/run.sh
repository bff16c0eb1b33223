#!/usr/bin/env bash
# Runs MCP conformance-suite client scenarios against the real `codex` binary.
#
#   tests/conformance/run.sh CODEX_BIN SCENARIO...
#   tests/conformance/run.sh CODEX_BIN --suite SUITE [--spec-version VERSION]
#
# Needs tests/setup.sh to have run (Node 22 and @modelcontextprotocol/conformance
# from tests/package-lock.json). Each run of the client (client.sh) has a
# fresh CODEX_HOME; the suite's results go to $CONFORMANCE_RESULTS (default:
# a temporary directory).
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
conformance=("$CODEX_TEST_NODE" "$CODEX_TEST_CONFORMANCE" client --command "$here/client.sh" -o "$results")

if [ "$1" = --suite ]; then
    # A whole suite, its scenarios at once; what is expected to fail is in
    # expected-failures.yml (a failure not listed there, or a listed
    # scenario that passes, fails the run).
    shift
    echo "==> conformance client suite: $*"
    if "${conformance[@]}" --expected-failures "$here/expected-failures.yml" --suite "$@"; then
        echo "PASS suite $*"
    else
        echo "FAIL suite $* (results in $results)"
        exit 1
    fi
    exit 0
fi

failed=()
for scenario in "$@"; do
    echo "==> conformance client scenario: $scenario"
    if "${conformance[@]}" --scenario "$scenario"; then
        echo "PASS $scenario"
    else
        echo "FAIL $scenario (results in $results)"
        failed+=("$scenario")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "conformance: failed: ${failed[*]}" >&2
    exit 1
fi
