#!/usr/bin/env bash
# libFuzzer targets of herold (Fuzz/, a separate package built with -sanitize=fuzzer,address).
#
#   scripts/fuzz.sh replay [TARGET...]     build, then run every committed corpus input once
#                                          (CI); exits non-zero on any crash or broken invariant
#   scripts/fuzz.sh run TARGET SECONDS     a campaign: new interesting inputs are merged into
#                                          Fuzz/corpus/TARGET, crashes saved for triage
#   scripts/fuzz.sh crashes [TARGET...]    replay the reproducers in Fuzz/crashes/ (each should
#                                          pass once its bug is fixed)
#   scripts/fuzz.sh minimize TARGET        shrink Fuzz/corpus/TARGET to the seeds plus a
#                                          smallest set keeping all coverage (run does this too)
#
# Targets: event config template mime address. Crashes found by `run` land in
# Fuzz/.build/artifacts/TARGET/; copy the ones worth keeping to Fuzz/crashes/TARGET/.
set -uo pipefail
cd "$(dirname "$0")/.."

TARGETS=(event config template mime address)
# Swift's backtracer would make libFuzzer hang after a crash.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
BIN=Fuzz/.build/debug

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

build() {
    echo "fuzz: building the fuzz targets (debug, -sanitize=fuzzer,address)" >&2
    swift build -c debug --package-path Fuzz -Xswiftc -sanitize=fuzzer,address 2>&1 \
        | grep -v "Cannot export local symbol" | grep -E "error|warning: unre|Build|Compiling" >&2
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: build failed" >&2; exit 1; }
}

check_target() {
    local t
    for t in "${TARGETS[@]}"; do [ "$t" = "$1" ] && return 0; done
    echo "fuzz: unknown target '$1' (one of: ${TARGETS[*]})" >&2
    exit 2
}

# Runs each file under DIR (a corpus or crash folder) once through fuzz-TARGET.
replay_dir() {
    local target=$1 dir=$2 count
    count=$(find "$dir" -type f 2>/dev/null | wc -l)
    [ "$count" -gt 0 ] || { echo "fuzz: $target: no inputs in $dir"; return 0; }
    local scratch log start
    scratch=$(mktemp -d)
    log="$scratch/log"
    start=$(date +%s)
    if "$BIN/fuzz-$target" -runs=0 -timeout=30 -rss_limit_mb=4096 -artifact_prefix="$scratch/" \
        "$dir" </dev/null >"$log" 2>&1; then
        echo "fuzz: $target: $count inputs of $dir replayed, no crash ($(( $(date +%s) - start )) s)"
        rm -rf "$scratch"
        return 0
    fi
    echo "fuzz: $target: CRASH replaying $dir:"
    grep -E "INVARIANT|Fatal error|runtime failure|ERROR: |SUMMARY|^    #[0-9] |Test unit|Running: " "$log" | head -30
    rm -rf "$scratch"
    return 1
}

# -runs=0 stops at the first crashing input; crash replay runs each file alone to list them all.
replay_files() {
    local target=$1 dir=$2 failed=0 f
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        if "$BIN/fuzz-$target" -timeout=5 "$f" </dev/null >/dev/null 2>&1; then
            echo "fuzz: $target: $f passes (fixed: move it to Fuzz/corpus/$target/)"
        else
            echo "fuzz: $target: $f still crashes"
            failed=1
        fi
    done
    return $failed
}

# Rebuilds Fuzz/corpus/TARGET as the kept inputs — hand-made seeds (seed-*) and reproducers
# of fixed bugs (fixed-*), which stay whatever coverage they add — plus a smallest set of the
# other inputs (and of those in the extra folders given) that keeps every coverage feature.
minimize() {
    local target=$1 corpus="Fuzz/corpus/$1" fresh
    shift
    fresh=$(mktemp -d)
    cp "$corpus"/seed-* "$corpus"/fixed-* "$fresh"/ 2>/dev/null
    if ! "$BIN/fuzz-$target" -merge=1 -set_cover_merge=1 -timeout=10 -rss_limit_mb=4096 \
            "$fresh" "$corpus" "$@" </dev/null >"$fresh.log" 2>&1; then
        echo "fuzz: $target: merge failed, corpus left as it was:" >&2
        tail -5 "$fresh.log" >&2
        rm -rf "$fresh" "$fresh.log"
        return 1
    fi
    grep -E "MERGE-OUTER: [0-9]+ new files" "$fresh.log" >&2
    find "$corpus" -type f ! -name 'seed-*' ! -name 'fixed-*' -delete
    cp "$fresh"/* "$corpus"/
    rm -rf "$fresh" "$fresh.log"
}

cmd=${1:-}
shift || true
case "$cmd" in
replay|crashes)
    targets=("$@")
    [ ${#targets[@]} -gt 0 ] || targets=("${TARGETS[@]}")
    for t in "${targets[@]}"; do check_target "$t"; done
    build
    failed=0
    for t in "${targets[@]}"; do
        if [ "$cmd" = replay ]; then
            replay_dir "$t" "Fuzz/corpus/$t" || failed=1
        else
            replay_files "$t" "Fuzz/crashes/$t" || failed=1
        fi
    done
    exit $failed
    ;;
minimize)
    [ $# -eq 1 ] || usage
    check_target "$1"
    build
    before=$(find "Fuzz/corpus/$1" -type f | wc -l)
    minimize "$1" || exit 1
    echo "fuzz: $1: corpus $before -> $(find "Fuzz/corpus/$1" -type f | wc -l) files"
    ;;
run)
    [ $# -eq 2 ] || usage
    target=$1 seconds=$2
    check_target "$target"
    build
    corpus="Fuzz/corpus/$target"
    artifacts="Fuzz/.build/artifacts/$target"
    found=$(mktemp -d)
    mkdir -p "$corpus" "$artifacts"
    before=$(find "$corpus" -type f | wc -l)
    # One job in a child process; crashes are saved and the campaign goes on.
    "$BIN/fuzz-$target" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=8192 \
        -artifact_prefix="$artifacts/" "$found" "$corpus" </dev/null 2>&1 \
        | grep -E "INITED|DONE|NEW|pulse|crash|INVARIANT|Fatal error|runtime failure|^#[0-9]+: " | tail -40
    minimize "$target" "$found"
    rm -rf "$found"
    after=$(find "$corpus" -type f | wc -l)
    echo "fuzz: $target: corpus $before -> $after files; crashes: $(find "$artifacts" -type f -name 'crash-*' | wc -l) in $artifacts"
    ;;
*)
    usage
    ;;
esac
