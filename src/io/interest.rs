//! [`Interest`] (what a task wants to wait for) and [`Ready`] (what a
//! socket turned out to be ready for), tokio's two small readiness types,
//! for the sockets' `ready(Interest)`.
//!
//! Called by user code and by `net`'s `ready` methods, which wait through
//! `io/registered.rs` (`Registered::ready_for`) and build a [`Ready`] from
//! the reactor's cached bits (`reactor/readiness.rs`). Both are bit sets
//! in a byte; nothing here touches the OS.
//!
//! | `Ready` bit | set when epoll reported | a `try_*` call in that direction will |
//! | --- | --- | --- |
//! | `READABLE` | `EPOLLIN` or `EPOLLPRI` | return data (or `WouldBlock` if readiness was spurious) |
//! | `WRITABLE` | `EPOLLOUT` | accept bytes |
//! | `READ_CLOSED` | `EPOLLRDHUP` or `EPOLLHUP` | return end of stream |
//! | `WRITE_CLOSED` | `EPOLLHUP` | fail (`BrokenPipe`) |
//! | `ERROR` | `EPOLLERR` | return the pending error |
//!
//! As in tokio, [`Ready::is_readable`] is also true when the read side is
//! closed, and [`Ready::is_writable`] when the write side is: in both
//! cases the next call returns at once.

use std::fmt;
use std::ops;

/// What to wait for: readable, writable, or both (`Interest::READABLE |
/// Interest::WRITABLE`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Interest(u8);

const READ: u8 = 0b0001;
const WRITE: u8 = 0b0010;
const READ_CLOSED: u8 = 0b0100;
const WRITE_CLOSED: u8 = 0b1000;
const ERROR: u8 = 0b1_0000;

impl Interest {
    /// Interest in reading.
    pub const READABLE: Interest = Interest(READ);
    /// Interest in writing.
    pub const WRITABLE: Interest = Interest(WRITE);

    /// Whether reading is of interest.
    pub const fn is_readable(self) -> bool {
        self.0 & READ != 0
    }

    /// Whether writing is of interest.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITE != 0
    }

    /// Both interests: `self | other`, usable in a `const`.
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `self` without `other`; `None` if nothing would be left.
    #[must_use]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        let left = self.0 & !other.0;
        (left != 0).then_some(Interest(left))
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(none)"),
        }
    }
}

/// What a socket was found ready for (see the module docs for each bit).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Ready(u8);

impl Ready {
    /// Nothing.
    pub const EMPTY: Ready = Ready(0);
    /// Readable.
    pub const READABLE: Ready = Ready(READ);
    /// Writable.
    pub const WRITABLE: Ready = Ready(WRITE);
    /// The read side is closed: reads return end of stream.
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);
    /// The write side is closed: writes fail.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);
    /// An error is pending.
    pub const ERROR: Ready = Ready(ERROR);
    /// Every bit.
    pub const ALL: Ready = Ready(READ | WRITE | READ_CLOSED | WRITE_CLOSED | ERROR);

    /// Built by the sockets' `ready` from the reactor's bits.
    pub(crate) fn from_parts(
        readable: bool,
        writable: bool,
        read_closed: bool,
        write_closed: bool,
        error: bool,
    ) -> Ready {
        let bit = |on: bool, b: u8| if on { b } else { 0 };
        Ready(
            bit(readable, READ)
                | bit(writable, WRITE)
                | bit(read_closed, READ_CLOSED)
                | bit(write_closed, WRITE_CLOSED)
                | bit(error, ERROR),
        )
    }

    /// Keeps only what `interest` asked about (the error bit always stays).
    pub(crate) fn intersection(self, interest: Interest) -> Ready {
        let mut mask = ERROR;
        if interest.is_readable() {
            mask |= READ | READ_CLOSED;
        }
        if interest.is_writable() {
            mask |= WRITE | WRITE_CLOSED;
        }
        Ready(self.0 & mask)
    }

    /// Whether no bit is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Readable, or the read side is closed.
    pub fn is_readable(self) -> bool {
        self.0 & (READ | READ_CLOSED) != 0
    }

    /// Writable, or the write side is closed.
    pub fn is_writable(self) -> bool {
        self.0 & (WRITE | WRITE_CLOSED) != 0
    }

    /// The read side is closed.
    pub fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }

    /// The write side is closed.
    pub fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED != 0
    }

    /// An error is pending.
    pub fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl ops::Sub for Ready {
    type Output = Ready;
    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("is_readable", &self.is_readable())
            .field("is_writable", &self.is_writable())
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .field("is_error", &self.is_error())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interests_combine_and_come_apart() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert!(both.is_readable() && both.is_writable());
        assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
        assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
    }

    #[test]
    fn a_closed_side_counts_as_ready_in_its_direction() {
        let r = Ready::READ_CLOSED;
        assert!(r.is_readable() && !r.is_writable() && r.is_read_closed());
        let w = Ready::WRITE_CLOSED;
        assert!(w.is_writable() && !w.is_readable());
    }

    #[test]
    fn intersection_keeps_the_asked_direction_and_errors() {
        let all = Ready::ALL;
        let r = all.intersection(Interest::READABLE);
        assert!(r.is_readable() && r.is_error() && !r.is_writable());
        assert_eq!(
            Ready::ALL - Ready::ERROR - r,
            Ready::WRITABLE | Ready::WRITE_CLOSED
        );
    }
}
