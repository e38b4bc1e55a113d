//! TCP: listener (`listener.rs`), stream (`stream.rs`), and the stream's
//! borrowed and owned halves (`split.rs`).
//!
//! Relies on `sys::socket` and the reactor's `Registration`; `TcpStream`
//! resolves host names through `net::resolve`, off the loop.

mod listener;
mod split;
mod stream;

pub use listener::{Accept, Incoming, TcpListener, ACCEPT_BACKOFF};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::TcpStream;
