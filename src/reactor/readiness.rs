//! Readiness: what the reactor knows about one source, packed in one word.
//!
//! Set by the reactor when `epoll_wait` reports an event; read and cleared
//! by the registration when a task tries a syscall. Single-threaded, so a
//! `Cell` suffices: no atomics on the hot path.
//!
//! ```text
//!  bit  31 ................ 8   7   6   5      4      3       2       1   0
//!       |       tick        | - | - | ERR | WR_CLOSED | RD_CLOSED | W | R |
//! ```
//!
//! | bit       | set when the event has        | cleared                        |
//! |-----------|-------------------------------|--------------------------------|
//! | READABLE  | `EPOLLIN`, `EPOLLPRI`         | by a read that saw `EAGAIN`, or a short read |
//! | WRITABLE  | `EPOLLOUT`                    | by a write that saw `EAGAIN`, or a short write |
//! | RD_CLOSED | `EPOLLRDHUP`, `EPOLLHUP`      | never: a closed direction stays closed |
//! | WR_CLOSED | `EPOLLHUP`                    | never                          |
//! | ERROR     | `EPOLLERR`                    | with either direction          |
//!
//! The **tick** counts events dispatched to this source. A task that tried a
//! syscall under readiness observed at tick `t` may clear readiness only if
//! the tick is still `t`: if an event arrived in between, the clear is
//! skipped and the next try runs instead of waiting for an edge that has
//! already come and gone. On one thread events are dispatched only between
//! polls, so this cannot happen inside a single `poll_io` loop today; the
//! tick makes that a checked property rather than an accident of scheduling
//! (async-io and tokio keep one for the same reason).

/// A direction a task waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// A set of readiness bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Ready(u32);

impl Ready {
    #[cfg(test)]
    pub(crate) const EMPTY: Ready = Ready(0);
    pub(crate) const READABLE: Ready = Ready(1 << 0);
    pub(crate) const WRITABLE: Ready = Ready(1 << 1);
    pub(crate) const READ_CLOSED: Ready = Ready(1 << 2);
    pub(crate) const WRITE_CLOSED: Ready = Ready(1 << 3);
    pub(crate) const ERROR: Ready = Ready(1 << 4);

    const MASK: u32 = 0xff;
    const TICK_SHIFT: u32 = 8;

    /// Translates the kernel's event bits.
    pub(crate) fn from_epoll(events: u32) -> Ready {
        use crate::sys::epoll::flags::*;
        let mut r = 0;
        if events & (IN | PRI) != 0 {
            r |= Self::READABLE.0;
        }
        if events & OUT != 0 {
            r |= Self::WRITABLE.0;
        }
        if events & (RDHUP | HUP) != 0 {
            r |= Self::READ_CLOSED.0;
        }
        if events & HUP != 0 {
            r |= Self::WRITE_CLOSED.0;
        }
        if events & ERR != 0 {
            r |= Self::ERROR.0;
        }
        Ready(r)
    }

    /// The bits that let a task in `dir` go ahead and try its syscall: the
    /// direction's own bit, its closed bit (the syscall will report EOF or
    /// `EPIPE`), or an error (the syscall will report it).
    pub(crate) fn satisfies(dir: Direction) -> Ready {
        match dir {
            Direction::Read => Ready(Self::READABLE.0 | Self::READ_CLOSED.0 | Self::ERROR.0),
            Direction::Write => Ready(Self::WRITABLE.0 | Self::WRITE_CLOSED.0 | Self::ERROR.0),
        }
    }

    /// The bits that `EAGAIN` in `dir` proves stale. Closed bits are never
    /// cleared: once the kernel reported a hang-up, no new edge will follow.
    pub(crate) fn cleared_by(dir: Direction) -> Ready {
        match dir {
            Direction::Read => Ready(Self::READABLE.0 | Self::ERROR.0),
            Direction::Write => Ready(Self::WRITABLE.0 | Self::ERROR.0),
        }
    }

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
    pub(crate) fn ready(self) -> Ready {
        Ready(self.0 & Ready::MASK)
    }

    pub(crate) fn tick(self) -> u32 {
        self.0 >> Ready::TICK_SHIFT
    }

    /// An event arrived: add its bits and advance the tick.
    pub(crate) fn with_event(self, ready: Ready) -> State {
        let tick = self.tick().wrapping_add(1) & (u32::MAX >> Ready::TICK_SHIFT);
        State((tick << Ready::TICK_SHIFT) | self.ready().0 | ready.0)
    }

    /// Clears `bits` if no event arrived since `tick` was observed.
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
    fn the_tick_wraps_without_touching_the_bits() {
        let mut s = State((u32::MAX >> Ready::TICK_SHIFT) << Ready::TICK_SHIFT);
        s = s.with_event(Ready::WRITABLE);
        assert_eq!(s.tick(), 0);
        assert_eq!(s.ready(), Ready::WRITABLE);
    }
}
