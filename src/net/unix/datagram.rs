//! `UnixDatagram`: a Unix-domain datagram socket, registered with the
//! reactor.
//!
//! Created by `bind`, `unbound`, `pair` or from a std socket. A thin type
//! over `Registered<Socket>`; what it shares with `UdpSocket` (connected
//! sends and receives, readiness, the `try_*` family) is written once in
//! `net/datagram.rs`, and this file keeps what takes or returns a Unix
//! address.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::task::{Context, Poll};

use super::SocketAddr;
use crate::io::registered::Registered;
use crate::reactor::Direction;
use crate::sys::socket::{Kind, Socket};

/// A Unix-domain datagram socket.
///
/// Each send is one datagram and each receive takes one. Unlike UDP,
/// delivery is reliable and in order: when the receiver's queue is full, a
/// send waits for room instead of dropping the datagram.
///
/// A datagram longer than the buffer given to a receive is **truncated**,
/// as the OS does: the buffer is filled, the count is `buf.len()`, and the
/// rest of that datagram is lost. An empty datagram reads as `Ok(0)`,
/// which does not mean the end of anything.
///
/// Datagram sockets have no end of stream: when the peer of a connected
/// socket (or of a [`pair`](Self::pair)) goes away, sends fail with
/// `ConnectionRefused`, and a receive keeps waiting, as it would in std.
///
/// A socket made by [`unbound`](Self::unbound) can send but has no address
/// to be answered at; bind it (or use [`pair`](Self::pair)) for a
/// conversation. Bound sockets leave their file behind when dropped (see
/// [the module docs](super#socket-files-are-yours)).
///
/// ```no_run
/// use ember::net::UnixDatagram;
///
/// ember::block_on(async {
///     let server = UnixDatagram::bind("/tmp/ember-dgram.sock")?;
///     let client = UnixDatagram::unbound()?;
///     client.send_to(b"hello", "/tmp/ember-dgram.sock").await?;
///     let mut buf = [0u8; 64];
///     let (n, _from) = server.recv_from(&mut buf).await?;
///     assert_eq!(&buf[..n], b"hello");
///     std::fs::remove_file("/tmp/ember-dgram.sock")?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Production note: a full receiver and `send_to`
/// When the receiver's queue is full, the kernel wakes a *connected*
/// sender as soon as the receiver makes room, but an unconnected one
/// (`send_to`) only when one of its own queued datagrams is read. So a
/// `send_to` that found the queue full of other senders' datagrams waits
/// until its socket sees some other event. This is how the kernel reports
/// readiness, whatever the runtime. To talk to one busy receiver, prefer
/// [`connect`](Self::connect) and [`send`](Self::send).
pub struct UnixDatagram {
    io: Registered<Socket>,
}

impl UnixDatagram {
    /// Creates a socket file at `path` and binds to it. A `path` that
    /// begins with a NUL byte binds the abstract name after it instead
    /// (see the [module docs](super#addresses)); so do `connect`,
    /// `send_to` and `try_send_to`.
    ///
    /// If anything already exists at `path` (a stale socket file, say) the
    /// error is of kind `AddrInUse`, names the path, and the file is left
    /// alone.
    ///
    /// # Panics
    /// Outside an ember runtime (before anything is created on disk).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::bind_addr(&super::path_addr(path.as_ref())?)
    }

    /// Binds to `addr`, which may be an abstract name (see the
    /// [module docs](super#addresses)).
    ///
    /// # Panics
    /// Outside an ember runtime (before anything is created on disk).
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixDatagram> {
        // Misuse panics here rather than after `bind` made a file.
        drop(crate::runtime::current_reactor());
        let socket = Socket::new_unix(Kind::Datagram)?;
        socket
            .bind_unix(addr)
            .map_err(|e| super::bind_error(addr, e))?;
        UnixDatagram::from_socket(socket)
    }

    /// A socket bound to nothing: it can send (to a path with
    /// [`send_to`](Self::send_to), or after [`connect`](Self::connect)),
    /// and its datagrams arrive from an unnamed address.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_socket(Socket::new_unix(Kind::Datagram)?)
    }

    /// Two sockets connected to each other (`socketpair(2)`): what one
    /// sends, the other receives. Both addresses are unnamed.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = Socket::pair_unix(Kind::Datagram)?;
        Ok((UnixDatagram::from_socket(a)?, UnixDatagram::from_socket(b)?))
    }

    fn from_socket(socket: Socket) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: Registered::new(socket)?,
        })
    }

    /// Wraps a std socket, making it non-blocking.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_socket(Socket::from_owned(OwnedFd::from(socket))?)
    }

    /// Deregisters the socket and returns it as a std socket (still
    /// non-blocking).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(std::os::unix::net::UnixDatagram::from(
            self.io.into_inner().into_owned(),
        ))
    }

    /// Sets the default destination of [`send`](Self::send) to the socket
    /// bound at `path`, and keeps only its datagrams for
    /// [`recv`](Self::recv). Completes at once: a plain function, as in std.
    /// A missing path is `NotFound`; a stale file is `ConnectionRefused`.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.connect_addr(&super::path_addr(path.as_ref())?)
    }

    /// [`connect`](Self::connect) to `addr`, which may be an abstract name.
    pub fn connect_addr(&self, addr: &SocketAddr) -> io::Result<()> {
        self.io.get_ref().connect_unix(addr)
    }

    /// The address the socket is bound to (unnamed if it is not).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr_unix()
    }

    /// The address it is connected to; `NotConnected` if none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr_unix()
    }

    /// Shuts down the read side, the write side, or both. After a write
    /// shutdown, sends fail with `BrokenPipe` (never `SIGPIPE`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Sends `buf` as one datagram to the socket bound at `path`.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before it completes, nothing was sent.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let target = super::path_addr(path.as_ref())?;
        self.send_to_addr(buf, &target).await
    }

    /// [`send_to`](Self::send_to) an address, which may be an abstract name.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before it completes, nothing was sent.
    pub async fn send_to_addr(&self, buf: &[u8], target: &SocketAddr) -> io::Result<usize> {
        self.io
            .async_io(Direction::Write, |s| s.send_to_unix(buf, target))
            .await
    }

    /// Receives one datagram; returns its length (truncated to
    /// `buf.len()`) and its sender's address, unnamed if the sender is not
    /// bound.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before it completes, no datagram was taken.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Direction::Read, |s| s.recv_from_unix(buf))
            .await
    }

    /// Like [`recv_from`](Self::recv_from), but leaves the datagram queued:
    /// the next receive gets it again.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Direction::Read, |s| s.peek_from_unix(buf))
            .await
    }

    /// `Ready` once `buf` went out to `target`; stores the waker otherwise.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: &SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io_with(cx, Direction::Write, None, |s| s.send_to_unix(buf, target))
    }

    /// `Ready` with one datagram and its sender; stores the waker otherwise.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .poll_io_with(cx, Direction::Read, None, |s| s.recv_from_unix(buf))
    }

    /// Sends to `target` without waiting; `WouldBlock` if there is no room.
    pub fn try_send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        self.try_send_to_addr(buf, &super::path_addr(target.as_ref())?)
    }

    /// [`try_send_to`](Self::try_send_to) an address, which may be an
    /// abstract name.
    pub fn try_send_to_addr(&self, buf: &[u8], target: &SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |s| s.send_to_unix(buf, target))
    }

    /// Receives one datagram and its sender without waiting; `WouldBlock`
    /// if none is queued.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.recv_from_unix(buf))
    }

    /// Receives one datagram into `buf`'s spare capacity, extends
    /// `buf.len()` by its length, and returns that and the sender. The
    /// datagram is truncated to the spare capacity: reserve room for the
    /// largest one first (with none, 64 bytes are reserved).
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before it completes, no datagram was taken.
    pub async fn recv_buf_from(&self, buf: &mut Vec<u8>) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Direction::Read, |s| {
                crate::io::read_buf::fill_vec(buf, |b| s.recv_from_buf_unix(b))
            })
            .await
    }

    /// [`recv_buf_from`](Self::recv_buf_from) without waiting;
    /// `WouldBlock` if no datagram is queued.
    pub fn try_recv_buf_from(&self, buf: &mut Vec<u8>) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| {
            crate::io::read_buf::fill_vec(buf, |b| s.recv_from_buf_unix(b))
        })
    }
}

crate::net::datagram::datagram_socket!(UnixDatagram);

impl TryFrom<std::os::unix::net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// [`UnixDatagram::from_std`].
    fn try_from(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UnixDatagram");
        if let Ok(addr) = self.local_addr() {
            d.field("local", &addr);
        }
        if let Ok(addr) = self.peer_addr() {
            d.field("peer", &addr);
        }
        d.field("fd", &self.as_raw_fd()).finish()
    }
}
