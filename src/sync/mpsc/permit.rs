//! Reserved slots of a bounded channel: [`Permit`], [`OwnedPermit`] and
//! [`PermitIterator`], from `Sender::reserve`, `reserve_owned` and
//! `reserve_many` (and their `try_` forms).
//!
//! A permit stands for one slot already taken from the channel's free
//! slots (`chan.rs`), so sending through it never waits and never finds
//! the channel full. Dropping it unused gives the slot back, to the first
//! waiting sender if there is one (`Chan::release_slots`).
//!
//! | permit | holds | `send(v)` |
//! |--------|-------|-----------|
//! | `Permit<'a, T>` | a borrow of the sender's channel | queues `v`; consumes the permit |
//! | `OwnedPermit<T>` | the `Sender` itself | queues `v`; gives the `Sender` back |
//! | `PermitIterator<'a, T>` | `n` slots | yields `n` `Permit`s; unused ones go back when it drops |
//!
//! If the receiver closed after the slot was reserved, `send` drops the
//! value (as tokio's does).

use std::fmt;

use super::bounded::Sender;
use super::chan::Chan;

/// One reserved slot: [`send`](Self::send) cannot wait or fail.
#[must_use = "dropping the permit gives its slot back"]
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

impl<'a, T> Permit<'a, T> {
    pub(super) fn new(chan: &'a Chan<T>) -> Permit<'a, T> {
        Permit { chan }
    }

    /// Queues `value` in the reserved slot.
    pub fn send(self, value: T) {
        let chan = self.chan;
        // The slot is used: the permit must not give it back.
        std::mem::forget(self);
        push(chan, value);
    }
}

/// Queues `value` into a reserved slot, or drops it (unlocked) if the
/// receiver is gone.
fn push<T>(chan: &Chan<T>, value: T) {
    let state = chan.lock();
    if state.rx_closed {
        drop(state);
        drop(value);
        return;
    }
    chan.push(state, value);
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release_slots(1);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// One reserved slot that owns its [`Sender`] (from
/// [`Sender::reserve_owned`]); the sender comes back when it is used.
#[must_use = "dropping the permit gives its slot back"]
pub struct OwnedPermit<T> {
    /// `None` once used.
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    pub(super) fn new(sender: Sender<T>) -> OwnedPermit<T> {
        OwnedPermit {
            sender: Some(sender),
        }
    }

    /// Queues `value` in the reserved slot and gives the sender back.
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.take_sender();
        push(&sender.chan, value);
        sender
    }

    /// Gives the slot back unused, and the sender with it.
    pub fn release(mut self) -> Sender<T> {
        let sender = self.take_sender();
        sender.chan.release_slots(1);
        sender
    }

    /// Whether both permits belong to the same channel.
    pub fn same_channel(&self, other: &OwnedPermit<T>) -> bool {
        match (&self.sender, &other.sender) {
            (Some(a), Some(b)) => a.same_channel(b),
            _ => false,
        }
    }

    fn take_sender(&mut self) -> Sender<T> {
        self.sender
            .take()
            .expect("ember::sync::mpsc::OwnedPermit holds its sender until used")
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = &self.sender {
            sender.chan.release_slots(1);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

/// `n` reserved slots (from [`Sender::reserve_many`]), yielding one
/// [`Permit`] each; the slots not taken go back when it drops.
#[must_use = "dropping the iterator gives its slots back"]
pub struct PermitIterator<'a, T> {
    chan: &'a Chan<T>,
    n: usize,
}

impl<'a, T> PermitIterator<'a, T> {
    pub(super) fn new(chan: &'a Chan<T>, n: usize) -> PermitIterator<'a, T> {
        PermitIterator { chan, n }
    }
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        self.n = self.n.checked_sub(1)?;
        Some(Permit::new(self.chan))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n, Some(self.n))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        self.chan.release_slots(self.n);
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}
