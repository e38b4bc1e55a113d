//! Containment: the one place where ember calls user code whose panic must
//! not escape the loop.
//!
//! A task's `poll` is caught where the task runs (`runtime/task.rs`) and its
//! panic becomes the task's `JoinError`. Other user code has nobody to hand
//! a panic to: a waker the runtime wakes (a `JoinHandle`'s, a timer's, an
//! I/O waiter's), the destructor of an output nobody will read, of a waker,
//! of a job that will never run. Such a panic unwinding through the loop
//! would end `block_on` for a fault in one task, and during a runtime's drop
//! (inside a thread-local's destructor, or while already unwinding) it
//! would abort the process. So those calls go through [`call`], [`wake`] or
//! [`wake_all`]: the panic is caught, one line on stderr says it was
//! contained (the panic hook has already printed the panic itself), and the
//! loop goes on.
//!
//! Relies on nothing but `catch_unwind`; holds no state. Called by the
//! executor (`runtime/core.rs`, `runtime/task.rs`, `runtime/join.rs`), the
//! blocking pool, `JoinSet` and `signal`; meant for the reactor's dispatch
//! too.
//!
//! Production note: tokio catches the same things (`Harness::complete`
//! wraps the join waker's wake and the output's drop in `catch_unwind`),
//! but says nothing; ember names what panicked, so a contained panic is not
//! mistaken for one that ended a task.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Waker;

/// Wakes `waker`, containing a panic of its `wake` or of its drop (both
/// are user code for a hand-made waker).
pub(crate) fn wake(waker: Waker) {
    // `wake` consumes the waker, so its drop is inside the catch too.
    if catch(move || waker.wake()).is_none() {
        report(format_args!("a waker panicked when woken"));
    }
}

/// Wakes every waker in `wakers`, leaving it empty (its capacity kept). A
/// waker that panics costs the others nothing: each is woken through
/// [`wake`].
// Called by `signal` (and, to come, the reactor's dispatch).
#[inline]
pub(crate) fn wake_all(wakers: &mut Vec<Waker>) {
    // The common case on the sync primitives' fast paths: nobody to wake.
    if wakers.is_empty() {
        return;
    }
    for waker in wakers.drain(..) {
        wake(waker);
    }
}

/// Runs `f`, containing its panic: `None` if it panicked. `what` names the
/// user code for the report, as in "the drop of a task's output".
pub(crate) fn call<R>(what: &str, f: impl FnOnce() -> R) -> Option<R> {
    let r = catch(f);
    if r.is_none() {
        report(format_args!("{what} panicked"));
    }
    r
}

/// `f`'s value, or `None` if it panicked. The panic's payload is user data
/// too, with a destructor of its own: it is dropped inside a catch as well.
fn catch<R>(f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(payload) => {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            None
        }
    }
}

/// One line on stderr per contained panic. `eprintln!` (so a test harness
/// captures it, as it does the panic hook's message) inside a catch of its
/// own: it panics if stderr is gone, and that must not undo the
/// containment.
fn report(what: std::fmt::Arguments<'_>) {
    let _ = catch_unwind(|| {
        eprintln!("ember: {what}; the panic was caught and the runtime goes on");
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// Counts its wakes; panics on the first one if told to.
    struct Counting {
        wakes: AtomicUsize,
        panics: bool,
    }

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.wakes.fetch_add(1, Ordering::SeqCst);
            if self.panics {
                panic!("a waker that panics (expected by the test)");
            }
        }
    }

    fn counting(panics: bool) -> Arc<Counting> {
        Arc::new(Counting {
            wakes: AtomicUsize::new(0),
            panics,
        })
    }

    #[test]
    fn a_panicking_waker_costs_the_others_their_wake_nothing() {
        let (a, bad, b) = (counting(false), counting(true), counting(false));
        let mut wakers = vec![
            Waker::from(a.clone()),
            Waker::from(bad.clone()),
            Waker::from(b.clone()),
        ];
        wake_all(&mut wakers);
        assert!(wakers.is_empty());
        for w in [&a, &bad, &b] {
            assert_eq!(w.wakes.load(Ordering::SeqCst), 1);
        }
        // Every waker was consumed, the panicking one included.
        assert_eq!(Arc::strong_count(&bad), 1);
    }

    #[test]
    fn call_gives_the_value_or_none_after_a_panic() {
        assert_eq!(call("a closure", || 7), Some(7));
        assert_eq!(
            call("a closure", || -> u8 { panic!("expected by the test") }),
            None
        );
    }
}
