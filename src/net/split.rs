//! The halves of a stream socket, borrowed (`split`) and owned
//! (`into_split`): written once here, for `TcpStream` and `UnixStream`.
//!
//! Invoked by `tcp/mod.rs` and `unix/mod.rs` ([`stream_halves!`]), which
//! gives each module its own concrete `ReadHalf`, `WriteHalf`,
//! `OwnedReadHalf`, `OwnedWriteHalf` and `ReuniteError`, as tokio has.
//! Relies on `&Stream` implementing `AsyncRead` and `AsyncWrite` (see
//! `net/stream.rs`): the source keeps a separate waiter per direction, so
//! one task may wait to read while another waits to write on the same
//! socket.

/// Declares the half types of `$stream` (whose addresses are `$addr`) in
/// the invoking module, and `$stream::split`/`into_split`.
macro_rules! stream_halves {
    ($stream:ident, $addr:ty) => {
        /// The reading half of a stream's `split`: borrows the stream.
        #[derive(Debug)]
        pub struct ReadHalf<'a>(&'a $stream);

        /// The writing half of a stream's `split`: borrows the stream.
        #[derive(Debug)]
        pub struct WriteHalf<'a>(&'a $stream);

        /// The reading half of a stream's `into_split`: can move into
        /// another task than the writing half.
        #[derive(Debug)]
        pub struct OwnedReadHalf(std::rc::Rc<$stream>);

        /// The writing half of a stream's `into_split`. Dropping it shuts
        /// down the write side, so the peer reads end of stream.
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            stream: std::rc::Rc<$stream>,
            shutdown_on_drop: bool,
        }

        /// The error of `reunite`: the halves came from different
        /// streams. It gives them back.
        #[derive(Debug)]
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        impl std::fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("tried to reunite halves of different streams")
            }
        }

        impl std::error::Error for ReuniteError {}

        impl $stream {
            /// Splits into a reading and a writing half that borrow the
            /// stream, for use in one task (for example with `join!`).
            pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
                (ReadHalf(self), WriteHalf(self))
            }

            /// Splits into owned halves that can move into different tasks.
            /// Dropping the write half shuts down the write side.
            pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
                let stream = std::rc::Rc::new(self);
                (
                    OwnedReadHalf(stream.clone()),
                    OwnedWriteHalf {
                        stream,
                        shutdown_on_drop: true,
                    },
                )
            }
        }

        impl OwnedReadHalf {
            /// Puts the stream back together.
            pub fn reunite(self, mut other: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
                if !std::rc::Rc::ptr_eq(&self.0, &other.stream) {
                    return Err(ReuniteError(self, other));
                }
                other.shutdown_on_drop = false;
                let stream = other.stream.clone();
                drop(other);
                drop(self);
                // Both halves are gone, so this is the only `Rc` left.
                Ok(std::rc::Rc::into_inner(stream).expect("both halves were dropped"))
            }

            /// The remote address.
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.0.peer_addr()
            }

            /// The local address.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.0.local_addr()
            }

            /// Waits until the stream may be readable (see the stream's
            /// `readable`).
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.0.readable().await
            }

            /// Reads what is there without waiting; `WouldBlock` if
            /// nothing is.
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.0.try_read(buf)
            }

            /// Reads into several buffers without waiting.
            pub fn try_read_vectored(
                &self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                self.0.try_read_vectored(bufs)
            }

            /// Reads into `buf`'s spare capacity without waiting (see the
            /// stream's `try_read_buf`).
            pub fn try_read_buf(&self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
                self.0.try_read_buf(buf)
            }

            /// Waits until the stream may be ready for `interest` (see the
            /// stream's `ready`).
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn ready(
                &self,
                interest: $crate::io::Interest,
            ) -> std::io::Result<$crate::io::Ready> {
                self.0.ready(interest).await
            }

            /// Reads without consuming.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn peek(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.0.peek(buf).await
            }
        }

        impl OwnedWriteHalf {
            /// Puts the stream back together.
            pub fn reunite(self, other: OwnedReadHalf) -> Result<$stream, ReuniteError> {
                other.reunite(self)
            }

            /// The remote address.
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.stream.peer_addr()
            }

            /// The local address.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.stream.local_addr()
            }

            /// Waits until the stream may be writable (see the stream's
            /// `writable`).
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.stream.writable().await
            }

            /// Writes what fits without waiting; `WouldBlock` if nothing
            /// does.
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.stream.try_write(buf)
            }

            /// Writes what fits of several buffers without waiting.
            pub fn try_write_vectored(
                &self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                self.stream.try_write_vectored(bufs)
            }

            /// Waits until the stream may be ready for `interest` (see the
            /// stream's `ready`).
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn ready(
                &self,
                interest: $crate::io::Interest,
            ) -> std::io::Result<$crate::io::Ready> {
                self.stream.ready(interest).await
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    let _ = self.stream.shutdown(std::net::Shutdown::Write);
                }
            }
        }

        $crate::net::stream::stream_io!(@read ReadHalf<'_>, |h| h.0.io);
        $crate::net::stream::stream_io!(@read OwnedReadHalf, |h| h.0.io);
        $crate::net::stream::stream_io!(@write WriteHalf<'_>, |h| h.0.io);
        $crate::net::stream::stream_io!(@write OwnedWriteHalf, |h| h.stream.io);
    };
}

pub(crate) use stream_halves;
