//! tokio's Unix signal API: [`signal`]`(`[`SignalKind`]`)` gives a
//! [`Signal`] whose [`recv`](Signal::recv) completes at each delivery.
//!
//! A thin layer over [`Signals`] (one signal per listener),
//! so it shares its guarantees: no delivery lost between two polls,
//! deliveries between two polls merged into one, every listener in the
//! process sees every delivery, and the previous disposition comes back
//! when the last listener of a signal goes. [`SignalKind`] names the
//! signals, so a program needs no `libc` constants.

use std::fmt;
use std::io;
use std::task::{Context, Poll};

use super::Signals;
use crate::sys::signal::numbers as n;

/// Which signal to listen for: tokio's `SignalKind`.
///
/// ```
/// use ember::signal::unix::SignalKind;
///
/// assert_eq!(SignalKind::terminate(), SignalKind::from_raw(SignalKind::terminate().as_raw_value()));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// Any signal by number (`SIGRTMIN + 1` is `SignalKind::from_raw(35)` on
    /// Linux). [`signal`] refuses those that cannot be listened to.
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw_value(&self) -> i32 {
        self.0
    }

    /// `SIGALRM`: a timer set with `alarm` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(n::SIGALRM)
    }

    /// `SIGCHLD`: a child process stopped or ended.
    pub const fn child() -> SignalKind {
        SignalKind(n::SIGCHLD)
    }

    /// `SIGHUP`: the terminal went away, or (by convention) reload.
    pub const fn hangup() -> SignalKind {
        SignalKind(n::SIGHUP)
    }

    /// `SIGINT`: Ctrl-C on the terminal.
    pub const fn interrupt() -> SignalKind {
        SignalKind(n::SIGINT)
    }

    /// `SIGIO`: I/O is possible on an fd set up for it.
    pub const fn io() -> SignalKind {
        SignalKind(n::SIGIO)
    }

    /// `SIGPIPE`: a write to a pipe with no reader.
    pub const fn pipe() -> SignalKind {
        SignalKind(n::SIGPIPE)
    }

    /// `SIGQUIT`: Ctrl-\ on the terminal.
    pub const fn quit() -> SignalKind {
        SignalKind(n::SIGQUIT)
    }

    /// `SIGTERM`: the polite request to end (what `kill` sends).
    pub const fn terminate() -> SignalKind {
        SignalKind(n::SIGTERM)
    }

    /// `SIGUSR1`.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(n::SIGUSR1)
    }

    /// `SIGUSR2`.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(n::SIGUSR2)
    }

    /// `SIGWINCH`: the terminal's window changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(n::SIGWINCH)
    }
}

impl From<i32> for SignalKind {
    fn from(signum: i32) -> SignalKind {
        SignalKind(signum)
    }
}

impl From<SignalKind> for i32 {
    fn from(kind: SignalKind) -> i32 {
        kind.0
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignalKind({})", self.0)
    }
}

/// Listens for one kind of signal: tokio's `Signal`. Made by [`signal`].
///
/// ```no_run
/// use ember::signal::unix::{signal, SignalKind};
///
/// ember::block_on(async {
///     let mut hangups = signal(SignalKind::hangup())?;
///     while hangups.recv().await.is_some() {
///         println!("reloading the configuration");
///     }
///     Ok::<(), std::io::Error>(())
/// })
/// # .unwrap();
/// ```
#[derive(Debug)]
pub struct Signal {
    inner: Signals,
}

/// Starts listening for `kind`.
///
/// # Errors
/// `InvalidInput` for a number that is not a signal, or for `SIGKILL`,
/// `SIGSTOP`, `SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`; what the system
/// reports otherwise (out of fds).
///
/// # Panics
/// Outside an ember runtime, like every I/O constructor.
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    Ok(Signal {
        inner: Signals::new(&[kind.0])?,
    })
}

impl Signal {
    /// Waits for the next delivery. Never `None` (the `Option` is tokio's
    /// signature).
    ///
    /// # Cancel safety
    /// Cancel safe: a delivery is consumed only when `recv` returns it.
    pub async fn recv(&mut self) -> Option<()> {
        self.inner.recv().await.map(drop)
    }

    /// Polls for the next delivery; `Pending` stores the waker.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.inner.poll_recv(cx).map(|s| s.map(drop))
    }
}
