//! [`pin_to_cpu`]: keeps the calling thread on one CPU, for thread-per-core
//! programs (one ember runtime per thread, each pinned to its own CPU; see
//! `docs/multicore.md` and `examples/multicore_echo.rs`).
//!
//! Called by user code, usually first thing in each worker thread. Relies
//! on `sys/thread.rs` (`sched_setaffinity(2)`).

use std::io;

/// Lets the calling thread run on CPU `cpu` only (numbered from 0, as in
/// `/proc/cpuinfo` and `taskset`), for the rest of its life. Threads it
/// starts afterwards (a runtime's blocking pool included) inherit the
/// setting.
///
/// Pinning keeps a runtime's data in one CPU's caches and stops the
/// scheduler from moving two busy runtimes onto one CPU. It also means
/// the thread waits when that CPU is busy with something else, where an
/// unpinned thread would move: on a machine shared with other work,
/// measure before pinning.
///
/// A CPU that does not exist, or that the process may not use (a
/// container's cpuset, a `taskset` around the program), is an error of
/// kind `InvalidInput`, and the thread's placement is left as it was.
///
/// ```no_run
/// let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
/// let workers: Vec<_> = (0..cpus)
///     .map(|cpu| {
///         std::thread::spawn(move || {
///             ember::runtime::pin_to_cpu(cpu)?;
///             ember::block_on(async { /* this CPU's share of the work */ });
///             Ok::<(), std::io::Error>(())
///         })
///     })
///     .collect();
/// # drop(workers);
/// ```
pub fn pin_to_cpu(cpu: usize) -> io::Result<()> {
    crate::sys::thread::pin_to_cpu(cpu)
}
