//! `TcpStream`: a connected TCP socket, registered with the reactor.
//!
//! Created by `connect`, by `TcpListener::accept` or from a std stream. A
//! thin type over `Registered<Socket>` (`io/registered.rs`); what it shares
//! with `UnixStream` (reads, writes, readiness, `peek`, the `io` traits) is
//! written once in `net/stream.rs`, and this file keeps what is TCP's own:
//! connecting, addresses and options.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::task::{ready, Context, Poll};

use crate::io::registered::Registered;
use crate::net::ToSocketAddrs;
use crate::reactor::Direction;
use crate::sys::socket::{ConnectStart, Socket};

/// A TCP connection.
///
/// Reads and writes go through [`AsyncRead`](crate::io::AsyncRead)/[`AsyncWrite`](crate::io::AsyncWrite) (use
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
    pub(crate) io: Registered<Socket>,
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
        TcpStream::connect_socket(Socket::new_tcp(&addr)?, addr).await
    }

    /// Connects `socket` (new, perhaps bound, not registered) to `addr`:
    /// for `connect` and `TcpSocket::connect`.
    pub(crate) async fn connect_socket(socket: Socket, addr: SocketAddr) -> io::Result<TcpStream> {
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
            let event = ready!(self.io.poll_ready_event(cx, Direction::Write))?;
            let socket = self.io.get_ref();
            if let Some(e) = socket.take_error()? {
                return Poll::Ready(Err(e));
            }
            // Writable without an error should mean connected; a peer name
            // proves it (a spurious wake-up would be ENOTCONN).
            match socket.peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => self.io.clear_readiness(event),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    pub(crate) fn from_socket(socket: Socket) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Registered::new(socket)?,
        })
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
        Ok(std::net::TcpStream::from(self.io.into_inner().into_owned()))
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm): small writes go out
    /// at once instead of waiting for the previous segment's ACK.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets `SO_LINGER`. `None` (the default): dropping the stream returns
    /// at once and the kernel sends what is queued in the background.
    /// `Some(Duration::ZERO)`: dropping it discards what is queued and
    /// resets the connection (the peer's next read fails with
    /// `ConnectionReset`); a port scanner or a proxy cutting a dead
    /// upstream wants this.
    ///
    /// Any other `Some(d)` makes the `close` in `drop` **block the loop's
    /// thread** for up to `d` (whole seconds) while unsent data drains:
    /// Linux lingers in `close(2)` even on a non-blocking socket. Every
    /// task stalls meanwhile; don't. (tokio deprecated its `set_linger`
    /// for the same reason.)
    pub fn set_linger(&self, linger: Option<std::time::Duration>) -> io::Result<()> {
        self.io.get_ref().set_linger(linger)
    }

    /// `SO_LINGER`, as [`set_linger`](Self::set_linger) takes it.
    pub fn linger(&self) -> io::Result<Option<std::time::Duration>> {
        self.io.get_ref().linger()
    }

    /// Sets `IP_TTL`, the time-to-live of the packets this stream sends.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// The pending socket error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// [`TcpStream::from_std`].
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}

crate::net::stream::stream_socket!(TcpStream);

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
