//! `UdpSocket`: a UDP socket, registered with the reactor.
//!
//! Created by `bind` or from a std socket. A thin type over
//! `Registered<Socket>`; what it shares with `UnixDatagram` (connected
//! sends and receives, readiness, the `try_*` family) is written once in
//! `net/datagram.rs`, and this file keeps what takes or returns an IP
//! address. `send_to` resolves a host name
//! through `net::resolve_first` (on the blocking pool; a socket address is
//! used as is, with no allocation); `bind` and `connect`, plain functions,
//! resolve with std on the calling thread (`net::each_addr`).

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd};
use std::task::{Context, Poll};

use crate::io::registered::Registered;
use crate::net::each_addr;
use crate::reactor::Direction;
use crate::sys::socket::Socket;

/// A UDP socket.
///
/// UDP has no connection: [`bind`](Self::bind) a socket, then
/// [`send_to`](Self::send_to) any address and [`recv_from`](Self::recv_from)
/// anyone. [`connect`](Self::connect) only sets a default destination for
/// [`send`](Self::send) and makes [`recv`](Self::recv) keep only that
/// peer's datagrams; it sends nothing.
///
/// # Datagrams, not bytes
/// Each send is one datagram, and each receive takes exactly one datagram
/// off the queue. A datagram longer than the buffer given to a receive is
/// **truncated**, as the OS does: the buffer is filled, the count returned
/// is `buf.len()`, and the rest of that datagram is lost (the next receive
/// gets the next datagram). Size the buffer for the largest datagram you
/// expect (65,507 bytes is UDP's limit over IPv4). An empty datagram is
/// valid and reads as `Ok(0)`, which, unlike on a stream, does not mean the
/// end of anything.
///
/// ```no_run
/// use ember::net::UdpSocket;
///
/// ember::block_on(async {
///     let socket = UdpSocket::bind("127.0.0.1:8053")?;
///     let mut buf = [0u8; 1500];
///     loop {
///         let (n, peer) = socket.recv_from(&mut buf).await?;
///         socket.send_to(&buf[..n], peer).await?;
///     }
///     # #[allow(unreachable_code)]
///     # Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    io: Registered<Socket>,
}

impl UdpSocket {
    /// Binds to `addr` (the first address it resolves to that works). Bind
    /// to port 0 to let the kernel pick a free port, then ask
    /// [`local_addr`](Self::local_addr).
    ///
    /// A plain function, as in std: binding involves no round trip. Like
    /// std, it resolves host names on the calling thread.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(addr, |addr| {
            let socket = Socket::new_udp(&addr)?;
            socket.bind(&addr)?;
            UdpSocket::from_socket(socket)
        })
    }

    fn from_socket(socket: Socket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: Registered::new(socket)?,
        })
    }

    /// Wraps a std socket, making it non-blocking.
    ///
    /// # Panics
    /// Outside an ember runtime.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_socket(Socket::from_owned(OwnedFd::from(socket))?)
    }

    /// Deregisters the socket and returns it as a std socket (still
    /// non-blocking).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(std::net::UdpSocket::from(self.io.into_inner().into_owned()))
    }

    /// Sets the default destination of [`send`](Self::send), and keeps only
    /// datagrams from `addr` for [`recv`](Self::recv) (the first address it
    /// resolves to that works). Nothing is sent: it completes at once,
    /// which is why it is a plain function, as in std (and, as in std, a
    /// host name is resolved on the calling thread). Errors the network
    /// reports later (an ICMP "port unreachable") surface on the next send
    /// or receive, as `ConnectionRefused`.
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, |addr| self.io.get_ref().connect_now(&addr))
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address given to [`connect`](Self::connect); `NotConnected` if
    /// there is none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sends `buf` as one datagram to `target` (the first address it
    /// resolves to). A host name is resolved as `TcpStream::connect`
    /// resolves one; a `SocketAddr` needs no resolving.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before it completes, nothing was sent.
    pub async fn send_to(
        &self,
        buf: &[u8],
        target: impl crate::net::ToSocketAddrs,
    ) -> io::Result<usize> {
        let target = crate::net::resolve_first(target).await?;
        self.io
            .async_io(Direction::Write, |s| s.send_to(buf, &target))
            .await
    }

    /// Receives one datagram into `buf`; returns its length (truncated to
    /// `buf.len()`, see the type's docs) and its sender.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before it completes, no datagram was taken.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Direction::Read, |s| s.recv_from(buf))
            .await
    }

    /// Like [`recv_from`](Self::recv_from), but leaves the datagram queued:
    /// the next receive gets it again.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .async_io(Direction::Read, |s| s.peek_from(buf))
            .await
    }

    /// The sender of the next datagram, which stays queued.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        // A zero-length peek reads the address and leaves the datagram.
        self.io
            .async_io(Direction::Read, |s| s.peek_from(&mut []))
            .await
            .map(|(_, addr)| addr)
    }

    /// `Ready` once `buf` went out as one datagram to `target`; stores the
    /// waker otherwise.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io_with(cx, Direction::Write, None, |s| s.send_to(buf, &target))
    }

    /// `Ready` with one datagram and its sender; stores the waker otherwise.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .poll_io_with(cx, Direction::Read, None, |s| s.recv_from(buf))
    }

    /// Sends to `target` without waiting; `WouldBlock` if the send buffer
    /// is full.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |s| s.send_to(buf, &target))
    }

    /// Receives one datagram without waiting; `WouldBlock` if none is
    /// queued.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| s.recv_from(buf))
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
                crate::io::read_buf::fill_vec(buf, |b| s.recv_from_buf(b))
            })
            .await
    }

    /// [`recv_buf_from`](Self::recv_buf_from) without waiting;
    /// `WouldBlock` if no datagram is queued.
    pub fn try_recv_buf_from(&self, buf: &mut Vec<u8>) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Direction::Read, |s| {
            crate::io::read_buf::fill_vec(buf, |b| s.recv_from_buf(b))
        })
    }

    /// Sets `SO_BROADCAST`: whether sends to a broadcast address are
    /// allowed.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets `IP_TTL`, the time-to-live of outgoing unicast packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_TOS`, the type-of-service byte of outgoing IPv4 packets
    /// (DSCP and ECN bits).
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.io.get_ref().set_tos(tos)
    }

    /// `IP_TOS`.
    pub fn tos(&self) -> io::Result<u32> {
        self.io.get_ref().tos()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface whose
    /// address is `interface` (`Ipv4Addr::UNSPECIFIED`: the kernel picks
    /// one by its routes). Fails (`ENODEV`) when no interface can carry it.
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().multicast_v4(true, multiaddr, interface)
    }

    /// Leaves a group joined with [`join_multicast_v4`](Self::join_multicast_v4).
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().multicast_v4(false, multiaddr, interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface numbered
    /// `interface` (0: the kernel picks one). The socket must be IPv6.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().multicast_v6(true, multiaddr, interface)
    }

    /// Leaves a group joined with [`join_multicast_v6`](Self::join_multicast_v6).
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().multicast_v6(false, multiaddr, interface)
    }

    /// Sets `IP_MULTICAST_LOOP`: whether this host's own members of a
    /// group receive what the socket sends to it (on by default).
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// `IP_MULTICAST_LOOP`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`, as
    /// [`set_multicast_loop_v4`](Self::set_multicast_loop_v4) for IPv6.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// `IPV6_MULTICAST_LOOP`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Sets `IP_MULTICAST_TTL`, the time-to-live of outgoing IPv4
    /// multicast packets (1 by default: they stay on the local network).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// `IP_MULTICAST_TTL`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }
}

crate::net::datagram::datagram_socket!(UdpSocket);

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("UdpSocket");
        if let Ok(addr) = self.local_addr() {
            d.field("local", &addr);
        }
        if let Ok(addr) = self.peer_addr() {
            d.field("peer", &addr);
        }
        d.field("fd", &self.as_raw_fd()).finish()
    }
}
