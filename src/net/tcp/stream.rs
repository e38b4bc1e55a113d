//! `TcpStream`: a connected TCP socket, registered with the reactor.
//!
//! Created by `connect`, by `TcpListener::accept` or from a std stream. All
//! I/O goes through the registration's `poll_io` (see
//! `reactor/registration.rs`): try the syscall, and on `EAGAIN` clear the
//! cached readiness and wait for the next edge.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::io::{AsyncRead, AsyncWrite};
use crate::net::ToSocketAddrs;
use crate::reactor::{Direction, Registration};
use crate::sys::socket::{ConnectStart, Socket, MAX_IOV};

use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};

/// A TCP connection.
///
/// Reads and writes go through [`AsyncRead`]/[`AsyncWrite`] (use
/// [`AsyncReadExt`](crate::io::AsyncReadExt) and
/// [`AsyncWriteExt`](crate::io::AsyncWriteExt) for `read`, `write_all`...),
/// implemented for `TcpStream` and for `&TcpStream`, so two tasks can share
/// one stream through an `Rc`, one reading while the other writes.
///
/// Writes never raise `SIGPIPE`: writing to a peer that has gone is an error
/// of kind `BrokenPipe`. The socket is closed when the stream is dropped.
///
/// ```no_run
/// use ember::io::{AsyncReadExt, AsyncWriteExt};
/// use ember::net::TcpStream;
///
/// ember::block_on(async {
///     let mut stream = TcpStream::connect("127.0.0.1:7000").await?;
///     stream.write_all(b"ping\n").await?;
///     let mut buf = [0u8; 64];
///     let n = stream.read(&mut buf).await?;
///     println!("{}", String::from_utf8_lossy(&buf[..n]));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpStream {
    // Declared first: it must deregister before `socket` closes the fd.
    reg: Registration,
    socket: Socket,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it resolves to in turn, and
    /// returns the first connection made, or the last error.
    ///
    /// IP literals are parsed on the loop's thread; a host name is resolved
    /// on the blocking pool, so DNS never stops the loop (see
    /// [`ToSocketAddrs`]).
    ///
    /// Each attempt is a non-blocking `connect`: the socket is registered
    /// while the handshake runs, and `SO_ERROR` tells the outcome once it
    /// becomes writable. A refused connection is an error of kind
    /// `ConnectionRefused`. Wrap it in `ember::time::timeout` to bound it.
    ///
    /// # Cancel safety
    /// Dropping it midway abandons the attempt and closes its socket; a
    /// name lookup in progress finishes on its pool thread, unused.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last_err = None;
        for addr in crate::net::resolve(addr).await? {
            match TcpStream::connect_addr(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(crate::net::no_address))
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = Socket::new_tcp(&addr)?;
        // Start the connect before registering (see `Socket::connect`).
        let start = socket.connect(&addr)?;
        let stream = TcpStream::from_socket(socket)?;
        if let ConnectStart::InProgress = start {
            poll_fn(|cx| stream.poll_connected(cx)).await?;
        }
        Ok(stream)
    }

    /// Waits for the handshake to end, then reads its outcome.
    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let event = ready!(self.reg.poll_ready(cx, Direction::Write));
            if let Some(e) = self.socket.take_error()? {
                return Poll::Ready(Err(e));
            }
            // Writable without an error should mean connected; a peer name
            // proves it (a spurious wake-up would be ENOTCONN).
            match self.socket.peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    self.reg.clear_readiness(event)
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    pub(crate) fn from_socket(socket: Socket) -> io::Result<TcpStream> {
        let reg = Registration::new(socket.as_raw_fd())?;
        Ok(TcpStream { reg, socket })
    }

    /// Wraps a connected std stream, making it non-blocking.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_socket(Socket::from_owned(OwnedFd::from(stream))?)
    }

    /// Deregisters the stream and returns it as a std stream (still
    /// non-blocking).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        let TcpStream { reg, socket } = self;
        drop(reg);
        Ok(std::net::TcpStream::from(socket.into_owned()))
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm): small writes go out
    /// at once instead of waiting for the previous segment's ACK.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.socket.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.socket.nodelay()
    }

    /// Shuts down the read side, the write side (the peer reads end of
    /// stream), or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.socket.shutdown(how)
    }

    /// Waits until the stream may be readable. Readiness can be spurious:
    /// follow it with [`try_read`](Self::try_read) and loop on `WouldBlock`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_read_ready(cx)).await
    }

    /// Waits until the stream may be writable; see [`readable`](Self::readable).
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_write_ready(cx)).await
    }

    /// `Ready` once the stream may be readable; stores the waker otherwise.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reg.poll_ready(cx, Direction::Read).map(|_| Ok(()))
    }

    /// `Ready` once the stream may be writable; stores the waker otherwise.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reg.poll_ready(cx, Direction::Write).map(|_| Ok(()))
    }

    /// Reads what is there without waiting; `WouldBlock` if nothing is.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.reg.try_io(Direction::Read, || self.socket.recv(buf))
    }

    /// Writes what fits without waiting; `WouldBlock` if nothing does.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.reg.try_io(Direction::Write, || self.socket.send(buf))
    }

    /// Reads without consuming: the same bytes are read again next time.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            self.reg
                .poll_io(cx, Direction::Read, || self.socket.peek(buf), |_| false)
        })
        .await
    }

    /// Splits into a reading and a writing half that borrow the stream, for
    /// use in one task (for example with `join!`).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        super::split::split(self)
    }

    /// Splits into owned halves that can move into different tasks. Dropping
    /// the write half shuts down the write side.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        super::split::into_split(self)
    }

    pub(crate) fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.reg.poll_io(
            cx,
            Direction::Read,
            || self.socket.recv(buf),
            // A short read drained the socket (see registration.rs).
            |&n| n > 0 && n < len,
        )
    }

    pub(crate) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.reg
            .poll_io(cx, Direction::Write, || self.socket.send(buf), |&n| n < len)
    }

    pub(crate) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // Offer only what one sendmsg takes, so that a short count really
        // means a full send buffer (clearing readiness on anything else
        // would wait for an edge that never comes).
        let bufs = &bufs[..bufs.len().min(MAX_IOV)];
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        self.reg.poll_io(
            cx,
            Direction::Write,
            || self.socket.send_vectored(bufs),
            |&n| n < len,
        )
    }

    pub(crate) fn shutdown_write(&self) -> Poll<io::Result<()>> {
        Poll::Ready(match self.socket.shutdown(Shutdown::Write) {
            // Already shut down, or the peer reset it: nothing left to close.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        })
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }
}

impl AsyncRead for &TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }
}

macro_rules! impl_async_write {
    ($t:ty) => {
        impl AsyncWrite for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.poll_write_vectored_priv(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                // Nothing is buffered in user space.
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.shutdown_write()
            }
        }
    };
}

impl_async_write!(TcpStream);
impl_async_write!(&TcpStream);

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TcpStream");
        if let Ok(addr) = self.local_addr() {
            d.field("local", &addr);
        }
        if let Ok(addr) = self.peer_addr() {
            d.field("peer", &addr);
        }
        d.field("fd", &self.as_raw_fd()).finish()
    }
}
