//! `Blocking<T>`: ember's async traits over a blocking `Read`/`Write`, by
//! handing each operation to the blocking pool.
//!
//! Used by `stdin()`, `stdout()` and `stderr()` (`stdio.rs`), whose file
//! descriptions the process shares with its parent and with `println!`,
//! so they must not be made non-blocking (see there). Relies on
//! `spawn_blocking` alone: the loop never waits on the fd.
//!
//! At most one operation is in flight. The value and a buffer travel to
//! the pool thread with the job and come back with its result:
//!
//! | state | holds | a read | a write | a flush |
//! | --- | --- | --- | --- | --- |
//! | `Idle` | the value, the buffer (maybe with bytes a read fetched and the caller has not taken) | takes buffered bytes, else starts a job reading up to [`MAX_BUF`] | copies up to [`MAX_BUF`] bytes into the buffer, starts a job that writes them all and flushes, returns at once | `Ready` (or the error of the last write) |
//! | `Busy` | the job's `JoinHandle` | waits for the job | waits for the job (a write error from it is returned now) | waits for the job |
//!
//! So a write returns as soon as its bytes are handed over (the loop is
//! never held by a slow reader on the other side), and the next write or
//! a flush reports an error of the one before, as tokio's `Stdout` does.
//! A write job is *mandatory* (`spawn_mandatory_blocking`): it runs even
//! if the runtime is dropped before a pool thread took it.
//!
//! # Cancel safety
//! A read dropped midway loses nothing: the bytes its job fetches stay in
//! the buffer for the next read. A write has already completed (its bytes
//! are with the job) when it returns.

use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::runtime::JoinHandle;

/// The most bytes one job moves (tokio's figure): a bigger write returns
/// a short count, a bigger read buffer is filled in part.
pub(crate) const MAX_BUF: usize = 2 * 1024 * 1024;

/// A blocking value driven on the pool (see the module docs).
pub(crate) struct Blocking<T> {
    state: State<T>,
}

enum State<T> {
    Idle(Option<(T, Buf)>),
    Busy(JoinHandle<(Result<usize, io::Error>, Buf, T)>),
}

/// Bytes with a read position: `data[pos..]` is what a read fetched and the
/// caller has not taken yet (for a write, what the job writes).
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    pos: usize,
}

impl Buf {
    fn remaining(&self) -> &[u8] {
        &self.data[self.pos..]
    }
}

impl<T> Blocking<T> {
    pub(crate) fn new(inner: T) -> Blocking<T> {
        Blocking {
            state: State::Idle(Some((inner, Buf::default()))),
        }
    }

    /// Waits for the job in flight, if any; back to `Idle` afterwards
    /// (the job's count and error are returned).
    fn poll_job(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<usize>>> {
        let State::Busy(job) = &mut self.state else {
            return Poll::Ready(None);
        };
        let done = ready!(Pin::new(job).poll(cx));
        Poll::Ready(Some(match done {
            Ok((result, buf, inner)) => {
                self.state = State::Idle(Some((inner, buf)));
                result
            }
            Err(e) => {
                // The job panicked, or the runtime went: the value is lost
                // with it, and every later call says so.
                self.state = State::Idle(None);
                Err(io::Error::other(e))
            }
        }))
    }

    /// The value and the buffer, once idle; an error if they were lost.
    fn take_idle(&mut self) -> io::Result<(T, Buf)> {
        match &mut self.state {
            State::Idle(idle) => idle.take().ok_or_else(lost),
            State::Busy(_) => Err(io::Error::other("ember: stdio operation still in flight")),
        }
    }
}

fn lost() -> io::Error {
    io::Error::other("ember: the standard stream was lost with a blocking job that panicked")
}

impl<T: Read + Send + 'static> Blocking<T> {
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = super::ReadBuf::new(dst);
        ready!(self.poll_read_buf(cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }

    /// [`poll_read`](Self::poll_read) into a `ReadBuf`: the job's bytes are
    /// copied into its unfilled region with no zeroing first.
    pub(crate) fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut super::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if dst.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            match ready!(self.poll_job(cx)) {
                Some(Err(e)) => return Poll::Ready(Err(e)),
                Some(Ok(0)) => return Poll::Ready(Ok(())),
                Some(Ok(_)) | None => {}
            }
            if let State::Idle(Some((_, buf))) = &mut self.state {
                if !buf.remaining().is_empty() {
                    let n = buf.remaining().len().min(dst.remaining());
                    dst.put_slice(&buf.remaining()[..n]);
                    buf.pos += n;
                    return Poll::Ready(Ok(()));
                }
            }
            self.start_read(dst.remaining())?;
        }
    }

    /// Starts a job reading up to `want` bytes (at most [`MAX_BUF`]); an
    /// error if the stream was lost with an earlier job.
    fn start_read(&mut self, want: usize) -> io::Result<()> {
        let (mut inner, mut buf) = self.take_idle()?;
        buf.data.resize(want.min(MAX_BUF), 0);
        buf.pos = 0;
        self.state = State::Busy(crate::spawn_blocking(move || {
            let result = inner.read(&mut buf.data);
            let n = *result.as_ref().unwrap_or(&0);
            buf.data.truncate(n);
            (result, buf, inner)
        }));
        Ok(())
    }
}

impl<T: Write + Send + 'static> Blocking<T> {
    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        // The error of the write before, if it failed, is reported now.
        if let Some(Err(e)) = ready!(self.poll_job(cx)) {
            return Poll::Ready(Err(e));
        }
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let (mut inner, mut buf) = self.take_idle()?;
        let n = src.len().min(MAX_BUF);
        buf.data.clear();
        buf.data.extend_from_slice(&src[..n]);
        buf.pos = 0;
        // Mandatory: the caller was told the bytes went, so the job runs
        // even if the runtime is dropped before it starts.
        self.state = State::Busy(crate::runtime::spawn_mandatory_blocking(move || {
            let result = inner
                .write_all(&buf.data)
                .and_then(|()| inner.flush())
                .map(|()| buf.data.len());
            (result, buf, inner)
        }));
        Poll::Ready(Ok(n))
    }

    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Every write job flushes as it ends: waiting for it is the flush.
        match ready!(self.poll_job(cx)) {
            Some(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(())),
        }
    }
}
