//! `runtime::stats()`: counters of the current runtime.
//!
//! Plain integers in `Cell`s on the loop's thread, bumped where the events
//! happen (`core.rs`, the reactor); reading them copies them out.

/// A snapshot of the current runtime's counters, since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Tasks spawned.
    pub tasks_spawned: u64,
    /// Tasks not yet completed.
    pub tasks_alive: u64,
    /// Tasks completed (returned, panicked or aborted).
    pub tasks_completed: u64,
    /// Polls of tasks (the `block_on` future's polls are not counted).
    pub polls: u64,
    /// Wakes made on the loop's thread, inside the runtime.
    pub local_wakes: u64,
    /// Wakes that came through the remote queue (other threads).
    pub remote_wakes: u64,
    /// Calls to `epoll_wait` (or `epoll_pwait2`).
    pub epoll_waits: u64,
    /// Of those, the ones that returned no event.
    pub empty_waits: u64,
    /// Events delivered by epoll (the remote-wake bell included).
    pub events: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// File descriptors registered with the reactor now.
    pub fds_registered: u64,
}

/// The counters of the runtime running on this thread.
///
/// # Panics
/// Outside an ember runtime.
///
/// ```
/// ember::block_on(async {
///     ember::spawn(async {}).await.unwrap();
///     let s = ember::runtime::stats();
///     assert_eq!(s.tasks_spawned, 1);
///     assert_eq!(s.tasks_alive, 0);
/// });
/// ```
#[track_caller]
pub fn stats() -> Stats {
    let core = super::current_core("ember::runtime::stats");
    let c = &core.stats;
    let r = &core.reactor.stats;
    Stats {
        tasks_spawned: c.spawned.get(),
        tasks_alive: core.alive() as u64,
        tasks_completed: c.completed.get(),
        polls: c.polls.get(),
        local_wakes: c.local_wakes.get(),
        remote_wakes: c.remote_wakes.get(),
        epoll_waits: r.waits.get(),
        empty_waits: r.empty_waits.get(),
        events: r.events.get(),
        timers_fired: c.timers_fired.get(),
        fds_registered: core.reactor.registered() as u64,
    }
}
