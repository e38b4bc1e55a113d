//! Readiness: what the reactor knows about one source, packed in one word.
//!
//! Set by the reactor when `epoll_wait` reports an event; read and cleared
//! by the registration when a task tries a syscall. Single-threaded, so a
//! `Cell` suffices: no atomics on the hot path.
//!
//! The readiness bits are the kernel's own `EPOLL*` bits, kept as epoll
//! reports them (masked to the six that matter), so recording an event is
//! one `and` and one `or`, with no translation:
//!
//! ```text
//!  bit  31 ........... 14  13      12..5   4    3    2     1     0
//!       |      tick      | RDHUP |   -   | HUP | ERR | OUT | PRI | IN |
//! ```
//!
//! | bits           | mean                          | cleared                        |
//! |----------------|-------------------------------|--------------------------------|
//! | `IN`, `PRI`    | readable                      | by a read that saw `EAGAIN`, or a short read |
//! | `OUT`          | writable                      | by a write that saw `EAGAIN`, or a short write |
//! | `RDHUP`        | the peer shut its writing half | never: a closed direction stays closed |
//! | `HUP`          | both directions are closed    | never                          |
//! | `ERR`          | a pending socket error        | with either direction          |
//!
//! A reader may go ahead when `IN`, `PRI`, `RDHUP`, `HUP` or `ERR` is set
//! (the syscall will return data, EOF or the error); a writer when `OUT`,
//! `HUP` or `ERR` is.
//!
//! The **tick** counts events dispatched to this source. A task that tried a
//! syscall under readiness observed at tick `t` may clear readiness only if
//! the tick is still `t`: if an event arrived in between, the clear is
//! skipped and the next try runs instead of waiting for an edge that has
//! already come and gone. On one thread events are dispatched only between
//! polls, so this cannot happen inside a single `poll_io` loop today; the
//! tick makes that a checked property rather than an accident of scheduling
//! (async-io and tokio keep one for the same reason). It wraps after 2^18
//! events, far more than can arrive between a read of the state and its
//! clear.

use crate::sys::epoll::flags::{ERR, HUP, IN, OUT, PRI, RDHUP};

/// A direction a task waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// A set of readiness bits (`EPOLL*` bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Ready(u32);

impl Ready {
    #[cfg(test)]
    pub(crate) const EMPTY: Ready = Ready(0);
    #[cfg(test)]
    pub(crate) const READABLE: Ready = Ready(IN);
    #[cfg(test)]
    pub(crate) const WRITABLE: Ready = Ready(OUT);

    /// The bits the reactor keeps; everything else in an event is ignored.
    const MASK: u32 = IN | PRI | OUT | ERR | HUP | RDHUP;
    const TICK_SHIFT: u32 = 14;

    /// Keeps the kernel's event bits that matter.
    #[inline]
    pub(crate) fn from_epoll(events: u32) -> Ready {
        Ready(events & Self::MASK)
    }

    /// The bits that let a task in `dir` go ahead and try its syscall: the
    /// direction's own bits, its closed bits (the syscall will report EOF or
    /// `EPIPE`), or an error (the syscall will report it).
    #[inline]
    pub(crate) fn satisfies(dir: Direction) -> Ready {
        match dir {
            Direction::Read => Ready(IN | PRI | RDHUP | HUP | ERR),
            Direction::Write => Ready(OUT | HUP | ERR),
        }
    }

    /// The bits that `EAGAIN` in `dir` proves stale. Closed bits are never
    /// cleared: once the kernel reported a hang-up, no new edge will follow.
    #[inline]
    pub(crate) fn cleared_by(dir: Direction) -> Ready {
        match dir {
            Direction::Read => Ready(IN | PRI | ERR),
            Direction::Write => Ready(OUT | ERR),
        }
    }

    /// The bits as the public [`io::Ready`](crate::io::Ready) names them
    /// (for the sockets' `ready(Interest)`): readable, writable, read
    /// closed, write closed, error.
    #[cfg(feature = "net")]
    pub(crate) fn parts(self) -> [bool; 5] {
        let has = |bits: u32| self.0 & bits != 0;
        [
            has(IN | PRI),
            has(OUT),
            has(RDHUP | HUP),
            has(HUP),
            has(ERR),
        ]
    }

    #[inline]
    pub(crate) fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }

    #[cfg(test)]
    pub(crate) fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

/// Readiness and tick, packed (see the module docs for the layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct State(u32);

impl State {
    #[inline]
    pub(crate) fn ready(self) -> Ready {
        Ready(self.0 & Ready::MASK)
    }

    #[inline]
    pub(crate) fn tick(self) -> u32 {
        self.0 >> Ready::TICK_SHIFT
    }

    /// An event arrived: add its bits and advance the tick (wrapping: the
    /// shift drops the carry out of bit 31).
    #[inline]
    pub(crate) fn with_event(self, ready: Ready) -> State {
        State(self.0.wrapping_add(1 << Ready::TICK_SHIFT) | ready.0)
    }

    /// The same tick with no readiness at all (the runtime stops running).
    #[inline]
    pub(crate) fn without_ready(self) -> State {
        State(self.0 & !Ready::MASK)
    }

    /// Adds `ready` back without advancing the tick: no event arrived.
    #[inline]
    pub(crate) fn with_ready(self, ready: Ready) -> State {
        State(self.0 | ready.0)
    }

    /// Clears `bits` if no event arrived since `tick` was observed.
    #[inline]
    pub(crate) fn cleared(self, bits: Ready, tick: u32) -> State {
        if self.tick() == tick {
            State(self.0 & !bits.0)
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_sets_bits_and_advances_the_tick() {
        let s = State::default().with_event(Ready::READABLE);
        assert!(s.ready().contains(Ready::READABLE));
        assert_eq!(s.tick(), 1);
    }

    #[test]
    fn clearing_with_the_current_tick_removes_the_direction() {
        let s = State::default().with_event(Ready::READABLE | Ready::WRITABLE);
        let s = s.cleared(Ready::cleared_by(Direction::Read), s.tick());
        assert!(!s.ready().intersects(Ready::READABLE));
        assert!(s.ready().contains(Ready::WRITABLE));
    }

    #[test]
    fn clearing_with_a_stale_tick_keeps_the_newer_edge() {
        let s = State::default().with_event(Ready::READABLE);
        let seen = s.tick();
        let s = s.with_event(Ready::READABLE);
        let s = s.cleared(Ready::cleared_by(Direction::Read), seen);
        assert!(s.ready().contains(Ready::READABLE));
    }

    #[test]
    fn hidden_readiness_comes_back_with_the_same_tick() {
        let s = State::default().with_event(Ready::READABLE | Ready::WRITABLE);
        let hidden = s.without_ready();
        assert_eq!(hidden.ready(), Ready::EMPTY);
        assert_eq!(hidden.tick(), s.tick());
        assert_eq!(hidden.with_ready(s.ready()), s);
    }

    #[test]
    fn closed_bits_survive_a_clear() {
        let s = State::default().with_event(Ready::from_epoll(libc::EPOLLRDHUP as u32));
        let s = s.cleared(Ready::cleared_by(Direction::Read), s.tick());
        assert!(s.ready().intersects(Ready::satisfies(Direction::Read)));
    }

    #[test]
    fn an_error_satisfies_both_directions_and_a_clear_removes_it() {
        let s = State::default().with_event(Ready::from_epoll(libc::EPOLLERR as u32));
        assert!(s.ready().intersects(Ready::satisfies(Direction::Read)));
        assert!(s.ready().intersects(Ready::satisfies(Direction::Write)));
        let s = s.cleared(Ready::cleared_by(Direction::Write), s.tick());
        assert_eq!(s.ready(), Ready::EMPTY);
    }

    #[test]
    fn a_hang_up_satisfies_both_directions_for_good() {
        let s = State::default().with_event(Ready::from_epoll(libc::EPOLLHUP as u32));
        let s = s.cleared(Ready::cleared_by(Direction::Read), s.tick());
        let s = s.cleared(Ready::cleared_by(Direction::Write), s.tick());
        assert!(s.ready().intersects(Ready::satisfies(Direction::Read)));
        assert!(s.ready().intersects(Ready::satisfies(Direction::Write)));
    }

    #[test]
    fn urgent_data_is_readable_and_unknown_bits_are_dropped() {
        let s = State::default().with_event(Ready::from_epoll(
            (libc::EPOLLPRI | libc::EPOLLET | libc::EPOLLMSG) as u32,
        ));
        assert!(s.ready().intersects(Ready::satisfies(Direction::Read)));
        assert!(!s.ready().intersects(Ready::satisfies(Direction::Write)));
        assert_eq!(s.tick(), 1);
        let s = s.cleared(Ready::cleared_by(Direction::Read), s.tick());
        assert_eq!(s.ready(), Ready::EMPTY);
    }

    #[cfg(feature = "net")]
    #[test]
    fn parts_name_the_bits_as_io_ready_does() {
        // [readable, writable, read closed, write closed, error]
        let parts = |bits: u32| Ready::from_epoll(bits).parts();
        assert_eq!(parts(IN), [true, false, false, false, false]);
        assert_eq!(parts(PRI), [true, false, false, false, false]);
        assert_eq!(parts(OUT), [false, true, false, false, false]);
        assert_eq!(parts(IN | RDHUP), [true, false, true, false, false]);
        assert_eq!(parts(HUP), [false, false, true, true, false]);
        assert_eq!(parts(ERR | OUT), [false, true, false, false, true]);
    }

    #[test]
    fn the_tick_wraps_without_touching_the_bits() {
        let mut s = State((u32::MAX >> Ready::TICK_SHIFT) << Ready::TICK_SHIFT);
        assert_eq!(s.tick(), u32::MAX >> Ready::TICK_SHIFT);
        s = s.with_event(Ready::WRITABLE);
        assert_eq!(s.tick(), 0);
        assert_eq!(s.ready(), Ready::WRITABLE);
    }
}
