//! `WaitList`: a FIFO of parked wakers with O(1) removal, the one data
//! structure behind every waiting future in `sync`.
//!
//! Used by `mpsc` (senders waiting for room in a bounded channel), by
//! `Notify` (tasks waiting for a notification), by `Semaphore` (tasks
//! waiting for permits) and by the loop-local locks (`Mutex`, `RwLock`).
//! Always lives inside the primitive's `Mutex` (or `RefCell`), so it needs
//! no synchronisation of its own.
//!
//! # Design
//! A doubly linked list threaded through a slab: each waiting future holds
//! its node's key, which stays valid until the future removes it. Pushing,
//! notifying the first waiter and removing any waiter are O(1), and a
//! slot is reused, so a steady stream of waiters allocates nothing.
//!
//! A node outlives its place in the queue: notifying *unlinks* the node and
//! records the notification in it, but only its future removes it. That is
//! how a future learns that it was chosen, and how a future dropped right
//! after being chosen can tell, and pass the notification on.
//!
//! | node state | in the queue | set by                        | left by |
//! |------------|--------------|-------------------------------|---------|
//! | waiting    | yes          | `push_back`, `push_back_wanting` | `notify_first`, `notify_last`, `notify_all`, `grant`, `remove` |
//! | notified   | no           | `notify_first`, `notify_last`, `notify_all`, `grant` | `remove` |
//!
//! # Counted waiters
//! A node may *want* a number of units (a semaphore's permits, a channel's
//! slots). [`WaitList::grant`] hands units out in queue order: the first
//! waiter takes what it still needs, or everything there is if that is
//! less (it keeps its place and waits for the rest), and is notified once
//! it has all. So a large request at the head is never overtaken by small
//! ones behind it: tokio's semaphore fairness.
//!
//! # Invariant
//! Wakers are handed *out* (to be woken after the caller releases its
//! lock), never woken in here: waking is arbitrary code.

use std::task::Waker;

use slab::Slab;

/// Wakers collected under a lock, to wake once it is released. The first
/// one is kept without allocating: serving one waiter (a receive freeing
/// one slot) is the common case, and must not allocate.
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    #[inline]
    pub(crate) const fn new() -> Wakers {
        Wakers {
            first: None,
            rest: Vec::new(),
        }
    }

    /// Wakes them all, through `contain`. Inlined: on most calls there is
    /// none (`rest` is empty whenever `first` is).
    #[inline]
    pub(crate) fn wake_all(self) {
        if self.first.is_some() {
            self.wake_slow();
        }
    }

    #[cold]
    fn wake_slow(mut self) {
        if let Some(w) = self.first.take() {
            crate::contain::wake(w);
        }
        crate::contain::wake_all(&mut self.rest);
    }
}

impl Extend<Waker> for Wakers {
    #[inline]
    fn extend<I: IntoIterator<Item = Waker>>(&mut self, wakers: I) {
        for w in wakers {
            match self.first {
                None => self.first = Some(w),
                Some(_) => self.rest.push(w),
            }
        }
    }
}

/// No node: the end of the list.
const NIL: usize = usize::MAX;

/// One waiting future. `K` says how it was notified (`Notify` tells
/// `notify_one` from `notify_waiters`; `mpsc` needs no kind and uses `()`).
#[derive(Debug)]
struct Node<K> {
    waker: Option<Waker>,
    /// `None` while waiting, `Some(kind)` once notified (and unlinked).
    notified: Option<K>,
    /// Units still wanted (see [`WaitList::grant`]); 0 for a plain waiter.
    want: usize,
    prev: usize,
    next: usize,
}

/// A FIFO of waiting futures.
#[derive(Debug)]
pub(crate) struct WaitList<K> {
    nodes: Slab<Node<K>>,
    /// First and last waiting (linked) node, or `NIL`.
    head: usize,
    tail: usize,
}

impl<K: Copy> WaitList<K> {
    pub(crate) const fn new() -> WaitList<K> {
        WaitList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
        }
    }

    /// Whether nobody is waiting (notified nodes not yet removed do not
    /// count).
    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    /// Queues a new waiter at the back; returns its key.
    pub(crate) fn push_back(&mut self, waker: Waker) -> usize {
        self.push_back_wanting(waker, 0)
    }

    /// Queues a new waiter at the back that wants `want` units from
    /// [`grant`](Self::grant); returns its key.
    pub(crate) fn push_back_wanting(&mut self, waker: Waker, want: usize) -> usize {
        let key = self.nodes.insert(Node {
            waker: Some(waker),
            notified: None,
            want,
            prev: self.tail,
            next: NIL,
        });
        match self.tail {
            NIL => self.head = key,
            tail => self.nodes[tail].next = key,
        }
        self.tail = key;
        key
    }

    /// How waiter `key` was notified, or `None` if it still waits.
    pub(crate) fn notified(&self, key: usize) -> Option<K> {
        self.nodes.get(key).and_then(|n| n.notified)
    }

    /// Stores `waker` for waiter `key`, unless it would wake the same task
    /// as the one stored. Returns the replaced waker, for the caller to
    /// drop once its lock is released.
    pub(crate) fn set_waker(&mut self, key: usize, waker: &Waker) -> Option<Waker> {
        let node = self.nodes.get_mut(key)?;
        match &node.waker {
            Some(w) if w.will_wake(waker) => None,
            _ => node.waker.replace(waker.clone()),
        }
    }

    /// Unlinks the first waiter, marks it notified with `kind` and returns
    /// its waker to wake. `None` if nobody waits.
    pub(crate) fn notify_first(&mut self, kind: K) -> Option<Waker> {
        let key = self.head;
        if key == NIL {
            return None;
        }
        self.unlink(key);
        let node = &mut self.nodes[key];
        node.notified = Some(kind);
        node.waker.take()
    }

    /// Unlinks the *last* waiter (the one that arrived most recently), marks
    /// it notified with `kind` and returns its waker. `None` if nobody
    /// waits.
    pub(crate) fn notify_last(&mut self, kind: K) -> Option<Waker> {
        let key = self.tail;
        if key == NIL {
            return None;
        }
        self.unlink(key);
        let node = &mut self.nodes[key];
        node.notified = Some(kind);
        node.waker.take()
    }

    /// Hands out up to `*units` to the waiters in queue order, taking what
    /// it gives from `*units`: each waiter takes what it still wants, or
    /// all that is left if that is less (then it keeps its place at the
    /// head). A waiter that got all it wanted is notified with `kind` and
    /// its waker goes into `out`.
    #[inline]
    pub(crate) fn grant(&mut self, units: &mut usize, kind: K, out: &mut impl Extend<Waker>) {
        while *units > 0 && self.head != NIL {
            let node = &mut self.nodes[self.head];
            let take = node.want.min(*units);
            node.want -= take;
            *units -= take;
            if node.want > 0 {
                return;
            }
            out.extend(self.notify_first(kind));
        }
    }

    /// [`grant`](Self::grant) to the head only: it takes what it still
    /// wants from `*units` (or all of them), and its waker is returned if
    /// that completes it. For a caller that frees one unit while nobody
    /// else has any (so nobody behind the head could be served).
    #[inline]
    pub(crate) fn grant_head(&mut self, units: &mut usize, kind: K) -> Option<Waker> {
        let node = self.nodes.get_mut(self.head)?;
        let take = node.want.min(*units);
        node.want -= take;
        *units -= take;
        if node.want > 0 {
            return None;
        }
        self.notify_first(kind)
    }

    /// Units waiter `key` still wants (0 once it has all, or if unknown).
    #[cfg(test)]
    fn wanted(&self, key: usize) -> usize {
        self.nodes.get(key).map_or(0, |n| n.want)
    }

    /// [`notify_all`](Self::notify_all) into any collection of wakers.
    pub(crate) fn notify_all_into(&mut self, kind: K, out: &mut impl Extend<Waker>) {
        while let Some(waker) = self.notify_first(kind) {
            out.extend(Some(waker));
        }
    }

    /// Notifies every waiter with `kind`; their wakers go into `out`.
    pub(crate) fn notify_all(&mut self, kind: K, out: &mut Vec<Waker>) {
        while let Some(waker) = self.notify_first(kind) {
            out.push(waker);
        }
    }

    /// Removes waiter `key` (waiting or notified). Returns how it had been
    /// notified (`None` if it was still waiting), and its waker, for the
    /// caller to drop once its lock is released.
    pub(crate) fn remove(&mut self, key: usize) -> (Option<K>, Option<Waker>) {
        let (kind, waker, _) = self.remove_counted(key);
        (kind, waker)
    }

    /// [`remove`](Self::remove), also giving the units the waiter still
    /// wanted (so the caller can tell how many it had been granted).
    pub(crate) fn remove_counted(&mut self, key: usize) -> (Option<K>, Option<Waker>, usize) {
        if !self.nodes.contains(key) {
            return (None, None, 0);
        }
        if self.nodes[key].notified.is_none() {
            self.unlink(key);
        }
        let node = self.nodes.remove(key);
        (node.notified, node.waker, node.want)
    }

    /// Takes a linked node out of the queue, leaving it in the slab.
    fn unlink(&mut self, key: usize) {
        let (prev, next) = {
            let n = &self.nodes[key];
            (n.prev, n.next)
        };
        match prev {
            NIL => self.head = next,
            p => self.nodes[p].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.nodes[n].prev = prev,
        }
        let n = &mut self.nodes[key];
        n.prev = NIL;
        n.next = NIL;
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

    fn waker() -> Waker {
        Waker::from(Arc::new(Count(AtomicUsize::new(0))))
    }

    #[test]
    fn waiters_are_notified_in_the_order_they_arrived() {
        let mut list = WaitList::<u8>::new();
        let a = list.push_back(waker());
        let b = list.push_back(waker());
        let c = list.push_back(waker());
        assert!(list.notify_first(1).is_some());
        assert_eq!(list.notified(a), Some(1));
        assert_eq!(list.notified(b), None);
        assert!(list.notify_first(2).is_some());
        assert_eq!(list.notified(b), Some(2));
        assert!(list.notify_first(3).is_some());
        assert_eq!(list.notified(c), Some(3));
        assert!(list.is_empty());
        assert!(list.notify_first(4).is_none());
    }

    #[test]
    fn a_removed_waiter_is_skipped_wherever_it_stood() {
        let mut list = WaitList::<()>::new();
        let keys: Vec<usize> = (0..5).map(|_| list.push_back(waker())).collect();
        // Middle, head and tail.
        assert_eq!(list.remove(keys[2]).0, None);
        assert_eq!(list.remove(keys[0]).0, None);
        assert_eq!(list.remove(keys[4]).0, None);
        assert!(list.notify_first(()).is_some());
        assert_eq!(list.notified(keys[1]), Some(()));
        assert!(list.notify_first(()).is_some());
        assert_eq!(list.notified(keys[3]), Some(()));
        assert!(list.is_empty());
    }

    #[test]
    fn removing_a_notified_waiter_reports_its_notification() {
        let mut list = WaitList::<u8>::new();
        let a = list.push_back(waker());
        let b = list.push_back(waker());
        list.notify_first(7);
        assert_eq!(list.remove(a).0, Some(7));
        // `b` is still linked and first in line.
        assert!(!list.is_empty());
        list.notify_first(8);
        assert_eq!(list.remove(b).0, Some(8));
        assert!(list.is_empty());
    }

    #[test]
    fn notify_all_hands_out_every_waker_and_empties_the_queue() {
        let mut list = WaitList::<u8>::new();
        let keys: Vec<usize> = (0..3).map(|_| list.push_back(waker())).collect();
        let mut out = Vec::new();
        list.notify_all(9, &mut out);
        assert_eq!(out.len(), 3);
        assert!(list.is_empty());
        for k in keys {
            assert_eq!(list.notified(k), Some(9));
        }
    }

    #[test]
    fn set_waker_keeps_a_waker_that_wakes_the_same_task() {
        let mut list = WaitList::<()>::new();
        let w = waker();
        let k = list.push_back(w.clone());
        assert!(list.set_waker(k, &w).is_none());
        assert!(list.set_waker(k, &waker()).is_some());
    }

    #[test]
    fn grant_fills_the_head_first_even_when_a_smaller_waiter_could_be_served() {
        let mut list = WaitList::<()>::new();
        let big = list.push_back_wanting(waker(), 5);
        let small = list.push_back_wanting(waker(), 1);
        let mut out = Vec::new();
        let mut units = 3;
        list.grant(&mut units, (), &mut out);
        assert_eq!((units, out.len()), (0, 0), "all three went to the head");
        assert_eq!(list.wanted(big), 2);
        assert_eq!(list.notified(small), None);
        let mut units = 4;
        list.grant(&mut units, (), &mut out);
        assert_eq!((units, out.len()), (1, 2));
        assert_eq!(list.notified(big), Some(()));
        assert_eq!(list.notified(small), Some(()));
        assert!(list.is_empty());
    }

    #[test]
    fn grant_head_serves_only_the_head() {
        let mut list = WaitList::<()>::new();
        let a = list.push_back_wanting(waker(), 2);
        let b = list.push_back_wanting(waker(), 1);
        let mut units = 1;
        assert!(
            list.grant_head(&mut units, ()).is_none(),
            "a wants one more"
        );
        assert_eq!(units, 0);
        let mut units = 1;
        assert!(list.grant_head(&mut units, ()).is_some());
        assert_eq!(list.notified(a), Some(()));
        assert_eq!(list.notified(b), None);
    }

    #[test]
    fn notify_last_picks_the_most_recent_waiter() {
        let mut list = WaitList::<u8>::new();
        let a = list.push_back(waker());
        let b = list.push_back(waker());
        assert!(list.notify_last(1).is_some());
        assert_eq!(list.notified(b), Some(1));
        assert_eq!(list.notified(a), None);
        assert!(list.notify_last(2).is_some());
        assert!(list.is_empty());
    }

    #[test]
    fn slots_are_reused_so_a_steady_stream_of_waiters_does_not_grow() {
        let mut list = WaitList::<()>::new();
        for _ in 0..100 {
            let k = list.push_back(waker());
            list.notify_first(());
            list.remove(k);
        }
        assert!(list.nodes.capacity() <= 4);
    }
}
