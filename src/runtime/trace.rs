//! `EMBER_TRACE=1`: one line on stderr per step of the loop, so a reader can
//! watch the runtime work.
//!
//! Called from the loop, the reactor and the wakers. The environment is read
//! once, when the first runtime is built; when tracing is off each hook costs
//! one load and one predictable branch.
//!
//! Lines look like `ember: poll task 3 -> pending (2.1µs)`; `docs/` walks
//! through a traced run.

use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use super::waker::{Entry, MAIN_SLOT};

static ON: AtomicBool = AtomicBool::new(false);
static INIT: Once = Once::new();

/// Reads `EMBER_TRACE` (once per process).
pub(crate) fn init() {
    INIT.call_once(|| {
        let on = std::env::var_os("EMBER_TRACE").is_some_and(|v| v != "0" && !v.is_empty());
        ON.store(on, Ordering::Relaxed);
    });
}

#[inline(always)]
fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

fn name(entry: Entry) -> String {
    if entry.slot == MAIN_SLOT {
        "block_on future".to_string()
    } else {
        format!("task {}", entry.id)
    }
}

#[inline]
pub(crate) fn wait_done(timeout: Option<Duration>, events: usize) {
    if on() {
        let t = match timeout {
            None => "forever".to_string(),
            Some(t) => format!("{t:?}"),
        };
        eprintln!("ember: epoll_wait(timeout {t}) -> {events} event(s)");
    }
}

#[inline]
pub(crate) fn event(fd: std::os::fd::RawFd, bits: u32) {
    if on() {
        eprintln!("ember:   event: fd {fd} {}", describe(bits));
    }
}

#[inline]
pub(crate) fn register(fd: std::os::fd::RawFd, added: bool) {
    if on() {
        let what = if added { "register" } else { "deregister" };
        eprintln!("ember: {what} fd {fd}");
    }
}

#[inline]
pub(crate) fn bell() {
    if on() {
        eprintln!("ember:   event: remote-wake bell");
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

#[inline]
pub(crate) fn wake(entry: Entry, remote: bool) {
    if on() {
        let from = if remote {
            format!("from thread {:?}", std::thread::current().id())
        } else {
            "on the loop".to_string()
        };
        eprintln!("ember: wake {} {from}", name(entry));
    }
}

#[inline]
pub(crate) fn spawn(entry: Entry, at: &Location<'_>) {
    if on() {
        eprintln!("ember: spawn {} at {at}", name(entry));
    }
}

#[inline]
pub(crate) fn poll_start() -> Option<Instant> {
    on().then(Instant::now)
}

#[inline]
pub(crate) fn poll_end(entry: Entry, at: &Location<'_>, started: Option<Instant>, completed: bool) {
    if let Some(t) = started {
        let what = if completed { "ready" } else { "pending" };
        let took = t.elapsed();
        eprintln!(
            "ember: poll {} (spawned at {at}) -> {what} in {took:?}",
            name(entry)
        );
    }
}

#[inline]
pub(crate) fn timer_fired() {
    if on() {
        eprintln!("ember: timer fired");
    }
}
