#!/usr/bin/env bash
# The client under test for the MCP conformance suite. The suite runs this
# script with the scenario's server URL as the last argument and the scenario
# name in MCP_CONFORMANCE_SCENARIO; it drives the real `codex` binary
# ($CODEX_BIN) against that URL.
set -euo pipefail

url="${!#}"
codex="${CODEX_BIN:?CODEX_BIN must name the codex binary}"
# A CODEX_HOME of its own: in suite mode the scenarios run at the same time.
CODEX_HOME=$(mktemp -d)
export CODEX_HOME
export CODEX_SYSTEM_CONFIG=$CODEX_HOME/no-system-config.toml
export CODEX_MANAGED_CONFIG=$CODEX_HOME/no-managed-config.toml
trap 'rm -rf "$CODEX_HOME"' EXIT

case "${MCP_CONFORMANCE_SCENARIO:-}" in
    initialize)
        "$codex" mcp tools --url "$url"
        ;;
    tools_call)
        "$codex" mcp call --url "$url" add_numbers --args '{"a":2,"b":3}'
        ;;
    sse-retry)
        "$codex" mcp call --url "$url" test_reconnection
        ;;
    elicitation-sep1034-client-defaults)
        # Accept the form with nothing given: every field takes its default.
        "$codex" mcp call --url "$url" test_client_elicitation_defaults --elicit '{}'
        ;;
    auth/*)
        # The whole user flow against the scenario's protected server: add
        # it (which logs in through $BROWSER), list its tools, call the first
        # (a step-up may log in again: --login).
        here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
        export BROWSER="$here/browser.py"
        config=(-c mcp_oauth_credentials_store=file
            -c mcp_oauth_client_metadata_url=https://conformance-test.local/client-metadata.json)
        context=${MCP_CONFORMANCE_CONTEXT:-"{}"}
        client_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("client_id", ""))' "$context")
        if [ -n "$client_id" ]; then
            "$codex" "${config[@]}" mcp add conformance --url "$url" --no-login
            python3 -c 'import json,sys; sys.stdout.write(json.loads(sys.argv[1]).get("client_secret", ""))' "$context" |
                "$codex" "${config[@]}" mcp login conformance --client-id "$client_id" --client-secret-stdin
        else
            "$codex" "${config[@]}" mcp add conformance --url "$url"
        fi
        tool=$("$codex" "${config[@]}" mcp tools conformance --login --json |
            python3 -c 'import json,sys; tools=[t["name"] for s in json.load(sys.stdin)["servers"] for t in s.get("tools", [])]; print(tools[0] if tools else "")')
        if [ -n "$tool" ]; then
            "$codex" "${config[@]}" mcp call conformance "$tool" --login
        fi
        ;;
    *)
        echo "client.sh: no client behaviour for scenario '${MCP_CONFORMANCE_SCENARIO:-}'" >&2
        exit 2
        ;;
esac
