//! `io::split`: a reading half and a writing half of any
//! `AsyncRead + AsyncWrite`, for two tasks (or two branches of a `join!`).
//!
//! Both halves share the value through an `Rc<RefCell<T>>`; ember's tasks
//! never leave their thread, so no lock is needed. For ember's own sockets
//! prefer their `split`/`into_split`, which need no `RefCell` at all.
//!
//! # Why the `RefCell` borrow cannot fail
//! Each half borrows `T` mutably only for the duration of one call to `T`'s
//! `poll_*` method, and releases it before returning. On one thread two
//! such calls can overlap only if one happens *inside* the other: `T`'s
//! `poll_read` would have to poll the write half of the very value it is
//! part of. A waker does not poll (ember's wakers only queue the task), so
//! that takes a `T` that owns its own half, a cycle no ordinary reader
//! builds. Should it happen anyway, the borrow panics with a message rather
//! than aliasing `&mut T`.
//!
//! Production note: tokio's `io::split` guards `T` with a lock, because its
//! halves may move to tasks on other threads; ember's halves are `!Send`,
//! so a `RefCell` (one flag check per call) is all it takes.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite};

/// Splits `stream` into a reading half and a writing half.
///
/// `T` must be `Unpin` (every ember type is; `Box::pin` others). The halves
/// are `!Send`, like `T`'s tasks. Put them back together with
/// [`ReadHalf::unsplit`] or [`ReadHalf::reunite`]. Dropping the write half
/// does not close `T`: call [`close`](crate::io::AsyncWriteExt::close) on it
/// for that.
///
/// ```
/// use ember::io::{AsyncReadExt, AsyncWriteExt};
/// use ember::net::{TcpListener, TcpStream};
/// # ember::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let mut client = TcpStream::connect(listener.local_addr()?).await?;
/// let (server, _) = listener.accept().await?;
///
/// let (mut reader, mut writer) = ember::io::split(server);
/// client.write_all(b"ping").await?;
/// let mut buf = [0u8; 4];
/// reader.read_exact(&mut buf).await?;
/// writer.write_all(b"pong").await?;
/// client.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"pong");
/// let _server = reader.unsplit(writer);
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub fn split<T>(stream: T) -> (ReadHalf<T>, WriteHalf<T>)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let shared = Rc::new(RefCell::new(stream));
    (
        ReadHalf {
            shared: shared.clone(),
        },
        WriteHalf { shared },
    )
}

/// The reading half of [`split`].
pub struct ReadHalf<T> {
    shared: Rc<RefCell<T>>,
}

/// The writing half of [`split`].
pub struct WriteHalf<T> {
    shared: Rc<RefCell<T>>,
}

/// The error of [`ReadHalf::reunite`]: the halves come from different
/// calls to [`split`]. It gives them back.
pub struct ReuniteError<T>(pub ReadHalf<T>, pub WriteHalf<T>);

/// Borrows `T` for one call (see the module docs for why this never fails).
fn with<T: Unpin, R>(shared: &RefCell<T>, f: impl FnOnce(Pin<&mut T>) -> R) -> R {
    let mut stream = shared.try_borrow_mut().unwrap_or_else(|_| {
        panic!(
            "io::split: a half was polled from inside a poll of the other half of the same value"
        )
    });
    f(Pin::new(&mut *stream))
}

impl<T> ReadHalf<T> {
    /// Whether `other` is this half's partner.
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Rc::ptr_eq(&self.shared, &other.shared)
    }

    /// Puts the value back together, or gives both halves back if they do
    /// not belong together.
    pub fn reunite(self, other: WriteHalf<T>) -> Result<T, ReuniteError<T>> {
        if !self.is_pair_of(&other) {
            return Err(ReuniteError(self, other));
        }
        drop(other);
        match Rc::try_unwrap(self.shared) {
            Ok(cell) => Ok(cell.into_inner()),
            // The two halves held the only two references.
            Err(_) => unreachable!("io::split made exactly two halves"),
        }
    }

    /// Puts the value back together.
    ///
    /// # Panics
    /// If `other` is not this half's partner (use
    /// [`reunite`](Self::reunite) to get the halves back instead).
    pub fn unsplit(self, other: WriteHalf<T>) -> T {
        match self.reunite(other) {
            Ok(stream) => stream,
            Err(_) => panic!("ReadHalf::unsplit: the write half comes from another split"),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        with(&self.shared, |s| s.poll_read(cx, buf))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        with(&self.shared, |s| s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        with(&self.shared, |s| s.poll_write_vectored(cx, bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        with(&self.shared, |s| s.poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        with(&self.shared, |s| s.poll_close(cx))
    }
}

impl<T> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for ReuniteError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<T> fmt::Display for ReuniteError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of different io::split calls")
    }
}

impl<T> std::error::Error for ReuniteError<T> {}
