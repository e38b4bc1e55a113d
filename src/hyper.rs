//! hyper 1.x on ember (the optional `hyper` feature): the four pieces of
//! glue hyper's `rt` module asks of a runtime.
//!
//! | hyper wants | ember gives |
//! | --- | --- |
//! | `rt::Read` + `rt::Write` for a connection | [`Io<T>`] around any ember `AsyncRead + AsyncWrite` (a `TcpStream`, a `UnixStream`, a TLS stream through `io::Compat`) |
//! | `rt::Executor` for the tasks it spawns (HTTP/2 streams, client connections) | [`Exec`]: `ember::spawn` (no `Send` needed) |
//! | `rt::Timer` for its timeouts (header read timeout, keep-alive) | [`Timer`]: ember's timers, behind a `Send + Sync` handle (below) |
//!
//! **Reads into hyper's buffers, with no zeroing.** hyper hands `poll_read`
//! a cursor over memory that may be uninitialised. `Io` lends that memory
//! to the connection as an ember `ReadBuf` through
//! `AsyncRead::poll_read_buf`, which ember's sockets implement with a
//! `recv` straight into it; only a reader without that method gets the
//! default, which zeroes first. (Glue that went through `poll_read(&mut
//! [u8])` had to zero 8 KiB before every read: that was hyper on ember's
//! whole gap to hyper on tokio.)
//!
//! **A `Send + Sync` sleep, soundly.** hyper's `Sleep` must be `Send +
//! Sync`, and ember's timers are not (they belong to the loop's thread).
//! [`Timer`]'s sleeps hold only plain data: the deadline, and the key of
//! an ember `Sleep` kept in a thread-local table of the thread that first
//! polled them. A poll on that thread polls the ember timer; a poll on any
//! other thread (hyper never does that, but the types allow it) arms a
//! timer of that thread's own. Dropping one removes its timer when it
//! drops on its thread; one dropped elsewhere leaves its timer to fire
//! once and be forgotten. No `unsafe impl`.
//!
//! The `unsafe` here is the two calls hyper's cursor requires (see
//! `docs/unsafe.md`).
//!
//! ```no_run
//! use ember::hyper::{Exec, Io, Timer};
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//!
//! # async fn serve(listener: ember::net::TcpListener) -> std::io::Result<()> {
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     ember::spawn(async move {
//!         let service = hyper::service::service_fn(|_req: Request<Incoming>| async {
//!             Ok::<_, std::convert::Infallible>(Response::new(Body::from("Hello, World!")))
//!         });
//!         let _ = hyper::server::conn::http1::Builder::new()
//!             .timer(Timer)
//!             .serve_connection(Io::new(stream), service)
//!             .await;
//!     });
//! }
//! # }
//! # type Body = String;
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use slab::Slab;

use crate::io::{AsyncRead, AsyncWrite, ReadBuf};

pin_project! {
    /// An ember stream as hyper's `rt::Read` + `rt::Write`.
    #[derive(Debug)]
    pub struct Io<T> {
        #[pin]
        inner: T,
    }
}

impl<T> Io<T> {
    /// Wraps `inner` (a `TcpStream`, say).
    pub fn new(inner: T) -> Io<T> {
        Io { inner }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps it.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead> ::hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut cursor: ::hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: the slice goes only into an ember `ReadBuf::uninit`,
        // which never writes uninitialised bytes into memory it was lent
        // (it writes received bytes, or zeroes).
        let unfilled = unsafe { cursor.as_mut() };
        let start = unfilled.as_ptr();
        let mut buf = ReadBuf::uninit(unfilled);
        std::task::ready!(self.project().inner.poll_read_buf(cx, &mut buf))?;
        assert!(
            crate::io::read_buf_points_at(&buf, start),
            "an AsyncRead::poll_read_buf replaced the buffer it was given"
        );
        let n = buf.filled().len();
        // SAFETY: `buf` is still the cursor's memory (checked above), and
        // its first `n` bytes are filled, so initialised (`ReadBuf`'s
        // invariant).
        unsafe { cursor.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite> ::hyper::rt::Write for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

/// hyper's executor: spawns on the current ember runtime. Works with any
/// future hyper hands it, `Send` or not.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exec;

impl<F> ::hyper::rt::Executor<F> for Exec
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, future: F) {
        drop(crate::spawn(future));
    }
}

/// hyper's timer, on ember's timers (see the module docs for how its
/// sleeps are `Send + Sync` without `unsafe`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Timer;

impl ::hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(HyperSleep::new(Instant::now() + duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(HyperSleep::new(deadline))
    }
}

thread_local! {
    /// The ember timers behind this thread's `HyperSleep`s.
    static SLEEPS: RefCell<Slab<Pin<Box<crate::time::Sleep>>>> =
        const { RefCell::new(Slab::new()) };
    /// This thread's id, read once (`thread::current()` clones an `Arc`).
    static HERE: ThreadId = std::thread::current().id();
}

fn here() -> Option<ThreadId> {
    HERE.try_with(|id| *id).ok()
}

/// A `Send + Sync` sleep: a deadline, and where its ember timer lives.
#[derive(Debug)]
struct HyperSleep {
    deadline: Instant,
    timer: Option<(ThreadId, usize)>,
}

impl HyperSleep {
    fn new(deadline: Instant) -> HyperSleep {
        HyperSleep {
            deadline,
            timer: None,
        }
    }

    fn forget_timer(&mut self) {
        if let Some((thread, key)) = self.timer.take() {
            if Some(thread) == here() {
                let _ = SLEEPS.try_with(|s| s.borrow_mut().try_remove(key));
            }
        }
    }
}

impl Future for HyperSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(here) = here() else {
            // The thread is ending: nothing can wait any more.
            return Poll::Ready(());
        };
        let key = match self.timer {
            Some((thread, key)) if thread == here => key,
            _ => {
                // First poll (or a poll on another thread): arm a timer here.
                self.forget_timer();
                let left = self.deadline.saturating_duration_since(Instant::now());
                let sleep = Box::pin(crate::time::sleep(left));
                let key = SLEEPS.with(|s| s.borrow_mut().insert(sleep));
                self.timer = Some((here, key));
                key
            }
        };
        // Polled in place: an ember `Sleep` only stores the waker in the
        // timer store, it never reaches this table.
        let poll = SLEEPS.with(|s| match s.borrow_mut().get_mut(key) {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Ready(()),
        });
        if poll.is_ready() {
            self.forget_timer();
        }
        poll
    }
}

impl Drop for HyperSleep {
    fn drop(&mut self) {
        self.forget_timer();
    }
}

impl ::hyper::rt::Sleep for HyperSleep {}

/// Keeps the claim of the module docs checked: the sleep is `Send + Sync`
/// by its fields alone.
const _: () = {
    fn assert_send_sync<T: Send + Sync>() {}
    let _ = assert_send_sync::<HyperSleep>;
};
