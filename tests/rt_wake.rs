//! Wakers: waking tasks from other threads (while the loop sleeps in
//! `epoll_wait`, and under load from several threads), and the wakes that
//! must do nothing: of a finished task, of a task whose slot was reused, and
//! of a runtime that is gone.
#![cfg(feature = "time")]

mod support;

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Compile-time check: the contract says wakers (and join errors, which
/// carry a panic payload) may cross threads. The proof that an ember waker
/// really works from another thread is in the tests below.
const _: () = {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    let _ = assert_send_sync::<Waker>;
    let _ = assert_send_sync::<ember::task::JoinError>;
};

/// Ready once `flag` is set. On its first poll it sends its waker over
/// `to_waker`, so whoever sets the flag can wake the task.
struct WaitForFlag {
    flag: Arc<AtomicBool>,
    to_waker: Option<mpsc::Sender<Waker>>,
}

impl Future for WaitForFlag {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if let Some(tx) = self.to_waker.take() {
            tx.send(cx.waker().clone())
                .expect("the waking thread is gone");
        }
        Poll::Pending
    }
}

/// A task that never completes and counts its polls; it returns `Pending`
/// without keeping its waker, so only a stray wake can poll it again.
fn counting_pending_task(polls: Rc<Cell<u32>>) -> impl Future<Output = ()> {
    poll_fn(move |_| {
        polls.set(polls.get() + 1);
        Poll::Pending
    })
}

/// A task that stores its waker in `slot` and completes at its first poll.
fn task_that_leaves_its_waker(slot: Rc<RefCell<Option<Waker>>>) -> impl Future<Output = ()> {
    poll_fn(move |cx| {
        *slot.borrow_mut() = Some(cx.waker().clone());
        Poll::Ready(())
    })
}

/// Runs `f` on a fresh thread, failing the test if it takes longer than
/// `limit`; for tests that need several runtimes, one after the other, on
/// the same thread.
fn on_new_thread<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => {
            thread.join().expect("thread panicked after finishing");
            out
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the thread ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {limit:?}"),
    }
}

#[test]
fn a_plain_thread_wakes_a_task_while_the_loop_sleeps_without_burning_cpu() {
    const DELAY: Duration = Duration::from_millis(300);
    let (cpu, elapsed, remote_wakes) = support::run(support::LIMIT, || async {
        let flag = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<Waker>();
        let setter = {
            let flag = flag.clone();
            std::thread::spawn(move || {
                let waker = rx.recv().expect("the task sends its waker");
                std::thread::sleep(DELAY);
                flag.store(true, Ordering::Release);
                waker.wake();
            })
        };
        let cpu_before = support::thread_cpu_time();
        let start = Instant::now();
        let task = ember::spawn(WaitForFlag {
            flag: flag.clone(),
            to_waker: Some(tx),
        });
        task.await.expect("the woken task completes");
        let elapsed = start.elapsed();
        let cpu = support::thread_cpu_time() - cpu_before;
        setter.join().expect("the waking thread");
        assert!(flag.load(Ordering::Acquire));
        (cpu, elapsed, ember::runtime::stats().remote_wakes)
    });
    assert!(
        elapsed >= DELAY,
        "the task completed after {elapsed:?}, before it was woken"
    );
    assert!(
        remote_wakes >= 1,
        "the wake came from another thread: it must have gone through the remote queue"
    );
    assert!(
        cpu < Duration::from_millis(100),
        "the runtime thread used {cpu:?} of CPU while it waited {elapsed:?}: it spun instead of sleeping"
    );
}

#[test]
fn the_block_on_future_is_woken_by_a_plain_thread_too() {
    let elapsed = support::run(support::LIMIT, || async {
        let flag = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel::<Waker>();
        let f = flag.clone();
        let setter = std::thread::spawn(move || {
            let waker = rx.recv().expect("waker");
            std::thread::sleep(Duration::from_millis(50));
            f.store(true, Ordering::Release);
            waker.wake();
        });
        let start = Instant::now();
        WaitForFlag {
            flag,
            to_waker: Some(tx),
        }
        .await;
        setter.join().expect("the waking thread");
        start.elapsed()
    });
    assert!(elapsed >= Duration::from_millis(50));
}

/// One task per thread; the thread bumps the task's counter and wakes it,
/// `WAKES` times, without waiting. Wakes coalesce, so the task may be polled
/// fewer times than it is woken, but the last wake must get through: the
/// task completes only when it has seen every increment.
#[test]
fn ten_thousand_wakes_from_each_of_four_threads_are_all_delivered() {
    const THREADS: usize = 4;
    const WAKES: usize = 10_000;
    let (polls, stats) = support::run(support::LIMIT, || async {
        let mut tasks = Vec::new();
        let mut threads = Vec::new();
        for _ in 0..THREADS {
            let counter = Arc::new(AtomicUsize::new(0));
            let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
            let (c, s) = (counter.clone(), slot.clone());
            tasks.push(ember::spawn(async move {
                let mut polls = 0usize;
                poll_fn(|cx| {
                    polls += 1;
                    // Publish the waker, then check: a thread that bumps the
                    // counter after this check finds the waker and wakes us.
                    *s.lock().unwrap() = Some(cx.waker().clone());
                    if c.load(Ordering::Acquire) == WAKES {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                })
                .await;
                polls
            }));
            threads.push(std::thread::spawn(move || {
                // Start once the task has published its waker, so that the
                // wakes really are sent.
                while slot.lock().unwrap().is_none() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                for _ in 0..WAKES {
                    counter.fetch_add(1, Ordering::Release);
                    let waker = slot.lock().unwrap().clone();
                    if let Some(w) = waker {
                        w.wake();
                    }
                }
            }));
        }
        let mut polls = Vec::new();
        for t in tasks {
            polls.push(t.await.expect("the task completes"));
        }
        for t in threads {
            t.join().expect("waking thread");
        }
        (polls, ember::runtime::stats())
    });
    for p in &polls {
        assert!((1..=WAKES + 1).contains(p), "a task was polled {p} times");
    }
    assert_eq!(stats.tasks_completed, THREADS as u64);
    assert_eq!(stats.tasks_alive, 0);
    assert!(stats.remote_wakes >= 1);
}

/// Each thread wakes its task and waits for the task to acknowledge that
/// wake before it sends the next one, so every single wake must reach the
/// loop, whether it is asleep in `epoll_wait` or busy with the other tasks.
/// A lost wake leaves a thread waiting forever and the watchdog fails.
#[test]
fn every_wake_in_a_cross_thread_ping_pong_gets_through() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 1_000;
    let acks = support::run(support::LIMIT, || async {
        let mut tasks = Vec::new();
        let mut threads = Vec::new();
        for _ in 0..THREADS {
            let sent = Arc::new(AtomicUsize::new(0));
            let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
            let (ack_tx, ack_rx) = mpsc::channel::<usize>();
            let s = sent.clone();
            tasks.push(ember::spawn(async move {
                let mut acked = 0;
                let mut waker_tx = Some(waker_tx);
                poll_fn(|cx| {
                    if let Some(tx) = waker_tx.take() {
                        tx.send(cx.waker().clone()).expect("thread alive");
                    }
                    let now = s.load(Ordering::Acquire);
                    if now > acked {
                        acked = now;
                        ack_tx.send(now).expect("thread alive");
                    }
                    if acked == ROUNDS {
                        Poll::Ready(acked)
                    } else {
                        Poll::Pending
                    }
                })
                .await
            }));
            threads.push(std::thread::spawn(move || {
                let waker = waker_rx.recv().expect("the task sends its waker");
                for round in 1..=ROUNDS {
                    sent.store(round, Ordering::Release);
                    waker.wake_by_ref();
                    let acked = ack_rx.recv().expect("the task acknowledges");
                    assert_eq!(acked, round);
                }
            }));
        }
        let mut acks = Vec::new();
        for t in tasks {
            acks.push(t.await.expect("the task completes"));
        }
        for t in threads {
            t.join().expect("waking thread");
        }
        acks
    });
    assert_eq!(acks, vec![ROUNDS; THREADS]);
}

#[test]
fn waking_a_finished_task_from_this_thread_or_another_is_harmless() {
    let (polls_before, polls_after, alive) = support::run(support::LIMIT, || async {
        let slot = Rc::new(RefCell::new(None));
        ember::spawn(task_that_leaves_its_waker(slot.clone()))
            .await
            .expect("the task completes");
        let waker: Waker = slot.borrow_mut().take().expect("the task left its waker");
        let polls_before = ember::runtime::stats().polls;
        waker.wake_by_ref();
        let w = waker.clone();
        std::thread::spawn(move || {
            w.wake_by_ref();
            w.wake();
        })
        .join()
        .expect("waking thread");
        waker.wake();
        // Give the loop turns to process the local and remote wakes.
        for _ in 0..3 {
            ember::task::yield_now().await;
        }
        ember::time::sleep(Duration::from_millis(10)).await;
        let s = ember::runtime::stats();
        (polls_before, s.polls, s.tasks_alive)
    });
    assert_eq!(
        polls_after, polls_before,
        "a finished task was polled again"
    );
    assert_eq!(alive, 0);
}

/// A finished task's slab slot is reused by the next spawn. The old task's
/// waker names the slot *and* the task's id, so it must not poll the new
/// occupant, whether it is woken on the loop's thread or from another one.
///
/// A waker that has queued its task once stays "scheduled" until the task is
/// polled again, which a finished task never is; so each path gets its own
/// finished task: A0 is woken on the loop's thread, A1 from another thread.
#[test]
fn a_waker_of_a_finished_task_does_not_wake_the_task_that_reuses_its_slot() {
    let (b_polls, total_polls_delta) = support::run(support::LIMIT, || async {
        let slots: Vec<Rc<RefCell<Option<Waker>>>> = vec![Rc::default(), Rc::default()];
        let a: Vec<_> = slots
            .iter()
            .map(|s| ember::spawn(task_that_leaves_its_waker(s.clone())))
            .collect();
        for h in a {
            h.await.expect("task A completes");
        }
        let a_wakers: Vec<Waker> = slots
            .iter()
            .map(|s| s.borrow_mut().take().expect("A left its waker"))
            .collect();
        assert_eq!(ember::runtime::stats().tasks_alive, 0);

        // B0 and B1 are spawned into the slots A0 and A1 freed (the slab
        // reuses vacant keys, and theirs were the only ones).
        let b_polls: Vec<Rc<Cell<u32>>> = vec![Rc::default(), Rc::default()];
        let b: Vec<_> = b_polls
            .iter()
            .map(|p| ember::spawn(counting_pending_task(p.clone())))
            .collect();
        ember::task::yield_now().await;
        assert_eq!((b_polls[0].get(), b_polls[1].get()), (1, 1));
        let polls_before = ember::runtime::stats().polls;

        for _ in 0..5 {
            a_wakers[0].wake_by_ref();
        }
        let w = a_wakers[1].clone();
        std::thread::spawn(move || {
            for _ in 0..5 {
                w.wake_by_ref();
            }
        })
        .join()
        .expect("waking thread");
        for _ in 0..3 {
            ember::task::yield_now().await;
        }
        // A sleep makes the loop look at the remote queue and epoll.
        ember::time::sleep(Duration::from_millis(10)).await;
        let delta = ember::runtime::stats().polls - polls_before;
        for h in &b {
            assert!(!h.is_finished());
            h.abort();
        }
        ((b_polls[0].get(), b_polls[1].get()), delta)
    });
    assert_eq!(
        b_polls,
        (1, 1),
        "A's waker polled B, the new occupant of its slot"
    );
    assert_eq!(total_polls_delta, 0, "no task should have been polled");
}

/// The old runtime leaves three wakers of pending tasks, each used on one
/// path (a waker that has queued its task once does nothing more until the
/// task is polled, which a dropped task never is).
#[test]
fn a_waker_that_outlives_its_runtime_does_nothing_from_any_thread() {
    let (stale_polls, new_task_polls) = on_new_thread(support::LIMIT, || {
        let polls = Rc::new(Cell::new(0));
        let p = polls.clone();
        // The tasks are still alive, pending, when `block_on` returns: the
        // runtime drops their futures. Their wakers outlive both.
        let (wakers, main_waker) = ember::block_on(async move {
            let slots: Vec<Rc<RefCell<Option<Waker>>>> = (0..3).map(|_| Rc::default()).collect();
            for s in &slots {
                let (s, p) = (s.clone(), p.clone());
                ember::spawn(poll_fn(move |cx| {
                    p.set(p.get() + 1);
                    *s.borrow_mut() = Some(cx.waker().clone());
                    Poll::<()>::Pending
                }));
            }
            ember::task::yield_now().await;
            let wakers: Vec<Waker> = slots
                .iter()
                .map(|s| s.borrow_mut().take().expect("the task ran"))
                .collect();
            let main_waker = poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
            (wakers, main_waker)
        });
        assert_eq!(polls.get(), 3);
        let [in_new_runtime, same_thread, other_thread]: [Waker; 3] =
            wakers.try_into().expect("three wakers");

        // Same thread, inside a new runtime whose tasks have the same slots
        // and the same ids as the old ones: a stale waker must not reach
        // them.
        let new_polls: Vec<Rc<Cell<u32>>> = (0..3).map(|_| Rc::default()).collect();
        let np = new_polls.clone();
        let mw = main_waker.clone();
        ember::block_on(async move {
            let tasks: Vec<_> = np
                .iter()
                .map(|p| ember::spawn(counting_pending_task(p.clone())))
                .collect();
            ember::task::yield_now().await;
            assert!(np.iter().all(|p| p.get() == 1));
            in_new_runtime.wake_by_ref();
            mw.wake_by_ref();
            for _ in 0..3 {
                ember::task::yield_now().await;
            }
            ember::time::sleep(Duration::from_millis(10)).await;
            for t in tasks {
                t.abort();
            }
        });

        // Same thread, no runtime.
        same_thread.wake_by_ref();
        main_waker.wake_by_ref();
        // Another thread.
        std::thread::spawn(move || {
            other_thread.wake();
            main_waker.wake();
        })
        .join()
        .expect("waking thread");
        (
            polls.get(),
            new_polls.iter().map(|p| p.get()).collect::<Vec<_>>(),
        )
    });
    assert_eq!(stale_polls, 3, "a task of a dropped runtime was polled");
    assert_eq!(
        new_task_polls,
        [1, 1, 1],
        "a waker of a dropped runtime polled a task of the next runtime"
    );
}
