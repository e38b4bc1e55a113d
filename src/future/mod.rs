//! Combining futures inside one task: [`join!`](crate::join) (all of them),
//! [`select!`](crate::select) (the first of them), and the small futures
//! [`poll_fn`], [`pending`] and [`ready`].
//!
//! `join!` (`join.rs`) and `select!` (`select.rs`) are `macro_rules!`
//! macros over std alone: no runtime, no `unsafe`. They run their futures
//! *in the calling task*: nothing is spawned, nothing needs `'static`, and
//! the futures may borrow locals. To run work in parallel with the caller
//! instead, `spawn` it (or use a [`JoinSet`](crate::task::JoinSet)).
//!
//! ```
//! use std::time::Duration;
//! use ember::future::{pending, ready};
//!
//! ember::block_on(async {
//!     let (a, b) = ember::join!(ready(1), async { 2 });
//!     assert_eq!(a + b, 3);
//!
//!     let winner = ember::select! {
//!         () = pending::<()>() => "never",
//!         _ = ember::time::sleep(Duration::from_millis(1)) => "the sleep",
//!     };
//!     assert_eq!(winner, "the sleep");
//! });
//! ```
//!
//! # Cancel safety of the small futures
//! `ready(v)` and `pending()` are cancel safe (dropping `ready` drops `v`);
//! `poll_fn` is what its closure makes it.

mod join;
mod select;

pub use std::future::{pending, poll_fn, ready, Pending, PollFn, Ready};

#[doc(inline)]
pub use crate::join;
#[doc(inline)]
pub use crate::select;
#[doc(inline)]
pub use crate::try_join;

/// What the macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use super::join::MaybeDone;
    pub use super::select::select_start;
}
