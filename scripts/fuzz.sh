#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for a while, one after the other, and sums up.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]    default: 600 s, every target
#
# For long runs outside CI (CI replays the committed corpus and crashers instead, in
# protocol/tests/protocol/fuzz_corpus.rs). Needs a nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`). Targets are built with debug assertions, so an integer
# overflow is a finding too.
#
# libFuzzer adds the inputs it finds interesting to fuzz/corpus/<target>/ (git ignores
# all but the committed seed-* files) and writes every crashing input to
# fuzz/artifacts/<target>/; a target keeps running after a crash, and the summary replays
# each new crasher to show its panic. A known bug is usually found again: commit one
# crasher per kind of panic, after which the replay test fails until the decoder is fixed.
# Reproduce one with `cargo +nightly fuzz run <target> <file>`.
#
# Environment:
#   FUZZ_TOOLCHAIN   rustup toolchain to build with (default: nightly)
#   FUZZ_TIMEOUT     seconds one input may take before it counts as a hang (default: 10)
#   FUZZ_LOG_DIR     where each target's output goes (default: a fresh temporary directory)
#   CARGO_TARGET_DIR honoured as usual
#
# Exit status: 0 if no target crashed, 1 if one did, 2 on a usage or build error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_PER_TARGET=${1:-600}
TOOLCHAIN=${FUZZ_TOOLCHAIN:-nightly}
TIMEOUT=${FUZZ_TIMEOUT:-10}

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}
case $SECONDS_PER_TARGET in
-h | --help)
    usage
    exit 0
    ;;
esac
if ! [[ $SECONDS_PER_TARGET =~ ^[1-9][0-9]*$ ]]; then
    echo "fuzz: SECONDS_PER_TARGET must be a positive whole number, not '$SECONDS_PER_TARGET'" >&2
    exit 2
fi
if ! cargo "+$TOOLCHAIN" fuzz --version >/dev/null 2>&1; then
    echo "fuzz: 'cargo +$TOOLCHAIN fuzz' does not work; install cargo-fuzz (cargo install cargo-fuzz) and a $TOOLCHAIN toolchain" >&2
    exit 2
fi

cd "$ROOT"

mapfile -t ALL_TARGETS < <(cargo "+$TOOLCHAIN" fuzz list)
if ((${#ALL_TARGETS[@]} == 0)); then
    echo "fuzz: cargo fuzz lists no targets" >&2
    exit 2
fi
if (($# > 1)); then
    TARGETS=("${@:2}")
    for target in "${TARGETS[@]}"; do
        printf '%s\n' "${ALL_TARGETS[@]}" | grep -qxF -- "$target" ||
            { echo "fuzz: no target '$target' (there are: ${ALL_TARGETS[*]})" >&2; exit 2; }
    done
else
    TARGETS=("${ALL_TARGETS[@]}")
fi

LOG_DIR=${FUZZ_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/confer-fuzz.XXXXXX")}
mkdir -p "$LOG_DIR"

echo "== building ${#TARGETS[@]} fuzz targets (${TARGETS[*]}) with $TOOLCHAIN"
if ! cargo "+$TOOLCHAIN" fuzz build >"$LOG_DIR/build.log" 2>&1; then
    tail -n 30 "$LOG_DIR/build.log" >&2
    echo "fuzz: build failed (full log: $LOG_DIR/build.log)" >&2
    exit 2
fi

# The artifact files of TARGET, one per line.
artifacts_of() {
    local dir=fuzz/artifacts/$1
    [[ -d $dir ]] || return 0
    find "$dir" -maxdepth 1 -type f -printf '%f\n' | sort
}

# why_it_crashed TARGET FILE: replays one artifact and prints where it panicked and why,
# else libFuzzer's own verdict (timeout, out of memory).
why_it_crashed() {
    local replay=$LOG_DIR/$1-$2.log
    cargo "+$TOOLCHAIN" fuzz run "$1" "fuzz/artifacts/$1/$2" >"$replay" 2>&1 || true
    grep -A 1 -m 1 "panicked at" "$replay" || grep -m 1 -E "==[0-9]+== ERROR" "$replay" ||
        echo "(no panic on replay; see $replay)"
}

declare -a SUMMARY=()
crashed=0
for target in "${TARGETS[@]}"; do
    log=$LOG_DIR/$target.log
    before=$(artifacts_of "$target")
    echo "== $target: ${SECONDS_PER_TARGET}s (log: $log)"
    # Fork mode with crashes ignored: the target runs its whole time and keeps every
    # crasher it finds, rather than stopping at the first.
    status=0
    cargo "+$TOOLCHAIN" fuzz run "$target" -- \
        -fork=1 -ignore_crashes=1 -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" \
        >"$log" 2>&1 || status=$?
    runs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#' || true)
    corpus=$(find "fuzz/corpus/$target" -maxdepth 1 -type f 2>/dev/null | wc -l)
    new=$(comm -13 <(printf '%s\n' "$before") <(artifacts_of "$target") | sed '/^$/d')
    if ((status == 0)) && [[ -z $new ]]; then
        line="ok       $target: ${runs:-?} runs, corpus $corpus files"
    else
        crashed=$((crashed + 1))
        line="CRASHED  $target: $(wc -w <<<"$new") new artifacts, exit status $status, ${runs:-?} runs"
        for file in $new; do
            line+=$'\n'"         fuzz/artifacts/$target/$file"
            line+=$'\n'"$(why_it_crashed "$target" "$file" | sed 's/^/           /')"
        done
    fi
    echo "$line"
    SUMMARY+=("$line")
done

echo
echo "== summary (${SECONDS_PER_TARGET}s per target, logs in $LOG_DIR)"
printf '%s\n' "${SUMMARY[@]}"
echo "fuzz: ${#TARGETS[@]} targets, $((${#TARGETS[@]} - crashed)) clean, $crashed crashed"
((crashed == 0)) || exit 1
