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
/// **Fairness**, as in tokio: each wake starts polling at the next future
/// in turn (the first, then the second, ...), so one that is always ready
/// cannot keep the others from their polls. Write `biased;` first to poll
/// them in the order written every time.
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
///     let (x, y) = ember::join!(biased; async { 1 }, async { 2 });
///     assert_eq!(x + y, 3);
/// });
/// ```
///
/// # Cancel safety
/// Dropping a `join!` midway drops every future it holds, finished or not,
/// and the outputs of those that had finished: it is as cancel safe as the
/// least cancel-safe of its futures.
#[macro_export]
macro_rules! join {
    // Every future has its own name and index: pin them, poll them (from
    // a rotating start unless biased) until all are done.
    (@named $biased:tt [ $( ($name:ident $fut:expr, $($index:tt)*) )* ] [ $($count:tt)* ]) => {{
        $(
            let mut $name = ::core::pin::pin!($crate::future::__private::MaybeDone::new(
                ::core::future::IntoFuture::into_future($fut),
            ));
        )*
        let count: usize = 0 $($count)*;
        let mut start: usize = 0;
        $crate::future::poll_fn(|cx| {
            let mut all_done = true;
            // Those from `start` on, then those before it.
            $( if (0 $($index)*) >= start { all_done &= $name.as_mut().poll_done(cx); } )*
            $( if (0 $($index)*) < start { all_done &= $name.as_mut().poll_done(cx); } )*
            if !$biased {
                start = (start + 1) % count;
            }
            if all_done {
                ::core::task::Poll::Ready(( $( $name.as_mut().take_output(), )* ))
            } else {
                ::core::task::Poll::Pending
            }
        })
        .await
    }};
    // Name the next future `fut` (a fresh identifier at each step) and
    // give it the next index.
    (@named $biased:tt [ $($done:tt)* ] [ $($count:tt)* ] $fut:expr, $($rest:tt)*) => {
        $crate::join!(@named $biased [ $($done)* (fut $fut, $($count)*) ] [ $($count)* + 1 ] $($rest)*)
    };
    () => { () };
    (biased; $($fut:expr),+ $(,)?) => {
        $crate::join!(@named true [] [] $($fut,)+)
    };
    ($($fut:expr),+ $(,)?) => {
        $crate::join!(@named false [] [] $($fut,)+)
    };
}

/// Waits for every future, each giving a `Result`, and returns `Ok` of
/// their values as a tuple, or the first `Err` as soon as one fails (the
/// other futures are then dropped). tokio's `try_join!`; polls like
/// [`join!`](crate::join), `biased;` included.
///
/// ```
/// ember::block_on(async {
///     let ok: Result<(u8, &str), String> =
///         ember::try_join!(async { Ok(1) }, async { Ok("two") });
///     assert_eq!(ok, Ok((1, "two")));
///
///     let failed: Result<(u8, ()), String> = ember::try_join!(
///         async { Ok(1) },
///         async { Err("no".to_string()) },
///     );
///     assert_eq!(failed, Err("no".to_string()));
/// });
/// ```
///
/// # Cancel safety
/// As for `join!`: as cancel safe as the least cancel-safe of its futures.
#[macro_export]
macro_rules! try_join {
    (@named $biased:tt [ $( ($name:ident $fut:expr, $($index:tt)*) )* ] [ $($count:tt)* ]) => {{
        $(
            let mut $name = ::core::pin::pin!($crate::future::__private::MaybeDone::new(
                ::core::future::IntoFuture::into_future($fut),
            ));
        )*
        let count: usize = 0 $($count)*;
        let mut start: usize = 0;
        $crate::future::poll_fn(|cx| {
            let mut all_done = true;
            $(
                if (0 $($index)*) >= start {
                    all_done &= $name.as_mut().poll_done(cx);
                    if let ::core::option::Option::Some(e) = $name.as_mut().take_err() {
                        return ::core::task::Poll::Ready(::core::result::Result::Err(e));
                    }
                }
            )*
            $(
                if (0 $($index)*) < start {
                    all_done &= $name.as_mut().poll_done(cx);
                    if let ::core::option::Option::Some(e) = $name.as_mut().take_err() {
                        return ::core::task::Poll::Ready(::core::result::Result::Err(e));
                    }
                }
            )*
            if !$biased {
                start = (start + 1) % count;
            }
            if all_done {
                ::core::task::Poll::Ready(::core::result::Result::Ok((
                    $( $name.as_mut().take_ok(), )*
                )))
            } else {
                ::core::task::Poll::Pending
            }
        })
        .await
    }};
    (@named $biased:tt [ $($done:tt)* ] [ $($count:tt)* ] $fut:expr, $($rest:tt)*) => {
        $crate::try_join!(@named $biased [ $($done)* (fut $fut, $($count)*) ] [ $($count)* + 1 ] $($rest)*)
    };
    () => { ::core::result::Result::Ok(()) };
    (biased; $($fut:expr),+ $(,)?) => {
        $crate::try_join!(@named true [] [] $($fut,)+)
    };
    ($($fut:expr),+ $(,)?) => {
        $crate::try_join!(@named false [] [] $($fut,)+)
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

impl<T, E, F: Future<Output = Result<T, E>>> MaybeDone<F> {
    /// Takes the error, if the future finished with one (`try_join!`).
    pub fn take_err(self: Pin<&mut Self>) -> Option<E> {
        let output = self.project().output;
        match output.take() {
            Some(Err(e)) => Some(e),
            other => {
                *output = other;
                None
            }
        }
    }

    /// Takes the value of a future that finished with `Ok`.
    ///
    /// # Panics
    /// If there is none (`try_join!` returns at the first error, so it
    /// takes values only when every future gave one).
    pub fn take_ok(self: Pin<&mut Self>) -> T {
        match self.project().output.take() {
            Some(Ok(value)) => value,
            _ => panic!("`try_join!` took a value that was not there"),
        }
    }
}
