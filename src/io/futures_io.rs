//! The optional `futures-io` feature: ember's I/O types also implement
//! `futures_io::AsyncRead`, `AsyncWrite` and `AsyncBufRead`, so they work
//! with crates written against the `futures` traits (`futures-util`'s
//! combinators, `async-compression`, ...).
//!
//! Each impl forwards to ember's own trait, which has the same shape, so
//! there is nothing to translate. The orphan rule forbids one blanket impl
//! (both the trait and `T` would be foreign to the impl), hence one per type.
//!
//! ```toml
//! ember = { version = "0.1", features = ["futures-io"] }
//! ```

//!
//! Only the types of the enabled features get the impls: the sockets and
//! `Async` with `net`; `BufReader`, `BufWriter`, `Take`, `Chain` and the
//! in-memory streams with `io-util`; `fs::File` (with `AsyncSeek`) with
//! `fs`.

use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite};

macro_rules! forward_read {
    () => {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            AsyncRead::poll_read(self, cx, buf)
        }

        fn poll_read_vectored(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &mut [IoSliceMut<'_>],
        ) -> Poll<io::Result<usize>> {
            AsyncRead::poll_read_vectored(self, cx, bufs)
        }
    };
}

macro_rules! forward_write {
    () => {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            AsyncWrite::poll_write(self, cx, buf)
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            AsyncWrite::poll_write_vectored(self, cx, bufs)
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            AsyncWrite::poll_flush(self, cx)
        }

        fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            AsyncWrite::poll_close(self, cx)
        }
    };
}

#[cfg(feature = "net")]
mod sockets {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;

    use super::*;
    use crate::io::Async;
    use crate::net::{tcp, unix, TcpStream, UnixStream};

    /// Implements both traits for concrete types.
    macro_rules! both {
        ($($t:ty),* $(,)?) => {$(
            impl futures_io::AsyncRead for $t { forward_read!(); }
            impl futures_io::AsyncWrite for $t { forward_write!(); }
        )*};
    }

    both!(TcpStream, &TcpStream, UnixStream, &UnixStream,);

    macro_rules! read_only {
        ($($t:ty),* $(,)?) => {$( impl futures_io::AsyncRead for $t { forward_read!(); } )*};
    }
    macro_rules! write_only {
        ($($t:ty),* $(,)?) => {$( impl futures_io::AsyncWrite for $t { forward_write!(); } )*};
    }

    read_only!(
        tcp::ReadHalf<'_>,
        tcp::OwnedReadHalf,
        unix::ReadHalf<'_>,
        unix::OwnedReadHalf,
    );
    write_only!(
        tcp::WriteHalf<'_>,
        tcp::OwnedWriteHalf,
        unix::WriteHalf<'_>,
        unix::OwnedWriteHalf,
    );

    impl<T: AsRawFd + Read> futures_io::AsyncRead for Async<T> {
        forward_read!();
    }

    impl<T: AsRawFd + Write> futures_io::AsyncWrite for Async<T> {
        forward_write!();
    }

    impl<T: AsRawFd> futures_io::AsyncRead for &Async<T>
    where
        for<'a> &'a T: Read,
    {
        forward_read!();
    }

    impl<T: AsRawFd> futures_io::AsyncWrite for &Async<T>
    where
        for<'a> &'a T: Write,
    {
        forward_write!();
    }
}

#[cfg(feature = "io-util")]
mod buffered {
    use super::*;
    use crate::io::{AsyncBufRead, BufReader, BufWriter};

    impl<R: AsyncRead> futures_io::AsyncRead for BufReader<R> {
        forward_read!();
    }

    impl<R: AsyncRead> futures_io::AsyncBufRead for BufReader<R> {
        fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
            AsyncBufRead::poll_fill_buf(self, cx)
        }

        fn consume(self: Pin<&mut Self>, amt: usize) {
            AsyncBufRead::consume(self, amt)
        }
    }

    impl<W: AsyncWrite> futures_io::AsyncWrite for BufWriter<W> {
        forward_write!();
    }
}

#[cfg(feature = "io-util")]
mod util {
    use super::*;
    use crate::io::{AsyncBufRead, Chain, DuplexStream, Empty, Repeat, SimplexStream, Sink, Take};

    macro_rules! forward_buf_read {
        () => {
            fn poll_fill_buf(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<&[u8]>> {
                AsyncBufRead::poll_fill_buf(self, cx)
            }

            fn consume(self: Pin<&mut Self>, amt: usize) {
                AsyncBufRead::consume(self, amt)
            }
        };
    }

    impl futures_io::AsyncRead for DuplexStream {
        forward_read!();
    }

    impl futures_io::AsyncWrite for DuplexStream {
        forward_write!();
    }

    impl futures_io::AsyncRead for SimplexStream {
        forward_read!();
    }

    impl futures_io::AsyncWrite for SimplexStream {
        forward_write!();
    }

    impl futures_io::AsyncRead for Empty {
        forward_read!();
    }

    impl futures_io::AsyncBufRead for Empty {
        forward_buf_read!();
    }

    impl futures_io::AsyncWrite for Empty {
        forward_write!();
    }

    impl futures_io::AsyncWrite for Sink {
        forward_write!();
    }

    impl futures_io::AsyncRead for Repeat {
        forward_read!();
    }

    impl<R: AsyncRead> futures_io::AsyncRead for Take<R> {
        forward_read!();
    }

    impl<R: AsyncBufRead> futures_io::AsyncBufRead for Take<R> {
        forward_buf_read!();
    }

    impl<T: AsyncRead, U: AsyncRead> futures_io::AsyncRead for Chain<T, U> {
        forward_read!();
    }

    impl<T: AsyncBufRead, U: AsyncBufRead> futures_io::AsyncBufRead for Chain<T, U> {
        forward_buf_read!();
    }
}

#[cfg(feature = "fs")]
mod file {
    use std::io::SeekFrom;

    use super::*;
    use crate::fs::File;
    use crate::io::AsyncSeek;

    impl futures_io::AsyncRead for File {
        forward_read!();
    }

    impl futures_io::AsyncWrite for File {
        forward_write!();
    }

    impl futures_io::AsyncSeek for File {
        fn poll_seek(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            pos: SeekFrom,
        ) -> Poll<io::Result<u64>> {
            AsyncSeek::poll_seek(self, cx, pos)
        }
    }
}
