#!/usr/bin/env bash
# Runs ember's whole benchmark suite and writes docs/benchmarks.md,
# docs/benchmarks.json and docs/img/benchmarks.png.
#
# usage: bench/run.sh [--quick] [--rounds N] [--sections a,b --merge] [...]
#        (bench/run.sh --help lists every option of bench/suite.py)
#
# Checks the tools first (strace, valgrind, wrk, redis-benchmark, taskset,
# strip, python3, matplotlib) and says how to install what is missing, then
# runs bench/suite.py, which builds what it needs in release mode (target
# dir: $CARGO_TARGET_DIR or <workspace>/target). Needs two CPUs or more:
# servers run on CPU 0, load generators on CPU 1. A full run takes about
# an hour on a quiet 2-CPU machine, plus up to 40 minutes of waiting for
# the machine to go quiet before the timed runs.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in cargo strace valgrind callgrind_annotate wrk redis-benchmark taskset strip python3; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    echo "run.sh: missing: ${missing[*]}" >&2
    echo "  Debian/Ubuntu: apt-get install -y strace valgrind wrk redis-tools util-linux binutils python3" >&2
    exit 1
fi
if ! python3 -c 'import matplotlib' 2>/dev/null; then
    echo "run.sh: python3 cannot import matplotlib (pip install matplotlib); the chart will be skipped" >&2
fi
if (($(nproc) < 2)); then
    echo "run.sh: needs at least 2 CPUs (the server on CPU 0, the load on CPU 1)" >&2
    exit 1
fi
exec python3 bench/suite.py "$@"
