//! Asynchronous I/O: the traits, their extension methods, buffered
//! adapters, copies, `split`, in-memory streams, and `Async<T>` for any
//! file descriptor.
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
//! | numbers in a binary protocol | `read_u16`, `read_i64_le`, `write_f32`, ... on the same traits (big-endian unless `_le`) |
//! | lines, delimiters | [`BufReader`] + [`AsyncBufReadExt`] (`read_line`, `lines`) |
//! | lines from a peer you do not trust | `lines_with_max(n)` (`InvalidData` past `n` bytes), or `take(n)` on the reader (see "Bounding a line") |
//! | at most `n` bytes; one reader after another | [`take`](AsyncReadExt::take) ([`Take`]), [`chain`](AsyncReadExt::chain) ([`Chain`]) |
//! | a socket without a socket, in tests | [`duplex`] ([`DuplexStream`]), [`simplex`] |
//! | a stream that is empty, discards, or repeats | [`empty`], [`sink`], [`repeat`] |
//! | seek in a file | [`AsyncSeek`], [`AsyncSeekExt`] (`seek`, `rewind`, `stream_position`) |
//! | many small writes | [`BufWriter`], then `flush` |
//! | one stream in two tasks | [`split`] (ember's sockets also have their own `split`) |
//! | pump bytes | [`copy`], [`copy_buf`], [`copy_bidirectional`] (a proxy) |
//! | a pipe, an eventfd, a tty | [`Async`] |
//! | wait for readable or writable, whichever comes first | a socket's `ready(`[`Interest`]`)`, which gives a [`Ready`] |
//! | the standard streams | `stdin()`, `stdout()`, `stderr()` (on the blocking pool, never `O_NONBLOCK`: see `stdio.rs`) |
//! | crates written for `futures::io` | the optional `futures-io` feature (`futures_io.rs`): the same types implement `futures_io`'s traits; `Compat` (`compat.rs`) wraps a `futures_io` type (a TLS stream) into ember's traits, and an ember one into theirs |
//!
//! # Bounding a line
//! `lines()` and `read_line` keep reading until `\n`: a peer that never
//! sends one makes them buffer everything it sends. Two ways to bound it:
//!
//! - `reader.lines_with_max(n)`: each line is at most `n` bytes; a longer
//!   one is an `InvalidData` error as soon as it passes `n`, its rest is
//!   skipped without being kept, and the next line is read as usual.
//! - `(&mut reader).take(n).read_line(&mut line)`: reads at most `n`
//!   bytes; a line that comes back without its `\n` (and is not the last
//!   of the stream) was too long, and its rest is still in `reader`.
//!
//! ```
//! use ember::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
//! # ember::block_on(async {
//! // A peer that sends 100 MiB without a newline (never allocated here).
//! let peer = ember::io::repeat(b'x').take(100 << 20);
//! let mut lines = BufReader::new(peer).lines_with_max(1024);
//! let err = lines.next_line().await.unwrap_err();
//! assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
//! # });
//! ```
//!
//! # Features
//! The four traits are always here. [`Async`], [`Interest`] and [`Ready`]
//! need the `net` feature;
//! everything else (the extension traits and their futures, [`BufReader`],
//! [`BufWriter`], the copies, [`split`], [`Take`], [`Chain`], the in-memory
//! streams) needs `io-util`. `ember::fs::File` implements the traits with
//! the `fs` feature. All are in the default `full`.

#[cfg(feature = "net")]
mod async_fd;
#[cfg(feature = "io-std")]
mod blocking;
#[cfg(feature = "io-util")]
mod buf_reader;
#[cfg(feature = "io-util")]
mod buf_writer;
#[cfg(feature = "io-util")]
mod chain;
#[cfg(feature = "futures-io")]
mod compat;
#[cfg(feature = "io-util")]
mod copy;
#[cfg(feature = "io-util")]
mod copy_bidirectional;
#[cfg(feature = "io-util")]
mod duplex;
#[cfg(feature = "io-util")]
mod empty;
#[cfg(feature = "io-util")]
mod ext_buf_read;
#[cfg(feature = "io-util")]
mod ext_read;
#[cfg(feature = "io-util")]
mod ext_seek;
#[cfg(feature = "io-util")]
mod ext_write;
#[cfg(all(
    feature = "futures-io",
    any(feature = "net", feature = "io-util", feature = "fs")
))]
mod futures_io;
#[cfg(feature = "net")]
mod interest;
#[cfg(any(feature = "net", feature = "process"))]
pub(crate) mod pipe_end;
pub(crate) mod read_buf;
#[cfg(feature = "io-util")]
mod read_int;
#[cfg(any(feature = "net", feature = "signal"))]
pub(crate) mod registered;
#[cfg(feature = "io-util")]
mod repeat;
#[cfg(feature = "io-util")]
mod simplex;
#[cfg(feature = "io-util")]
mod sink;
#[cfg(feature = "io-util")]
mod split;
#[cfg(feature = "io-std")]
mod stdio;
#[cfg(feature = "io-util")]
mod take;
mod traits;
#[cfg(feature = "io-util")]
mod write_int;

#[cfg(feature = "net")]
pub use async_fd::Async;
#[cfg(feature = "io-util")]
pub use buf_reader::BufReader;
#[cfg(feature = "io-util")]
pub use buf_writer::BufWriter;
#[cfg(feature = "io-util")]
pub use chain::Chain;
#[cfg(feature = "futures-io")]
pub use compat::Compat;
#[cfg(feature = "io-util")]
pub use copy::{copy, copy_buf, Copy, CopyBuf};
#[cfg(feature = "io-util")]
pub use copy_bidirectional::{copy_bidirectional, CopyBidirectional};
#[cfg(feature = "io-util")]
pub use duplex::{duplex, DuplexStream};
#[cfg(feature = "io-util")]
pub use empty::{empty, Empty};
#[cfg(feature = "io-util")]
pub use ext_buf_read::{AsyncBufReadExt, FillBuf, Lines, ReadLine, ReadUntil};
#[cfg(feature = "io-util")]
pub use ext_read::{AsyncReadExt, Read, ReadBufFut, ReadExact, ReadToEnd, ReadToString};
#[cfg(feature = "io-util")]
pub use ext_seek::{AsyncSeekExt, Seek};
#[cfg(feature = "io-util")]
pub use ext_write::{AsyncWriteExt, Close, Flush, Write, WriteAll, WriteAllBuf, WriteVectored};
#[cfg(feature = "net")]
pub use interest::{Interest, Ready};
#[cfg(feature = "hyper")]
pub(crate) use read_buf::points_at as read_buf_points_at;
pub use read_buf::ReadBuf;
#[cfg(feature = "io-util")]
pub use read_int::ReadInt;
#[cfg(feature = "io-util")]
pub use repeat::{repeat, Repeat};
#[cfg(feature = "io-util")]
pub use simplex::{simplex, SimplexStream};
#[cfg(feature = "io-util")]
pub use sink::{sink, Sink};
#[cfg(feature = "io-util")]
pub use split::{split, ReadHalf, ReuniteError, WriteHalf};
#[cfg(feature = "io-std")]
pub use stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
#[cfg(feature = "io-util")]
pub use take::Take;
pub use traits::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
#[cfg(feature = "io-util")]
pub use write_int::WriteInt;
