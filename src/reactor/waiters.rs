//! Who waits on a source: every task and waker to wake when readiness
//! arrives, per direction.
//!
//! Owned by each source (`ScheduledIo`), filled by the registration when a
//! poll finds no readiness, emptied by the reactor's dispatch. Relies on
//! nothing but `Waker` and the reactor's [`TaskRef`].
//!
//! # Two kinds of slot
//!
//! | slot            | who waits there                                          | how many |
//! |-----------------|----------------------------------------------------------|----------|
//! | `reader`/`writer` | `poll_*` calls (`AsyncRead`/`AsyncWrite`, `poll_read_ready`): they have no state of their own to keep a place in a list | one per direction: the last poll wins, as in tokio |
//! | `keyed`         | futures (`readable()`, `accept()`, `recv_from()`, ...): each holds a [`WaitKey`], refreshes its own waiter on every poll and removes it when dropped | as many as there are futures |
//!
//! So the common case (one task per direction, reading through
//! `AsyncRead`) touches one `Cell` and allocates nothing, while any number
//! of futures can wait on one direction and every one of them is woken.
//! The keyed list cannot grow without bound: a future that is polled again
//! with a fresh waker (a combinator that makes one per poll) overwrites its
//! own entry, and a dropped future removes it.
//!
//! # Invariant: no borrow across a wake
//! `keyed` is borrowed only to insert, overwrite, remove or take entries;
//! a replaced or removed waiter is dropped after the borrow ends (a waker's
//! drop is foreign code), and nothing is ever woken here: [`Waiters::take`]
//! hands tasks and wakers back to the dispatch loop.

use std::cell::{Cell, RefCell};
use std::task::Waker;

use slab::Slab;

use super::readiness::Direction;
use super::TaskRef;

/// Who waits in one slot.
#[derive(Default)]
pub(crate) enum Waiter {
    #[default]
    Nobody,
    /// A task of this runtime that polled with its own waker: handed back
    /// by reference when the event comes (no `Waker` clone, no call).
    Task(TaskRef),
    /// Any other waker (a combinator's, another runtime's): woken as is.
    Waker(Waker),
}

impl Waiter {
    /// The waiter to store for a poll with `waker`: the polled task by
    /// reference if `waker` is its own, else a clone of `waker`, unless
    /// `old` already wakes the same way (then `old` is kept).
    #[inline]
    pub(crate) fn refresh(old: Waiter, waker: &Waker, own: Option<TaskRef>) -> Waiter {
        match (own, old) {
            (Some(task), _) => Waiter::Task(task),
            (None, Waiter::Waker(w)) if w.will_wake(waker) => Waiter::Waker(w),
            (None, _) => Waiter::Waker(waker.clone()),
        }
    }
}

/// Where a waiting future keeps its entry in a source's keyed list.
///
/// `None` until the future first waits. The future must give it back
/// through `Registration::forget` when it is dropped (the registered-fd
/// type's futures do so with a guard).
#[derive(Debug, Default)]
pub(crate) struct WaitKey(pub(super) Option<usize>);

/// Every waiter of one source.
#[derive(Default)]
pub(crate) struct Waiters {
    /// The `poll_*` waiter for reading.
    reader: Cell<Waiter>,
    /// The `poll_*` waiter for writing.
    writer: Cell<Waiter>,
    /// Futures' waiters, each with its direction (see the module docs).
    keyed: RefCell<Slab<(Direction, Waiter)>>,
    /// Whether `keyed` has entries, so that dispatch skips its borrow in
    /// the common case.
    any_keyed: Cell<bool>,
}

impl Waiters {
    /// Makes the polled task the `poll_*` waiter of `dir`: the hot path,
    /// no clone, and what drops is usually `Nobody` (or a stale task).
    #[inline(always)]
    pub(crate) fn set_task(&self, dir: Direction, task: TaskRef) {
        let slot = match dir {
            Direction::Read => &self.reader,
            Direction::Write => &self.writer,
        };
        drop(slot.replace(Waiter::Task(task)));
    }

    /// Makes the poll of `waker` the `poll_*` waiter of `dir`. The waiter
    /// it replaces (usually `Nobody`) is dropped with no borrow held.
    pub(crate) fn set(&self, dir: Direction, waker: &Waker, own: Option<TaskRef>) {
        let slot = match dir {
            Direction::Read => &self.reader,
            Direction::Write => &self.writer,
        };
        if let Some(task) = own {
            // The hot path: no clone, and `Nobody` (or a stale task) is
            // what usually drops here.
            drop(slot.replace(Waiter::Task(task)));
        } else {
            slot.set(Waiter::refresh(slot.take(), waker, None));
        }
    }

    /// Stores the poll of `waker` as the keyed waiter `key` on `dir`,
    /// inserting it on the first wait.
    pub(crate) fn set_keyed(
        &self,
        key: &mut WaitKey,
        dir: Direction,
        waker: &Waker,
        own: Option<TaskRef>,
    ) {
        let new = match own {
            Some(task) => Waiter::Task(task),
            None => {
                // Cloning a waker is foreign code: check, then clone with
                // no borrow held.
                let keep = key.0.is_some_and(|k| {
                    matches!(self.keyed.borrow().get(k),
                        Some((d, Waiter::Waker(w))) if *d == dir && w.will_wake(waker))
                });
                if keep {
                    return;
                }
                Waiter::Waker(waker.clone())
            }
        };
        let mut keyed = self.keyed.borrow_mut();
        let old = match key.0.and_then(|k| keyed.get_mut(k)) {
            Some(entry) => std::mem::replace(entry, (dir, new)).1,
            None => {
                key.0 = Some(keyed.insert((dir, new)));
                self.any_keyed.set(true);
                Waiter::Nobody
            }
        };
        drop(keyed);
        drop(old);
    }

    /// Removes the keyed waiter `key`, if it was ever stored.
    pub(crate) fn forget(&self, key: &mut WaitKey) {
        if let Some(k) = key.0.take() {
            let mut keyed = self.keyed.borrow_mut();
            let removed = keyed.try_remove(k);
            self.any_keyed.set(!keyed.is_empty());
            drop(keyed);
            // Dropped after the borrow: it may hold a foreign waker.
            drop(removed);
        }
    }

    /// Takes the `poll_*` waiter of `dir`, leaving `Nobody` behind.
    #[inline(always)]
    pub(crate) fn take_polled(&self, dir: Direction) -> Waiter {
        match dir {
            Direction::Read => self.reader.take(),
            Direction::Write => self.writer.take(),
        }
    }

    /// Whether any future waits here (so dispatch must look at them).
    #[inline(always)]
    pub(crate) fn any_keyed(&self) -> bool {
        self.any_keyed.get()
    }

    /// Takes every keyed waiter that readiness in `read`/`write` satisfies
    /// and passes each to `wake`, leaving `Nobody` behind (the entries keep
    /// their keys, so their futures can wait again).
    #[inline(never)]
    pub(crate) fn take_keyed(&self, read: bool, write: bool, mut wake: impl FnMut(Waiter)) {
        let mut keyed = self.keyed.borrow_mut();
        for (_, (dir, waiter)) in keyed.iter_mut() {
            let hit = match dir {
                Direction::Read => read,
                Direction::Write => write,
            };
            if hit {
                wake(std::mem::take(waiter));
            }
        }
    }

    /// Empties every slot (the source is leaving the reactor). The
    /// waiters are returned so the caller drops them with no borrow held.
    pub(crate) fn clear(&self) -> (Waiter, Waiter, Slab<(Direction, Waiter)>) {
        self.any_keyed.set(false);
        (
            self.reader.take(),
            self.writer.take(),
            std::mem::take(&mut *self.keyed.borrow_mut()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn task(n: usize) -> TaskRef {
        TaskRef {
            slot: n,
            id: n as u64,
        }
    }

    fn tasks_taken(w: &Waiters, read: bool, write: bool) -> Vec<TaskRef> {
        let mut v = Vec::new();
        let mut push = |waiter| {
            if let Waiter::Task(t) = waiter {
                v.push(t)
            }
        };
        if read {
            push(w.take_polled(Direction::Read));
        }
        if write {
            push(w.take_polled(Direction::Write));
        }
        if w.any_keyed() {
            w.take_keyed(read, write, push);
        }
        v
    }

    #[test]
    fn the_poll_slot_keeps_the_last_poller_and_keyed_slots_keep_everyone() {
        let w = Waiters::default();
        let waker = Waker::noop();
        w.set(Direction::Read, waker, Some(task(1)));
        w.set(Direction::Read, waker, Some(task(2)));
        let (mut a, mut b, mut c) = (WaitKey::default(), WaitKey::default(), WaitKey::default());
        w.set_keyed(&mut a, Direction::Read, waker, Some(task(3)));
        w.set_keyed(&mut b, Direction::Read, waker, Some(task(4)));
        w.set_keyed(&mut c, Direction::Write, waker, Some(task(5)));
        assert_eq!(tasks_taken(&w, true, false), [task(2), task(3), task(4)]);
        // Taken, not removed: nothing is left to wake until they wait again.
        assert!(tasks_taken(&w, true, false).is_empty());
        assert_eq!(tasks_taken(&w, false, true), [task(5)]);
        for k in [&mut a, &mut b, &mut c] {
            w.forget(k);
        }
        assert!(w.keyed.borrow().is_empty());
    }

    #[test]
    fn a_future_polled_with_a_fresh_waker_each_time_keeps_one_entry() {
        let w = Waiters::default();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut key = WaitKey::default();
        for _ in 0..1000 {
            // A new `Arc` each time: `will_wake` says they differ.
            let fresh = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
            w.set_keyed(&mut key, Direction::Read, &fresh, None);
        }
        let last = Waker::from(count.clone());
        w.set_keyed(&mut key, Direction::Read, &last, None);
        assert_eq!(w.keyed.borrow().len(), 1);
        w.take_keyed(true, false, |waiter| {
            if let Waiter::Waker(waker) = waiter {
                waker.wake()
            }
        });
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        w.forget(&mut key);
        assert!(w.keyed.borrow().is_empty());
    }

    #[test]
    fn an_equivalent_waker_is_kept_rather_than_cloned() {
        let w = Waiters::default();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut key = WaitKey::default();
        w.set_keyed(&mut key, Direction::Write, &waker, None);
        w.set_keyed(&mut key, Direction::Write, &waker, None);
        // The `Arc`'s own, the test's `count`, the waker, and one clone.
        assert_eq!(Arc::strong_count(&count), 3);
        w.forget(&mut key);
        assert_eq!(Arc::strong_count(&count), 2);
    }
}
