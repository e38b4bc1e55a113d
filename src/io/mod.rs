//! Asynchronous I/O: the traits, their extension methods, and `copy`.
//!
//! The traits have the shape of `futures-io`'s (`poll_read` into a plain
//! `&mut [u8]`), so code written against that crate reads the same here.
//! ember's sockets implement them through the reactor's one "try the
//! syscall, else wait for readiness" loop.

mod copy;
mod ext_read;
mod ext_write;
mod traits;

pub use copy::{copy, Copy};
pub use ext_read::{AsyncReadExt, Read, ReadExact, ReadToEnd, ReadToString};
pub use ext_write::{AsyncWriteExt, Close, Flush, Write, WriteAll};
pub use traits::{AsyncRead, AsyncWrite};
