//! `UnixListener`: a listening Unix-domain stream socket, registered with
//! the reactor.
//!
//! Created by `bind` or from a std listener; hands out `UnixStream`s. The
//! same shape as `TcpListener`: `poll_io` for `EAGAIN`, and a timer after
//! running out of fds. Registered only once it listens: an unconnected
//! Unix stream socket reports `EPOLLHUP`, which would stick as "closed".

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use super::{SocketAddr, UnixStream};
use crate::net::accept::AcceptBackoff;
use crate::reactor::Registration;
use crate::sys::socket::{Kind, Socket};

/// The kernel's queue of connections not yet accepted (as for TCP).
const BACKLOG: i32 = 1024;

/// A Unix-domain socket that accepts connections.
///
/// The socket file it binds stays on disk when the listener is dropped:
/// remove it yourself (see [the module docs](super#socket-files-are-yours)).
///
/// ```no_run
/// use ember::io::{AsyncReadExt, AsyncWriteExt};
/// use ember::net::UnixListener;
///
/// ember::block_on(async {
///     let path = "/tmp/ember-echo.sock";
///     let _ = std::fs::remove_file(path); // a stale file from a past run
///     let listener = UnixListener::bind(path)?;
///     loop {
///         let (mut stream, _peer) = listener.accept().await?;
///         ember::spawn(async move {
///             let mut buf = [0u8; 1024];
///             while let Ok(n @ 1..) = stream.read(&mut buf).await {
///                 if stream.write_all(&buf[..n]).await.is_err() {
///                     break;
///                 }
///             }
///         });
///     }
///     # #[allow(unreachable_code)]
///     # Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixListener {
    // Declared first: it must deregister before `socket` closes the fd.
    reg: Registration,
    socket: Socket,
    /// Set after `EMFILE`/`ENFILE`: no accept before it fires.
    backoff: AcceptBackoff,
}

impl UnixListener {
    /// Creates a socket file at `path`, binds to it and starts listening,
    /// with a backlog of 1,024.
    ///
    /// If anything already exists at `path` (a stale socket file left by a
    /// process that is gone, say) the error is of kind `AddrInUse`, names
    /// the path, and the file is left alone: ember never deletes a file you
    /// did not ask it to.
    ///
    /// # Panics
    /// Outside an ember runtime (before anything is created on disk).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::bind_addr(&SocketAddr::from_pathname(path)?)
    }

    /// Binds to `addr`, which may be an abstract name (see the
    /// [module docs](super#addresses)), and starts listening.
    ///
    /// # Panics
    /// Outside an ember runtime (before anything is created on disk).
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        // Misuse panics here rather than after `bind` made a file.
        drop(crate::runtime::current_reactor());
        let socket = Socket::new_unix(Kind::Stream)?;
        socket
            .bind_unix(addr)
            .map_err(|e| super::bind_error(addr, e))?;
        socket.listen(BACKLOG)?;
        UnixListener::from_socket(socket)
    }

    fn from_socket(socket: Socket) -> io::Result<UnixListener> {
        let reg = Registration::new(socket.as_raw_fd())?;
        Ok(UnixListener {
            reg,
            socket,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Wraps a listening std socket, making it non-blocking.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_socket(Socket::from_owned(OwnedFd::from(listener))?)
    }

    /// Deregisters the listener and returns it as a std listener (still
    /// non-blocking).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        let UnixListener { reg, socket, .. } = self;
        drop(reg);
        Ok(std::os::unix::net::UnixListener::from(socket.into_owned()))
    }

    /// Accepts a connection: the new stream and its peer's address (usually
    /// unnamed: clients seldom bind).
    ///
    /// Out of file descriptors (`EMFILE`, `ENFILE`), the error is returned
    /// and the next call first waits
    /// [`ACCEPT_BACKOFF`](crate::net::tcp::ACCEPT_BACKOFF), exactly as
    /// [`TcpListener::accept`](crate::net::TcpListener::accept) does.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before it completes, no connection was
    /// taken from the queue.
    pub fn accept(&self) -> Accept<'_> {
        Accept { listener: self }
    }

    /// The accepted connections, as a `Stream`. Errors are items; the
    /// stream never ends.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`accept`](Self::accept).
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr_unix()
    }

    /// `Ready` with a connection, or stores the waker.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let accepted = ready!(self
            .backoff
            .poll_accept(cx, &self.reg, || self.socket.accept_unix()));
        Poll::Ready(
            accepted.and_then(|(socket, addr)| UnixStream::from_socket(socket).map(|s| (s, addr))),
        )
    }
}

/// Future of [`UnixListener::accept`].
///
/// # Cancel safety
/// Cancel safe: if dropped before it completes, no connection was taken
/// from the queue.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Accept<'a> {
    listener: &'a UnixListener,
}

impl Future for Accept<'_> {
    type Output = io::Result<(UnixStream, SocketAddr)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.listener.poll_accept(cx)
    }
}

/// Stream of [`UnixListener::incoming`].
///
/// # Cancel safety
/// Cancel safe: dropping it before a connection comes takes nothing from
/// the queue.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a UnixListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|r| Some(r.map(|(stream, _)| stream)))
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UnixListener");
        if let Ok(addr) = self.local_addr() {
            d.field("local", &addr);
        }
        d.field("fd", &self.as_raw_fd()).finish()
    }
}
