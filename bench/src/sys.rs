//! Thin, safe wrappers over the few `libc` calls the hand-written epoll
//! programs (`loadgen`, `echo_epoll`) need. Each wrapper maps `-1` to
//! `io::Error::last_os_error()` and otherwise does nothing clever.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub use libc::{EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP};

/// Turns a `-1` return value into the current `errno` error.
fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Same as [`cvt`], for calls returning `ssize_t`.
fn cvt_size(ret: libc::ssize_t) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// An empty event, for sizing the buffer passed to [`Epoll::wait`].
pub const EMPTY_EVENT: libc::epoll_event = libc::epoll_event { events: 0, u64: 0 };

/// An epoll instance; closed on drop.
pub struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes no pointers; on success it returns a
        // fresh descriptor that nothing else owns, so OwnedFd may take it.
        let fd = unsafe { cvt(libc::epoll_create1(libc::EPOLL_CLOEXEC))? };
        // SAFETY: see above, `fd` is a new, valid, exclusively owned fd.
        Ok(Epoll {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Registers `fd` for `events`, tagging its events with `token`.
    pub fn add(&self, fd: RawFd, events: libc::c_int, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, events, token)
    }

    /// Changes the interest set (and token) of an already registered `fd`.
    pub fn modify(&self, fd: RawFd, events: libc::c_int, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, events, token)
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: libc::c_int, token: u64) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: events as u32,
            u64: token,
        };
        // SAFETY: `event` is a valid, initialised epoll_event that lives for
        // the whole call; the kernel only reads it. A bad `fd` is reported
        // as an error, not undefined behaviour.
        unsafe { cvt(libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut event))? };
        Ok(())
    }

    /// Waits up to `timeout_ms` (-1: forever) for events, filling the front
    /// of `events` and returning how many were filled. An interrupted wait
    /// (EINTR) returns `Ok(0)`.
    pub fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> io::Result<usize> {
        let max = events.len().min(libc::c_int::MAX as usize) as libc::c_int;
        // SAFETY: `events` is a valid, writable buffer of at least `max`
        // epoll_event entries for the duration of the call, and the kernel
        // writes at most `max` entries into it.
        let ret =
            unsafe { libc::epoll_wait(self.fd.as_raw_fd(), events.as_mut_ptr(), max, timeout_ms) };
        match cvt(ret) {
            Ok(n) => Ok(n as usize),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
}

/// Accepts one pending connection as a non-blocking, close-on-exec socket.
pub fn accept_nonblocking(listener: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: null address pointers are allowed (we do not want the peer
    // address); the flags are valid for accept4.
    let fd = unsafe {
        cvt(libc::accept4(
            listener,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        ))?
    };
    // SAFETY: accept4 succeeded, so `fd` is a new descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets TCP_NODELAY on a TCP socket.
pub fn set_nodelay(fd: RawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `on` is a live c_int and we pass its exact size; the kernel
    // only reads it.
    unsafe {
        cvt(libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ))?
    };
    Ok(())
}

/// `read(2)` into `buf`.
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole call.
    cvt_size(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })
}

/// `send(2)` with MSG_NOSIGNAL, so a closed peer gives EPIPE instead of SIGPIPE.
pub fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the whole call.
    cvt_size(unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) })
}

/// Sends as much of `data` as the socket takes: `Ok(data.len())` when all
/// of it went, fewer when the socket buffer filled up (EAGAIN). Retries on
/// EINTR; a zero-byte send is `WriteZero`.
#[inline]
pub fn write_some(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    while written < data.len() {
        match send(fd, &data[written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}
