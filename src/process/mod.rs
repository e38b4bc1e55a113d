//! Child processes: [`Command`] spawns them, [`Child`] waits for them and
//! kills them, and their pipes are [`ChildStdin`] ([`AsyncWrite`]),
//! [`ChildStdout`] and [`ChildStderr`] ([`AsyncRead`]).
//!
//! Needs the `process` feature (in the default `full`), which brings
//! `signal` with it. The names and signatures are tokio's, over std's
//! `std::process::Command`, which does the spawning.
//!
//! ```
//! use ember::process::Command;
//!
//! ember::block_on(async {
//!     let out = Command::new("echo").arg("hello").output().await?;
//!     assert!(out.status.success());
//!     assert_eq!(out.stdout, b"hello\n");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! A command with a deadline, killed past it:
//!
//! ```
//! use std::time::Duration;
//! use ember::process::Command;
//!
//! ember::block_on(async {
//!     let mut child = Command::new("sleep").arg("60").spawn()?;
//!     if ember::time::timeout(Duration::from_millis(100), child.wait()).await.is_err() {
//!         child.kill().await?; // SIGKILL, then reaped
//!     }
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # A child's life
//!
//! | state | what ember holds | `id()` | `try_wait()` | left when |
//! | --- | --- | --- | --- | --- |
//! | running | the pid, and a registered pidfd (or a `SIGCHLD` listener) | `Some(pid)` | `Ok(None)` | the process exits |
//! | exited, unreaped (a zombie) | the same; the pidfd is now readable (or `SIGCHLD` was delivered), which wakes `wait` | `Some(pid)` | reaps it: `Ok(Some(status))` | `wait` or `try_wait` reaps it |
//! | reaped | the `ExitStatus` only; the pidfd is closed | `None` | `Ok(Some(status))`, again | never |
//!
//! `start_kill` (and `kill`) sends `SIGKILL` while the child is running or
//! a zombie, and does nothing once it is reaped (the pid may be another
//! process's by then). Dropping the [`Child`] in the first two
//! states makes it an **orphan**: killed first if
//! [`kill_on_drop`](Command::kill_on_drop) was set, then reaped in the
//! background when it exits, by a task on the runtime (`wait.rs`), so no
//! zombie is left behind. An orphan that no runtime can wait for (dropped
//! outside it, or its runtime gone) is reaped at the next `spawn`.
//!
//! # How an exit is heard
//! No thread per child, and no polling. On Linux 5.3 and later each child
//! gets a **pidfd** (`pidfd_open(2)`), registered with the reactor like a
//! socket: it becomes readable when the child exits, and the child is then
//! reaped with `waitpid(pid, WNOHANG)`. Where `pidfd_open` is missing or
//! forbidden, each waiting child listens to **`SIGCHLD`** (through
//! [`signal::Signals`](crate::signal::Signals)) and looks with
//! `waitpid(pid, WNOHANG)` at each delivery. Setting
//! `EMBER_PROCESS_NO_PIDFD` in the environment forces that fallback. Either
//! way each unreaped child costs one fd, and ember only ever waits for its
//! own children's pids (never `waitpid(-1)`), so children spawned by other
//! code in the process are left to it.
//!
//! # Pipes
//! A stream set to `Stdio::piped()` becomes a pipe whose parent end is made
//! non-blocking and registered; the child's end stays blocking (see
//! `stdio.rs`). `ChildStdin`, `ChildStdout` and `ChildStderr` convert into
//! [`Stdio`] to connect one child's output to another's input.
//!
//! # Production notes
//! tokio does the same (pidfd where it can, a `SIGCHLD` driver and an
//! orphan queue otherwise), and also offers `pre_exec`, `uid`/`gid` and
//! Windows options. `pre_exec` is an `unsafe fn`, and ember keeps `unsafe`
//! out of everything above `sys/`: use
//! [`as_std_mut`](Command::as_std_mut) and std's `CommandExt` for it.

mod child;
mod stdio;
mod wait;

pub use child::Child;
pub use stdio::{ChildStderr, ChildStdin, ChildStdout};

use std::ffi::OsStr;
use std::fmt;
use std::future::Future;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command as StdCommand, ExitStatus, Output, Stdio};

#[cfg(doc)]
use crate::io::{AsyncRead, AsyncWrite};

/// A process to spawn: program, arguments, environment, working directory,
/// standard streams. The builder methods are std's `Command`'s; `spawn`,
/// `status` and `output` give a [`Child`] and futures that wait on the
/// reactor.
pub struct Command {
    std: StdCommand,
    kill_on_drop: bool,
    /// Whether `stdin` was called: `output` defaults it to null otherwise.
    stdin_set: bool,
}

impl Command {
    /// A command to run `program`, found in `PATH` if it has no `/`, with
    /// no arguments, the parent's environment and working directory, and
    /// the parent's standard streams (`output` captures them instead).
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command::from(StdCommand::new(program))
    }

    /// Adds an argument.
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    pub fn env<K, V>(&mut self, key: K, val: V) -> &mut Command
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Gives the child an empty environment (then add with `env`).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input: `Stdio::piped()` gives
    /// [`Child::stdin`] as a [`ChildStdin`].
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// The child's standard output: `Stdio::piped()` gives
    /// [`Child::stdout`] as a [`ChildStdout`].
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error: `Stdio::piped()` gives
    /// [`Child::stderr`] as a [`ChildStderr`].
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Puts the child in process group `pgroup` (`setpgid`); `0` makes a
    /// new group whose id is the child's pid (so a terminal's Ctrl-C no
    /// longer reaches it, and the group can be signalled as a whole).
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// Runs the child as user `id` (`setuid`).
    pub fn uid(&mut self, id: u32) -> &mut Command {
        self.std.uid(id);
        self
    }

    /// Runs the child as group `id` (`setgid`).
    pub fn gid(&mut self, id: u32) -> &mut Command {
        self.std.gid(id);
        self
    }

    /// Sets the child's `argv[0]` (what it sees as its own name).
    pub fn arg0<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg0(arg);
        self
    }

    /// Whether a [`Child`] spawned from here is killed (`SIGKILL`) when it
    /// is dropped before being reaped. Off by default: a dropped child runs
    /// on (and is reaped in the background when it exits). Either way no
    /// zombie is left behind.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Whether [`kill_on_drop`](Self::kill_on_drop) is set.
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }

    /// std's `Command` underneath.
    pub fn as_std(&self) -> &StdCommand {
        &self.std
    }

    /// std's `Command` underneath, mutably (for `CommandExt` options ember
    /// does not wrap, such as `pre_exec`).
    pub fn as_std_mut(&mut self) -> &mut StdCommand {
        &mut self.std
    }

    /// std's `Command` underneath, by value (`kill_on_drop` is lost).
    pub fn into_std(self) -> StdCommand {
        self.std
    }

    /// Spawns the child. Its pipes (streams set to `Stdio::piped()`) and
    /// the wait for its exit are registered with the current runtime;
    /// orphans that have exited are reaped first.
    ///
    /// # Errors
    /// What std's `spawn` reports (no such program, not executable, ...);
    /// running out of fds for the pidfd or the pipes' registrations, in
    /// which case the child just spawned is killed and reaped in the
    /// background.
    ///
    /// # Panics
    /// Outside an ember runtime, like every I/O constructor (checked before
    /// anything is spawned).
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        drop(crate::runtime::current_core(
            "ember::process::Command::spawn",
        ));
        wait::reap_orphans();
        let mut std = self.std.spawn()?;
        let stdin = std.stdin.take();
        let stdout = std.stdout.take();
        let stderr = std.stderr.take();
        let running = match wait::Running::new(std) {
            Ok(running) => running,
            Err((mut std, e)) => {
                let _ = std.kill();
                wait::adopt(std);
                return Err(e);
            }
        };
        // Registered after the wait, so that on error `child` is dropped
        // as an orphan: killed (below) and reaped.
        let mut child = Child::new(running, true, None, None, None);
        child.stdin = stdin.map(ChildStdin::from_std).transpose()?;
        child.stdout = stdout.map(ChildStdout::from_std).transpose()?;
        child.stderr = stderr.map(ChildStderr::from_std).transpose()?;
        child.set_kill_on_drop(self.kill_on_drop);
        Ok(child)
    }

    /// Spawns the child with its streams as configured (inherited by
    /// default) and waits for its exit status. The `Child` is not given
    /// out: pipes set with `Stdio::piped()` are closed at once.
    ///
    /// The child is spawned when `status` is called, not at the first poll
    /// (as in tokio).
    ///
    /// # Cancel safety
    /// Dropping the future drops the child: it runs on and is reaped when
    /// it exits, or is killed first if `kill_on_drop` is set.
    #[track_caller]
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> {
        let child = self.spawn();
        async {
            let mut child = child?;
            drop((child.stdin.take(), child.stdout.take(), child.stderr.take()));
            child.wait().await
        }
    }

    /// Spawns the child with its standard output and error captured (set
    /// to `Stdio::piped()`) and its standard input null unless
    /// [`stdin`](Self::stdin) was called, then collects its output and
    /// status. The streams are set on this `Command`, and stay so.
    ///
    /// The child is spawned when `output` is called, not at the first poll
    /// (as in tokio).
    ///
    /// # Cancel safety
    /// Not cancel safe: dropping the future loses the output read so far
    /// and drops the child (reaped when it exits, killed first if
    /// `kill_on_drop`).
    #[track_caller]
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        let child = self.spawn();
        async { child?.wait_with_output().await }
    }
}

impl From<StdCommand> for Command {
    fn from(std: StdCommand) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}
