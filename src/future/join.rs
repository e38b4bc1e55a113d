//! `join!`: run several futures concurrently, in the same task, and wait for
//! all of them.
//!
//! The macro pins each future in a [`MaybeDone`] on the caller's stack and
//! polls every unfinished one each time the task wakes; a finished future
//! is dropped at once and its output kept until the last one finishes.
//!
//! How the macro names its futures without a proc macro: a `macro_rules!`
//! identifier is hygienic, so the `fut` written by each recursive step is a
//! *different* variable from the `fut` of the step before. The muncher
//! gives each future its own `fut`, and the last step declares and polls
//! them all.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

/// Waits for every future and returns their outputs as a tuple, in the order
/// written. The futures run concurrently on the current task (no `spawn`):
/// each wake polls every future that has not finished yet.
///
/// Usable as `ember::join!` or `ember::future::join!`, inside async code.
/// Takes any number of futures (anything that is `IntoFuture`); `join!()`
/// is `()`.
///
/// ```
/// use std::time::Duration;
/// use ember::time::sleep;
///
/// ember::block_on(async {
///     // Both sleeps run at once: this takes about 20 ms, not 40.
///     let (a, b, c) = ember::join!(
///         async { sleep(Duration::from_millis(20)).await; 1 },
///         async { sleep(Duration::from_millis(20)).await; "two" },
///         async { 3.0 },
///     );
///     assert_eq!((a, b, c), (1, "two", 3.0));
/// });
/// ```
///
/// # Cancel safety
/// Dropping a `join!` midway drops every future it holds, finished or not,
/// and the outputs of those that had finished: it is as cancel safe as the
/// least cancel-safe of its futures.
#[macro_export]
macro_rules! join {
    // Every future has its own name: pin them, poll them until all are done.
    (@named [ $( ($name:ident $fut:expr) )* ]) => {{
        $(
            let mut $name = ::core::pin::pin!($crate::future::__private::MaybeDone::new(
                ::core::future::IntoFuture::into_future($fut),
            ));
        )*
        $crate::future::poll_fn(|cx| {
            let mut all_done = true;
            $( all_done &= $name.as_mut().poll_done(cx); )*
            if all_done {
                ::core::task::Poll::Ready(( $( $name.as_mut().take_output(), )* ))
            } else {
                ::core::task::Poll::Pending
            }
        })
        .await
    }};
    // Name the next future `fut` (a fresh identifier at each step).
    (@named [ $($done:tt)* ] $fut:expr, $($rest:tt)*) => {
        $crate::join!(@named [ $($done)* (fut $fut) ] $($rest)*)
    };
    () => { () };
    ($($fut:expr),+ $(,)?) => {
        $crate::join!(@named [] $($fut,)+)
    };
}

pin_project! {
    /// A future, then its output, then nothing: one branch of `join!`.
    ///
    /// Not part of the API (it is public only for the macro).
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct MaybeDone<F: Future> {
        #[pin]
        future: Option<F>,
        output: Option<F::Output>,
    }
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future that has not run yet.
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone {
            future: Some(future),
            output: None,
        }
    }

    /// Polls the future if it is still running; `true` once it has finished.
    /// The future is dropped as soon as it finishes.
    pub fn poll_done(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return true;
        };
        match future.poll(cx) {
            Poll::Ready(output) => {
                *this.output = Some(output);
                this.future.set(None);
                true
            }
            Poll::Pending => false,
        }
    }

    /// Takes the output.
    ///
    /// # Panics
    /// Before the future has finished, or if the output was already taken
    /// (`join!` takes each once, after all have finished).
    pub fn take_output(self: Pin<&mut Self>) -> F::Output {
        match self.project().output.take() {
            Some(output) => output,
            None => panic!("`join!` took an output that was not there"),
        }
    }
}
