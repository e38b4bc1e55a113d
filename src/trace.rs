//! `EMBER_TRACE=1`: one line on stderr per step of the loop, so a reader can
//! watch the runtime work.
//!
//! Called from the loop, the reactor and the wakers; it sits below both
//! (it names no type of either, only fds, task ids and `EPOLL*` bits), so
//! the reactor can trace without knowing the executor. The environment is read
//! once, when the first runtime is built. Each hook is split in two: an
//! always-inlined check (one load, one predictable branch) and an
//! out-of-line `#[cold]` body that formats the line. Keeping the formatting
//! out of the hot functions matters. Measured with callgrind on the echo
//! bench at 64 connections, tracing off, user-space instructions per round
//! trip: hooks compiled out 571; hooks with inlined formatting 625; these
//! split hooks 592, i.e. about eight hooks of one load and one branch each.
//!
//! Lines look like `ember: poll task 3 (spawned at src/main.rs:9:5) ->
//! pending in 2.1µs`; `docs/guide.md` walks through a traced run.

use std::os::fd::RawFd;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

static ON: AtomicBool = AtomicBool::new(false);
static INIT: Once = Once::new();

/// Reads `EMBER_TRACE` (once per process).
pub(crate) fn init() {
    INIT.call_once(|| {
        let on = std::env::var_os("EMBER_TRACE").is_some_and(|v| v != "0" && !v.is_empty());
        ON.store(on, Ordering::Relaxed);
    });
}

/// Whether `EMBER_TRACE` is on. The hooks check it themselves; a loop that
/// would otherwise check it once per item reads it once.
#[inline(always)]
pub(crate) fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Declares a hook: `$name` checks the flag inline and calls the cold
/// `$slow`, which prints.
macro_rules! hook {
    ($(fn $name:ident / $slow:ident ($($arg:ident: $ty:ty),*) $body:block)*) => {$(
        #[inline(always)]
        pub(crate) fn $name($($arg: $ty),*) {
            if on() {
                $slow($($arg),*);
            }
        }

        #[cold]
        #[inline(never)]
        fn $slow($($arg: $ty),*) $body
    )*};
}

hook! {
    fn wait_done / wait_done_slow(timeout: Option<Duration>, events: usize) {
        let t = match timeout {
            None => "forever".to_string(),
            Some(t) => format!("{t:?}"),
        };
        eprintln!("ember: epoll_wait(timeout {t}) -> {events} event(s)");
    }

    fn event / event_slow(fd: RawFd, bits: u32) {
        eprintln!("ember:   event: fd {fd} {}", describe(bits));
    }

    fn register / register_slow(fd: RawFd, added: bool) {
        let what = if added { "register" } else { "deregister" };
        eprintln!("ember: {what} fd {fd}");
    }

    fn bell / bell_slow() {
        eprintln!("ember:   event: remote-wake bell");
    }

    fn wake / wake_slow(task: Task, remote: bool) {
        let from = if remote {
            format!("from thread {:?}", std::thread::current().id())
        } else {
            "on the loop".to_string()
        };
        eprintln!("ember: wake {} {from}", name(task));
    }

    fn spawn / spawn_slow(task: Task, at: &Location<'_>) {
        eprintln!("ember: spawn {} at {at}", name(task));
    }

    fn timer_fired / timer_fired_slow() {
        eprintln!("ember: timer fired");
    }
}

/// The start of a poll: a clock reading when tracing, else nothing.
#[inline(always)]
pub(crate) fn poll_start() -> Option<Instant> {
    if on() {
        Some(Instant::now())
    } else {
        None
    }
}

/// The end of a poll for which [`poll_start`] gave a clock reading. (The
/// caller checks, so that it computes `at` only when tracing.)
#[cold]
#[inline(never)]
pub(crate) fn poll_end(task: Task, at: &Location<'_>, started: Instant, done: bool) {
    let what = if done { "ready" } else { "pending" };
    let took = started.elapsed();
    eprintln!(
        "ember: poll {} (spawned at {at}) -> {what} in {took:?}",
        name(task)
    );
}

/// What a line calls a task: its id, and whether it is the future given
/// to `block_on` rather than a spawned task.
#[derive(Clone, Copy)]
pub(crate) struct Task {
    pub(crate) id: u64,
    pub(crate) main: bool,
}

fn name(task: Task) -> String {
    if task.main {
        "block_on future".to_string()
    } else {
        format!("task {}", task.id)
    }
}

fn describe(bits: u32) -> String {
    use crate::sys::epoll::flags::*;
    let names = [
        (IN, "IN"),
        (OUT, "OUT"),
        (RDHUP, "RDHUP"),
        (HUP, "HUP"),
        (ERR, "ERR"),
    ];
    let v: Vec<&str> = names
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect();
    v.join("|")
}
