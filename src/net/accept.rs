//! What every listener does the same way, TCP or Unix: accepting through
//! the one `WouldBlock` loop, pausing after running out of fds, and the
//! `Accept` future and `Incoming` stream. Written once here.
//!
//! `TcpListener` and `UnixListener` each hold a [`Listener`] in a field
//! named `inner` and invoke [`listener_futures!`]; they keep only what
//! differs (binding, addresses, which stream type an accept makes). Relies
//! on `io/registered.rs` for `EAGAIN` and on a timer for `EMFILE`/`ENFILE`
//! (see `ACCEPT_BACKOFF` for why the pause is needed).
//!
//! # Many acceptors
//! Any number of tasks may await `accept()` on one listener (through an
//! `Rc`): each `Accept` future waits in a keyed slot of its own, and a new
//! connection wakes them all; one takes it, the others find `EAGAIN` and
//! wait again. The pause after `EMFILE` is a deadline every acceptor
//! honours, each with a timer of its own, so none of them is forgotten
//! when it ends.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::registered::Registered;
use crate::net::tcp::ACCEPT_BACKOFF;
use crate::reactor::{Direction, WaitKey};
use crate::sys::socket::{is_out_of_fds, Socket};
use crate::time::{Instant, Sleep};

/// A listening socket, registered, with its pause after running out of fds.
pub(crate) struct Listener {
    pub(crate) io: Registered<Socket>,
    /// Set after `EMFILE`/`ENFILE`: no accept before this instant.
    paused_until: Cell<Option<Instant>>,
    /// The timer of `poll_accept` callers (who have no state of their
    /// own); futures keep theirs in [`AcceptWait`].
    pause: RefCell<Option<(Instant, Sleep)>>,
}

/// What one waiting acceptor (a future) keeps between polls.
#[derive(Default)]
pub(crate) struct AcceptWait {
    key: WaitKey,
    pause: Option<(Instant, Sleep)>,
}

impl Listener {
    pub(crate) fn new(socket: Socket) -> io::Result<Listener> {
        Ok(Listener {
            io: Registered::new(socket)?,
            paused_until: Cell::new(None),
            pause: RefCell::new(None),
        })
    }

    /// Waits out a pending pause, then tries `accept` through the loop (in
    /// the `poll_*` slot, or in `wait`'s keyed slot); an out-of-fds error
    /// is returned and starts the next pause.
    pub(crate) fn poll_accept<T>(
        &self,
        cx: &mut Context<'_>,
        wait: Option<&mut AcceptWait>,
        accept: impl FnMut(&Socket) -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        self.io.check()?;
        let key = match wait {
            Some(wait) => {
                ready!(self.poll_pause(cx, &mut wait.pause));
                Some(&mut wait.key)
            }
            None => {
                ready!(self.poll_pause(cx, &mut self.pause.borrow_mut()));
                None
            }
        };
        let accepted = ready!(self.io.poll_io_with(cx, Direction::Read, key, accept));
        if let Err(e) = &accepted {
            if is_out_of_fds(e) {
                self.paused_until.set(Some(Instant::now() + ACCEPT_BACKOFF));
            }
        }
        Poll::Ready(accepted)
    }

    /// `Ready` once no pause is pending; else waits on `timer`.
    fn poll_pause(&self, cx: &mut Context<'_>, timer: &mut Option<(Instant, Sleep)>) -> Poll<()> {
        let Some(until) = self.paused_until.get() else {
            *timer = None;
            return Poll::Ready(());
        };
        if !matches!(timer, Some((deadline, _)) if *deadline == until) {
            *timer = Some((until, crate::time::sleep_until(until)));
        }
        if let Some((_, sleep)) = timer {
            ready!(Pin::new(sleep).poll(cx));
        }
        *timer = None;
        if self.paused_until.get() == Some(until) {
            self.paused_until.set(None);
        }
        Poll::Ready(())
    }
}

impl AcceptWait {
    /// Gives the keyed slot back: called when the future is dropped.
    pub(crate) fn release(&mut self, listener: &Listener) {
        listener.io.forget(&mut self.key);
    }
}

/// Declares `Accept<'a>` and `Incoming<'a>` for `$listener`, whose
/// `poll_accept_with(cx, wait)` accepts one `($stream, $addr)`, and the
/// listener's `accept`, `incoming`, `poll_accept`.
macro_rules! listener_futures {
    ($listener:ident, $stream:ident, $addr:ty) => {
        impl $listener {
            /// Accepts a connection: the new stream and its peer's address.
            ///
            /// When the process or the system is out of file descriptors
            /// (`EMFILE`, `ENFILE`) the error is returned, and every accept
            /// that follows first waits
            /// [`ACCEPT_BACKOFF`](crate::net::tcp::ACCEPT_BACKOFF), so an
            /// accept loop that logs errors and goes on never spins; the
            /// connection that could not be accepted stays queued and is
            /// accepted once fds are free. Any number of tasks may accept
            /// on one listener at once; each connection goes to one of
            /// them, and none is left waiting while one is queued.
            ///
            /// # Cancel safety
            /// Cancel safe: if dropped before it completes, no connection
            /// was taken from the queue.
            pub fn accept(&self) -> Accept<'_> {
                Accept {
                    listener: self,
                    wait: Default::default(),
                }
            }

            /// The accepted connections, as a `Stream`. Errors are items;
            /// the stream never ends.
            ///
            /// # Cancel safety
            /// Cancel safe, as [`accept`](Self::accept).
            pub fn incoming(&self) -> Incoming<'_> {
                Incoming {
                    listener: self,
                    wait: Default::default(),
                }
            }

            /// `Ready` with a connection, or stores the waker. Only the
            /// last task to call it is woken (as for every `poll_*`
            /// method); tasks that share a listener use
            /// [`accept`](Self::accept).
            pub fn poll_accept(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<($stream, $addr)>> {
                self.poll_accept_with(cx, None)
            }
        }

        /// Future of the listener's `accept`.
        ///
        /// # Cancel safety
        /// Cancel safe: if dropped before it completes, no connection was
        /// taken from the queue.
        #[must_use = "futures do nothing unless awaited"]
        pub struct Accept<'a> {
            listener: &'a $listener,
            wait: $crate::net::accept::AcceptWait,
        }

        impl std::future::Future for Accept<'_> {
            type Output = std::io::Result<($stream, $addr)>;

            fn poll(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Self::Output> {
                let this = self.get_mut();
                this.listener.poll_accept_with(cx, Some(&mut this.wait))
            }
        }

        impl Drop for Accept<'_> {
            fn drop(&mut self) {
                self.wait.release(&self.listener.inner);
            }
        }

        impl std::fmt::Debug for Accept<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Accept")
                    .field("listener", self.listener)
                    .finish()
            }
        }

        /// Stream of the listener's `incoming`.
        ///
        /// # Cancel safety
        /// Cancel safe: dropping it, or a `next()` on it, before a
        /// connection comes takes nothing from the queue.
        #[must_use = "streams do nothing unless polled"]
        pub struct Incoming<'a> {
            listener: &'a $listener,
            wait: $crate::net::accept::AcceptWait,
        }

        impl futures_core::Stream for Incoming<'_> {
            type Item = std::io::Result<$stream>;

            fn poll_next(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<Self::Item>> {
                let this = self.get_mut();
                this.listener
                    .poll_accept_with(cx, Some(&mut this.wait))
                    .map(|r| Some(r.map(|(stream, _)| stream)))
            }
        }

        impl Drop for Incoming<'_> {
            fn drop(&mut self) {
                self.wait.release(&self.listener.inner);
            }
        }

        impl std::fmt::Debug for Incoming<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Incoming")
                    .field("listener", self.listener)
                    .finish()
            }
        }

        impl std::os::fd::AsRawFd for $listener {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.inner.io.get_ref().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $listener {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.inner.io.get_ref().as_fd()
            }
        }
    };
}

pub(crate) use listener_futures;
