//! `TcpListener`: a listening TCP socket, registered with the reactor.
//!
//! Created by `bind` or from a std listener; hands out `TcpStream`s. What
//! it shares with `UnixListener` (the accept loop, the pause after running
//! out of fds, the `Accept` future and `Incoming` stream) is written once
//! in `net/accept.rs`; this file keeps binding and addresses. For a
//! listener with options of your choosing (`SO_REUSEPORT`, the backlog),
//! build it with `TcpSocket` (`socket.rs`).

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use super::TcpStream;
use crate::net::accept::{AcceptWait, Listener};
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
    inner: Listener,
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
        socket.set_reuseaddr(true)?;
        socket.bind(&addr)?;
        socket.listen(BACKLOG)?;
        TcpListener::from_socket(socket)
    }

    pub(crate) fn from_socket(socket: Socket) -> io::Result<TcpListener> {
        Ok(TcpListener {
            inner: Listener::new(socket)?,
        })
    }

    /// Wraps a listening std socket, making it non-blocking.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_socket(Socket::from_owned(OwnedFd::from(listener))?)
    }

    /// Deregisters the listener and returns it as a std listener (still
    /// non-blocking).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        let socket = self.inner.io.into_inner();
        Ok(std::net::TcpListener::from(socket.into_owned()))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.get_ref().local_addr()
    }

    /// Sets `IP_TTL`, which the streams it accepts inherit.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.io.get_ref().set_ttl(ttl)
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.io.get_ref().ttl()
    }

    /// The pending socket error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.io.get_ref().take_error()
    }

    fn poll_accept_with(
        &self,
        cx: &mut Context<'_>,
        wait: Option<&mut AcceptWait>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accepted = ready!(self.inner.poll_accept(cx, wait, Socket::accept));
        Poll::Ready(
            accepted.and_then(|(socket, addr)| TcpStream::from_socket(socket).map(|s| (s, addr))),
        )
    }
}

crate::net::accept::listener_futures!(TcpListener, TcpStream, SocketAddr);

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// [`TcpListener::from_std`].
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
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
