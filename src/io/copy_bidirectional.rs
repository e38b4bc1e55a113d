//! `copy_bidirectional`: pump bytes both ways between two streams, the
//! heart of a proxy.
//!
//! Two [`CopyBuffer`]s, one per direction, driven by the same future: each
//! poll advances both, so a direction that waits never holds up the other.
//! When one side's reader reaches end of stream, the other side's write half
//! is closed (a socket sends FIN), which is how a half-close travels
//! through a proxy. The future ends when both directions have. Each
//! direction's rounds take units of the task's cooperative budget (see
//! `copy.rs`), so two always-ready ends still let the other tasks run.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::copy::CopyBuffer;
use super::{AsyncRead, AsyncWrite};

/// Copies `a`'s reads to `b` and `b`'s reads to `a` at the same time, until
/// both reach end of stream; returns `(bytes a→b, bytes b→a)`.
///
/// When `a` ends, `b` is flushed and closed for writing
/// ([`poll_close`](AsyncWrite::poll_close): `shutdown(SHUT_WR)` on a
/// socket), and likewise the other way; the other direction goes on. The
/// first error in either direction ends the whole copy.
///
/// # Cancel safety
/// Not cancel safe: bytes read from one side and not yet written to the
/// other are lost when it is dropped.
///
/// ```no_run
/// use ember::net::{TcpListener, TcpStream};
///
/// ember::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:7000")?;
///     loop {
///         let (mut client, _) = listener.accept().await?;
///         ember::spawn(async move {
///             let mut upstream = TcpStream::connect("127.0.0.1:8000").await?;
///             ember::io::copy_bidirectional(&mut client, &mut upstream).await
///         });
///     }
///     # #[allow(unreachable_code)]
///     # Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn copy_bidirectional<'a, A, B>(a: &'a mut A, b: &'a mut B) -> CopyBidirectional<'a, A, B>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    CopyBidirectional {
        a,
        b,
        a_to_b: Direction::Copying(CopyBuffer::new()),
        b_to_a: Direction::Copying(CopyBuffer::new()),
    }
}

/// Future of [`copy_bidirectional`].
///
/// # Cancel safety
/// See [`copy_bidirectional`]: its section says what a drop midway loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct CopyBidirectional<'a, A: ?Sized, B: ?Sized> {
    a: &'a mut A,
    b: &'a mut B,
    a_to_b: Direction,
    b_to_a: Direction,
}

/// One direction's progress.
///
/// | state          | next                                   |
/// |----------------|----------------------------------------|
/// | `Copying`      | reader ends, writer flushed: `Closing` |
/// | `Closing(n)`   | writer's `poll_close` done: `Done(n)`  |
/// | `Done(n)`      | stays                                  |
#[derive(Debug)]
enum Direction {
    Copying(CopyBuffer),
    Closing(u64),
    Done(u64),
}

impl Direction {
    /// Drives this direction; `Ready(Ok(count))` once it is done.
    fn poll<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            match self {
                Direction::Copying(buf) => {
                    let n = ready!(buf.poll_copy(cx, reader.as_mut(), writer.as_mut()))?;
                    *self = Direction::Closing(n);
                }
                Direction::Closing(n) => {
                    let n = *n;
                    ready!(writer.as_mut().poll_close(cx))?;
                    *self = Direction::Done(n);
                }
                Direction::Done(n) => return Poll::Ready(Ok(*n)),
            }
        }
    }
}

impl<A, B> Future for CopyBidirectional<'_, A, B>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<(u64, u64)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // Both directions are polled every time, whichever woke the task.
        let a_to_b = this
            .a_to_b
            .poll(cx, Pin::new(&mut *this.a), Pin::new(&mut *this.b))?;
        let b_to_a = this
            .b_to_a
            .poll(cx, Pin::new(&mut *this.b), Pin::new(&mut *this.a))?;
        match (a_to_b, b_to_a) {
            (Poll::Ready(ab), Poll::Ready(ba)) => Poll::Ready(Ok((ab, ba))),
            _ => Poll::Pending,
        }
    }
}
