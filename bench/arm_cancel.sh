#!/usr/bin/env bash
# What a timeout that never fires costs: create a 30 s sleep, poll it once
# (armed), drop it (cancelled), with 10, 10,000 and 1,000,000 other timers
# armed, on ember and tokio (`micro_* arm_cancel ARMED N`, see
# bench/src/micro.rs).
#
# usage: bench/arm_cancel.sh [ROUNDS=2000000]
#
# Prints one line per runtime and store size: nanoseconds per arm+cancel
# (the median of three runs of ROUNDS, on CPU 0) and user-space
# instructions per arm+cancel (callgrind, the difference of a run of
# ROUNDS/10 and one of ROUNDS/10 + 100,000, so setup and exit cancel out).
# Needs valgrind and taskset. Target dir: $CARGO_TARGET_DIR or <workspace>/target.
set -euo pipefail

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
fi
rounds=${1:-2000000}
bench_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench_dir")
bin=${CARGO_TARGET_DIR:-$root/target}/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$root" && timeout 1800 cargo build --release -q -p ember-bench --bin micro_ember --bin micro_tokio)

# Instructions of `micro_$1 arm_cancel $2 $3`.
instructions() {
    local out=$work/callgrind.out
    rm -f "$out"
    timeout 1800 valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$out" \
        "$bin/micro_$1" arm_cancel "$2" "$3" >/dev/null 2>&1
    sed -n 's/^totals: *//p' "$out"
}

printf '%-6s %10s %12s %14s\n' runtime armed ns_each instr_each
for armed in 10 10000 1000000; do
    for rt in ember tokio; do
        ns=$(for _ in 1 2 3; do
            taskset -c 0 timeout 600 "$bin/micro_$rt" arm_cancel "$armed" "$rounds" |
                sed -n 's/.*ns_each=\([0-9.]*\).*/\1/p'
        done | sort -n | sed -n 2p)
        short=$((rounds / 10)) extra=100000
        a=$(instructions "$rt" "$armed" "$short")
        b=$(instructions "$rt" "$armed" $((short + extra)))
        instr=$(awk -v a="$a" -v b="$b" -v n="$extra" 'BEGIN { printf "%.0f", (b - a) / n }')
        printf '%-6s %10s %12s %14s\n' "$rt" "$armed" "$ns" "$instr"
    done
done
