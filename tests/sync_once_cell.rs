//! `ember::sync::OnceCell` and `SetOnce`: one initialiser runs however
//! many tasks race, a failed or dropped initialiser lets the next one try,
//! `set`'s errors, a `static` cell, and `SetOnce::wait` woken by a plain
//! thread.
#![cfg(feature = "sync")]

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use ember::sync::{OnceCell, SetError, SetOnce, SetOnceError};

#[test]
fn both_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<OnceCell<String>>();
    send_sync::<SetOnce<String>>();
}

#[test]
fn racing_tasks_run_one_initialiser_and_all_get_its_value() {
    support::run(support::LIMIT, || async {
        let cell = Rc::new(OnceCell::new());
        let runs = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (cell, runs) = (cell.clone(), runs.clone());
                ember::spawn(async move {
                    *cell
                        .get_or_init(|| async {
                            runs.set(runs.get() + 1);
                            ember::task::yield_now().await;
                            i
                        })
                        .await
                })
            })
            .collect();
        let mut values = Vec::new();
        for t in tasks {
            values.push(t.await.unwrap());
        }
        assert_eq!(runs.get(), 1);
        assert!(values.iter().all(|v| *v == values[0]));
        assert!(cell.initialized());
    });
}

#[test]
fn a_failed_initialiser_leaves_the_cell_empty_for_the_next() {
    support::run(support::LIMIT, || async {
        let cell = OnceCell::<u8>::new();
        let e = cell
            .get_or_try_init(|| async { Err::<u8, _>("nope") })
            .await;
        assert_eq!(e, Err("nope"));
        assert!(cell.get().is_none());
        assert_eq!(
            cell.get_or_try_init(|| async { Ok::<_, ()>(3) }).await,
            Ok(&3)
        );
    });
}

#[test]
fn an_initialiser_whose_task_is_aborted_lets_a_waiting_one_run() {
    support::run(support::LIMIT, || async {
        let cell = Rc::new(OnceCell::new());
        let c = cell.clone();
        let first = ember::spawn(async move { *c.get_or_init(std::future::pending::<u8>).await });
        ember::task::yield_now().await;
        let c = cell.clone();
        let second = ember::spawn(async move { *c.get_or_init(|| async { 2 }).await });
        ember::task::yield_now().await;
        assert!(cell.set(9).unwrap_err().is_initializing_err());
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        assert_eq!(second.await.unwrap(), 2);
        assert_eq!(cell.set(9), Err(SetError::AlreadyInitializedError(9)));
    });
}

#[test]
fn a_static_cell_is_set_once() {
    static CELL: OnceCell<u32> = OnceCell::const_new();
    assert_eq!(CELL.set(1), Ok(()));
    assert!(CELL.set(2).unwrap_err().is_already_init_err());
    assert_eq!(CELL.get(), Some(&1));
    let mut owned = OnceCell::from(5);
    assert_eq!(owned.take(), Some(5));
    assert!(!owned.initialized());
}

#[test]
fn set_once_wakes_every_waiter_with_the_value_set_from_a_thread() {
    support::run(support::LIMIT, || async {
        let once = Arc::new(SetOnce::new());
        let waiters: Vec<_> = (0..5)
            .map(|_| {
                let o = once.clone();
                ember::spawn(async move { *o.wait().await })
            })
            .collect();
        ember::task::yield_now().await;
        let o = once.clone();
        std::thread::spawn(move || o.set(7).unwrap())
            .join()
            .unwrap();
        for w in waiters {
            assert_eq!(w.await.unwrap(), 7);
        }
        assert_eq!(once.set(8), Err(SetOnceError(8)));
        assert_eq!(*once.wait().await, 7, "at once when set");
    });
}
