#!/usr/bin/env bash
# hyper 1.x on ember (`ember::hyper` glue) against the same hyper service on
# tokio's current-thread runtime (hyper-util's TokioIo): requests per
# second with `wrk -t1` at 16 and 256 connections, in alternating rounds
# (ember, tokio, ember, ...; the order flips each round), and user-space
# instructions per request under callgrind.
#
# usage: bench/hyper.sh [ROUNDS] [SECS]     (defaults 5 rounds of 5 s)
#
# Servers run on CPU 0, wrk on CPU 1 (taskset). Needs wrk and valgrind.
# Prints one line per run and a summary: median requests/s per server and
# load, the median of the per-round ratios ember/tokio, and instructions
# per request.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5} secs=${2:-5}
for tool in wrk valgrind taskset; do
    command -v $tool >/dev/null || { echo "hyper.sh: $tool not found" >&2; exit 1; }
done
cargo build -q --release --manifest-path bench/Cargo.toml --features hyper \
    --bin hyper_ember --bin hyper_tokio
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

start() { # $1: server binary, $2...: wrapper; sets pid and addr
    local srv=$1; shift
    taskset -c 0 "$@" "$bin/$srv" 127.0.0.1:0 >"$work/log" 2>&1 &
    pid=$!
    addr=
    for _ in $(seq 600); do
        addr=$(sed -n 's/^listening on //p' "$work/log" | head -n 1)
        [[ -n $addr ]] && return
        sleep 0.1
    done
    echo "hyper.sh: $srv did not start" >&2; exit 1
}
stop() { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

rate() { # $1: conns -> requests/s
    taskset -c 1 wrk -t1 -c"$1" -d"${secs}s" "http://$addr/" | awk '/^Requests\/sec/ {print $2}'
}

: >"$work/rates"
for r in $(seq "$rounds"); do
    order="ember tokio"
    (( r % 2 == 0 )) && order="tokio ember"
    for conns in 16 256; do
        for rt in $order; do
            start "hyper_$rt"
            rps=$(rate "$conns")
            stop
            echo "round $r c$conns $rt $rps" | tee -a "$work/rates"
        done
    done
done

echo
echo "median requests/s and ratio (median of per-round ember/tokio):"
python3 - "$work/rates" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
for conns in ("c16", "c256"):
    by = {}
    for _, r, c, rt, rps in rows:
        if c == conns:
            by.setdefault(r, {})[rt] = float(rps)
    e = statistics.median(v["ember"] for v in by.values())
    t = statistics.median(v["tokio"] for v in by.values())
    ratio = statistics.median(v["ember"] / v["tokio"] for v in by.values())
    print(f"  {conns:>5}: ember {e:,.0f}  tokio {t:,.0f}  ember/tokio {ratio:.2f}x")
PY

echo
echo "user-space instructions per request (callgrind, wrk -t1 -c16 for 10 s):"
for rt in ember tokio; do
    start "hyper_$rt" valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$work/cg.$rt"
    reqs=$(taskset -c 1 wrk -t1 -c16 -d10s "http://$addr/" | awk '/requests in/ {print $1}')
    stop
    total=$(sed -n 's/^totals: *//p' "$work/cg.$rt")
    echo "  $rt: $((total / reqs)) ($reqs requests)"
done
