//! The timer store: every pending timer of one runtime, by deadline.
//!
//! Owned by the runtime's core; `Sleep` inserts, re-arms and removes its
//! entry; the loop asks how long it may wait (`wait_timeout`: until the
//! earliest deadline, long waits cut short) and takes the wakers of the
//! expired ones.
//!
//! # Design
//! An indexed binary min-heap. Entries live in a slab (stable keys, which
//! `Sleep` holds); the heap holds `(deadline, seq, key)` and each entry knows
//! its heap position, so removing any timer is O(log n) with no garbage left
//! behind: a cancelled timer (the common case for timeouts) leaves nothing in
//! the heap. `seq` breaks ties so timers with equal deadlines fire in the
//! order they were armed.
//!
//! Production note: tokio uses a hierarchical timing wheel (O(1) insert and
//! cancel, millisecond resolution). A heap is simpler to read, keeps full
//! `Instant` precision (needed for `epoll_pwait2`'s sub-millisecond waits),
//! and at the sizes a single thread holds its log factor is a few compares.
//!
//! | entry state | `pos`          | set by             | left by |
//! |-------------|----------------|--------------------|---------|
//! | armed       | index in heap  | `insert`, `rearm`  | `take_expired` (fired), `remove` |
//! | fired       | `FIRED`        | `take_expired`     | `rearm`, `remove` |

use std::task::Waker;
use std::time::{Duration, Instant};

use slab::Slab;

const FIRED: usize = usize::MAX;

/// Waits longer than this are cut short (see [`Timers::wait_timeout`]).
/// The kernel's allowance for a wait this long is 10 µs.
const LONG_WAIT: Duration = Duration::from_millis(10);

/// A long wait `t` asks the kernel for `t - t / LONG_WAIT_CUT`. Anything
/// above 1000 (the kernel's 0.1%) keeps the wait from ending late; 512 makes
/// the early margin about twice the kernel's allowance.
const LONG_WAIT_CUT: u32 = 512;

struct Entry {
    waker: Option<Waker>,
    /// Index in `heap`, or `FIRED`.
    pos: usize,
}

#[derive(Clone, Copy)]
struct Item {
    deadline: Instant,
    seq: u64,
    key: usize,
}

impl Item {
    fn before(&self, other: &Item) -> bool {
        (self.deadline, self.seq) < (other.deadline, other.seq)
    }
}

/// The runtime's timers.
#[derive(Default)]
pub(crate) struct Timers {
    entries: Slab<Entry>,
    heap: Vec<Item>,
    #[cfg(any(feature = "time", feature = "net"))]
    next_seq: u64,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers::default()
    }

    /// Whether no timer is armed.
    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The earliest armed deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.first().map(|item| item.deadline)
    }

    /// How long the loop may block in `epoll_pwait2` at `now`: until the
    /// earliest deadline (`None`, forever, if no timer is armed), except that
    /// a wait longer than [`LONG_WAIT`] is cut short by 1/[`LONG_WAIT_CUT`]
    /// of itself.
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
    pub(crate) fn wait_timeout(&self, now: Instant) -> Option<Duration> {
        let left = self.next_deadline()?.saturating_duration_since(now);
        Some(if left > LONG_WAIT {
            left - left / LONG_WAIT_CUT
        } else {
            left
        })
    }

    /// Fires every timer due at `now`: moves their wakers into `out`.
    pub(crate) fn take_expired(&mut self, now: Instant, out: &mut Vec<Waker>) -> usize {
        let mut fired = 0;
        while let Some(first) = self.heap.first() {
            if first.deadline > now {
                break;
            }
            let key = first.key;
            self.remove_at(0);
            let entry = &mut self.entries[key];
            entry.pos = FIRED;
            out.extend(entry.waker.take());
            fired += 1;
        }
        fired
    }

    fn remove_at(&mut self, pos: usize) {
        let last = self.heap.len() - 1;
        self.swap(pos, last);
        self.heap.pop();
        if pos < self.heap.len() {
            self.sift_down(pos);
            self.sift_up(pos);
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        let (ka, kb) = (self.heap[a].key, self.heap[b].key);
        self.entries[ka].pos = a;
        self.entries[kb].pos = b;
    }

    fn sift_up(&mut self, mut pos: usize) {
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if !self.heap[pos].before(&self.heap[parent]) {
                break;
            }
            self.swap(pos, parent);
            pos = parent;
        }
    }

    fn sift_down(&mut self, mut pos: usize) {
        loop {
            let (l, r) = (2 * pos + 1, 2 * pos + 2);
            let mut least = pos;
            if l < self.heap.len() && self.heap[l].before(&self.heap[least]) {
                least = l;
            }
            if r < self.heap.len() && self.heap[r].before(&self.heap[least]) {
                least = r;
            }
            if least == pos {
                break;
            }
            self.swap(pos, least);
            pos = least;
        }
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
        self.entries.len()
    }

    /// Arms a new timer; the key stays valid until [`remove`](Self::remove).
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> usize {
        let key = self.entries.insert(Entry {
            waker: Some(waker),
            pos: FIRED,
        });
        self.push(deadline, key);
        key
    }

    /// Moves a timer (armed or fired) to a new deadline.
    pub(crate) fn rearm(&mut self, key: usize, deadline: Instant) {
        let pos = self.entries[key].pos;
        if pos != FIRED {
            self.remove_at(pos);
        }
        self.push(deadline, key);
    }

    /// Replaces the waker to wake, unless it would wake the same task.
    pub(crate) fn set_waker(&mut self, key: usize, waker: &Waker) -> Option<Waker> {
        let slot = &mut self.entries[key].waker;
        match slot {
            Some(w) if w.will_wake(waker) => None,
            _ => slot.replace(waker.clone()),
        }
    }

    /// Whether the timer has fired (and has not been re-armed).
    pub(crate) fn has_fired(&self, key: usize) -> bool {
        self.entries.get(key).is_none_or(|e| e.pos == FIRED)
    }

    /// Deletes a timer. Returns its waker so the caller drops it after
    /// releasing the store.
    pub(crate) fn remove(&mut self, key: usize) -> Option<Waker> {
        // Out of the heap first: `remove_at` updates the positions of the
        // entries it moves, this one included, so it must still exist.
        let pos = self.entries.get(key)?.pos;
        if pos != FIRED {
            self.remove_at(pos);
        }
        self.entries.remove(key).waker
    }

    fn push(&mut self, deadline: Instant, key: usize) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Item { deadline, seq, key });
        let last = self.heap.len() - 1;
        self.entries[key].pos = last;
        self.sift_up(last);
    }
}

#[cfg(all(test, any(feature = "time", feature = "net")))]
mod tests {
    use super::*;

    fn noop() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn timers_fire_in_deadline_order_then_arming_order() {
        let t0 = Instant::now();
        let mut t = Timers::new();
        let c = t.insert(t0 + Duration::from_millis(3), noop());
        let a = t.insert(t0 + Duration::from_millis(1), noop());
        let b1 = t.insert(t0 + Duration::from_millis(2), noop());
        let b2 = t.insert(t0 + Duration::from_millis(2), noop());
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_millis(1)));
        let mut order = vec![];
        for ms in 1..=3 {
            let mut out = vec![];
            t.take_expired(t0 + Duration::from_millis(ms), &mut out);
            for key in [a, b1, b2, c] {
                if t.has_fired(key) && !order.contains(&key) {
                    order.push(key);
                }
            }
        }
        assert_eq!(order, vec![a, b1, b2, c]);
        assert!(t.is_empty());
    }

    #[test]
    fn nothing_fires_before_its_deadline() {
        let t0 = Instant::now();
        let mut t = Timers::new();
        t.insert(t0 + Duration::from_micros(50), noop());
        let mut out = vec![];
        assert_eq!(t.take_expired(t0 + Duration::from_micros(49), &mut out), 0);
        assert_eq!(t.take_expired(t0 + Duration::from_micros(50), &mut out), 1);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn removing_any_timer_keeps_the_heap_ordered() {
        let t0 = Instant::now();
        let mut t = Timers::new();
        let keys: Vec<usize> = (0..200u64)
            .map(|i| t.insert(t0 + Duration::from_micros((i * 7919) % 1000), noop()))
            .collect();
        for k in keys.iter().step_by(3) {
            t.remove(*k);
        }
        let mut last = t0;
        while let Some(d) = t.next_deadline() {
            assert!(d >= last);
            last = d;
            t.take_expired(d, &mut vec![]);
        }
    }

    #[test]
    fn created_and_removed_timers_leave_nothing_behind() {
        let t0 = Instant::now();
        let mut t = Timers::new();
        for i in 0..100_000u64 {
            let k = t.insert(t0 + Duration::from_nanos(i), noop());
            t.remove(k);
        }
        assert_eq!(t.len(), 0);
        assert!(t.is_empty());
    }

    #[test]
    fn removing_the_only_timer_empties_the_store() {
        // Regression: `remove` freed the slab entry before taking the timer
        // out of the heap, and the heap's swap then indexed the freed entry.
        let mut t = Timers::new();
        let k = t.insert(Instant::now(), noop());
        assert!(t.remove(k).is_some());
        assert_eq!(t.len(), 0);
        assert!(t.is_empty());
        assert!(t.remove(k).is_none(), "a second remove is harmless");
    }

    #[test]
    fn removing_a_fired_timer_frees_its_entry() {
        let t0 = Instant::now();
        let mut t = Timers::new();
        let k = t.insert(t0, noop());
        t.insert(t0 + Duration::from_secs(1), noop());
        t.take_expired(t0, &mut vec![]);
        assert!(t.remove(k).is_none(), "its waker was taken when it fired");
        assert_eq!(t.len(), 1);
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_secs(1)));
    }

    #[test]
    fn the_wait_lasts_until_the_earliest_deadline() {
        let t0 = Instant::now();
        let mut t = Timers::new();
        assert_eq!(t.wait_timeout(t0), None, "no timer: wait for I/O alone");
        t.insert(t0 + Duration::from_millis(5), noop());
        t.insert(t0 + Duration::from_micros(50), noop());
        assert_eq!(t.wait_timeout(t0), Some(Duration::from_micros(50)));
        let late = t0 + Duration::from_millis(1);
        assert_eq!(t.wait_timeout(late), Some(Duration::ZERO), "overdue");
    }

    #[test]
    fn long_waits_end_before_the_deadline_even_with_the_kernels_slack() {
        // The kernel may end a wait of `w` up to `w / 1000` late (at most
        // 100 ms). Model the worst case and check that the loop never
        // overshoots, and that it needs few wake-ups even for 30 years.
        let t0 = Instant::now();
        for left in [
            Duration::from_millis(11),
            Duration::from_secs(1),
            Duration::from_secs(3600),
            Duration::from_secs(86_400 * 365 * 30),
        ] {
            let mut t = Timers::new();
            t.insert(t0 + left, noop());
            let mut now = t0;
            let mut waits = 0;
            loop {
                let w = t.wait_timeout(now).unwrap();
                waits += 1;
                if w <= LONG_WAIT {
                    break; // the last wait, late by at most 10 µs
                }
                let slack = (w / 1000).min(Duration::from_millis(100));
                now += w + slack;
                assert!(now < t0 + left, "a cut wait of {w:?} overshot");
            }
            assert!(waits <= 6, "{waits} waits for {left:?}");
        }
    }

    #[test]
    fn a_fired_timer_can_be_rearmed() {
        let t0 = Instant::now();
        let mut t = Timers::new();
        let k = t.insert(t0, noop());
        t.take_expired(t0, &mut vec![]);
        assert!(t.has_fired(k));
        t.rearm(k, t0 + Duration::from_millis(1));
        assert!(!t.has_fired(k));
        assert_eq!(t.next_deadline(), Some(t0 + Duration::from_millis(1)));
    }
}
