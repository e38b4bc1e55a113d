//! `TcpSocket`: a TCP socket not yet connected or listening, to set
//! options on before it becomes a `TcpStream` (`connect`) or a
//! `TcpListener` (`listen`).
//!
//! Called by user code, for what `TcpListener::bind` and
//! `TcpStream::connect` do not offer: `SO_REUSEPORT` (several listeners on
//! one port, one per thread: see `examples/multicore_echo.rs`), the
//! backlog, binding a client to a local address or device, buffer sizes.
//! Holds a plain `sys::socket::Socket`, **not registered** with any
//! reactor, so it can be made and configured anywhere (even outside a
//! runtime, or on another thread); registration happens in `listen` and
//! `connect`, which must run inside an ember runtime. Options are
//! `sys/sockopt.rs`'s.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use super::{TcpListener, TcpStream};
use crate::sys::socket::{Kind, Socket};

/// A TCP socket before it connects or listens: set its options, then
/// [`connect`](Self::connect) or [`listen`](Self::listen).
///
/// ```no_run
/// use ember::net::TcpSocket;
///
/// ember::block_on(async {
///     // A listener that shares its port with other threads' listeners.
///     let socket = TcpSocket::new_v4()?;
///     socket.set_reuseport(true)?;
///     socket.bind("127.0.0.1:7000".parse().unwrap())?;
///     let listener = socket.listen(4096)?;
///     # drop(listener);
///
///     // A client that resets its connection when dropped.
///     let socket = TcpSocket::new_v4()?;
///     socket.set_linger(Some(std::time::Duration::ZERO))?;
///     let stream = socket.connect("127.0.0.1:7000".parse().unwrap()).await?;
///     # drop(stream);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Nothing here needs a runtime until `listen` or `connect`, which
/// register the socket with the current one (and panic outside one).
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (non-blocking, close-on-exec).
    pub fn new_v4() -> io::Result<TcpSocket> {
        Ok(TcpSocket {
            inner: Socket::new_ip(false, Kind::Stream)?,
        })
    }

    /// A new IPv6 TCP socket (non-blocking, close-on-exec).
    pub fn new_v6() -> io::Result<TcpSocket> {
        Ok(TcpSocket {
            inner: Socket::new_ip(true, Kind::Stream)?,
        })
    }

    /// Sets `SO_REUSEADDR`: a listener may bind a port that connections
    /// of a previous run still hold in `TIME_WAIT`. (`TcpListener::bind`
    /// sets it; a `TcpSocket` starts without it.)
    pub fn set_reuseaddr(&self, on: bool) -> io::Result<()> {
        self.inner.set_reuseaddr(on)
    }

    /// Whether `SO_REUSEADDR` is set.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuseaddr()
    }

    /// Sets `SO_REUSEPORT`: several sockets of the same user, each with it
    /// set, may bind the same address and port. For listeners the kernel
    /// then spreads incoming connections across them (by a hash of the
    /// connection's addresses), which is how one listener per thread
    /// shares a port.
    pub fn set_reuseport(&self, on: bool) -> io::Result<()> {
        self.inner.set_reuseport(on)
    }

    /// Whether `SO_REUSEPORT` is set.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuseport()
    }

    /// Sets `SO_LINGER`; see [`TcpStream::set_linger`], and never a
    /// non-zero duration on a socket ember drives.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(linger)
    }

    /// `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// Sets `TCP_NODELAY` (see [`TcpStream::set_nodelay`]).
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.inner.set_nodelay(on)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    /// Sets `SO_KEEPALIVE`: the kernel probes an idle connection and
    /// resets it if the peer is gone (after about two hours, by the
    /// system's defaults).
    pub fn set_keepalive(&self, on: bool) -> io::Result<()> {
        self.inner.set_keepalive(on)
    }

    /// Whether `SO_KEEPALIVE` is set.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `SO_SNDBUF`, the send buffer's size. Linux doubles the value
    /// (room for its bookkeeping) and clamps it to `net.core.wmem_max`;
    /// [`send_buffer_size`](Self::send_buffer_size) reports the result.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size)
    }

    /// `SO_SNDBUF`, as the kernel holds it (see the setter).
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner.send_buffer_size()
    }

    /// Sets `SO_RCVBUF`, as [`set_send_buffer_size`](Self::set_send_buffer_size)
    /// for the receive buffer (clamped to `net.core.rmem_max`).
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size)
    }

    /// `SO_RCVBUF`, as the kernel holds it.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner.recv_buffer_size()
    }

    /// Sets `IP_TOS`, the type-of-service byte of outgoing IPv4 packets.
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.inner.set_tos(tos)
    }

    /// `IP_TOS`.
    pub fn tos(&self) -> io::Result<u32> {
        self.inner.tos()
    }

    /// Binds the socket to a network interface by name (`SO_BINDTODEVICE`,
    /// `b"lo"`, `b"eth0"`): only packets of that interface are received,
    /// and sends go out through it. `None` undoes it. Kernels before 5.7
    /// ask for `CAP_NET_RAW` (an error of kind `PermissionDenied`).
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        self.inner.bind_device(interface)
    }

    /// The interface the socket is bound to, if any.
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        self.inner.device()
    }

    /// Binds to a local address (port 0: the kernel picks one). For a
    /// client, this fixes the source address of `connect`.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr)
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The pending socket error (`SO_ERROR`), cleared by reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Starts listening, with a queue of `backlog` connections not yet
    /// accepted (the kernel caps it at `net.core.somaxconn`), and
    /// registers the listener with the current runtime.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = backlog.min(i32::MAX as u32) as i32;
        self.inner.listen(backlog)?;
        TcpListener::from_socket(self.inner)
    }

    /// Connects to `addr` (a non-blocking connect: registered while the
    /// handshake runs, `SO_ERROR` read once it is writable), and gives the
    /// stream. A refused connection is an error of kind
    /// `ConnectionRefused`; bound it with `ember::time::timeout`.
    ///
    /// # Panics
    /// Outside an ember runtime.
    ///
    /// # Cancel safety
    /// Dropping it midway abandons the attempt and closes the socket.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_socket(self.inner, addr).await
    }

    /// Turns a std stream into a `TcpSocket` (for its options), making it
    /// non-blocking.
    ///
    /// # Panics
    /// If the socket cannot be made non-blocking (`fcntl(2)` on an open
    /// fd fails only with `EBADF`, which an owned stream rules out).
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        match Socket::from_owned(OwnedFd::from(stream)) {
            Ok(inner) => TcpSocket { inner },
            Err(e) => panic!("TcpSocket::from_std_stream: cannot set O_NONBLOCK: {e}"),
        }
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TcpSocket");
        if let Ok(addr) = self.local_addr() {
            d.field("local", &addr);
        }
        d.field("fd", &self.as_raw_fd()).finish()
    }
}
