//! Weak senders: [`WeakSender`] and [`WeakUnboundedSender`], which keep
//! the channel's memory but not the channel open.
//!
//! Made by `Sender::downgrade` / `UnboundedSender::downgrade`. The
//! channel counts them apart from the strong senders (`chan.rs`,
//! `weak_senders`): the receiver sees the end when the last *strong*
//! sender goes, and from then on [`upgrade`](WeakSender::upgrade) fails.

use std::fmt;
use std::sync::Arc;

use super::bounded::Sender;
use super::chan::Chan;
use super::unbounded::UnboundedSender;

/// A sender of a bounded channel that does not keep it open.
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

/// A sender of an unbounded channel that does not keep it open.
pub struct WeakUnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

macro_rules! weak {
    ($weak:ident, $strong:ident) => {
        impl<T> $weak<T> {
            pub(super) fn new(chan: Arc<Chan<T>>) -> $weak<T> {
                chan.lock().weak_senders += 1;
                $weak { chan }
            }

            /// A strong sender, unless every strong sender is gone.
            pub fn upgrade(&self) -> Option<$strong<T>> {
                self.chan.upgrade().then(|| $strong {
                    chan: self.chan.clone(),
                })
            }

            /// How many strong senders there are.
            pub fn strong_count(&self) -> usize {
                self.chan.lock().senders
            }

            /// How many weak senders there are.
            pub fn weak_count(&self) -> usize {
                self.chan.lock().weak_senders
            }
        }

        impl<T> Clone for $weak<T> {
            fn clone(&self) -> $weak<T> {
                $weak::new(self.chan.clone())
            }
        }

        impl<T> Drop for $weak<T> {
            fn drop(&mut self) {
                self.chan.lock().weak_senders -= 1;
            }
        }

        impl<T> fmt::Debug for $weak<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($weak)).finish_non_exhaustive()
            }
        }
    };
}

weak!(WeakSender, Sender);
weak!(WeakUnboundedSender, UnboundedSender);
