//! `UnixListener`: a listening Unix-domain stream socket, registered with
//! the reactor.
//!
//! Created by `bind` or from a std listener; hands out `UnixStream`s. What
//! it shares with `TcpListener` (the accept loop, the pause after running
//! out of fds, `Accept` and `Incoming`) is written once in `net/accept.rs`. Registered only once it listens: an unconnected
//! Unix stream socket reports `EPOLLHUP`, which would stick as "closed".

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::task::{ready, Context, Poll};

use super::{SocketAddr, UnixStream};
use crate::net::accept::{AcceptWait, Listener};
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
    inner: Listener,
}

impl UnixListener {
    /// Creates a socket file at `path`, binds to it and starts listening,
    /// with a backlog of 1,024. A `path` that begins with a NUL byte binds
    /// the abstract name after it instead, and creates no file (see the
    /// [module docs](super#addresses)).
    ///
    /// If anything already exists at `path` (a stale socket file left by a
    /// process that is gone, say) the error is of kind `AddrInUse`, names
    /// the path, and the file is left alone: ember never deletes a file you
    /// did not ask it to.
    ///
    /// # Panics
    /// Outside an ember runtime (before anything is created on disk).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::bind_addr(&super::path_addr(path.as_ref())?)
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
        Ok(UnixListener {
            inner: Listener::new(socket)?,
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
        let socket = self.inner.io.into_inner();
        Ok(std::os::unix::net::UnixListener::from(socket.into_owned()))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.get_ref().local_addr_unix()
    }

    fn poll_accept_with(
        &self,
        cx: &mut Context<'_>,
        wait: Option<&mut AcceptWait>,
    ) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let accepted = ready!(self.inner.poll_accept(cx, wait, Socket::accept_unix));
        Poll::Ready(
            accepted.and_then(|(socket, addr)| UnixStream::from_socket(socket).map(|s| (s, addr))),
        )
    }
}

crate::net::accept::listener_futures!(UnixListener, UnixStream, SocketAddr);

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// [`UnixListener::from_std`].
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
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
