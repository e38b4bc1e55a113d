//! Tasks and their handles: outputs, detaching, aborting (also of a task
//! blocked in a TCP read), panics in tasks and in `block_on`, misuse panics
//! (`spawn` outside a runtime, nested `block_on`), `yield_now`,
//! `Runtime::spawn`, and the task counters of `runtime::stats()`.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

mod support;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::mpsc;
use std::task::{Poll, Waker};
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use ember::task::yield_now;

/// Sets its flag when dropped: proves a future (or an output) was dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Counts its drops.
struct DropCount(Rc<Cell<u32>>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A connected pair on loopback: (client side, server side).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let client = TcpStream::connect(addr).await.expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    (client, server)
}

/// Starts an echo server task and checks one round trip through it.
async fn echo_round_trip(msg: &[u8]) -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    ember::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 1024];
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            stream.write_all(&buf[..n]).await.expect("echo write");
        }
    });
    let mut client = TcpStream::connect(addr).await.expect("connect");
    client.write_all(msg).await.expect("client write");
    let mut reply = vec![0u8; msg.len()];
    client.read_exact(&mut reply).await.expect("client read");
    reply
}

/// The message of a panic payload, whether it is a `&str` or a `String`.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string payload>".to_string())
}

/// Runs `f` on a fresh thread, failing the test if it takes longer than
/// `limit`: for tests that build a `Runtime` by hand.
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
fn a_join_handle_gives_the_task_output() {
    let out = support::run(support::LIMIT, || async {
        let h = ember::spawn(async {
            yield_now().await;
            String::from("output")
        });
        h.await.expect("the task completes")
    });
    assert_eq!(out, "output");
}

#[test]
fn is_finished_turns_true_when_the_task_completes_without_awaiting_the_handle() {
    support::run(support::LIMIT, || async {
        let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
        let go = Rc::new(Cell::new(false));
        let (w, g) = (waker.clone(), go.clone());
        let h = ember::spawn(poll_fn(move |cx| {
            if g.get() {
                return Poll::Ready(5);
            }
            *w.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }));
        assert!(!h.is_finished(), "finished before it ran");
        yield_now().await;
        assert!(!h.is_finished(), "finished while it waits");
        go.set(true);
        waker.borrow_mut().take().expect("the task waits").wake();
        yield_now().await;
        assert!(h.is_finished());
        assert_eq!(h.await.expect("output"), 5);
    });
}

#[test]
fn dropping_a_join_handle_detaches_the_task_which_still_runs_to_completion() {
    support::run(support::LIMIT, || async {
        let done = Rc::new(Cell::new(false));
        let output_dropped = Rc::new(Cell::new(false));
        let (d, o) = (done.clone(), output_dropped.clone());
        let h = ember::spawn(async move {
            ember::time::sleep(Duration::from_millis(20)).await;
            d.set(true);
            DropFlag(o)
        });
        drop(h);
        while !done.get() {
            ember::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(
            output_dropped.get(),
            "a detached task's output is dropped when it completes"
        );
        assert_eq!(ember::runtime::stats().tasks_alive, 0);
    });
}

#[test]
fn aborting_a_task_blocked_in_a_tcp_read_drops_it_and_the_peer_sees_eof() {
    support::run(support::LIMIT, || async {
        let (mut client, mut server) = tcp_pair().await;
        let dropped = Rc::new(Cell::new(false));
        let reads = Rc::new(Cell::new(0));
        let (d, r) = (dropped.clone(), reads.clone());
        let h = ember::spawn(async move {
            let _guard = DropFlag(d);
            let mut buf = [0u8; 64];
            let n = server.read(&mut buf).await;
            r.set(r.get() + 1);
            n
        });
        for _ in 0..3 {
            yield_now().await;
        }
        assert!(!h.is_finished(), "the read should be waiting");
        h.abort();
        let err = h.await.expect_err("an aborted task has no output");
        assert!(err.is_cancelled(), "expected cancelled, got {err:?}");
        assert!(!err.is_panic());
        assert!(dropped.get(), "the aborted task's destructors ran");
        assert_eq!(reads.get(), 0, "the read never completed");
        // The task owned the server side: dropping it closed the socket.
        let mut buf = [0u8; 8];
        let n = client.read(&mut buf).await.expect("client read");
        assert_eq!(n, 0, "the peer sees EOF once the aborted task is gone");
    });
}

#[test]
fn abort_from_another_task_is_honoured_by_the_time_that_task_has_yielded_once() {
    support::run(support::LIMIT, || async {
        let dropped = Rc::new(Cell::new(false));
        let polls = Rc::new(Cell::new(0));
        let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
        let (d, p, w) = (dropped.clone(), polls.clone(), waker.clone());
        let victim = ember::spawn(async move {
            let _guard = DropFlag(d);
            poll_fn(|cx| {
                p.set(p.get() + 1);
                *w.borrow_mut() = Some(cx.waker().clone());
                Poll::<()>::Pending
            })
            .await;
        });
        yield_now().await;
        assert_eq!(polls.get(), 1);

        let w = waker.clone();
        let aborter = ember::spawn(async move {
            // Woken *and* aborted: it must be dropped, not polled.
            w.borrow_mut().take().expect("victim's waker").wake();
            victim.abort();
            yield_now().await;
            let seen = dropped.get();
            (seen, victim.await)
        });
        let (seen, result) = aborter.await.expect("the aborter completes");
        assert!(seen, "the aborted future was still alive after a yield");
        assert!(result.expect_err("aborted").is_cancelled());
        assert_eq!(polls.get(), 1, "an aborted task was polled again");
    });
}

#[test]
fn an_aborted_task_is_dropped_before_the_next_task_in_line_is_polled() {
    support::run(support::LIMIT, || async {
        let dropped = Rc::new(Cell::new(false));
        let d = dropped.clone();
        let victim = ember::spawn(async move {
            let _guard = DropFlag(d);
            std::future::pending::<()>().await;
        });
        yield_now().await;
        // `aborter` and `observer` are queued one after the other: the loop
        // may poll nothing between the abort and the victim's drop.
        ember::spawn(async move { victim.abort() });
        let d = dropped.clone();
        let observer = ember::spawn(async move { d.get() });
        assert!(observer.await.expect("observer"), "victim still alive");
    });
}

#[test]
fn aborting_a_completed_task_keeps_its_output() {
    support::run(support::LIMIT, || async {
        let h = ember::spawn(async { 42 });
        while !h.is_finished() {
            yield_now().await;
        }
        h.abort();
        h.abort();
        assert!(h.is_finished());
        assert_eq!(h.await.expect("the output survives the abort"), 42);
    });
}

#[test]
fn aborting_a_task_that_never_ran_drops_its_future_unpolled() {
    support::run(support::LIMIT, || async {
        let dropped = Rc::new(Cell::new(false));
        let polled = Rc::new(Cell::new(false));
        let (d, p) = (dropped.clone(), polled.clone());
        let guard = DropFlag(d);
        let h = ember::spawn(async move {
            let _guard = guard;
            p.set(true);
        });
        h.abort();
        assert!(h.await.expect_err("aborted").is_cancelled());
        assert!(dropped.get());
        assert!(!polled.get(), "an aborted task was polled");
    });
}

#[test]
fn a_panicking_task_reports_its_payload_and_the_runtime_goes_on_serving() {
    support::run(support::LIMIT, || async {
        let guard_dropped = Rc::new(Cell::new(false));
        let g = guard_dropped.clone();
        let h = ember::spawn(async move {
            let _guard = DropFlag(g);
            yield_now().await;
            panic!("task blew up");
        });
        let err = h.await.expect_err("a panicking task has no output");
        assert!(err.is_panic(), "expected a panic, got {err:?}");
        assert!(!err.is_cancelled());
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"task blew up"));
        assert!(
            guard_dropped.get(),
            "the panicked task's locals are dropped"
        );

        // The runtime carries on: other tasks and I/O work.
        assert_eq!(ember::spawn(async { 7 }).await.expect("next task"), 7);
        assert_eq!(echo_round_trip(b"still serving").await, b"still serving");
    });
}

#[test]
fn a_panic_in_the_block_on_future_propagates_out_of_block_on() {
    on_new_thread(support::LIMIT, || {
        let task_dropped = Rc::new(Cell::new(false));
        let d = task_dropped.clone();
        let result = catch_unwind(AssertUnwindSafe(|| {
            ember::block_on(async move {
                ember::spawn(async move {
                    let _guard = DropFlag(d);
                    std::future::pending::<()>().await;
                });
                yield_now().await;
                panic!("main future blew up");
            })
        }));
        let payload = result.expect_err("the panic comes out of block_on");
        assert_eq!(panic_message(&*payload), "main future blew up");
        assert!(
            task_dropped.get(),
            "the runtime (and its tasks) was dropped on the way out"
        );
        // The thread is usable again: no runtime is left marked as current.
        assert_eq!(ember::block_on(async { 1 + 1 }), 2);
    });
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    let payload = catch_unwind(|| {
        drop(ember::spawn(async {}));
    })
    .expect_err("spawn outside a runtime must panic");
    let msg = panic_message(&*payload);
    assert!(
        msg.contains("outside an ember runtime"),
        "unexpected message: {msg}"
    );
}

#[test]
fn nested_block_on_panics_with_a_clear_message_and_the_outer_runtime_goes_on() {
    support::run(support::LIMIT, || async {
        let payload = catch_unwind(|| ember::block_on(async { 1 }))
            .expect_err("a nested ember::block_on must panic");
        let msg = panic_message(&*payload);
        assert!(msg.contains("already running"), "unexpected message: {msg}");

        let rt = ember::Runtime::new().expect("a second runtime can be built");
        let payload = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { 1 })))
            .expect_err("a nested Runtime::block_on must panic");
        let msg = panic_message(&*payload);
        assert!(msg.contains("already running"), "unexpected message: {msg}");
        drop(rt);

        // The outer runtime is intact.
        assert_eq!(ember::spawn(async { 3 }).await.expect("task"), 3);
        ember::time::sleep(Duration::from_millis(1)).await;
    });
}

#[test]
fn yield_now_lets_every_other_runnable_task_run_first() {
    support::run(support::LIMIT, || async {
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        let h = ember::spawn(async move { r.set(true) });
        assert!(!ran.get());
        yield_now().await;
        assert!(ran.get(), "the spawned task did not run during the yield");
        h.await.expect("task");

        let log = Rc::new(RefCell::new(Vec::new()));
        let mut handles = Vec::new();
        for name in ["a", "b"] {
            let log = log.clone();
            handles.push(ember::spawn(async move {
                for i in 0..3 {
                    log.borrow_mut().push(format!("{name}{i}"));
                    yield_now().await;
                }
            }));
        }
        for h in handles {
            h.await.expect("task");
        }
        assert_eq!(*log.borrow(), ["a0", "b0", "a1", "b1", "a2", "b2"]);
    });
}

#[test]
fn tasks_spawned_on_a_runtime_before_block_on_run_inside_it() {
    on_new_thread(support::LIMIT, || {
        let rt = ember::Runtime::new().expect("runtime");
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        let detached = rt.spawn(async move { r.set(true) });
        drop(detached);
        let h = rt.spawn(async { "before block_on" });
        assert!(!ran.get(), "nothing runs outside block_on");
        let out = rt.block_on(async { h.await.expect("task") });
        assert_eq!(out, "before block_on");
        assert!(ran.get());

        // A task left pending by one `block_on` runs on at the next one.
        let sleeper = rt.spawn(async {
            ember::time::sleep(Duration::from_millis(20)).await;
            "woke"
        });
        rt.block_on(yield_now());
        assert!(!sleeper.is_finished());
        assert_eq!(rt.block_on(sleeper).expect("sleeper"), "woke");
    });
}

#[test]
fn stats_count_spawned_alive_and_completed_tasks_exactly() {
    support::run(support::LIMIT, || async {
        let s = ember::runtime::stats();
        assert_eq!(
            (s.tasks_spawned, s.tasks_alive, s.tasks_completed, s.polls),
            (0, 0, 0, 0)
        );

        let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
        let go = Rc::new(Cell::new(false));
        let (w, g) = (waker.clone(), go.clone());
        let quick = ember::spawn(async { 1 });
        let waiting = ember::spawn(poll_fn(move |cx| {
            if g.get() {
                return Poll::Ready(2);
            }
            *w.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }));
        let doomed = ember::spawn(std::future::pending::<u32>());
        let s = ember::runtime::stats();
        assert_eq!(
            (s.tasks_spawned, s.tasks_alive, s.tasks_completed),
            (3, 3, 0)
        );

        yield_now().await; // each task is polled once; `quick` completes
        let s = ember::runtime::stats();
        assert_eq!(
            (s.tasks_spawned, s.tasks_alive, s.tasks_completed),
            (3, 2, 1)
        );
        assert_eq!(s.polls, 3);

        doomed.abort();
        yield_now().await;
        let s = ember::runtime::stats();
        assert_eq!(
            (s.tasks_spawned, s.tasks_alive, s.tasks_completed),
            (3, 1, 2)
        );

        go.set(true);
        waker.borrow_mut().take().expect("waiting").wake();
        assert_eq!(waiting.await.expect("waiting"), 2);
        assert_eq!(quick.await.expect("quick"), 1);
        assert!(doomed.await.expect_err("aborted").is_cancelled());
        let s = ember::runtime::stats();
        assert_eq!(
            (s.tasks_spawned, s.tasks_alive, s.tasks_completed),
            (3, 0, 3)
        );
    });
}

#[test]
fn a_join_handle_dropped_after_completion_drops_the_output_exactly_once() {
    support::run(support::LIMIT, || async {
        let drops = Rc::new(Cell::new(0));
        let d = drops.clone();
        let h = ember::spawn(async move { DropCount(d) });
        while !h.is_finished() {
            yield_now().await;
        }
        assert_eq!(drops.get(), 0, "the output is kept for the handle");
        drop(h);
        assert_eq!(drops.get(), 1);
        for _ in 0..3 {
            yield_now().await;
        }
        assert_eq!(drops.get(), 1);
    });
}

/// Panics when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("output destructor blew up");
    }
}

/// Regression test for a bug in `Core::complete`: when a detached task
/// completes, its output is dropped by `Task::drop_output` outside any
/// `catch_unwind`, so a panicking destructor unwinds through `run_task` and
/// out of `block_on`. tokio catches it (`Harness::complete`).
#[test]
// Regression: a detached task's output was dropped outside `catch_unwind`,
// so a panicking destructor unwound out of `block_on`.
fn a_panic_in_the_output_destructor_of_a_detached_task_does_not_take_the_runtime_down() {
    let out = support::run(support::LIMIT, || async {
        drop(ember::spawn(async { PanicOnDrop }));
        for _ in 0..3 {
            yield_now().await;
        }
        ember::spawn(async { 5 })
            .await
            .expect("the runtime goes on")
    });
    assert_eq!(out, 5);
}

// Regression: an abort made between two `block_on` calls used to go through
// the remote queue, behind everything else, so the next `block_on` polled its
// future (and returned) before the aborted future was dropped.
#[test]
fn an_abort_between_two_block_on_calls_is_honoured_before_anything_is_polled() {
    use std::cell::Cell;
    use std::rc::Rc;

    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }

    let rt = ember::Runtime::new().unwrap();
    let dropped = Rc::new(Cell::new(false));
    let flag = Flag(dropped.clone());
    let handle = rt.spawn(async move {
        let _flag = flag;
        std::future::pending::<()>().await
    });
    rt.block_on(ember::task::yield_now()); // the task runs and parks
    assert!(!dropped.get());

    handle.abort(); // no runtime is running now
    let seen_first = rt.block_on({
        let dropped = dropped.clone();
        async move { dropped.get() }
    });
    assert!(
        seen_first,
        "the aborted future was still alive when block_on's future ran"
    );
    assert!(handle.is_finished());
    let err = rt.block_on(handle).unwrap_err();
    assert!(err.is_cancelled());
}
