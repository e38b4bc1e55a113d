//! The cost of one message through an mpsc channel between two tasks on one
//! thread: ember's `sync::mpsc` beside tokio's `sync::mpsc` on its
//! current-thread runtime, measured in the same run.
//!
//! Usage: `mpsc_cost [MESSAGES] [ROUNDS]` (defaults: 1,000,000 and 7).
//!
//! ```text
//! cargo run --release -p ember-bench --bin mpsc_cost
//! ```
//!
//! For each case a producer task sends MESSAGES `u64`s and a consumer task
//! sums them; the time from the spawns to the consumer's end, divided by
//! MESSAGES, is the cost per message (send, receive, and the task switches
//! the channel causes). Rounds alternate ember and tokio; the best and the
//! median round are printed, with ember / tokio for the median.
//!
//! | case          | what it stresses |
//! |---------------|------------------|
//! | `bounded 1024`| the common case: the producer runs ahead until the channel is full, then the two take turns in batches |
//! | `bounded 1`   | the worst case: every message switches tasks (two wakes per message) |
//! | `unbounded`   | no back-pressure: the producer sends everything, then the consumer drains |

use std::hint::black_box;
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
enum Case {
    Bounded(usize),
    Unbounded,
}

impl Case {
    fn name(self) -> String {
        match self {
            Case::Bounded(n) => format!("bounded {n}"),
            Case::Unbounded => "unbounded".to_string(),
        }
    }
}

fn expected_sum(n: u64) -> u64 {
    n * (n - 1) / 2
}

/// One round on ember; returns the elapsed time and the loop's polls.
fn ember_round(rt: &ember::Runtime, case: Case, n: u64) -> (Duration, u64) {
    rt.block_on(async move {
        let polls_before = ember::runtime::stats().polls;
        let start = Instant::now();
        let consumer = match case {
            Case::Bounded(cap) => {
                let (tx, mut rx) = ember::sync::mpsc::channel::<u64>(cap);
                ember::spawn(async move {
                    for i in 0..n {
                        tx.send(i).await.expect("receiver alive");
                    }
                });
                ember::spawn(async move {
                    let mut sum = 0u64;
                    while let Some(v) = rx.recv().await {
                        sum += v;
                    }
                    sum
                })
            }
            Case::Unbounded => {
                let (tx, mut rx) = ember::sync::mpsc::unbounded_channel::<u64>();
                ember::spawn(async move {
                    for i in 0..n {
                        tx.send(i).expect("receiver alive");
                    }
                });
                ember::spawn(async move {
                    let mut sum = 0u64;
                    while let Some(v) = rx.recv().await {
                        sum += v;
                    }
                    sum
                })
            }
        };
        let sum = consumer.await.expect("consumer");
        let elapsed = start.elapsed();
        assert_eq!(black_box(sum), expected_sum(n));
        (elapsed, ember::runtime::stats().polls - polls_before)
    })
}

/// One round on tokio's current-thread runtime.
fn tokio_round(rt: &tokio::runtime::Runtime, case: Case, n: u64) -> Duration {
    rt.block_on(async move {
        let start = Instant::now();
        let consumer = match case {
            Case::Bounded(cap) => {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(cap);
                tokio::spawn(async move {
                    for i in 0..n {
                        tx.send(i).await.expect("receiver alive");
                    }
                });
                tokio::spawn(async move {
                    let mut sum = 0u64;
                    while let Some(v) = rx.recv().await {
                        sum += v;
                    }
                    sum
                })
            }
            Case::Unbounded => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
                tokio::spawn(async move {
                    for i in 0..n {
                        tx.send(i).expect("receiver alive");
                    }
                });
                tokio::spawn(async move {
                    let mut sum = 0u64;
                    while let Some(v) = rx.recv().await {
                        sum += v;
                    }
                    sum
                })
            }
        };
        let sum = consumer.await.expect("consumer");
        let elapsed = start.elapsed();
        assert_eq!(black_box(sum), expected_sum(n));
        elapsed
    })
}

fn ns_per_msg(d: Duration, n: u64) -> f64 {
    d.as_nanos() as f64 / n as f64
}

/// Best and median of `rounds`, in ns per message.
fn best_median(mut v: Vec<Duration>, n: u64) -> (f64, f64) {
    v.sort();
    (ns_per_msg(v[0], n), ns_per_msg(v[v.len() / 2], n))
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map_or(1_000_000, |s| s.parse().expect("MESSAGES"));
    let rounds: usize = args.next().map_or(7, |s| s.parse().expect("ROUNDS"));
    assert!(n > 0 && rounds > 0, "MESSAGES and ROUNDS must be positive");

    let ember_rt = ember::Runtime::new()?;
    let tokio_rt = tokio::runtime::Builder::new_current_thread().build()?;

    println!("{n} messages per round, {rounds} rounds; ns/message (best / median)");
    println!(
        "{:<13} {:>17} {:>17} {:>14} {:>13}",
        "case", "ember", "tokio", "ember/tokio", "ember polls"
    );
    for case in [Case::Bounded(1024), Case::Bounded(1), Case::Unbounded] {
        let mut ember_times = Vec::with_capacity(rounds);
        let mut tokio_times = Vec::with_capacity(rounds);
        let mut polls = 0;
        // One warm-up round each (page faults, allocator), then alternate.
        ember_round(&ember_rt, case, n.min(100_000));
        tokio_round(&tokio_rt, case, n.min(100_000));
        for _ in 0..rounds {
            let (t, p) = ember_round(&ember_rt, case, n);
            ember_times.push(t);
            polls = p;
            tokio_times.push(tokio_round(&tokio_rt, case, n));
        }
        let (eb, em) = best_median(ember_times, n);
        let (tb, tm) = best_median(tokio_times, n);
        println!(
            "{:<13} {:>7.1} / {:>7.1} {:>7.1} / {:>7.1} {:>14.2} {:>9.3}/msg",
            case.name(),
            eb,
            em,
            tb,
            tm,
            em / tm,
            polls as f64 / n as f64
        );
    }
    Ok(())
}
