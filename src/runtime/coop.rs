//! The cooperative budget: how many operations the code being polled may
//! complete before it has to yield to the other tasks.
//!
//! A task whose every `.await` is ready at once (a copy between two
//! in-memory buffers, a channel whose producer never falls behind, a
//! socket that is always readable) would never return `Pending`, and on a
//! single thread nothing else would ever run again. So the executor gives
//! each poll of a task, and of the `block_on` future, a budget of
//! [`INITIAL`] units (128, tokio's figure), and every operation that can
//! complete without waiting takes one unit through [`poll_proceed`]. When
//! none is left, the operation wakes its task and returns `Pending`
//! instead of completing: the task goes to the back of the run queue, and
//! its next poll starts with a fresh budget.
//!
//! | who | calls | when |
//! | --- | --- | --- |
//! | executor (`Task::run`, `Runtime::block_on`) | [`start_poll`], [`end_poll`] | around each poll ([`EndPollOnDrop`] for a panic out of `block_on`) |
//! | leaf operations (`sync`, `io`'s copies and buffered reads, `time`, `JoinHandle`, the reactor's registrations once merged) | [`poll_proceed`], [`refund`] | each time they could complete |
//! | `Timeout`, `JoinSet::try_join_next` | [`has_budget_remaining`], [`with_unconstrained`] | so a deadline or a non-waiting check is never refused |
//! | user code | `task::consume_budget()` | in a CPU-bound loop |
//!
//! # Only progress is charged
//! A unit pays for an operation that completes. One that finds nothing to
//! do (and will return `Pending` anyway, its waker stored) must not keep
//! the unit: a task that polls two hundred pending timers in one poll
//! would otherwise find its budget spent, wake itself, and spin. So an
//! operation either checks the budget on the branch where it is about to
//! complete, or takes a unit first and gives it back with [`refund`] when
//! it ends up `Pending`. (tokio's `RestoreOnPending` guard does the same.)
//!
//! # Why a thread-local, and why unconstrained outside a poll
//! The budget belongs to whatever the executor is polling right now, and
//! any leaf, however deep, must reach it without a handle passed down: the
//! thread is the only context there is. The `thread_local!` is
//! `const`-initialised and holds a `Cell` of a `Copy` type, so it has no
//! destructor and no lazy initialisation: each access is a plain load or
//! store at a fixed offset from the thread pointer, and it stays usable
//! during thread teardown. Outside a poll (before, after, or on a thread
//! with no runtime) the budget is *unconstrained*: code polled by another
//! executor, or by `blocking_recv` on a plain thread, never has an
//! operation refused, since nobody would give it a fresh budget and it
//! would spin.
//!
//! Invariant: the budget is unconstrained whenever the executor is not
//! inside a poll; [`start_poll`] and [`end_poll`] are its only writers
//! apart from the operations that take and refund units during a poll.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Units each poll starts with (tokio uses the same figure).
pub(crate) const INITIAL: u8 = 128;
const _: () = assert!(INITIAL < u8::MAX, "the sentinel must stay out of reach");

/// Units left to the code being polled, or [`UNCONSTRAINED`](Budget::UNCONSTRAINED).
///
/// A plain byte rather than an `Option<u8>`: the check on every operation
/// is then one load, one compare against zero, and (inside a poll) one
/// store of the decrement, with the sentinel never decremented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget(u8);

impl Budget {
    /// Outside a poll: nothing is ever refused. Larger than [`INITIAL`],
    /// so no count of units left can be mistaken for it.
    const UNCONSTRAINED: Budget = Budget(u8::MAX);
}

thread_local! {
    static BUDGET: Cell<Budget> = const { Cell::new(Budget::UNCONSTRAINED) };
}

/// Gives the code about to be polled a fresh budget. Called by the executor
/// right before it polls a task or the `block_on` future: one store.
#[inline]
pub(crate) fn start_poll() {
    BUDGET.set(Budget(INITIAL));
}

/// Makes the budget unconstrained again. Called by the executor right
/// after each poll (and when a panic leaves `block_on`): one store.
#[inline]
pub(crate) fn end_poll() {
    BUDGET.set(Budget::UNCONSTRAINED);
}

/// Makes the budget unconstrained when dropped: `block_on` holds one, so
/// that a panic out of its future (which skips [`end_poll`]) leaves no
/// budget behind for whatever the thread polls next. (A task's panic is
/// caught inside `Task::run`, which then calls `end_poll` as usual.)
#[derive(Debug)]
pub(crate) struct EndPollOnDrop;

impl Drop for EndPollOnDrop {
    fn drop(&mut self) {
        end_poll();
    }
}

/// Takes one unit. `Ready` if there was one (or the budget is
/// unconstrained); otherwise wakes `cx`'s task and returns `Pending`, so
/// that the caller returns `Pending` too and the task yields. A caller that
/// got `Ready` and then finds nothing to do gives the unit back with
/// [`refund`].
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    match BUDGET.get() {
        Budget(0) => exhausted(cx),
        Budget::UNCONSTRAINED => Poll::Ready(()),
        Budget(left) => {
            BUDGET.set(Budget(left - 1));
            Poll::Ready(())
        }
    }
}

/// The rare path of [`poll_proceed`], kept out of line so that the common
/// one inlines into every caller as a load, a compare and a store.
#[cold]
#[inline(never)]
fn exhausted(cx: &mut Context<'_>) -> Poll<()> {
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// Gives back the unit that [`poll_proceed`] just took, for an operation
/// that then returned `Pending`: only progress is charged (see the module
/// docs). Does nothing when the budget is unconstrained.
#[cfg_attr(not(any(feature = "sync", feature = "io-util")), allow(dead_code))]
#[inline]
pub(crate) fn refund() {
    let Budget(left) = BUDGET.get();
    if left < INITIAL {
        BUDGET.set(Budget(left + 1));
    }
}

/// Whether [`poll_proceed`] would give a unit now (always true outside a
/// poll).
#[cfg_attr(not(feature = "time"), allow(dead_code))]
#[inline]
pub(crate) fn has_budget_remaining() -> bool {
    BUDGET.get() != Budget(0)
}

/// Runs `f` with an unconstrained budget, then puts back the budget it
/// found. For checks that must never be refused: a `Timeout`'s deadline
/// after its inner future spent the budget, `try_join_next` (which cannot
/// yield). A panic out of `f` leaves the budget unconstrained, which the
/// executor's [`end_poll`] would make it anyway.
#[inline]
pub(crate) fn with_unconstrained<R>(f: impl FnOnce() -> R) -> R {
    let saved = BUDGET.replace(Budget::UNCONSTRAINED);
    let out = f();
    BUDGET.set(saved);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn take(n: usize) -> usize {
        let mut cx = Context::from_waker(Waker::noop());
        (0..n)
            .take_while(|_| poll_proceed(&mut cx).is_ready())
            .count()
    }

    #[test]
    fn outside_a_poll_nothing_is_ever_refused() {
        end_poll();
        assert_eq!(take(10_000), 10_000);
        assert!(has_budget_remaining());
    }

    #[test]
    fn a_poll_gets_128_units_then_is_refused_until_the_next_poll() {
        start_poll();
        assert_eq!(take(1_000), usize::from(INITIAL));
        assert!(!has_budget_remaining());
        start_poll();
        assert!(has_budget_remaining());
        assert_eq!(take(1), 1);
        end_poll();
    }

    #[test]
    fn a_refunded_unit_can_be_taken_again() {
        start_poll();
        assert_eq!(take(usize::from(INITIAL)), usize::from(INITIAL));
        refund();
        assert_eq!(take(10), 1);
        end_poll();
        refund();
        assert!(has_budget_remaining());
    }

    #[test]
    fn with_unconstrained_lifts_the_budget_and_puts_it_back() {
        start_poll();
        take(usize::from(INITIAL));
        assert_eq!(with_unconstrained(|| take(500)), 500);
        assert!(!has_budget_remaining());
        end_poll();
    }
}
