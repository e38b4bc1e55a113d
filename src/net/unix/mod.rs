//! Unix-domain sockets (`unix(7)`): [`UnixListener`] and [`UnixStream`]
//! (a byte stream, like TCP), and [`UnixDatagram`] (datagrams, like UDP),
//! between processes on the same machine.
//!
//! They mirror the TCP and UDP types, and share their code with them
//! (`net/stream.rs`, `split.rs`, `accept.rs`, `datagram.rs`) over the same
//! registered-fd type (`io/registered.rs`); they differ in their addresses and in what
//! the file system has to do with them. Relies on `sys::socket` (and
//! `sys::unix_addr` for addresses), and on `time` for the pause after
//! running out of fds (`accept`) and between connect retries while a
//! listener's backlog is full.
//!
//! | file | holds |
//! | --- | --- |
//! | `listener.rs` | [`UnixListener`] |
//! | `stream.rs` | [`UnixStream`] |
//! | `datagram.rs` | [`UnixDatagram`] |
//! | `pipe.rs` | [`pipe`]: anonymous pipes and FIFOs, `Sender` and `Receiver` (not sockets, but Unix-only byte channels, here as in tokio) |
//! | `mod.rs` | addresses (std's [`SocketAddr`]), the `AddrInUse` message for a file in the way, and the stream's halves (declared by `net/split.rs`) |
//!
//! # Addresses
//! An address is std's [`SocketAddr`] (re-exported here), so it moves
//! freely between ember and std sockets. It is one of:
//!
//! - a **pathname**: a socket file in the file system, made by `bind`. The
//!   functions that take a path ([`UnixListener::bind`],
//!   [`UnixStream::connect`], [`UnixDatagram::send_to`], ...) build one
//!   with [`SocketAddr::from_pathname`]; a path must be shorter than 108
//!   bytes.
//! - an **abstract** name (Linux only): no file, gone when the socket
//!   closes. A path whose first byte is NUL names one, as in tokio:
//!   `UnixListener::bind("\0my-service")` binds the abstract name
//!   `my-service`, and every function that takes a path (`bind`,
//!   `connect`, `send_to`, `try_send_to`) reads it that way. Or build the
//!   address with
//!   [`std::os::linux::net::SocketAddrExt::from_abstract_name`]
//!   and pass it to the `*_addr` functions ([`UnixListener::bind_addr`],
//!   [`UnixStream::connect_addr`], ...). Abstract names belong to the
//!   network namespace, not the file system: any process in it may
//!   connect (check [`UnixStream::peer_cred`] if that matters).
//! - **unnamed**: the address of a socket that was never bound, such as a
//!   client, or either end of a `pair()`.
//!
//! # Socket files are yours
//! Binding to a path creates a socket file there, and ember never deletes
//! it: not when the socket is dropped, and not when a later `bind` finds
//! it in the way. A file left by a process that is gone (a *stale* socket
//! file) makes `bind` fail with an error of kind
//! [`AddrInUse`](std::io::ErrorKind::AddrInUse) that names the path. Only
//! the program knows whether that file is really stale, so removing it
//! (`std::fs::remove_file`) is left to it, typically before `bind` and
//! after the listener is dropped. std and tokio behave the same way.

mod datagram;
mod listener;
pub mod pipe;
mod stream;
mod ucred;

pub use datagram::UnixDatagram;
pub use listener::{Accept, Incoming, UnixListener};
pub use std::os::unix::net::SocketAddr;
pub use stream::UnixStream;
pub use ucred::{gid_t, pid_t, uid_t, UCred};

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

crate::net::split::stream_halves!(UnixStream, SocketAddr);

/// `path` as an address: a path whose first byte is NUL names a Linux
/// abstract socket (the bytes after the NUL), as in tokio; any other path
/// is a pathname.
fn path_addr(path: &Path) -> io::Result<SocketAddr> {
    match path.as_os_str().as_bytes().split_first() {
        Some((0, name)) => SocketAddr::from_abstract_name(name),
        _ => SocketAddr::from_pathname(path),
    }
}

/// Makes `bind`'s `EADDRINUSE` say what is in the way and what to do; any
/// other error passes unchanged. The kind stays `AddrInUse`.
fn bind_error(addr: &SocketAddr, e: io::Error) -> io::Error {
    if e.kind() != io::ErrorKind::AddrInUse {
        return e;
    }
    let msg = if let Some(path) = addr.as_pathname() {
        format!(
            "cannot bind to {}: a file already exists at that path (os error {}). \
             If it is a stale socket file left by a process that is gone, remove it \
             and bind again; ember never deletes it for you",
            path.display(),
            e.raw_os_error().unwrap_or(0),
        )
    } else if let Some(name) = addr.as_abstract_name() {
        format!(
            "cannot bind to abstract address {:?}: another socket holds it",
            String::from_utf8_lossy(name),
        )
    } else {
        return e;
    };
    io::Error::new(io::ErrorKind::AddrInUse, msg)
}
