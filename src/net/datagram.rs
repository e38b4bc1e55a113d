//! What every datagram socket does the same way, UDP or Unix: written once
//! here, for `UdpSocket` and `UnixDatagram`.
//!
//! Each of them holds a `Registered<Socket>` in a field named `io` and
//! invokes [`datagram_socket!`]; they keep what differs (binding,
//! connecting and every method that takes or returns an address). Relies
//! on `io/registered.rs` for the `WouldBlock` loop.
//!
//! Never the short-read rule here: a datagram read is short by nature, so
//! a successful receive says nothing about whether another datagram is
//! queued, and readiness is cleared only by `EAGAIN`. The async methods
//! wait in keyed slots of their own, so any number of tasks may receive
//! (or send) on one socket at once: each datagram goes to one of them, and
//! none is left waiting while one is queued.

/// The methods every datagram socket shares. `$t` must have a field
/// `io: Registered<Socket>`.
macro_rules! datagram_socket {
    ($t:ident) => {
        impl $t {
            /// Sends `buf` as one datagram to the connected peer; returns
            /// its length. A datagram too long for the socket is an error
            /// (`EMSGSIZE`), never split.
            ///
            /// # Cancel safety
            /// Cancel safe: if dropped before it completes, nothing was
            /// sent.
            pub async fn send(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.io
                    .async_io($crate::reactor::Direction::Write, |s| s.send(buf))
                    .await
            }

            /// Receives one datagram from the connected peer into `buf`;
            /// returns its length, at most `buf.len()`: a longer datagram
            /// is truncated (see the type's docs).
            ///
            /// # Cancel safety
            /// Cancel safe: if dropped before it completes, no datagram
            /// was taken.
            pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.io
                    .async_io($crate::reactor::Direction::Read, |s| s.recv(buf))
                    .await
            }

            /// Receives one datagram from the connected peer without taking
            /// it: the next receive gets it again.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn peek(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.io
                    .async_io($crate::reactor::Direction::Read, |s| s.peek(buf))
                    .await
            }

            /// `Ready` once `buf` went out as one datagram to the connected
            /// peer; stores the waker otherwise (only the last task to poll
            /// is woken: tasks that share a socket use [`send`](Self::send)).
            pub fn poll_send(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io
                    .poll_io_with(cx, $crate::reactor::Direction::Write, None, |s| s.send(buf))
            }

            /// `Ready` with one datagram from the connected peer; stores the
            /// waker otherwise (see [`poll_send`](Self::poll_send)).
            pub fn poll_recv(
                &self,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io
                    .poll_io_with(cx, $crate::reactor::Direction::Read, None, |s| s.recv(buf))
            }

            /// Sends to the connected peer without waiting; `WouldBlock` if
            /// the send buffer is full.
            pub fn try_send(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.io
                    .try_io($crate::reactor::Direction::Write, |s| s.send(buf))
            }

            /// Receives from the connected peer without waiting;
            /// `WouldBlock` if no datagram is queued.
            pub fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.io
                    .try_io($crate::reactor::Direction::Read, |s| s.recv(buf))
            }

            /// Receives one datagram from the connected peer into `buf`'s
            /// spare capacity, and extends `buf.len()` by its length: the
            /// datagram is truncated to the spare capacity, so reserve room
            /// for the largest one first (with none, 64 bytes are reserved).
            ///
            /// # Cancel safety
            /// Cancel safe: if dropped before it completes, no datagram
            /// was taken.
            pub async fn recv_buf(&self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
                self.io
                    .async_io($crate::reactor::Direction::Read, |s| {
                        $crate::io::read_buf::fill_vec(buf, |b| s.recv_buf(b))
                    })
                    .await
            }

            /// [`recv_buf`](Self::recv_buf) without waiting; `WouldBlock`
            /// if no datagram is queued.
            pub fn try_recv_buf(&self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
                self.io.try_io($crate::reactor::Direction::Read, |s| {
                    $crate::io::read_buf::fill_vec(buf, |b| s.recv_buf(b))
                })
            }

            /// Waits until the socket may be ready for any of `interest`,
            /// and says which (see [`readable`](Self::readable) on spurious
            /// readiness).
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

            /// Waits until a datagram may be queued. Readiness can be
            /// spurious: follow it with a `try_recv*` and loop on
            /// `WouldBlock`.
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn readable(&self) -> std::io::Result<()> {
                self.io.ready($crate::reactor::Direction::Read).await
            }

            /// Waits until a datagram may be sent; see
            /// [`readable`](Self::readable).
            ///
            /// # Cancel safety
            /// Cancel safe.
            pub async fn writable(&self) -> std::io::Result<()> {
                self.io.ready($crate::reactor::Direction::Write).await
            }

            /// `Ready` once a datagram may be queued; stores the waker
            /// otherwise (see [`poll_send`](Self::poll_send)).
            pub fn poll_recv_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io.poll_ready(cx, $crate::reactor::Direction::Read)
            }

            /// `Ready` once a datagram may be sent; stores the waker
            /// otherwise (see [`poll_send`](Self::poll_send)).
            pub fn poll_send_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.io.poll_ready(cx, $crate::reactor::Direction::Write)
            }

            /// The pending socket error (`SO_ERROR`), cleared by reading
            /// it: for example `ConnectionRefused` after an ICMP "port
            /// unreachable".
            pub fn take_error(&self) -> std::io::Result<Option<std::io::Error>> {
                self.io.get_ref().take_error()
            }
        }

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

pub(crate) use datagram_socket;
