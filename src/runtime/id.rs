//! Task ids: one process-wide counter, so that an id names one task among
//! every runtime's, and a task spawned from another thread
//! (`Handle::spawn`) can have its id before the loop has seen it.
//!
//! Called by `Core` for each task and each `block_on` call, and by the
//! remote spawn path. The cost is one relaxed atomic add per spawn, beside
//! the two allocations a spawn makes anyway.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// The next id to hand out. Starts at 1; 2^64 spawns would take centuries.
static NEXT: AtomicU64 = AtomicU64::new(1);

/// A fresh id, never handed out before in this process.
pub(crate) fn next() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A task's id: unique among all the tasks of the process, alive or not
/// (the future given to `block_on` has one too). tokio's `task::Id`.
///
/// ```
/// ember::block_on(async {
///     let handle = ember::spawn(async { ember::task::id() });
///     let id = handle.id();
///     assert_eq!(handle.await.unwrap(), id);
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// The id that the counter gave as `n` (never zero).
    pub(crate) fn from_raw(n: u64) -> Id {
        Id(NonZeroU64::new(n).unwrap_or(NonZeroU64::MIN))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}
