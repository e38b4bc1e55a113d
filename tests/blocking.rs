//! The blocking pool: `spawn_blocking`, its thread accounting, its shutdown,
//! and DNS lookups made through it by `TcpStream::connect`.
//!
//! Tests that count the pool's threads (by name, in `/proc/self/task`) run
//! in a child process of their own, where no other test starts threads.
#![cfg(all(feature = "net", feature = "time"))]

mod support;

use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use ember::net::{TcpListener, TcpStream};
use ember::runtime::stats;
use ember::time::sleep;

/// Like `support::run`, on a runtime built from `builder`.
fn run_with<F, Fut>(mut builder: ember::Builder, make: F) -> Fut::Output
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let rt = builder.build().expect("build a runtime");
        let _ = tx.send(rt.block_on(make()));
    });
    match rx.recv_timeout(support::LIMIT) {
        Ok(out) => {
            thread
                .join()
                .expect("runtime thread panicked after finishing");
            out
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the runtime thread ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish in time"),
    }
}

/// How many of this process's threads are blocking-pool threads.
fn pool_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == "ember-blocking")
        .count()
}

/// Polls `pool_threads()` until it equals `n`, for up to `within`.
fn wait_for_pool_threads(n: usize, within: Duration) -> usize {
    let start = Instant::now();
    loop {
        let now = pool_threads();
        if now == n || start.elapsed() > within {
            return now;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn spawn_blocking_returns_the_value_of_its_closure_computed_on_a_pool_thread() {
    support::run(support::LIMIT, || async {
        let loop_thread = std::thread::current().id();
        let (value, thread, name) = ember::spawn_blocking(move || {
            let t = std::thread::current();
            (6 * 7, t.id(), t.name().map(str::to_string))
        })
        .await
        .expect("the job completes");
        assert_eq!(value, 42);
        assert_ne!(thread, loop_thread, "the job ran on the loop's thread");
        assert_eq!(name.as_deref(), Some("ember-blocking"));
    });
}

#[test]
fn a_finished_job_wakes_a_loop_asleep_in_epoll_wait() {
    support::run(support::LIMIT, || async {
        // Nothing else to do: the loop blocks in epoll_wait until the pool
        // thread's wake rings the eventfd.
        let handle = ember::spawn_blocking(|| std::thread::sleep(Duration::from_millis(100)));
        handle.await.unwrap();
        let s = stats();
        assert!(
            s.remote_wakes >= 1,
            "the completion was not a remote wake: {s:?}"
        );
        assert!(s.epoll_waits >= 1, "{s:?}");
    });
}

#[test]
fn a_panicking_job_gives_a_join_error_that_is_a_panic_and_the_runtime_goes_on() {
    support::run(support::LIMIT, || async {
        let err = ember::spawn_blocking(|| -> u32 { panic!("boom in the pool") })
            .await
            .expect_err("the job panicked");
        assert!(err.is_panic(), "{err:?}");
        assert!(!err.is_cancelled());
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom in the pool"));
        // The pool and the loop are fine.
        assert_eq!(ember::spawn_blocking(|| 7).await.unwrap(), 7);
    });
}

#[test]
fn more_jobs_than_threads_all_complete_and_never_more_than_the_limit_run_at_once() {
    let mut builder = ember::Runtime::builder();
    builder.blocking_threads(2);
    run_with(builder, || async {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..12)
            .map(|i| {
                let (running, most) = (running.clone(), most.clone());
                ember::spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i * 10
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), i * 10);
        }
        let most = most.load(Ordering::SeqCst);
        assert!(most <= 2, "{most} jobs ran at once with a limit of 2");
        assert_eq!(most, 2, "queued jobs never ran side by side");
    });
}

#[test]
fn the_loop_runs_other_tasks_while_a_job_blocks() {
    support::run(support::LIMIT, || async {
        let ticks = Rc::new(std::cell::Cell::new(0u32));
        let done = Rc::new(std::cell::Cell::new(false));
        let ticker = {
            let (ticks, done) = (ticks.clone(), done.clone());
            ember::spawn(async move {
                while !done.get() {
                    sleep(Duration::from_millis(10)).await;
                    ticks.set(ticks.get() + 1);
                }
            })
        };
        let started = Instant::now();
        ember::spawn_blocking(|| std::thread::sleep(Duration::from_millis(300)))
            .await
            .unwrap();
        let during = ticks.get();
        done.set(true);
        ticker.await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(300));
        // 30 ticks fit in 300 ms; a loaded machine may manage fewer, a
        // blocked loop none at all.
        assert!(during >= 5, "only {during} ticks while the job blocked");
    });
}

#[test]
fn connecting_to_localhost_by_name_resolves_on_the_pool_while_another_task_runs() {
    if !support::in_child(
        "connecting_to_localhost_by_name_resolves_on_the_pool_while_another_task_runs",
    ) {
        return;
    }
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Rc::new(std::cell::Cell::new(0u64));
        let stop = Rc::new(std::cell::Cell::new(false));
        let counter = {
            let (count, stop) = (count.clone(), stop.clone());
            ember::spawn(async move {
                while !stop.get() {
                    count.set(count.get() + 1);
                    ember::task::yield_now().await;
                }
            })
        };
        assert_eq!(pool_threads(), 0);
        let client = TcpStream::connect(format!("localhost:{port}"))
            .await
            .expect("connect to localhost by name");
        let counted = count.get();
        stop.set(true);
        counter.await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        assert!(counted > 0, "the counter task never ran during the connect");
        // The pool starts threads only for jobs, and keeps them 10 s.
        assert_eq!(pool_threads(), 1, "the name was not resolved on the pool");
    });
}

#[test]
fn connecting_to_ip_literals_never_leaves_the_loop_thread() {
    if !support::in_child("connecting_to_ip_literals_never_leaves_the_loop_thread") {
        return;
    }
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let _a = TcpStream::connect(addr).await.unwrap();
        let _b = TcpStream::connect(addr.to_string()).await.unwrap();
        let _c = TcpStream::connect(("127.0.0.1", addr.port()))
            .await
            .unwrap();
        // No job ran: no pool thread was ever started.
        assert_eq!(pool_threads(), 0, "an IP literal went to the pool");
        assert_eq!(stats().remote_wakes, 0);
    });
}

#[test]
fn a_bad_port_fails_without_a_lookup() {
    if !support::in_child("a_bad_port_fails_without_a_lookup") {
        return;
    }
    support::run(support::LIMIT, || async {
        let err = TcpStream::connect("localhost:http").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert_eq!(err.to_string(), "invalid port value");
        assert_eq!(pool_threads(), 0);
    });
}

#[test]
fn aborting_a_blocking_task_lets_the_job_finish_and_drops_its_result_on_its_thread() {
    #[derive(Debug)]
    struct Reports(mpsc::Sender<Option<String>>);
    impl Drop for Reports {
        fn drop(&mut self) {
            let name = std::thread::current().name().map(str::to_string);
            let _ = self.0.send(name);
        }
    }
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (dropped_tx, dropped_rx) = mpsc::channel();
    let (started_tx, started_rx) = mpsc::channel();
    support::run(support::LIMIT, move || async move {
        let handle = ember::spawn_blocking(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            Reports(dropped_tx)
        });
        // (A job still queued when the runtime drops would never run.)
        started_rx.recv().unwrap();
        handle.abort();
        let err = handle.await.expect_err("aborted");
        assert!(err.is_cancelled());
        release_tx.send(()).unwrap();
    });
    let dropped_on = dropped_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the job finished and its result was dropped");
    assert_eq!(dropped_on.as_deref(), Some("ember-blocking"));
}

#[test]
fn a_job_running_when_the_runtime_drops_runs_to_completion() {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel();
    let (started_tx, started_rx) = mpsc::channel();
    support::run(support::LIMIT, move || async move {
        // Detached, then the runtime is dropped with the job in progress.
        drop(ember::spawn_blocking(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            done_tx.send("finished").unwrap();
        }));
        ember::spawn_blocking(move || started_rx.recv().unwrap())
            .await
            .unwrap();
    });
    // The runtime is gone; the job still waits for its release.
    release_tx.send(()).unwrap();
    assert_eq!(
        done_rx.recv_timeout(Duration::from_secs(10)),
        Ok("finished")
    );
}

#[test]
fn a_job_still_queued_when_the_runtime_drops_never_runs() {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (ran_tx, ran_rx) = mpsc::channel::<&str>();
    let (started_tx, started_rx) = mpsc::channel();
    let mut builder = ember::Runtime::builder();
    builder.blocking_threads(1);
    run_with(builder, move || async move {
        // The one thread is busy with the first job; the second waits in
        // the queue when the runtime goes.
        drop(ember::spawn_blocking(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
        }));
        drop(ember::spawn_blocking(move || ran_tx.send("ran").unwrap()));
        started_rx.recv().unwrap();
    });
    release_tx.send(()).unwrap();
    // Dropped unrun: its sender is gone without a message.
    assert_eq!(
        ran_rx.recv_timeout(Duration::from_secs(10)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );
}

#[test]
#[should_panic(expected = "`ember::spawn_blocking` called outside an ember runtime")]
fn spawn_blocking_outside_a_runtime_panics_with_a_clear_message() {
    drop(ember::spawn_blocking(|| ()));
}

#[test]
fn idle_threads_retire_after_the_keep_alive_and_come_back_on_demand() {
    if !support::in_child("idle_threads_retire_after_the_keep_alive_and_come_back_on_demand") {
        return;
    }
    let mut builder = ember::Runtime::builder();
    builder
        .blocking_threads(4)
        .blocking_keep_alive(Duration::from_millis(500));
    run_with(builder, || async {
        assert_eq!(pool_threads(), 0, "threads before any job");
        // Four jobs that can only finish together: four threads at once.
        let barrier = Arc::new(Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let b = barrier.clone();
                ember::spawn_blocking(move || {
                    b.wait();
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(pool_threads(), 4);
        let left = ember::spawn_blocking(|| wait_for_pool_threads(1, Duration::from_secs(10)))
            .await
            .unwrap();
        // The job above ran on one of the four; the other three retired
        // while it waited.
        assert_eq!(left, 1, "idle threads did not retire");
        // This blocks the loop, which has nothing else to do.
        let gone = wait_for_pool_threads(0, Duration::from_secs(10));
        assert_eq!(gone, 0, "the last thread did not retire");
        // And a new job starts a new thread.
        ember::spawn_blocking(|| ()).await.unwrap();
    });
}

#[test]
fn dropping_the_runtime_stops_its_idle_threads_long_before_the_keep_alive() {
    if !support::in_child("dropping_the_runtime_stops_its_idle_threads_long_before_the_keep_alive")
    {
        return;
    }
    // The default keep-alive is 10 s; the threads must go at once.
    let rt = ember::Runtime::new().unwrap();
    rt.block_on(async {
        let barrier = Arc::new(Barrier::new(3));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let b = barrier.clone();
                ember::spawn_blocking(move || {
                    b.wait();
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(pool_threads(), 3);
    let start = Instant::now();
    drop(rt);
    let left = wait_for_pool_threads(0, Duration::from_secs(5));
    assert_eq!(left, 0, "pool threads outlived their runtime");
    assert!(start.elapsed() < Duration::from_secs(5));
}

// Regression: the pool used to shut only after the tasks' futures were
// dropped, so a destructor calling `spawn_blocking` during shutdown started
// a job whose task had already been cancelled.
#[test]
fn a_job_submitted_by_a_destructor_during_shutdown_never_runs() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    struct SubmitOnDrop(Arc<AtomicBool>);
    impl Drop for SubmitOnDrop {
        fn drop(&mut self) {
            let ran = self.0.clone();
            drop(ember::spawn_blocking(move || {
                ran.store(true, Ordering::SeqCst)
            }));
            // Give an idle pool thread every chance to take the job, as it
            // would have before the fix.
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    let ran = Arc::new(AtomicBool::new(false));
    let rt = ember::Runtime::new().unwrap();
    let guard = SubmitOnDrop(ran.clone());
    rt.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    // Warm the pool: one idle thread waits for work when shutdown starts.
    rt.block_on(async { ember::spawn_blocking(|| ()).await.unwrap() });
    drop(rt);
    // Give a wrongly started job ample time to run.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !ran.load(Ordering::SeqCst),
        "the job ran after its runtime shut down"
    );
}
