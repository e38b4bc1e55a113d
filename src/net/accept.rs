//! Accepting with a pause after running out of fds: the one mechanism both
//! `TcpListener` and `UnixListener` use.
//!
//! Relies on the registration's `poll_io` for `EAGAIN` and on a timer for
//! `EMFILE`/`ENFILE` (see `ACCEPT_BACKOFF` for why the pause is needed).

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::net::tcp::ACCEPT_BACKOFF;
use crate::reactor::{Direction, Registration};
use crate::sys::socket::is_out_of_fds;
use crate::time::Sleep;

/// A listener's pause after an out-of-fds error.
#[derive(Default)]
pub(crate) struct AcceptBackoff {
    /// Set after `EMFILE`/`ENFILE`: no accept before it fires.
    sleep: RefCell<Option<Sleep>>,
}

impl AcceptBackoff {
    /// Waits out a pending pause, then tries `accept` through `reg`; an
    /// out-of-fds error is returned and arms the next pause.
    pub(crate) fn poll_accept<T>(
        &self,
        cx: &mut Context<'_>,
        reg: &Registration,
        accept: impl FnMut() -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        {
            let mut sleep = self.sleep.borrow_mut();
            if let Some(pause) = sleep.as_mut() {
                ready!(Pin::new(pause).poll(cx));
                *sleep = None;
            }
        }
        let accepted = ready!(reg.poll_io(cx, Direction::Read, accept, |_| false));
        if let Err(e) = &accepted {
            if is_out_of_fds(e) {
                *self.sleep.borrow_mut() = Some(crate::time::sleep(ACCEPT_BACKOFF));
            }
        }
        Poll::Ready(accepted)
    }
}
