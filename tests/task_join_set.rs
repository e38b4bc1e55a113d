//! `ember::task::JoinSet`: outputs in completion order, errors of panicking
//! and aborted members, abort on drop, `try_join_next`, `shutdown`,
//! `detach_all` (and the stale keys it leaves behind), and `join_next`'s
//! cancel safety.
#![cfg(all(feature = "time", feature = "sync"))]

mod support;

use std::cell::Cell;
use std::future::pending;
use std::rc::Rc;
use std::time::Duration;

use ember::sync::oneshot;
use ember::task::{yield_now, JoinSet};

/// Sets its flag when dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn join_next_returns_outputs_in_completion_order_not_spawn_order() {
    support::run(support::LIMIT, || async {
        let mut set = JoinSet::new();
        let mut triggers = Vec::new();
        for i in 0..5u32 {
            let (tx, rx) = oneshot::channel::<()>();
            triggers.push(Some(tx));
            set.spawn(async move {
                rx.await.unwrap();
                i
            });
        }
        assert_eq!(set.len(), 5);
        let mut order = Vec::new();
        for i in [3, 0, 4, 1, 2] {
            triggers[i].take().unwrap().send(()).unwrap();
            order.push(set.join_next().await.unwrap().unwrap());
        }
        assert_eq!(order, [3, 0, 4, 1, 2]);
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn tasks_finishing_together_come_back_in_the_order_they_finished() {
    support::run(support::LIMIT, || async {
        let mut set = JoinSet::new();
        // Each task yields `i` times, so they finish in order 0..10
        // although spawned in reverse.
        for i in (0..10u32).rev() {
            set.spawn(async move {
                for _ in 0..i {
                    yield_now().await;
                }
                i
            });
        }
        let mut got = Vec::new();
        while let Some(r) = set.join_next().await {
            got.push(r.unwrap());
        }
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn an_empty_set_joins_to_none_at_once() {
    support::run(support::LIMIT, || async {
        let mut set = JoinSet::<()>::new();
        assert!(set.join_next().await.is_none());
        assert!(set.try_join_next().is_none());
    });
}

#[test]
fn dropping_the_set_aborts_every_task_before_the_loop_polls_again() {
    support::run(support::LIMIT, || async {
        let flags: Vec<_> = (0..3).map(|_| Rc::new(Cell::new(false))).collect();
        let mut set = JoinSet::new();
        for f in &flags {
            let guard = DropFlag(f.clone());
            set.spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            });
        }
        yield_now().await; // every task is now parked in `pending`
        drop(set);
        yield_now().await;
        assert!(
            flags.iter().all(|f| f.get()),
            "each task's future was dropped"
        );
        assert_eq!(ember::runtime::stats().tasks_alive, 0);
    });
}

#[test]
fn abort_all_makes_join_next_return_cancelled_errors() {
    support::run(support::LIMIT, || async {
        let mut set = JoinSet::new();
        set.spawn(async { 1 });
        yield_now().await; // the first completes
        set.spawn(pending::<i32>());
        set.spawn(pending::<i32>());
        set.abort_all();
        let mut ok = 0;
        let mut cancelled = 0;
        while let Some(r) = set.join_next().await {
            match r {
                Ok(1) => ok += 1,
                Err(e) if e.is_cancelled() => cancelled += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((ok, cancelled), (1, 2), "a completed task keeps its output");
    });
}

#[test]
fn a_panicking_member_is_an_error_and_the_others_carry_on() {
    support::run(support::LIMIT, || async {
        let mut set = JoinSet::new();
        set.spawn(async { panic!("member failed") });
        set.spawn(async {
            yield_now().await;
            7
        });
        let first = set.join_next().await.unwrap();
        assert!(first.unwrap_err().is_panic());
        assert_eq!(set.join_next().await.unwrap().unwrap(), 7);
    });
}

#[test]
fn try_join_next_returns_only_tasks_that_already_finished() {
    support::run(support::LIMIT, || async {
        let mut set = JoinSet::new();
        let (tx, rx) = oneshot::channel::<()>();
        set.spawn(async move {
            rx.await.unwrap();
            "late"
        });
        set.spawn(async { "early" });
        assert!(set.try_join_next().is_none(), "nothing has run yet");
        yield_now().await;
        assert_eq!(set.try_join_next().unwrap().unwrap(), "early");
        assert!(set.try_join_next().is_none());
        tx.send(()).unwrap();
        assert_eq!(set.join_next().await.unwrap().unwrap(), "late");
    });
}

#[test]
fn shutdown_aborts_every_task_and_waits_until_they_are_gone() {
    support::run(support::LIMIT, || async {
        let flag = Rc::new(Cell::new(false));
        let mut set = JoinSet::new();
        let guard = DropFlag(flag.clone());
        set.spawn(async move {
            let _guard = guard;
            pending::<()>().await;
        });
        set.shutdown().await;
        assert!(flag.get());
        assert!(set.is_empty());
    });
}

#[test]
fn detached_tasks_run_on_and_their_stale_keys_do_not_confuse_the_set() {
    support::run(support::LIMIT, || async {
        let mut set = JoinSet::new();
        let (old_tx, old_rx) = oneshot::channel::<()>();
        let old_done = Rc::new(Cell::new(false));
        let flag = old_done.clone();
        set.spawn(async move {
            old_rx.await.unwrap();
            flag.set(true);
            "old"
        });
        set.detach_all();
        assert!(set.is_empty());
        // The new task takes the old one's slot (key 0).
        let (new_tx, new_rx) = oneshot::channel::<()>();
        set.spawn(async move {
            new_rx.await.unwrap();
            "new"
        });
        old_tx.send(()).unwrap();
        // The old task finishes and reports key 0: the set must not take
        // that for the new task, which has not finished.
        let r = ember::time::timeout(Duration::from_millis(50), set.join_next()).await;
        assert!(r.is_err(), "nothing in the set has finished");
        assert!(old_done.get(), "the detached task ran on");
        new_tx.send(()).unwrap();
        assert_eq!(set.join_next().await.unwrap().unwrap(), "new");
    });
}

#[test]
fn a_join_next_dropped_midway_loses_no_output() {
    support::run(support::LIMIT, || async {
        let mut set = JoinSet::new();
        for i in 0..20u32 {
            set.spawn(async move {
                for _ in 0..(i % 4) {
                    yield_now().await;
                }
                i
            });
        }
        let mut got = Vec::new();
        while !set.is_empty() {
            ember::select! {
                Some(r) = set.join_next() => got.push(r.unwrap()),
                () = yield_now() => {}
            }
        }
        got.sort_unstable();
        assert_eq!(got, (0..20).collect::<Vec<_>>());
    });
}

#[test]
fn ten_thousand_members_are_all_joined() {
    support::run(support::LIMIT, || async {
        let mut set = JoinSet::new();
        for i in 0..10_000u64 {
            set.spawn(async move {
                yield_now().await;
                i
            });
        }
        let mut sum = 0;
        let mut n = 0;
        while let Some(r) = set.join_next().await {
            sum += r.unwrap();
            n += 1;
        }
        assert_eq!((n, sum), (10_000, 10_000 * 9_999 / 2));
    });
}
