#!/usr/bin/env bash
# Installs what the integration tests run against: Node.js and npm (from the
# system's package manager, only when npm is missing) and the npm packages
# pinned in tests/package-lock.json (the MCP reference servers, the
# conformance suite, the MCP Inspector CLI, oidc-provider for tests/oauth and
# a Node 22 runtime), and nginx for the gateway's load-balancer test.
# Safe to run any number of times: each step checks whether it is needed
# first. One line per step on stdout.
set -euo pipefail

tests_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node_modules="$tests_dir/node_modules"
# Written only after a complete `npm ci`, so an interrupted install is redone.
stamp="$node_modules/.codex-setup-complete"

say() { printf 'setup: %s\n' "$*"; }
die() {
    printf 'setup: error: %s\n' "$*" >&2
    exit 1
}

# Runs a command as root: directly when we are root, else through `sudo -n`.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root to run '$*'; run it yourself (or install sudo), then rerun tests/setup.sh"
    fi
}

install_node_and_npm() {
    if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
        say "npm $(npm --version 2>/dev/null) and node $(node --version) found, nothing to install"
        return
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "npm is missing and apt-get is not available; install Node.js >= 18 with npm, then rerun tests/setup.sh"
    say "npm missing: apt-get update && apt-get install nodejs npm"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
        die "apt-get update failed (output above); fix the package sources, then rerun tests/setup.sh"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        nodejs npm ca-certificates >/dev/null ||
        die "apt-get install nodejs npm failed (output above); install Node.js >= 18 with npm yourself, then rerun tests/setup.sh"
    command -v npm >/dev/null 2>&1 || die "apt-get installed npm but it is not on PATH ($PATH)"
    say "installed npm $(npm --version 2>/dev/null) and node $(node --version)"
}

# True when node_modules is absent, incomplete or older than the lockfile.
npm_install_needed() {
    [ -f "$stamp" ] || return 0
    [ "$tests_dir/package-lock.json" -nt "$stamp" ] && return 0
    [ "$tests_dir/package.json" -nt "$stamp" ] && return 0
    [ -x "$node_modules/node/bin/node" ] || return 0
    return 1
}

install_npm_packages() {
    if ! npm_install_needed; then
        say "tests/node_modules is up to date with package-lock.json, skipping npm ci"
        return
    fi
    say "npm ci in tests/ (pinned MCP servers, conformance suite, oidc-provider, node@22)"
    # `--ignore-scripts=false`: the `node` package fetches its platform binary
    # in a preinstall script, which a user-level `ignore-scripts` would skip.
    (cd "$tests_dir" && npm ci --no-audit --no-fund --ignore-scripts=false --loglevel=error) ||
        die "npm ci failed in $tests_dir; see the npm output above (the registry must be reachable)"
    local version
    version=$("$node_modules/node/bin/node" --version 2>/dev/null) ||
        die "npm ci finished but $node_modules/node/bin/node does not run; delete tests/node_modules and rerun"
    touch "$stamp"
    say "installed test packages; node $version at tests/node_modules/node/bin/node"
}

# nginx (Debian's package) for the gateway's load-balancer test.
install_nginx() {
    if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
        say "nginx found, nothing to install"
        return
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "nginx is missing and apt-get is not available; install nginx, then rerun tests/setup.sh"
    say "nginx missing: apt-get install nginx"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
        die "apt-get update failed (output above); fix the package sources, then rerun tests/setup.sh"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx >/dev/null ||
        die "apt-get install nginx failed (output above); install nginx yourself, then rerun tests/setup.sh"
    say "installed $(/usr/sbin/nginx -v 2>&1)"
}

install_node_and_npm
install_npm_packages
install_nginx
