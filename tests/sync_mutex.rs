//! `ember::sync::Mutex`: FIFO hand-off to waiting tasks, `try_lock` not
//! jumping the queue, guards held across `.await`, `map`, owned guards
//! released when their task is aborted, and a dropped `lock()` passing the
//! lock on.
#![cfg(feature = "sync")]
// `lock_owned` takes an `Arc` (tokio's signature) of a lock that is not
// `Sync`: clippy's lint is right that no other thread can use it, which is
// the design (see `sync::Mutex`).
#![allow(clippy::arc_with_non_send_sync)]

mod support;

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Waker};

use ember::sync::{Mutex, MutexGuard};

/// Lets every runnable task run a few times.
async fn settle() {
    for _ in 0..5 {
        ember::task::yield_now().await;
    }
}

#[test]
fn a_mutex_is_send_but_its_guards_stay_on_the_thread() {
    fn send<T: Send>() {}
    send::<Mutex<Vec<u8>>>();
}

#[test]
fn the_lock_is_handed_to_waiters_in_the_order_they_asked() {
    support::run(support::LIMIT, || async {
        let m = Rc::new(Mutex::new(Vec::new()));
        let first = m.lock().await;
        let mut tasks = Vec::new();
        for i in 0..6 {
            let m = m.clone();
            tasks.push(ember::spawn(async move {
                let mut g = m.lock().await;
                g.push(i);
                ember::task::yield_now().await; // held across an await
            }));
            settle().await;
        }
        drop(first);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*m.lock().await, [0, 1, 2, 3, 4, 5]);
    });
}

#[test]
fn try_lock_fails_while_held_and_while_others_wait() {
    support::run(support::LIMIT, || async {
        let m = Rc::new(Mutex::new(1));
        let g = m.try_lock().unwrap();
        assert!(m.try_lock().is_err());
        let m2 = m.clone();
        let waiter = ember::spawn(async move { *m2.lock().await += 1 });
        settle().await;
        drop(g);
        // The lock went straight to the waiter: not free for try_lock.
        assert!(m.try_lock().is_err());
        waiter.await.unwrap();
        assert_eq!(*m.try_lock().unwrap(), 2);
    });
}

#[test]
fn a_mapped_guard_holds_the_lock_until_dropped() {
    let m = Mutex::new((1, String::from("a")));
    let mut g = m.try_lock().unwrap();
    g.0 = 2;
    let mut s = MutexGuard::map(g, |v| &mut v.1);
    s.push('b');
    assert!(m.try_lock().is_err());
    drop(s);
    let g = m.try_lock().unwrap();
    assert_eq!(*g, (2, String::from("ab")));
    let g = MutexGuard::try_map(g, |_| None::<&mut u8>).unwrap_err();
    drop(g);
    assert_eq!(m.into_inner().0, 2);
}

#[test]
fn an_owned_guard_is_released_when_its_task_is_aborted() {
    support::run(support::LIMIT, || async {
        let m = Arc::new(Mutex::new(0));
        let m2 = m.clone();
        let holder = ember::spawn(async move {
            let mut g = m2.lock_owned().await;
            *g = 7;
            std::future::pending::<()>().await;
        });
        settle().await;
        assert!(m.try_lock().is_err());
        let m3 = m.clone();
        let waiter = ember::spawn(async move { *m3.lock().await });
        settle().await;
        holder.abort();
        assert!(holder.await.unwrap_err().is_cancelled());
        assert_eq!(waiter.await.unwrap(), 7, "the value was put back");
        let g = m.clone().try_lock_owned().unwrap();
        assert!(Arc::ptr_eq(ember::sync::OwnedMutexGuard::mutex(&g), &m));
    });
}

#[test]
fn a_lock_future_dropped_after_being_handed_the_lock_passes_it_on() {
    let m = Mutex::new(0);
    let mut cx = Context::from_waker(Waker::noop());
    let g = m.try_lock().unwrap();
    let mut second = Box::pin(m.lock());
    let mut third = pin!(m.lock());
    assert!(second.as_mut().poll(&mut cx).is_pending());
    assert!(third.as_mut().poll(&mut cx).is_pending());
    drop(g); // hands the lock to `second`...
    drop(second); // ...which gives it up unpolled
    assert!(third.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn many_tasks_incrementing_under_the_lock_lose_no_update() {
    support::run(support::LIMIT, || async {
        let m = Rc::new(Mutex::new(0u64));
        let log = Rc::new(RefCell::new(0u32));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (m, log) = (m.clone(), log.clone());
                ember::spawn(async move {
                    for _ in 0..20 {
                        let mut g = m.lock().await;
                        let v = *g;
                        ember::task::yield_now().await;
                        *g = v + 1;
                        *log.borrow_mut() += 1;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*m.lock().await, 1000);
    });
}

thread_local! {
    static LOCK: RefCell<Option<Rc<Mutex<u8>>>> = const { RefCell::new(None) };
}

/// A waker that, when woken, tries the thread's `LOCK` (re-entering the
/// mutex from inside an unlock).
struct ReEnter;

impl std::task::Wake for ReEnter {
    fn wake(self: Arc<Self>) {
        LOCK.with(|l| {
            if let Some(m) = &*l.borrow() {
                assert!(m.try_lock().is_err(), "handed to the waiter");
            }
        });
    }
}

#[test]
fn a_waker_that_re_enters_the_mutex_from_its_wake_finds_it_consistent() {
    let m = Rc::new(Mutex::new(0u8));
    LOCK.with(|l| *l.borrow_mut() = Some(m.clone()));
    let waker = Waker::from(Arc::new(ReEnter));
    let mut cx = Context::from_waker(&waker);
    let g = m.try_lock().unwrap();
    let mut waiting = pin!(m.lock());
    assert!(waiting.as_mut().poll(&mut cx).is_pending());
    drop(g); // wakes `ReEnter` with no borrow held
    assert!(waiting.as_mut().poll(&mut cx).is_ready());
    LOCK.with(|l| *l.borrow_mut() = None);
}
