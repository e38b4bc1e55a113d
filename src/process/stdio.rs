//! The parent's ends of a child's pipes: [`ChildStdin`] (an
//! [`AsyncWrite`](crate::io::AsyncWrite)), [`ChildStdout`] and [`ChildStderr`] (each an
//! [`AsyncRead`](crate::io::AsyncRead)).
//!
//! Made by `Command::spawn` from std's pipe ends, for each stream set to
//! `Stdio::piped()`. Each is a thin type over a `Registered<File>`, with
//! the reads, writes and conversions of `io/pipe_end.rs` (shared with
//! `net::unix::pipe`).
//!
//! # Only our end is non-blocking
//! std makes each pipe with `pipe2(O_CLOEXEC)`: two open file
//! descriptions, one per end. The child gets one end as its fd 0, 1 or 2;
//! the parent keeps the other, and only that one is made non-blocking,
//! after the spawn. `O_NONBLOCK` lives on the open file description, so
//! the child's end is untouched and the child sees an ordinary blocking
//! pipe. Nobody else shares the parent's end: it is close-on-exec, so no
//! other child (spawned by this or another thread) keeps it past `exec`.
//! [`into_owned_fd`](ChildStdin::into_owned_fd) and the conversions to
//! [`Stdio`] clear the flag again, for blocking hands or another child.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::process::Stdio;

use crate::io::pipe_end;
use crate::io::registered::Registered;

/// The parent's end of a child's standard input: an [`AsyncWrite`](crate::io::AsyncWrite).
///
/// Dropping it closes the pipe, and the child reads end of file.
/// [`Child::wait`](super::Child::wait) drops it first, so a child reading
/// its input to the end is not left waiting for more.
/// [`poll_close`](crate::io::AsyncWrite::poll_close) does nothing (as in tokio): drop
/// the `ChildStdin` (or `take()` it from the `Child`) to close.
pub struct ChildStdin {
    io: Registered<File>,
}

/// The parent's end of a child's standard output: an [`AsyncRead`](crate::io::AsyncRead), at end
/// of stream once the child (and every process it passed the pipe to) has
/// closed it.
pub struct ChildStdout {
    io: Registered<File>,
}

/// The parent's end of a child's standard error: an [`AsyncRead`](crate::io::AsyncRead), as
/// [`ChildStdout`].
pub struct ChildStderr {
    io: Registered<File>,
}

/// What the three share: constructors from std, conversions back, fds.
macro_rules! child_pipe {
    ($t:ident, $std:ty) => {
        impl $t {
            /// Takes over std's handle (the parent's end of a pipe to a
            /// child spawned by std): sets `O_NONBLOCK` on it (see the
            /// module docs) and registers it with the current runtime.
            ///
            /// # Panics
            /// Outside an ember runtime, like every I/O constructor.
            #[track_caller]
            pub fn from_std(inner: $std) -> io::Result<$t> {
                Ok($t {
                    io: pipe_end::register(OwnedFd::from(inner))?,
                })
            }

            /// Deregisters and returns the fd, made blocking again.
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                pipe_end::into_fd(self.io, false)
            }
        }

        /// For another child: the fd, made blocking again, as its
        /// standard input, output or error (a pipeline).
        impl TryFrom<$t> for Stdio {
            type Error = io::Error;

            fn try_from(pipe: $t) -> io::Result<Stdio> {
                pipe.into_owned_fd().map(Stdio::from)
            }
        }

        pipe_end::pipe_fd!($t);
    };
}

child_pipe!(ChildStdin, std::process::ChildStdin);
child_pipe!(ChildStdout, std::process::ChildStdout);
child_pipe!(ChildStderr, std::process::ChildStderr);

pipe_end::pipe_write!(ChildStdin);
pipe_end::pipe_read!(ChildStdout);
pipe_end::pipe_read!(ChildStderr);
