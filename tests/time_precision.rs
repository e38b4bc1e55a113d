//! Timer precision, measured (`#[ignore]`d: it prints figures, it asserts
//! only that no sleep ends early). Run it alone, on an otherwise idle
//! machine:
//!
//! ```text
//! cargo test --release --test time_precision -- --ignored --nocapture --test-threads=1
//! ```
//!
//! It prints, for 1,000 sleeps each of 50 µs, 1 ms and 10 ms on an idle
//! loop, the lateness past the deadline (mean, p50, p99, max); beside each,
//! the same for `std::thread::sleep`, the floor the kernel (and the VM, if
//! any) sets; then five 1 s sleeps (the long-wait cut at work); then all of
//! it again with the kernel's default timer slack of 50 µs put back (what
//! ember would do without `sys/thread.rs`). The second test prints the
//! cost of creating, arming and dropping 1,000,000 sleeps.
#![cfg(feature = "time")]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ember::time::Instant;

use ember::time::{sleep, timeout};

mod support;

/// The measurements take about a minute; more on a loaded machine.
const MEASURE_LIMIT: Duration = Duration::from_secs(600);

/// Sets the calling thread's timer slack (`prctl(2)`, `PR_SET_TIMERSLACK`).
fn set_timer_slack(ns: u64) {
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and no pointers.
    let r = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, ns as libc::c_ulong, 0, 0, 0) };
    assert_eq!(r, 0, "prctl(PR_SET_TIMERSLACK) failed");
}

/// The calling thread's timer slack, in nanoseconds.
fn timer_slack() -> u64 {
    // SAFETY: PR_GET_TIMERSLACK takes no argument and returns the slack.
    let r = unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0) };
    assert!(r >= 0, "prctl(PR_GET_TIMERSLACK) failed");
    r as u64
}

/// Sleeps `n` times for `d`; returns each sleep's lateness past its deadline.
async fn lateness(d: Duration, n: usize) -> Vec<Duration> {
    let mut late = Vec::with_capacity(n);
    for _ in 0..n {
        let s = sleep(d);
        let deadline = s.deadline();
        s.await;
        let now = Instant::now();
        assert!(now >= deadline, "a {d:?} sleep ended early");
        late.push(now - deadline);
    }
    late
}

/// The same with `std::thread::sleep` (`clock_nanosleep`): how late the
/// kernel itself wakes this thread, without the runtime.
fn os_lateness(d: Duration, n: usize) -> Vec<Duration> {
    (0..n)
        .map(|_| {
            let deadline = Instant::now() + d;
            std::thread::sleep(d);
            Instant::now() - deadline
        })
        .collect()
}

fn summary(mut late: Vec<Duration>) -> String {
    late.sort();
    let n = late.len();
    let mean = late.iter().sum::<Duration>() / n as u32;
    let pct = |p: usize| late[(n * p / 100).min(n - 1)];
    format!(
        "mean {:>7.1} µs   p50 {:>7.1} µs   p99 {:>7.1} µs   max {:>8.1} µs",
        mean.as_secs_f64() * 1e6,
        pct(50).as_secs_f64() * 1e6,
        pct(99).as_secs_f64() * 1e6,
        late[n - 1].as_secs_f64() * 1e6,
    )
}

async fn table(label: &str) {
    println!("{label} (timer slack now {} ns):", timer_slack());
    lateness(Duration::from_micros(50), 100).await; // warm up
    for (d, n) in [
        (Duration::from_micros(50), 1000),
        (Duration::from_millis(1), 1000),
        (Duration::from_millis(10), 1000),
    ] {
        let label = format!("sleep({d:?}) x {n}");
        println!("  {label:<22} {}", summary(lateness(d, n).await));
        println!("  {:<22} {}", "  thread::sleep", summary(os_lateness(d, n)));
    }
}

#[test]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
fn sleeps_on_an_idle_loop_end_this_late() {
    support::run(MEASURE_LIMIT, || async {
        // One short sleep first: the loop sets the thread's timer slack.
        sleep(Duration::from_micros(10)).await;
        table("ember as it runs").await;
        let long = lateness(Duration::from_secs(1), 5).await;
        println!("  {:<22} {}", "sleep(1s) x 5", summary(long));
        set_timer_slack(50_000);
        table("with the kernel's default timer slack put back").await;
    });
}

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(std::task::Waker::noop()))
}

/// Creates, arms (one poll) and drops `n` sleeps; the time per sleep.
fn churn(n: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let mut s = sleep(Duration::from_secs(10));
        assert!(poll_once(&mut s).is_pending()); // armed
        drop(s); // cancelled
    }
    start.elapsed() / n
}

/// Runs `f` while 10,000 other sleeps, due in about `due`, are armed.
fn with_others(due: Duration, f: impl FnOnce() -> Duration, label: &str) {
    let mut others: Vec<_> = (0..10_000u64)
        .map(|i| sleep(due + Duration::from_nanos(i * 7919 % 10_000)))
        .collect();
    for s in &mut others {
        assert!(poll_once(s).is_pending());
    }
    let start = Instant::now();
    f();
    println!(
        "same, 10,000 other timers armed, due {label}: {:?} in all",
        start.elapsed()
    );
}

#[test]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
fn creating_and_dropping_a_million_armed_sleeps_costs_this_much() {
    support::run(MEASURE_LIMIT, || async {
        const N: u32 = 1_000_000;
        churn(N / 10); // warm up
        let start = Instant::now();
        churn(N);
        println!(
            "create, arm, drop {N} sleeps, store empty: {:?} in all",
            start.elapsed()
        );
        // The usual case: timeouts of one length, so each new deadline is
        // the latest and its entry stays at the bottom of the heap...
        with_others(Duration::from_secs(1), || churn(N), "earlier");
        // ...and the worst: each new deadline is the earliest, and sifts to
        // the root and back.
        with_others(Duration::from_secs(20), || churn(N), "later");
        let start = Instant::now();
        for i in 0..N {
            let mut t = timeout(Duration::from_secs(10), std::future::ready(i));
            assert!(poll_once(&mut t).is_ready()); // never arms its timer
        }
        println!(
            "{N} timeouts around a ready future:       {:?} in all",
            start.elapsed()
        );
    });
}
