#!/usr/bin/env bash
# Smoke test for the benchmark binaries.
#
# usage: bench/smoke.sh
#
# Builds the bench crate in release mode, then for each server: starts it
# on 127.0.0.1:0, reads the bound address from its `listening on ADDR`
# line, drives it and stops it. Echo servers get `loadgen --conns 8 --size
# 64 --rtts 50` (loadgen checks every echoed byte); HTTP servers get
# `http_check --conns 4 --requests 20` (sequential, pipelined and
# `Connection: close` requests, every response checked; no wrk needed).
# Then each micro-benchmark binary runs once, small. Prints one line per
# check and `N passed, M failed`; exits non-zero if any failed. Everything
# is bounded by `timeout`. The ember binaries are built separately, so that
# a broken ember counts as failures instead of stopping the others.
# Target dir: $CARGO_TARGET_DIR or <workspace>/target.
set -euo pipefail

bench_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench_dir")
bin_dir=${CARGO_TARGET_DIR:-$root/target}/release
servers=(echo_epoll echo_threads echo_tokio echo_tokio_mt echo_smol echo_ember echo_select echo_poll
    echo_tokio_timed echo_ember_timed
    http_epoll http_threads http_tokio http_smol http_ember)
# Micro-benchmark runs, small: "binary arguments".
micros=("micro_tokio spawn 10000" "micro_smol spawn 10000" "micro_ember spawn 10000"
    "micro_tokio sleeps 10000" "micro_ember sleeps 10000"
    "micro_tokio lateness 50 20" "micro_ember lateness 50 20"
    "micro_tokio semaphore 1000" "micro_ember semaphore 1000" "micro_tokio mutex 1000"
    "micro_ember mutex 1000" "micro_tokio watch 1000" "micro_ember watch 1000"
    "micro_tokio broadcast 1000" "micro_ember broadcast 1000"
    "micro_tokio arm_cancel 100 10000" "micro_ember arm_cancel 100 10000")

cd "$root"
echo "building (release)..."
# Everything except the *_ember binaries (whose `ember` feature is off here).
timeout 900 cargo build --release -p ember-bench --no-default-features --bins
ember_built=yes
timeout 900 cargo build --release -p ember-bench --bin echo_ember --bin echo_ember_timed \
    --bin http_ember --bin micro_ember || ember_built=no

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

# Runs one server against loadgen (echo) or http_check (HTTP), leaving the
# client's result line or the reason for failure in $message; returns 1 on
# failure.
check_server() {
    local name=$1 out=$work/$1.out addr client
    message=
    if [[ $name == *_ember && $ember_built == no ]]; then
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
    if [[ $name == http_* ]]; then
        client=("$bin_dir/http_check" --addr "$addr" --conns 4 --requests 20)
    else
        client=("$bin_dir/loadgen" --addr "$addr" --conns 8 --size 64 --rtts 50)
    fi
    if ! message=$(timeout 30 "${client[@]}" 2>&1); then
        message="${client[0]##*/} failed: $message"
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
for micro in "${micros[@]}"; do
    read -r name args <<<"$micro"
    if [[ $name == *_ember && $ember_built == no ]]; then
        message="build failed (see cargo output above)"
    # shellcheck disable=SC2086 # $args is meant to split into arguments
    elif message=$(timeout 30 "$bin_dir/$name" $args 2>&1); then
        printf 'PASS %-13s %s\n' "$name" "$message"
        passed=$((passed + 1))
        continue
    fi
    printf 'FAIL %-13s %s: %s\n' "$name" "$args" "$(head -c 300 <<<"$message" | tr "\n" " ")"
    failed=$((failed + 1))
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
