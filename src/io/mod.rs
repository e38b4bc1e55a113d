//! Asynchronous I/O: the traits, their extension methods, buffered
//! adapters, copies, `split`, and `Async<T>` for any file descriptor.
//!
//! The traits have the shape of `futures-io`'s (`poll_read` into a plain
//! `&mut [u8]`), so code written against that crate reads the same here.
//! ember's sockets implement them through the reactor's one "try the
//! syscall, else wait for readiness" loop, and so does [`Async`] for pipes,
//! eventfds, ttys and other crates' sockets.
//!
//! Used by user code; the traits are implemented by `net`'s sockets. Only
//! `Async` touches the reactor (and `sys::fd`); everything else here is
//! plain std over the traits, with `pin-project-lite` and `futures-core`
//! (for `Lines` as a `Stream`).
//!
//! | need | use |
//! | --- | --- |
//! | read or write bytes | [`AsyncReadExt`], [`AsyncWriteExt`] |
//! | lines, delimiters | [`BufReader`] + [`AsyncBufReadExt`] (`read_line`, `lines`) |
//! | many small writes | [`BufWriter`], then `flush` |
//! | one stream in two tasks | [`split`] (ember's sockets also have their own `split`) |
//! | pump bytes | [`copy`], [`copy_buf`], [`copy_bidirectional`] (a proxy) |
//! | a pipe, an eventfd, a tty | [`Async`] |
//! | crates written for `futures::io` | the optional `futures-io` feature (`futures_io.rs`): the same types implement `futures_io`'s traits |

mod async_fd;
mod buf_reader;
mod buf_writer;
mod copy;
mod copy_bidirectional;
mod ext_buf_read;
mod ext_read;
mod ext_write;
#[cfg(feature = "futures-io")]
mod futures_io;
mod split;
mod traits;

pub use async_fd::Async;
pub use buf_reader::BufReader;
pub use buf_writer::BufWriter;
pub use copy::{copy, copy_buf, Copy, CopyBuf};
pub use copy_bidirectional::{copy_bidirectional, CopyBidirectional};
pub use ext_buf_read::{AsyncBufReadExt, FillBuf, Lines, ReadLine, ReadUntil};
pub use ext_read::{AsyncReadExt, Read, ReadExact, ReadToEnd, ReadToString};
pub use ext_write::{AsyncWriteExt, Close, Flush, Write, WriteAll};
pub use split::{split, ReadHalf, ReuniteError, WriteHalf};
pub use traits::{AsyncBufRead, AsyncRead, AsyncWrite};
