//! `Semaphore`: a count of permits that tasks acquire and give back, handed
//! out in FIFO order.
//!
//! Used directly (limit how many connections or jobs run at once), and by
//! `OnceCell` (one initialiser at a time). Relies on [`WaitList`]'s counted
//! waiters for the queue, and on the cooperative budget.
//!
//! # Why atomics here
//! A `Semaphore` is one of the types a plain thread uses (a blocking job
//! giving back a permit, a thread limiting itself), so it is `Send + Sync`
//! and needs real synchronisation. The common case, a permit available and
//! nobody waiting, costs one compare-and-swap to acquire and one
//! `fetch_add` to release: the permits and two flags share one atomic word.
//! The queue of waiters sits behind a `std::sync::Mutex`, taken only when
//! someone waits or is about to.
//!
//! | bits of `state` | meaning | changed by |
//! |-----------------|---------|------------|
//! | `CLOSED` (bit 0) | `close` was called: acquires fail | `close`, once |
//! | `WAITERS` (bit 1) | the queue is not empty: nobody may take permits without the lock | under the lock only: set when the first waiter queues, cleared when the last leaves |
//! | `permits` (bits 2..) | free permits nobody was handed yet | acquires (CAS), releases (`fetch_add`), the lock holder handing permits to waiters |
//!
//! # Fairness
//! While anybody waits (`WAITERS`), a new acquire queues behind them even
//! if enough permits are free, and released permits go to the queue's head
//! first: it takes what it still needs, or all there is (keeping its
//! place), so a large request is never starved by a stream of small ones
//! (tokio's documented rule). A release that sees `WAITERS` takes the lock
//! and hands its permits out ([`WaitList::grant`]); a waiter that queues
//! sets `WAITERS` and then hands out what is free itself, so a release
//! racing with it is never lost: both act on the same atomic word, in one
//! order or the other.
//!
//! Invariant (lock held): `WAITERS` is set exactly when the queue is not
//! empty.
//!
//! Wakers are taken out under the lock and woken after it is released,
//! through `contain::wake_all`.
//!
//! # Production notes
//! tokio's `batch_semaphore` takes its waiters' mutex on every release,
//! even when nobody waits; ember's release is one atomic operation then.
//! tokio's waiters are intrusive nodes; ember's live in a slab (no
//! `unsafe`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use super::lock;
use super::wait_list::{WaitList, Wakers};
use crate::runtime::coop;

const CLOSED: usize = 1;
const WAITERS: usize = 2;
/// The permits start at bit 2.
const SHIFT: u32 = 2;
const ONE: usize = 1 << SHIFT;

/// How a waiter left the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Granted,
    Closed,
}

/// A count of permits, acquired and released by tasks (and threads), in
/// first-come first-served order.
///
/// `Send + Sync`: share it in an `Arc` (or an `Rc` on the loop's thread,
/// or a `static` with [`const_new`](Self::const_new)).
///
/// Fairness: waiting acquires are served in the order they started
/// waiting, and while any acquire waits, new ones queue behind it even if
/// permits are free. An `acquire_many(10)` at the head of the queue takes
/// permits as they come back until it has ten; an `acquire()` behind it
/// waits.
///
/// ```
/// use std::sync::Arc;
/// use ember::sync::Semaphore;
///
/// ember::block_on(async {
///     let limit = Arc::new(Semaphore::new(2));
///     let mut jobs = Vec::new();
///     for i in 0..5 {
///         let permit = limit.clone().acquire_owned().await.unwrap();
///         jobs.push(ember::spawn(async move {
///             let _permit = permit; // at most two jobs hold one
///             i * 2
///         }));
///     }
///     for job in jobs {
///         job.await.unwrap();
///     }
///     assert_eq!(limit.available_permits(), 2);
/// });
/// ```
pub struct Semaphore {
    /// Permits and flags; see the table in the module docs.
    state: AtomicUsize,
    /// Waiting acquires, each wanting its number of permits.
    waiters: Mutex<WaitList<Outcome>>,
}

/// Why an acquire failed: the semaphore was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore is closed")
    }
}

impl std::error::Error for AcquireError {}

/// Why a `try_acquire*` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are free (or others wait for them first).
    NoPermits,
}

impl TryAcquireError {
    /// Whether the semaphore was closed.
    pub fn is_closed(&self) -> bool {
        *self == TryAcquireError::Closed
    }

    /// Whether there were not enough permits.
    pub fn is_no_permits(&self) -> bool {
        *self == TryAcquireError::NoPermits
    }
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("the semaphore is closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

impl Semaphore {
    /// The most permits a semaphore can hold (tokio's figure).
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    #[track_caller]
    pub fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Self::MAX_PERMITS,
            "a semaphore holds at most Semaphore::MAX_PERMITS permits"
        );
        Semaphore::const_new(permits)
    }

    /// [`new`](Self::new) in a `const` context (a `static`).
    ///
    /// # Panics
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub const fn const_new(permits: usize) -> Semaphore {
        assert!(permits <= Self::MAX_PERMITS);
        Semaphore {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Permits free right now (not counting those already promised to a
    /// waiter).
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> SHIFT
    }

    /// Adds `n` permits; waiting acquires get them first, in order.
    ///
    /// # Panics
    /// If the total would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Removes up to `n` free permits for good; returns how many it removed.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let take = (s >> SHIFT).min(n);
            match self.state.compare_exchange_weak(
                s,
                s - take * ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return take,
                Err(now) => s = now,
            }
        }
    }

    /// Closes the semaphore: every waiting acquire fails with
    /// [`AcquireError`], and so does every later one. Permits already held
    /// stay valid.
    pub fn close(&self) {
        let mut wakers = Vec::new();
        let mut list = lock(&self.waiters);
        self.state.fetch_or(CLOSED, Ordering::AcqRel);
        list.notify_all(Outcome::Closed, &mut wakers);
        self.state.fetch_and(!WAITERS, Ordering::AcqRel);
        drop(list);
        crate::contain::wake_all(&mut wakers);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Waits for one permit.
    ///
    /// Completing takes a unit of the task's cooperative budget.
    ///
    /// # Cancel safety
    /// Cancel safe as to permits: dropping the future gives back any
    /// permit it had been handed. It loses its place in the queue.
    #[inline]
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many_usize(1).await
    }

    /// Waits for `n` permits, taking them as they come back while it is
    /// first in the queue.
    ///
    /// # Cancel safety
    /// As [`acquire`](Self::acquire): permits it had gathered go back.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many_usize(n as usize).await
    }

    #[inline]
    async fn acquire_many_usize(&self, n: usize) -> Result<SemaphorePermit<'_>, AcquireError> {
        Acquire {
            sem: self,
            n,
            waiter: None,
        }
        .await?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// [`acquire`](Self::acquire) on a plain thread, parking it while it
    /// waits.
    ///
    /// # Panics
    /// If called from a thread running an ember runtime.
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        super::park::block_on_thread("Semaphore::blocking_acquire", self.acquire())
    }

    /// [`acquire_many`](Self::acquire_many) on a plain thread.
    ///
    /// # Panics
    /// If called from a thread running an ember runtime.
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        super::park::block_on_thread("Semaphore::blocking_acquire_many", self.acquire_many(n))
    }

    /// [`acquire_owned`](Self::acquire_owned) on a plain thread.
    ///
    /// # Panics
    /// If called from a thread running an ember runtime.
    #[track_caller]
    pub fn blocking_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        super::park::block_on_thread("Semaphore::blocking_acquire_owned", self.acquire_owned())
    }

    /// [`acquire_many_owned`](Self::acquire_many_owned) on a plain thread.
    ///
    /// # Panics
    /// If called from a thread running an ember runtime.
    #[track_caller]
    pub fn blocking_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        super::park::block_on_thread(
            "Semaphore::blocking_acquire_many_owned",
            self.acquire_many_owned(n),
        )
    }

    /// Takes one permit if one is free and nobody waits; never waits.
    #[inline]
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody waits; never waits.
    #[inline]
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let n = n as usize;
        self.try_take(n).map(|()| SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// [`acquire`](Self::acquire), with a permit that owns its `Arc` (to
    /// move into a task).
    ///
    /// # Cancel safety
    /// As [`acquire`](Self::acquire).
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// [`acquire_many`](Self::acquire_many), with a permit that owns its
    /// `Arc`.
    ///
    /// # Cancel safety
    /// As [`acquire`](Self::acquire).
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        let permit = self.acquire_many_usize(n as usize).await?;
        let permits = permit.permits;
        std::mem::forget(permit);
        Ok(OwnedSemaphorePermit { sem: self, permits })
    }

    /// [`try_acquire`](Self::try_acquire), with an owned permit.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Self::try_acquire_many), with an owned permit.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        let n = n as usize;
        self.try_take(n)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Takes `n` permits without the lock, if nobody waits.
    #[inline]
    fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            if s & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if s & WAITERS != 0 || s >> SHIFT < n {
                return Err(TryAcquireError::NoPermits);
            }
            match self.state.compare_exchange_weak(
                s,
                s - n * ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => s = now,
            }
        }
    }

    /// Gives `n` permits back: one `fetch_add` when nobody waits, else
    /// the lock and a hand-out to the waiters. Inlined (no LTO; a release
    /// is on every user's hot path), the rest out of line.
    #[inline]
    #[track_caller]
    fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let before = self.state.fetch_add(n * ONE, Ordering::AcqRel);
        if (before >> SHIFT) + n > Self::MAX_PERMITS || before & WAITERS != 0 {
            self.release_slow(before, n);
        }
    }

    #[cold]
    #[track_caller]
    fn release_slow(&self, before: usize, n: usize) {
        if (before >> SHIFT) + n > Self::MAX_PERMITS {
            self.state.fetch_sub(n * ONE, Ordering::AcqRel);
            panic!("a semaphore holds at most Semaphore::MAX_PERMITS permits");
        }
        let mut wakers = Wakers::new();
        let mut list = lock(&self.waiters);
        self.grant(&mut list, &mut wakers);
        drop(list);
        wakers.wake_all();
    }

    /// With the lock held: hands the free permits to the waiters in order,
    /// and clears `WAITERS` if the queue ends up empty.
    fn grant(&self, list: &mut WaitList<Outcome>, wakers: &mut Wakers) {
        if self.state.load(Ordering::Acquire) & WAITERS == 0 {
            return;
        }
        // Take every free permit in one step (releases may add more
        // meanwhile, and `forget_permits` take some: a load then a
        // subtraction could underflow).
        let before = self.state.fetch_and(CLOSED | WAITERS, Ordering::AcqRel);
        let mut free = before >> SHIFT;
        list.grant(&mut free, Outcome::Granted, wakers);
        let flag = if list.is_empty() { WAITERS } else { 0 };
        // Put back what is left and clear the flag in one step (the flag is
        // set, so subtracting it borrows nothing).
        self.state
            .fetch_add((free * ONE).wrapping_sub(flag), Ordering::AcqRel);
    }
}

impl Default for Semaphore {
    /// A semaphore with no permits.
    fn default() -> Semaphore {
        Semaphore::new(0)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.available_permits())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The future under every `acquire*`: takes `n` permits at once if nobody
/// waits, else queues for them.
///
/// | `waiter` | meaning | next |
/// |----------|---------|------|
/// | `None` | not queued (or done) | `Ready` (fast path, closed), `Some` (queued) |
/// | `Some(k)` | queued under key `k`, maybe partly served | `None` and `Ready` once granted or closed |
///
/// Only `async fn`s in this file poll it, once to completion.
struct Acquire<'a> {
    sem: &'a Semaphore,
    n: usize,
    waiter: Option<usize>,
}

impl Acquire<'_> {
    #[cold]
    fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), AcquireError>> {
        let sem = self.sem;
        let Some(key) = self.waiter else {
            // Slow path: queue (or, if the waiters left meanwhile, take).
            let mut wakers = Wakers::new();
            let mut list = lock(&sem.waiters);
            match sem.try_take(self.n) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(TryAcquireError::Closed) => return Poll::Ready(Err(AcquireError(()))),
                Err(TryAcquireError::NoPermits) => {}
            }
            let key = list.push_back_wanting(cx.waker().clone(), self.n);
            sem.state.fetch_or(WAITERS, Ordering::AcqRel);
            sem.grant(&mut list, &mut wakers);
            let done = list.notified(key).is_some();
            let old = if done {
                list.remove(key).1
            } else {
                self.waiter = Some(key);
                None
            };
            drop(list);
            drop(old);
            wakers.wake_all();
            return if done {
                Poll::Ready(Ok(()))
            } else {
                Poll::Pending
            };
        };
        let mut list = lock(&sem.waiters);
        let (outcome, old) = match list.notified(key) {
            Some(outcome) => {
                self.waiter = None;
                let (_, old, left) = list.remove_counted(key);
                let given = self.n - left;
                (Some((outcome, given)), old)
            }
            None => (None, list.set_waker(key, cx.waker())),
        };
        drop(list);
        drop(old);
        match outcome {
            None => Poll::Pending,
            Some((Outcome::Granted, _)) => Poll::Ready(Ok(())),
            Some((Outcome::Closed, given)) => {
                sem.release(given);
                Poll::Ready(Err(AcquireError(())))
            }
        }
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Completing costs a unit of the task's budget; waiting gives it
        // back (`runtime/coop.rs`).
        ready!(coop::poll_proceed(cx));
        let this = self.get_mut();
        // The fast path: nobody waits and the permits are there.
        if this.waiter.is_none() {
            match this.sem.try_take(this.n) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(TryAcquireError::Closed) => return Poll::Ready(Err(AcquireError(()))),
                Err(TryAcquireError::NoPermits) => {}
            }
        }
        let out = this.poll_acquire(cx);
        if out.is_pending() {
            coop::refund();
        } else {
            this.waiter = None;
        }
        out
    }
}

impl Drop for Acquire<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.waiter.is_some() {
            self.cancel();
        }
    }
}

impl Acquire<'_> {
    /// Leaves the queue, giving back the permits gathered.
    #[cold]
    fn cancel(&mut self) {
        let Some(key) = self.waiter.take() else {
            return;
        };
        let sem = self.sem;
        let mut list = lock(&sem.waiters);
        let (outcome, old, left) = list.remove_counted(key);
        // Gathered permits (all of them if it was granted) go back.
        let given = match outcome {
            Some(Outcome::Granted) => self.n,
            _ => self.n - left,
        };
        if list.is_empty() {
            sem.state.fetch_and(!WAITERS, Ordering::AcqRel);
        }
        drop(list);
        drop(old);
        sem.release(given);
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping it gives them back.
#[must_use = "dropping the permit releases it at once"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: usize,
}

impl<'a> SemaphorePermit<'a> {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Adds `other`'s permits to this one.
    ///
    /// # Panics
    /// If they come from different semaphores.
    #[track_caller]
    pub fn merge(&mut self, mut other: SemaphorePermit<'a>) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "merging permits of different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` permits off into a new permit; `None` if it holds fewer.
    pub fn split(&mut self, n: usize) -> Option<SemaphorePermit<'a>> {
        self.permits = self.permits.checked_sub(n)?;
        Some(SemaphorePermit {
            sem: self.sem,
            permits: n,
        })
    }

    /// How many permits it holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits that own an `Arc` of their [`Semaphore`]; dropping it gives
/// them back (also when the task holding it is aborted).
#[must_use = "dropping the permit releases it at once"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Adds `other`'s permits to this one.
    ///
    /// # Panics
    /// If they come from different semaphores.
    #[track_caller]
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "merging permits of different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }

    /// Splits `n` permits off into a new permit; `None` if it holds fewer.
    pub fn split(&mut self, n: usize) -> Option<OwnedSemaphorePermit> {
        self.permits = self.permits.checked_sub(n)?;
        Some(OwnedSemaphorePermit {
            sem: self.sem.clone(),
            permits: n,
        })
    }

    /// The semaphore the permits belong to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// How many permits it holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}
