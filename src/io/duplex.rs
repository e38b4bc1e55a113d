//! `duplex`: two connected in-memory streams, what one writes the other
//! reads, each direction bounded.
//!
//! Used by applications and tests as a socket without a socket. Built on
//! two [`SimplexStream`]s, each behind an `Arc<Mutex<_>>` so that the ends
//! are `Send` and may live on different threads (or runtimes); wakers are
//! woken after the lock is released. Dropping an end closes both
//! directions: the peer reads what is left, then end of stream, and its
//! writes fail with `BrokenPipe`.
//!
//! Production note: tokio's `DuplexStream` is the same two pipes behind
//! two locks. ember could use `Rc<RefCell<_>>` (one thread), but the lock
//! is uncontended and cheap next to a copy, and a `Send` stream can cross
//! to a plain thread or a `Handle::spawn`.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use super::simplex::{charged, SimplexStream};
use super::{AsyncRead, AsyncWrite};

/// One end of a [`duplex`] pair: an [`AsyncRead`] of what the other end
/// writes, and an [`AsyncWrite`] to it. `Send + Sync`.
#[derive(Debug)]
pub struct DuplexStream {
    read: Arc<Mutex<SimplexStream>>,
    write: Arc<Mutex<SimplexStream>>,
}

/// Two connected [`DuplexStream`]s; each direction holds at most
/// `max_buf_size` bytes, after which the writer waits for the reader.
///
/// ```
/// use ember::io::{AsyncReadExt, AsyncWriteExt};
/// # ember::block_on(async {
/// let (mut client, mut server) = ember::io::duplex(64);
/// client.write_all(b"ping").await?;
/// let mut buf = [0u8; 4];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let one = Arc::new(Mutex::new(SimplexStream::new_unsplit(max_buf_size)));
    let two = Arc::new(Mutex::new(SimplexStream::new_unsplit(max_buf_size)));
    (
        DuplexStream {
            read: one.clone(),
            write: two.clone(),
        },
        DuplexStream {
            read: two,
            write: one,
        },
    )
}

fn lock(pipe: &Mutex<SimplexStream>) -> MutexGuard<'_, SimplexStream> {
    // Every critical section is a few field updates that cannot panic
    // halfway (no user code runs under the lock), so a poisoned lock
    // still guards consistent data.
    pipe.lock().unwrap_or_else(|e| e.into_inner())
}

impl AsyncRead for DuplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        // The guard is a temporary of the closure's one statement: it is
        // released before `charged` wakes anyone.
        charged(cx, |cx| lock(&self.read).read_inner(cx, buf))
    }
}

impl AsyncWrite for DuplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        charged(cx, |cx| lock(&self.write).write_inner(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes this end's writing direction: the peer reads end of stream
    /// after the bytes already written. Reading goes on.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let wakers = lock(&self.write).close_inner();
        for waker in wakers.into_iter().flatten() {
            waker.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        // One lock at a time: the peer, dropped on another thread, takes
        // the same two in the other order.
        let writing = lock(&self.write).close_inner();
        let reading = lock(&self.read).close_inner();
        for waker in writing.into_iter().chain(reading).flatten() {
            waker.wake();
        }
    }
}
