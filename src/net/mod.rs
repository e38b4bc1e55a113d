//! Networking: TCP, UDP and Unix-domain sockets, registered with the
//! runtime's reactor.
//!
//! Every socket is non-blocking and close-on-exec, registered with the
//! reactor once (edge-triggered, both directions), and closed on drop.

pub mod tcp;
pub mod udp;
pub mod unix;

pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

mod addr;

pub(crate) use addr::resolve;
pub use addr::ToSocketAddrs;
