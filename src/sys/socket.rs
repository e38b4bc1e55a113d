//! Sockets: `socket(2)`, `bind(2)`, `listen(2)`, `accept4(2)`, `connect(2)`,
//! `getsockopt(2)`/`setsockopt(2)`, `shutdown(2)`, `recv(2)` and `send(2)`.
//!
//! Called by `net`. Every socket is created `SOCK_NONBLOCK | SOCK_CLOEXEC`
//! (accepted ones too, through `accept4`), and every send passes
//! `MSG_NOSIGNAL`, so writing to a closed peer is `EPIPE`, never `SIGPIPE`.

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::{cvt, cvt_retry};

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
        let domain = match addr {
            SocketAddr::V4(_) => libc::AF_INET,
            SocketAddr::V6(_) => libc::AF_INET6,
        };
        let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: no pointers; valid constants.
        let raw = cvt(unsafe { libc::socket(domain, ty, 0) })?;
        // SAFETY: `raw` is a fresh fd owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Socket { fd })
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

    pub(crate) fn set_reuseaddr(&self) -> io::Result<()> {
        self.setsockopt(libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)
    }

    pub(crate) fn bind(&self, addr: &SocketAddr) -> io::Result<()> {
        let (storage, len) = to_raw(addr);
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
        let addr = from_raw(unsafe { storage.assume_init_ref() }, len)?;
        Ok((socket, addr))
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

    /// Reads and clears the pending error (`SO_ERROR`): after a non-blocking
    /// connect, `None` means the connection is established.
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        let code = self.getsockopt(libc::SOL_SOCKET, libc::SO_ERROR)?;
        Ok((code != 0).then(|| io::Error::from_raw_os_error(code)))
    }

    pub(crate) fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
        let n =
            cvt_retry(|| unsafe { libc::recv(self.raw(), buf.as_mut_ptr().cast(), buf.len(), 0) })?;
        Ok(n as usize)
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
        self.name(libc::getsockname)
    }

    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.name(libc::getpeername)
    }

    pub(crate) fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.setsockopt(libc::IPPROTO_TCP, libc::TCP_NODELAY, on as libc::c_int)
    }

    pub(crate) fn nodelay(&self) -> io::Result<bool> {
        Ok(self.getsockopt(libc::IPPROTO_TCP, libc::TCP_NODELAY)? != 0)
    }

    fn name(
        &self,
        call: unsafe extern "C" fn(
            libc::c_int,
            *mut libc::sockaddr,
            *mut libc::socklen_t,
        ) -> libc::c_int,
    ) -> io::Result<SocketAddr> {
        let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
        let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `call` is getsockname or getpeername; `storage` is writable
        // for `len` bytes and `len` is in-out.
        cvt(unsafe { call(self.raw(), storage.as_mut_ptr().cast(), &mut len) })?;
        // SAFETY: zeroed, then filled by the kernel.
        from_raw(unsafe { storage.assume_init_ref() }, len)
    }

    fn setsockopt(&self, level: i32, name: i32, value: libc::c_int) -> io::Result<()> {
        // SAFETY: `value` is a live c_int and the length says so.
        cvt(unsafe {
            libc::setsockopt(
                self.raw(),
                level,
                name,
                (&value as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        })?;
        Ok(())
    }

    fn getsockopt(&self, level: i32, name: i32) -> io::Result<libc::c_int> {
        let mut value: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `value` is writable for `len` bytes; `len` is in-out.
        cvt(unsafe {
            libc::getsockopt(
                self.raw(),
                level,
                name,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        })?;
        Ok(value)
    }

    fn raw(&self) -> RawFd {
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

// Moved to `sys/fd.rs` (it is not about sockets); kept reachable here.
pub(crate) use super::fd::set_nonblocking;

/// A `SocketAddr` as the kernel wants it.
struct RawAddr {
    storage: libc::sockaddr_storage,
}

impl RawAddr {
    fn as_ptr(&self) -> *const libc::sockaddr {
        (&self.storage as *const libc::sockaddr_storage).cast()
    }
}

fn to_raw(addr: &SocketAddr) -> (RawAddr, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned
            // for sockaddr_in.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (RawAddr { storage }, len as libc::socklen_t)
}

fn from_raw(storage: &libc::sockaddr_storage, len: libc::socklen_t) -> io::Result<SocketAddr> {
    let len = len as usize;
    match storage.ss_family as i32 {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the storage holds a sockaddr_in, and it
            // is large enough and aligned for one.
            let sin: &libc::sockaddr_in =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast() };
            let ip = sin.sin_addr.s_addr.to_ne_bytes();
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip.into(),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6: &libc::sockaddr_in6 =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast() };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                sin6.sin6_addr.s6_addr.into(),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the kernel returned an address that is neither IPv4 nor IPv6",
        )),
    }
}
