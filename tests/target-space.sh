#!/usr/bin/env bash
# Makes room for a build: when the disk holding the cargo build dir has less
# than MIN_GIB GiB free, removes what the build dir holds that a build can
# make again (incremental state first, then the whole profile dirs), saying
# what it removed and how much room that left. A build dir grown past
# MAX_GIB (cargo never removes the artifacts of older sources or settings)
# is emptied the same way, whatever the disk has free.
# Usage: tests/target-space.sh TARGET_DIR MIN_GIB [MAX_GIB]
set -uo pipefail

target=$1
min_gib=$2
max_gib=${3:-40}

free_gib() {
    # df -P: one line per filesystem, the fourth field is available 1K blocks.
    local dir=$1
    while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done
    df -Pk "$dir" | awk 'NR == 2 { print int($4 / 1048576) }'
}

if [ -d "$target" ]; then
    size_gib=$(du -sk "$target" 2>/dev/null | awk '{ print int($1 / 1048576) }')
    if [ "${size_gib:-0}" -gt "$max_gib" ]; then
        echo "target space: $target holds ${size_gib} GiB (more than ${max_gib}); removing its built profiles (the next build is cold)"
        rm -rf "$target"/debug "$target"/release
    fi
fi

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
