//! Panics in user code that the runtime calls outside a task's `poll` are
//! contained: a waker that panics when the runtime wakes it (a
//! `JoinHandle`'s, at completion or at teardown; a timer's, in a batch; a
//! `JoinSet`'s), and destructors of outputs nobody reads. `block_on` and the
//! runtime's drop return normally, the other tasks and wakes go on, and
//! ember says on stderr, in one line per panic, what it contained.
//!
//! The panics are deliberate: their messages in the test output are
//! expected.
#![cfg(feature = "time")]

mod support;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use ember::time::Instant;

use ember::task::{yield_now, JoinSet};
use ember::time::sleep;

/// A hand-built waker that records its wakes and, if told to, panics when
/// woken.
struct Recording {
    wakes: AtomicUsize,
    panics: bool,
}

impl Recording {
    fn new(panics: bool) -> Arc<Recording> {
        Arc::new(Recording {
            wakes: AtomicUsize::new(0),
            panics,
        })
    }

    fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for Recording {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        if self.panics {
            panic!("a waker that panics when woken (expected by the test)");
        }
    }
}

/// Polls `fut` once with `waker` instead of the task's own.
fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Arc<Recording>) -> Poll<F::Output> {
    let waker = Waker::from(waker.clone());
    Pin::new(fut).poll(&mut Context::from_waker(&waker))
}

/// Yields until `done` holds; the watchdog bounds the wait.
async fn until(done: impl Fn() -> bool) {
    while !done() {
        yield_now().await;
    }
}

/// Sets its flag, then panics, when dropped.
#[derive(Debug)]
struct PanicsOnDrop(Arc<AtomicBool>);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
        panic!("an output's destructor that panics (expected by the test)");
    }
}

#[test]
fn a_join_waker_that_panics_when_its_task_completes_does_not_end_block_on() {
    let out = support::run(support::LIMIT, || async {
        let handle = ember::spawn(async {
            yield_now().await;
            7
        });
        let panicky = Recording::new(true);
        // A task awaits the handle through the panicking waker, then hands
        // it back.
        let waiter = {
            let panicky = panicky.clone();
            let mut handle = Some(handle);
            ember::spawn(poll_fn(move |_| {
                let mut handle = handle.take().expect("polled once");
                assert!(poll_with(&mut handle, &panicky).is_pending());
                Poll::Ready(handle)
            }))
        };
        let mut handle = waiter.await.expect("the waiter ran");
        until(|| handle.is_finished()).await;
        assert_eq!(panicky.wakes(), 1, "the join waker was woken");
        // The runtime goes on: other tasks still run.
        let other = ember::spawn(async {
            yield_now().await;
            "other"
        });
        assert_eq!(other.await.expect("another task runs"), "other");
        (&mut handle).await.expect("the output is intact")
    });
    assert_eq!(out, 7);
}

#[test]
fn a_join_waker_that_panics_at_teardown_does_not_escape_the_runtimes_drop() {
    let wakes = support::within(support::LIMIT, || {
        let rt = ember::Runtime::new().expect("runtime");
        let mut handle = rt.spawn(std::future::pending::<()>());
        let panicky = Recording::new(true);
        let woken_before_drop = rt.block_on(async {
            yield_now().await; // the task runs and parks
            assert!(poll_with(&mut handle, &panicky).is_pending());
            panicky.wakes()
        });
        assert_eq!(woken_before_drop, 0);
        drop(rt); // cancels the task and wakes its join waker
        let err = ember::block_on(handle).expect_err("the task was dropped");
        assert!(err.is_cancelled(), "{err:?}");
        panicky.wakes()
    });
    assert_eq!(wakes, 1, "the join waker was woken at teardown");
}

#[test]
fn an_output_that_panics_when_dropped_with_its_handle_after_the_task_finished_is_contained() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let out = support::run(support::LIMIT, || async move {
        let handle = ember::spawn(async move { PanicsOnDrop(flag) });
        until(|| handle.is_finished()).await;
        drop(handle); // the output is ours to drop, and its destructor panics
        ember::spawn(async { 5 })
            .await
            .expect("the runtime goes on")
    });
    assert_eq!(out, 5);
    assert!(dropped.load(Ordering::SeqCst), "the output was dropped");
}

#[test]
fn an_output_that_panics_when_dropped_after_its_future_panicked_when_dropped_is_contained() {
    // The future returns a value, then its own destructor panics: the task
    // ends in that panic, and the value, which nobody will read, is dropped
    // by the executor.
    struct PanicsWhenDropped;
    impl Drop for PanicsWhenDropped {
        fn drop(&mut self) {
            panic!("a future's destructor that panics (expected by the test)");
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let err = support::run(support::LIMIT, || async move {
        let guard = PanicsWhenDropped;
        let mut output = Some(PanicsOnDrop(flag));
        let handle = ember::spawn(poll_fn(move |_| {
            let _ = &guard; // owned by the future
            Poll::Ready(output.take().expect("polled once"))
        }));
        let err = handle.await.expect_err("the future's destructor panicked");
        assert_eq!(ember::spawn(async { 1 }).await.ok(), Some(1));
        err.to_string()
    });
    assert!(err.contains("a future's destructor that panics"), "{err}");
    assert!(dropped.load(Ordering::SeqCst), "the output was dropped");
}

#[test]
fn a_timer_waker_that_panics_does_not_cost_the_others_of_its_batch_their_wake() {
    let (panicky, recording) = support::run(support::LIMIT, || async {
        let panicky = Recording::new(true);
        let recording = Recording::new(false);
        // Armed far away, so surely pending when polled ...
        let mut first = sleep(Duration::from_secs(3600));
        let mut second = sleep(Duration::from_secs(3600));
        assert!(poll_with(&mut first, &panicky).is_pending());
        assert!(poll_with(&mut second, &recording).is_pending());
        // ... then moved to one past deadline: they fire in one batch, in
        // the order they were re-armed, so the panicking waker comes first.
        let past = Instant::now();
        Pin::new(&mut first).reset(past);
        Pin::new(&mut second).reset(past);
        // Due later than both: woken by the batch that fires them, or by
        // a later one.
        sleep(Duration::from_millis(1)).await;
        drop((first, second));
        // The runtime goes on with timers too.
        sleep(Duration::from_millis(1)).await;
        (panicky.wakes(), recording.wakes())
    });
    assert_eq!(panicky, 1, "the panicking waker was woken");
    assert_eq!(recording, 1, "the waker after it in the batch was woken");
}

#[test]
fn a_join_set_polled_through_a_panicking_waker_still_gives_the_tasks_output() {
    let (out, wakes) = support::run(support::LIMIT, || async {
        let mut set = JoinSet::new();
        set.spawn(async {
            yield_now().await;
            3
        });
        let panicky = Recording::new(true);
        let pending = poll_fn(|_| {
            let waker = Waker::from(panicky.clone());
            Poll::Ready(set.poll_join_next(&mut Context::from_waker(&waker)))
        })
        .await;
        assert!(pending.is_pending());
        until(|| panicky.wakes() > 0).await;
        let out = set.join_next().await.expect("one task");
        (
            out.expect("the output, not the waker's panic"),
            panicky.wakes(),
        )
    });
    assert_eq!((out, wakes), (3, 1));
}

#[test]
fn each_contained_panic_is_reported_in_one_line_on_stderr() {
    const NAME: &str = "each_contained_panic_is_reported_in_one_line_on_stderr";
    if support::is_child() {
        support::run(support::LIMIT, || async {
            let panicky = Recording::new(true);
            let mut handle = ember::spawn(yield_now());
            assert!(poll_with(&mut handle, &panicky).is_pending());
            until(|| panicky.wakes() > 0).await;
            let flag = Arc::new(AtomicBool::new(false));
            let handle = ember::spawn(async move { PanicsOnDrop(flag) });
            until(|| handle.is_finished()).await;
        });
        println!("child done");
        return;
    }
    let out = support::run_in_child(NAME, support::LIMIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("child done"),
        "the child failed: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("ember: "))
        .collect();
    assert_eq!(
        ours,
        [
            "ember: a waker panicked when woken; the panic was caught and the runtime goes on",
            "ember: the drop of a task's output panicked; the panic was caught and the runtime goes on",
        ],
        "stderr:\n{stderr}"
    );
}
