//! Tasks: handles, errors, sets of tasks, and cooperative yielding.
//!
//! A task is a future spawned with [`spawn`]; it runs on the
//! runtime's thread, interleaved with the others at each `.await` that
//! returns `Pending`. A [`JoinSet`] owns a group of tasks and yields their
//! outputs as they complete.
//!
//! The public face of the runtime's task machinery: [`JoinHandle`],
//! [`JoinError`] and [`spawn`] are re-exported from `runtime`, [`yield_now`]
//! lives here, and [`JoinSet`] in `join_set.rs`, built on `spawn` and
//! `JoinHandle` alone.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

mod join_set;

pub use crate::runtime::{JoinError, JoinHandle};
pub use crate::spawn;
pub use join_set::{JoinNext, JoinSet};

/// Returns `Pending` once, after waking itself: the task goes to the back
/// of the run queue and every other runnable task gets a turn first.
///
/// # Cancel safety
/// Cancel safe.
///
/// ```
/// ember::block_on(async {
///     for _ in 0..3 {
///         ember::task::yield_now().await;
///     }
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future of [`yield_now`].
///
/// # Cancel safety
/// Cancel safe: nothing is lost if it is dropped.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
