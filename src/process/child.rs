//! [`Child`]: a spawned child process, its pipes, and the ways to wait for
//! it, kill it, or let it go.
//!
//! Made by `Command::spawn` (`process/mod.rs`). Relies on `wait.rs` for
//! hearing the exit and reaping (and for orphans), and on `stdio.rs` for
//! the pipes. The state machine is drawn in the module docs
//! (`process/mod.rs`); here, `State::Running` is "running" and "exited,
//! unreaped", `State::Reaped` is "reaped".

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::process::{ExitStatus, Output};
use std::task::{Context, Poll};

use super::wait::{self, Running};
use super::{ChildStderr, ChildStdin, ChildStdout};
use crate::io::AsyncRead;

/// A child process spawned by [`Command::spawn`](super::Command::spawn).
///
/// Its exit is heard by the reactor (see the module docs), so any number
/// of children can be waited for on one thread, with no thread per child.
///
/// Dropping a `Child` does not stop the process (unless
/// [`kill_on_drop`](super::Command::kill_on_drop) was set): it runs on,
/// and ember reaps it when it exits, so no zombie is left behind.
///
/// `Child` stays on the thread of the runtime that spawned it (`!Send`).
pub struct Child {
    state: State,
    kill_on_drop: bool,
    /// The child's standard input, if it was set to `Stdio::piped()`.
    /// [`take`](Option::take) it to write to the child while waiting.
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if it was set to `Stdio::piped()`.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if it was set to `Stdio::piped()`.
    pub stderr: Option<ChildStderr>,
}

enum State {
    /// Running, or exited and not yet reaped (a zombie).
    Running(Running),
    /// Reaped: only the status is left (the pidfd or listener is closed).
    Reaped(ExitStatus),
}

impl Child {
    pub(crate) fn new(
        running: Running,
        kill_on_drop: bool,
        stdin: Option<ChildStdin>,
        stdout: Option<ChildStdout>,
        stderr: Option<ChildStderr>,
    ) -> Child {
        Child {
            state: State::Running(running),
            kill_on_drop,
            stdin,
            stdout,
            stderr,
        }
    }

    pub(crate) fn set_kill_on_drop(&mut self, kill_on_drop: bool) {
        self.kill_on_drop = kill_on_drop;
    }

    /// The child's process id, while it is not reaped; `None` once it is
    /// (its pid may then belong to another process).
    pub fn id(&self) -> Option<u32> {
        match &self.state {
            State::Running(running) => Some(running.std.id()),
            State::Reaped(_) => None,
        }
    }

    /// Sends `SIGKILL` to the child, without waiting for it to die; then
    /// [`wait`](Self::wait) reaps it. Once the child is reaped this does
    /// nothing (its pid may be someone else's by then), as in tokio.
    ///
    /// # Errors
    /// What `kill(2)` reports.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Running(running) => running.std.kill(),
            State::Reaped(_) => Ok(()),
        }
    }

    /// Sends `SIGKILL` to the child and waits until it is reaped.
    ///
    /// # Errors
    /// As [`start_kill`](Self::start_kill) and [`wait`](Self::wait).
    ///
    /// # Cancel safety
    /// Cancel safe: the signal is sent at the first poll; dropping the
    /// future afterwards leaves a dying child that `wait` (or the `Child`'s
    /// drop) reaps.
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await?;
        Ok(())
    }

    /// Waits for the child to exit, reaps it, and returns its status. Once
    /// reaped, every later call returns the same status at once.
    ///
    /// Drops [`stdin`](Self::stdin) first (if still there), so a child that
    /// reads its input to the end does not wait for more forever.
    ///
    /// # Errors
    /// When the runtime that spawned the child is not running (the wait
    /// is registered with it), or `waitpid(2)` fails.
    ///
    /// # Cancel safety
    /// Cancel safe: nothing is reaped until the poll that returns the
    /// status (`stdin` is closed, though, at the first poll).
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// Reaps the child if it has exited, without waiting: `Ok(None)` while
    /// it runs. Does not close `stdin`.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match &mut self.state {
            State::Running(running) => {
                let status = running.try_wait()?;
                if let Some(status) = status {
                    self.state = State::Reaped(status);
                }
                Ok(status)
            }
            State::Reaped(status) => Ok(Some(*status)),
        }
    }

    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        match &mut self.state {
            State::Running(running) => {
                let status = std::task::ready!(running.poll_wait(cx))?;
                self.state = State::Reaped(status);
                Poll::Ready(Ok(status))
            }
            State::Reaped(status) => Poll::Ready(Ok(*status)),
        }
    }

    /// Waits for the child to exit while reading all of its standard
    /// output and error (those set to `Stdio::piped()`; the others come
    /// back empty). `stdin` is dropped first.
    ///
    /// # Cancel safety
    /// Not cancel safe: the output read so far is lost with the future, and
    /// the `Child` with it (dropped: reaped when it exits, killed first if
    /// `kill_on_drop`).
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let stdout = self.stdout.take();
        let stderr = self.stderr.take();
        let (status, stdout, stderr) =
            crate::try_join!(self.wait(), read_all(stdout), read_all(stderr))?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

/// Reads `pipe` to end of stream (nothing if there is no pipe).
async fn read_all<R: AsyncRead + Unpin>(pipe: Option<R>) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let Some(mut pipe) = pipe else {
        return Ok(out);
    };
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match poll_fn(|cx| Pin::new(&mut pipe).poll_read(cx, &mut buf)).await? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Reaped(ExitStatus::default()));
        if let State::Running(mut running) = state {
            if self.kill_on_drop {
                // An error means it is already dead.
                let _ = running.std.kill();
            }
            wait::orphan(running);
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Child");
        match &self.state {
            State::Running(running) => d.field("pid", &running.std.id()),
            State::Reaped(status) => d.field("status", status),
        };
        d.field("kill_on_drop", &self.kill_on_drop)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}
