#!/usr/bin/env bash
# Installs the Python MCP SDK pinned in tests/python/requirements.txt into
# tests/python/.venv (a virtual environment made with `python3 -m venv`), for
# the tests that run tests/python/echo_server.py. Safe to run any number of
# times: it does nothing when the environment is complete and no older than
# the requirements. One line per step on stdout.
#
# Environment: PYTHON (default python3), the interpreter to make the venv with.
set -euo pipefail

python_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venv="$python_dir/.venv"
requirements="$python_dir/requirements.txt"
# Written only after a complete install, so an interrupted one is redone.
stamp="$venv/.codex-setup-complete"
python=${PYTHON:-python3}

say() { printf 'python setup: %s\n' "$*"; }
die() {
    printf 'python setup: error: %s\n' "$*" >&2
    exit 1
}

up_to_date() {
    [ -f "$stamp" ] || return 1
    [ "$requirements" -nt "$stamp" ] && return 1
    "$venv/bin/python" -c 'import mcp.server.mcpserver' >/dev/null 2>&1 || return 1
    return 0
}

if up_to_date; then
    say "tests/python/.venv is up to date with requirements.txt, nothing to install"
    exit 0
fi

command -v "$python" >/dev/null 2>&1 ||
    die "$python is not on PATH; install Python 3.10 or newer (with its venv module), or set PYTHON, then rerun tests/python/setup.sh"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
    die "$("$python" --version 2>&1) is too old: the mcp package needs Python 3.10 or newer; set PYTHON to a newer interpreter"

say "creating tests/python/.venv with $("$python" --version 2>&1)"
"$python" -m venv --clear "$venv" ||
    die "'$python -m venv' failed; on Debian or Ubuntu install the python3-venv package, then rerun tests/python/setup.sh"
say "pip install -r tests/python/requirements.txt"
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet -r "$requirements" ||
    die "pip install failed (output above); the package index must be reachable"
"$venv/bin/python" -c 'import mcp.server.mcpserver' ||
    die "the mcp package was installed but cannot be imported; delete tests/python/.venv and rerun"
touch "$stamp"
say "installed $("$venv/bin/python" -m pip show mcp 2>/dev/null | sed -n 's/^Version: /mcp /p') into tests/python/.venv"
