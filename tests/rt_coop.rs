//! The cooperative budget (`src/runtime/coop.rs`): a task whose every
//! `.await` is ready at once (an in-memory copy, a channel that is never
//! empty, `lines()` over an endless source, a CPU-bound loop that calls
//! `consume_budget`) still yields, so timers and the other tasks run; a
//! task that polls many pending operations does not spin; and code polled
//! outside any ember task is never throttled.
//!
//! The starvation tests would hang without the budget: each runs under the
//! `support::run` watchdog, and none asserts how fast anything happens.
#![cfg(all(feature = "io-util", feature = "time", feature = "sync"))]

mod support;

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ember::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader};
use ember::sync::{mpsc, oneshot};
use ember::task::{consume_budget, JoinSet};
use ember::time::{sleep, timeout};
use support::LIMIT;

/// A reader that fills any buffer at once, forever (or for `left` reads),
/// repeating `pattern`: an always-ready in-memory source.
struct Endless {
    pattern: &'static [u8],
    /// Where in `pattern` the next read starts.
    at: usize,
    /// Reads left before end of stream; `None` for never.
    left: Option<u64>,
}

impl Endless {
    fn bytes() -> Endless {
        Endless {
            pattern: &[b'x'; 4096],
            at: 0,
            left: None,
        }
    }

    fn lines() -> Endless {
        Endless {
            pattern: b"a line\n",
            at: 0,
            left: None,
        }
    }
}

impl AsyncRead for Endless {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.left {
            Some(0) => return Poll::Ready(Ok(0)),
            Some(left) => *left -= 1,
            None => {}
        }
        // Whole slices of the pattern at a time: a debug build copying
        // byte by byte would make each test take seconds.
        let mut filled = 0;
        while filled < buf.len() {
            let rest = &self.pattern[self.at..];
            let n = rest.len().min(buf.len() - filled);
            buf[filled..filled + n].copy_from_slice(&rest[..n]);
            filled += n;
            self.at = (self.at + n) % self.pattern.len();
        }
        Poll::Ready(Ok(buf.len()))
    }
}

/// A writer that takes every byte at once and counts them: an
/// always-ready in-memory sink.
struct CountingSink(Rc<Cell<u64>>);

impl AsyncWrite for CountingSink {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.set(self.0.get() + buf.len() as u64);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Lets the main future sleep 20 ms beside a task whose progress `count`
/// measures, then checks that the task has made progress and still makes
/// some: it is queued before the main future, which yields once.
async fn sleep_beside(count: Rc<Cell<u64>>) {
    sleep(Duration::from_millis(20)).await;
    let seen = count.get();
    assert!(seen > 0, "the always-ready task never ran");
    ember::task::yield_now().await;
    assert!(count.get() > seen, "the always-ready task stopped running");
}

#[test]
fn an_endless_in_memory_copy_lets_a_sleep_in_the_main_future_end() {
    support::run(LIMIT, || async {
        let copied = Rc::new(Cell::new(0));
        let mut sink = CountingSink(copied.clone());
        let copy = ember::spawn(async move {
            let mut source = Endless::bytes();
            ember::io::copy(&mut source, &mut sink).await
        });
        sleep_beside(copied).await;
        assert!(!copy.is_finished(), "an endless copy cannot finish");
    });
}

#[test]
fn an_endless_copy_buf_lets_a_sleep_in_the_main_future_end() {
    support::run(LIMIT, || async {
        let copied = Rc::new(Cell::new(0));
        let mut sink = CountingSink(copied.clone());
        let copy = ember::spawn(async move {
            let mut source = BufReader::new(Endless::bytes());
            ember::io::copy_buf(&mut source, &mut sink).await
        });
        sleep_beside(copied).await;
        assert!(!copy.is_finished(), "an endless copy cannot finish");
    });
}

#[test]
fn lines_over_an_endless_in_memory_source_let_a_sleep_in_the_main_future_end() {
    support::run(LIMIT, || async {
        let lines_read = Rc::new(Cell::new(0));
        let count = lines_read.clone();
        let reader = ember::spawn(async move {
            let mut lines = BufReader::new(Endless::lines()).lines();
            while let Some(line) = lines.next_line().await? {
                assert_eq!(line, "a line");
                count.set(count.get() + 1);
            }
            io::Result::Ok(())
        });
        sleep_beside(lines_read).await;
        assert!(!reader.is_finished(), "endless lines cannot end");
    });
}

#[test]
fn a_task_that_feeds_its_own_channel_lets_a_sleep_in_the_main_future_end() {
    support::run(LIMIT, || async {
        let received = Rc::new(Cell::new(0));
        let count = received.clone();
        // A bounded send that always finds room and a receive that always
        // finds a message: neither ever waits.
        let echo = ember::spawn(async move {
            let (tx, mut rx) = mpsc::channel(1);
            loop {
                tx.send(1u64).await.expect("receiver alive");
                let n = rx.recv().await.expect("sender alive");
                count.set(count.get() + n);
            }
        });
        sleep_beside(received).await;
        assert!(!echo.is_finished());
    });
}

#[test]
fn consume_budget_in_a_cpu_bound_loop_lets_a_sleeping_task_run() {
    support::run(LIMIT, || async {
        let woke = Rc::new(Cell::new(false));
        let w = woke.clone();
        ember::spawn(async move {
            sleep(Duration::from_millis(20)).await;
            w.set(true);
        });
        let mut steps = 0u64;
        // Never awaits anything but `consume_budget`: without it, the loop
        // would spin for ever and the sleeper would never run.
        while !woke.get() {
            steps = std::hint::black_box(steps + 1);
            consume_budget().await;
        }
        assert!(steps > 0);
    });
}

#[test]
fn a_timeout_around_an_always_ready_copy_still_fires() {
    support::run(LIMIT, || async {
        let copied = Rc::new(Cell::new(0));
        let mut sink = CountingSink(copied.clone());
        let mut source = Endless::bytes();
        let copy = ember::io::copy(&mut source, &mut sink);
        // The copy spends every budget it gets; the deadline is looked at
        // all the same.
        let r = timeout(Duration::from_millis(20), copy).await;
        assert!(r.is_err(), "an endless copy cannot finish");
        assert!(copied.get() > 0);
    });
}

/// Polls every receiver of `rxs` each time it is polled, until all have
/// completed; counts its own polls.
async fn wait_for_all(rxs: Vec<oneshot::Receiver<()>>, polls: &Cell<u32>) {
    let mut rxs: Vec<Option<oneshot::Receiver<()>>> = rxs.into_iter().map(Some).collect();
    poll_fn(|cx| {
        polls.set(polls.get() + 1);
        for slot in &mut rxs {
            if let Some(rx) = slot {
                if Pin::new(rx).poll(cx).is_ready() {
                    *slot = None;
                }
            }
        }
        if rxs.iter().all(Option::is_none) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

#[test]
fn a_task_polling_many_pending_receivers_waits_instead_of_spinning() {
    support::run(LIMIT, || async {
        const N: usize = 300;
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..N).map(|_| oneshot::channel::<()>()).unzip();
        ember::spawn(async move {
            sleep(Duration::from_millis(20)).await;
            for tx in txs {
                let _ = tx.send(());
            }
        });
        let polls = Cell::new(0);
        wait_for_all(rxs, &polls).await;
        // A receiver that waits gives its unit back, so the 300 pending
        // polls never spend the budget: one poll to start waiting, then a
        // few (N / 128 and change) once the values are in. Were waiting
        // charged, the task would wake itself at every poll and spin for
        // the 20 ms.
        assert!(polls.get() < 20, "{} polls", polls.get());
    });
}

#[test]
fn a_join_handle_of_a_finished_task_costs_a_unit_of_budget() {
    support::run(LIMIT, || async {
        let handles: Vec<_> = (0..200).map(|i| ember::spawn(async move { i })).collect();
        ember::task::yield_now().await; // every task runs and finishes
        let polls = Cell::new(0u32);
        let mut handles: Vec<_> = handles.into_iter().map(Some).collect();
        let mut sum = 0;
        poll_fn(|cx| {
            polls.set(polls.get() + 1);
            for slot in &mut handles {
                if let Some(h) = slot {
                    if let Poll::Ready(v) = Pin::new(h).poll(cx) {
                        sum += v.expect("no panic");
                        *slot = None;
                    }
                }
            }
            if handles.iter().all(Option::is_none) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        assert_eq!(sum, (0..200).sum::<i32>());
        assert!(polls.get() >= 2, "200 finished handles read in one poll");
    });
}

#[test]
fn try_join_next_finds_a_finished_task_even_with_the_budget_spent() {
    support::run(LIMIT, || async {
        let mut set = JoinSet::new();
        set.spawn(async { 7 });
        ember::task::yield_now().await; // the task runs and finishes
                                        // Spend the whole budget without yielding (128 units per poll).
        for _ in 0..128 {
            consume_budget().await;
        }
        assert_eq!(set.try_join_next().map(|r| r.ok()), Some(Some(7)));
    });
}

/// Polls `fut` once on this thread, with a waker that does nothing.
fn poll_once_here<F: Future>(fut: F) -> Poll<F::Output> {
    pin!(fut).poll(&mut Context::from_waker(Waker::noop()))
}

/// A copy of 1,000 reads (far past one budget of 128), polled once.
fn copy_a_thousand_reads_in_one_poll() -> Poll<io::Result<u64>> {
    let copied = Rc::new(Cell::new(0));
    let mut sink = CountingSink(copied.clone());
    let mut source = Endless {
        pattern: &[b'y'; 4096],
        at: 0,
        left: Some(1_000),
    };
    let r = poll_once_here(ember::io::copy(&mut source, &mut sink));
    if let Poll::Ready(Ok(n)) = &r {
        assert_eq!(source.left, Some(0), "every read was made");
        assert_eq!(*n, copied.get());
    }
    r
}

#[test]
fn code_polled_outside_any_runtime_task_is_never_throttled() {
    // No runtime on this thread: nobody would give a fresh budget, so
    // nothing may be refused.
    assert!(matches!(
        copy_a_thousand_reads_in_one_poll(),
        Poll::Ready(Ok(_))
    ));
    for _ in 0..1_000 {
        assert!(poll_once_here(consume_budget()).is_ready());
    }
    // Nor after a runtime has run on the thread and returned.
    ember::block_on(async {
        for _ in 0..100 {
            consume_budget().await;
        }
    });
    assert!(matches!(
        copy_a_thousand_reads_in_one_poll(),
        Poll::Ready(Ok(_))
    ));
}

#[test]
fn a_panic_out_of_block_on_leaves_no_budget_behind() {
    let panicked = std::panic::catch_unwind(|| {
        ember::block_on(async {
            for _ in 0..100 {
                consume_budget().await;
            }
            panic!("the main future panics with most of its budget spent");
        })
    });
    assert!(panicked.is_err());
    assert!(matches!(
        copy_a_thousand_reads_in_one_poll(),
        Poll::Ready(Ok(_))
    ));
}
