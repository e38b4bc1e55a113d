//! The timer store's precise tier: an indexed binary min-heap of the
//! entries due soon, ordered by their exact deadline (nanoseconds), then by
//! the order they were armed in.
//!
//! Owned by the store (`store.rs`), which puts an entry here when it is due
//! within the wheel's current tick (65.5 µs) or earlier, or when its wheel
//! slot is the next one and the loop is about to wait (so that the wait
//! ends at the exact deadline, not at the slot's start). The loop fires
//! entries from here only, and only once the clock has reached their
//! deadline: this tier is what keeps ember's sub-millisecond precision.
//!
//! Each entry knows its index in the heap (`Place::Near`, kept up to date
//! through the `moved` callback), so removing any entry costs O(log k) for
//! the k entries due within the next few milliseconds, not O(log n) for
//! all n timers: the heap stays small whatever the number of far timers.
//!
//! Production note: tokio's wheel has no such tier; its level 0 has
//! millisecond slots and an entry fires when its slot's millisecond has
//! passed, up to a millisecond late.

// Without `time` or `net` nothing arms a timer: the store is still asked
// for the wait's timeout, and the arming half is unused.
#![cfg_attr(not(any(feature = "time", feature = "net")), allow(dead_code))]

/// One heap element: what orders it, and whose it is.
#[derive(Debug, Clone, Copy)]
pub(super) struct Item {
    /// On the clock, in nanoseconds.
    pub(super) deadline: u64,
    /// Arming order; compared with wrapping arithmetic, see [`Item::before`].
    pub(super) seq: u32,
    pub(super) key: u32,
}

impl Item {
    /// Earlier deadline first; equal deadlines in arming order. `seq`
    /// wraps after 2^32 arms, so two entries armed more than 2^31 arms
    /// apart with exactly the same deadline may fire in either order;
    /// nothing else depends on it.
    fn before(&self, other: &Item) -> bool {
        self.deadline < other.deadline
            || (self.deadline == other.deadline && (self.seq.wrapping_sub(other.seq) as i32) < 0)
    }
}

#[derive(Default)]
pub(super) struct Near {
    heap: Vec<Item>,
}

impl Near {
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }

    /// The earliest item.
    pub(super) fn first(&self) -> Option<&Item> {
        self.heap.first()
    }

    /// Adds `item`; `moved(key, index)` is told every new index.
    pub(super) fn push(&mut self, item: Item, moved: &mut impl FnMut(u32, u32)) {
        self.heap.push(item);
        let last = self.heap.len() - 1;
        moved(item.key, last as u32);
        self.sift_up(last, moved);
    }

    /// Removes the item at `index` and returns it.
    pub(super) fn remove(&mut self, index: usize, moved: &mut impl FnMut(u32, u32)) -> Item {
        let last = self.heap.len() - 1;
        self.swap(index, last, moved);
        let item = self
            .heap
            .pop()
            .expect("`index` is in the heap, so it is not empty");
        if index < self.heap.len() {
            self.sift_down(index, moved);
            self.sift_up(index, moved);
        }
        item
    }

    fn swap(&mut self, a: usize, b: usize, moved: &mut impl FnMut(u32, u32)) {
        if a == b {
            return;
        }
        self.heap.swap(a, b);
        moved(self.heap[a].key, a as u32);
        moved(self.heap[b].key, b as u32);
    }

    fn sift_up(&mut self, mut i: usize, moved: &mut impl FnMut(u32, u32)) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.heap[i].before(&self.heap[parent]) {
                break;
            }
            self.swap(i, parent, moved);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize, moved: &mut impl FnMut(u32, u32)) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut least = i;
            if l < self.heap.len() && self.heap[l].before(&self.heap[least]) {
                least = l;
            }
            if r < self.heap.len() && self.heap[r].before(&self.heap[least]) {
                least = r;
            }
            if least == i {
                break;
            }
            self.swap(i, least, moved);
            i = least;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_deadlines_come_out_in_arming_order_even_across_the_wrap() {
        let a = Item {
            deadline: 5,
            seq: u32::MAX,
            key: 0,
        };
        let b = Item {
            deadline: 5,
            seq: 0, // armed after `a`: the counter wrapped
            key: 1,
        };
        assert!(a.before(&b) && !b.before(&a));
        let c = Item {
            deadline: 4,
            seq: 7,
            key: 2,
        };
        assert!(c.before(&a), "the deadline decides first");
    }

    #[test]
    fn removing_any_item_keeps_the_heap_ordered_and_the_indices_right() {
        let mut near = Near::default();
        let mut index = vec![u32::MAX; 100];
        for k in 0..100u32 {
            let deadline = u64::from(k * 7919 % 101);
            let item = Item {
                deadline,
                seq: k,
                key: k,
            };
            near.push(item, &mut |k, i| index[k as usize] = i);
        }
        for k in (0..100u32).step_by(3) {
            let i = index[k as usize] as usize;
            assert_eq!(near.remove(i, &mut |k, i| index[k as usize] = i).key, k);
        }
        let mut last = 0;
        while let Some(first) = near.first().copied() {
            assert!(first.deadline >= last);
            last = first.deadline;
            let i = index[first.key as usize] as usize;
            assert_eq!(i, 0, "the first item knows it is first");
            near.remove(i, &mut |k, i| index[k as usize] = i);
        }
        assert_eq!(near.len(), 0);
    }
}
