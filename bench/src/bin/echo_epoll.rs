//! Echo server on a hand-written, edge-triggered epoll loop (raw `libc`,
//! one thread): the practical lower bound the runtimes are compared with.
//!
//! Per round trip it costs one `read` and one `send` plus a share of one
//! `epoll_wait`: a short read counts as "drained" (no extra read to see
//! EAGAIN), and like the other servers it reads, then writes everything
//! back before reading again. If the socket buffer fills, the unsent tail
//! is kept per connection and flushed on the next EPOLLOUT edge.
//!
//! Usage: `echo_epoll [ADDR]` (default 127.0.0.1:7000).

use std::io::{self, ErrorKind};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use ember_bench::server::{self, BUF_SIZE};
use ember_bench::sys::{
    self, Epoll, EMPTY_EVENT, EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP,
};

/// Token of the listening socket (connections use their fd as token).
const LISTENER: u64 = u64::MAX;

/// Interest set of every connection.
const CONN_EVENTS: libc::c_int = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

struct Conn {
    fd: OwnedFd,
    /// Bytes read but not yet written back. While non-empty we do not read.
    pending: Vec<u8>,
}

/// Whether a connection stays open after being driven.
enum Next {
    Keep,
    Close,
}

fn main() {
    let addr = server::listen_addr();
    if let Err(e) = run(addr) {
        eprintln!("echo_epoll: {e}");
        std::process::exit(1);
    }
}

fn run(addr: std::net::SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let epoll = Epoll::new()?;
    epoll.add(listener.as_raw_fd(), EPOLLIN | EPOLLET, LISTENER)?;
    server::announce(listener.local_addr()?);

    // Connections indexed by fd number; one read buffer shared by all.
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut buf = vec![0u8; BUF_SIZE];
    let mut events = vec![EMPTY_EVENT; 1024];
    loop {
        let n = epoll.wait(&mut events, -1)?;
        for event in &events[..n] {
            // Copy the fields out: epoll_event is packed on x86_64.
            let (token, flags) = (event.u64, event.events as libc::c_int);
            if token == LISTENER {
                accept_all(&epoll, listener.as_raw_fd(), &mut conns)?;
                continue;
            }
            let index = token as usize;
            let Some(conn) = conns.get_mut(index).and_then(Option::as_mut) else {
                continue;
            };
            // A bare EPOLLOUT edge matters only if output is waiting.
            if flags & !EPOLLOUT == 0 && conn.pending.is_empty() {
                continue;
            }
            let hangup = flags & (EPOLLRDHUP | EPOLLHUP | EPOLLERR) != 0;
            if let Next::Close = drive(conn, &mut buf, hangup) {
                // Dropping the OwnedFd closes it, which also removes it from epoll.
                conns[index] = None;
            }
        }
    }
}

/// Accepts every pending connection (edge-triggered: until EAGAIN).
fn accept_all(epoll: &Epoll, listener: RawFd, conns: &mut Vec<Option<Conn>>) -> io::Result<()> {
    loop {
        let fd = match sys::accept_nonblocking(listener) {
            Ok(fd) => fd,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                ) =>
            {
                continue
            }
            Err(e) => {
                // E.g. EMFILE: report it and wait for the next edge rather than spin.
                eprintln!("echo_epoll: accept: {e}");
                return Ok(());
            }
        };
        // A failure here means the socket is already dead; reads will say so.
        let _ = sys::set_nodelay(fd.as_raw_fd());
        let raw = fd.as_raw_fd();
        epoll.add(raw, CONN_EVENTS, raw as u64)?;
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

/// Flushes pending output, then echoes until the socket is drained.
///
/// `hangup` means the peer shut down (or errored): then a short read is not
/// taken as "drained", so we read on until we see EOF or the error, since no
/// further edge will come to tell us about it.
fn drive(conn: &mut Conn, buf: &mut [u8], hangup: bool) -> Next {
    let fd = conn.fd.as_raw_fd();
    if !conn.pending.is_empty() {
        match sys::write_some(fd, &conn.pending) {
            Ok(written) if written == conn.pending.len() => conn.pending.clear(),
            Ok(written) => {
                conn.pending.drain(..written);
                return Next::Keep; // Still full; wait for the next EPOLLOUT.
            }
            Err(_) => return Next::Close,
        }
    }
    loop {
        let n = match sys::read(fd, buf) {
            Ok(0) => return Next::Close,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Next::Keep,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return Next::Close,
        };
        match sys::write_some(fd, &buf[..n]) {
            Ok(written) if written < n => {
                conn.pending.extend_from_slice(&buf[written..n]);
                return Next::Keep;
            }
            Ok(_) => {}
            Err(_) => return Next::Close,
        }
        if n < buf.len() && !hangup {
            return Next::Keep; // Short read: the receive buffer is empty.
        }
    }
}
