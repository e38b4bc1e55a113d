//! Helpers for the `micro_*` binaries (task spawning and timers on ember,
//! tokio and smol): the command line they share, a future that polls
//! another exactly once, and the one-line report.
//!
//! Every `micro_*` binary takes the same commands and prints one line of
//! `key=value` pairs, which `bench/suite.py` parses:
//!
//! | command | what it measures |
//! | --- | --- |
//! | `spawn N` | spawn N empty tasks, then await every `JoinHandle` |
//! | `sleeps N` | create N sleeps (10-11 s away), poll each once so it is armed in the timer store, keep them all, then drop them all |
//! | `lateness MICROS N` | N times in a row: `sleep(MICROS µs).await`, and how late it woke |
//! | `semaphore N` | N times: `acquire().await` a permit of an uncontended `Semaphore`, drop it |
//! | `mutex N` | N times: `lock().await` an uncontended async `Mutex<u64>`, add one, unlock |
//! | `watch N` | N times: `send(i)` on a watch channel, `changed().await`, `borrow_and_update()` |
//! | `broadcast N` | N times: `send(i)` on a broadcast channel (capacity 16), `recv().await` it |
//!
//! The sync commands run inside the runtime's main future, on one thread,
//! with nothing else to do: they measure the primitive's own cost.
//! | `arm_cancel ARMED N` | arm ARMED sleeps (10-11 s away) and keep them; then N times: create a 30 s sleep, poll it once (armed), drop it (cancelled): the cost of a timeout that never fires, with ARMED others in the store |

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::hist::Histogram;

/// A parsed `micro_*` command line.
pub enum Command {
    Spawn {
        tasks: usize,
    },
    Sleeps {
        sleeps: usize,
    },
    Lateness {
        sleep: Duration,
        samples: usize,
    },
    /// One of the sync primitives' rounds: `semaphore`, `mutex`, `watch`,
    /// `broadcast`.
    Sync {
        what: SyncBench,
        rounds: usize,
    },
    /// Arm and cancel a timeout N times, with ARMED others armed.
    ArmCancel {
        armed: usize,
        rounds: usize,
    },
}

/// Which primitive a `Command::Sync` measures.
#[derive(Clone, Copy)]
pub enum SyncBench {
    Semaphore,
    Mutex,
    Watch,
    Broadcast,
}

impl SyncBench {
    /// The command's name, also the first word of its report line.
    pub fn name(self) -> &'static str {
        match self {
            SyncBench::Semaphore => "semaphore",
            SyncBench::Mutex => "mutex",
            SyncBench::Watch => "watch",
            SyncBench::Broadcast => "broadcast",
        }
    }
}

/// The timeout `arm_cancel` arms and cancels: an idle timeout's length.
pub const ARM_CANCEL_TIMEOUT: Duration = Duration::from_secs(30);

/// Parses `std::env::args()`, exiting with a usage message if they are bad.
pub fn command() -> Command {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| args.get(i).and_then(|a| a.parse::<usize>().ok());
    let parsed = match args.first().map(String::as_str) {
        Some("spawn") => number(1).map(|tasks| Command::Spawn { tasks }),
        Some("sleeps") => number(1).map(|sleeps| Command::Sleeps { sleeps }),
        Some(word @ ("semaphore" | "mutex" | "watch" | "broadcast")) => {
            let what = match word {
                "semaphore" => SyncBench::Semaphore,
                "mutex" => SyncBench::Mutex,
                "watch" => SyncBench::Watch,
                _ => SyncBench::Broadcast,
            };
            number(1).map(|rounds| Command::Sync { what, rounds })
        }
        Some("lateness") => number(1)
            .zip(number(2))
            .map(|(micros, samples)| Command::Lateness {
                sleep: Duration::from_micros(micros as u64),
                samples,
            }),
        Some("arm_cancel") => number(1)
            .zip(number(2))
            .map(|(armed, rounds)| Command::ArmCancel { armed, rounds }),
        _ => None,
    };
    parsed.unwrap_or_else(|| {
        eprintln!(
            "usage: micro_* spawn N | sleeps N | lateness MICROS N | arm_cancel ARMED N | semaphore N | mutex N | watch N | broadcast N"
        );
        std::process::exit(2);
    })
}

/// The deadline of the `i`th sleep of the `sleeps` command: spread over a
/// second, 10 s away (so none fires while the benchmark runs).
pub fn sleep_duration(i: usize) -> Duration {
    Duration::from_secs(10) + Duration::from_micros((i as u64 * 7919) % 1_000_000)
}

/// Polls the future once and gives back what it said.
pub struct PollOnce<'a, F: Future + ?Sized>(pub Pin<&'a mut F>);

impl<F: Future + ?Sized> Future for PollOnce<'_, F> {
    type Output = Poll<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(self.0.as_mut().poll(cx))
    }
}

/// Prints `what count=N secs=S per_sec=R ns_each=E`.
pub fn report_rate(what: &str, count: usize, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    println!(
        "{what} count={count} secs={secs:.4} per_sec={:.0} ns_each={:.1}",
        count as f64 / secs,
        secs * 1e9 / count as f64
    );
}

/// Lateness samples (how long after its deadline each sleep woke).
#[derive(Default)]
pub struct Lateness {
    hist: Histogram,
    total_ns: u128,
}

impl Lateness {
    pub fn record(&mut self, late: Duration) {
        self.hist.record(late.as_nanos() as u64);
        self.total_ns += late.as_nanos();
    }

    /// Prints `lateness sleep_us=.. samples=.. mean_us=.. p50_us=.. p99_us=.. max_us=..`.
    pub fn report(&self, sleep: Duration) {
        let us = |ns: u64| ns as f64 / 1000.0;
        let n = self.hist.count().max(1);
        println!(
            "lateness sleep_us={} samples={} mean_us={:.1} p50_us={:.1} p99_us={:.1} max_us={:.1}",
            sleep.as_micros(),
            self.hist.count(),
            self.total_ns as f64 / n as f64 / 1000.0,
            us(self.hist.quantile(0.5)),
            us(self.hist.quantile(0.99)),
            us(self.hist.max()),
        );
    }
}
