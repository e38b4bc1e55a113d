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
//! | wait for readable or writable, whichever comes first | a socket's `ready(`[`Interest`]`)`, which gives a [`Ready`] |
//! | the standard streams | `stdin()`, `stdout()`, `stderr()` (on the blocking pool, never `O_NONBLOCK`: see `stdio.rs`) |
//! | crates written for `futures::io` | the optional `futures-io` feature (`futures_io.rs`): the same types implement `futures_io`'s traits; `Compat` (`compat.rs`) wraps a `futures_io` type (a TLS stream) into ember's traits, and an ember one into theirs |
//!
//! # Features
//! The three traits are always here. [`Async`], [`Interest`] and [`Ready`]
//! need the `net` feature;
//! everything else (the extension traits and their futures, [`BufReader`],
//! [`BufWriter`], the copies, [`split`]) needs `io-util`. Both are in the
//! default `full`.

#[cfg(feature = "net")]
mod async_fd;
#[cfg(feature = "io-std")]
mod blocking;
#[cfg(feature = "io-util")]
mod buf_reader;
#[cfg(feature = "io-util")]
mod buf_writer;
#[cfg(feature = "futures-io")]
mod compat;
#[cfg(feature = "io-util")]
mod copy;
#[cfg(feature = "io-util")]
mod copy_bidirectional;
#[cfg(feature = "io-util")]
mod ext_buf_read;
#[cfg(feature = "io-util")]
mod ext_read;
#[cfg(feature = "io-util")]
mod ext_write;
#[cfg(all(feature = "futures-io", any(feature = "net", feature = "io-util")))]
mod futures_io;
#[cfg(feature = "net")]
mod interest;
pub(crate) mod read_buf;
#[cfg(any(feature = "net", feature = "signal"))]
pub(crate) mod registered;
#[cfg(feature = "io-util")]
mod split;
#[cfg(feature = "io-std")]
mod stdio;
mod traits;

#[cfg(feature = "net")]
pub use async_fd::Async;
#[cfg(feature = "io-util")]
pub use buf_reader::BufReader;
#[cfg(feature = "io-util")]
pub use buf_writer::BufWriter;
#[cfg(feature = "futures-io")]
pub use compat::Compat;
#[cfg(feature = "io-util")]
pub use copy::{copy, copy_buf, Copy, CopyBuf};
#[cfg(feature = "io-util")]
pub use copy_bidirectional::{copy_bidirectional, CopyBidirectional};
#[cfg(feature = "io-util")]
pub use ext_buf_read::{AsyncBufReadExt, FillBuf, Lines, ReadLine, ReadUntil};
#[cfg(feature = "io-util")]
pub use ext_read::{AsyncReadExt, Read, ReadBufFut, ReadExact, ReadToEnd, ReadToString};
#[cfg(feature = "io-util")]
pub use ext_write::{AsyncWriteExt, Close, Flush, Write, WriteAll, WriteVectored};
#[cfg(feature = "net")]
pub use interest::{Interest, Ready};
#[cfg(feature = "hyper")]
pub(crate) use read_buf::points_at as read_buf_points_at;
pub use read_buf::ReadBuf;
#[cfg(feature = "io-util")]
pub use split::{split, ReadHalf, ReuniteError, WriteHalf};
#[cfg(feature = "io-std")]
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
pub use traits::{AsyncBufRead, AsyncRead, AsyncWrite};
