//! `ember::join!` and `ember::select!`: outputs and their order, real
//! concurrency, losers dropped before the handler (observed through
//! `Drop`), fairness and `biased;`, patterns that disable a branch, `if`
//! conditions, `else`, control flow in handlers, and the small futures.
#![cfg(feature = "sync")]

mod support;

use std::cell::Cell;
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll};

use ember::future::{pending, poll_fn, ready};
use ember::sync::oneshot;
use ember::task::yield_now;

/// Sets its flag when dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// A future that never completes and sets `flag` when dropped.
fn never(flag: &Rc<Cell<bool>>) -> impl Future<Output = u32> {
    let guard = DropFlag(flag.clone());
    async move {
        let _guard = guard;
        pending::<u32>().await
    }
}

/// Ready at once, every time: the worst case for fairness.
struct AlwaysReady;

impl Future for AlwaysReady {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

#[test]
fn join_returns_every_output_in_the_order_written() {
    support::run(support::LIMIT, || async {
        let (a, b, c) = ember::join!(
            async {
                yield_now().await;
                yield_now().await;
                1u8
            },
            ready("two"),
            async {
                yield_now().await;
                3.0f64
            },
        );
        assert_eq!((a, b, c), (1, "two", 3.0));
    });
}

#[test]
fn join_runs_its_futures_concurrently() {
    support::run(support::LIMIT, || async {
        // Run one after the other, the first would wait forever for the
        // second; only concurrent polling completes this.
        let (tx, rx) = oneshot::channel();
        let (got, ()) = ember::join!(async { rx.await.unwrap() }, async {
            yield_now().await;
            tx.send(5).unwrap();
        });
        assert_eq!(got, 5);
    });
}

#[test]
fn join_takes_any_number_of_futures_including_none() {
    support::run(support::LIMIT, || async {
        let () = ember::join!();
        let (one,) = ember::join!(ready(1));
        let t = ember::future::join!(
            ready(0),
            ready(1),
            ready(2),
            ready(3),
            ready(4),
            ready(5),
            ready(6),
            ready(7),
            ready(8),
            ready(9),
            ready(10),
            ready(11),
            ready(12),
            ready(13)
        );
        assert_eq!(one, 1);
        assert_eq!(t.13, 13);
        assert_eq!(t.0 + t.7, 7);
    });
}

#[test]
fn join_drops_each_future_as_soon_as_it_finishes() {
    support::run(support::LIMIT, || async {
        let early = Rc::new(Cell::new(false));
        let guard = DropFlag(early.clone());
        let seen = early.clone();
        ember::join!(
            async move {
                let _guard = guard;
            },
            async move {
                yield_now().await;
                assert!(seen.get(), "the finished branch was dropped already");
            },
        );
    });
}

#[test]
fn select_drops_the_losers_before_the_winner_handler_runs() {
    support::run(support::LIMIT, || async {
        let a = Rc::new(Cell::new(false));
        let b = Rc::new(Cell::new(false));
        let out = ember::select! {
            v = never(&a) => v,
            v = never(&b) => v,
            v = async { yield_now().await; 42 } => {
                assert!(a.get() && b.get(), "losers dropped before the handler");
                v
            }
        };
        assert_eq!(out, 42);
    });
}

#[test]
fn select_starts_at_a_random_branch_so_no_ready_branch_starves() {
    support::run(support::LIMIT, || async {
        let mut wins = [0u32; 3];
        for _ in 0..3000 {
            let i = ember::select! {
                () = AlwaysReady => 0,
                () = AlwaysReady => 1,
                () = AlwaysReady => 2,
            };
            wins[i] += 1;
        }
        assert!(wins.iter().all(|&w| w > 700), "unfair: {wins:?}");
    });
}

#[test]
fn biased_select_polls_the_branches_in_the_order_written() {
    support::run(support::LIMIT, || async {
        for _ in 0..100 {
            let i = ember::select! {
                biased;
                () = AlwaysReady => 0,
                () = AlwaysReady => 1,
            };
            assert_eq!(i, 0);
        }
    });
}

#[test]
fn a_branch_whose_output_does_not_match_is_disabled_and_the_others_go_on() {
    support::run(support::LIMIT, || async {
        let out = ember::select! {
            biased;
            Some(v) = ready(None::<u32>) => v,
            v = async { yield_now().await; 9 } => v + 1,
        };
        assert_eq!(out, 10);
    });
}

#[test]
fn else_runs_when_every_branch_is_disabled() {
    support::run(support::LIMIT, || async {
        let closed = false;
        let out = ember::select! {
            Some(v) = ready(None::<u32>) => v,
            v = ready(1u32), if closed => v,
            else => 99,
        };
        assert_eq!(out, 99);
    });
}

#[test]
#[should_panic(expected = "all branches of `select!` are disabled")]
fn select_without_else_panics_when_every_branch_is_disabled() {
    ember::block_on(async {
        ember::select! {
            Some(v) = ready(None::<u32>) => v,
        }
    });
}

#[test]
fn a_false_condition_keeps_a_ready_branch_from_winning() {
    support::run(support::LIMIT, || async {
        for _ in 0..50 {
            let enabled = false;
            let out = ember::select! {
                v = ready("disabled"), if enabled => v,
                v = async { yield_now().await; "enabled" } => v,
            };
            assert_eq!(out, "enabled");
        }
    });
}

#[test]
fn handlers_may_break_continue_return_and_use_question_mark() {
    async fn first_even(values: &[u32]) -> Result<u32, String> {
        let mut i = 0;
        loop {
            let v = ember::select! {
                v = ready(values.get(i).copied()) => v.ok_or("ran out")?,
            };
            i += 1;
            if v % 2 == 1 {
                continue;
            }
            return Ok(v);
        }
    }
    support::run(support::LIMIT, || async {
        assert_eq!(first_even(&[1, 3, 4, 5]).await, Ok(4));
        assert_eq!(first_even(&[1, 3]).await, Err("ran out".to_string()));
        let mut n = 0;
        loop {
            ember::select! {
                () = yield_now() => {
                    n += 1;
                    if n == 3 {
                        break;
                    }
                }
            }
        }
        assert_eq!(n, 3);
    });
}

#[test]
fn a_handler_may_use_what_its_future_borrowed() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = ember::sync::mpsc::unbounded_channel::<u32>();
        tx.send(1).unwrap();
        ember::select! {
            Some(v) = rx.recv() => {
                // `rx.recv()` borrowed `rx` mutably; it is gone by now.
                rx.close();
                assert_eq!(v, 1);
            }
        }
        assert!(tx.is_closed());
    });
}

#[test]
fn a_future_pinned_outside_the_loop_keeps_its_progress_across_selects() {
    support::run(support::LIMIT, || async {
        let polls = Cell::new(0u32);
        let mut slow = pin!(async {
            for _ in 0..5 {
                polls.set(polls.get() + 1);
                yield_now().await;
            }
            "slow done"
        });
        let mut ticks = 0;
        let out = loop {
            ember::select! {
                biased;
                v = &mut slow => break v,
                () = yield_now() => ticks += 1,
            }
        };
        assert_eq!(out, "slow done");
        assert_eq!(polls.get(), 5, "the slow future never started over");
        assert!(ticks >= 1, "the other branch won in between");
    });
}

#[test]
fn poll_fn_pending_and_ready_are_the_standard_ones() {
    support::run(support::LIMIT, || async {
        let mut polled = 0;
        let v = poll_fn(|cx| {
            polled += 1;
            if polled < 3 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(polled)
            }
        })
        .await;
        assert_eq!(v, 3);
        assert_eq!(ready(4).await, 4);
        let out = ember::select! {
            () = pending() => 0,
            v = ready(8) => v,
        };
        assert_eq!(out, 8);
    });
}

/// A branch that records each poll in `log` under `name`, and is ready at
/// its `polls`-th poll (waking itself before that).
async fn logged(name: char, polls: usize, log: &std::cell::RefCell<Vec<char>>) -> char {
    let mut n = 0;
    std::future::poll_fn(|cx| {
        log.borrow_mut().push(name);
        n += 1;
        if n == polls {
            std::task::Poll::Ready(name)
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

#[test]
fn join_starts_each_wake_at_the_next_branch_in_turn() {
    support::run(support::LIMIT, || async {
        let log = std::cell::RefCell::new(Vec::new());
        let out = ember::join!(
            logged('a', 3, &log),
            logged('b', 3, &log),
            logged('c', 3, &log)
        );
        assert_eq!(out, ('a', 'b', 'c'));
        let order: String = log.borrow().iter().collect();
        assert_eq!(order, "abcbcacab");
    });
}

#[test]
fn a_biased_join_polls_in_the_order_written_every_time() {
    support::run(support::LIMIT, || async {
        let log = std::cell::RefCell::new(Vec::new());
        let out = ember::join!(biased; logged('a', 2, &log), logged('b', 2, &log));
        assert_eq!(out, ('a', 'b'));
        let order: String = log.borrow().iter().collect();
        assert_eq!(order, "abab");
    });
}

#[test]
fn try_join_gives_every_value_or_the_first_error_and_drops_the_rest() {
    support::run(support::LIMIT, || async {
        let ok: Result<(u8, char), &str> = ember::try_join!(async { Ok(1) }, async { Ok('x') });
        assert_eq!(ok, Ok((1, 'x')));

        struct Flag<'a>(&'a std::cell::Cell<bool>);
        impl Drop for Flag<'_> {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let dropped = std::cell::Cell::new(false);
        let err: Result<((), u8), &str> = ember::try_join!(
            async {
                let _flag = Flag(&dropped);
                std::future::pending::<Result<(), &str>>().await
            },
            async {
                ember::task::yield_now().await;
                Err("second failed")
            },
        );
        assert_eq!(err, Err("second failed"));
        assert!(dropped.get(), "the pending branch was dropped");
        let empty: Result<(), ()> = ember::try_join!();
        assert_eq!(empty, Ok(()));
    });
}

#[test]
fn pin_is_std_pin_reexported() {
    support::run(support::LIMIT, || async {
        let mut fut = ember::pin!(async { 5 });
        assert_eq!(fut.as_mut().await, 5);
    });
}
