//! Wakers: how a task gets back on the run queue, from this thread or any
//! other.
//!
//! Created once per task by the executor (`Core::spawn`), and once per
//! `block_on` call for its future (`Core::main_handle`); cloned by every
//! future that waits. A [`WakeHandle`] names its task by run-queue
//! [`Entry`] (slab slot and unique id), never by pointer, so it is `Send +
//! Sync` while the task itself stays on its thread, and a waker of a task
//! whose slot was reused cannot wake the new occupant: the ids differ.
//!
//! # Two paths
//! - **Local** (the wake happens on the loop's thread, inside the runtime):
//!   push the entry on the run queue. No syscall, no lock; one atomic swap
//!   on `scheduled`.
//! - **Remote** (another thread, or no runtime entered): push the entry on
//!   the `Shared` queue under its mutex, and ring the eventfd only if the
//!   loop may be asleep in `epoll_wait` and nobody rang since it last looked.
//!
//! # The sleep handshake
//! The loop stores `sleeping = true` and then checks `pending`; a remote
//! waker stores `pending = true` and then checks `sleeping`. Both use
//! `SeqCst`, so at least one of them sees the other: either the loop notices
//! the pending wake and does not block, or the waker rings the bell.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Wake;

use super::queue::RunQueue;
use crate::sys::eventfd::EventFd;

/// A run-queue entry: a task's slab slot and its unique id. The reactor
/// defines it (it stores one for each waiting task and hands it back), and
/// the executor queues it as it comes.
pub(crate) use crate::reactor::TaskRef as Entry;

/// How `EMBER_TRACE` names the task of `entry`.
pub(crate) fn traced(entry: Entry) -> crate::trace::Task {
    entry.traced()
}

/// The slot that stands for the future given to `block_on`.
pub(crate) const MAIN_SLOT: usize = Entry::MAIN_SLOT;

/// What wakers share with the loop across threads.
pub(crate) struct Shared {
    remote: Mutex<Remote>,
    /// The remote queue is not empty.
    pending: AtomicBool,
    /// The loop is about to block, or is blocked, in `epoll_wait`.
    sleeping: AtomicBool,
}

/// A future sent from another thread by `Handle::spawn`, boxed with what
/// spawns it: called on the loop's thread, it makes the task.
pub(crate) type RemoteSpawn = Box<dyn FnOnce(&super::core::Core) + Send>;

struct Remote {
    queue: Vec<Entry>,
    /// Futures to spawn, from `Handle::spawn` on other threads.
    spawns: Vec<RemoteSpawn>,
    /// Aborts made while the runtime was not running on this thread (a
    /// `JoinHandle` used between two `block_on` calls): they go to the
    /// *front* of the run queue, so the aborted future is dropped before
    /// anything else is polled.
    aborts: Vec<Entry>,
    /// The doorbell; `None` once the runtime is gone (wakes become no-ops).
    bell: Option<EventFd>,
    /// Rung since the loop last drained the queue.
    rung: bool,
}

impl Shared {
    pub(crate) fn new(bell: EventFd) -> Shared {
        Shared {
            remote: Mutex::new(Remote {
                queue: Vec::new(),
                spawns: Vec::new(),
                aborts: Vec::new(),
                bell: Some(bell),
                rung: false,
            }),
            pending: AtomicBool::new(false),
            sleeping: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Remote> {
        // A panic while holding this lock cannot leave the queue
        // inconsistent (push and swap are the only operations), so poisoning
        // is ignored.
        self.remote.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `entry` from another thread and rings the bell if needed.
    pub(crate) fn schedule_remote(&self, entry: Entry) {
        let mut remote = self.lock();
        if remote.bell.is_none() {
            return; // the runtime is gone
        }
        remote.queue.push(entry);
        self.pending.store(true, Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) && !remote.rung {
            remote.rung = true;
            if let Some(bell) = &remote.bell {
                bell.ring();
            }
        }
    }

    /// Whether anything waits in the remote queue (wakes, aborts, spawns).
    #[inline]
    pub(crate) fn pending(&self) -> bool {
        self.pending.load(Ordering::SeqCst)
    }

    /// Queues a spawn from another thread and rings the bell if needed;
    /// gives it back if the runtime is gone.
    pub(crate) fn schedule_spawn(&self, spawn: RemoteSpawn) -> Result<(), RemoteSpawn> {
        let mut remote = self.lock();
        if remote.bell.is_none() {
            return Err(spawn);
        }
        remote.spawns.push(spawn);
        self.pending.store(true, Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) && !remote.rung {
            remote.rung = true;
            if let Some(bell) = &remote.bell {
                bell.ring();
            }
        }
        Ok(())
    }

    /// Moves every remote wake into `out`, and every remote spawn into
    /// `spawns`. Cheap when there is none: one atomic load.
    pub(crate) fn drain_into(&self, out: &mut RunQueue, spawns: &mut Vec<RemoteSpawn>) -> usize {
        if !self.pending.load(Ordering::SeqCst) {
            return 0;
        }
        let mut remote = self.lock();
        self.pending.store(false, Ordering::SeqCst);
        remote.rung = false;
        spawns.append(&mut remote.spawns);
        let n = remote.queue.len();
        // Traced when they were made (`wake_by_ref`), so queued plainly.
        for entry in remote.queue.drain(..) {
            out.push_back(entry);
        }
        for entry in remote.aborts.drain(..).rev() {
            out.push_front(entry);
        }
        n
    }

    /// Queues an abort made where the runtime is not running (see
    /// `Remote::aborts`). Only the runtime's own thread can hold a
    /// `JoinHandle`, so the loop is not asleep and the bell is not rung.
    pub(crate) fn schedule_abort(&self, entry: Entry) {
        let mut remote = self.lock();
        if remote.bell.is_none() {
            return; // the runtime is gone, and its tasks with it
        }
        remote.aborts.push(entry);
        self.pending.store(true, Ordering::SeqCst);
    }

    /// Resets the bell after epoll reported it.
    pub(crate) fn silence_bell(&self) {
        if let Some(bell) = &self.lock().bell {
            bell.drain();
        }
    }

    /// Announces that the loop will block; `false` if a remote wake is
    /// already pending (then the loop must not block).
    pub(crate) fn prepare_sleep(&self) -> bool {
        self.sleeping.store(true, Ordering::SeqCst);
        if self.pending.load(Ordering::SeqCst) {
            self.sleeping.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    pub(crate) fn woke_up(&self) {
        self.sleeping.store(false, Ordering::SeqCst);
    }

    /// The runtime is gone: close the bell and forget queued wakes. Later
    /// wakes do nothing.
    pub(crate) fn close(&self) {
        let mut remote = self.lock();
        remote.bell = None;
        remote.queue = Vec::new();
        remote.aborts = Vec::new();
        let spawns = std::mem::take(&mut remote.spawns);
        drop(remote);
        // Their futures are user values: dropped with the lock released,
        // each contained (their handles then report the task cancelled).
        for spawn in spawns {
            crate::contain::call(
                "the drop of a future spawned from another thread",
                move || drop(spawn),
            );
        }
    }
}

/// One task's waker.
///
/// Its task's [`Entry`] is kept as `id` and a 32-bit `slot` (`u32::MAX`
/// for [`MAIN_SLOT`]), so that the slot and the `scheduled` flag share a
/// word and the `Arc` allocation is 40 bytes rather than 48: one of these
/// is made for every task, and spawning a million tasks is mostly page
/// faults.
pub(crate) struct WakeHandle {
    id: u64,
    slot: u32,
    /// The task is on a run queue (local or remote) and will be polled.
    /// Set by a wake, cleared by the executor just before it polls the task;
    /// a wake that finds it set does nothing.
    scheduled: AtomicBool,
    pub(crate) shared: Arc<Shared>,
}

impl WakeHandle {
    /// A handle for a task that is already on the run queue.
    ///
    /// # Panics
    /// If `entry.slot` does not fit in 32 bits (more than four billion live
    /// tasks: hundreds of gigabytes of task cells).
    pub(crate) fn new(entry: Entry, shared: Arc<Shared>) -> WakeHandle {
        let slot = match entry.slot {
            MAIN_SLOT => u32::MAX,
            slot => u32::try_from(slot)
                .ok()
                .filter(|&s| s != u32::MAX)
                .expect("ember: more than 4 billion live tasks"),
        };
        WakeHandle {
            id: entry.id,
            slot,
            scheduled: AtomicBool::new(true),
            shared,
        }
    }

    /// The run-queue entry of the task this handle wakes.
    #[inline]
    pub(crate) fn entry(&self) -> Entry {
        match self.slot {
            u32::MAX => Entry {
                slot: MAIN_SLOT,
                id: self.id,
            },
            _ => self.task_entry(),
        }
    }

    /// The entry of a spawned task (never [`MAIN_SLOT`]): `entry` without
    /// its branch, for the executor's hot path.
    #[inline]
    pub(crate) fn task_entry(&self) -> Entry {
        debug_assert_ne!(self.slot, u32::MAX);
        Entry {
            slot: self.slot as usize,
            id: self.id,
        }
    }

    /// The task's id.
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Called by the executor right before a poll. `AcqRel`: a remote wake
    /// that found `scheduled` set (and so did not queue) published its data
    /// before its swap, and this swap reads that value, so the poll sees it.
    ///
    /// The swap is skipped when the flag reads clear, which is the common
    /// case: the reactor queues tasks woken by I/O without touching it (see
    /// `reactor/mod.rs`). That is sound because every wake that sets the
    /// flag from clear also queues an entry: if this load misses a set, the
    /// setter's own entry brings another poll, and that poll's load (made
    /// after the entry was drained under the remote queue's lock, or on this
    /// thread after a local wake) sees the flag set and swaps.
    #[inline]
    pub(crate) fn unschedule(&self) {
        if self.scheduled.load(Ordering::Acquire) {
            self.scheduled.swap(false, Ordering::AcqRel);
        }
    }
}

impl Wake for WakeHandle {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        let entry = self.entry();
        if !super::context::schedule_local(&self.shared, entry, false) {
            super::trace::wake(traced(entry), true);
            self.shared.schedule_remote(entry);
        }
    }
}
