#!/usr/bin/env bash
# What each runtime change bought: user-space instructions per echo round
# trip of echo_ember at several commits, measured the way bench/suite.py
# does (callgrind, 64 connections, 64 B, difference of a long and a short
# run so start-up and accepts cancel out).
#
# usage: bench/history.sh REV...     e.g. bench/history.sh df4cd56 4669bd5 HEAD
#
# Environment (defaults in brackets): SERVER, the echo binary to measure
# [echo_ember; echo_ember_timed, echo_tokio, echo_tokio_timed work too];
# CONNS, connections [64]; SHORT and LONG, round trips per connection of
# the two runs [200, 1200]. E.g. the timed echo at 1,024 connections:
#   SERVER=echo_ember_timed CONNS=1024 SHORT=50 LONG=250 bench/history.sh HEAD
#
# For each REV: exports that commit's tree (git archive) to a temporary
# directory, puts *this* checkout's bench/ over it (so the benchmark code is
# the same for every commit and only the runtime differs), builds echo_ember
# and loadgen in release mode (target dir: $CARGO_TARGET_DIR/history or
# <workspace>/target/history) and prints one line per commit:
#   <rev> <instructions per round trip> <commit subject>
# Needs valgrind. Deterministic enough to compare commits on a busy machine.
set -euo pipefail

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
fi
command -v valgrind >/dev/null || { echo "history.sh: valgrind not found" >&2; exit 1; }

bench_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench_dir")
target=${CARGO_TARGET_DIR:-$root/target}/history
server=${SERVER:-echo_ember}
short=${SHORT:-200} long=${LONG:-1200} conns=${CONNS:-64}
work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Total instructions of $server serving $2 round trips per connection.
instructions() {
    local bin=$target/release out=$work/callgrind.out log=$work/server.log addr=
    rm -f "$out"
    taskset -c 0 valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$out" \
        "$bin/$server" 127.0.0.1:0 >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 300); do
        addr=$(sed -n 's/^listening on //p' "$log" | head -n 1)
        [[ -n $addr ]] && break
        sleep 0.1
    done
    [[ -n $addr ]] || { echo "history.sh: $server did not start: $(cat "$log")" >&2; exit 1; }
    taskset -c 1 "$bin/loadgen" --addr "$addr" --conns $conns --size 64 --rtts "$1" >/dev/null
    kill -TERM "$server_pid"
    wait "$server_pid" || true
    server_pid=
    sed -n 's/^totals: *//p' "$out"
}

for rev in "$@"; do
    tree=$work/tree
    rm -rf "$tree" && mkdir -p "$tree"
    # -m: fresh mtimes, so cargo rebuilds what differs from the previous commit.
    git -C "$root" archive "$rev" | tar -x -m -C "$tree"
    rm -rf "$tree/bench" && cp -r "$bench_dir" "$tree/bench"
    (cd "$tree" && CARGO_TARGET_DIR=$target timeout 1800 cargo build --release -q \
        -p ember-bench --bin "$server" --bin loadgen)
    a=$(instructions $short)
    b=$(instructions $long)
    per_rtt=$(awk -v a="$a" -v b="$b" -v n=$((conns * (long - short))) 'BEGIN { printf "%.0f", (b - a) / n }')
    printf '%s %s %s\n' "$(git -C "$root" rev-parse --short "$rev")" "$per_rtt" \
        "$(git -C "$root" log -1 --format=%s "$rev")"
done
