//! TCP: listener (`listener.rs`), stream (`stream.rs`), the socket to set
//! options on before either (`socket.rs`), and the stream's
//! borrowed and owned halves (declared here by `net/split.rs`).
//!
//! Relies on `sys::socket` and the reactor's `Registration`; `TcpStream`
//! resolves host names through `net::resolve`, off the loop.

mod listener;
mod socket;
mod stream;

pub use listener::{Accept, Incoming, TcpListener, ACCEPT_BACKOFF};
pub use socket::TcpSocket;
pub use stream::TcpStream;

crate::net::split::stream_halves!(TcpStream, std::net::SocketAddr);
