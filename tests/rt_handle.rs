//! `runtime::Handle`: spawning onto the loop from other threads, from the
//! loop itself, and after the runtime is gone; `Runtime::enter`; the tokio
//! spelling of the builder.
#![cfg(feature = "time")]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ember::runtime::{Builder, Handle};
use ember::Runtime;
use support::{within, LIMIT};

#[test]
fn four_threads_spawning_ten_thousand_futures_each_run_every_one_exactly_once() {
    within(LIMIT, || {
        const THREADS: usize = 4;
        const EACH: usize = 10_000;
        let rt = Runtime::new().unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let seen: Arc<Vec<AtomicUsize>> =
            Arc::new((0..THREADS * EACH).map(|_| AtomicUsize::new(0)).collect());
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let handle = rt.handle().clone();
                let ran = ran.clone();
                let seen = seen.clone();
                std::thread::spawn(move || {
                    for i in 0..EACH {
                        let ran = ran.clone();
                        let seen = seen.clone();
                        // Detached: the loop runs it all the same.
                        drop(handle.spawn(async move {
                            seen[t * EACH + i].fetch_add(1, Ordering::Relaxed);
                            ran.fetch_add(1, Ordering::Relaxed);
                        }));
                    }
                })
            })
            .collect();
        let done = ran.clone();
        rt.block_on(async move {
            // The loop sleeps between arrivals: each batch must wake it.
            while done.load(Ordering::Relaxed) < THREADS * EACH {
                ember::time::sleep(Duration::from_millis(1)).await;
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(ran.load(Ordering::Relaxed), THREADS * EACH);
        assert!(seen.iter().all(|n| n.load(Ordering::Relaxed) == 1));
    });
}

#[test]
fn a_spawn_from_another_thread_wakes_a_sleeping_loop_and_its_handle_gets_the_output() {
    within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle().clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            // The loop is asleep in epoll_wait with no timer by now, most
            // likely; either way the spawn must reach it.
            std::thread::sleep(Duration::from_millis(50));
            let join = handle.spawn(async { ember::task::id() });
            let id = join.id();
            tx.send(id).unwrap();
            // Await the handle from a plain thread with a tiny executor.
            block_on_thread(join)
        });
        let first = rt.block_on(async {
            // Nothing to do but wait for the spawned task to show up.
            let id = loop {
                if let Ok(id) = rx.try_recv() {
                    break id;
                }
                ember::time::sleep(Duration::from_millis(5)).await;
            };
            id
        });
        // Let the task run, then the thread's await completes.
        let joined = std::thread::spawn(move || thread.join().unwrap());
        rt.block_on(async {
            while !joined.is_finished() {
                ember::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let got = joined.join().unwrap().unwrap();
        assert_eq!(got, first, "task::id() inside is the handle's id");
    });
}

/// Polls `fut` to completion on this plain thread, parking between polls.
fn block_on_thread<F: std::future::Future>(fut: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park_timeout(Duration::from_millis(100));
    }
}

#[test]
fn handle_spawn_on_the_loop_thread_is_a_plain_spawn() {
    within(LIMIT, || {
        ember::block_on(async {
            let handle = Handle::current();
            let join = handle.spawn(async { 5 });
            assert_eq!(join.await.unwrap(), 5);
        })
    });
}

#[test]
fn a_panic_in_a_remote_task_reaches_its_handle_and_the_loop_goes_on() {
    within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle().clone();
        let join = std::thread::spawn(move || {
            let join = handle.spawn(async { panic!("expected by the test") });
            block_on_thread(join)
        });
        let res = rt.block_on(async move {
            loop {
                if join.is_finished() {
                    break join.join().unwrap();
                }
                ember::time::sleep(Duration::from_millis(5)).await;
            }
        });
        assert!(res.unwrap_err().is_panic());
        assert_eq!(rt.block_on(async { 1 }), 1);
    });
}

#[test]
fn a_remote_task_can_be_aborted_from_its_handle() {
    within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle().clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let join = handle.spawn(std::future::pending::<()>());
            let abort = join.abort_handle();
            rx.recv().unwrap(); // the task runs by now
            abort.abort();
            block_on_thread(join)
        });
        rt.block_on(async {
            ember::time::sleep(Duration::from_millis(50)).await;
            tx.send(()).unwrap();
            while !thread.is_finished() {
                ember::time::sleep(Duration::from_millis(5)).await;
            }
        });
        assert!(thread.join().unwrap().unwrap_err().is_cancelled());
    });
}

#[test]
fn spawning_through_a_handle_after_the_runtime_is_gone_gives_a_cancelled_task() {
    within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle().clone();
        // Queued while the runtime is idle, then the runtime goes: the
        // task never ran, and its handle says cancelled.
        let (gone_tx, gone_rx) = std::sync::mpsc::channel();
        let queued = std::thread::spawn({
            let handle = handle.clone();
            move || {
                let join = handle.spawn(async { 1 });
                gone_rx.recv().unwrap();
                block_on_thread(join).unwrap_err().is_cancelled()
            }
        });
        std::thread::sleep(Duration::from_millis(20));
        drop(rt);
        gone_tx.send(()).unwrap();
        assert!(
            queued.join().unwrap(),
            "a queued spawn is cancelled with its runtime"
        );
        // And one made after the runtime is gone.
        let late = std::thread::spawn(move || {
            block_on_thread(handle.spawn(async { 2 }))
                .unwrap_err()
                .is_cancelled()
        })
        .join()
        .unwrap();
        assert!(late);
    });
}

#[test]
fn runtime_enter_lets_spawn_queue_tasks_that_run_at_the_next_block_on() {
    within(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let join = {
            let _guard = rt.enter();
            assert!(Handle::try_current().is_ok());
            ember::spawn(async { "ran" })
        };
        assert!(Handle::try_current().is_err());
        assert_eq!(rt.block_on(join).unwrap(), "ran");
    });
}

#[test]
fn the_tokio_builder_chain_builds_a_runtime() {
    let rt = Builder::new_current_thread()
        .enable_all()
        .enable_io()
        .enable_time()
        .event_capacity(64)
        .build()
        .unwrap();
    assert_eq!(rt.block_on(async { 40 + 2 }), 42);
}

#[test]
#[should_panic(expected = "`Handle::current` called outside an ember runtime")]
fn handle_current_outside_a_runtime_panics_with_a_clear_message() {
    let _ = Handle::current();
}
