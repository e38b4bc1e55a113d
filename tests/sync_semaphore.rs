//! `ember::sync::Semaphore`: counting, `try_acquire*`, FIFO fairness under
//! mixed sizes (a large acquire is not starved by small ones), closing,
//! permits given back by a dropped acquire and by an aborted task, and
//! permits added from plain threads.
#![cfg(feature = "sync")]

mod support;

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use ember::sync::{Semaphore, TryAcquireError};

/// Lets every runnable task run a few times.
async fn settle() {
    for _ in 0..5 {
        ember::task::yield_now().await;
    }
}

#[test]
fn semaphores_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Semaphore>();
    send_sync::<ember::sync::SemaphorePermit<'static>>();
    send_sync::<ember::sync::OwnedSemaphorePermit>();
}

#[test]
fn try_acquire_counts_permits_and_dropping_a_permit_gives_them_back() {
    let sem = Semaphore::new(3);
    let a = sem.try_acquire_many(2).unwrap();
    assert_eq!(sem.available_permits(), 1);
    assert_eq!(
        sem.try_acquire_many(2).unwrap_err(),
        TryAcquireError::NoPermits
    );
    let b = sem.try_acquire().unwrap();
    assert_eq!(sem.available_permits(), 0);
    drop(a);
    assert_eq!(sem.available_permits(), 2);
    b.forget();
    assert_eq!(sem.available_permits(), 2, "a forgotten permit stays out");
    sem.add_permits(5);
    assert_eq!(sem.available_permits(), 7);
    assert_eq!(sem.forget_permits(10), 7);
    assert_eq!(sem.available_permits(), 0);
}

#[test]
fn a_static_semaphore_can_be_built_with_const_new() {
    static LIMIT: Semaphore = Semaphore::const_new(2);
    let p = LIMIT.try_acquire_many(2).unwrap();
    assert!(LIMIT.try_acquire().is_err());
    drop(p);
    assert_eq!(LIMIT.available_permits(), 2);
}

#[test]
fn a_large_acquire_is_served_before_smaller_ones_that_queued_after_it() {
    support::run(support::LIMIT, || async {
        let sem = Arc::new(Semaphore::new(3));
        let order = Rc::new(RefCell::new(Vec::new()));
        let held = sem.clone().try_acquire_many_owned(3).unwrap();

        let mut tasks = Vec::new();
        // The big one queues first, then ten small ones.
        for (name, n) in std::iter::once(("big", 3)).chain((0..10).map(|_| ("small", 1))) {
            let (sem, order) = (sem.clone(), order.clone());
            tasks.push(ember::spawn(async move {
                let permit = sem.acquire_many(n).await.unwrap();
                order.borrow_mut().push(name);
                settle().await;
                drop(permit);
            }));
            settle().await;
        }
        // Permits come back one at a time: the small ones could each be
        // served at once, but the big one is first in line.
        drop(held);
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.borrow();
        assert_eq!(order[0], "big", "{order:?}");
        assert_eq!(order.len(), 11);
        assert_eq!(sem.available_permits(), 3);
    });
}

#[test]
fn a_stream_of_small_acquires_does_not_starve_a_large_one() {
    support::run(support::LIMIT, || async {
        let sem = Arc::new(Semaphore::new(4));
        let stop = Rc::new(std::cell::Cell::new(false));
        let mut churners = Vec::new();
        for _ in 0..4 {
            let (sem, stop) = (sem.clone(), stop.clone());
            churners.push(ember::spawn(async move {
                let mut rounds = 0u32;
                while !stop.get() {
                    let p = sem.acquire().await.unwrap();
                    ember::task::yield_now().await;
                    drop(p);
                    rounds += 1;
                }
                rounds
            }));
        }
        settle().await;
        // Every permit is busy with the churners; the big request queues
        // and must get all four within a bounded number of their rounds.
        let all = sem.acquire_many(4).await.unwrap();
        stop.set(true);
        drop(all);
        for c in churners {
            let rounds = c.await.unwrap();
            assert!(rounds < 1000, "the churners went on for {rounds} rounds");
        }
    });
}

#[test]
fn waiters_are_served_in_the_order_they_started_waiting() {
    support::run(support::LIMIT, || async {
        let sem = Rc::new(Semaphore::new(0));
        let order = Rc::new(RefCell::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (sem, order) = (sem.clone(), order.clone());
            tasks.push(ember::spawn(async move {
                sem.acquire().await.unwrap().forget();
                order.borrow_mut().push(i);
            }));
            settle().await;
        }
        for _ in 0..5 {
            sem.add_permits(1);
            settle().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn try_acquire_does_not_jump_the_queue() {
    support::run(support::LIMIT, || async {
        let sem = Rc::new(Semaphore::new(1));
        let s = sem.clone();
        let big = ember::spawn(async move { s.acquire_many(2).await.unwrap().forget() });
        settle().await;
        // One permit is free, but the big acquire waits for it.
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
        sem.add_permits(1);
        big.await.unwrap();
        assert_eq!(sem.available_permits(), 0);
    });
}

#[test]
fn close_fails_waiting_and_later_acquires_but_held_permits_stay_valid() {
    support::run(support::LIMIT, || async {
        let sem = Rc::new(Semaphore::new(1));
        let held = sem.try_acquire().unwrap();
        let s = sem.clone();
        let waiter = ember::spawn(async move { s.acquire().await.map(|p| p.num_permits()) });
        settle().await;
        sem.close();
        assert!(waiter.await.unwrap().is_err());
        assert!(sem.is_closed());
        assert!(sem.acquire().await.is_err());
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
        drop(held);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn a_dropped_acquire_gives_back_the_permits_it_had_gathered() {
    let sem = Semaphore::new(0);
    let mut cx = Context::from_waker(Waker::noop());
    {
        let mut big = pin!(sem.acquire_many(3));
        assert!(big.as_mut().poll(&mut cx).is_pending());
        sem.add_permits(2); // the head takes both and waits for a third
        assert_eq!(sem.available_permits(), 0);
        let mut small = pin!(sem.acquire());
        assert!(small.as_mut().poll(&mut cx).is_pending());
        // `big` is dropped here: its two permits go to `small` (one) and
        // back to the semaphore (one).
    }
    assert_eq!(sem.available_permits(), 2, "nothing leaked");
    let mut again = pin!(sem.acquire_many(2));
    assert!(matches!(again.as_mut().poll(&mut cx), Poll::Ready(Ok(_))));
}

#[test]
fn an_owned_permit_is_given_back_when_its_task_is_aborted() {
    support::run(support::LIMIT, || async {
        let sem = Arc::new(Semaphore::new(1));
        let s = sem.clone();
        let holder = ember::spawn(async move {
            let _permit = s.acquire_owned().await.unwrap();
            std::future::pending::<()>().await;
        });
        settle().await;
        assert_eq!(sem.available_permits(), 0);
        // A second task waits in the queue; it is aborted too.
        let s = sem.clone();
        let waiter = ember::spawn(async move {
            let _p = s.acquire_many_owned(1).await.unwrap();
            std::future::pending::<()>().await;
        });
        settle().await;
        waiter.abort();
        assert!(waiter.await.unwrap_err().is_cancelled());
        holder.abort();
        assert!(holder.await.unwrap_err().is_cancelled());
        assert_eq!(sem.available_permits(), 1);
        let p = sem.clone().try_acquire_owned().unwrap();
        assert!(Arc::ptr_eq(p.semaphore(), &sem));
    });
}

#[test]
fn permits_added_from_plain_threads_reach_a_waiting_task() {
    support::run(support::LIMIT, || async {
        let sem = Arc::new(Semaphore::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let sem = sem.clone();
                std::thread::spawn(move || {
                    for _ in 0..250 {
                        sem.add_permits(1);
                    }
                })
            })
            .collect();
        let all = sem.acquire_many(1000).await.unwrap();
        assert_eq!(all.num_permits(), 1000);
        for t in threads {
            t.join().unwrap();
        }
        all.forget();
        assert_eq!(sem.available_permits(), 0);
    });
}

#[test]
fn permits_split_and_merge() {
    let sem = Semaphore::new(4);
    let mut p = sem.try_acquire_many(4).unwrap();
    let q = p.split(3).unwrap();
    assert!(p.split(2).is_none());
    assert_eq!((p.num_permits(), q.num_permits()), (1, 3));
    p.merge(q);
    assert_eq!(p.num_permits(), 4);
    drop(p);
    assert_eq!(sem.available_permits(), 4);
}

#[test]
fn a_plain_thread_blocks_for_a_permit_released_by_a_task() {
    support::run(support::LIMIT, || async {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.clone().acquire_owned().await.unwrap();
        let s = sem.clone();
        let thread = std::thread::spawn(move || {
            let p = s.blocking_acquire_many(1).unwrap();
            p.num_permits()
        });
        // Whether the thread has queued yet or not, the permit reaches it.
        ember::task::yield_now().await;
        drop(held);
        let done = ember::spawn_blocking(move || thread.join().unwrap());
        assert_eq!(done.await.unwrap(), 1);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn threads_and_tasks_hammering_one_semaphore_never_exceed_its_permits_and_lose_none() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const PERMITS: usize = 3;
    support::run(support::LIMIT, || async {
        let sem = Arc::new(Semaphore::new(PERMITS));
        let in_use = Arc::new(AtomicUsize::new(0));
        let check = |in_use: &AtomicUsize, n: usize| {
            let now = in_use.fetch_add(n, Ordering::SeqCst) + n;
            assert!(now <= PERMITS, "{now} permits in use");
            in_use.fetch_sub(n, Ordering::SeqCst);
        };
        let threads: Vec<_> = (0..3)
            .map(|t| {
                let (sem, in_use) = (sem.clone(), in_use.clone());
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        let n = 1 + (i + t) % PERMITS;
                        let p = sem.blocking_acquire_many(n as u32).unwrap();
                        check(&in_use, n);
                        drop(p);
                    }
                })
            })
            .collect();
        let tasks: Vec<_> = (0..3)
            .map(|t| {
                let (sem, in_use) = (sem.clone(), in_use.clone());
                ember::spawn(async move {
                    for i in 0..20_000 {
                        let n = 1 + (i * 7 + t) % PERMITS;
                        let p = sem.acquire_many(n as u32).await.unwrap();
                        check(&in_use, n);
                        if i % 3 == 0 {
                            ember::task::yield_now().await;
                        }
                        drop(p);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let joined = ember::spawn_blocking(move || {
            for t in threads {
                t.join().unwrap();
            }
        });
        joined.await.unwrap();
        assert_eq!(sem.available_permits(), PERMITS);
    });
}

/// Panics when woken.
struct Panicky;

impl std::task::Wake for Panicky {
    fn wake(self: Arc<Self>) {
        panic!("a waker that panics (expected by the test)");
    }
}

#[test]
fn a_panicking_waker_does_not_break_a_release() {
    let sem = Arc::new(Semaphore::new(0));
    let waker = Waker::from(Arc::new(Panicky));
    let mut cx = Context::from_waker(&waker);
    let mut waiting = pin!(sem.acquire());
    assert!(waiting.as_mut().poll(&mut cx).is_pending());
    sem.add_permits(1); // handed to the waiter; its waker's panic is contained
    let Poll::Ready(Ok(permit)) = waiting.as_mut().poll(&mut cx) else {
        panic!("the permit was handed over");
    };
    assert_eq!(sem.available_permits(), 0);
    drop(permit);
    assert_eq!(sem.available_permits(), 1);
}
