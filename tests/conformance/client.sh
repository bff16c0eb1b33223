#!/usr/bin/env bash
# The client under test for the MCP conformance suite. The suite runs this
# script with the scenario's server URL as the last argument and the scenario
# name in MCP_CONFORMANCE_SCENARIO; it drives the real `codex` binary
# ($CODEX_BIN) against that URL.
set -euo pipefail

url="${!#}"
codex="${CODEX_BIN:?CODEX_BIN must name the codex binary}"

case "${MCP_CONFORMANCE_SCENARIO:-}" in
    initialize)
        exec "$codex" mcp tools --url "$url"
        ;;
    tools_call)
        exec "$codex" mcp call --url "$url" add_numbers --args '{"a":2,"b":3}'
        ;;
    sse-retry)
        exec "$codex" mcp call --url "$url" test_reconnection
        ;;
    *)
        echo "client.sh: no client behaviour for scenario '${MCP_CONFORMANCE_SCENARIO:-}'" >&2
        exit 2
        ;;
esac
