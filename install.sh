#!/usr/bin/env bash
# Installs codex with its plugins into a prefix:
#
#   PREFIX/bin/codex                        the host
#   PREFIX/bin/codex-responses-api-proxy    the API-key proxy
#   PREFIX/lib/codex/plugins/libcodex_*.so  the transport and credential plugins
#
# stripped, files 0755 (programs) / 0644 (plugins) in directories 0755, owned
# by whoever runs the script: what the plugin loader trusts (a file or
# directory writable by group or others, or owned by another user, is
# refused). `codex` finds PREFIX/lib/codex/plugins from its own path, also
# through a symlink to PREFIX/bin/codex.
#
# Usage:
#   ./install.sh                          release build, install into ~/.local
#   ./install.sh --prefix /usr/local      (as root for a system-wide install)
#   ./install.sh --from-build DIR         install what DIR holds (e.g. target/debug), build nothing
#   ./install.sh --package OUT_DIR        a tarball of the same tree, with SHA256SUMS, in OUT_DIR
#
# Environment: CARGO_TARGET_DIR (default: $HOME/.cache/codex-host/target, as
# tests/run.sh and tests/quickstart.sh).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/codex-host/target}"

# The plugin libraries that ship with codex, and the packages that build them.
plugins=(codex_stdio codex_streamable_http codex_oauth codex_file codex_keyring codex_credential_helper)
packages=(codex-cli codex-responses-api-proxy
    codex-transport-stdio codex-transport-streamable-http codex-transport-oauth
    codex-credentials-file codex-credentials-keyring codex-credentials-helper)
programs=(codex codex-responses-api-proxy)

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

die() {
    printf 'install.sh: error: %s\n' "$1" >&2
    [ $# -lt 2 ] || printf 'help: %s\n' "$2" >&2
    exit 1
}

prefix="$HOME/.local"
from_build=""
package_dir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#*=}; shift ;;
        --from-build) [ $# -ge 2 ] || die "--from-build needs a directory"; from_build=$2; shift 2 ;;
        --from-build=*) from_build=${1#*=}; shift ;;
        --package) [ $# -ge 2 ] || die "--package needs a directory"; package_dir=$2; shift 2 ;;
        --package=*) package_dir=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument \`$1\`" "run \`./install.sh --help\` for the options" ;;
    esac
done
[ -n "$prefix" ] || die "--prefix is empty"

if [ -n "$from_build" ]; then
    build=$(cd "$from_build" 2>/dev/null && pwd) || die "--from-build: $from_build is not a directory"
else
    command -v cargo >/dev/null 2>&1 ||
        die "cargo is not on PATH" "install Rust 1.88 or newer (https://rustup.rs), then rerun"
    echo "==> building a release (cargo build --release): a few minutes the first time"
    args=()
    for package in "${packages[@]}"; do args+=(-p "$package"); done
    (cd "$repo" && cargo build --release --locked "${args[@]}")
    build="$CARGO_TARGET_DIR/release"
fi

for program in "${programs[@]}"; do
    [ -f "$build/$program" ] || die "$build/$program is missing" "build it first (cargo build --release)"
done
for plugin in "${plugins[@]}"; do
    [ -f "$build/lib$plugin.so" ] || die "$build/lib$plugin.so is missing" "build it first (cargo build --release)"
done

# Copies $1 to $2 with mode $3, stripped: through a temporary file renamed
# into place, so a running codex never sees a half-written library.
place() {
    local source=$1 target=$2 mode=$3
    local partial="$target.partial.$$"
    cp "$source" "$partial"
    if command -v strip >/dev/null 2>&1; then
        strip --strip-unneeded "$partial"
    fi
    chmod "$mode" "$partial"
    mv -f "$partial" "$target"
}

# A directory that exists with mode 0755: created so, or made not writable
# by group and others (the loader refuses plugins in such a directory).
directory() {
    mkdir -p "$1"
    chmod 0755 "$1"
}

# Installs the tree into $1.
install_tree() {
    local root=$1
    directory "$root"
    directory "$root/bin"
    directory "$root/lib"
    directory "$root/lib/codex"
    directory "$root/lib/codex/plugins"
    for program in "${programs[@]}"; do
        place "$build/$program" "$root/bin/$program" 0755
    done
    for plugin in "${plugins[@]}"; do
        place "$build/lib$plugin.so" "$root/lib/codex/plugins/lib$plugin.so" 0644
    done
}

if [ -n "$package_dir" ]; then
    version=$("$build/codex" --version | awk '{print $2}')
    [ -n "$version" ] || die "cannot read the version of $build/codex"
    name="codex-host-$version-$(uname -m)-$(uname -s | tr '[:upper:]' '[:lower:]')"
    mkdir -p "$package_dir"
    out=$(cd "$package_dir" && pwd)
    staging=$(mktemp -d)
    trap 'rm -rf "$staging"' EXIT
    install_tree "$staging/$name"
    # Sums of every file of the tree, relative to its root (`sha256sum -c`
    # checks an unpacked tree); the plugins' sums as pins for config.toml.
    (cd "$staging/$name" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort |
        xargs sha256sum >SHA256SUMS)
    {
        echo "# Pins for \$CODEX_HOME/config.toml: only these builds of the plugins load."
        echo "[plugin_policy.sha256]"
        for plugin in "${plugins[@]}"; do
            sum=$(sha256sum "$staging/$name/lib/codex/plugins/lib$plugin.so" | awk '{print $1}')
            echo "${plugin#codex_} = \"$sum\""
        done
    } >"$staging/$name/plugin-pins.toml"
    (cd "$staging/$name" && sha256sum plugin-pins.toml >>SHA256SUMS)
    tar -C "$staging" --owner=0 --group=0 -czf "$out/$name.tar.gz" "$name"
    (cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
    echo "packaged $out/$name.tar.gz"
    echo "  sums: $out/$name.tar.gz.sha256, and SHA256SUMS and plugin-pins.toml inside"
    echo "  unpack anywhere; $name/bin/codex finds $name/lib/codex/plugins"
    exit 0
fi

install_tree "$prefix"
prefix=$(cd "$prefix" && pwd)
echo "installed into $prefix:"
for program in "${programs[@]}"; do echo "  bin/$program"; done
for plugin in "${plugins[@]}"; do echo "  lib/codex/plugins/lib$plugin.so"; done
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "note: $prefix/bin is not on PATH; add it (export PATH=\"$prefix/bin:\$PATH\") or run $prefix/bin/codex" ;;
esac
echo "check: $prefix/bin/codex plugin list"
