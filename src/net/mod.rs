//! Networking: TCP, UDP and Unix-domain sockets, registered with the
//! runtime's reactor.
//!
//! Needs the `net` feature (in the default `full`), which also brings
//! [`io::Async`](crate::io::Async). The sockets implement the `io` traits;
//! `read`, `write_all` and the other extension methods come with `io-util`.
//!
//! | module | holds |
//! | --- | --- |
//! | [`tcp`] | [`TcpSocket`] (options, then `listen` or `connect`), [`TcpListener`], [`TcpStream`] and its halves |
//! | [`udp`] | [`UdpSocket`] |
//! | [`unix`] | [`UnixListener`], [`UnixStream`] and its halves, [`UnixDatagram`] |
//! | `addr.rs` | [`ToSocketAddrs`], [`lookup_host`] and `resolve`: IP literals parsed on the loop, host names looked up on the blocking pool |
//!
//! Called by user code. Relies on `sys::socket` for the system calls, on
//! `io::registered` (`Registered<Socket>`: readiness, the one `WouldBlock`
//! loop, the runtime check, deregistration before close), on
//! `spawn_blocking` for host-name lookups, and on `time` for the pauses
//! after running out of fds and between Unix connect retries.
//!
//! Every socket is non-blocking and close-on-exec, registered with the
//! reactor once (edge-triggered, both directions), and closed on drop.
//! Each socket type is a thin type over `Registered<Socket>`; what two
//! kinds share is written once, in `stream.rs` (TCP and Unix streams),
//! `split.rs` (their halves), `accept.rs` (listeners) and `datagram.rs`
//! (UDP and Unix datagrams), and each kind's own file keeps what differs:
//! addresses, connecting, options.

mod accept;
mod datagram;
mod split;
mod stream;
pub mod tcp;
pub mod udp;
pub mod unix;

pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

mod addr;

pub(crate) use addr::{each_addr, no_address, resolve, resolve_first};
pub use addr::{lookup_host, ToSocketAddrs};
