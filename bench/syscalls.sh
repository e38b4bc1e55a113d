#!/usr/bin/env bash
# Counts the system calls an echo server makes per round trip.
#
# usage: bench/syscalls.sh SERVER [CONNS] [RTTS]
#   SERVER  a server binary of this crate (echo_epoll, echo_threads,
#           echo_tokio, echo_smol, echo_ember) or a path to one
#   CONNS   connections (default 64), RTTS round trips each (default 2000),
#           with 64-byte messages
#
# Runs SERVER under `strace -f -c`, drives it with `loadgen --rtts`, then
# stops it with SIGTERM, after which strace writes its summary. Prints
# strace's table and two ratios over CONNS*RTTS round trips:
#   * I/O path: read/recv*/write/send*/epoll_wait/epoll_pwait*/poll/
#     select/accept* calls, i.e. the per-message work plus accept4, which
#     runs once per connection; one-time setup (mmap, socket, bind, thread
#     creation, ...) is left out;
#   * all syscalls strace saw, setup included.
# The binaries are built in release mode first (target dir: $CARGO_TARGET_DIR
# or <workspace>/target). Needs strace.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 3 || $1 == -h || $1 == --help ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
fi
server=$1
conns=${2:-64}
rtts=${3:-2000}
[[ $conns =~ ^[1-9][0-9]*$ && $rtts =~ ^[1-9][0-9]*$ ]] || {
    echo "syscalls.sh: CONNS and RTTS must be positive integers" >&2
    exit 2
}
command -v strace >/dev/null || { echo "syscalls.sh: strace not found" >&2; exit 1; }

bench_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench_dir")
bin_dir=${CARGO_TARGET_DIR:-$root/target}/release

# Build loadgen (and the server, if it is one of ours). ember is an optional
# dependency: leave it out unless the server is echo_ember, so the other
# servers can be measured while ember does not compile.
features=(--no-default-features)
bins=(--bin loadgen)
if [[ $server != */* ]]; then
    bins+=(--bin "$server")
    [[ $server == echo_ember ]] && features=()
    server_path=$bin_dir/$server
else
    server_path=$server
fi
(cd "$root" && timeout 900 cargo build --release -p ember-bench "${features[@]}" "${bins[@]}")
[[ -x $server_path ]] || { echo "syscalls.sh: no executable $server_path" >&2; exit 1; }

work=$(mktemp -d)
strace_pid=

# Stops the traced server and waits (bounded) for strace to write its summary.
# The signal goes to the server itself, strace's only child: strace with
# `-o FILE PROG` blocks fatal signals, and a background job ignores SIGINT.
stop_server() {
    local server_pid
    server_pid=$(pgrep -P "$strace_pid" || true)
    if [[ -n $server_pid ]]; then
        kill -TERM "$server_pid" 2>/dev/null || true
    fi
    for _ in $(seq 100); do
        kill -0 "$strace_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$strace_pid" 2>/dev/null; then
        echo "syscalls.sh: server did not exit after SIGTERM, killing it" >&2
        if [[ -n $server_pid ]]; then
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
    fi
    wait "$strace_pid" || true
    strace_pid=
}
cleanup() {
    if [[ -n $strace_pid ]]; then
        stop_server
    fi
    rm -rf "$work"
}
trap cleanup EXIT

strace -f -c -o "$work/strace.txt" "$server_path" 127.0.0.1:0 >"$work/server.out" 2>&1 &
strace_pid=$!

# Wait (up to 10 s) for the server to print its address.
addr=
for _ in $(seq 100); do
    addr=$(sed -n 's/^listening on //p' "$work/server.out" | head -n 1)
    [[ -n $addr ]] && break
    kill -0 "$strace_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $addr ]]; then
    echo "syscalls.sh: $server did not print 'listening on ADDR'; its output:" >&2
    cat "$work/server.out" >&2
    exit 1
fi

echo "server: $server on $addr (under strace -f -c)"
result=$(timeout 300 "$bin_dir/loadgen" --addr "$addr" --conns "$conns" --size 64 --rtts "$rtts")
echo "loadgen: $result"

stop_server

echo
cat "$work/strace.txt"
echo

# strace -c rows: % time, seconds, usecs/call, calls, [errors], syscall.
awk -v round_trips=$((conns * rtts)) '
    $NF == "total" || NF < 5 || $4 !~ /^[0-9]+$/ { next }
    {
        all += $4
        if ($NF ~ /^(read|readv|recv|recvfrom|recvmsg|recvmmsg|write|writev|send|sendto|sendmsg|sendmmsg|epoll_wait|epoll_pwait|epoll_pwait2|poll|ppoll|select|pselect6|accept|accept4)$/)
            io += $4
    }
    END {
        printf "round trips = %d\n", round_trips
        printf "syscalls per round trip = %d / %d = %.3f  (I/O path: read/recv*/write/send*/epoll_wait/poll/accept*)\n", io, round_trips, io / round_trips
        printf "all syscalls per round trip = %d / %d = %.3f  (including one-time setup)\n", all, round_trips, all / round_trips
    }' "$work/strace.txt"
