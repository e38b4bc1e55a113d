//! `Barrier`: `n` tasks wait until all `n` have arrived, then all go on
//! together; one of them is told it is the leader.
//!
//! Called by user code. Relies on a `std::sync::Mutex` for the count and on
//! [`Notify::notify_waiters`] to release a generation: each waiter creates
//! its `Notified` while it holds the count's lock, and the last arrival
//! notifies after taking that lock, so no waiter can miss its release.
//!
//! `Send + Sync`, as tokio's: a barrier is rarely on a hot path, and one
//! lock per arrival is cheap; a plain thread cannot wait on it, but may own
//! the `Arc` it lives in.
//!
//! | event | `arrived` | effect |
//! |-------|-----------|--------|
//! | `wait()` by one of the first `n - 1` | +1 | waits for the release of this generation |
//! | `wait()` by the `n`th | back to 0 | the generation is released (`notify_waiters`); this one is the leader |

use std::fmt;
use std::sync::Mutex;

use super::lock;
use super::notify::Notify;

/// Lets `n` tasks wait for one another.
///
/// ```
/// use std::rc::Rc;
/// use ember::sync::Barrier;
///
/// ember::block_on(async {
///     let barrier = Rc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let b = barrier.clone();
///             ember::spawn(async move { b.wait().await.is_leader() })
///         })
///         .collect();
///     let mut leaders = 0;
///     for t in tasks {
///         leaders += t.await.unwrap() as u32;
///     }
///     assert_eq!(leaders, 1);
/// });
/// ```
pub struct Barrier {
    n: usize,
    /// Tasks that arrived in the current generation.
    arrived: Mutex<usize>,
    release: Notify,
}

/// What [`Barrier::wait`] returns: whether this task was the leader (the
/// last to arrive; exactly one per generation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task was the generation's leader.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` tasks (0 counts as 1, as in tokio).
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            arrived: Mutex::new(0),
            release: Notify::new(),
        }
    }

    /// Waits until `n` tasks have called `wait` (this one included).
    ///
    /// # Cancel safety
    /// **Not** cancel safe: a task that arrived and was then dropped still
    /// counts toward this generation (as in tokio).
    pub async fn wait(&self) -> BarrierWaitResult {
        let notified = {
            let mut arrived = lock(&self.arrived);
            *arrived += 1;
            if *arrived < self.n {
                // Created under the lock: the leader's `notify_waiters`
                // comes after, so it reaches this future.
                Some(self.release.notified())
            } else {
                *arrived = 0;
                None
            }
        };
        match notified {
            Some(n) => {
                n.await;
                BarrierWaitResult(false)
            }
            None => {
                self.release.notify_waiters();
                BarrierWaitResult(true)
            }
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &*lock(&self.arrived))
            .finish()
    }
}
