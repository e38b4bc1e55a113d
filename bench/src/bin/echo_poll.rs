//! Echo server on `poll(2)` (raw `libc`, one thread, level-triggered), kept
//! for the guide's "Measured" section (`bench/c10k.py`).
//!
//! The interest list is a `Vec<pollfd>` the program owns: entry 0 is the
//! listener, entry `i + 1` belongs to `conns[i]`. Every call hands the
//! whole array to the kernel, and afterwards the program scans all of it
//! for non-zero `revents`: O(connections) per wake-up, however few are
//! ready. Unlike `select` there is no fd limit. Sockets are non-blocking; a
//! readable socket gets one read per wake-up (level-triggered: if more is
//! left, the next `poll` says so). A connection with unsent output waits
//! for POLLOUT instead of POLLIN.
//!
//! Usage: `echo_poll [ADDR]` (default 127.0.0.1:7000).

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
        eprintln!("echo_poll: {e}");
        std::process::exit(1);
    }
}

fn run(addr: std::net::SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    server::announce(listener.local_addr()?);

    // Invariant: pollfds.len() == conns.len() + 1, pollfds[i + 1] is conns[i].
    let mut pollfds = vec![pollfd(listener.as_raw_fd(), libc::POLLIN)];
    let mut conns: Vec<Conn> = Vec::new();
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        if let Err(e) = poll(&mut pollfds) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        // The scan, from the back so that swap_remove only moves an entry
        // that has already been looked at.
        for i in (0..conns.len()).rev() {
            let revents = pollfds[i + 1].revents;
            if revents == 0 {
                continue;
            }
            let conn = &mut conns[i];
            let keep = if !conn.pending.is_empty() {
                flush(conn)
            } else {
                // POLLIN, or POLLHUP/POLLERR, which the read then reports.
                echo_once(conn, &mut buf)
            };
            if keep {
                let events = if conn.pending.is_empty() {
                    libc::POLLIN
                } else {
                    libc::POLLOUT
                };
                pollfds[i + 1].events = events;
            } else {
                pollfds.swap_remove(i + 1);
                conns.swap_remove(i); // Dropping the OwnedFd closes the socket.
            }
        }
        if pollfds[0].revents != 0 {
            accept_all(listener.as_raw_fd(), &mut pollfds, &mut conns);
        }
    }
}

/// Accepts every pending connection, appending it to both lists.
fn accept_all(listener: RawFd, pollfds: &mut Vec<libc::pollfd>, conns: &mut Vec<Conn>) {
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
                eprintln!("echo_poll: accept: {e}");
                return;
            }
        };
        // A failure here means the socket is already dead; reads will say so.
        let _ = sys::set_nodelay(fd.as_raw_fd());
        pollfds.push(pollfd(fd.as_raw_fd(), libc::POLLIN));
        conns.push(Conn {
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

fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// `poll(2)` on every entry, no timeout; returns how many have events.
fn poll(fds: &mut [libc::pollfd]) -> io::Result<usize> {
    // SAFETY: `fds` is a valid, writable array of exactly `fds.len()`
    // pollfd entries for the whole call; the kernel writes only `revents`.
    let ret = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}
