//! `UnixStream`: a connected Unix-domain stream socket, registered with the
//! reactor.
//!
//! Created by `connect`, by `pair`, by `UnixListener::accept` or from a std
//! stream. The same shape as `TcpStream`: all I/O goes through the
//! registration's `poll_io`, with the short-read rule (this is a byte
//! stream). Only `connect` differs: on Linux a Unix connect never answers
//! `EINPROGRESS`; it completes at once, or fails with `EAGAIN` when the
//! listener's backlog is full.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::SocketAddr;
use crate::io::{AsyncRead, AsyncWrite};
use crate::reactor::{Direction, Registration};
use crate::sys::socket::{Kind, Socket, MAX_IOV};

/// How long `connect` waits before trying again when the listener's
/// backlog is full.
///
/// The kernel gives a non-blocking connecting socket no readiness event for
/// "the backlog has room again" (a blocking `connect` sleeps on the
/// listener itself), so the only way to wait is to retry. tokio returns
/// the `WouldBlock` error to the caller instead; ember waits, as a blocking
/// connect would, and leaves bounding it to `time::timeout`.
const CONNECT_RETRY: Duration = Duration::from_millis(10);

/// A Unix-domain stream connection.
///
/// Reads and writes go through [`AsyncRead`]/[`AsyncWrite`] (use
/// [`AsyncReadExt`](crate::io::AsyncReadExt) and
/// [`AsyncWriteExt`](crate::io::AsyncWriteExt)), implemented for
/// `UnixStream` and for `&UnixStream`, exactly as for
/// [`TcpStream`](crate::net::TcpStream). Writes never raise `SIGPIPE`:
/// writing to a peer that has gone is an error of kind `BrokenPipe`.
///
/// ```no_run
/// use ember::io::{AsyncReadExt, AsyncWriteExt};
/// use ember::net::UnixStream;
///
/// ember::block_on(async {
///     let mut stream = UnixStream::connect("/tmp/ember-echo.sock").await?;
///     stream.write_all(b"ping\n").await?;
///     let mut buf = [0u8; 64];
///     let n = stream.read(&mut buf).await?;
///     println!("{}", String::from_utf8_lossy(&buf[..n]));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Production note: reads that end early
/// Like `TcpStream`, a read that returns less than was asked for is taken
/// to mean the socket is drained (see `reactor/registration.rs`). The
/// kernel also ends a Unix stream read early at a message that carries file
/// descriptors (`SCM_RIGHTS`), at an out-of-band byte (`MSG_OOB`), and,
/// with `SO_PASSCRED` set, where the sender's credentials change. ember
/// neither sends nor receives those; a peer that sends them anyway may see
/// its following bytes wait for the next ones to arrive. Use std's
/// `UnixStream` for file-descriptor passing.
pub struct UnixStream {
    // Declared first: it must deregister before `socket` closes the fd.
    reg: Registration,
    socket: Socket,
}

impl UnixStream {
    /// Connects to the socket file at `path`.
    ///
    /// A missing file is an error of kind `NotFound`; a file nobody
    /// listens on (a stale one) is `ConnectionRefused`. When the listener's
    /// backlog is full, this waits and tries again every 10 ms, as a
    /// blocking connect would wait; wrap it in `ember::time::timeout` to
    /// bound it.
    ///
    /// # Panics
    /// Outside an ember runtime.
    ///
    /// # Cancel safety
    /// Dropping it midway abandons the attempt and closes its socket.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        UnixStream::connect_addr(&SocketAddr::from_pathname(path)?).await
    }

    /// Connects to `addr`, which may be an abstract name (see the
    /// [module docs](super#addresses)); otherwise as
    /// [`connect`](Self::connect).
    ///
    /// # Panics
    /// Outside an ember runtime.
    ///
    /// # Cancel safety
    /// Dropping it midway abandons the attempt and closes its socket.
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        let socket = Socket::new_unix(Kind::Stream)?;
        // Connect before registering: an unconnected stream socket reports
        // EPOLLHUP, which the reactor would keep as "closed".
        loop {
            match socket.connect_unix(addr) {
                Ok(()) => return UnixStream::from_socket(socket),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    crate::time::sleep(CONNECT_RETRY).await
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Two streams connected to each other (`socketpair(2)`): what one
    /// writes, the other reads. Both addresses are unnamed.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = Socket::pair_unix(Kind::Stream)?;
        Ok((UnixStream::from_socket(a)?, UnixStream::from_socket(b)?))
    }

    pub(crate) fn from_socket(socket: Socket) -> io::Result<UnixStream> {
        let reg = Registration::new(socket.as_raw_fd())?;
        Ok(UnixStream { reg, socket })
    }

    /// Wraps a connected std stream, making it non-blocking.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_socket(Socket::from_owned(OwnedFd::from(stream))?)
    }

    /// Deregisters the stream and returns it as a std stream (still
    /// non-blocking).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        let UnixStream { reg, socket } = self;
        drop(reg);
        Ok(std::os::unix::net::UnixStream::from(socket.into_owned()))
    }

    /// The peer's address: the listener's path for a client, usually
    /// unnamed for an accepted stream.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.peer_addr_unix()
    }

    /// The local address: usually unnamed for a client, the listener's path
    /// for an accepted stream.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr_unix()
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
    /// use in one task.
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
            // A short read drained the socket (see registration.rs, and the
            // production note on the type).
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
        // As for TCP: offer only what one sendmsg takes, so that a short
        // count really means a full send buffer.
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
            // Already shut down, or the peer has gone: nothing left to close.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        })
    }
}

impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }
}

impl AsyncRead for &UnixStream {
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

impl_async_write!(UnixStream);
impl_async_write!(&UnixStream);

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UnixStream");
        if let Ok(addr) = self.local_addr() {
            d.field("local", &addr);
        }
        if let Ok(addr) = self.peer_addr() {
            d.field("peer", &addr);
        }
        d.field("fd", &self.as_raw_fd()).finish()
    }
}
