//! The run queue: the entries of the tasks to poll, first in, first out.
//!
//! Pushed by wakes (`Core::push`), by the reactor for tasks woken by I/O,
//! and by the remote queue's drain; popped by the `block_on` loop. It is on
//! every round trip twice, so it is a plain `Vec` read from a moving `head`
//! rather than a `VecDeque`: a push is a `Vec::push`, a pop an index and a
//! compare, and both inline. (With `VecDeque` the pair cost about 50
//! instructions per round trip in the echo benchmark.)
//!
//! # Invariant
//! `buf[head..]` are the queued entries, oldest first; `buf[..head]` have
//! been popped. The popped prefix is dropped when the queue empties (the
//! common case: the loop drains the queue before every wait) or, when it
//! never empties, by a push that would grow the buffer while at least half
//! of it is popped, so memory stays proportional to the queue's length and
//! each entry is moved at most a constant number of times on average.

use super::waker::Entry;

pub(crate) struct RunQueue {
    buf: Vec<Entry>,
    head: usize,
}

impl RunQueue {
    pub(crate) const fn new() -> RunQueue {
        RunQueue {
            buf: Vec::new(),
            head: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head == self.buf.len()
    }

    #[inline]
    pub(crate) fn push_back(&mut self, entry: Entry) {
        if self.buf.len() == self.buf.capacity() && self.head > 0 {
            self.compact();
        }
        self.buf.push(entry);
    }

    /// Puts `entry` first in line (aborts).
    pub(crate) fn push_front(&mut self, entry: Entry) {
        if self.head > 0 {
            self.head -= 1;
            self.buf[self.head] = entry;
        } else {
            self.buf.insert(0, entry);
        }
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<Entry> {
        let entry = *self.buf.get(self.head)?;
        self.head += 1;
        if self.head == self.buf.len() {
            self.clear();
        }
        Some(entry)
    }

    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.head = 0;
    }

    /// Drops the popped prefix if it is at least half the buffer, so that
    /// the push that follows need not grow it.
    #[cold]
    fn compact(&mut self) {
        if self.head * 2 >= self.buf.len() {
            self.buf.drain(..self.head);
            self.head = 0;
        }
    }
}

/// How the reactor hands back the tasks an event woke.
impl Extend<Entry> for RunQueue {
    #[inline]
    fn extend<I: IntoIterator<Item = Entry>>(&mut self, entries: I) {
        for entry in entries {
            self.push_back(entry);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(n: usize) -> Entry {
        Entry {
            slot: n,
            id: n as u64,
        }
    }

    #[test]
    fn first_in_first_out_with_fronts_first() {
        let mut q = RunQueue::new();
        q.push_back(e(1));
        q.push_back(e(2));
        assert_eq!(q.pop_front(), Some(e(1)));
        q.push_front(e(9)); // reuses the popped slot
        q.push_back(e(3));
        q.push_front(e(8)); // inserts at the start
        let order: Vec<_> = std::iter::from_fn(|| q.pop_front()).collect();
        assert_eq!(order, [e(8), e(9), e(2), e(3)]);
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn a_queue_that_never_empties_stays_small() {
        let mut q = RunQueue::new();
        for i in 0..10 {
            q.push_back(e(i));
        }
        for i in 10..100_000 {
            assert_eq!(q.pop_front(), Some(e(i - 10)));
            q.push_back(e(i));
            assert_eq!(q.len(), 10);
        }
        assert!(q.buf.capacity() <= 64, "capacity {}", q.buf.capacity());
        for i in 99_990..100_000 {
            assert_eq!(q.pop_front(), Some(e(i)));
        }
        assert_eq!(q.pop_front(), None);
    }
}
