//! What every connected byte-stream socket does the same way, TCP or Unix:
//! written once here, for `TcpStream` and `UnixStream`.
//!
//! Called by `tcp/stream.rs` and `unix/stream.rs`, each of which holds a
//! `Registered<Socket>` in a field named `io` and invokes
//! [`stream_socket!`] for its type; they keep only what differs (how to
//! connect, addresses, TCP options). Relies on `io/registered.rs` for the
//! `WouldBlock` loop and on `sys::socket` for the calls.
//!
//! The I/O here uses the short-read rule (a short read or write ends the
//! attempt, see `io/registered.rs`), which holds for byte streams.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::task::{Context, Poll};

use crate::io::registered::Registered;
use crate::reactor::Direction;
use crate::sys::socket::{Socket, MAX_IOV};

/// Reads into `buf`; a short read drained the socket.
#[inline]
pub(crate) fn poll_read(
    io: &Registered<Socket>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    let len = buf.len();
    io.poll_io(
        cx,
        Direction::Read,
        |s| s.recv(buf),
        // A short read drained the socket (see io/registered.rs).
        |&n| n > 0 && n < len,
    )
}

/// Reads into the unfilled part of `buf` with no zeroing; a short read
/// drained the socket.
#[inline]
pub(crate) fn poll_read_buf(
    io: &Registered<Socket>,
    cx: &mut Context<'_>,
    buf: &mut crate::io::ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let len = buf.remaining();
    io.poll_io(
        cx,
        Direction::Read,
        |s| s.recv_buf(buf),
        |&n| n > 0 && n < len,
    )
    .map_ok(drop)
}

/// Writes from `buf`; a short write filled the send buffer.
#[inline]
pub(crate) fn poll_write(
    io: &Registered<Socket>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    let len = buf.len();
    io.poll_io(cx, Direction::Write, |s| s.send(buf), |&n| n < len)
}

/// Writes from `bufs`, as one `sendmsg`.
pub(crate) fn poll_write_vectored(
    io: &Registered<Socket>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    // Offer only what one sendmsg takes, so that a short count really
    // means a full send buffer (clearing readiness on anything else would
    // wait for an edge that never comes).
    let bufs = &bufs[..bufs.len().min(MAX_IOV)];
    let len: usize = bufs.iter().map(|b| b.len()).sum();
    io.poll_io(
        cx,
        Direction::Write,
        |s| s.send_vectored(bufs),
        |&n| n < len,
    )
}

/// Reads into `bufs` without waiting (`readv`).
pub(crate) fn try_read_vectored(
    io: &Registered<Socket>,
    bufs: &mut [IoSliceMut<'_>],
) -> io::Result<usize> {
    io.try_io(Direction::Read, |s| s.recv_vectored(bufs))
}

/// Shuts the write side; already shut (or reset) counts as done.
pub(crate) fn shutdown_write(io: &Registered<Socket>) -> Poll<io::Result<()>> {
    Poll::Ready(match io.get_ref().shutdown(Shutdown::Write) {
        // Already shut down, or the peer reset it: nothing left to close.
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        other => other,
    })
}

/// The methods and trait impls every stream socket shares. `$t` must have
/// a field `io: Registered<Socket>`.
macro_rules! stream_socket {
    ($t:ident) => {
        impl $t {
            /// Shuts down the read side, the write side (the peer reads end
            /// of stream), or both.
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                self.io.get_ref().shutdown(how)
            }

            /// Waits until the stream may be readable. Readiness can be
            /// spurious: follow it with [`try_read`](Self::try_read) and
            /// loop on `WouldBlock`. Any number of tasks may wait at once;
            /// all are woken.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.io.ready($crate::reactor::Direction::Read).await
            }

            /// Waits until the stream may be writable; see
            /// [`readable`](Self::readable).
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.io.ready($crate::reactor::Direction::Write).await
            }

            /// Waits until the stream may be ready for any of `interest`
            /// (`Interest::READABLE | Interest::WRITABLE` for either), and
            /// says which. Readiness can be spurious: follow it with the
            /// `try_*` call and loop on `WouldBlock`, which clears it.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn ready(
                &self,
                interest: $crate::io::Interest,
            ) -> std::io::Result<$crate::io::Ready> {
                self.io.ready_for(interest).await
            }

            /// Runs `f`, your own operation on the socket (a `recvmsg` with
            /// ancillary data, say, through its raw fd), once, without
            /// waiting. If it returns `WouldBlock`, ember forgets the
            /// readiness of every direction in `interest`, so the next
            /// [`ready`](Self::ready) really waits for the kernel: so `f`
            /// must return `WouldBlock` only when the operation would block
            /// in those directions, and `interest` should name only the
            /// direction(s) `f` is about (a writable socket whose readiness
            /// was forgotten waits for an edge that may not come).
            pub fn try_io<R>(
                &self,
                interest: $crate::io::Interest,
                f: impl FnOnce() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.try_io_interest(interest, f)
            }

            /// Waits until the socket may be ready for `interest`, runs `f`,
            /// and does it again while `f` returns `WouldBlock` (see
            /// [`try_io`](Self::try_io) for what `f` must promise).
            ///
            /// # Cancel safety
            /// As cancel safe as `f`: it runs only when the socket may be
            /// ready, and a run that said `WouldBlock` must have done
            /// nothing.
            pub async fn async_io<R>(
                &self,
                interest: $crate::io::Interest,
                f: impl FnMut() -> std::io::Result<R>,
            ) -> std::io::Result<R> {
                self.io.async_io_interest(interest, f).await
            }

            /// `Ready` once the stream may be readable; stores the waker
            /// otherwise. Only the last task to call it (or to read through
            /// `AsyncRead`) is woken, as in tokio: tasks that share a
            /// stream wait with [`readable`](Self::readable).
            pub fn poll_read_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io.poll_ready(cx, $crate::reactor::Direction::Read)
            }

            /// `Ready` once the stream may be writable; stores the waker
            /// otherwise (see [`poll_read_ready`](Self::poll_read_ready)).
            pub fn poll_write_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io.poll_ready(cx, $crate::reactor::Direction::Write)
            }

            /// Reads what is there without waiting; `WouldBlock` if nothing
            /// is.
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.io
                    .try_io($crate::reactor::Direction::Read, |s| s.recv(buf))
            }

            /// Reads into several buffers without waiting; `WouldBlock` if
            /// nothing is there.
            pub fn try_read_vectored(
                &self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                $crate::net::stream::try_read_vectored(&self.io, bufs)
            }

            /// Reads what is there into `buf`'s spare capacity without
            /// waiting, and extends `buf.len()` by the count; `WouldBlock`
            /// if nothing is there. With no spare capacity, 64 bytes are
            /// reserved first (reserve more to read more at once).
            pub fn try_read_buf(&self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
                self.io.try_io($crate::reactor::Direction::Read, |s| {
                    $crate::io::read_buf::fill_vec(buf, |b| s.recv_buf(b))
                })
            }

            /// Writes what fits without waiting; `WouldBlock` if nothing
            /// does.
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.io
                    .try_io($crate::reactor::Direction::Write, |s| s.send(buf))
            }

            /// Writes what fits of several buffers without waiting;
            /// `WouldBlock` if nothing does.
            pub fn try_write_vectored(
                &self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                self.io
                    .try_io($crate::reactor::Direction::Write, |s| s.send_vectored(bufs))
            }

            /// Reads without consuming: the same bytes are read again next
            /// time.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn peek(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.io
                    .async_io($crate::reactor::Direction::Read, |s| s.peek(buf))
                    .await
            }

            /// `Ready` with bytes read without consuming them; stores the
            /// waker otherwise (see [`poll_read_ready`](Self::poll_read_ready)).
            pub fn poll_peek(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_io(
                    cx,
                    $crate::reactor::Direction::Read,
                    |s| s.peek(buf),
                    |_| false,
                )
            }
        }

        $crate::net::stream::stream_io!($t, |s| s.io);
        $crate::net::stream::stream_io!(&$t, |s| s.io);

        impl std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $t {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }
    };
}

pub(crate) use stream_socket;

/// `AsyncRead` and `AsyncWrite` for `$t` (`@read` or `@write` alone for
/// a half), over the registered socket that `|s| expr` reaches from `&$t`.
/// Written once for the streams, their references and the four halves.
macro_rules! stream_io {
    ($t:ty, |$s:ident| $io:expr) => {
        $crate::net::stream::stream_io!(@read $t, |$s| $io);
        $crate::net::stream::stream_io!(@write $t, |$s| $io);
    };
    (@read $t:ty, |$s:ident| $io:expr) => {
        impl $crate::io::AsyncRead for $t {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $crate::net::stream::poll_read(&$io, cx, buf)
            }

            fn poll_read_buf(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut $crate::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = &*self;
                $crate::net::stream::poll_read_buf(&$io, cx, buf)
            }
        }
    };
    (@write $t:ty, |$s:ident| $io:expr) => {
        impl $crate::io::AsyncWrite for $t {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $crate::net::stream::poll_write(&$io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $s = &*self;
                $crate::net::stream::poll_write_vectored(&$io, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Nothing is buffered in user space.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $s = &*self;
                $crate::net::stream::shutdown_write(&$io)
            }
        }
    };
}

pub(crate) use stream_io;
