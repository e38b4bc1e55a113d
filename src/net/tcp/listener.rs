//! `TcpListener`: a listening TCP socket, registered with the reactor.
//!
//! Created by `bind` or from a std listener; hands out `TcpStream`s. Relies
//! on the registration's `poll_io` for `EAGAIN`, and on a timer for the one
//! error that must not be retried at once (running out of fds).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use super::TcpStream;
use crate::net::accept::AcceptBackoff;
use crate::reactor::Registration;
use crate::sys::socket::Socket;

/// The kernel's queue of connections not yet accepted.
const BACKLOG: i32 = 1024;

/// How long `accept` waits before trying again after the process (or the
/// system) ran out of file descriptors.
///
/// The pending connection stays in the backlog, and epoll has already
/// reported it (edge-triggered: it will not again), so the listener keeps its
/// readiness and retries after this pause. Retrying at once would spin the
/// CPU at 100% for as long as no fd is freed. tokio leaves the pause to the
/// user (its docs suggest sleeping); ember builds it in.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A TCP socket that accepts connections.
///
/// ```no_run
/// use ember::io::{AsyncReadExt, AsyncWriteExt};
/// use ember::net::TcpListener;
///
/// ember::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:7000")?;
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
pub struct TcpListener {
    // Declared first: it must deregister before `socket` closes the fd.
    reg: Registration,
    socket: Socket,
    /// Set after `EMFILE`/`ENFILE`: no accept before it fires.
    backoff: AcceptBackoff,
}

impl TcpListener {
    /// Binds to `addr` (the first address it resolves to that works), with
    /// `SO_REUSEADDR` and a backlog of 1,024, and starts listening. Bind to
    /// port 0 to let the kernel pick a free port, then ask
    /// [`local_addr`](Self::local_addr).
    ///
    /// `addr` is std's [`ToSocketAddrs`](std::net::ToSocketAddrs): like std's `bind`, a host name is
    /// resolved here, on the calling thread, blocking it (binding happens
    /// once, at startup, usually to an IP literal, which is only parsed).
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        crate::net::each_addr(addr, TcpListener::bind_addr)
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<TcpListener> {
        let socket = Socket::new_tcp(&addr)?;
        socket.set_reuseaddr()?;
        socket.bind(&addr)?;
        socket.listen(BACKLOG)?;
        TcpListener::from_socket(socket)
    }

    fn from_socket(socket: Socket) -> io::Result<TcpListener> {
        let reg = Registration::new(socket.as_raw_fd())?;
        Ok(TcpListener {
            reg,
            socket,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Wraps a listening std socket, making it non-blocking.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_socket(Socket::from_owned(OwnedFd::from(listener))?)
    }

    /// Accepts a connection: the new stream and its peer's address.
    ///
    /// When the process or the system is out of file descriptors
    /// (`EMFILE`, `ENFILE`) the error is returned, and the next call waits
    /// [`ACCEPT_BACKOFF`] before trying again, so an accept loop that logs
    /// errors and goes on never spins; the connection that could not be
    /// accepted stays queued and is accepted once fds are free.
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
        self.socket.local_addr()
    }

    /// `Ready` with a connection, or stores the waker.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accepted = ready!(self
            .backoff
            .poll_accept(cx, &self.reg, || self.socket.accept()));
        Poll::Ready(
            accepted.and_then(|(socket, addr)| TcpStream::from_socket(socket).map(|s| (s, addr))),
        )
    }
}

/// Future of [`TcpListener::accept`].
///
/// # Cancel safety
/// Cancel safe: if dropped before it completes, no connection was taken
/// from the queue.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Accept<'a> {
    listener: &'a TcpListener,
}

impl Future for Accept<'_> {
    type Output = io::Result<(TcpStream, SocketAddr)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.listener.poll_accept(cx)
    }
}

/// Stream of [`TcpListener::incoming`].
///
/// # Cancel safety
/// Cancel safe: dropping it, or a `next()` on it, before a connection comes
/// takes nothing from the queue.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|r| Some(r.map(|(stream, _)| stream)))
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TcpListener");
        if let Ok(addr) = self.local_addr() {
            d.field("local", &addr);
        }
        d.field("fd", &self.as_raw_fd()).finish()
    }
}
