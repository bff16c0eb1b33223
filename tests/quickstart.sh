#!/usr/bin/env bash
# The quick start: builds the host and every plugin library, then runs a real
# MCP session against the demo server, in a throw-away CODEX_HOME (your
# ~/.codex is not touched). Each command is printed before it runs.
#
# Environment: CARGO_TARGET_DIR (default: $HOME/.cache/codex-host/target, the
# same directory tests/run.sh builds in, so the two share the build).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/codex-host/target}"

echo "==> building the host, the plugins and the demo server (cargo build --workspace)"
cargo build --workspace --locked

bin="$CARGO_TARGET_DIR/debug"
CODEX_HOME=$(mktemp -d)
export CODEX_HOME
trap 'rm -rf "$CODEX_HOME"' EXIT
# Only the throw-away home counts here, not /etc/codex.
export CODEX_SYSTEM_CONFIG="$CODEX_HOME/no-system-config.toml"
export CODEX_MANAGED_CONFIG="$CODEX_HOME/no-managed-config.toml"

run() {
    printf '\n$ codex %s\n' "$*"
    "$bin/codex" "$@"
}

run plugin list
run mcp add demo -- "$bin/codex-demo-server" --name demo
run mcp list
run mcp tools demo
run mcp call demo echo --args '{"message":"hello from the codex host"}'
run mcp call demo add --args '{"a":2,"b":3}' --json
