//! `ember::sync::Notify`: the single stored permit of `notify_one`, FIFO
//! wake order, `notify_waiters` (which stores nothing but reaches futures
//! created before it), passing on a notification whose future was
//! dropped, notifying from another thread, and a waker that re-enters
//! `Notify` from its wake.
#![cfg(feature = "sync")]

mod support;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ember::sync::Notify;

fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn notify_one_with_nobody_waiting_stores_a_single_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one(); // permits do not add up
    assert!(
        poll_once(&mut notify.notified()).is_ready(),
        "the permit is consumed"
    );
    let mut second = notify.notified();
    assert!(
        poll_once(&mut second).is_pending(),
        "only one permit was stored"
    );
    notify.notify_one();
    assert!(poll_once(&mut second).is_ready());
}

#[test]
fn notify_one_wakes_waiters_in_the_order_they_started_waiting() {
    support::run(support::LIMIT, || async {
        let notify = Rc::new(Notify::new());
        let order = Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut handles = Vec::new();
        for i in 0..4 {
            let (n, o) = (notify.clone(), order.clone());
            handles.push(ember::spawn(async move {
                n.notified().await;
                o.borrow_mut().push(i);
            }));
            ember::task::yield_now().await; // task i is now waiting
        }
        for expected_len in 1..=4 {
            notify.notify_one();
            for _ in 0..3 {
                ember::task::yield_now().await;
            }
            assert_eq!(
                order.borrow().len(),
                expected_len,
                "one waiter per notify_one"
            );
        }
        assert_eq!(*order.borrow(), [0, 1, 2, 3]);
        for h in handles {
            h.await.unwrap();
        }
    });
}

#[test]
fn notify_waiters_wakes_every_current_waiter_and_stores_no_permit() {
    support::run(support::LIMIT, || async {
        let notify = Rc::new(Notify::new());
        let handles: Vec<_> = (0..5)
            .map(|_| {
                let n = notify.clone();
                ember::spawn(async move { n.notified().await })
            })
            .collect();
        ember::task::yield_now().await; // all five are waiting
        notify.notify_waiters();
        for h in handles {
            h.await.unwrap();
        }
        let mut later = notify.notified();
        assert!(
            poll_once(&mut later).is_pending(),
            "notify_waiters left no permit"
        );
    });
}

#[test]
fn a_notified_created_before_notify_waiters_completes_even_if_never_polled_before() {
    let notify = Notify::new();
    let mut early = notify.notified();
    notify.notify_waiters();
    let mut late = notify.notified();
    assert!(poll_once(&mut early).is_ready());
    assert!(poll_once(&mut late).is_pending());
}

#[test]
fn a_dropped_notified_passes_its_notify_one_to_the_next_waiter() {
    let notify = Notify::new();
    let mut first = notify.notified();
    let mut second = notify.notified();
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    notify.notify_one(); // chooses `first`
    drop(first); // which never sees it
    assert!(
        poll_once(&mut second).is_ready(),
        "the notification moved on"
    );
}

#[test]
fn a_dropped_notified_with_nobody_behind_it_turns_back_into_the_permit() {
    let notify = Notify::new();
    let mut only = notify.notified();
    assert!(poll_once(&mut only).is_pending());
    notify.notify_one();
    drop(only);
    assert!(
        poll_once(&mut notify.notified()).is_ready(),
        "the permit was restored"
    );
}

#[test]
fn a_dropped_notified_passes_nothing_on_after_notify_waiters() {
    let notify = Notify::new();
    let mut a = notify.notified();
    assert!(poll_once(&mut a).is_pending());
    notify.notify_waiters();
    drop(a);
    assert!(poll_once(&mut notify.notified()).is_pending());
}

#[test]
fn notify_one_from_a_plain_thread_wakes_a_task_on_the_loop() {
    support::run(support::LIMIT, || async {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            n.notify_one();
        });
        notify.notified().await;
        thread.join().unwrap();
        assert!(ember::runtime::stats().remote_wakes >= 1);
    });
}

#[test]
fn a_static_notify_works_because_new_is_const() {
    static SHUTDOWN: Notify = Notify::new();
    SHUTDOWN.notify_one();
    assert!(poll_once(&mut SHUTDOWN.notified()).is_ready());
}

#[test]
fn notify_and_notified_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Notify>();
    send_sync::<ember::sync::Notified<'static>>();
}

/// A waker that notifies again when woken: re-enters `Notify` from a wake
/// that `Notify` itself makes.
struct Renotify(Arc<Notify>, std::sync::atomic::AtomicUsize);

impl std::task::Wake for Renotify {
    fn wake(self: Arc<Self>) {
        if self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            self.0.notify_one();
        }
    }
}

#[test]
fn a_waker_that_notifies_again_from_its_wake_does_not_deadlock() {
    let notify = Arc::new(Notify::new());
    let waker = Waker::from(Arc::new(Renotify(notify.clone(), Default::default())));
    let mut cx = Context::from_waker(&waker);
    let mut a = notify.notified();
    assert!(Pin::new(&mut a).poll(&mut cx).is_pending());
    // Wakes `a`'s waker, which calls notify_one: nobody else waits, so a
    // permit is stored, with the lock released in between.
    notify.notify_waiters();
    assert!(Pin::new(&mut a).poll(&mut cx).is_ready());
    assert!(
        poll_once(&mut notify.notified()).is_ready(),
        "the re-entrant permit"
    );
}

#[test]
fn notify_last_wakes_the_most_recent_waiter() {
    let notify = Notify::new();
    let mut first = notify.notified();
    let mut second = notify.notified();
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    notify.notify_last();
    assert!(poll_once(&mut second).is_ready());
    assert!(poll_once(&mut first).is_pending());
    drop(first);
    notify.notify_last(); // nobody waits: a permit
    assert!(poll_once(&mut notify.notified()).is_ready());
}

#[test]
fn an_owned_notified_can_be_moved_into_a_task() {
    support::run(support::LIMIT, || async {
        let notify = Arc::new(Notify::new());
        let waiter = ember::spawn(notify.clone().notified_owned());
        ember::task::yield_now().await;
        notify.notify_one();
        waiter.await.unwrap();
        let mut dropped = notify.clone().notified_owned();
        assert!(poll_once(&mut dropped).is_pending());
        notify.notify_one();
        drop(dropped); // passes the notification on, as a permit
        assert!(poll_once(&mut notify.notified()).is_ready());
    });
}
