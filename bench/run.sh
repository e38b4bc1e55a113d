#!/usr/bin/env bash
# Runs ember's whole benchmark suite and writes docs/benchmarks.md,
# docs/benchmarks.json and docs/img/benchmarks.png.
#
# usage: bench/run.sh [--quick] [--rounds N] [--sections a,b --merge] [...]
#        (bench/run.sh --help lists every option of bench/suite.py)
#
# Checks the tools first (strace, valgrind, wrk, redis-benchmark, taskset,
# strip, python3, matplotlib). On a fresh Debian or Ubuntu machine it
# installs what is missing (apt-get as root or through passwordless sudo,
# matplotlib with pip); elsewhere, or with EMBER_BENCH_NO_INSTALL=1, it says
# what to install and stops. Then it runs bench/suite.py, which builds what
# it needs in release mode (target dir: $CARGO_TARGET_DIR or
# <workspace>/target). Needs two CPUs or more: servers run on CPU 0, load
# generators on CPU 1. A full run takes about 30 minutes on a quiet 2-CPU
# machine, plus up to 40 minutes of waiting for the machine to go quiet
# before the timed runs.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "run.sh: cargo not found (https://rustup.rs)" >&2; exit 1; }

# Each tool and the Debian package that has it.
declare -A package=(
    [strace]=strace [valgrind]=valgrind [callgrind_annotate]=valgrind
    [wrk]=wrk [redis-benchmark]=redis-tools [taskset]=util-linux
    [strip]=binutils [python3]=python3
)
missing=()
for tool in strace valgrind callgrind_annotate wrk redis-benchmark taskset strip python3; do
    command -v "$tool" >/dev/null || missing+=("${package[$tool]}")
done
if ((${#missing[@]})); then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    sudo=()
    ((EUID == 0)) || sudo=(sudo -n)
    if [[ ${EMBER_BENCH_NO_INSTALL:-} != 1 ]] && command -v apt-get >/dev/null &&
        { ((EUID == 0)) || sudo -n true 2>/dev/null; }; then
        echo "run.sh: installing ${missing[*]} (apt-get)" >&2
        "${sudo[@]}" apt-get update -qq
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "run.sh: missing: ${missing[*]}" >&2
        echo "  Debian/Ubuntu: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi
if ! python3 -c 'import matplotlib' 2>/dev/null; then
    if [[ ${EMBER_BENCH_NO_INSTALL:-} != 1 ]]; then
        echo "run.sh: installing matplotlib (pip), for the chart" >&2
        python3 -m pip install --quiet matplotlib ||
            echo "run.sh: pip could not install matplotlib" >&2
    fi
    python3 -c 'import matplotlib' 2>/dev/null ||
        echo "run.sh: python3 cannot import matplotlib (pip install matplotlib); the chart will be skipped" >&2
fi
if (($(nproc) < 2)); then
    echo "run.sh: needs at least 2 CPUs (the server on CPU 0, the load on CPU 1)" >&2
    exit 1
fi
export PYTHONDONTWRITEBYTECODE=1
exec python3 bench/suite.py "$@"
