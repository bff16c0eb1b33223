#!/usr/bin/env bash
# Makes room for a build: when the disk holding the cargo build dir has less
# than MIN_GIB GiB free, removes what the build dir holds that a build can
# make again (incremental state first, then the whole profile dirs), saying
# what it removed and how much room that left.
# Usage: tests/target-space.sh TARGET_DIR MIN_GIB
set -uo pipefail

target=$1
min_gib=$2

free_gib() {
    # df -P: one line per filesystem, the fourth field is available 1K blocks.
    local dir=$1
    while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done
    df -Pk "$dir" | awk 'NR == 2 { print int($4 / 1048576) }'
}

have=$(free_gib "$target")
if [ "$have" -ge "$min_gib" ]; then
    echo "target space: ${have} GiB free, at least ${min_gib} GiB wanted"
    exit 0
fi
echo "target space: only ${have} GiB free (at least ${min_gib} GiB wanted); removing incremental state under $target"
rm -rf "$target"/debug/incremental "$target"/release/incremental
have=$(free_gib "$target")
if [ "$have" -lt "$min_gib" ]; then
    echo "target space: ${have} GiB free; removing the built profiles under $target (the next build is cold)"
    rm -rf "$target"/debug "$target"/release
    have=$(free_gib "$target")
fi
if [ "$have" -lt "$min_gib" ]; then
    echo "target space: warning: still only ${have} GiB free; the build may run out of disk. Free space on $(df -P "$target" 2>/dev/null | awk 'NR == 2 { print $6 }') and rerun" >&2
else
    echo "target space: ${have} GiB free now"
fi
exit 0
