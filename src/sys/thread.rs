//! Per-thread settings: the loop thread's timer slack (`prctl(2)` with
//! `PR_SET_TIMERSLACK`), and pinning a thread to one CPU
//! (`sched_setaffinity(2)`, for `runtime::pin_to_cpu`).
//!
//! The timer slack is set by the runtime's loop (`Core::turn`) each time it
//! is about to block with a timeout; only the first call on a thread makes
//! the syscall.
//!
//! # Why
//! Linux lets a timed wait of an ordinary thread end later than asked, so
//! that nearby wake-ups can share one timer interrupt. For `epoll_wait` and
//! `epoll_pwait2` the allowance is the larger of the thread's *timer slack*
//! (50 µs unless set) and 0.1% of the timeout (`select_estimate_accuracy`
//! in `fs/select.c`). Fifty microseconds is the length of the shortest
//! sleeps ember promises to honour, so the loop thread asks for a slack of
//! 1 ns. Measured on a 2-vCPU VM (`tests/time_precision.rs`, several
//! runs): the mean lateness of 50 µs sleeps falls from 77–93 µs to
//! 23–37 µs, and of 1 ms sleeps from 83–113 µs to 38–63 µs.
//! (The 0.1% part is `time::store`'s business: it cuts long waits short.)
//!
//! The cost: this thread's wake-ups can no longer be merged with other
//! timers' (a few more interrupts per second on a busy machine), and the
//! setting outlives the runtime on this thread; threads it starts later
//! inherit it. tokio and async-io leave the slack alone: tokio's
//! millisecond timer hides it, and async-io arms a timerfd (whose hrtimer
//! has no slack) before each wait, one more syscall per wait.

use std::cell::Cell;
use std::io;
use std::mem::size_of;

/// The slack the loop thread asks for, in nanoseconds. Zero would mean
/// "back to the default", so the smallest real slack is 1 ns.
const FINE_SLACK_NS: libc::c_ulong = 1;

thread_local! {
    /// Whether this thread has already asked for [`FINE_SLACK_NS`].
    static FINE: Cell<bool> = const { Cell::new(false) };
}

/// Makes this thread's timed waits end as close to their deadline as the
/// kernel can (once per thread; later calls cost a thread-local read).
pub(crate) fn use_fine_timer_slack() {
    if FINE.with(|done| done.replace(true)) {
        return;
    }
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument; the other
    // arguments are unused and passed as zero. No pointer is involved.
    let ret = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, FINE_SLACK_NS, 0, 0, 0) };
    // Best effort: if a sandbox refuses it, timers are late by the default
    // slack (50 µs) and never early, which is still correct.
    let _ = super::cvt(ret);
}

/// Lets the calling thread run on CPU `cpu` only (`sched_setaffinity(2)`
/// on thread id 0, the caller). A CPU number the set cannot hold
/// (`CPU_SETSIZE`, 1,024) is `InvalidInput`; a CPU that does not exist or
/// is outside the process's allowed set (a container's cpuset) is the
/// kernel's `EINVAL`.
pub(crate) fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "CPU number past CPU_SETSIZE (1024)",
        ));
    }
    // SAFETY: cpu_set_t is a plain bit array; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` is below CPU_SETSIZE (checked above), so its bit lies
    // inside `set`, which is a live, exclusively borrowed local.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a live cpu_set_t and the size passed is its own;
    // the kernel only reads it. Pid 0 means the calling thread.
    super::cvt(unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) })?;
    Ok(())
}
