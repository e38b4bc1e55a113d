//! Hearing that a child exited, and reaping it, without a thread per child
//! and without polling: one [`Running`] per child that has not been reaped,
//! and the orphans of dropped `Child`ren.
//!
//! Called by `process/child.rs` (`wait`, `try_wait`, `Drop`) and by
//! `Command::spawn` (which reaps orphans first). Relies on
//! `sys::process::pidfd_open`, on `io/registered.rs` to wait for the pidfd,
//! on `signal::Signals` for the `SIGCHLD` fallback, and on std's
//! `Child::try_wait` (`waitpid(pid, WNOHANG)`) to reap: std caches the
//! status, and only that one pid is ever waited for (never `waitpid(-1)`,
//! which would steal other code's children).
//!
//! # Two ways to hear an exit
//! - **pidfd** (Linux 5.3+): `pidfd_open` gives an fd that becomes readable
//!   when the child exits. It is registered with the reactor like a socket;
//!   the wait is the one `WouldBlock` loop of `Registered`, whose syscall is
//!   `try_wait` (`None` counts as `WouldBlock`). One fd per child.
//! - **`SIGCHLD`**, where `pidfd_open` fails (`ENOSYS` on an old kernel,
//!   which is then remembered; `EPERM` under a seccomp filter): the child
//!   gets a `Signals` listener for `SIGCHLD`, created after the spawn and
//!   before the first `try_wait`, so an exit is either seen by that
//!   `try_wait` or delivered as a signal afterwards. Every `SIGCHLD` wakes
//!   every such child, which looks with `try_wait` (and reaps orphans).
//!   One fd per child too (the listener's duplicate of the signal pipe).
//!   Setting `EMBER_PROCESS_NO_PIDFD` in the environment forces this path,
//!   for tests and for kernels that misbehave.
//!
//! # Orphans
//! A `Child` dropped before its process was reaped would leave a zombie.
//! [`orphan`] reaps it at once if it has exited; otherwise a detached task
//! on the current runtime waits for the exit as `wait` would, and reaps it.
//! Where no task can wait (dropped outside its runtime, or the runtime shut
//! down first), the `std::process::Child` goes to a process-wide list that
//! every `Command::spawn` and every `SIGCHLD` heard by the fallback reap
//! with `try_wait`. So a zombie lasts at most until its exit is heard, or
//! in the worst case until the next spawn.
//!
//! Production note: tokio keeps orphans in a global queue reaped on
//! `SIGCHLD` by its signal driver, and (with its pidfd reaper) a future per
//! child; ember's orphan task is that future, spawned from `Drop`.

use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::process::{Child as StdChild, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::{ready, Context, Poll};

use crate::io::registered::Registered;
use crate::reactor::Direction;
use crate::signal::Signals;
use crate::sys::process::{pidfd_open, SIGCHLD};

/// A child not yet reaped, and how its exit will be heard.
///
/// # Invariant
/// `std` has not been reaped (std's `try_wait` has not returned `Some`)
/// while a `Running` holds it, so its pid, and the pidfd, name the child.
pub(crate) struct Running {
    pub(crate) std: StdChild,
    exit: Exit,
}

enum Exit {
    /// Readable once the child exits.
    Pidfd(Registered<OwnedFd>),
    /// Listens to `SIGCHLD`.
    Sigchld(Signals),
}

/// Set once `pidfd_open` said `ENOSYS`, or from `EMBER_PROCESS_NO_PIDFD`.
static NO_PIDFD: AtomicBool = AtomicBool::new(false);

fn pidfd_disabled() -> bool {
    static FROM_ENV: OnceLock<bool> = OnceLock::new();
    NO_PIDFD.load(Ordering::Relaxed)
        || *FROM_ENV.get_or_init(|| std::env::var_os("EMBER_PROCESS_NO_PIDFD").is_some())
}

impl Running {
    /// Sets up the wait for `std`, just spawned. On error the child is
    /// given back, for the caller to kill and orphan.
    pub(crate) fn new(std: StdChild) -> Result<Running, (StdChild, io::Error)> {
        if !pidfd_disabled() {
            match pidfd_open(std.id()).and_then(Registered::new) {
                Ok(pidfd) => {
                    return Ok(Running {
                        std,
                        exit: Exit::Pidfd(pidfd),
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::Unsupported => {
                    NO_PIDFD.store(true, Ordering::Relaxed);
                }
                // `EPERM` (seccomp), or out of fds: try the signal.
                Err(_) => {}
            }
        }
        match Signals::new(&[SIGCHLD]) {
            Ok(signals) => Ok(Running {
                std,
                exit: Exit::Sigchld(signals),
            }),
            Err(e) => Err((std, e)),
        }
    }

    /// Reaps the child if it has exited, without waiting.
    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.std.try_wait()
    }

    /// `Ready` with the status once the child has exited and is reaped;
    /// else the task is woken when its exit is heard.
    pub(crate) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        let std = &mut self.std;
        match &mut self.exit {
            Exit::Pidfd(pidfd) => pidfd.poll_io_with(cx, Direction::Read, None, |_| {
                std.try_wait()?
                    .ok_or_else(|| io::ErrorKind::WouldBlock.into())
            }),
            Exit::Sigchld(signals) => loop {
                if let Some(status) = std.try_wait()? {
                    return Poll::Ready(Ok(status));
                }
                // Outside its runtime the listener would never hear of
                // a delivery: an error, as for a registered fd.
                signals.check()?;
                ready!(signals.poll_recv(cx));
                // Some child exited: maybe an orphan.
                reap_orphans();
            },
        }
    }

    /// `Ok` while the runtime the wait is registered with runs (on this
    /// thread, that is the current one).
    fn check(&self) -> io::Result<()> {
        match &self.exit {
            Exit::Pidfd(pidfd) => pidfd.check(),
            Exit::Sigchld(signals) => signals.check(),
        }
    }
}

/// Children dropped unreaped that no task waits for.
static ORPHANS: Mutex<Vec<StdChild>> = Mutex::new(Vec::new());

fn orphans() -> std::sync::MutexGuard<'static, Vec<StdChild>> {
    // A push or a `retain` of `try_wait`s: consistent even if poisoned.
    ORPHANS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reaps every orphan that has exited (`try_wait` on each; an error means
/// it is not ours to wait for any more, and it is forgotten).
pub(crate) fn reap_orphans() {
    let mut list = orphans();
    if !list.is_empty() {
        list.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
    }
}

/// Takes over a child whose `Child` is dropped unreaped (see the module
/// docs): reaped now if it has exited, else by a task on this runtime, else
/// at the next spawn.
pub(crate) fn orphan(mut running: Running) {
    if !matches!(running.try_wait(), Ok(None)) {
        return; // reaped now, or not ours to reap
    }
    match crate::runtime::context::current() {
        Some(core) if running.check().is_ok() => {
            drop(core.spawn(Orphan(Some(running))));
        }
        _ => adopt(running.std),
    }
}

/// Puts `child` on the process-wide list, unless it has exited.
pub(crate) fn adopt(mut child: StdChild) {
    if matches!(child.try_wait(), Ok(None)) {
        orphans().push(child);
    }
}

/// The detached task that waits for an orphan; if it is dropped first (its
/// runtime shuts down), the child goes to the process-wide list.
struct Orphan(Option<Running>);

impl Future for Orphan {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(running) = self.0.as_mut() else {
            return Poll::Ready(());
        };
        // Reaped; or, on an error, it cannot wait here any more, and
        // `Drop` adopts it.
        if ready!(running.poll_wait(cx)).is_ok() {
            self.0 = None;
        }
        Poll::Ready(())
    }
}

impl Drop for Orphan {
    fn drop(&mut self) {
        if let Some(running) = self.0.take() {
            adopt(running.std);
        }
    }
}
