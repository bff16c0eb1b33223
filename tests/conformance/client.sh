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
    auth/client-credentials-* | auth/cross-app-access-*)
        # Logins without a person: no $BROWSER, so `mcp add` only adds the
        # server; then `mcp login` with what the scenario's context hands
        # over (secrets on stdin, keys and ID tokens in files of mode 600),
        # then the tools and a call with the stored token.
        config=(-c mcp_oauth_credentials_store=file)
        context=${MCP_CONFORMANCE_CONTEXT:-"{}"}
        field() {
            python3 -c 'import json,sys; sys.stdout.write(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$context" "$1"
        }
        env -u BROWSER "$codex" "${config[@]}" mcp add conformance --url "$url" </dev/null
        umask 077
        case "$MCP_CONFORMANCE_SCENARIO" in
            auth/client-credentials-jwt)
                field private_key_pem >"$CODEX_HOME/client-key.pem"
                "$codex" "${config[@]}" mcp login conformance --client-credentials \
                    --client-id "$(field client_id)" --private-key "$CODEX_HOME/client-key.pem" \
                    --signing-algorithm "$(field signing_algorithm)" </dev/null
                ;;
            auth/client-credentials-*)
                field client_secret | "$codex" "${config[@]}" mcp login conformance \
                    --client-credentials --client-id "$(field client_id)" --client-secret-stdin
                ;;
            *)
                field idp_id_token >"$CODEX_HOME/id_token"
                field client_secret | "$codex" "${config[@]}" mcp login conformance \
                    --id-token-file "$CODEX_HOME/id_token" --idp-url "$(field idp_issuer)" \
                    --idp-client-id "$(field idp_client_id)" \
                    --client-id "$(field client_id)" --client-secret-stdin
                ;;
        esac
        tool=$("$codex" "${config[@]}" mcp tools conformance --json </dev/null |
            python3 -c 'import json,sys; tools=[t["name"] for s in json.load(sys.stdin)["servers"] for t in s.get("tools", [])]; print(tools[0] if tools else "")')
        if [ -n "$tool" ]; then
            "$codex" "${config[@]}" mcp call conformance "$tool" </dev/null
        fi
        ;;
    auth/*)
        # The whole user flow against the scenario's protected server, with
        # a $BROWSER and no terminal: add it (which logs in through
        # $BROWSER, with the scenario's pre-registered client when it has
        # one), list its tools, call the first (a step-up logs in again
        # through $BROWSER: no --login anywhere).
        here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
        export BROWSER="$here/browser.py"
        config=(-c mcp_oauth_credentials_store=file
            -c mcp_oauth_client_metadata_url=https://conformance-test.local/client-metadata.json)
        context=${MCP_CONFORMANCE_CONTEXT:-"{}"}
        field() {
            python3 -c 'import json,sys; sys.stdout.write(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$context" "$1"
        }
        client_id=$(field client_id)
        if [ -n "$client_id" ] && [ -n "$(field client_secret)" ]; then
            field client_secret | "$codex" "${config[@]}" mcp add conformance --url "$url" \
                --oauth-client-id "$client_id" --oauth-client-secret-stdin
        elif [ -n "$client_id" ]; then
            "$codex" "${config[@]}" mcp add conformance --url "$url" --oauth-client-id "$client_id" </dev/null
        else
            "$codex" "${config[@]}" mcp add conformance --url "$url" </dev/null
        fi
        # Every metadata scenario must be found by `mcp add` itself (in
        # auth/metadata-var3 only the challenge to a POST names the metadata).
        case "$MCP_CONFORMANCE_SCENARIO" in
            auth/metadata-*)
                if [ ! -s "$CODEX_HOME/.credentials.json" ]; then
                    echo "client.sh: \`codex mcp add\` did not detect OAuth and log in" >&2
                    exit 1
                fi
                ;;
        esac
        tool=$("$codex" "${config[@]}" mcp tools conformance --json </dev/null |
            python3 -c 'import json,sys; tools=[t["name"] for s in json.load(sys.stdin)["servers"] for t in s.get("tools", [])]; print(tools[0] if tools else "")')
        if [ -n "$tool" ]; then
            "$codex" "${config[@]}" mcp call conformance "$tool" </dev/null
        fi
        ;;
    *)
        echo "client.sh: no client behaviour for scenario '${MCP_CONFORMANCE_SCENARIO:-}'" >&2
        exit 2
        ;;
esac
