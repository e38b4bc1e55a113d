//! `UnixStream`: a connected Unix-domain stream socket, registered with the
//! reactor.
//!
//! Created by `connect`, by `pair`, by `UnixListener::accept` or from a std
//! stream. A thin type over `Registered<Socket>`; what it shares with
//! `TcpStream` (reads and writes with the short-read rule, readiness,
//! `peek`, the `io` traits) is written once in `net/stream.rs`, and this
//! file keeps what is its own: addresses, `pair`, and `connect`, which differs: on Linux a Unix connect never answers
//! `EINPROGRESS`; it completes at once, or fails with `EAGAIN` when the
//! listener's backlog is full.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use super::SocketAddr;
use crate::io::registered::Registered;
use crate::sys::socket::{Kind, Socket};

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
/// Reads and writes go through [`AsyncRead`](crate::io::AsyncRead)/[`AsyncWrite`](crate::io::AsyncWrite) (use
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
/// to mean the socket is drained (see `io/registered.rs`). The
/// kernel also ends a Unix stream read early at a message that carries file
/// descriptors (`SCM_RIGHTS`), at an out-of-band byte (`MSG_OOB`), and,
/// with `SO_PASSCRED` set, where the sender's credentials change. ember
/// neither sends nor receives those; a peer that sends them anyway may see
/// its following bytes wait for the next ones to arrive. Use std's
/// `UnixStream` for file-descriptor passing.
pub struct UnixStream {
    pub(crate) io: Registered<Socket>,
}

impl UnixStream {
    /// Connects to the socket file at `path` (or, if `path` begins with a
    /// NUL byte, to the abstract name after it: see the
    /// [module docs](super#addresses)).
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
        UnixStream::connect_addr(&super::path_addr(path.as_ref())?).await
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
        Ok(UnixStream {
            io: Registered::new(socket)?,
        })
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
        Ok(std::os::unix::net::UnixStream::from(
            self.io.into_inner().into_owned(),
        ))
    }

    /// The peer's address: the listener's path for a client, usually
    /// unnamed for an accepted stream.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr_unix()
    }

    /// The local address: usually unnamed for a client, the listener's path
    /// for an accepted stream.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr_unix()
    }

    /// The peer's process, user and group ids, as the kernel recorded them
    /// when the connection was made (`SO_PEERCRED`): for a client, the
    /// listener's process; for an accepted stream, the client's; for a
    /// [`pair`](Self::pair), this process.
    pub fn peer_cred(&self) -> io::Result<super::UCred> {
        let c = self.io.get_ref().peer_cred()?;
        Ok(super::UCred::new(c.pid, c.uid, c.gid))
    }

    /// The pending socket error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// [`UnixStream::from_std`].
    fn try_from(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(stream)
    }
}

crate::net::stream::stream_socket!(UnixStream);

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
