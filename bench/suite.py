#!/usr/bin/env python3
"""ember's benchmark suite: runs every benchmark and writes docs/benchmarks.md.

Usually started through `bench/run.sh`, which checks the tools first. It

1. builds the bench crate and the mini_redis example (release);
2. measures what the machine's noise does not move: system calls per echo
   round trip (`strace -f -c`, through bench/syscalls.sh), user-space
   instructions per round trip (`valgrind --tool=callgrind`, server process
   only, as the difference of a long and a short run so start-up and accept
   costs cancel), the same for the echo with a 30 s timeout around every
   read (ember and tokio, 64 and 1,024 connections) and for a timeout that
   never fires (create, arm, cancel), and the RSS of each server holding
   10,000 idle connections;
3. waits until the machine is quiet (1-minute load average below
   --max-load, polled every 30 s for up to --wait-minutes), then runs the
   timed benchmarks: echo (64 B and 1 KiB at 1/16/256/1,024 connections;
   the timed echo of ember and tokio in the same rounds),
   HTTP with wrk (-t1 -c16, -t1 -c256), redis-benchmark against mini_redis
   (-P 1 and -P 16), spawning 1,000,000 tasks, creating and dropping
   1,000,000 sleeps, arming and cancelling a timeout with 10 / 10,000 /
   1,000,000 others armed, sleep lateness (50 us, 1 ms), the sync
   primitives (10,000,000 acquire+release of a Semaphore, lock+unlock of a
   Mutex, send+recv on watch and broadcast), and a clean release
   build of the echo server on ember and on tokio, each with only the
   features it needs (time, stripped size), and the scale-out section:
   examples/multicore_echo (one ember runtime per thread) against tokio's
   multi-thread runtime, with 1 and 2 threads, everything on both CPUs;
4. writes the raw figures (docs/benchmarks.json), the page
   (docs/benchmarks.md) and the chart (docs/img/benchmarks.png).

Every server runs pinned to CPU 0 (`taskset -c 0`) and every load
generator to CPU 1, except in the scale-out section (both on both CPUs). Servers are alternated in rounds (the order rotates
each round) so the machine's drift hits them alike; each figure is the
median over the rounds, and ratios are taken between medians.

Standard library only, plus matplotlib for the chart (skipped, with a
warning, if it is missing). `--help` lists the options; `--quick` runs
everything small, to check the suite itself.
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN = TARGET / "release"
SERVER_CPU, LOAD_CPU = "0", "1"

RUNTIMES = ["ember", "tokio", "smol", "epoll", "threads"]
# The echo with a 30 s `timeout` around every read (`echo_RT_timed`), run in
# the echo section's rounds beside the plain servers.
TIMED_RUNTIMES = ["ember_timed", "tokio_timed"]
ECHO_SIZES = [64, 1024]
ECHO_CONNS = [1, 16, 256, 1024]
HTTP_LOADS = {"c16": 16, "c256": 256}
REDIS_TESTS = "ping,set,get,incr"
LATENESS_US = [50, 1000]
ARM_CANCEL_ARMED = [10, 10_000, 1_000_000]
SECTIONS = ["syscalls", "instructions", "timeouts", "rss", "split", "echo", "http", "hyper", "redis", "tasks",
            "timers", "sync", "build", "scaleout"]
TIMED = {"split", "echo", "http", "hyper", "redis", "tasks", "timers", "sync", "build", "scaleout"}
# hyper 1.x's HTTP/1.1 server, the same service on each runtime (the bench
# crate's `hyper` feature): ember through `ember::hyper`, tokio through
# hyper-util's `TokioIo`.
HYPER_SERVERS = ["hyper_ember", "hyper_tokio"]
# The sync micro-benchmarks (`micro_* NAME N`): name, what one round does,
# the target ("at most this × tokio's time per round").
SYNC_BENCH = [
    ("semaphore", "`Semaphore`: `acquire().await` + drop the permit", 0.5),
    ("mutex", "async `Mutex<u64>`: `lock().await`, add one, unlock", 0.5),
    ("watch", "`watch`: `send(i)` + `changed().await` + `borrow_and_update()`", 0.5),
    ("broadcast", "`broadcast` (capacity 16): `send(i)` + `recv().await`", 0.5),
]
# Scale-out: each server with 1 and 2 threads, all of it (servers and load
# generators) on both CPUs; two load generators, each with half the
# connections, so that the load side is not one thread either.
SCALEOUT = [("ember", 1), ("ember", 2), ("tokio_mt", 1), ("tokio_mt", 2)]
SCALEOUT_LOADS = [(64, 32), (64, 256)]
SCALEOUT_LOADGENS = 2

WORK = Path(tempfile.mkdtemp(prefix="ember-suite-"))


def log(*parts):
    print(time.strftime("[%H:%M:%S]"), *parts, flush=True)


def run(argv, timeout=600, check=True, **kw):
    """Runs a command, returning its CompletedProcess (text output)."""
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kw
    )
    if check and done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, argv))} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return done


def pairs(line):
    """`a=1 b=2.5` -> {'a': 1.0, 'b': 2.5} (numbers only)."""
    out = {}
    for key, value in re.findall(r"(\w+)=([-\d.e+]+)", line):
        try:
            out[key] = float(value)
        except ValueError:
            pass
    return out


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def rotated(items, k):
    k %= len(items)
    return items[k:] + items[:k]


# --------------------------------------------------------------------------
# Processes


class Server:
    """A server binary started on 127.0.0.1:0, pinned, with its address
    read from its `listening on ADDR` line."""

    def __init__(self, argv, cpu=SERVER_CPU, wrapper=(), wait=30.0, extra=()):
        self.log_path = WORK / f"server-{time.monotonic_ns()}.log"
        self.log_file = open(self.log_path, "w")
        argv = ["taskset", "-c", cpu, *wrapper, *argv, "127.0.0.1:0", *extra]
        self.proc = subprocess.Popen(
            [str(a) for a in argv], stdout=self.log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + wait
        while True:
            text = self.log_path.read_text(errors="replace")
            found = re.search(r"listening on (\S+)", text)
            if found:
                self.addr = found.group(1)
                self.port = self.addr.rsplit(":", 1)[1]
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{argv} did not say `listening on`: {text[-1000:]}")
            time.sleep(0.05)

    def rss_kib(self):
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def loadgen(addr, *flags, timeout=600):
    done = run(["taskset", "-c", LOAD_CPU, BIN / "loadgen", "--addr", addr, *flags], timeout=timeout)
    return pairs(done.stdout)


# --------------------------------------------------------------------------
# Load of the machine


def cpu_busy_secs():
    """CPU time every process on the machine has spent (user, nice,
    system), plus the time a hypervisor stole from this machine's CPUs, in
    seconds. Interrupt time is left out: the kernel charges much of
    loopback TCP's work to softirq, which is ours here."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    steal = fields[7] if len(fields) > 7 else 0
    return (sum(fields[:3]) + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_secs():
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class ForeignLoad:
    """Measures the share of the CPUs used by other processes than this
    suite and its (finished, waited-for) children, or stolen by the
    hypervisor, while a section runs."""

    def __enter__(self):
        self.start = (time.monotonic(), cpu_busy_secs(), own_cpu_secs(), os.getloadavg()[0])
        return self

    def __exit__(self, *exc):
        t0, busy0, own0, self.load_before = self.start
        elapsed = time.monotonic() - t0
        foreign = (cpu_busy_secs() - busy0) - (own_cpu_secs() - own0)
        self.share = max(0.0, foreign / (elapsed * os.cpu_count()))
        self.elapsed = elapsed


def wait_until_quiet(max_load, minutes):
    """Polls the 1-minute load average every 30 s until it is below
    `max_load`; gives up after `minutes`. Returns (quiet, waited seconds)."""
    start = time.monotonic()
    while True:
        load = os.getloadavg()[0]
        waited = time.monotonic() - start
        if load < max_load:
            log(f"machine quiet: load average {load:.2f} < {max_load}")
            return True, waited
        if waited >= minutes * 60:
            log(f"machine never went quiet (load {load:.2f}); running anyway, marked as under load")
            return False, waited
        log(f"load average {load:.2f} >= {max_load}: waiting ({waited / 60:.1f} of {minutes} min)")
        time.sleep(30)


class Guard:
    """Keeps other processes out of the timed figures: each block of runs
    (one load, every server once; or one round of a micro-benchmark) is
    measured with `ForeignLoad`, and a block during which other processes
    used more than `max_share` of the CPUs is thrown away and run again,
    once a 5-second probe says the machine is quiet. The waiting is bounded
    by `budget_s` for the whole suite; past it, blocks are kept and counted
    as noisy (the page says so)."""

    def __init__(self, max_share, budget_s):
        self.max_share = max_share
        self.budget = budget_s
        self.blocks = 0
        self.redone = 0
        self.noisy = 0
        self.worst_kept = 0.0

    def run(self, what, block):
        while True:
            with ForeignLoad() as fl:
                out = block()
            if fl.share <= self.max_share or self.budget <= 0:
                self.blocks += 1
                self.worst_kept = max(self.worst_kept, fl.share)
                if fl.share > self.max_share:
                    self.noisy += 1
                return out
            self.redone += 1
            log(f"{what}: other processes used {fl.share * 100:.0f} % of the CPUs; waiting, then again")
            self.wait()

    def wait(self):
        while self.budget > 0:
            start = time.monotonic()
            with ForeignLoad() as probe:
                time.sleep(5)
            self.budget -= time.monotonic() - start
            if probe.share <= self.max_share:
                return
        log("out of patience for a quiet machine: keeping blocks as they come, counted as noisy")

    def summary(self):
        return {"blocks": self.blocks, "redone": self.redone, "noisy": self.noisy,
                "worst_kept_share": self.worst_kept, "max_share": self.max_share}


GUARD = Guard(0.05, 0.0)


# --------------------------------------------------------------------------
# Sections


def build():
    log("building (release): bench crate, mini_redis and multicore_echo examples")
    run(["cargo", "build", "--release", "-p", "ember-bench", "--bins"], cwd=ROOT, timeout=1800)
    run(["cargo", "build", "--release", "-p", "ember-bench", "--features", "hyper",
         "--bin", "hyper_ember", "--bin", "hyper_tokio"], cwd=ROOT, timeout=1800)
    run(["cargo", "build", "--release", "--example", "mini_redis", "--example", "multicore_echo"],
        cwd=ROOT, timeout=1800)


def machine():
    def out(argv):
        try:
            return run(argv, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    lscpu = out(["lscpu"])
    model = re.search(r"Model name:\s*(.+)", lscpu)
    lock = (ROOT / "Cargo.lock").read_text()

    def version(crate):
        found = re.search(rf'name = "{crate}"\nversion = "([^"]+)"', lock)
        return found.group(1) if found else "?"

    # The runtime measured: the last commit that changed it, and whether
    # the working tree differs from it.
    commit = out(["git", "-C", str(ROOT), "log", "-1", "--format=%h", "--", "src", "Cargo.toml"])
    dirty = out(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "Cargo.toml"])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": os.cpu_count(),
        "cpu": model.group(1).strip() if model else platform.processor(),
        "kernel": platform.release(),
        "rustc": out(["rustc", "--version"]),
        "tokio": version("tokio"),
        "smol": version("smol"),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
        "wrk": out(["wrk", "--version"]).split("\n")[0][:60],
        "redis_benchmark": out(["redis-benchmark", "--version"]),
    }


def section_syscalls(cfg):
    """System calls per round trip at 64 connections, each echo server."""
    result = {}
    for rt in RUNTIMES:
        log(f"syscalls: echo_{rt} under strace -f -c")
        done = run([BENCH / "syscalls.sh", f"echo_{rt}", 64, cfg.strace_rtts], timeout=1800)
        io = re.search(r"^syscalls per round trip = \d+ / \d+ = ([\d.]+)", done.stdout, re.M)
        every = re.search(r"^all syscalls per round trip = \d+ / \d+ = ([\d.]+)", done.stdout, re.M)
        table = re.findall(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$", done.stdout, re.M)
        result[rt] = {
            "io_per_rtt": float(io.group(1)),
            "all_per_rtt": float(every.group(1)),
            "calls": {name: int(n) for n, name in table},
            "round_trips": 64 * cfg.strace_rtts,
        }
    return result


def callgrind_total(rt, rtts, conns=64, server=None):
    server = server or f"echo_{rt}"
    out_file = WORK / f"callgrind-{server}-{conns}-{rtts}.out"
    wrapper = ["valgrind", "--tool=callgrind", "--dump-instr=no", f"--callgrind-out-file={out_file}"]
    with Server([BIN / server], wrapper=wrapper, wait=120) as running:
        loadgen(running.addr, "--conns", conns, "--size", 64, "--rtts", rtts, timeout=1800)
    text = out_file.read_text()
    return int(re.search(r"^(?:totals|summary):\s*(\d+)", text, re.M).group(1))


def callgrind_micro(rt, *args):
    out_file = WORK / f"callgrind-micro-{rt}.out"
    run(["valgrind", "--tool=callgrind", "--dump-instr=no", f"--callgrind-out-file={out_file}",
         BIN / f"micro_{rt}", *args], timeout=1800)
    text = out_file.read_text()
    return int(re.search(r"^(?:totals|summary):\s*(\d+)", text, re.M).group(1))


def section_timeouts(cfg):
    """What a timeout that never fires costs. Instructions per 64-byte echo
    round trip of echo_RT (plain) and echo_RT_timed (a 30 s `timeout`
    around every read), ember and tokio, at 64 and 1,024 connections, each
    the difference of a long and a short run as in `instructions`; and
    instructions per create + arm + cancel of a 30 s sleep with 10, 10,000
    and 1,000,000 other timers armed (`micro_RT arm_cancel`), the
    difference of two run lengths."""
    result = {"echo": {}, "arm_cancel": {}}
    for rt in ("ember", "tokio"):
        result["echo"][rt] = {}
        for conns, (short, long) in ((64, cfg.callgrind_rtts), (1024, cfg.callgrind_rtts_1024)):
            row = {}
            for kind, server in (("plain", f"echo_{rt}"), ("timed", f"echo_{rt}_timed")):
                log(f"timeouts: {server} under callgrind, {conns} conns, {short} and {long} round trips each")
                a = callgrind_total(rt, short, conns, server)
                b = callgrind_total(rt, long, conns, server)
                row[kind] = (b - a) / (conns * (long - short))
            result["echo"][rt][str(conns)] = row
        result["arm_cancel"][rt] = {}
        n = cfg.arm_cancel_rounds
        for armed in ARM_CANCEL_ARMED:
            log(f"timeouts: micro_{rt} arm_cancel {armed} under callgrind, {n} and {2 * n} rounds")
            a = callgrind_micro(rt, "arm_cancel", armed, n)
            b = callgrind_micro(rt, "arm_cancel", armed, 2 * n)
            result["arm_cancel"][rt][str(armed)] = (b - a) / n
    return result


def section_instructions(cfg):
    """User-space instructions per 64-byte round trip at 64 connections,
    counted by callgrind in the server process only: (I(long) - I(short)) /
    (64 * (long - short)), so start-up, accepts and exit cancel out."""
    short, long = cfg.callgrind_rtts
    result = {}
    for rt in RUNTIMES:
        log(f"instructions: echo_{rt} under callgrind, {short} and {long} round trips per connection")
        a, b = callgrind_total(rt, short), callgrind_total(rt, long)
        result[rt] = {
            "per_rtt": (b - a) / (64 * (long - short)),
            "short_total": a,
            "long_total": b,
            "rtts": [short, long],
        }
    return result


def section_rss(cfg):
    """RSS of each echo server before and while holding N idle connections
    (each did one 64-byte round trip first)."""
    n = cfg.idle
    result = {}
    for rt in RUNTIMES:
        log(f"rss: echo_{rt} holding {n} idle connections")
        with Server([BIN / f"echo_{rt}"]) as server:
            time.sleep(0.3)
            before = server.rss_kib()
            out_path = WORK / f"idle-{rt}.out"
            with open(out_path, "w") as out:
                holder = subprocess.Popen(
                    ["taskset", "-c", LOAD_CPU, str(BIN / "loadgen"), "--addr", server.addr,
                     "--idle", str(n), "--size", "64", "--secs", "600"],
                    stdout=out, stderr=subprocess.STDOUT)
                try:
                    deadline = time.monotonic() + 300
                    while "holding" not in out_path.read_text():
                        if holder.poll() is not None or time.monotonic() > deadline:
                            raise RuntimeError(f"loadgen --idle: {out_path.read_text()[-500:]}")
                        time.sleep(0.1)
                    time.sleep(1.0)
                    after = server.rss_kib()
                finally:
                    holder.terminate()
                    holder.wait()
        result[rt] = {
            "before_kib": before,
            "after_kib": after,
            "per_conn_bytes": (after - before) * 1024 / n,
            "conns": n,
        }
    return result


def proc_ticks(pid):
    """A process's user and system CPU time so far, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def section_split(cfg):
    """Where each echo server's CPU time goes at 64 connections, 64 B: its
    user and system time (from /proc/PID/stat) over the measured seconds
    only, in `cfg.split_rounds` rounds of `cfg.split_secs` seconds with the
    servers alternated; the share in user space, and the CPU time per
    round trip. The kernel samples user against system time at each tick,
    so the rounds are summed before dividing."""
    result = {rt: {"user_ticks": 0, "system_ticks": 0, "rtts": 0,
                   "rounds": cfg.split_rounds, "secs": cfg.split_secs} for rt in RUNTIMES}

    def block(round_):
        got = {}
        for rt in rotated(RUNTIMES, round_):
            with Server([BIN / f"echo_{rt}"]) as server:
                # Connect and warm up first, outside the measured window.
                loadgen(server.addr, "--conns", 64, "--size", 64, "--secs", 0.5, "--warmup", 0)
                before = proc_ticks(server.proc.pid)
                out = loadgen(server.addr, "--conns", 64, "--size", 64, "--secs", cfg.split_secs, "--warmup", 0)
                after = proc_ticks(server.proc.pid)
            got[rt] = (after[0] - before[0], after[1] - before[1], int(out["rtts"]))
        return got

    for round_ in range(cfg.split_rounds):
        for rt, (user, system, rtts) in GUARD.run("split", lambda: block(round_)).items():
            r = result[rt]
            r["user_ticks"] += user
            r["system_ticks"] += system
            r["rtts"] += rtts
    tick_ns = 1e9 / os.sysconf("SC_CLK_TCK")
    for rt, r in result.items():
        ticks = max(1, r["user_ticks"] + r["system_ticks"])
        r["user_share"] = r["user_ticks"] / ticks
        r["user_ns_per_rtt"] = r["user_ticks"] * tick_ns / max(1, r["rtts"])
        r["cpu_ns_per_rtt"] = ticks * tick_ns / max(1, r["rtts"])
        log(f"split: echo_{rt} user {r['user_ticks']} system {r['system_ticks']} ticks, {r['rtts']} round trips: "
            f"{100 * r['user_share']:.1f} % user, {r['user_ns_per_rtt']:.0f} of {r['cpu_ns_per_rtt']:.0f} ns per round trip")
    return result


def section_echo(cfg):
    """Throughput and latency of every echo server, and of the timed ones
    (`TIMED_RUNTIMES`), in the same rounds."""
    loads = [(size, conns) for size in ECHO_SIZES for conns in ECHO_CONNS]
    servers = RUNTIMES + TIMED_RUNTIMES
    result = {f"{s}/{c}": {rt: [] for rt in servers} for s, c in loads}
    def block(round_, i, size, conns):
        got = {}
        for rt in rotated(servers, round_ + i):
            with Server([BIN / f"echo_{rt}"]) as server:
                got[rt] = loadgen(server.addr, "--conns", conns, "--size", size,
                                  "--secs", cfg.secs, "--warmup", cfg.warmup)
            log(f"echo round {round_ + 1}/{cfg.rounds} {size} B x {conns}: {rt:8} "
                f"{got[rt]['msgs_per_sec']:>10.0f}/s p50 {got[rt]['p50_us']:.0f} us p99 {got[rt]['p99_us']:.0f} us")
        return got

    for round_ in range(cfg.rounds):
        for i, (size, conns) in enumerate(loads):
            got = GUARD.run(f"echo {size} B x {conns}", lambda: block(round_, i, size, conns))
            for rt, sample in got.items():
                result[f"{size}/{conns}"][rt].append(sample)
    return result


def loadgens(addr, conns, size, secs, cpus):
    """`SCALEOUT_LOADGENS` load generators at once, on `cpus`, splitting
    `conns` between them; their rates and round trips summed, their p50s
    averaged and the worst p99 kept."""
    procs = [subprocess.Popen(["taskset", "-c", cpus, str(BIN / "loadgen"), "--addr", addr,
                               "--conns", str(conns // SCALEOUT_LOADGENS), "--size", str(size),
                               "--secs", str(secs), "--warmup", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(SCALEOUT_LOADGENS)]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"loadgen exited {proc.returncode}: {err[-1000:]}")
        outs.append(pairs(out))
    return {"msgs_per_sec": sum(o["msgs_per_sec"] for o in outs), "rtts": sum(o["rtts"] for o in outs),
            "p50_us": statistics.mean(o["p50_us"] for o in outs), "p99_us": max(o["p99_us"] for o in outs)}


def section_scaleout(cfg):
    """Thread-per-core against work stealing: `multicore_echo` (one ember
    runtime and one SO_REUSEPORT listener per thread) and `echo_tokio_mt`
    (tokio's multi-thread runtime), each with 1 and 2 threads; servers and
    load generators all on both CPUs. Besides the rate, the server's CPU
    time (user + system, /proc/PID/stat) per round trip, and how many CPUs'
    worth it used."""
    both = f"{SERVER_CPU},{LOAD_CPU}"
    tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
    result = {f"{s}/{c}": {f"{n}-{t}": [] for n, t in SCALEOUT} for s, c in SCALEOUT_LOADS}

    def block(round_, i, size, conns):
        got = {}
        for name, threads in rotated(SCALEOUT, round_ + i):
            binary = BIN / "examples" / "multicore_echo" if name == "ember" else BIN / "echo_tokio_mt"
            with Server([binary], cpu=both, extra=[threads]) as server:
                loadgens(server.addr, conns, size, cfg.warmup or 0.2, both)  # warm-up, discarded
                before, start = proc_ticks(server.proc.pid), time.monotonic()
                out = loadgens(server.addr, conns, size, cfg.secs, both)
                after, elapsed = proc_ticks(server.proc.pid), time.monotonic() - start
            ticks = (after[0] - before[0]) + (after[1] - before[1])
            out["server_cpu_us_per_rtt"] = ticks * tick_us / max(1, out["rtts"])
            out["server_cpus"] = ticks * tick_us / 1e6 / elapsed
            got[f"{name}-{threads}"] = out
            log(f"scaleout round {round_ + 1}/{cfg.rounds} {size} B x {conns}: {name} x{threads} "
                f"{out['msgs_per_sec']:>10.0f}/s p99 {out['p99_us']:.0f} us, server "
                f"{out['server_cpu_us_per_rtt']:.1f} us CPU per round trip, {out['server_cpus']:.2f} CPUs")
        return got

    for round_ in range(cfg.rounds):
        for i, (size, conns) in enumerate(SCALEOUT_LOADS):
            got = GUARD.run(f"scaleout {size} B x {conns}", lambda: block(round_, i, size, conns))
            for key, sample in got.items():
                result[f"{size}/{conns}"][key].append(sample)
    return result


def wrk_seconds(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


def wrk(addr, conns, secs):
    done = run(["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--latency",
                f"http://{addr}/"], timeout=600)
    text = done.stdout
    if re.search(r"Socket errors|Non-2xx", text):
        raise RuntimeError(f"wrk saw errors:\n{text}")
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", text).group(1))
    lat = dict(re.findall(r"^\s*(50|99)%\s+(\S+)", text, re.M))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    return {"rps": rps, "p50_us": wrk_seconds(lat["50"]) * 1e6, "p99_us": wrk_seconds(lat["99"]) * 1e6,
            "requests": requests}


def section_http(cfg):
    result = {load: {rt: [] for rt in RUNTIMES} for load in HTTP_LOADS}
    def block(round_, i, conns):
        got = {}
        for rt in rotated(RUNTIMES, round_ + i):
            with Server([BIN / f"http_{rt}"]) as server:
                wrk(server.addr, conns, max(1, round(cfg.warmup)))  # warm-up, discarded
                got[rt] = wrk(server.addr, conns, max(1, round(cfg.secs)))
            log(f"http round {round_ + 1}/{cfg.rounds} -t1 -c{conns}: {rt:8} {got[rt]['rps']:>10.0f}/s "
                f"p50 {got[rt]['p50_us']:.0f} us p99 {got[rt]['p99_us']:.0f} us")
        return got

    for round_ in range(cfg.rounds):
        for i, (load, conns) in enumerate(HTTP_LOADS.items()):
            got = GUARD.run(f"http -c{conns}", lambda: block(round_, i, conns))
            for rt, sample in got.items():
                result[load][rt].append(sample)
    return result


def section_hyper(cfg):
    """hyper on ember vs hyper on tokio: wrk -t1 at 16 and 256 connections,
    the two alternated per round; then user-space instructions per request
    under callgrind (wrk -c16 for 10 s, total / requests)."""
    result = {load: {srv: [] for srv in HYPER_SERVERS} for load in HTTP_LOADS}
    def block(round_, i, conns):
        got = {}
        for srv in rotated(HYPER_SERVERS, round_ + i):
            with Server([BIN / srv]) as server:
                wrk(server.addr, conns, max(1, round(cfg.warmup)))  # warm-up, discarded
                got[srv] = wrk(server.addr, conns, max(1, round(cfg.secs)))
            log(f"hyper round {round_ + 1}/{cfg.rounds} -t1 -c{conns}: {srv:12} {got[srv]['rps']:>10.0f}/s")
        return got

    for round_ in range(cfg.rounds):
        for i, (load, conns) in enumerate(HTTP_LOADS.items()):
            got = GUARD.run(f"hyper -c{conns}", lambda: block(round_, i, conns))
            for srv, sample in got.items():
                result[load][srv].append(sample)
    instr = {}
    for srv in HYPER_SERVERS:
        out = WORK / f"callgrind.{srv}"
        with Server([BIN / srv], wrapper=("valgrind", "--tool=callgrind", "--dump-instr=no",
                                          f"--callgrind-out-file={out}")) as server:
            got = wrk(server.addr, 16, 10)
        total = int(re.search(r"^totals:\s*(\d+)", out.read_text(), re.M).group(1))
        instr[srv] = {"instructions": total, "requests": got["requests"],
                      "per_request": total / max(1, got["requests"])}
        log(f"hyper instructions: {srv} {instr[srv]['per_request']:.0f} per request")
    result["instructions"] = instr
    return result


def section_redis(cfg):
    """redis-benchmark against examples/mini_redis, unpipelined and -P 16."""
    if not shutil.which("redis-benchmark"):
        log("redis: redis-benchmark not found (Debian package redis-tools); skipped")
        return {"skipped": "redis-benchmark not installed"}
    result = {}
    for pipeline, n in ((1, cfg.redis_n), (16, cfg.redis_n * 5)):
        with Server([BIN / "examples" / "mini_redis"]) as server:
            argv = ["taskset", "-c", LOAD_CPU, "redis-benchmark", "-h", "127.0.0.1", "-p", server.port,
                    "-t", REDIS_TESTS, "-n", n, "-P", pipeline, "--csv"]
            done = run(argv, timeout=1200, check=False)
            alive = server.proc.poll() is None
        errors = [line for line in (done.stdout + done.stderr).splitlines()
                  if re.search(r"error|ERR|WARN", line, re.I)]
        full = re.findall(r'^"([A-Z_]+)",(.*)$', done.stdout, re.M)
        tests = {}
        for name, rest in full:
            cells = [float(c.strip('"')) for c in rest.split(",")]
            # rps, avg, min, p50, p95, p99, max (ms)
            tests[name] = {"rps": cells[0], "p50_ms": cells[3] if len(cells) > 3 else None,
                           "p99_ms": cells[5] if len(cells) > 5 else None}
        result[f"P{pipeline}"] = {
            "command": " ".join(map(str, argv[3:])).replace(server.port, "PORT"),
            "requests": n,
            "exit": done.returncode,
            "server_alive": alive,
            "errors": errors[:20],
            "tests": tests,
        }
        log(f"redis -P {pipeline}: exit {done.returncode}, {len(errors)} error lines, "
            + ", ".join(f"{k} {v['rps']:.0f}/s" for k, v in tests.items()))
    return result


def micro(rt, *args):
    done = run(["taskset", "-c", SERVER_CPU, BIN / f"micro_{rt}", *args], timeout=600, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip().split("\n")[0][:200]}
    return pairs(done.stdout)


def section_tasks(cfg):
    result = {rt: [] for rt in ("ember", "tokio", "smol")}
    def block(round_):
        got = {rt: micro(rt, "spawn", cfg.tasks) for rt in rotated(list(result), round_)}
        log(f"tasks round {round_ + 1}: {got}")
        return got

    for round_ in range(cfg.rounds):
        for rt, sample in GUARD.run("tasks", lambda: block(round_)).items():
            result[rt].append(sample)
    return result


def section_timers(cfg):
    result = {"sleeps": {"ember": [], "tokio": []}}
    for armed in ARM_CANCEL_ARMED:
        result[f"arm_cancel_{armed}"] = {"ember": [], "tokio": []}
    for us in LATENESS_US:
        result[f"lateness_{us}"] = {"ember": [], "tokio": []}
    def block(round_):
        got = {}
        for rt in rotated(["ember", "tokio"], round_):
            got[("sleeps", rt)] = micro(rt, "sleeps", cfg.sleeps)
            for armed in ARM_CANCEL_ARMED:
                got[(f"arm_cancel_{armed}", rt)] = micro(rt, "arm_cancel", armed, cfg.arm_cancel_rounds)
            for us in LATENESS_US:
                got[(f"lateness_{us}", rt)] = micro(rt, "lateness", us, cfg.lateness_samples)
        log(f"timers round {round_ + 1}: " + "; ".join(f"{k[0]} {k[1]} {v}" for k, v in got.items()))
        return got

    for round_ in range(cfg.rounds):
        for (what, rt), sample in GUARD.run("timers", lambda: block(round_)).items():
            result[what][rt].append(sample)
    return result


def section_sync(cfg):
    """The sync primitives, uncontended, on ember and tokio (same binary
    commands, see bench/src/micro.rs), ember and tokio alternated per round."""
    result = {name: {"ember": [], "tokio": []} for name, _, _ in SYNC_BENCH}
    def block(round_):
        got = {}
        for rt in rotated(["ember", "tokio"], round_):
            for name, _, _ in SYNC_BENCH:
                got[(name, rt)] = micro(rt, name, cfg.sync_rounds)
        log(f"sync round {round_ + 1}: " + "; ".join(f"{k[0]} {k[1]} {v.get('ns_each', v)}" for k, v in got.items()))
        return got

    for round_ in range(cfg.rounds):
        for (what, rt), sample in GUARD.run("sync", lambda: block(round_)).items():
            result[what][rt].append(sample)
    return result


BUILD_MANIFEST = """[package]
name = "echo-{rt}"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
{dep}

[workspace]
"""


def section_build(cfg):
    """A clean release build of the echo server (bench/buildsize/echo_RT.rs)
    as its own crate: wall time of `cargo build --release` (dependencies
    already downloaded), and the size of the stripped binary. Each runtime
    is built with only the features the server needs: ember's `net` and
    `io-util`, tokio's `rt`, `net` and `io-util`."""
    lock = (ROOT / "Cargo.lock").read_text()
    tokio = re.search(r'name = "tokio"\nversion = "([^"]+)"', lock).group(1)
    deps = {
        "ember": f'ember = {{ path = "{ROOT}", default-features = false, features = ["net", "io-util"] }}',
        "tokio": f'tokio = {{ version = "={tokio}", features = ["rt", "net", "io-util"] }}',
        "std": "",  # the baseline: what std alone costs
    }
    result = {rt: {"secs": [], "stripped_bytes": None} for rt in deps}
    for round_ in range(cfg.build_rounds):
        for rt in rotated(list(deps), round_):
            crate = WORK / f"build-{rt}-{round_}"
            (crate / "src").mkdir(parents=True)
            (crate / "Cargo.toml").write_text(BUILD_MANIFEST.format(rt=rt, dep=deps[rt]))
            shutil.copy(BENCH / "buildsize" / f"echo_{rt}.rs", crate / "src" / "main.rs")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO_", "RUSTFLAGS"))}
            env["CARGO_TARGET_DIR"] = str(crate / "target")
            run(["cargo", "fetch"], cwd=crate, env=env, timeout=600)

            def timed_build():
                shutil.rmtree(crate / "target", ignore_errors=True)
                start = time.monotonic()
                run(["cargo", "build", "--release", "--offline"], cwd=crate, env=env, timeout=1800)
                return time.monotonic() - start

            secs = GUARD.run(f"build {rt}", timed_build)
            stripped = crate / "stripped"
            run(["strip", "-o", stripped, crate / "target" / "release" / f"echo-{rt}"])
            result[rt]["secs"].append(secs)
            result[rt]["stripped_bytes"] = stripped.stat().st_size
            result[rt]["unstripped_bytes"] = (crate / "target" / "release" / f"echo-{rt}").stat().st_size
            log(f"build round {round_ + 1}: {rt:6} {secs:.1f} s, stripped {stripped.stat().st_size} B")
            shutil.rmtree(crate)
    return result


# --------------------------------------------------------------------------
# The page


def fmt_rate(x):
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.0f}"


def fmt_us(x):
    if x is None:
        return "–"
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def fmt_ratio(x):
    return "–" if x is None else f"{x:.2f}×"


def ratio(a, b):
    return None if a is None or not b else a / b


def med(samples, key):
    return median([s.get(key) for s in samples if "error" not in s])


def rounds(n):
    return f"median of {n} rounds" if n > 1 else "one round"


def mark(ok):
    if ok == "noise":
        return "within noise"
    return "–" if ok is None else ("**met**" if ok else "**not met**")


RATE_KEY = {"echo": "msgs_per_sec", "http": "rps"}


def load_table(results, kind):
    """Rows (load label, {rt: (rate, p50, p99)} medians, {rt: samples}) for
    echo or http. Sample i of every server comes from round i."""
    rows = []
    for key, per_rt in results.get(kind, {}).items():
        if kind == "echo":
            size, conns = key.split("/")
            label = f"{'1 KiB' if size == '1024' else size + ' B'} × {int(conns):,}"
        else:
            label = f"wrk -t1 -c{HTTP_LOADS[key]}"
        medians = {rt: (med(v, RATE_KEY[kind]), med(v, "p50_us"), med(v, "p99_us")) for rt, v in per_rt.items()}
        rows.append((label, medians, per_rt))
    return rows


def paired(samples, key, a, b):
    """Per-round ratios a/b of `key`, from the runs of one round (which ran
    back to back, so drift in the machine's speed mostly cancels), and
    their median and quartiles: (median, q25, q75), or None."""
    ratios = [x[key] / y[key] for x, y in zip(samples[a], samples[b])
              if key in x and key in y and y[key]]
    if not ratios:
        return None
    if len(ratios) < 3:
        m = statistics.median(ratios)
        return (m, min(ratios), max(ratios))
    q25, q50, q75 = statistics.quantiles(ratios, n=4, method="inclusive")
    return (q50, q25, q75)


def fmt_paired(p):
    return "–" if p is None else f"{p[0]:.2f}× ({p[1]:.2f}–{p[2]:.2f})"


def verdict(p, bound, higher_is_better):
    """met / not met / "noise" (the bound lies between the quartiles)."""
    if p is None:
        return None
    m, q25, q75 = p
    if higher_is_better:
        return True if q25 >= bound else (False if q75 < bound else "noise")
    return True if q75 <= bound else (False if q25 > bound else "noise")


def throughput_targets(rows, kind, what):
    """The three per-load targets (>= 1.05x tokio, >= 0.95x epoll, p99 <=
    tokio), each judged on the per-round paired ratios at its worst load
    (lowest median ratio for throughput, highest for p99)."""
    out = []
    checks = [
        (f"{what} throughput ≥ 1.05 × tokio at every load", "tokio", 0, RATE_KEY[kind], 1.05, True),
        (f"{what} throughput ≥ 0.95 × epoll loop at every load", "epoll", 0, RATE_KEY[kind], 0.95, True),
        (f"{what} p99 latency ≤ tokio's at every load", "tokio", 2, "p99_us", 1.0, False),
    ]
    for name, other, index, key, bound, higher_is_better in checks:
        judged = [(paired(samples, key, "ember", other), label, medians) for label, medians, samples in rows]
        judged = [j for j in judged if j[0] is not None]
        if not judged:
            continue
        pick = min if higher_is_better else max
        p, label, medians = pick(judged, key=lambda j: j[0][0])
        verdicts = [verdict(j[0], bound, higher_is_better) for j in judged]
        overall = False if False in verdicts else ("noise" if "noise" in verdicts else True)
        fmt = fmt_rate if index == 0 else (lambda x: fmt_us(x) + " µs")
        out.append({
            "target": f"{name} (worst: {label})",
            "values": {rt: fmt(medians[rt][index]) for rt in ("ember", "tokio", "smol", "epoll")},
            "ratio": f"{fmt_paired(p)} {other}",
            "met": overall,
        })
    return out


def targets(results):
    out = []
    out += throughput_targets(load_table(results, "echo"), "echo", "echo")
    out += throughput_targets(load_table(results, "http"), "http", "HTTP")
    sc = results.get("syscalls")
    if sc:
        r = ratio(sc["ember"]["io_per_rtt"], sc["epoll"]["io_per_rtt"])
        out.append({"target": "syscalls per round trip ≤ epoll loop's (64 conns)",
                    "values": {rt: f"{sc[rt]['io_per_rtt']:.3f}" for rt in ("ember", "tokio", "smol", "epoll")},
                    "ratio": f"{fmt_ratio(r)} epoll", "met": r <= 1.0 + 1e-9})
    ins = results.get("instructions")
    if ins:
        r = ratio(ins["ember"]["per_rtt"], ins["tokio"]["per_rtt"])
        out.append({"target": "user-space instructions per round trip ≤ 0.4 × tokio's",
                    "values": {rt: f"{ins[rt]['per_rtt']:.0f}" for rt in ("ember", "tokio", "smol", "epoll")},
                    "ratio": f"{fmt_ratio(r)} tokio", "met": r <= 0.4})
    to = results.get("timeouts")
    if to:
        e = to["echo"]["ember"]
        rs = [ratio(e[c]["timed"], e[c]["plain"]) for c in ("64", "1024")]
        t = to["echo"]["tokio"]
        out.append({"target": "timed echo (a 30 s timeout around every read) ≤ 1.3 × the plain echo, 64 / 1,024 conns",
                    "values": {"ember": " / ".join(f"{fmt_ratio(r)}" for r in rs),
                               "tokio": " / ".join(f"{fmt_ratio(ratio(t[c]['timed'], t[c]['plain']))}" for c in ("64", "1024")),
                               "smol": "–", "epoll": "–"},
                    "ratio": f"{fmt_ratio(max(rs))} (worst)", "met": max(rs) <= 1.3})
    rss = results.get("rss")
    if rss:
        r = ratio(rss["ember"]["per_conn_bytes"], rss["tokio"]["per_conn_bytes"])
        out.append({"target": f"RSS per idle connection ≤ tokio's ({rss['ember']['conns']:,} conns)",
                    "values": {rt: f"{rss[rt]['per_conn_bytes']:,.0f} B" for rt in ("ember", "tokio", "smol", "epoll")},
                    "ratio": f"{fmt_ratio(r)} tokio", "met": r <= 1.0})
    tasks = results.get("tasks")
    if tasks:
        rates = {rt: med(v, "per_sec") for rt, v in tasks.items()}
        r = ratio(rates["ember"], rates["tokio"])
        out.append({"target": "spawn + complete 1,000,000 tasks ≥ 2 × tokio's rate",
                    "values": {rt: (fmt_rate(rates.get(rt)) + "/s" if rates.get(rt) else "–")
                               for rt in ("ember", "tokio", "smol", "epoll")},
                    "ratio": f"{fmt_ratio(r)} tokio", "met": None if r is None else r >= 2.0})
    timers = results.get("timers")
    if timers:
        for us in LATENESS_US:
            t = timers.get(f"lateness_{us}", {})
            e_mean, t_mean = med(t.get("ember", []), "mean_us"), med(t.get("tokio", []), "mean_us")
            e_p99, t_p99 = med(t.get("ember", []), "p99_us"), med(t.get("tokio", []), "p99_us")
            ok = None if None in (e_mean, t_mean, e_p99, t_p99) else (e_mean < t_mean and e_p99 <= t_p99)
            label = "50 µs" if us == 50 else "1 ms"
            out.append({"target": f"timers finer than tokio's: {label} sleep lateness (mean / p99)",
                        "values": {"ember": f"{fmt_us(e_mean)} / {fmt_us(e_p99)} µs",
                                   "tokio": f"{fmt_us(t_mean)} / {fmt_us(t_p99)} µs", "smol": "–", "epoll": "–"},
                        "ratio": f"{fmt_ratio(ratio(e_mean, t_mean))} tokio (mean)", "met": ok})
        s = timers.get("sleeps", {})
        e, t = med(s.get("ember", []), "ns_each"), med(s.get("tokio", []), "ns_each")
        out.append({"target": "create, arm and drop 1,000,000 sleeps (no target; cost each)",
                    "values": {"ember": f"{e:.0f} ns" if e else "failed", "tokio": f"{t:.0f} ns" if t else "–",
                               "smol": "–", "epoll": "–"},
                    "ratio": f"{fmt_ratio(ratio(e, t))} tokio", "met": None})
    sync = results.get("sync")
    if sync:
        for name, what, target in SYNC_BENCH:
            if name not in sync:
                continue
            e, t = med(sync[name]["ember"], "ns_each"), med(sync[name]["tokio"], "ns_each")
            r = ratio(e, t)
            out.append({"target": f"{name}: one round ≤ {target} × tokio's time",
                        "values": {"ember": f"{e:.1f} ns" if e else "failed", "tokio": f"{t:.1f} ns" if t else "–",
                                   "smol": "–", "epoll": "–"},
                        "ratio": f"{fmt_ratio(r)} tokio", "met": None if r is None else r <= target})
    hy = results.get("hyper")
    if hy:
        for load in HTTP_LOADS:
            e, t = med(hy[load]["hyper_ember"], "rps"), med(hy[load]["hyper_tokio"], "rps")
            r = ratio(e, t)
            out.append({"target": f"hyper on ember ≥ 1.0 × hyper on tokio, wrk -t1 -{load}",
                        "values": {"ember": fmt_rate(e), "tokio": fmt_rate(t), "smol": "–", "epoll": "–"},
                        "ratio": f"{fmt_ratio(r)} tokio", "met": None if r is None else r >= 1.0})
        ins = hy.get("instructions", {})
        if ins:
            e, t = ins["hyper_ember"]["per_request"], ins["hyper_tokio"]["per_request"]
            r = ratio(e, t)
            out.append({"target": "hyper on ember: instructions per request ≤ 0.95 × tokio's",
                        "values": {"ember": f"{e:,.0f}", "tokio": f"{t:,.0f}", "smol": "–", "epoll": "–"},
                        "ratio": f"{fmt_ratio(r)} tokio", "met": None if r is None else r <= 0.95})
    b = results.get("build")
    if b:
        e, t = median(b["ember"]["secs"]), median(b["tokio"]["secs"])
        out.append({"target": "clean release build of the echo server ≤ 1/3 of tokio's",
                    "values": {"ember": f"{e:.1f} s", "tokio": f"{t:.1f} s", "smol": "–", "epoll": "–"},
                    "ratio": f"{fmt_ratio(ratio(e, t))} tokio", "met": e <= t / 3})
        e, t = b["ember"]["stripped_bytes"], b["tokio"]["stripped_bytes"]
        out.append({"target": "stripped echo binary ≤ 1/2 of tokio's",
                    "values": {"ember": f"{e / 1024:.0f} KiB", "tokio": f"{t / 1024:.0f} KiB", "smol": "–", "epoll": "–"},
                    "ratio": f"{fmt_ratio(ratio(e, t))} tokio", "met": e <= t / 2})
        if "std" in b:
            base = b["std"]["stripped_bytes"]
            out.append({"target": f"(for reference) what the runtime adds to std's {base / 1024:.0f} KiB echo binary",
                        "values": {"ember": f"{(e - base) / 1024:.0f} KiB", "tokio": f"{(t - base) / 1024:.0f} KiB",
                                   "smol": "–", "epoll": "–"},
                        "ratio": f"{fmt_ratio(ratio(e - base, t - base))} tokio", "met": None})
    return out


def render(results, out_md, chart_path):
    m = results["meta"]
    done = m.get("sections", {})

    def conf(section):
        return done.get(section, {}).get("config", {})

    timed = {k: v for k, v in done.items() if k in TIMED}
    noisy = sum(v.get("noisy", 0) for v in timed.values())
    blocks = sum(v.get("blocks", 0) for v in timed.values())
    redone = sum(v.get("redone", 0) for v in timed.values())
    worst = max([v.get("worst_kept_share", 0) for v in timed.values()] or [0])
    max_foreign = max([v.get("max_foreign", 0.05) for v in timed.values()] or [0.05])
    timed_note = ""
    if noisy or any(v.get("quiet") is False for v in timed.values()):
        timed_note = (f"\n> **Some timed figures were taken under load.** The machine was shared: "
                      f"{noisy} of {blocks} blocks of timed runs were kept although other processes used more "
                      f"than {max_foreign * 100:.0f} % of the CPUs during them (up to {worst * 100:.0f} %), after "
                      f"the suite ran out of patience waiting for quiet. Those figures are noisier; ratios still "
                      f"compare servers that ran back to back under the same conditions.\n")
    lines = []
    w = lines.append
    w("# Benchmarks")
    w("")
    w("ember against tokio's `current_thread` runtime, smol's `LocalExecutor`, a hand-written")
    w("edge-triggered epoll loop on `libc` (the practical limit) and one OS thread per connection.")
    w("Every server is written the same way (`bench/src/bin/`); the load generator (`loadgen`) is")
    w("a raw-epoll, single-threaded closed-loop client that shares no code with them.")
    w("")
    w("**Generated by `bench/run.sh`** (this page, `docs/benchmarks.json` with every raw sample,")
    w("and the chart). Do not edit by hand: the text around the figures lives in `bench/suite.py`,")
    w("and the optimisation log in `bench/optimisations.md`.")
    w(timed_note)
    w("![benchmarks](img/benchmarks.png)")
    w("")
    w("## Targets")
    w("")
    w("From issue 4. For echo and HTTP, the ratio is the median of per-round ratios (ember's run")
    w("against the other's run of the same round, taken back to back), with the quartiles in")
    w("brackets; a target is *within noise* when its bound lies between the quartiles. Other")
    w("ratios are between medians or single, noise-free counts.")
    w("")
    w("| target | ember | tokio | smol | epoll loop | ratio | |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for t in targets(results):
        v = t["values"]
        w(f"| {t['target']} | {v['ember']} | {v['tokio']} | {v['smol']} | {v['epoll']} | {t['ratio']} | {mark(t['met'])} |")
    w("")

    split = results.get("split")
    if split:
        w("## Reading the figures")
        w("")
        w("On loopback the kernel does almost all of the work: at 64 connections and 64 B, the share of")
        w("each echo server's CPU time spent in user space is")
        w(", ".join(f"{rt} {split[rt]['user_share'] * 100:.1f} %" for rt in RUNTIMES) + ".")
        if all("user_ns_per_rtt" in split[rt] for rt in RUNTIMES):
            tokio_share = split["tokio"]["user_share"]
            w("Per round trip that is")
            w(", ".join(f"{rt} {split[rt]['user_ns_per_rtt']:.0f} ns" for rt in RUNTIMES)
              + " of user time, out of "
              + ", ".join(f"{split[rt]['cpu_ns_per_rtt'] / 1000:.1f}" for rt in RUNTIMES)
              + " µs of CPU time in all (same order).")
            # With the kernel's work per round trip equal (the syscalls are), a
            # runtime is 1.05x tokio only if its total CPU per round trip is at
            # most 1/1.05 of tokio's: its user time at most `need` of tokio's.
            need = 1 - (1 - 1 / 1.05) / tokio_share if tokio_share > 0 else 0
            tokio_ns = max(1e-9, split["tokio"]["user_ns_per_rtt"])
            have = split["ember"]["user_ns_per_rtt"] / tokio_ns
            epoll = split["epoll"]["user_ns_per_rtt"] / tokio_ns
            w(f"A runtime whose own code took no time at all would beat tokio by at most "
              f"1 / (1 − {tokio_share:.3f}) = {1 / (1 - tokio_share):.3f}× here, when the")
            w("server is the bottleneck and the kernel's work per round trip is the same (the syscalls are).")
            w("To reach 1.05×, ember's user time per round trip would have to be at most "
              + (f"{need * 100:.0f} %" if need > 0 else "less than nothing")
              + f" of tokio's; it is {have * 100:.0f} %, and the hand-written epoll loop's is {epoll * 100:.0f} %.")
            ins = results.get("instructions") or {}
            if "ember" in ins and "tokio" in ins:
                w(f"(ember runs {ins['ember']['per_rtt'] / ins['tokio']['per_rtt']:.2f}× tokio's instructions "
                  f"in {have:.2f}× its user time: between two syscalls")
                w("little of a runtime's state is still in cache, so what a round trip costs in user space is")
                w("largely the memory it touches, not the instructions it runs.)")
        w("So cutting a runtime's instructions moves throughput by a few per cent at most: even the")
        w("hand-written epoll loop can only beat tokio by about the difference of their user-space")
        w("shares. Differences of that size are below this machine's run-to-run noise (see the")
        w("quartiles), which is why the noise-free costs per round trip (syscalls, instructions, RSS)")
        w("are the figures to optimise against, and the throughput targets are judged per round.")
        if "rtts" in split["ember"]:
            # Tick sampling: a count of n ticks is good to about 1/sqrt(n).
            err = (1 / max(1, split["ember"]["user_ticks"]) + 1 / max(1, split["tokio"]["user_ticks"])) ** 0.5
            w(f"(User and system time: `/proc/PID/stat` of each echo server over {split['ember']['rounds']} rounds of {split['ember']['secs']} s, servers")
            w("alternated, summed over the rounds. The kernel charges each clock tick to user or system")
            w(f"time, so with {split['ember']['user_ticks']} and {split['tokio']['user_ticks']} user ticks "
              f"the ember/tokio user-time ratio is good to about ±{err * 100:.0f} %.)")
        w("")

    for kind, title, unit in (("echo", "Echo", "messages/s"), ("http", "HTTP/1.1 plaintext", "requests/s")):
        rows = load_table(results, kind)
        if not rows:
            continue
        n = max(len(v) for v in rows[0][2].values())
        w(f"## {title}: throughput ({unit}, {rounds(n)})")
        w("")
        w("| load | " + " | ".join(RUNTIMES) + " | ember/tokio | ember/epoll |")
        w("| --- |" + " ---: |" * (len(RUNTIMES) + 2))
        for label, medians, samples in rows:
            cells = [fmt_rate(medians[rt][0]) for rt in RUNTIMES]
            w(f"| {label} | " + " | ".join(cells)
              + f" | {fmt_paired(paired(samples, RATE_KEY[kind], 'ember', 'tokio'))}"
              + f" | {fmt_paired(paired(samples, RATE_KEY[kind], 'ember', 'epoll'))} |")
        w("")
        w(f"## {title}: latency, p50 / p99 (µs, {rounds(n)})")
        w("")
        w("| load | " + " | ".join(RUNTIMES) + " | p99 ember/tokio |")
        w("| --- |" + " ---: |" * (len(RUNTIMES) + 1))
        for label, medians, samples in rows:
            cells = [f"{fmt_us(medians[rt][1])} / {fmt_us(medians[rt][2])}" for rt in RUNTIMES]
            w(f"| {label} | " + " | ".join(cells)
              + f" | {fmt_paired(paired(samples, 'p99_us', 'ember', 'tokio'))} |")
        w("")
        if kind == "echo" and all(rt in rows[0][1] for rt in TIMED_RUNTIMES):
            w(f"## Echo with a 30 s timeout around every read: throughput (messages/s, {rounds(n)})")
            w("")
            w("`echo_RT_timed`, run in the same rounds as the plain servers above; the ratios are per")
            w("round, as above. What the timeout costs in instructions is under \"Timeouts that never fire\".")
            w("")
            w("| load | ember timed | tokio timed | ember timed/tokio timed | ember timed/plain | tokio timed/plain |")
            w("| --- | ---: | ---: | ---: | ---: | ---: |")
            for label, medians, samples in rows:
                w(f"| {label} | {fmt_rate(medians['ember_timed'][0])} | {fmt_rate(medians['tokio_timed'][0])}"
                  + f" | {fmt_paired(paired(samples, RATE_KEY[kind], 'ember_timed', 'tokio_timed'))}"
                  + f" | {fmt_paired(paired(samples, RATE_KEY[kind], 'ember_timed', 'ember'))}"
                  + f" | {fmt_paired(paired(samples, RATE_KEY[kind], 'tokio_timed', 'tokio'))} |")
            w("")

    sc, ins, rss = results.get("syscalls"), results.get("instructions"), results.get("rss")
    if sc or ins or rss:
        w("## Cost per round trip and per connection (not moved by the machine's noise)")
        w("")
        w("| server | syscalls / round trip | all syscalls / round trip | instructions / round trip | RSS / idle connection |")
        w("| --- | ---: | ---: | ---: | ---: |")
        for rt in RUNTIMES:
            a = f"{sc[rt]['io_per_rtt']:.3f}" if sc else "–"
            b = f"{sc[rt]['all_per_rtt']:.3f}" if sc else "–"
            c = f"{ins[rt]['per_rtt']:.0f}" if ins else "–"
            d = f"{rss[rt]['per_conn_bytes']:,.0f} B" if rss else "–"
            w(f"| echo_{rt} | {a} | {b} | {c} | {d} |")
        w("")
        if sc:
            w("* Syscalls: echo, 64 connections × "
              f"{conf('syscalls')['strace_rtts']:,} round trips of 64 B under `strace -f -c` (`bench/syscalls.sh`); the I/O")
            w("  path counts `read`/`recv*`/`write`/`send*`/`epoll_wait`/`epoll_pwait*`/`poll`/`accept*`,")
            w("  the other column every call strace saw, start-up included.")
        if ins:
            w(f"* Instructions: user-space instructions of the server process (`valgrind --tool=callgrind")
            w(f"  --dump-instr=no`), echo at 64 connections, 64 B: (I({conf('instructions')['callgrind_rtts'][1]}) − "
              f"I({conf('instructions')['callgrind_rtts'][0]})) / (64 × {conf('instructions')['callgrind_rtts'][1] - conf('instructions')['callgrind_rtts'][0]}),")
            w("  where I(n) is the whole run's count with n round trips per connection, so start-up,")
            w("  accepts and exit cancel out. Under valgrind the server is slow, so it finds many ready")
            w("  connections per `epoll_wait`; every server gets the same treatment.")
        if rss:
            w(f"* RSS: `VmRSS` of the echo server before and while it holds {rss['ember']['conns']:,} idle")
            w("  connections (`loadgen --idle`), each after one round trip; (after − before) / connections.")
            w("  Every server but the epoll loop keeps a 4 KiB read buffer per connection (the epoll loop")
            w("  shares one); threads' figure excludes kernel stacks.")
            w("")
            w("| server | RSS before | RSS holding | per connection | less its 4 KiB read buffer |")
            w("| --- | ---: | ---: | ---: | ---: |")
            for rt in RUNTIMES:
                per = rss[rt]["per_conn_bytes"]
                own = f"{per - 4096:,.0f} B" if rt != "epoll" else "(shared buffer)"
                w(f"| echo_{rt} | {rss[rt]['before_kib']:,} KiB | {rss[rt]['after_kib']:,} KiB | {per:,.0f} B | {own} |")
        w("")

    to = results.get("timeouts")
    if to:
        w("## Timeouts that never fire")
        w("")
        w("The common shape of a server: a read inside an idle timeout, armed and cancelled on every")
        w("message. User-space instructions (callgrind, server process only) per 64-byte echo round trip,")
        w("without (`echo_RT`) and with (`echo_RT_timed`) a 30 s `timeout` around every read:")
        w("")
        w("| server | 64 conns: plain | timed | timed / plain | 1,024 conns: plain | timed | timed / plain |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for rt in ("ember", "tokio"):
            cells = []
            for c in ("64", "1024"):
                row = to["echo"][rt][c]
                cells += [f"{row['plain']:.0f}", f"{row['timed']:.0f}", fmt_ratio(ratio(row["timed"], row["plain"]))]
            w(f"| echo_{rt} | " + " | ".join(cells) + " |")
        w("")
        w("Instructions per create + arm (one poll) + cancel (drop) of a 30 s sleep, with other timers armed")
        w("(`micro_RT arm_cancel ARMED N`):")
        w("")
        w("| timers armed | ember | tokio | ember/tokio |")
        w("| ---: | ---: | ---: | ---: |")
        for armed in ARM_CANCEL_ARMED:
            e, t = to["arm_cancel"]["ember"][str(armed)], to["arm_cancel"]["tokio"][str(armed)]
            w(f"| {armed:,} | {e:.0f} | {t:.0f} | {fmt_ratio(ratio(e, t))} |")
        w("")

    tasks, timers = results.get("tasks"), results.get("timers")
    if tasks or timers:
        n = max(len(v) for v in (tasks or timers["sleeps"]).values())
        w(f"## Tasks and timers ({rounds(n)})")
        w("")
        w("| benchmark | ember | tokio | smol | ember/tokio |")
        w("| --- | ---: | ---: | ---: | ---: |")
        if tasks:
            r = {rt: med(v, "per_sec") for rt, v in tasks.items()}
            ns = {rt: med(v, "ns_each") for rt, v in tasks.items()}
            w(f"| spawn + run + join {conf('tasks')['tasks']:,} empty tasks (tasks/s) | {fmt_rate(r['ember'])} | "
              f"{fmt_rate(r['tokio'])} | {fmt_rate(r['smol'])} | {fmt_ratio(ratio(r['ember'], r['tokio']))} |")
            w(f"| the same, ns per task | {fmt_us(ns['ember'])} | {fmt_us(ns['tokio'])} | {fmt_us(ns['smol'])} | "
              f"{fmt_ratio(ratio(ns['ember'], ns['tokio']))} |")
        if timers:
            s = timers["sleeps"]
            e, t = med(s["ember"], "ns_each"), med(s["tokio"], "ns_each")
            err = next((x["error"] for x in s["ember"] if "error" in x), None)
            w(f"| create, arm (poll once) and drop {conf('timers')['sleeps']:,} sleeps, ns each | "
              f"{fmt_us(e) if e else 'failed'} | {fmt_us(t)} | – | {fmt_ratio(ratio(e, t))} |")
            for armed in ARM_CANCEL_ARMED:
                ac = timers.get(f"arm_cancel_{armed}")
                if ac:
                    e, t = med(ac["ember"], "ns_each"), med(ac["tokio"], "ns_each")
                    w(f"| create, arm and cancel a 30 s sleep with {armed:,} others armed, ns each | "
                      f"{fmt_us(e)} | {fmt_us(t)} | – | {fmt_ratio(ratio(e, t))} |")
            for us in LATENESS_US:
                lt = timers[f"lateness_{us}"]
                for key, what in (("mean_us", "mean"), ("p99_us", "p99")):
                    e, t = med(lt["ember"], key), med(lt["tokio"], key)
                    label = "50 µs" if us == 50 else "1 ms"
                    w(f"| lateness of a {label} sleep, {what} of {conf('timers')['lateness_samples']:,} (µs) | "
                      f"{fmt_us(e)} | {fmt_us(t)} | – | {fmt_ratio(ratio(e, t))} |")
            if err:
                w("")
                w(f"The ember sleeps run failed: `{err}`.")
        w("")
        w("Tasks: inside `block_on`, spawn N `async {}` tasks keeping their handles, then await every")
        w("handle. Sleeps: N sleeps 10–11 s away, each boxed, polled once (which arms it in the timer")
        w("store) and kept, then all dropped (which cancels them). Lateness: `sleep(d).await` N times")
        w("in a row on an otherwise idle runtime; lateness = elapsed − d.")
        w("")

    sync = results.get("sync")
    if sync:
        n = max(len(v) for s_ in sync.values() for v in s_.values())
        w(f"## Sync primitives ({rounds(n)})")
        w("")
        w(f"{conf('sync')['sync_rounds']:,} rounds in a row inside `block_on` (ember) or tokio's `current_thread`")
        w("`block_on`, uncontended: the cost of the primitive itself, in ns per round (`micro_* NAME N`,")
        w("`bench/src/micro.rs`).")
        w("")
        w("| one round | ember (ns) | tokio (ns) | ember/tokio |")
        w("| --- | ---: | ---: | ---: |")
        for name, what, _ in SYNC_BENCH:
            if name not in sync:
                continue
            e, t = med(sync[name]["ember"], "ns_each"), med(sync[name]["tokio"], "ns_each")
            w(f"| {what} | {fmt_us(e) if e else 'failed'} | {fmt_us(t)} | {fmt_ratio(ratio(e, t))} |")
        w("")

    hy = results.get("hyper")
    if hy:
        n = max(len(v) for load in HTTP_LOADS for v in hy[load].values())
        w(f"## hyper 1.x on ember and on tokio ({rounds(n)})")
        w("")
        w("The same hyper HTTP/1.1 service (`Hello, World!`), on ember through its own glue")
        w("(`ember::hyper::{Io, Timer}`, feature `hyper`) and on tokio's `current_thread` runtime through")
        w("hyper-util's `TokioIo`: `bench/src/bin/hyper_ember.rs`, `hyper_tokio.rs`, `wrk -t1`, the two")
        w("alternated per round. Instructions per request: user space, under callgrind, `wrk -t1 -c16`")
        w("for 10 s, the program's total over the requests served (start-up included, so a slight")
        w("overestimate for both).")
        w("")
        w("| load | ember (req/s) | tokio (req/s) | ember/tokio |")
        w("| --- | ---: | ---: | ---: |")
        for load in HTTP_LOADS:
            e = med(hy[load]["hyper_ember"], "rps")
            t = med(hy[load]["hyper_tokio"], "rps")
            w(f"| wrk -t1 -{load} | {fmt_rate(e)} | {fmt_rate(t)} | {fmt_ratio(ratio(e, t))} |")
        ins = hy.get("instructions", {})
        if ins:
            e = ins["hyper_ember"]["per_request"]
            t = ins["hyper_tokio"]["per_request"]
            w(f"| instructions per request | {e:,.0f} | {t:,.0f} | {fmt_ratio(ratio(e, t))} |")
        w("")

    so = results.get("scaleout")
    if so:
        render_scaleout(w, so, conf("scaleout"))

    red = results.get("redis")
    if red and "skipped" not in red:
        w("## mini_redis under redis-benchmark")
        w("")
        w("`examples/mini_redis/` (ember), unmodified `redis-benchmark` (50 clients), server on CPU 0,")
        w("redis-benchmark on CPU 1. One run each.")
        w("")
        runs = list(red.values())
        w("| test | " + " | ".join(f"-P {r['command'].split('-P ')[1].split()[0]}: requests/s | p50 (ms) | p99 (ms)"
                                  for r in runs) + " |")
        w("| --- |" + " ---: | ---: | ---: |" * len(runs))
        for test in runs[0]["tests"]:
            cells = []
            for r in runs:
                v = r["tests"].get(test, {})
                cells += [fmt_rate(v.get("rps")), str(v.get("p50_ms", "–")), str(v.get("p99_ms", "–"))]
            w(f"| {test} | " + " | ".join(cells) + " |")
        w("")
        for key, run_ in red.items():
            state = "no errors" if not run_["errors"] and run_["exit"] == 0 and run_["server_alive"] else (
                f"exit {run_['exit']}, server alive: {run_['server_alive']}, errors: {run_['errors'][:3]}")
            w(f"* `{run_['command']}` ({run_['requests']:,} requests per test): {state}.")
        w("")

    b = results.get("build")
    if b:
        w("## Build time and binary size")
        w("")
        w("The echo server (`bench/buildsize/echo_*.rs`) as its own crate, its only dependency ember")
        w(f"(path; default features off, `net` and `io-util` on) or tokio {m['machine']['tokio']} (`rt`, `net`,")
        w("`io-util`): each runtime with only the parts the server needs; or none (the std baseline:")
        w("a thread per connection). `cargo build --release` from")
        w(f"clean with the dependencies downloaded, timed ({rounds(conf('build')['build_rounds'])}); then `strip`.")
        w("")
        base = b.get("std")
        w("| | ember | tokio | ember/tokio | std only (baseline) |")
        w("| --- | ---: | ---: | ---: | ---: |")
        e, t = median(b["ember"]["secs"]), median(b["tokio"]["secs"])
        s = f"{median(base['secs']):.1f} s" if base else "–"
        w(f"| clean release build | {e:.1f} s | {t:.1f} s | {fmt_ratio(ratio(e, t))} | {s} |")
        for key, what in (("stripped_bytes", "stripped binary"), ("unstripped_bytes", "unstripped binary")):
            e, t = b["ember"].get(key), b["tokio"].get(key)
            if e and t:
                s = f"{base[key]:,} B" if base and base.get(key) else "–"
                w(f"| {what} | {e:,} B | {t:,} B | {fmt_ratio(ratio(e, t))} | {s} |")
        if base:
            e, t = b["ember"]["stripped_bytes"] - base["stripped_bytes"], b["tokio"]["stripped_bytes"] - base["stripped_bytes"]
            w(f"| stripped, minus the std baseline | {e:,} B | {t:,} B | {fmt_ratio(ratio(e, t))} | |")
        w("")

    opt = BENCH / "optimisations.md"
    if opt.exists():
        w(opt.read_text().rstrip())
        w("")

    w("## How these figures were taken")
    w("")
    mach = m["machine"]
    w(f"* Machine: {mach['nproc']} CPUs, {mach['cpu']}; Linux {mach['kernel']}; {mach['rustc']};")
    w(f"  tokio {mach['tokio']}, smol {mach['smol']}; {mach['wrk']}; {mach['redis_benchmark']}.")
    by_commit = {}
    for name, v in done.items():
        by_commit.setdefault(v.get("commit", mach["commit"]), []).append(name)
    if len(by_commit) <= 1:
        w(f"* ember's runtime as of commit {mach['commit']} (the last commit that changed `src/`)"
          + (f"; {m['label']}" if m.get("label") else "") + ".")
    else:
        w("* ember's runtime (the last commit that changed `src/`) per section: "
          + "; ".join(f"{', '.join(names)} at {c}" for c, names in by_commit.items())
          + (f"; {m['label']}" if m.get("label") else "") + ".")
    w(f"* Every server pinned to CPU 0 (`taskset -c 0`), every load generator to CPU 1"
      + (" (but for the scale-out section: see there)." if results.get("scaleout") else "."))
    echo = conf("echo") or conf("http")
    if echo:
        w(f"* Echo: `loadgen --conns C --size S --secs {echo['secs']} --warmup {echo['warmup']}` (closed loop,")
        w("  every echoed byte checked; p50/p99 are round-trip times). HTTP: `wrk -t1 -cC -d"
          f"{max(1, round(echo['secs']))}s --latency` after a {max(1, round(echo['warmup']))} s warm-up run.")
        w(f"* {echo['rounds']} rounds; in each, the servers run one after another in an order rotated by one")
        w("  every round and every load, each freshly started. Figures are medians over the rounds.")
    if timed:
        first = min(timed.values(), key=lambda v: v["date"])
        w(f"* Load: the timed runs started with a 1-minute load average of {first.get('load_before', 0):.2f}"
          f" (after waiting {first.get('waited_s', 0) / 60:.0f} min for it to drop below {first.get('max_load', 0.6)}).")
        w("* Quiet check per block: each block of timed runs (one load with every server, or one round of")
        w(f"  a micro-benchmark, or one build) was redone when other processes used more than {max_foreign * 100:.0f} % of the")
        w(f"  CPUs meanwhile: {blocks} blocks kept, {redone} redone, {noisy} kept although noisy; the busiest block")
        w(f"  kept saw {worst * 100:.1f} %. CPU used by other processes than the suite's, or stolen by the")
        w("  hypervisor, as a share of both CPUs, per section: "
          + ", ".join(f"{k} {v.get('foreign_share', 0) * 100:.0f} %" for k, v in timed.items()) + ".")
    w("* When each section ran: " + "; ".join(f"{k} {v['date']}" for k, v in done.items()) + ".")
    w("")
    w("To reproduce (about 30 minutes on a quiet 2-CPU machine, plus any wait for quiet; on Debian or")
    w("Ubuntu, `run.sh` first installs the tools it misses: wrk, redis-tools, strace, valgrind, matplotlib):")
    w("")
    w("```sh")
    w("bench/run.sh                                         # everything; writes this page")
    w("bench/run.sh --quick                                 # a small run, to check the suite")
    w("bench/run.sh --sections echo,http --merge            # rerun some sections, keep the rest")
    w("```")
    w("")
    out_md.write_text("\n".join(lines).replace("\n\n\n", "\n\n"))
    chart(results, chart_path)


def render_scaleout(w, so, cfg):
    n = max(len(v) for load in so.values() for v in load.values())
    w(f"## Scale-out: one runtime per core ({rounds(n)})")
    w("")
    w("`examples/multicore_echo.rs` (ember: N threads, each its own runtime and its own `SO_REUSEPORT`")
    w("listener, nothing shared; `docs/multicore.md`) against `bench/src/bin/echo_tokio_mt.rs` (tokio's")
    w("multi-thread runtime, N workers, work stealing), each with 1 and 2 threads. Unlike the sections")
    w(f"above, the servers **and** {SCALEOUT_LOADGENS} `loadgen`s (each with half the connections) all run on both CPUs")
    w(f"(`taskset -c 0,1`); 64-byte messages, {cfg.get('secs', '?')} s measured after a warm-up run.")
    w("\"server CPU\" is the server process's user + system time (`/proc/PID/stat`) per round trip, and")
    w("in CPUs' worth over the run.")
    w("")
    for load, by in so.items():
        size, conns = load.split("/")
        w(f"**{size} B × {conns} connections**")
        w("")
        w("| server | threads | round trips/s | p50 (µs) | p99 (µs) | server CPU per round trip (µs) | server used (CPUs) |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for key, samples in by.items():
            name, threads = key.rsplit("-", 1)
            label = "ember `multicore_echo`" if name == "ember" else "tokio multi-thread"
            w(f"| {label} | {threads} | {fmt_rate(med(samples, 'msgs_per_sec'))} | {fmt_us(med(samples, 'p50_us'))} | "
              f"{fmt_us(med(samples, 'p99_us'))} | {fmt_us(med(samples, 'server_cpu_us_per_rtt'))} | "
              f"{med(samples, 'server_cpus') or 0:.2f} |")
        e1, e2 = med(by["ember-1"], "msgs_per_sec"), med(by["ember-2"], "msgs_per_sec")
        t1, t2 = med(by["tokio_mt-1"], "msgs_per_sec"), med(by["tokio_mt-2"], "msgs_per_sec")
        w("")
        w(f"2 threads over 1: ember {fmt_ratio(ratio(e2, e1))}, tokio {fmt_ratio(ratio(t2, t1))}; "
          f"ember over tokio: {fmt_ratio(ratio(e1, t1))} with 1 thread, {fmt_ratio(ratio(e2, t2))} with 2.")
        w("")
    one = med(so[max(so, key=lambda k: int(k.split("/")[1]))]["ember-1"], "server_cpu_us_per_rtt")
    w("**What two CPUs can and cannot show.** The load generators need about as much CPU per round")
    w("trip as the server (on loopback each side also pays its half of the kernel's TCP work), so on")
    w("two CPUs a second server thread mostly takes CPU from the load generators: the rate cannot")
    w("double, and the 2-thread figures say whether the design costs anything when the cores are")
    w("shared (wakeups, cache lines, scheduling), not how far it scales. What carries over to a bigger")
    w("machine is the cost per round trip: ember's server spent"
      + (f" {fmt_us(one)} µs" if one else " –")
      + " of CPU per round trip with one thread")
    w("at the heaviest load here; a thread-per-core server shares nothing between its threads, so N")
    w("free cores (with the load coming from elsewhere) can serve about N times what one core does,")
    w("until the NIC, the kernel's accept path or the hash's imbalance between listeners gets in the")
    w("way. This page measures none of those; a run on a machine with spare cores would.")
    w("")
    w("```sh")
    w("python3 bench/suite.py --sections scaleout --merge   # or bench/run.sh with the same flags")
    w("```")
    w("")


def chart(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed (pip install matplotlib): no chart")
        return
    colors = {"ember": "#d9480f", "tokio": "#1c7ed6", "smol": "#37b24d", "epoll": "#495057", "threads": "#ae3ec9"}
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    fig.suptitle("ember against tokio (current_thread), smol (LocalExecutor), a hand-written epoll loop and threads",
                 fontsize=12)

    def grouped(ax, rows, title, ylabel, index=0):
        if not rows:
            ax.set_visible(False)
            return
        width = 0.8 / len(RUNTIMES)
        for i, rt in enumerate(RUNTIMES):
            values = [(medians[rt][index] or 0) for _, medians, _ in rows]
            xs = [x + (i - (len(RUNTIMES) - 1) / 2) * width for x in range(len(rows))]
            ax.bar(xs, values, width, label=rt, color=colors[rt])
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([label.split("× ")[-1] if "×" in label else label.replace("wrk -t1 ", "")
                            for label, _, _ in rows])
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: fmt_rate(y)))
        ax.grid(axis="y", alpha=0.3)

    echo = load_table(results, "echo")
    grouped(axes[0][0], [r for r in echo if r[0].startswith("64 B")], "echo 64 B: messages/s by connections", "messages/s")
    grouped(axes[0][1], [r for r in echo if r[0].startswith("1 KiB")], "echo 1 KiB: messages/s by connections", "messages/s")
    grouped(axes[0][2], load_table(results, "http"), "HTTP plaintext (wrk -t1): requests/s", "requests/s")
    axes[0][0].legend(fontsize=8)

    def bars(ax, values, title, ylabel, fmt):
        values = {k: v for k, v in values.items() if v is not None}
        if not values:
            ax.set_visible(False)
            return
        names = list(values)
        ax.bar(names, [values[n] for n in names], color=[colors.get(n, "#868e96") for n in names])
        for i, n in enumerate(names):
            ax.annotate(fmt(values[n]), (i, values[n]), ha="center", va="bottom", fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)

    ins = results.get("instructions") or {}
    bars(axes[1][0], {rt: ins[rt]["per_rtt"] for rt in ins}, "user-space instructions per echo round trip (callgrind)",
         "instructions", lambda v: f"{v:.0f}")
    rss = results.get("rss") or {}
    bars(axes[1][1], {rt: rss[rt]["per_conn_bytes"] / 1024 for rt in rss},
         "RSS per idle connection (KiB)", "KiB", lambda v: f"{v:.1f}")
    tasks = results.get("tasks") or {}
    bars(axes[1][2], {rt: med(v, "per_sec") for rt, v in tasks.items()},
         f"spawn + join {results['meta'].get('sections', {}).get('tasks', {}).get('config', {}).get('tasks', 0):,} empty tasks: tasks/s", "tasks/s", fmt_rate)
    axes[1][2].yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: fmt_rate(y)))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    log(f"wrote {path}")


# --------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="everything small and short, to check the suite")
    p.add_argument("--rounds", type=int, help="rounds of the timed benchmarks (default 9; quick 1)")
    p.add_argument("--secs", type=float, help="measured seconds per echo/HTTP run (default 1.5)")
    p.add_argument("--warmup", type=float, help="warm-up seconds per echo/HTTP run (default 0.5)")
    p.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated subset of " + ",".join(SECTIONS))
    p.add_argument("--merge", action="store_true", help="keep the other sections' figures from the JSON file")
    p.add_argument("--max-load", type=float, default=0.6, help="quiet means a 1-minute load average below this")
    p.add_argument("--wait-minutes", type=float, default=40,
                   help="how long to wait for quiet, before and during the timed runs (0: do not wait)")
    p.add_argument("--max-foreign", type=float, default=0.05,
                   help="redo a block of timed runs if other processes used more than this share of the CPUs")
    p.add_argument("--label", default="", help="a note on what was measured, shown on the page")
    p.add_argument("--render-only", action="store_true", help="only rewrite the page and chart from the JSON file")
    p.add_argument("--json", type=Path, default=ROOT / "docs" / "benchmarks.json")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    p.add_argument("--chart", type=Path, default=ROOT / "docs" / "img" / "benchmarks.png")
    args = p.parse_args()

    if args.render_only:
        render(json.loads(args.json.read_text()), args.out, args.chart)
        log(f"wrote {args.out}")
        return

    q = args.quick
    cfg = argparse.Namespace(
        rounds=args.rounds or (1 if q else 9),
        secs=args.secs or (0.5 if q else 1.5),
        warmup=args.warmup if args.warmup is not None else (0.2 if q else 0.5),
        split_rounds=1 if q else 5,
        split_secs=1 if q else 6,
        strace_rtts=200 if q else 2000,
        callgrind_rtts=(50, 250) if q else (200, 1200),
        callgrind_rtts_1024=(10, 30) if q else (50, 250),
        arm_cancel_rounds=20_000 if q else 200_000,
        idle=1000 if q else 10_000,
        tasks=100_000 if q else 1_000_000,
        sleeps=100_000 if q else 1_000_000,
        lateness_samples=100 if q else 1000,
        sync_rounds=1_000_000 if q else 10_000_000,
        redis_n=20_000 if q else 200_000,
        build_rounds=1 if q else 3,
        max_load=args.max_load,
    )
    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")

    # 10,000 idle connections need more than the default 1,024 fds.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < cfg.idle + 100 and "rss" in sections:
        log(f"open-file hard limit {hard} < {cfg.idle + 100}: the RSS benchmark will fail")

    started = time.monotonic()
    build()
    results = json.loads(args.json.read_text()) if args.merge and args.json.exists() else {}
    meta = results.get("meta", {})
    measured = machine()
    # A tool missing here ("?") keeps the version the merged sections saw.
    kept = meta.get("machine", {})
    measured = {k: (kept.get(k, v) if v == "?" else v) for k, v in measured.items()}
    meta.update({"machine": measured, "label": args.label})
    results["meta"] = meta

    # What each section was run with (sections may come from different runs, with --merge).
    done = meta.setdefault("sections", {})
    for name in [s for s in SECTIONS if s in sections and s not in TIMED]:
        results[name] = globals()[f"section_{name}"](cfg)
        done[name] = {"config": vars(cfg), "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                      "commit": meta["machine"]["commit"]}

    timed = [s for s in SECTIONS if s in sections and s in TIMED]
    if timed:
        quiet, waited = (True, 0.0)
        if args.wait_minutes > 0:
            quiet, waited = wait_until_quiet(args.max_load, args.wait_minutes)
        else:
            quiet = os.getloadavg()[0] < args.max_load
        GUARD.max_share = args.max_foreign
        GUARD.budget = max(0.0, args.wait_minutes * 60 - waited)
        load_before = os.getloadavg()[0]
        for name in timed:
            before = GUARD.summary()
            GUARD.worst_kept = 0.0
            with ForeignLoad() as fl:
                results[name] = globals()[f"section_{name}"](cfg)
            after = GUARD.summary()
            done[name] = {
                "config": vars(cfg), "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                "commit": meta["machine"]["commit"], "foreign_share": fl.share, "quiet": quiet, "waited_s": waited, "load_before": load_before,
                "max_load": args.max_load, "max_foreign": args.max_foreign,
                "blocks": after["blocks"] - before["blocks"], "redone": after["redone"] - before["redone"],
                "noisy": after["noisy"] - before["noisy"], "worst_kept_share": after["worst_kept_share"],
            }
            log(f"{name}: {fl.elapsed:.0f} s, CPU not ours {fl.share * 100:.0f} %")

    minutes = (time.monotonic() - started) / 60
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1))
    render(results, args.out, args.chart)
    log(f"wrote {args.json} and {args.out} in {minutes:.1f} min")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
