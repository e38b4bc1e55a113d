//! Echo server on `select(2)` (raw `libc`, one thread, level-triggered):
//! the oldest way to multiplex sockets, kept for the guide's "Measured"
//! section (`bench/c10k.py`).
//!
//! Every loop iteration rebuilds two `fd_set` bitmaps (read interest for
//! the listener and for connections with nothing to send back, write
//! interest for connections with unsent output), calls `select`, then scans
//! every connection for its bit: O(connections) per wake-up, however few
//! are ready. Sockets are non-blocking; a readable socket gets one read per
//! wake-up (level-triggered: if more is left, the next `select` says so).
//!
//! An `fd_set` has `FD_SETSIZE` (1,024) bits, so an fd numbered 1,024 or
//! more cannot be watched at all: setting its bit would write past the end
//! of the bitmap. Such a connection is closed right after `accept`, with a
//! message on stderr. That limit is part of the lesson.
//!
//! Usage: `echo_select [ADDR]` (default 127.0.0.1:7000).

use std::io::{self, ErrorKind};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use ember_bench::server::{self, BUF_SIZE};
use ember_bench::sys;

/// One client connection.
struct Conn {
    fd: OwnedFd,
    /// Bytes read but not yet written back. While non-empty we do not read.
    pending: Vec<u8>,
}

fn main() {
    let addr = server::listen_addr();
    if let Err(e) = run(addr) {
        eprintln!("echo_select: {e}");
        std::process::exit(1);
    }
}

fn run(addr: std::net::SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let listen_fd = listener.as_raw_fd();
    if !FdSet::fits(listen_fd) {
        return Err(io::Error::other(
            "the listening socket's fd is >= FD_SETSIZE",
        ));
    }
    server::announce(listener.local_addr()?);

    // Connections indexed by fd number (all < FD_SETSIZE); one read buffer.
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let mut readable = FdSet::new();
        let mut writable = FdSet::new();
        readable.insert(listen_fd);
        let mut max_fd = listen_fd;
        for conn in conns.iter().flatten() {
            let fd = conn.fd.as_raw_fd();
            if conn.pending.is_empty() {
                readable.insert(fd);
            } else {
                writable.insert(fd);
            }
            max_fd = max_fd.max(fd);
        }
        if let Err(e) = select(max_fd + 1, &mut readable, &mut writable) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        // The scan: every connection is looked at, ready or not.
        for slot in conns.iter_mut() {
            let Some(conn) = slot else { continue };
            let fd = conn.fd.as_raw_fd();
            let keep = if writable.contains(fd) {
                flush(conn)
            } else if readable.contains(fd) {
                echo_once(conn, &mut buf)
            } else {
                true
            };
            if !keep {
                *slot = None; // Dropping the OwnedFd closes the socket.
            }
        }
        if readable.contains(listen_fd) {
            accept_all(listen_fd, &mut conns);
        }
    }
}

/// Accepts every pending connection, closing those `select` cannot watch.
fn accept_all(listener: RawFd, conns: &mut Vec<Option<Conn>>) {
    loop {
        let fd = match sys::accept_nonblocking(listener) {
            Ok(fd) => fd,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                ) =>
            {
                continue
            }
            Err(e) => {
                // E.g. EMFILE: report it; the listener stays readable, so we retry.
                eprintln!("echo_select: accept: {e}");
                return;
            }
        };
        let raw = fd.as_raw_fd();
        if !FdSet::fits(raw) {
            eprintln!(
                "echo_select: refusing a connection: its fd {raw} is >= FD_SETSIZE ({}), \
                 which select(2) cannot watch; closing it",
                libc::FD_SETSIZE
            );
            continue; // `fd` is dropped, so closed, here.
        }
        // A failure here means the socket is already dead; reads will say so.
        let _ = sys::set_nodelay(raw);
        let index = raw as usize;
        if conns.len() <= index {
            conns.resize_with(index + 1, || None);
        }
        conns[index] = Some(Conn {
            fd,
            pending: Vec::new(),
        });
    }
}

/// One read and its echo; `false` when the connection is finished.
fn echo_once(conn: &mut Conn, buf: &mut [u8]) -> bool {
    let fd = conn.fd.as_raw_fd();
    let n = match sys::read(fd, buf) {
        Ok(0) => return false,
        Ok(n) => n,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
            return true
        }
        Err(_) => return false,
    };
    match sys::write_some(fd, &buf[..n]) {
        Ok(written) => {
            conn.pending.extend_from_slice(&buf[written..n]);
            true
        }
        Err(_) => false,
    }
}

/// Sends what is pending; `false` when the connection is finished.
fn flush(conn: &mut Conn) -> bool {
    match sys::write_some(conn.fd.as_raw_fd(), &conn.pending) {
        Ok(written) => {
            conn.pending.drain(..written);
            true
        }
        Err(_) => false,
    }
}

/// A `libc::fd_set` that refuses fds it cannot hold.
///
/// # Invariant
/// Only fds in `0..FD_SETSIZE` are ever passed to `FD_SET`/`FD_ISSET`, so
/// no bit outside the bitmap is touched.
struct FdSet(libc::fd_set);

impl FdSet {
    /// Whether `fd` has a bit in an `fd_set`.
    fn fits(fd: RawFd) -> bool {
        (0..libc::FD_SETSIZE as RawFd).contains(&fd)
    }

    fn new() -> FdSet {
        let mut set = std::mem::MaybeUninit::<libc::fd_set>::uninit();
        // SAFETY: FD_ZERO writes every byte of the fd_set it is given, and
        // `set` is valid for writes of one fd_set; after it, the value is
        // fully initialised, so `assume_init` is sound.
        unsafe {
            libc::FD_ZERO(set.as_mut_ptr());
            FdSet(set.assume_init())
        }
    }

    /// Adds `fd`. Panics if `fd` does not fit (callers check at accept).
    fn insert(&mut self, fd: RawFd) {
        assert!(FdSet::fits(fd), "fd {fd} does not fit in an fd_set");
        // SAFETY: `fd` is in 0..FD_SETSIZE (checked above), so its bit lies
        // inside the bitmap that `self.0` owns.
        unsafe { libc::FD_SET(fd, &mut self.0) };
    }

    /// Whether `fd` is in the set (false for fds that cannot be).
    fn contains(&self, fd: RawFd) -> bool {
        // SAFETY: `fd` is in 0..FD_SETSIZE (checked first), so FD_ISSET
        // only reads a bit inside `self.0`.
        FdSet::fits(fd) && unsafe { libc::FD_ISSET(fd, &self.0) }
    }
}

/// `select(2)` on read and write sets, no timeout; returns how many fds are ready.
fn select(nfds: RawFd, readable: &mut FdSet, writable: &mut FdSet) -> io::Result<usize> {
    // SAFETY: both sets are valid, writable fd_sets for the whole call;
    // `nfds` is at most FD_SETSIZE because every fd inserted fits, so the
    // kernel reads and writes only bits inside them. A null exceptfds and a
    // null timeout (wait forever) are allowed.
    let ret = unsafe {
        libc::select(
            nfds,
            &mut readable.0,
            &mut writable.0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}
