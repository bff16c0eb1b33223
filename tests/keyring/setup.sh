#!/usr/bin/env bash
# Installs what the credential-store tests (and the one login through a real
# browser) run against, from Debian's packages, only when something is missing
# (safe to run any number of times):
#   gnome-keyring     a real Secret Service (gnome-keyring-daemon)
#   dbus              dbus-daemon / dbus-run-session for a private session bus
#   libsecret-tools   secret-tool, to read and write Secret Service items
#   keyutils          keyctl, to read and write the kernel keyring
#   python3           runs the test credential helper (a docker credential helper)
#   chromium          a real headless browser as $BROWSER for one OAuth login
# One line per step on stdout.
set -euo pipefail

say() { printf 'keyring setup: %s\n' "$*"; }
die() {
    printf 'keyring setup: error: %s\n' "$*" >&2
    exit 1
}

# Runs a command as root: directly when we are root, else through `sudo -n`.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root to run '$*'; run it yourself (or install sudo), then rerun tests/keyring/setup.sh"
    fi
}

# command -> Debian package providing it
declare -A wanted=(
    [gnome-keyring-daemon]=gnome-keyring
    [dbus-daemon]=dbus
    [dbus-run-session]=dbus
    [secret-tool]=libsecret-tools
    [keyctl]=keyutils
    [python3]=python3
    [chromium]=chromium
)

missing=()
for command in "${!wanted[@]}"; do
    if ! command -v "$command" >/dev/null 2>&1; then
        package=${wanted[$command]}
        case " ${missing[*]-} " in
            *" $package "*) ;;
            *) missing+=("$package") ;;
        esac
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    say "gnome-keyring, dbus, secret-tool, keyctl, python3 and chromium found, nothing to install"
    exit 0
fi

command -v apt-get >/dev/null 2>&1 ||
    die "missing ${missing[*]} and apt-get is not available; install them with your package manager, then rerun"
say "installing ${missing[*]} with apt-get"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null ||
    die "apt-get update failed (output above); fix the package sources, then rerun tests/keyring/setup.sh"
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed (output above); install them yourself, then rerun tests/keyring/setup.sh"
for command in "${!wanted[@]}"; do
    command -v "$command" >/dev/null 2>&1 ||
        die "apt-get finished but \`$command\` is still not on PATH ($PATH)"
done
say "installed ${missing[*]}"
