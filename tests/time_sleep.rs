//! `sleep`, `sleep_until` and `Sleep::reset` on a real runtime: never early,
//! finer than a millisecond, and harmless at the edges (zero, past and
//! far-away deadlines, many cancelled sleeps, a storm of signals).
//!
//! Timing bounds are generous (a loaded 2-core CI machine) except one, which
//! is strict: no sleep ever ends before its deadline.
#![cfg(feature = "time")]

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ember::time::Instant;

use ember::runtime::stats;
use ember::time::{sleep, sleep_until, Sleep};

mod support;

/// Polls `s` once with the calling task's waker (so it is armed if not due).
async fn poll_once(s: &mut Sleep) -> Poll<()> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *s).poll(cx))).await
}

#[test]
fn a_sleep_never_ends_before_its_deadline() {
    support::run(support::LIMIT, || async {
        for micros in [1, 10, 50, 100, 500, 1_000, 5_000, 20_000] {
            let d = Duration::from_micros(micros);
            let start = Instant::now();
            sleep(d).await;
            assert!(start.elapsed() >= d, "sleep({d:?}) ended early");
        }
    });
}

#[test]
fn sleep_until_never_ends_before_its_deadline() {
    support::run(support::LIMIT, || async {
        for micros in [3, 70, 700, 7_000] {
            let deadline = Instant::now() + Duration::from_micros(micros);
            sleep_until(deadline).await;
            assert!(Instant::now() >= deadline);
        }
    });
}

#[test]
fn a_fifty_microsecond_sleep_on_an_idle_loop_ends_well_within_a_millisecond() {
    // The precise figures are in `time_precision.rs`; this only proves the
    // loop does not round waits to whole milliseconds. The best of 50 runs
    // is taken, so a preempted run or two cannot fail the test.
    support::run(support::LIMIT, || async {
        let d = Duration::from_micros(50);
        let mut best = Duration::MAX;
        for _ in 0..50 {
            let s = sleep(d);
            let deadline = s.deadline();
            s.await;
            let late = Instant::now() - deadline; // panics if early
            best = best.min(late);
        }
        assert!(best < Duration::from_micros(900), "best lateness {best:?}");
    });
}

#[test]
fn a_zero_sleep_completes_at_its_first_poll() {
    support::run(support::LIMIT, || async {
        let before = stats();
        let mut s = sleep(Duration::ZERO);
        assert_eq!(poll_once(&mut s).await, Poll::Ready(()));
        sleep(Duration::ZERO).await;
        let after = stats();
        assert_eq!(
            after.timers_fired, before.timers_fired,
            "no timer was armed"
        );
        assert_eq!(
            after.epoll_waits, before.epoll_waits,
            "the loop never waited"
        );
    });
}

#[test]
fn a_deadline_in_the_past_completes_at_once() {
    support::run(support::LIMIT, || async {
        let long_ago = Instant::now() - Duration::from_millis(10);
        let mut s = sleep_until(long_ago);
        assert!(s.is_elapsed());
        assert_eq!(poll_once(&mut s).await, Poll::Ready(()));
        let start = Instant::now();
        sleep_until(long_ago).await;
        assert!(start.elapsed() < Duration::from_secs(1));
    });
}

#[test]
fn sleep_of_duration_max_neither_panics_nor_wakes_the_loop() {
    support::run(support::LIMIT, || async {
        let mut forever = sleep(Duration::MAX);
        assert!(forever.deadline() > Instant::now() + Duration::from_secs(86_400 * 365 * 20));
        assert!(poll_once(&mut forever).await.is_pending()); // armed
        let before = stats();
        sleep(Duration::from_millis(100)).await;
        let after = stats();
        // One wait for the short sleep; a few more are allowed for a wait
        // cut short (see `Timers::wait_timeout`) or a stray wake.
        let waits = after.epoll_waits - before.epoll_waits;
        assert!(waits <= 4, "{waits} waits for one 100 ms sleep");
        assert_eq!(after.timers_fired - before.timers_fired, 1);
        assert!(poll_once(&mut forever).await.is_pending());
    });
}

#[test]
fn a_deadline_centuries_away_neither_panics_nor_wakes_the_loop() {
    support::run(support::LIMIT, || async {
        let now = Instant::now();
        // As far as `Instant` goes on this machine, or 200 years.
        let far = now
            .checked_add(Duration::from_secs(u64::MAX >> 2))
            .unwrap_or(now + Duration::from_secs(86_400 * 365 * 200));
        let mut s = sleep_until(far);
        assert!(poll_once(&mut s).await.is_pending());
        // Moving it, in the past and back, is fine too.
        Pin::new(&mut s).reset(far - Duration::from_secs(1));
        let before = stats();
        sleep(Duration::from_millis(50)).await;
        let waits = stats().epoll_waits - before.epoll_waits;
        assert!(waits <= 4, "{waits} waits for one 50 ms sleep");
        assert!(!s.is_elapsed());
    });
}

#[test]
fn a_fired_sleep_that_is_reset_fires_again() {
    support::run(support::LIMIT, || async {
        let mut s = pin!(sleep(Duration::from_millis(5)));
        s.as_mut().await;
        assert!(s.is_elapsed());
        let again = Instant::now() + Duration::from_millis(10);
        s.as_mut().reset(again);
        assert!(!s.is_elapsed());
        let fired = stats().timers_fired;
        s.as_mut().await;
        assert!(Instant::now() >= again, "the reset sleep ended early");
        assert_eq!(stats().timers_fired, fired + 1, "its timer fired again");
    });
}

#[test]
fn a_pending_sleep_reset_later_does_not_end_at_its_old_deadline() {
    support::run(support::LIMIT, || async {
        let mut s = sleep(Duration::from_millis(5));
        assert!(poll_once(&mut s).await.is_pending());
        let later = Instant::now() + Duration::from_millis(40);
        Pin::new(&mut s).reset(later);
        s.await;
        assert!(Instant::now() >= later);
    });
}

#[test]
fn a_pending_sleep_reset_earlier_ends_at_its_new_deadline() {
    support::run(support::LIMIT, || async {
        let start = Instant::now();
        let mut s = sleep(Duration::from_secs(30));
        assert!(poll_once(&mut s).await.is_pending());
        let sooner = Instant::now() + Duration::from_millis(5);
        Pin::new(&mut s).reset(sooner);
        s.await;
        assert!(Instant::now() >= sooner);
        assert!(start.elapsed() < Duration::from_secs(20));
    });
}

#[test]
fn a_sleep_polled_by_one_task_then_awaited_by_another_wakes_the_second() {
    support::run(support::LIMIT, || async {
        let mut s = sleep(Duration::from_millis(10));
        assert!(poll_once(&mut s).await.is_pending()); // the main task's waker
        let task = ember::spawn(async move {
            s.await;
            Instant::now()
        });
        // If the timer woke the main task instead, `task` would never run
        // again and this would hang until the watchdog.
        let ended = task.await.unwrap();
        assert!(ended >= Instant::now() - Duration::from_secs(10));
    });
}

#[test]
fn sleeps_with_equal_deadlines_all_complete() {
    support::run(support::LIMIT, || async {
        let deadline = Instant::now() + Duration::from_millis(5);
        let done = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..100)
            .map(|_| {
                let done = done.clone();
                ember::spawn(async move {
                    sleep_until(deadline).await;
                    assert!(Instant::now() >= deadline);
                    done.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(done.load(Ordering::Relaxed), 100);
    });
}

#[test]
fn a_task_woken_by_its_timer_may_drop_and_create_other_sleeps() {
    // The loop wakes expired timers after releasing the store: a woken task
    // that touches the store (drop, insert) must not find it borrowed.
    support::run(support::LIMIT, || async {
        let deadline = Instant::now() + Duration::from_millis(2);
        let mut other = sleep_until(deadline);
        assert!(poll_once(&mut other).await.is_pending());
        sleep_until(deadline).await;
        drop(other);
        sleep(Duration::from_millis(1)).await;
    });
}

#[test]
fn a_hundred_thousand_armed_and_dropped_sleeps_leave_no_timer_behind() {
    // Seen from outside: a left-over entry would either fire (counted in
    // `timers_fired`) or wake the loop (counted in `epoll_waits`).
    support::run(support::LIMIT, || async {
        let start = Instant::now();
        let mut sleeps: Vec<Sleep> = (0..100_000u64)
            .map(|i| sleep_until(start + Duration::from_micros(i % 50_000)))
            .collect();
        for s in &mut sleeps {
            let _ = poll_once(s).await; // armed, unless already due
        }
        drop(sleeps);
        let before = stats();
        // Every dropped deadline is before this one ends: had one stayed
        // in the store, it would fire during this sleep.
        sleep(Duration::from_millis(100)).await;
        let after = stats();
        assert_eq!(after.timers_fired - before.timers_fired, 1);
        let waits = after.epoll_waits - before.epoll_waits;
        assert!(waits <= 4, "{waits} waits: dropped timers woke the loop");
    });
}

#[test]
fn a_storm_of_signals_neither_panics_nor_ends_a_sleep_early() {
    static HANDLED: AtomicUsize = AtomicUsize::new(0);
    extern "C" fn on_signal(_: libc::c_int) {
        HANDLED.fetch_add(1, Ordering::Relaxed);
    }
    // A handler *without* SA_RESTART: every signal that lands while the loop
    // waits makes `epoll_pwait2` fail with EINTR.
    // SAFETY: `action` is zeroed (a valid, empty sigaction) before its
    // handler and mask are set; `on_signal` is async-signal-safe (one
    // atomic add) and lives for the whole program.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
            0
        );
    }
    let (handled, waits) = support::run(support::LIMIT, || async {
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() };
        let stop = Arc::new(AtomicBool::new(false));
        let storm = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // SAFETY: `me` is the runtime's thread, which joins this
                    // thread before it returns, so it is alive here.
                    unsafe { libc::pthread_kill(me, libc::SIGUSR1) };
                    std::thread::sleep(Duration::from_micros(100));
                }
            })
        };
        let handled = HANDLED.load(Ordering::Relaxed);
        let waits = stats().epoll_waits;
        let d = Duration::from_millis(200);
        let start = Instant::now();
        sleep(d).await;
        let slept = start.elapsed();
        let result = (
            HANDLED.load(Ordering::Relaxed) - handled,
            stats().epoll_waits - waits,
        );
        stop.store(true, Ordering::Relaxed);
        storm.join().unwrap();
        assert!(slept >= d, "interrupted sleep ended early, after {slept:?}");
        result
    });
    // Prove the storm happened: signals arrived and interrupted the wait.
    assert!(handled >= 20, "only {handled} signals arrived");
    assert!(
        waits >= 10,
        "only {waits} waits: the wait was not interrupted"
    );
}

#[test]
fn a_sleep_polled_outside_a_runtime_panics_with_a_message_that_says_how_to_fix_it() {
    let payload = std::panic::catch_unwind(|| {
        let mut s = pin!(sleep(Duration::from_secs(1)));
        let _ = s.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    })
    .expect_err("a sleep that is not due, polled outside a runtime, must panic");
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        msg.starts_with("`Sleep` polled outside an ember runtime"),
        "unexpected message: {msg}"
    );
    assert!(msg.contains("ember::block_on"), "no fix in: {msg}");
}

#[test]
fn a_sleep_that_is_due_needs_no_runtime() {
    // Like any ready future: nothing to arm, nothing to ask of the runtime.
    let mut s = pin!(sleep(Duration::ZERO));
    let cx = &mut Context::from_waker(Waker::noop());
    assert_eq!(s.as_mut().poll(cx), Poll::Ready(()));
}

#[test]
fn dropping_a_sleeping_task_cancels_its_timer() {
    support::run(support::LIMIT, || async {
        let task = ember::spawn(sleep(Duration::from_millis(5)));
        ember::task::yield_now().await; // let it arm its timer
        task.abort();
        let fired = stats().timers_fired;
        sleep(Duration::from_millis(20)).await;
        assert_eq!(stats().timers_fired, fired + 1, "only ours fired");
    });
}

#[test]
fn the_loop_thread_asks_for_a_fine_timer_slack_once_it_waits_on_a_timer() {
    // Linux would otherwise let each timed wait end up to 50 µs late (see
    // `sys/thread.rs`).
    fn timer_slack() -> libc::c_int {
        // SAFETY: PR_GET_TIMERSLACK takes no argument and returns the slack.
        unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0) }
    }
    let (before, after) = support::run(support::LIMIT, || async {
        let before = timer_slack();
        sleep(Duration::from_micros(100)).await;
        (before, timer_slack())
    });
    assert!(
        before > 1,
        "a fresh thread has the default slack ({before} ns)"
    );
    assert_eq!(after, 1, "slack in ns after the first timed wait");
}
