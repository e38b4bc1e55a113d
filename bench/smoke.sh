#!/usr/bin/env bash
# Smoke test for the benchmark binaries.
#
# usage: bench/smoke.sh
#
# Builds the bench crate in release mode, then for each echo server: starts
# it on 127.0.0.1:0, reads the bound address from its `listening on ADDR`
# line, runs `loadgen --conns 8 --size 64 --rtts 50` against it (loadgen
# checks every echoed byte) and stops it. Prints one line per server and
# `N passed, M failed`; exits non-zero if any server failed. Everything is
# bounded by `timeout`. echo_ember is built separately, so that a broken
# ember counts as one failure instead of stopping the others.
# Target dir: $CARGO_TARGET_DIR or <workspace>/target.
set -euo pipefail

bench_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench_dir")
bin_dir=${CARGO_TARGET_DIR:-$root/target}/release
servers=(echo_epoll echo_threads echo_tokio echo_smol echo_ember)

cd "$root"
echo "building (release)..."
# Everything except echo_ember (whose `ember` feature is off here).
timeout 900 cargo build --release -p ember-bench --no-default-features --bins
ember_built=yes
timeout 900 cargo build --release -p ember-bench --bin echo_ember || ember_built=no

work=$(mktemp -d)
server_pid=
stop_server() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT

# Runs one server against loadgen, leaving loadgen's result line or the
# reason for failure in $message; returns 1 on failure.
check_server() {
    local name=$1 out=$work/$1.out addr
    message=
    if [[ $name == echo_ember && $ember_built == no ]]; then
        message="build failed (see cargo output above)"
        return 1
    fi
    timeout 60 "$bin_dir/$name" 127.0.0.1:0 >"$out" 2>&1 &
    server_pid=$!
    addr=
    for _ in $(seq 100); do # Up to 10 s.
        addr=$(sed -n 's/^listening on //p' "$out" | head -n 1)
        [[ -n $addr ]] && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z $addr ]]; then
        message="no 'listening on ADDR' line; server output: $(head -c 500 "$out")"
        return 1
    fi
    if ! message=$(timeout 30 "$bin_dir/loadgen" --addr "$addr" --conns 8 --size 64 --rtts 50 2>&1); then
        message="loadgen failed: $message"
        return 1
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        message="server exited during the test: $(head -c 500 "$out")"
        return 1
    fi
}

passed=0
failed=0
for name in "${servers[@]}"; do
    if check_server "$name"; then
        printf 'PASS %-13s %s\n' "$name" "$message"
        passed=$((passed + 1))
    else
        printf 'FAIL %-13s %s\n' "$name" "$message"
        failed=$((failed + 1))
    fi
    stop_server
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
