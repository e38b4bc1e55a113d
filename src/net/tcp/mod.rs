//! TCP: listener, stream, and the stream's halves.

mod listener;
mod split;
mod stream;

pub use listener::{Accept, Incoming, TcpListener, ACCEPT_BACKOFF};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::TcpStream;
