//! The timer store's far tiers: a hierarchical timing wheel of 8 levels of
//! 64 slots, each slot an intrusive doubly linked list of entry keys.
//!
//! Owned by the store (`store.rs`), which decides which tier an entry goes
//! to and moves entries between tiers; the wheel only files keys into
//! slots, unlinks them, and says which slot comes next. The links live in
//! the entries themselves (`Links`, in the store's slab), so filing or
//! unlinking an entry is a few stores and never allocates.
//!
//! # Time, ticks, levels
//! The store counts time in the clock's nanoseconds. The wheel counts
//! it in *ticks* of 2^16 ns (65.5 µs). Level `l` has 64 slots, each
//! 64^l ticks wide, so level 0 spans 4.2 ms, level 1 268 ms, level 2
//! 17 s, level 3 18 min, level 4 19.5 h, level 5 52 days, level 6 9 years
//! and level 7 the rest of the 584 years a `u64` of nanoseconds holds: the
//! wheel covers every deadline the store can represent, so no deadline
//! ever wraps around it.
//!
//! An entry due at tick `w`, filed when the wheel's time is tick `e < w`,
//! goes to the level of the highest 6-bit digit in which `e` and `w`
//! differ, in the slot named by `w`'s digit at that level.
//!
//! # Invariant
//! Every occupied slot of level `l` lies after the wheel's time: its digit
//! is greater than the time's digit at level `l`, and the digits above are
//! equal. So every slot of level `l` starts before every slot of level
//! `l + 1`, the next slot to process is the lowest occupied one of the
//! lowest occupied level ([`Wheel::next_slot`]), and the store keeps the
//! invariant by processing every slot that starts at or before a new time
//! before it moves the wheel's time there.

// Without `time` or `net` nothing arms a timer: the store is still asked
// for the wait's timeout, and the arming half is unused.
#![cfg_attr(not(any(feature = "time", feature = "net")), allow(dead_code))]

/// Bits of a nanosecond count below the tick.
pub(super) const TICK_BITS: u32 = 16;
/// Bits of a tick count per level: 64 slots.
const LEVEL_BITS: u32 = 6;
const SLOTS: usize = 1 << LEVEL_BITS;
/// 8 levels of 6 bits cover the 48 bits of a tick count.
pub(super) const LEVELS: usize = 8;

/// "No entry": the end of a list.
pub(super) const NIL: u32 = u32::MAX;

/// An entry's neighbours in its slot's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Links {
    pub(super) prev: u32,
    pub(super) next: u32,
}

impl Links {
    pub(super) const NONE: Links = Links {
        prev: NIL,
        next: NIL,
    };
}

/// The tick a nanosecond count falls in.
#[inline]
pub(super) fn tick(ns: u64) -> u64 {
    ns >> TICK_BITS
}

/// The level an entry due at tick `when` goes to while the wheel's time is
/// tick `now`, or `None` if it is due within the current tick (or
/// earlier): then it belongs to the store's precise tier.
#[inline]
pub(super) fn level_for(now: u64, when: u64) -> Option<usize> {
    if when <= now {
        return None;
    }
    // `when > now`, so the highest differing bit is set in `when`; both
    // are below 2^48, so the level is at most 7.
    let highest = 63 - (now ^ when).leading_zeros();
    Some((highest / LEVEL_BITS) as usize)
}

/// The slot of level `level` that tick `when` falls in.
#[inline]
pub(super) fn slot_for(when: u64, level: usize) -> usize {
    ((when >> (LEVEL_BITS * level as u32)) as usize) & (SLOTS - 1)
}

/// How many nanoseconds one slot of `level` spans.
#[inline]
pub(super) fn slot_width_ns(level: usize) -> u64 {
    1 << (TICK_BITS + LEVEL_BITS * level as u32)
}

/// One level: 64 lists and a bitmap of the non-empty ones.
struct Level {
    /// Bit `s` is set when slot `s` holds an entry.
    occupied: u64,
    heads: [u32; SLOTS],
}

/// The next slot to process: which, and when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Due {
    pub(super) level: usize,
    pub(super) slot: usize,
    /// Its first nanosecond on the clock.
    pub(super) start: u64,
}

/// Where a filed entry sits: enough to unlink it in O(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Filed {
    pub(super) level: u8,
    pub(super) slot: u8,
}

pub(super) struct Wheel {
    levels: [Level; LEVELS],
    /// Per slot (by [`Filed::index`]), how much later than the store's
    /// time at arming the timeouts armed into it as `When::After` may be
    /// due: the longest such turn of the loop so far (see
    /// `Timers::observe`).
    allowance: [u64; LEVELS * SLOTS],
}

impl Filed {
    /// No slot (there are 8 levels).
    pub(super) const NONE: Filed = Filed {
        level: u8::MAX,
        slot: u8::MAX,
    };

    /// The slot's place among all the wheel's slots: masked, so that the
    /// compiler knows it is in bounds.
    #[inline]
    fn index(self) -> usize {
        ((self.level as usize & (LEVELS - 1)) << LEVEL_BITS) | (self.slot as usize & (SLOTS - 1))
    }
}

impl Wheel {
    pub(super) fn new() -> Wheel {
        Wheel {
            levels: std::array::from_fn(|_| Level {
                occupied: 0,
                heads: [NIL; SLOTS],
            }),
            allowance: [0; LEVELS * SLOTS],
        }
    }

    /// Files `key`, due at tick `when`, at `level` (from [`level_for`]).
    /// `links` is the slab's link table, indexed by key.
    #[inline]
    pub(super) fn file(&mut self, links: &mut [Links], key: u32, when: u64, level: usize) -> Filed {
        let slot = slot_for(when, level);
        let lv = &mut self.levels[level];
        let head = lv.heads[slot];
        links[key as usize] = Links {
            prev: NIL,
            next: head,
        };
        if head != NIL {
            links[head as usize].prev = key;
        }
        lv.heads[slot] = key;
        lv.occupied |= 1 << slot;
        Filed {
            level: level as u8,
            slot: slot as u8,
        }
    }

    /// Unlinks `key` from the slot it was filed in.
    #[inline]
    pub(super) fn unlink(&mut self, links: &mut [Links], key: u32, at: Filed) {
        let Links { prev, next } = links[key as usize];
        let lv = &mut self.levels[at.level as usize];
        if prev == NIL {
            lv.heads[at.slot as usize] = next;
            if next == NIL {
                lv.occupied &= !(1 << at.slot);
            }
        } else {
            links[prev as usize].next = next;
        }
        if next != NIL {
            links[next as usize].prev = prev;
        }
        links[key as usize] = Links::NONE;
    }

    /// Empties a slot and gives back the first key of its list (the rest
    /// follow through `Links::next`; the caller refiles every one of them)
    /// and the slot's allowance, which starts again from zero.
    pub(super) fn take(&mut self, level: usize, slot: usize) -> (u32, u64) {
        let at = Filed {
            level: level as u8,
            slot: slot as u8,
        };
        let allowance = std::mem::take(&mut self.allowance[at.index()]);
        let lv = &mut self.levels[level];
        lv.occupied &= !(1 << slot);
        (std::mem::replace(&mut lv.heads[slot], NIL), allowance)
    }

    /// Raises the allowance of the slot `at` to at least `delta`.
    pub(super) fn allow(&mut self, at: Filed, delta: u64) {
        let allowance = &mut self.allowance[at.index()];
        *allowance = (*allowance).max(delta);
    }

    /// The allowance of the slot `at` (see [`Wheel::allowance`]).
    pub(super) fn allowance(&self, at: Filed) -> u64 {
        self.allowance[at.index()]
    }

    /// The first occupied slot after tick `now`, the wheel's time: the
    /// lowest occupied slot of the lowest occupied level (see the module's
    /// invariant). Eight loads at most.
    pub(super) fn next_slot(&self, now: u64) -> Option<Due> {
        let (level, lv) = self
            .levels
            .iter()
            .enumerate()
            .find(|(_, lv)| lv.occupied != 0)?;
        let slot = lv.occupied.trailing_zeros() as usize;
        let shift = LEVEL_BITS * level as u32;
        // The time's digits above this level, then the slot's digit.
        let above = (now >> (shift + LEVEL_BITS)) << (shift + LEVEL_BITS);
        let start_tick = above | ((slot as u64) << shift);
        debug_assert!(start_tick > now, "a slot behind the wheel's time");
        Some(Due {
            level,
            slot,
            start: start_tick << TICK_BITS,
        })
    }

    /// Whether no slot holds an entry.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.levels.iter().all(|lv| lv.occupied == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_in_the_current_tick_or_before_belongs_to_no_level() {
        assert_eq!(level_for(100, 100), None);
        assert_eq!(level_for(100, 7), None);
    }

    #[test]
    fn the_level_is_the_highest_digit_in_which_the_ticks_differ() {
        assert_eq!(level_for(0, 1), Some(0));
        assert_eq!(level_for(0, 63), Some(0));
        assert_eq!(level_for(0, 64), Some(1));
        assert_eq!(level_for(63, 64), Some(1), "crossing a digit boundary");
        assert_eq!(level_for(64, 127), Some(0));
        assert_eq!(level_for(0, 1 << 47), Some(7));
        assert_eq!(level_for(0, tick(u64::MAX)), Some(7), "the last tick");
    }

    #[test]
    fn filing_and_unlinking_keep_the_lists_and_bitmaps_right() {
        let mut links = vec![Links::NONE; 4];
        let mut w = Wheel::new();
        let at: Vec<Filed> = (0..4).map(|k| w.file(&mut links, k, 5, 0)).collect();
        assert_eq!(
            w.next_slot(0),
            Some(Due {
                level: 0,
                slot: 5,
                start: 5 << TICK_BITS
            })
        );
        // Unlink the middle, the head, the tail, then the last one.
        for k in [2, 3, 0, 1] {
            w.unlink(&mut links, k, at[k as usize]);
        }
        assert!(w.is_empty());
        assert!(links.iter().all(|l| *l == Links::NONE));
    }

    #[test]
    fn the_next_slot_is_the_lowest_level_first() {
        let mut links = vec![Links::NONE; 2];
        let mut w = Wheel::new();
        let now = 3 * 64 + 10; // digits (3, 10)
        let far = 5 * 64 + 2; // differs at level 1
        let near = 3 * 64 + 40; // differs at level 0
        w.file(&mut links, 0, far, level_for(now, far).unwrap());
        w.file(&mut links, 1, near, level_for(now, near).unwrap());
        let due = w.next_slot(now).unwrap();
        assert_eq!((due.level, due.start), (0, near << TICK_BITS));
        let (first, allowance) = w.take(0, due.slot);
        assert_eq!((first, allowance), (1, 0));
        let due = w.next_slot(now).unwrap();
        assert_eq!((due.level, due.start), (1, (5 * 64) << TICK_BITS));
    }
}
