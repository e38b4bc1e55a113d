//! Networking: TCP sockets, registered with the runtime's reactor.
//!
//! Every socket is non-blocking and close-on-exec, registered with the
//! reactor once (edge-triggered, both directions), and closed on drop.

pub mod tcp;
pub mod udp;
pub mod unix;

pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `addr` for a connect.
///
/// Production note: this calls std's resolver on the loop's thread. For IP
/// literals (the common case for servers) that is pure parsing; a host name
/// means a blocking `getaddrinfo`. Moving name lookups onto the blocking
/// pool is tracked with `spawn_blocking`.
pub(crate) fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    Ok(addr.to_socket_addrs()?.collect())
}
