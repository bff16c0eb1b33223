#!/usr/bin/env bash
# The benchmarks of BENCHMARKS.md: codex against the Codex CLI 0.169 binary and
# against the floor. Rows 1-2: `codex mcp list`; 3-5: a tool call through
# the plugin boundary; 6-8: `codex mcp tools` over 20 servers; 9-10: the
# sandbox; 11-14: `codex app-server` against Codex's app-server (start,
# `mcpServerStatus/list` over 20 servers and its peak RSS, a tool call);
# 15-17: `codex mcp-server`; 18: the responses API proxy. The one entry point:
#
#   tests/bench/run.sh            build release, run every row, print one table,
#                                 write BENCHMARKS.md at the top of the checkout
#   tests/bench/run.sh --smoke    one iteration of every row with the debug build,
#                                 no targets enforced, BENCHMARKS.md untouched;
#                                 fails only when a row cannot run at all
#   tests/bench/run.sh --rows 1,7 only these rows (with or without --smoke);
#                                 BENCHMARKS.md is written only for a full run
#   --keep                        keep the work directory (homes, outputs, logs,
#                                 results.json with every row's details)
#
# Per-side times of the in-process rows with criterion's statistics, for
# checking a change to one side: `cargo build --release --workspace` then
# `cargo bench -p codex-bench` (tests/bench/benches/in_process.rs). Its sides
# run one after the other, so their ratio drifts with the machine: the
# ratios of the report come from this script.
#
# Needs: tests/setup.sh (the Codex CLI from @openai/codex, pinned in
# tests/package-lock.json) and tests/python/setup.sh (the Python MCP SDK for
# row 4). Networking only on 127.0.0.1.
#
# Environment: CARGO_TARGET_DIR (default: $HOME/.cache/codex-host/target).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/codex-host/target}"

die() {
    printf 'tests/bench/run.sh: error: %s\n' "$*" >&2
    exit 1
}
say() { printf 'bench: %s\n' "$*" >&2; }

smoke=0
keep=0
rows=""
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) smoke=1 ;;
    --keep) keep=1 ;;
    --rows)
        [ $# -ge 2 ] || die "--rows needs a list, e.g. --rows 1,3,7"
        rows=$2
        shift
        ;;
    -h | --help)
        # The header comment: from line 2 to the first line that is not one.
        sed -n '2,/^[^#]/p' "${BASH_SOURCE[0]}" | sed -n 's/^# \{0,1\}//p'
        exit 0
        ;;
    *) die "unknown argument '$1' (try --help)" ;;
    esac
    shift
done

# --- what the rows run against -------------------------------------------------
codex_cli_version=0.169.0
codex_cli=$(find tests/node_modules/@openai -name codex -type f -perm -u+x 2>/dev/null | head -n 1 || true)
[ -n "$codex_cli" ] ||
    die "the Codex CLI binary is missing (no executable named 'codex' under tests/node_modules/@openai): run tests/setup.sh, which installs @openai/codex $codex_cli_version from tests/package-lock.json"
codex_cli=$repo/$codex_cli
found_version=$("$codex_cli" --version 2>/dev/null || true)
case "$found_version" in
*"$codex_cli_version"*) ;;
*) die "$codex_cli is '${found_version:-not runnable}', the benchmarks compare with Codex CLI $codex_cli_version: run tests/setup.sh" ;;
esac

python=$repo/tests/python/.venv/bin/python
[ -x "$python" ] ||
    die "the Python MCP SDK for row 4 is missing ($python): run tests/python/setup.sh"
echo_server=$repo/tests/python/echo_server.py

# --- build ---------------------------------------------------------------------
if [ "$smoke" -eq 1 ]; then
    profile=debug
    say "cargo build --workspace --locked (debug, for the smoke run)"
    cargo build --workspace --locked >&2
else
    profile=release
    say "cargo build --release --workspace --locked"
    cargo build --release --workspace --locked >&2
fi
bin=$CARGO_TARGET_DIR/$profile
for file in codex codex-responses-api-proxy codex-demo-server codex-bench; do
    [ -x "$bin/$file" ] || die "$bin/$file was not built"
done

# --- a clean install: codex and exactly the shipped plugins --------------------
# Not under /tmp: the Codex CLI treats a CODEX_HOME in a temporary directory
# specially (it skips its PATH helpers and warns), unlike a user's ~/.codex.
mkdir -p "$CARGO_TARGET_DIR"
work=$(mktemp -d "$CARGO_TARGET_DIR/bench.XXXXXX")
if [ "$keep" -eq 1 ]; then
    say "work directory (kept): $work"
else
    trap 'rm -rf "$work"' EXIT
fi
prefix=$work/install
mkdir -p "$prefix"
chmod 755 "$work" "$prefix"
cp "$bin/codex" "$prefix/codex"
cp "$bin/codex-responses-api-proxy" "$prefix/codex-responses-api-proxy"
shipped=()
for manifest in plugins/*/Cargo.toml credential-backends/*/Cargo.toml; do
    grep -q '"cdylib"' "$manifest" || continue
    name=$(sed -n '/^\[lib\]/,/^\[/s/^name *= *"\(.*\)"/\1/p' "$manifest")
    [ -n "$name" ] || continue
    library=$bin/lib$name.so
    [ -f "$library" ] || die "$library was not built (from $manifest)"
    install -m 0644 "$library" "$prefix/"
    shipped+=("lib$name.so")
done
say "plugins: ${shipped[*]}"

# --- machine and versions ------------------------------------------------------
load_before=$(uptime)
machine=$work/machine.md
{
    echo "## Machine and versions"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores online"
    echo "- memory: $(free -m | awk '/^Mem:/ {print $2}') MiB"
    echo "- kernel: $(uname -sr)"
    echo "- load when the rows started (after the build): \`${load_before#*load average: }\` (1, 5, 15 min; 2 cores, shared with other work)"
    echo "- rustc: $(rustc --version)"
    commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        commit="$commit (with uncommitted changes of other work in the checkout)"
    fi
    echo "- codex host: git $commit, profile $profile (\`debug = \"line-tables-only\"\`), plugins ${shipped[*]}"
    echo "- Codex CLI: \`$found_version\` (npm @openai/codex $codex_cli_version, its native binary ${codex_cli#"$repo"/})"
    echo "- Python MCP SDK: mcp $("$python" -c 'import importlib.metadata as m; print(m.version("mcp"))' 2>/dev/null || echo unknown) ($("$python" --version 2>&1))"
    echo
    echo "Run with: \`tests/bench/run.sh${rows:+ --rows $rows}\` (it runs \`cargo build --release --workspace --locked\`,"
    echo "copies \`codex\` and the shipped plugins into a fresh directory, then"
    echo "\`codex-bench run --codex \$WORK/install/codex --codex-cli ... --rows ...\`). \$WORK is a"
    echo "fresh directory under \$CARGO_TARGET_DIR (here \`${work#"$CARGO_TARGET_DIR"/}\`); every process gets only PATH, HOME=\$WORK/home,"
    echo "LANG, CODEX_HOME and BENCH_TOKEN in its environment and runs in \$WORK."
} >"$machine"

args=(run
    --codex "$prefix/codex"
    --codex-cli "$codex_cli"
    --demo-server "$bin/codex-demo-server"
    --python "$python"
    --echo-server "$echo_server"
    --work "$work"
    --json "$work/results.json")
[ -n "$rows" ] && args+=(--rows "$rows")
if [ "$smoke" -eq 1 ]; then
    args+=(--smoke)
elif [ -z "$rows" ]; then
    args+=(--markdown "$repo/BENCHMARKS.md" --machine "$machine" --notes "$repo/tests/bench/notes.md")
fi

status=0
"$bin/codex-bench" "${args[@]}" || status=$?
load_after=$(uptime | sed 's/.*load average: //')
say "load after the run: $load_after"
if [ "$status" -ne 0 ]; then
    die "a row could not run (see above)"
fi
if [ "$smoke" -eq 0 ] && [ -z "$rows" ]; then
    printf '\nLoad after the run: `%s` (1, 5, 15 min).\n' "$load_after" >>"$repo/BENCHMARKS.md"
fi
if [ "$smoke" -eq 1 ]; then
    # The criterion bench (`cargo bench -p codex-bench`), each function once
    # with the debug build, so that it cannot rot either.
    say "cargo test -p codex-bench --bench in_process (criterion, test mode)"
    cargo test --locked -p codex-bench --bench in_process >&2 ||
        die "the criterion bench (tests/bench/benches/in_process.rs) failed in test mode"
fi
