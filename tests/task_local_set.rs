//! `task::LocalSet`: tasks given before a runtime runs, `spawn_local` into
//! the set from its own code, awaiting the set, and aborting on drop.
#![cfg(feature = "time")]

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use ember::task::{spawn_local, LocalSet};
use ember::Runtime;
use support::{within, LIMIT};

#[test]
fn tasks_given_before_the_runtime_runs_start_when_the_set_runs() {
    within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let local = LocalSet::new();
        let log = Rc::new(Cell::new(0));
        let l = log.clone();
        let early = local.spawn_local(async move {
            l.set(l.get() + 1);
            "early"
        });
        assert_eq!(log.get(), 0, "nothing runs before the set does");
        let out = local.block_on(&rt, async { early.await.unwrap() });
        assert_eq!(out, "early");
        assert_eq!(log.get(), 1);
    });
}

#[test]
fn spawn_local_inside_the_set_adds_to_the_set_and_awaiting_the_set_waits_for_all() {
    within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let local = LocalSet::new();
        let done = Rc::new(Cell::new(0));
        let d = done.clone();
        local.spawn_local(async move {
            for i in 0..5u64 {
                let d = d.clone();
                // From a task of the set: these join the set too.
                spawn_local(async move {
                    ember::time::sleep(Duration::from_millis(5 * i)).await;
                    d.set(d.get() + 1);
                });
            }
        });
        // Awaiting the set ends once every member (nested ones too) ends.
        rt.block_on(local);
        assert_eq!(done.get(), 5);
    });
}

#[test]
fn dropping_the_set_aborts_the_tasks_still_in_it() {
    within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let dropped = Rc::new(Cell::new(false));
        struct Flag(Rc<Cell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let (handle, unstarted) = rt.block_on(async {
            let local = LocalSet::new();
            let flag = Flag(dropped.clone());
            let handle = local.spawn_local(async move {
                let _flag = flag;
                std::future::pending::<()>().await
            });
            local.run_until(ember::task::yield_now()).await;
            drop(local);
            // A set dropped before it ever ran: its task never starts.
            let never = LocalSet::new();
            let unstarted = never.spawn_local(async { 1 });
            drop(never);
            (handle, unstarted)
        });
        let (a, b) = rt.block_on(async { (handle.await, unstarted.await) });
        assert!(a.unwrap_err().is_cancelled());
        assert!(b.unwrap_err().is_cancelled());
        assert!(dropped.get(), "the aborted task's future was dropped");
    });
}

#[test]
fn run_until_returns_the_futures_output_and_leaves_the_other_tasks_running() {
    within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let local = LocalSet::new();
        let ticks = Rc::new(Cell::new(0));
        let t = ticks.clone();
        local.spawn_local(async move {
            loop {
                t.set(t.get() + 1);
                ember::time::sleep(Duration::from_millis(1)).await;
            }
        });
        let v = local.block_on(&rt, async {
            ember::time::sleep(Duration::from_millis(30)).await;
            7
        });
        assert_eq!(v, 7);
        assert!(ticks.get() > 0, "the member ran meanwhile");
    });
}
