//! Task, timer and sync micro-benchmarks on tokio's `current_thread` runtime; see
//! `ember_bench::micro` for the commands (`spawn N`, `sleeps N`,
//! `lateness MICROS N`,
//! and the sync primitives: `semaphore N`, `mutex N`, `watch N`, `broadcast N`, and `arm_cancel ARMED N`).

use std::hint::black_box;
use std::pin::Pin;
use std::time::Instant;

use ember_bench::micro::{self, Command, Lateness, PollOnce, SyncBench};
use tokio::time::{sleep, Sleep};

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        match micro::command() {
            Command::Spawn { tasks } => {
                let start = Instant::now();
                let handles: Vec<_> = (0..tasks).map(|_| tokio::spawn(async {})).collect();
                for handle in handles {
                    handle.await.expect("an empty task cannot fail");
                }
                micro::report_rate("spawn", tasks, start.elapsed());
            }
            Command::Sleeps { sleeps } => {
                let start = Instant::now();
                let mut armed: Vec<Pin<Box<Sleep>>> = Vec::with_capacity(sleeps);
                for i in 0..sleeps {
                    let mut s = Box::pin(sleep(micro::sleep_duration(i)));
                    assert!(PollOnce(s.as_mut()).await.is_pending());
                    armed.push(s);
                }
                drop(armed);
                micro::report_rate("sleeps", sleeps, start.elapsed());
            }
            Command::Sync { what, rounds } => {
                let start = Instant::now();
                match what {
                    SyncBench::Semaphore => {
                        let sem = tokio::sync::Semaphore::new(1);
                        for _ in 0..rounds {
                            drop(black_box(sem.acquire().await.expect("open")));
                        }
                    }
                    SyncBench::Mutex => {
                        let m = tokio::sync::Mutex::new(0u64);
                        for _ in 0..rounds {
                            *black_box(m.lock().await) += 1;
                        }
                    }
                    SyncBench::Watch => {
                        let (tx, mut rx) = tokio::sync::watch::channel(0usize);
                        for i in 0..rounds {
                            tx.send(i).expect("receiver alive");
                            rx.changed().await.expect("sender alive");
                            black_box(*rx.borrow_and_update());
                        }
                    }
                    SyncBench::Broadcast => {
                        let (tx, mut rx) = tokio::sync::broadcast::channel(16);
                        for i in 0..rounds {
                            tx.send(i).expect("receiver alive");
                            black_box(rx.recv().await.expect("a value"));
                        }
                    }
                }
                micro::report_rate(what.name(), rounds, start.elapsed());
            }
            Command::ArmCancel { armed, rounds } => {
                let mut others: Vec<Pin<Box<Sleep>>> = Vec::with_capacity(armed);
                for i in 0..armed {
                    let mut s = Box::pin(sleep(micro::sleep_duration(i)));
                    assert!(PollOnce(s.as_mut()).await.is_pending());
                    others.push(s);
                }
                let start = Instant::now();
                for _ in 0..rounds {
                    let mut s = std::pin::pin!(sleep(micro::ARM_CANCEL_TIMEOUT));
                    assert!(PollOnce(s.as_mut()).await.is_pending());
                }
                micro::report_rate(
                    &format!("arm_cancel armed={armed}"),
                    rounds,
                    start.elapsed(),
                );
                drop(others);
            }
            Command::Lateness { sleep: d, samples } => {
                let mut lateness = Lateness::default();
                for _ in 0..samples {
                    let start = Instant::now();
                    sleep(d).await;
                    lateness.record(start.elapsed().saturating_sub(d));
                }
                lateness.report(d);
            }
        }
    });
}
