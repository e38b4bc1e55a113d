//! HTTP/1.1 plaintext server on a hand-written, edge-triggered epoll loop
//! (raw `libc`, one thread): the practical lower bound the runtimes are
//! compared with. Request handling is `ember_bench::http`, shared by every
//! `http_*` server; the loop is the one of `echo_epoll`.
//!
//! Per batch of requests it costs one `read` and one `send` plus a share of
//! one `epoll_wait`: a short read counts as "drained". If the socket buffer
//! fills, the unsent responses are kept per connection, reading stops, and
//! they are flushed on the next EPOLLOUT edge.
//!
//! Usage: `http_epoll [ADDR]` (default 127.0.0.1:7000).

use std::io::{self, ErrorKind};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use ember_bench::http::{self, BUF_SIZE};
use ember_bench::server;
use ember_bench::sys::{
    self, Epoll, EMPTY_EVENT, EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLRDHUP,
};

/// Token of the listening socket (connections use their fd as token).
const LISTENER: u64 = u64::MAX;

/// Interest set of every connection.
const CONN_EVENTS: libc::c_int = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

struct Conn {
    fd: OwnedFd,
    /// Read buffer; `filled` bytes of it hold a partial request.
    buf: Vec<u8>,
    filled: usize,
    /// Responses not yet written. While non-empty we do not read.
    out: Vec<u8>,
    /// Close once `out` is written (the last request said so).
    closing: bool,
}

/// Whether a connection stays open after being driven.
enum Next {
    Keep,
    Close,
}

fn main() {
    let addr = server::listen_addr();
    if let Err(e) = run(addr) {
        eprintln!("http_epoll: {e}");
        std::process::exit(1);
    }
}

fn run(addr: std::net::SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let epoll = Epoll::new()?;
    epoll.add(listener.as_raw_fd(), EPOLLIN | EPOLLET, LISTENER)?;
    server::announce(listener.local_addr()?);

    // Connections indexed by fd number.
    let mut conns: Vec<Option<Conn>> = Vec::new();
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
            if flags & !EPOLLOUT == 0 && conn.out.is_empty() {
                continue;
            }
            let hangup = flags & (EPOLLRDHUP | EPOLLHUP | EPOLLERR) != 0;
            if let Next::Close = drive(conn, hangup) {
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
                eprintln!("http_epoll: accept: {e}");
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
            buf: vec![0; BUF_SIZE],
            filled: 0,
            out: Vec::with_capacity(BUF_SIZE),
            closing: false,
        });
    }
}

/// Flushes pending responses, then reads and answers until the socket is
/// drained. `hangup`: the peer shut down or errored, so a short read is not
/// taken as "drained" (no further edge would tell us about the EOF).
fn drive(conn: &mut Conn, hangup: bool) -> Next {
    let fd = conn.fd.as_raw_fd();
    if !conn.out.is_empty() {
        match flush(fd, &mut conn.out) {
            Ok(true) if conn.closing => return Next::Close,
            Ok(true) => {}
            Ok(false) => return Next::Keep, // Still full; wait for the next EPOLLOUT.
            Err(_) => return Next::Close,
        }
    }
    loop {
        let room = BUF_SIZE - conn.filled;
        let n = match sys::read(fd, &mut conn.buf[conn.filled..]) {
            Ok(0) => return Next::Close,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Next::Keep,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return Next::Close,
        };
        conn.filled += n;
        let answered = http::answer(&conn.buf[..conn.filled], &mut conn.out);
        conn.buf.copy_within(answered.consumed..conn.filled, 0);
        conn.filled -= answered.consumed;
        conn.closing = answered.close;
        match flush(fd, &mut conn.out) {
            Ok(true) if answered.close => return Next::Close,
            Ok(true) => {}
            Ok(false) => return Next::Keep,
            Err(_) => return Next::Close,
        }
        if n < room && !hangup {
            return Next::Keep; // Short read: the receive buffer is empty.
        }
    }
}

/// Sends as much of `out` as the socket takes and removes it from `out`;
/// `Ok(true)` when all of it went, `Ok(false)` when the socket buffer filled.
fn flush(fd: RawFd, out: &mut Vec<u8>) -> io::Result<bool> {
    let written = sys::write_some(fd, out)?;
    out.drain(..written);
    Ok(out.is_empty())
}
