//! The timer store: every pending timer of one runtime, in two tiers.
//!
//! Owned by the runtime's core; `Sleep` arms, re-arms and removes its
//! entry; the loop asks how long it may wait (`wait_timeout`: until the
//! earliest deadline, long waits cut short) and takes the wakers of the
//! expired ones (`take_expired`).
//!
//! # Design
//! ```text
//!   arm(deadline) ── due within the current 65.5 µs tick? ──yes──► precise tier (near.rs)
//!        │                                                          exact ns deadlines,
//!        no                                                         indexed min-heap of the
//!        ▼                                                          few timers due soon
//!   wheel (wheel.rs): 8 levels x 64 slots                                  ▲       │
//!   level 0: 65.5 µs slots ... level 7: 9-year slots                       │       │ clock ≥ deadline
//!        │  the next slot's start comes: refile its entries one level     │       ▼
//!        └──────── down (or into the precise tier) ────────────────────────┘     fire: wake
//! ```
//! Entries live in a slab (`entries`, with `links` beside it for the
//! wheel's lists) whose free slots form a list, so arming reuses a freed
//! entry and allocates nothing once the slab has grown to the most timers
//! armed at once. Arming a far timer files it in a wheel slot (O(1));
//! cancelling one unlinks it (O(1)): a timeout that never fires (the
//! common case) touches no heap. Only timers due within the current tick,
//! or whose slot is the next one when the loop goes to sleep, enter the
//! precise tier, where they fire in exact deadline order, never before the
//! clock has reached their deadline: the wheel decides *when to look*, the
//! precise tier decides *what fires*.
//!
//! How often the loop wakes: the wait ends at the earliest of the precise
//! tier's first deadline and the next wheel slot's start. A slot's start is
//! not a deadline, so a far timer may cost a few early wake-ups on its way
//! down (at most one per level it passes through, and none at all if it is
//! cancelled first), never a periodic tick. When the next slot is on level
//! 0 or 1 (it starts within 268 ms), its entries are moved into the precise
//! tier right away (`promote`), so a sleep shorter than that costs one
//! wait, to its exact deadline.
//!
//! Reuse: the common timeout is cancelled by its task when the read it
//! guards completes, and followed, in the same poll, by the next timeout
//! of the same length. So a cancelled entry first stays armed, as the
//! thread's last cancelled timer (`cancelled.rs`), and the next timer its task
//! arms takes it as it is if its deadline is no earlier ([`Timers::reuse`]):
//! the entry stays in its wheel slot, which then starts before its
//! deadline, and when the slot comes the loop files it again by its
//! deadline (once per slot width at most: 17 s for a 30 s timeout).
//! Re-arming then touches no list and no free list; nothing fires early,
//! since only the precise tier fires, by exact deadline.
//!
//! Deadlines from the loop's next reading: a timeout of 100 ms or more is
//! armed as [`When::After`], at the store's time plus its duration, a lower
//! bound; its wheel slot gets an allowance, raised at the loop's next clock
//! reading by the time since the store's ([`Timers::observe`]), and added
//! to the entry's deadline when the slot comes. So a timeout reads no
//! clock, and is never early.
//!
//! Memory: 56 bytes per armed timer (a 48-byte entry and 8 bytes of
//! links), in vectors that grow to the most timers armed at once and are
//! never shrunk, plus about 6 KiB of wheel (lists and allowances) per
//! runtime.
//!
//! Production note: tokio's wheel (6 levels of 64 one-millisecond slots)
//! is the model for the far tier; it fires a whole level-0 slot at once, so
//! its timers end up to a millisecond late. ember keeps exact deadlines
//! and adds the precise tier for the last stretch; before it, ember kept
//! every timer in one indexed binary heap (O(log n) arm and cancel).
//!
//! # Entry states
//! | state  | `place`        | `waiter` | entered by | left by |
//! |--------|----------------|----------|------------|---------|
//! | free   | `Free(next)`   | `Nobody` (or a stale task) | `remove` | `arm` |
//! | wheel  | `Wheel(slot)`  | a task or a waker | `arm`/`rearm` (due after the current tick), `reuse` (left where it is), a slot refiled | its slot comes (refiled: wheel or near, its deadline made exact first if `lazy`), `promote` (near, or wheel if a reuse moved it past the slot), `rearm`, `remove` |
//! | near   | `Near(index)`  | a task or a waker | `arm`/`rearm` (due within the current tick), a refile, `promote` | `take_expired` (fired), `rearm`, `remove` |
//! | fired  | `Fired`        | `Nobody`, or kept if found due by `is_due` | `take_expired`, once the clock has reached the deadline; `is_due`, once the store's time has | `rearm` (wheel or near), `remove` |
//!
//! An entry's key stays its holder's from `arm` to `remove` or `reuse`:
//! its `Sleep` holds it, and on drop hands it to the thread's last
//! cancelled timer (`cancelled.rs`), which removes it, or gives it to the next
//! `Sleep` to `reuse`. So a key is never reused under a holder.

// Without `time` or `net` nothing arms a timer: the store is still asked
// for the wait's timeout, and the arming half is unused.
#![cfg_attr(not(any(feature = "time", feature = "net")), allow(dead_code))]

use std::task::Waker;
use std::time::Duration;

use super::near::{Item, Near};
use super::wheel::{self, Filed, Links, Wheel, NIL};
use super::Instant;
use crate::reactor::TaskRef;

/// Waits longer than this are cut short (see [`Timers::wait_timeout`]).
/// The kernel's allowance for a wait this long is 10 µs.
const LONG_WAIT: Duration = Duration::from_millis(10);

/// A long wait `t` asks the kernel for `t - t / LONG_WAIT_CUT`. Anything
/// above 1000 (the kernel's 0.1%) keeps the wait from ending late; 512 makes
/// the early margin about twice the kernel's allowance.
const LONG_WAIT_CUT: u32 = 512;

/// The highest wheel level whose next slot moves whole into the precise
/// tier when the loop is about to wait for it (see [`Timers::next_deadline`]):
/// level 1's slots start within 268 ms and span 4.2 ms, so the wait ends
/// at the exact deadline with no stop at the slot's start on the way, for
/// a few entries moved early.
const PROMOTE_LEVEL: usize = 1;

/// Where an entry is; see the state table in the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Unused; the next free entry's key (or `NIL`).
    Free(u32),
    /// In a wheel slot, whose start may be before the deadline after a
    /// [`Timers::reuse`].
    Wheel(Filed),
    /// Index in the precise tier's heap.
    Near(u32),
    Fired,
}

/// Whom a timer wakes when it fires.
#[derive(Debug)]
pub(crate) enum Waiter {
    /// Nobody: a free entry or a fired one.
    Nobody,
    /// A task of this runtime, armed with its own waker: queued directly
    /// when the timer fires, as the reactor queues tasks woken by I/O (no
    /// waker clone to arm, no reference count, no call through a vtable).
    Task(TaskRef),
    /// Any other waker (a combinator's, another runtime's task's).
    Waker(Waker),
}

impl Waiter {
    /// What to store for a poll with `waker`, given whether it is the own
    /// waker of the task being polled (`task`).
    #[inline]
    fn new(waker: &Waker, task: Option<TaskRef>) -> Waiter {
        match task {
            Some(task) => Waiter::Task(task),
            None => Waiter::Waker(waker.clone()),
        }
    }

    /// Leaves `Nobody` behind, and gives back the waker to drop (after the
    /// store is released: a waker's drop is user code).
    #[inline]
    fn take_waker(&mut self) -> Option<Waker> {
        match std::mem::replace(self, Waiter::Nobody) {
            Waiter::Waker(waker) => Some(waker),
            Waiter::Task(_) | Waiter::Nobody => None,
        }
    }
}

/// When a timer is due: at an instant, or a duration after the instant
/// it is armed at (a [`timeout`](super::timeout)'s, which then costs no
/// clock read of its own; see [`Timers::observe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    At(Instant),
    /// In nanoseconds; at least [`LAZY_MIN`]. (Only `timeout` makes one.)
    #[cfg_attr(not(feature = "time"), allow(dead_code))]
    After(u64),
}

/// The shortest duration a timeout is armed as [`When::After`]: past the
/// current tick, so the entry goes to the wheel, never to the precise
/// tier; and long enough that being late by about a turn of the loop is
/// nothing next to it (shorter timeouts read the clock).
#[cfg(feature = "time")]
pub(crate) const LAZY_MIN: Duration = Duration::from_millis(100);

/// What one look at the timers fired: tasks of this runtime to queue, and
/// other wakers to wake once the store is released.
#[derive(Debug, Default)]
pub(crate) struct Expired {
    pub(crate) tasks: Vec<TaskRef>,
    pub(crate) wakers: Vec<Waker>,
}

struct Entry {
    /// On the clock, in nanoseconds.
    deadline: u64,
    /// Whom to wake when it fires; taken when it fires.
    waiter: Waiter,
    /// Arming order, to fire equal deadlines in that order.
    seq: u32,
    place: Place,
    /// Armed as [`When::After`]: `deadline` is the store's time at arming
    /// plus the duration, a lower bound, which its wheel slot's allowance
    /// makes a deadline when the slot comes (see [`Timers::observe`]).
    lazy: bool,
}

/// The runtime's timers.
pub(crate) struct Timers {
    /// The store's time: the latest `now` the loop fired timers at (so
    /// never ahead of the clock), in the clock's nanoseconds. The wheel
    /// holds only slots after it.
    elapsed: u64,
    entries: Vec<Entry>,
    /// The wheel's list links, by key, beside `entries`.
    links: Vec<Links>,
    /// First free entry, or `NIL`.
    free: u32,
    wheel: Wheel,
    near: Near,
    /// Entries in the wheel or the precise tier.
    armed: usize,
    /// Next arming's `seq` (wrapping).
    next_seq: u32,
    /// The wheel slots that `When::After` timers were armed into since
    /// the loop's last clock reading (see [`Timers::observe`]); a slot may
    /// be listed more than once.
    lazy_slots: Vec<Filed>,
    /// The last slot pushed on `lazy_slots`, or [`Filed::NONE`]: timeouts
    /// of one length land in one slot, so most armings find their slot
    /// listed already.
    last_lazy: Filed,
}

impl Timers {
    /// An empty store whose time starts at `now`.
    pub(crate) fn new(now: Instant) -> Timers {
        Timers {
            elapsed: now.as_ns(),
            entries: Vec::new(),
            links: Vec::new(),
            free: NIL,
            wheel: Wheel::new(),
            near: Near::default(),
            armed: 0,
            next_seq: 0,
            lazy_slots: Vec::new(),
            last_lazy: Filed::NONE,
        }
    }

    /// Whether no timer is armed.
    pub(crate) fn is_empty(&self) -> bool {
        self.armed == 0
    }

    #[inline]
    fn ns(&self, t: Instant) -> u64 {
        t.as_ns()
    }

    #[inline]
    fn instant(&self, ns: u64) -> Instant {
        Instant::from_ns(ns)
    }

    /// The earliest instant the loop must look at the store again: the
    /// first deadline of the precise tier, or the start of the next wheel
    /// slot if that comes first. When that slot is on level 0 or 1 (it
    /// starts within 268 ms), its entries move to the precise tier first,
    /// so the answer is their exact first deadline. `None` if no timer is
    /// armed.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        loop {
            let first = self.near.first().map(|item| item.deadline);
            let due = match self.wheel.next_slot(wheel::tick(self.elapsed)) {
                None => first,
                Some(slot) if first.is_some_and(|d| d <= slot.start) => first,
                Some(slot) if slot.level <= PROMOTE_LEVEL => {
                    // Its entries move to the precise tier (or, if a reuse
                    // moved their deadline past the slot, further up the
                    // wheel): look again.
                    self.promote(slot);
                    continue;
                }
                Some(slot) => Some(slot.start),
            };
            return due.map(|ns| self.instant(ns));
        }
    }

    /// [`next_deadline`](Self::next_deadline) once the loop has read the
    /// clock (`now`): where a paused clock skips ahead to.
    pub(crate) fn next_deadline_at(&mut self, now: Instant) -> Option<Instant> {
        self.observe(now);
        self.next_deadline()
    }

    /// Takes in a clock reading of the loop (`now`), which ends an epoch:
    /// every wheel slot that a [`When::After`] timer was armed into since
    /// the last reading gets an allowance of at least `now - elapsed`.
    /// Called first by everything that reads deadlines with a reading in
    /// hand: `take_expired`, `wait_timeout`, `next_deadline_at`.
    ///
    /// Why a timeout armed that way is never early: it was armed at some
    /// instant `a`, with the store's time `e <= a` (the loop's last
    /// reading; it moves only in `take_expired`, after this), and stored
    /// as `e + d`. The loop's next reading `now` is after `a`, so
    /// `now - e >= a - e`, and its slot's allowance is at least that. No
    /// timer fires from the wheel: when the slot comes, the entry's
    /// deadline becomes `e + d + allowance >= a + d`, and only then does
    /// it go on to the precise tier, which fires by exact deadline. Until
    /// then, `e + d` is a lower bound: enough to file it (a slot may start
    /// before an entry's deadline, see `reuse`) and to say it is not yet
    /// due (`is_due`), since its slot starts after the store's time.
    ///
    /// How late it can be: by the longest turn of the loop among those
    /// that armed such a timer into the same slot since the slot last came
    /// (a slot of a 30 s timeout collects up to 17 s of turns), which on an
    /// idle loop is microseconds.
    ///
    /// What it saves: a timeout around every read reads the clock once
    /// per loop turn, not once per read, at a cost of a few instructions
    /// per arming and none per entry when the epoch ends.
    #[inline]
    pub(crate) fn observe(&mut self, now: Instant) {
        if !self.lazy_slots.is_empty() {
            self.last_lazy = Filed::NONE;
            let delta = self.ns(now).saturating_sub(self.elapsed);
            for at in self.lazy_slots.drain(..) {
                self.wheel.allow(at, delta);
            }
        }
    }

    /// How long the loop may block in `epoll_pwait2` at `now`: until
    /// [`next_deadline`](Self::next_deadline) (`None`, forever, if no timer
    /// is armed), except that a wait longer than [`LONG_WAIT`] is cut short
    /// by 1/[`LONG_WAIT_CUT`] of itself.
    ///
    /// Why cut: the kernel lets a wait of `t` end up to `t / 1000` late
    /// (`select_estimate_accuracy` in `fs/select.c`, capped at 100 ms), so
    /// a 1 s sleep would end about 1 ms late and a 10 s sleep 10 ms late.
    /// A wait longer than [`LONG_WAIT`] therefore asks for `t - t / 512`:
    /// even with the kernel's allowance it ends before the deadline, and
    /// the loop waits again for the rest, which is 512 times shorter.
    /// After a few such steps (a deadline 30 years away takes six waits in
    /// all) the last wait is shorter than `LONG_WAIT`, and so late by at
    /// most 0.1% of it: 10 µs. Nothing fires early: `take_expired` compares
    /// deadlines with the clock, not with how long the wait was.
    pub(crate) fn wait_timeout(&mut self, now: Instant) -> Option<Duration> {
        self.observe(now);
        let left = self.next_deadline()?.saturating_duration_since(now);
        Some(if left > LONG_WAIT {
            left - left / LONG_WAIT_CUT
        } else {
            left
        })
    }

    /// Fires every timer due at `now`: moves their wakers into `out`, in
    /// deadline order, and returns how many fired. First processes every
    /// wheel slot that starts at or before `now`, oldest first, refiling
    /// its entries one level down or into the precise tier.
    pub(crate) fn take_expired(&mut self, now: Instant, out: &mut Expired) -> usize {
        self.observe(now);
        let now = self.ns(now);
        while let Some(slot) = self.wheel.next_slot(wheel::tick(self.elapsed)) {
            if slot.start > now {
                break;
            }
            // The wheel's time moves to the slot's start: every entry of
            // the slot is due in it or later (later if a reuse moved its
            // deadline: see `insert_ns`), and is filed again from there.
            self.elapsed = slot.start;
            self.refile_slot(slot, 0);
        }
        self.elapsed = self.elapsed.max(now);
        let mut fired = 0;
        while let Some(first) = self.near.first() {
            if first.deadline > now {
                break;
            }
            let key = first.key as usize;
            let Timers { near, entries, .. } = self;
            near.remove(0, &mut |k, i| entries[k as usize].place = Place::Near(i));
            let entry = &mut self.entries[key];
            entry.place = Place::Fired;
            match std::mem::replace(&mut entry.waiter, Waiter::Nobody) {
                Waiter::Task(task) => out.tasks.push(task),
                Waiter::Waker(waker) => out.wakers.push(waker),
                Waiter::Nobody => {}
            }
            self.armed -= 1;
            fired += 1;
        }
        fired
    }

    /// Moves every entry of the wheel slot `due` into the precise tier,
    /// except those a reuse has moved past the slot's end: they go back
    /// to the wheel, in a later slot.
    fn promote(&mut self, due: wheel::Due) {
        let end = due.start.saturating_add(wheel::slot_width_ns(due.level));
        self.refile_slot(due, end);
    }

    /// Empties the wheel slot `due` and files each of its entries again,
    /// its deadline made exact first (`settle`): into the precise tier if
    /// due before `near_before`, or else by its deadline (`file`).
    fn refile_slot(&mut self, due: wheel::Due, near_before: u64) {
        let (mut key, allowance) = self.wheel.take(due.level, due.slot);
        while key != NIL {
            let next = self.links[key as usize].next;
            self.links[key as usize] = Links::NONE;
            self.settle(key, allowance);
            if self.entries[key as usize].deadline < near_before {
                self.file_near(key);
            } else {
                self.file(key);
            }
            key = next;
        }
    }

    /// Makes the deadline of an entry taken out of its wheel slot exact, if
    /// it was armed as [`When::After`]: plus its slot's `allowance` (see
    /// [`observe`](Self::observe)).
    #[inline]
    fn settle(&mut self, key: u32, allowance: u64) {
        let entry = &mut self.entries[key as usize];
        if entry.lazy {
            entry.lazy = false;
            entry.deadline = entry.deadline.saturating_add(allowance);
        }
    }

    /// Files an entry (in no tier yet) by its deadline: in the wheel if it
    /// is due after the current tick, in the precise tier otherwise.
    #[inline]
    fn file(&mut self, key: u32) {
        let when = wheel::tick(self.entries[key as usize].deadline);
        match wheel::level_for(wheel::tick(self.elapsed), when) {
            Some(level) => {
                let at = self.wheel.file(&mut self.links, key, when, level);
                self.entries[key as usize].place = Place::Wheel(at);
            }
            None => self.file_near(key),
        }
    }

    fn file_near(&mut self, key: u32) {
        let entry = &self.entries[key as usize];
        let item = Item {
            deadline: entry.deadline,
            seq: entry.seq,
            key,
        };
        let Timers { near, entries, .. } = self;
        near.push(item, &mut |k, i| entries[k as usize].place = Place::Near(i));
    }

    /// Takes an entry out of its tier, if it is in one (it stays
    /// allocated, its place to be set by the caller); whether it was.
    #[inline]
    fn unfile(&mut self, key: u32) -> bool {
        match self.entries[key as usize].place {
            Place::Wheel(at) => self.wheel.unlink(&mut self.links, key, at),
            Place::Near(i) => {
                let Timers { near, entries, .. } = self;
                near.remove(i as usize, &mut |k, i| {
                    entries[k as usize].place = Place::Near(i)
                });
            }
            Place::Fired | Place::Free(_) => return false,
        }
        self.armed -= 1;
        true
    }
}

impl Timers {
    /// Puts an entry in no tier on the free list.
    fn release(&mut self, key: u32) {
        self.entries[key as usize].place = Place::Free(self.free);
        self.free = key;
    }
}

/// Arming and disarming: what `Sleep` calls. The store itself is always
/// compiled (the loop asks it for the wait's timeout whatever the
/// features); without `time` or `net` nothing arms a timer, so these go.
#[cfg(any(feature = "time", feature = "net"))]
impl Timers {
    /// How many entries exist (armed or fired, not yet removed).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| !matches!(e.place, Place::Free(_)))
            .count()
    }

    /// Moves the store's time to `now` while no timer is armed (the loop
    /// moves it only when it fires timers, so it stands still meanwhile).
    pub(crate) fn catch_up(&mut self, now: Instant) {
        debug_assert!(
            self.is_empty(),
            "with timers armed, only `take_expired` moves time"
        );
        if self.is_empty() {
            self.elapsed = self.elapsed.max(self.ns(now));
        }
    }

    /// The deadline of an armed or fired timer; one armed as
    /// [`When::After`] is made exact first, at `now`, a clock reading made
    /// after it was armed: it gets the larger of `now - elapsed` (enough if
    /// it was armed since the loop's last reading) and its slot's allowance
    /// (enough if before; see [`observe`](Self::observe)).
    pub(crate) fn deadline_of(&mut self, key: u32, now: Instant) -> Instant {
        let since = self.ns(now).saturating_sub(self.elapsed);
        let entry = &self.entries[key as usize];
        if entry.lazy {
            let allowance = match entry.place {
                Place::Wheel(at) => self.wheel.allowance(at),
                _ => 0,
            };
            let entry = &mut self.entries[key as usize];
            entry.lazy = false;
            entry.deadline = entry.deadline.saturating_add(since.max(allowance));
        }
        Instant::from_ns(self.entries[key as usize].deadline)
    }

    /// Whether an armed or fired timer is due: it fired, or its deadline
    /// has passed by the store's time (then it is taken out of its tier as
    /// if it had fired, waking nobody: its `Sleep` found out by itself).
    #[inline]
    pub(crate) fn is_due(&mut self, key: u32) -> bool {
        let entry = &self.entries[key as usize];
        if entry.place == Place::Fired {
            return true;
        }
        if entry.deadline > self.elapsed {
            return false;
        }
        if self.unfile(key) {
            self.entries[key as usize].place = Place::Fired;
        }
        true
    }

    /// Arms a timer for `deadline`, to queue `task` (armed with its own
    /// waker) when it fires, unless the deadline has passed by the store's
    /// time, the instant the loop last fired timers at: then `None`, and
    /// nothing is stored. That time is never ahead of the clock, so a
    /// `None` is never early; a deadline that passed since is armed, and
    /// fires at the loop's next look.
    ///
    /// The store's time stands still while no timer is armed (the loop
    /// reads the clock only for timers), so arming into an empty store
    /// first brings it up to date with `now()`.
    pub(crate) fn arm_task(
        &mut self,
        when: When,
        task: TaskRef,
        now: impl FnOnce() -> Instant,
    ) -> Option<u32> {
        self.arm_waiter(when, Waiter::Task(task), now).ok()
    }

    /// Re-arms `key`, an armed entry whose holder let it go (the thread's
    /// last cancelled timer, see `cancelled.rs`), for `when` and `task`, if
    /// it can stay where it is: it is in a wheel slot, with no waker to
    /// drop, and the new deadline is no earlier than its own (so no earlier
    /// than its slot's start, and after the store's time, as the slot is).
    /// Otherwise `false`, and nothing changes.
    ///
    /// This is the common timeout's whole cost to arm: a read completes,
    /// its task cancels the timeout around it and arms the next one, a few
    /// microseconds later. Leaving the entry in a slot that starts before
    /// its deadline is sound: when the slot comes, the loop files the entry
    /// again by its deadline (`take_expired`), and only the precise tier
    /// fires, by exact deadline.
    #[inline]
    pub(crate) fn reuse(&mut self, key: u32, when: When, task: TaskRef) -> bool {
        let (deadline, lazy) = self.resolve(when);
        let Some(entry) = self.entries.get_mut(key as usize) else {
            return false;
        };
        let Place::Wheel(at) = entry.place else {
            return false;
        };
        if matches!(entry.waiter, Waiter::Waker(_)) || deadline < entry.deadline {
            return false;
        }
        entry.deadline = deadline;
        // No waker's drop (user code) runs here: it held a task.
        entry.waiter = Waiter::Task(task);
        entry.seq = self.next_seq;
        entry.lazy = lazy;
        self.next_seq = self.next_seq.wrapping_add(1);
        if lazy {
            self.list_lazy(at);
        }
        true
    }

    /// Lists the slot `at`, which a `When::After` timer was just armed into,
    /// for [`observe`](Self::observe), unless it was the last one listed.
    #[inline]
    fn list_lazy(&mut self, at: Filed) {
        if self.last_lazy != at {
            self.last_lazy = at;
            self.lazy_slots.push(at);
        }
    }

    /// [`arm_task`](Self::arm_task) for any other waker; a deadline that
    /// has passed gives the waker back (to be dropped with the store
    /// released).
    pub(crate) fn arm_waker(
        &mut self,
        when: When,
        waker: Waker,
        now: impl FnOnce() -> Instant,
    ) -> Result<u32, Waker> {
        self.arm_waiter(when, Waiter::Waker(waker), now)
            .map_err(|mut waiter| waiter.take_waker().expect("a waker was given"))
    }

    /// The deadline `when` stands for, in nanoseconds, and whether it is
    /// the lower bound of a [`When::After`] (see [`observe`](Self::observe)).
    #[inline]
    fn resolve(&self, when: When) -> (u64, bool) {
        match when {
            When::At(deadline) => (self.ns(deadline), false),
            // No overflow: `ns` is at most 30 years (`sleep::FAR`), and the
            // clock counts from boot.
            When::After(ns) => (self.elapsed.wrapping_add(ns), true),
        }
    }

    #[inline]
    fn arm_waiter(
        &mut self,
        when: When,
        waiter: Waiter,
        now: impl FnOnce() -> Instant,
    ) -> Result<u32, Waiter> {
        if self.is_empty() {
            self.catch_up(now());
        }
        let (deadline, lazy) = self.resolve(when);
        if deadline <= self.elapsed {
            return Err(waiter);
        }
        let key = self.insert_ns(deadline, waiter);
        if lazy {
            let entry = &mut self.entries[key as usize];
            // Past the current tick (`LAZY_MIN`): in the wheel.
            if let Place::Wheel(at) = entry.place {
                entry.lazy = true;
                self.list_lazy(at);
            } else {
                debug_assert!(false, "a timeout of `LAZY_MIN` or more in the precise tier");
            }
        }
        Ok(key)
    }

    /// Arms a new timer, due or not, waking `waker`; the key stays valid
    /// until [`remove`](Self::remove).
    #[cfg(test)]
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> u32 {
        self.insert_ns(self.ns(deadline), Waiter::Waker(waker))
    }

    /// Files a new entry, in a freed one if there is one (no allocation).
    #[inline]
    fn insert_ns(&mut self, deadline: u64, waiter: Waiter) -> u32 {
        let entry = Entry {
            deadline,
            waiter,
            seq: 0,
            place: Place::Fired,
            lazy: false,
        };
        let key = match self.free {
            NIL => {
                let key = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|k| *k < NIL)
                    .expect("more than 4 billion timers armed at once");
                self.entries.push(entry);
                self.links.push(Links::NONE);
                key
            }
            key => {
                let Place::Free(next) = self.entries[key as usize].place else {
                    unreachable!("the free list holds only free entries")
                };
                self.free = next;
                self.entries[key as usize] = entry;
                key
            }
        };
        self.schedule(key);
        key
    }

    /// Moves a timer (armed or fired) to a new deadline, earlier or later.
    #[cfg(any(feature = "time", test))]
    pub(crate) fn rearm(&mut self, key: u32, deadline: Instant) {
        self.unfile(key);
        let entry = &mut self.entries[key as usize];
        entry.deadline = deadline.as_ns();
        entry.lazy = false;
        self.schedule(key);
    }

    /// Files an entry that is in no tier, as the latest armed.
    #[inline]
    fn schedule(&mut self, key: u32) {
        self.entries[key as usize].seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.armed += 1;
        self.file(key);
    }

    /// Sets whom to wake (see [`arm`](Self::arm)), unless it is already
    /// that task or a waker that wakes the same one. Returns the replaced
    /// waker, for the caller to drop after releasing the store.
    #[inline]
    pub(crate) fn set_waker(
        &mut self,
        key: u32,
        waker: &Waker,
        task: Option<TaskRef>,
    ) -> Option<Waker> {
        let waiter = &mut self.entries[key as usize].waiter;
        match (task, &*waiter) {
            (Some(task), Waiter::Task(old)) if *old == task => None,
            (None, Waiter::Waker(old)) if old.will_wake(waker) => None,
            _ => std::mem::replace(waiter, Waiter::new(waker, task)).take_waker(),
        }
    }

    /// Whether the timer has fired (and has not been re-armed).
    #[cfg(test)]
    pub(crate) fn has_fired(&self, key: u32) -> bool {
        self.entries
            .get(key as usize)
            .is_none_or(|e| e.place == Place::Fired)
    }

    /// Deletes a timer: O(1) in the wheel, O(log k) among the k timers of
    /// the precise tier. Returns its waker, if it held one, so the caller
    /// drops it after releasing the store. A second remove of the same key
    /// does nothing.
    pub(crate) fn remove(&mut self, key: u32) -> Option<Waker> {
        match self.entries.get(key as usize)?.place {
            Place::Free(_) => return None,
            Place::Wheel(_) | Place::Near(_) | Place::Fired => {
                self.unfile(key);
            }
        }
        self.release(key);
        self.entries[key as usize].waiter.take_waker()
    }
}

#[cfg(all(test, any(feature = "time", feature = "net")))]
mod tests;
