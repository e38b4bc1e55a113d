//! Waiting for a channel on a plain thread: the `blocking_*` methods.
//!
//! Called by `mpsc::Sender::blocking_send`, the receivers'
//! `blocking_recv` and `oneshot::Receiver::blocking_recv`. It polls the
//! same future the async method returns, with a waker that unparks the
//! calling thread, and parks between polls. Relies on `std::thread::park`,
//! which may return spuriously: the loop just polls again.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Unparks the thread that waits.
struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread, parking it while the future
/// is pending. `what` names the caller for the panic message.
///
/// # Panics
/// On a thread that is running an ember runtime: parking it would stop the
/// loop, and with it whichever task was meant to make progress.
#[track_caller]
pub(crate) fn block_on_thread<F: Future>(what: &str, future: F) -> F::Output {
    if crate::runtime::context::current().is_some() {
        panic!(
            "`{what}` called from inside an ember runtime, where blocking would stall the loop: \
             `.await` the async version instead"
        );
    }
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}
