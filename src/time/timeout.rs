//! `Timeout`: a future raced against a deadline, and its error, `Elapsed`.
//!
//! Built from two parts: the user's future and a [`Sleep`]. Called by user
//! code around any `.await` (reads, connects, whole exchanges). Relies on
//! `Sleep` being armed lazily: a future that is ready at its first poll never
//! touches the timer store, and one that finishes in time costs one insert
//! and one remove, with no syscall.
//!
//! Key invariant: the inner future is polled before the deadline is looked
//! at, so a result that is ready wins over a deadline that has just passed.
//! And the deadline is always looked at: if the inner future spent the
//! task's cooperative budget, the `Sleep` is polled unconstrained (as in
//! tokio), so a future that is always ready still times out.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::sleep::{sleep_until, Sleep};
use super::Instant;
use crate::runtime::coop;

/// Runs `future`, giving up once `duration` has elapsed.
///
/// The output is `Ok` with the future's output if it finishes in time, or
/// `Err(Elapsed)` at the deadline (never before), in which case the future
/// is dropped when the `Timeout` is. The future is polled before the
/// deadline is checked, so `timeout(Duration::ZERO, fut)` still gives `Ok`
/// if `fut` is ready at once. `Duration::MAX` means "no deadline".
///
/// A `duration` of 100 ms or more counts from the first poll that finds
/// `future` pending (the same instant, for `timeout(d, fut).await`), not
/// from this call as in tokio: the timer then reads no clock of its own
/// (see `docs/architecture.md`, "Timers"). It may end later than `duration`
/// by about the rest of the loop's turn, never earlier. So a test that
/// makes such a timeout, moves a paused clock ([`advance`](super::advance))
/// and only then awaits it sees it end `duration` after that first poll.
///
/// # Cancel safety
/// As cancel safe as `future`: dropping the `Timeout` (or reaching the
/// deadline) drops `future` with whatever that loses, and cancels the
/// timer. For instance, a timed-out `read` loses no byte, and the stream
/// stays usable.
///
/// # Panics
/// The returned future panics if it is polled outside an ember runtime
/// while `future` is pending.
///
/// ```
/// use std::time::Duration;
/// use ember::time::{sleep, timeout};
///
/// ember::block_on(async {
///     // In time:
///     let fast = timeout(Duration::from_millis(50), async { 7 }).await;
///     assert_eq!(fast, Ok(7));
///     // Too slow:
///     let slow = timeout(Duration::from_millis(1), sleep(Duration::from_secs(5))).await;
///     assert!(slow.is_err());
/// });
/// ```
///
/// `Elapsed` converts into an `io::Error` of kind `TimedOut`, so `?` works
/// in functions returning `io::Result`:
///
/// ```no_run
/// use std::time::Duration;
/// use ember::io::AsyncReadExt;
/// use ember::net::TcpStream;
///
/// async fn first_bytes(addr: &str) -> std::io::Result<Vec<u8>> {
///     let limit = Duration::from_secs(2);
///     let mut stream = ember::time::timeout(limit, TcpStream::connect(addr)).await??;
///     let mut buf = vec![0; 512];
///     let n = ember::time::timeout(limit, stream.read(&mut buf)).await??;
///     buf.truncate(n);
///     Ok(buf)
/// }
/// ```
#[inline]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        delay: Sleep::after(duration),
    }
}

/// Runs `future`, giving up at `deadline`. See [`timeout`]; a deadline in
/// the past still gives `future` one poll.
///
/// # Cancel safety
/// As cancel safe as `future` (see [`timeout`]).
///
/// ```
/// use std::time::Duration;
/// use ember::time::Instant;
/// ember::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(2);
///     let r = ember::time::timeout_at(deadline, std::future::pending::<()>()).await;
///     assert!(r.is_err());
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        delay: sleep_until(deadline),
    }
}

pin_project! {
    /// Future of [`timeout`] and [`timeout_at`]: `Ok` with the inner
    /// future's output, or `Err(Elapsed)` at the deadline.
    ///
    /// # Cancel safety
    /// As cancel safe as the inner future: dropping the `Timeout` drops it
    /// and cancels the timer.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        delay: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The instant at which it gives up.
    pub fn deadline(&self) -> Instant {
        self.delay.deadline()
    }

    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The inner future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// Gives the inner future back, and cancels the timer.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // Whether the task had budget before the inner future's poll; not
        // looked at if the delay cannot complete in this poll anyway (a
        // timeout's first: its timer is yet to be armed).
        let had_budget = this.delay.may_complete() && coop::has_budget_remaining();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let delay = Pin::new(this.delay);
        let elapsed = if had_budget && !coop::has_budget_remaining() {
            // The inner future spent the budget (and woke the task). The
            // deadline is looked at all the same, or a future that spends
            // every budget it gets would never time out.
            coop::with_unconstrained(|| delay.poll(cx))
        } else {
            delay.poll(cx)
        };
        match elapsed {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The error of a [`Timeout`] whose deadline passed first.
///
/// Converts into an [`io::Error`] of kind [`TimedOut`](io::ErrorKind::TimedOut).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(e: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}
