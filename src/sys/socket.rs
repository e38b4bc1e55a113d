//! Sockets: `socket(2)`, `socketpair(2)`, `bind(2)`, `listen(2)`,
//! `accept4(2)`, `connect(2)`, `getsockname(2)`/`getpeername(2)`,
//! `shutdown(2)`, `recv(2)`/`recvfrom(2)` and `send(2)`/`sendto(2)`/`sendmsg(2)`.
//! Options (`setsockopt(2)`/`getsockopt(2)`) are in `sockopt.rs`.
//!
//! Called by `net`: TCP and UDP (`ip(7)`), and Unix-domain sockets
//! (`unix(7)`). Relies on `addr.rs` and `unix_addr.rs` to turn std's
//! address types into the kernel's and back, and on `fd.rs` for
//! `O_NONBLOCK` on sockets made elsewhere.
//!
//! # Invariant
//! Every [`Socket`] is non-blocking from the line that wraps it. The ones
//! ember creates are `SOCK_NONBLOCK | SOCK_CLOEXEC` from birth (accepted
//! ones too, through `accept4`, and both ends of a `socketpair`); one taken
//! from std or another crate (`from_owned`) is set non-blocking before it
//! is wrapped, and keeps whatever close-on-exec flag it had (std sets it).
//! Every send passes `MSG_NOSIGNAL`, so writing to a closed peer is
//! `EPIPE`, never `SIGPIPE`.
//!
//! The calls that take or return an address come in two typed flavours
//! (`std::net::SocketAddr` for IP, `std::os::unix::net::SocketAddr` for Unix)
//! over one raw helper each (`bind_raw`, `accept_raw`, `name`, ...), so the
//! unsafe code is written once.

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::SocketAddr as UnixAddr;

use super::addr::{from_raw, ip_domain, to_raw, RawAddr};
use super::fd::set_nonblocking;
use super::{cvt, cvt_retry, unix_addr};

/// The most slices one `sendmsg` takes (`UIO_MAXIOV`); callers pass at most
/// this many, so that "fewer bytes sent than offered" still means "the send
/// buffer is full".
pub(crate) const MAX_IOV: usize = libc::UIO_MAXIOV as usize;

/// A non-blocking, close-on-exec socket.
///
/// # Invariant
/// `fd` is a socket with `O_NONBLOCK` set.
#[derive(Debug)]
pub(crate) struct Socket {
    fd: OwnedFd,
}

/// The two socket types ember makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `SOCK_STREAM`: a connected byte stream (TCP, Unix streams).
    Stream,
    /// `SOCK_DGRAM`: datagrams, whole or not at all (UDP, Unix datagrams).
    Datagram,
}

impl Kind {
    fn raw(self) -> libc::c_int {
        match self {
            Kind::Stream => libc::SOCK_STREAM,
            Kind::Datagram => libc::SOCK_DGRAM,
        }
    }
}

/// The result of starting a non-blocking connect.
pub(crate) enum ConnectStart {
    /// Connected at once (it happens on loopback).
    Done,
    /// `EINPROGRESS`: wait for writability, then read `SO_ERROR`.
    InProgress,
}

impl Socket {
    /// A new TCP socket for `addr`'s family.
    pub(crate) fn new_tcp(addr: &SocketAddr) -> io::Result<Socket> {
        Socket::new(ip_domain(addr), Kind::Stream)
    }

    /// A new IP socket of `kind`: IPv6 if `v6`, else IPv4 (for
    /// `TcpSocket::new_v4`/`new_v6`, before any address is known).
    pub(crate) fn new_ip(v6: bool, kind: Kind) -> io::Result<Socket> {
        let domain = if v6 { libc::AF_INET6 } else { libc::AF_INET };
        Socket::new(domain, kind)
    }

    /// A new UDP socket for `addr`'s family.
    pub(crate) fn new_udp(addr: &SocketAddr) -> io::Result<Socket> {
        Socket::new(ip_domain(addr), Kind::Datagram)
    }

    /// A new Unix-domain socket, not yet bound or connected.
    pub(crate) fn new_unix(kind: Kind) -> io::Result<Socket> {
        Socket::new(libc::AF_UNIX, kind)
    }

    fn new(domain: libc::c_int, kind: Kind) -> io::Result<Socket> {
        let ty = kind.raw() | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: no pointers; valid constants.
        let raw = cvt(unsafe { libc::socket(domain, ty, 0) })?;
        // SAFETY: `raw` is a fresh fd owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Socket { fd })
    }

    /// Two Unix-domain sockets connected to each other (`socketpair(2)`),
    /// both non-blocking and close-on-exec from the start.
    pub(crate) fn pair_unix(kind: Kind) -> io::Result<(Socket, Socket)> {
        let ty = kind.raw() | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        let mut fds = [-1 as libc::c_int; 2];
        // SAFETY: `fds` is a live, writable array of the two ints the call
        // fills in.
        cvt(unsafe { libc::socketpair(libc::AF_UNIX, ty, 0, fds.as_mut_ptr()) })?;
        // SAFETY: on success both entries are fresh fds owned by nobody else.
        let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok((Socket { fd: a }, Socket { fd: b }))
    }

    /// Takes ownership of a socket made elsewhere (std, another crate) and
    /// makes it non-blocking.
    pub(crate) fn from_owned(fd: OwnedFd) -> io::Result<Socket> {
        set_nonblocking(fd.as_fd())?;
        Ok(Socket { fd })
    }

    pub(crate) fn into_owned(self) -> OwnedFd {
        self.fd
    }

    pub(crate) fn bind(&self, addr: &SocketAddr) -> io::Result<()> {
        let (storage, len) = to_raw(addr);
        self.bind_raw(&storage, len)
    }

    /// Binds a Unix-domain socket. A path that exists already (a stale
    /// socket file included) is `EADDRINUSE`: the file is never removed here.
    pub(crate) fn bind_unix(&self, addr: &UnixAddr) -> io::Result<()> {
        let (storage, len) = unix_addr::to_raw(addr)?;
        self.bind_raw(&storage, len)
    }

    fn bind_raw(&self, storage: &RawAddr, len: libc::socklen_t) -> io::Result<()> {
        // SAFETY: `storage` holds a valid sockaddr of `len` bytes.
        cvt(unsafe { libc::bind(self.raw(), storage.as_ptr(), len) })?;
        Ok(())
    }

    pub(crate) fn listen(&self, backlog: i32) -> io::Result<()> {
        // SAFETY: no pointers.
        cvt(unsafe { libc::listen(self.raw(), backlog) })?;
        Ok(())
    }

    /// Accepts one pending connection, already non-blocking and close-on-exec.
    pub(crate) fn accept(&self) -> io::Result<(Socket, SocketAddr)> {
        let (socket, storage, len) = self.accept_raw()?;
        Ok((socket, from_raw(&storage, len)?))
    }

    /// [`accept`](Self::accept) for a Unix-domain listener.
    pub(crate) fn accept_unix(&self) -> io::Result<(Socket, UnixAddr)> {
        let (socket, storage, len) = self.accept_raw()?;
        Ok((socket, unix_addr::from_raw(&storage, len)?))
    }

    fn accept_raw(&self) -> io::Result<(Socket, libc::sockaddr_storage, libc::socklen_t)> {
        let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
        let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: `storage` is writable for `len` bytes; `len` is in-out.
        let raw = cvt_retry(|| unsafe {
            libc::accept4(self.raw(), storage.as_mut_ptr().cast(), &mut len, flags)
        })?;
        // SAFETY: `raw` is a fresh fd owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let socket = Socket { fd };
        // SAFETY: the kernel wrote a sockaddr of `len` bytes into `storage`
        // (zeroed beforehand, so the rest is initialised too).
        let storage = unsafe { storage.assume_init() };
        Ok((socket, storage, len))
    }

    /// Starts a connect. Must be called before the socket is registered with
    /// epoll: an unconnected TCP socket reports `EPOLLHUP`, which would read as
    /// "closed" rather than "connecting".
    pub(crate) fn connect(&self, addr: &SocketAddr) -> io::Result<ConnectStart> {
        let (storage, len) = to_raw(addr);
        // SAFETY: `storage` holds a valid sockaddr of `len` bytes.
        match cvt(unsafe { libc::connect(self.raw(), storage.as_ptr(), len) }) {
            Ok(_) => Ok(ConnectStart::Done),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(ConnectStart::InProgress),
            // A signal interrupted the connect; it goes on in the background,
            // exactly as if it had answered EINPROGRESS (connect(2)).
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(ConnectStart::InProgress),
            Err(e) => Err(e),
        }
    }

    /// Connects a datagram socket (UDP), which completes at once: it only
    /// sets the default destination and filters what `recv` receives.
    pub(crate) fn connect_now(&self, addr: &SocketAddr) -> io::Result<()> {
        let (storage, len) = to_raw(addr);
        self.connect_raw(&storage, len)
    }

    /// Connects a Unix-domain socket. This never answers `EINPROGRESS`: a
    /// stream connect either completes at once or, when the listener's
    /// backlog is full, fails with `EAGAIN` (`WouldBlock`, see `connect(2)`)
    /// and nothing happened, so the caller may try again later.
    pub(crate) fn connect_unix(&self, addr: &UnixAddr) -> io::Result<()> {
        let (storage, len) = unix_addr::to_raw(addr)?;
        self.connect_raw(&storage, len)
    }

    fn connect_raw(&self, storage: &RawAddr, len: libc::socklen_t) -> io::Result<()> {
        // SAFETY: `storage` holds a valid sockaddr of `len` bytes. Neither
        // kind of connect above ever sleeps, so `EINTR` cannot leave one
        // half-done; retrying it is only for form.
        cvt_retry(|| unsafe { libc::connect(self.raw(), storage.as_ptr(), len) })?;
        Ok(())
    }

    pub(crate) fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
        let n =
            cvt_retry(|| unsafe { libc::recv(self.raw(), buf.as_mut_ptr().cast(), buf.len(), 0) })?;
        Ok(n as usize)
    }

    /// [`recv`](Self::recv) into the unfilled part of `buf`, which may be
    /// uninitialised: no zeroing first. The bytes received become filled.
    #[cfg(feature = "net")]
    pub(crate) fn recv_buf(&self, buf: &mut crate::io::ReadBuf<'_>) -> io::Result<usize> {
        // SAFETY: nothing uninitialised is written through the slice: the
        // kernel only stores received bytes into it.
        let unfilled = unsafe { buf.unfilled_mut() };
        // SAFETY: `unfilled` is valid for writes of its length; `recv`
        // writes at most that many bytes.
        let n = cvt_retry(|| unsafe {
            libc::recv(self.raw(), unfilled.as_mut_ptr().cast(), unfilled.len(), 0)
        })? as usize;
        // SAFETY: `recv` returned `n`: it initialised the first `n` bytes
        // of the unfilled region.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Ok(n)
    }

    pub(crate) fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
        let n = cvt_retry(|| unsafe {
            libc::recv(
                self.raw(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_PEEK,
            )
        })?;
        Ok(n as usize)
    }

    /// Receives one datagram and its sender's address (`recvfrom(2)`). A
    /// datagram longer than `buf` is truncated to `buf.len()`; the rest of
    /// it is discarded by the kernel.
    pub(crate) fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (n, storage, len) = self.recv_from_raw(buf, 0)?;
        Ok((n, from_raw(&storage, len)?))
    }

    /// [`recv_from`](Self::recv_from) with `MSG_PEEK`: the datagram stays
    /// queued.
    pub(crate) fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (n, storage, len) = self.recv_from_raw(buf, libc::MSG_PEEK)?;
        Ok((n, from_raw(&storage, len)?))
    }

    /// [`recv_from`](Self::recv_from) for a Unix-domain datagram socket.
    pub(crate) fn recv_from_unix(&self, buf: &mut [u8]) -> io::Result<(usize, UnixAddr)> {
        let (n, storage, len) = self.recv_from_raw(buf, 0)?;
        Ok((n, unix_addr::from_raw(&storage, len)?))
    }

    /// [`recv_from_unix`](Self::recv_from_unix) with `MSG_PEEK`.
    pub(crate) fn peek_from_unix(&self, buf: &mut [u8]) -> io::Result<(usize, UnixAddr)> {
        let (n, storage, len) = self.recv_from_raw(buf, libc::MSG_PEEK)?;
        Ok((n, unix_addr::from_raw(&storage, len)?))
    }

    fn recv_from_raw(
        &self,
        buf: &mut [u8],
        flags: libc::c_int,
    ) -> io::Result<(usize, libc::sockaddr_storage, libc::socklen_t)> {
        let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
        let mut len = 0;
        let n = cvt_retry(|| {
            len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes;
            // `storage` is writable for `len` bytes and `len` is in-out.
            unsafe {
                libc::recvfrom(
                    self.raw(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    flags,
                    storage.as_mut_ptr().cast(),
                    &mut len,
                )
            }
        })?;
        // SAFETY: zeroed, then (partly) overwritten by the kernel.
        let storage = unsafe { storage.assume_init() };
        Ok((n as usize, storage, len))
    }

    /// [`recv_from`](Self::recv_from) into the unfilled part of `buf`,
    /// which may be uninitialised: no zeroing first. The bytes received
    /// become filled (a longer datagram is truncated to what is unfilled).
    pub(crate) fn recv_from_buf(
        &self,
        buf: &mut crate::io::ReadBuf<'_>,
    ) -> io::Result<(usize, SocketAddr)> {
        let (n, storage, len) = self.recv_from_buf_raw(buf)?;
        Ok((n, from_raw(&storage, len)?))
    }

    /// [`recv_from_buf`](Self::recv_from_buf) for a Unix-domain datagram
    /// socket.
    pub(crate) fn recv_from_buf_unix(
        &self,
        buf: &mut crate::io::ReadBuf<'_>,
    ) -> io::Result<(usize, UnixAddr)> {
        let (n, storage, len) = self.recv_from_buf_raw(buf)?;
        Ok((n, unix_addr::from_raw(&storage, len)?))
    }

    fn recv_from_buf_raw(
        &self,
        buf: &mut crate::io::ReadBuf<'_>,
    ) -> io::Result<(usize, libc::sockaddr_storage, libc::socklen_t)> {
        // SAFETY: nothing uninitialised is written through the slice: the
        // kernel only stores received bytes into it.
        let unfilled = unsafe { buf.unfilled_mut() };
        let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
        let mut len = 0;
        let n = cvt_retry(|| {
            len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            // SAFETY: `unfilled` is valid for writes of its length, and
            // `recvfrom` writes at most that many bytes; `storage` is
            // writable for `len` bytes and `len` is in-out.
            unsafe {
                libc::recvfrom(
                    self.raw(),
                    unfilled.as_mut_ptr().cast(),
                    unfilled.len(),
                    0,
                    storage.as_mut_ptr().cast(),
                    &mut len,
                )
            }
        })? as usize;
        // SAFETY: `recvfrom` returned `n`: it initialised the first `n`
        // bytes of the unfilled region.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        // SAFETY: zeroed, then (partly) overwritten by the kernel.
        let storage = unsafe { storage.assume_init() };
        Ok((n, storage, len))
    }

    /// Sends one datagram to `addr` (`sendto(2)`), with `MSG_NOSIGNAL`.
    pub(crate) fn send_to(&self, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
        let (storage, len) = to_raw(addr);
        self.send_to_raw(buf, &storage, len)
    }

    /// [`send_to`](Self::send_to) for a Unix-domain datagram socket.
    pub(crate) fn send_to_unix(&self, buf: &[u8], addr: &UnixAddr) -> io::Result<usize> {
        let (storage, len) = unix_addr::to_raw(addr)?;
        self.send_to_raw(buf, &storage, len)
    }

    fn send_to_raw(
        &self,
        buf: &[u8],
        storage: &RawAddr,
        len: libc::socklen_t,
    ) -> io::Result<usize> {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes; `storage`
        // holds a valid sockaddr of `len` bytes.
        let n = cvt_retry(|| unsafe {
            libc::sendto(
                self.raw(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_NOSIGNAL,
                storage.as_ptr(),
                len,
            )
        })?;
        Ok(n as usize)
    }

    /// Sends with `MSG_NOSIGNAL`: a closed peer is `EPIPE`, not `SIGPIPE`.
    pub(crate) fn send(&self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
        let n = cvt_retry(|| unsafe {
            libc::send(
                self.raw(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_NOSIGNAL,
            )
        })?;
        Ok(n as usize)
    }

    /// Vectored send (`sendmsg(2)`), also with `MSG_NOSIGNAL`. Sends from at
    /// most [`MAX_IOV`] slices.
    pub(crate) fn send_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        // SAFETY: an all-zero msghdr is valid (no name, no control data).
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        // `IoSlice` is guaranteed ABI-compatible with `iovec` on Unix.
        msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = bufs.len().min(MAX_IOV) as _;
        // SAFETY: `msg` points at `msg_iovlen` live iovecs that describe
        // readable memory borrowed for the duration of the call.
        let n = cvt_retry(|| unsafe { libc::sendmsg(self.raw(), &msg, libc::MSG_NOSIGNAL) })?;
        Ok(n as usize)
    }

    /// Vectored receive (`readv(2)`), into at most [`MAX_IOV`] slices.
    pub(crate) fn recv_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        let n = bufs.len().min(MAX_IOV) as libc::c_int;
        // SAFETY: `IoSliceMut` is guaranteed ABI-compatible with `iovec` on
        // Unix; the first `n` of them describe writable memory borrowed
        // for the duration of the call.
        let n = cvt_retry(|| unsafe {
            libc::readv(self.raw(), bufs.as_ptr() as *const libc::iovec, n)
        })?;
        Ok(n as usize)
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let how = match how {
            Shutdown::Read => libc::SHUT_RD,
            Shutdown::Write => libc::SHUT_WR,
            Shutdown::Both => libc::SHUT_RDWR,
        };
        // SAFETY: no pointers.
        cvt(unsafe { libc::shutdown(self.raw(), how) })?;
        Ok(())
    }

    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        let (storage, len) = self.name(libc::getsockname)?;
        from_raw(&storage, len)
    }

    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        let (storage, len) = self.name(libc::getpeername)?;
        from_raw(&storage, len)
    }

    pub(crate) fn local_addr_unix(&self) -> io::Result<UnixAddr> {
        let (storage, len) = self.name(libc::getsockname)?;
        unix_addr::from_raw(&storage, len)
    }

    pub(crate) fn peer_addr_unix(&self) -> io::Result<UnixAddr> {
        let (storage, len) = self.name(libc::getpeername)?;
        unix_addr::from_raw(&storage, len)
    }

    fn name(
        &self,
        call: unsafe extern "C" fn(
            libc::c_int,
            *mut libc::sockaddr,
            *mut libc::socklen_t,
        ) -> libc::c_int,
    ) -> io::Result<(libc::sockaddr_storage, libc::socklen_t)> {
        let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
        let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `call` is getsockname or getpeername; `storage` is writable
        // for `len` bytes and `len` is in-out.
        cvt(unsafe { call(self.raw(), storage.as_mut_ptr().cast(), &mut len) })?;
        // SAFETY: zeroed, then filled by the kernel.
        Ok((unsafe { storage.assume_init() }, len))
    }

    pub(super) fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Whether `e` says "no fd (or memory) for a new socket now" (`EMFILE`,
/// `ENFILE`, `ENOBUFS`, `ENOMEM`): retrying at once would fail the same way.
pub(crate) fn is_out_of_fds(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
