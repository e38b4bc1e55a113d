//! `interval` and `interval_at`: the schedule, the three missed-tick
//! behaviours, `reset`, the `Stream` impl and cancel safety of `tick`.
//!
//! Missed ticks are made deterministic by starting intervals in the past
//! (which is exactly what a task busy for several periods looks like), so
//! the scheduled instants can be checked exactly; wall-clock bounds stay
//! generous, except that no tick may ever come before its instant.
#![cfg(feature = "time")]

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use ember::time::Instant;

use ember::runtime::stats;
use ember::time::{interval, interval_at, sleep, timeout, Interval, MissedTickBehavior};
use futures_core::Stream;

mod support;

const PERIOD: Duration = Duration::from_millis(20);

/// Awaits a tick and checks it did not come early.
async fn tick(i: &mut Interval) -> Instant {
    let scheduled = i.tick().await;
    assert!(
        Instant::now() >= scheduled,
        "a tick came before its instant"
    );
    scheduled
}

/// An interval whose first tick was due 3.5 periods ago: three ticks after
/// the first are missed by the time the first is noticed.
fn behind(behavior: MissedTickBehavior) -> (Interval, Instant) {
    let start = Instant::now() - PERIOD * 7 / 2;
    let mut i = interval_at(start, PERIOD);
    i.set_missed_tick_behavior(behavior);
    (i, start)
}

#[test]
fn the_first_tick_comes_at_once_and_the_next_ones_a_period_apart() {
    support::run(support::LIMIT, || async {
        let before = Instant::now();
        let mut i = interval(PERIOD);
        let first = tick(&mut i).await;
        assert!(first >= before);
        assert!(before.elapsed() < Duration::from_secs(1));
        for k in 1..=4 {
            assert_eq!(tick(&mut i).await, first + PERIOD * k);
        }
    });
}

#[test]
fn interval_at_waits_for_its_start() {
    support::run(support::LIMIT, || async {
        let start = Instant::now() + Duration::from_millis(30);
        let mut i = interval_at(start, PERIOD);
        assert_eq!(tick(&mut i).await, start);
        assert_eq!(tick(&mut i).await, start + PERIOD);
    });
}

#[test]
fn the_default_for_missed_ticks_is_burst() {
    let i = interval(PERIOD);
    assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Burst);
    assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
    assert_eq!(i.period(), PERIOD);
}

#[test]
fn burst_returns_the_missed_ticks_at_once_then_keeps_the_schedule() {
    support::run(support::LIMIT, || async {
        let (mut i, start) = behind(MissedTickBehavior::Burst);
        let waits = stats().epoll_waits;
        for k in 0..4 {
            assert_eq!(tick(&mut i).await, start + PERIOD * k);
        }
        // The four came without the loop waiting for anything...
        assert_eq!(stats().epoll_waits, waits);
        // ...and the schedule is the original one.
        assert_eq!(tick(&mut i).await, start + PERIOD * 4);
        assert_eq!(tick(&mut i).await, start + PERIOD * 5);
    });
}

#[test]
fn burst_catches_up_after_the_task_was_busy() {
    support::run(support::LIMIT, || async {
        let mut i = interval(PERIOD);
        let first = tick(&mut i).await;
        std::thread::sleep(PERIOD * 7 / 2); // a task hogging the loop
        for k in 1..=4 {
            assert_eq!(tick(&mut i).await, first + PERIOD * k);
        }
    });
}

#[test]
fn delay_restarts_the_schedule_from_the_late_tick() {
    support::run(support::LIMIT, || async {
        let (mut i, start) = behind(MissedTickBehavior::Delay);
        let before = Instant::now();
        assert_eq!(tick(&mut i).await, start);
        let after = Instant::now();
        let second = tick(&mut i).await;
        assert!(second >= before + PERIOD && second <= after + PERIOD);
        let third = tick(&mut i).await;
        assert!(third - second >= PERIOD, "ticks closer than a period");
    });
}

#[test]
fn skip_drops_the_missed_ticks_and_stays_on_the_original_grid() {
    support::run(support::LIMIT, || async {
        let (mut i, start) = behind(MissedTickBehavior::Skip);
        let noticed = Instant::now();
        assert_eq!(tick(&mut i).await, start);
        let second = tick(&mut i).await;
        let offset = second - start;
        assert_eq!(offset.as_nanos() % PERIOD.as_nanos(), 0, "off the grid");
        assert!(second > noticed, "a missed tick was returned");
        assert!(offset >= PERIOD * 4);
        assert_eq!(tick(&mut i).await, second + PERIOD);
    });
}

#[test]
fn reset_makes_the_next_tick_one_period_from_now() {
    support::run(support::LIMIT, || async {
        let mut i = interval(PERIOD);
        tick(&mut i).await;
        sleep(PERIOD / 2).await;
        let before = Instant::now();
        i.reset();
        let next = tick(&mut i).await;
        assert!(next >= before + PERIOD);
        assert_eq!(tick(&mut i).await, next + PERIOD);
    });
}

#[test]
fn reset_immediately_and_reset_at_move_the_next_tick() {
    support::run(support::LIMIT, || async {
        let mut i = interval(Duration::from_secs(3600));
        tick(&mut i).await;
        let before = Instant::now();
        i.reset_immediately();
        tick(&mut i).await;
        assert!(before.elapsed() < Duration::from_secs(60));
        let at = Instant::now() + Duration::from_millis(5);
        i.reset_at(at);
        assert_eq!(tick(&mut i).await, at);
    });
}

#[test]
fn tick_is_cancel_safe() {
    support::run(support::LIMIT, || async {
        let mut i = interval(PERIOD);
        let first = tick(&mut i).await;
        // Give up on the second tick halfway through...
        assert!(timeout(PERIOD / 4, i.tick()).await.is_err());
        // ...and it is still the next one.
        assert_eq!(tick(&mut i).await, first + PERIOD);
    });
}

#[test]
fn an_interval_is_a_stream_that_never_ends() {
    support::run(support::LIMIT, || async {
        let mut i = interval(Duration::from_millis(1));
        assert_eq!(i.size_hint(), (usize::MAX, None));
        let mut last = None;
        for _ in 0..3 {
            let t = poll_fn(|cx| Pin::new(&mut i).poll_next(cx)).await;
            let t = t.expect("an interval never ends");
            assert!(Instant::now() >= t);
            assert!(last < Some(t));
            last = Some(t);
        }
    });
}

#[test]
fn a_huge_period_neither_panics_nor_ticks_again() {
    support::run(support::LIMIT, || async {
        let mut i = interval(Duration::MAX);
        tick(&mut i).await;
        assert!(timeout(Duration::from_millis(5), i.tick()).await.is_err());
    });
}

#[test]
fn dropping_an_interval_cancels_its_timer() {
    support::run(support::LIMIT, || async {
        let mut i = interval(Duration::from_millis(5));
        tick(&mut i).await;
        assert!(timeout(Duration::ZERO, i.tick()).await.is_err()); // armed
        drop(i);
        let fired = stats().timers_fired;
        sleep(Duration::from_millis(20)).await;
        assert_eq!(stats().timers_fired, fired + 1, "only the sleep fired");
    });
}

#[test]
#[should_panic(expected = "called with a zero period")]
fn a_zero_period_panics_with_a_clear_message() {
    let _ = interval(Duration::ZERO);
}

#[test]
#[should_panic(expected = "called with a zero period")]
fn interval_at_with_a_zero_period_panics_too() {
    let _ = interval_at(Instant::now(), Duration::ZERO);
}
