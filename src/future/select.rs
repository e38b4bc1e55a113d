//! `select!`: wait for the first of several futures, drop the others, and
//! run the matching branch.
//!
//! The macro parses its branches one at a time (a `macro_rules!` muncher),
//! giving each one hygienic names of its own (its pinned future, its output
//! slot, its "disabled" flag; see `join.rs` for the trick) and its index.
//! The last step pins the futures in an inner block, polls them through
//! `poll_fn` starting at a random branch, and leaves the block with the
//! winner's index, so every future is dropped **before** the winner's
//! handler runs. The handler is outside any closure, so `break`, `continue`,
//! `return`, `?` and `.await` in it behave as written.

use std::cell::Cell;
use std::hash::{BuildHasher, RandomState};

/// Waits on several futures at once; the first to complete with an output
/// that matches its pattern wins, every other future is dropped, then the
/// winner's handler runs and gives the value of the whole `select!`.
///
/// ```text
/// select! {
///     [biased;]
///     <pattern> = <future> [, if <condition>] => <handler>,
///     ...
///     [else => <handler>]
/// }
/// ```
///
/// - **Fair**: each `select!` starts polling at a random branch, so a branch
///   that is always ready cannot starve the others. Write `biased;` first to
///   poll in the order written instead.
/// - **Patterns**: a branch whose output does not match its pattern is
///   disabled (its output dropped) and the others go on; so
///   `Some(msg) = rx.recv() =>` stops firing once the channel is closed.
/// - **Conditions**: `, if cond` disables the branch up front when `cond`
///   is false (its future is still created, never polled).
/// - **`else`**: runs when every branch is disabled; without it, that case
///   panics.
/// - The futures may borrow what the handlers use: they are all dropped
///   before the handler runs.
///
/// Usable as `ember::select!` or `ember::future::select!`, inside async code.
///
/// ```
/// use std::time::Duration;
/// use ember::sync::mpsc;
///
/// ember::block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     tx.send("hello").unwrap();
///     let mut got = Vec::new();
///     loop {
///         ember::select! {
///             Some(msg) = rx.recv() => got.push(msg),
///             _ = ember::time::sleep(Duration::from_millis(10)) => break,
///         }
///     }
///     assert_eq!(got, ["hello"]);
/// });
/// ```
///
/// # Cancel safety
/// When a branch wins, the other futures are dropped midway, so each should
/// be cancel safe, or you must accept what dropping it loses. ember's
/// receives (`mpsc` `recv`, `Notified`, `JoinSet::join_next`, `accept`,
/// `read`, sleeps) are cancel safe and fit a `select!` in a loop;
/// `read_exact`, `write_all` or a bounded `send` are not (see
/// `docs/cancellation.md`). Dropping the `select!` itself drops every
/// future it holds. A branch future that is created afresh at each turn
/// of a loop starts over: to keep one across turns, pin it outside the loop
/// and pass `&mut fut`.
///
/// # Why a macro and not `race(a, b)`
/// A function would need an `Either` (or an enum per arity) for outputs of
/// different types, could not disable branches by pattern, and would run
/// the handler inside the future, where `break` and `?` mean something
/// else. The macro is more code here and less at every call site.
#[macro_export]
macro_rules! select {
    // -- The end: pin, poll from a random start, drop all, run the winner.
    (@done ($biased:expr) [$($else:expr)?] [ $(
        ( ($($idx:tt)*) $fut:ident $out:ident $off:ident ($p:pat) ($e:expr) ($c:expr) ($h:expr) )
    )+ ]) => {{
        let branches: usize = 0usize $( + $crate::select!(@one $fut) )+;
        $( let mut $off: bool = !($c); )+
        $( let mut $out = ::core::option::Option::None; )+
        let start: usize = if $biased {
            0
        } else {
            $crate::future::__private::select_start(branches)
        };
        // The futures live only in this block: the winner's and the losers'
        // are all dropped when it ends, before any handler runs.
        let won: ::core::option::Option<usize> = {
            $( let mut $fut = ::core::pin::pin!(::core::future::IntoFuture::into_future($e)); )+
            $crate::future::poll_fn(|cx| {
                // Two passes: the branches from `start` on, then those before it.
                for pass in 0..2usize {
                    $(
                        let idx: usize = 0usize $($idx)*;
                        if !$off && ((idx >= start) == (pass == 0)) {
                            if let ::core::task::Poll::Ready(value) =
                                ::core::future::Future::poll($fut.as_mut(), cx)
                            {
                                #[allow(unused_variables, unused_mut, unreachable_patterns)]
                                let matched = match &value {
                                    $p => true,
                                    _ => false,
                                };
                                if matched {
                                    $out = ::core::option::Option::Some(value);
                                    return ::core::task::Poll::Ready(
                                        ::core::option::Option::Some(idx),
                                    );
                                }
                                // Finished without a match: this branch is out.
                                $off = true;
                            }
                        }
                    )+
                }
                if true $( && $off )+ {
                    ::core::task::Poll::Ready(::core::option::Option::None)
                } else {
                    ::core::task::Poll::Pending
                }
            })
            .await
        };
        match won {
            $(
                ::core::option::Option::Some(won) if won == 0usize $($idx)* => match $out {
                    ::core::option::Option::Some($p) => $h,
                    #[allow(unreachable_patterns)]
                    _ => ::core::unreachable!("`select!` branch won without its output"),
                },
            )+
            _ => $crate::select!(@else $($else)?),
        }
    }};
    (@one $x:ident) => { 1usize };
    (@else) => {
        ::core::panic!("all branches of `select!` are disabled and there is no `else` branch")
    };
    (@else $else:expr) => { $else };

    // -- Parsing, one branch at a time. State: (biased) [else] [branches] (index).
    (@parse $b:tt $else:tt $brs:tt $idx:tt) => {
        $crate::select!(@done $b $else $brs)
    };
    (@parse $b:tt [] $brs:tt $idx:tt else => $h:expr $(,)?) => {
        $crate::select!(@done $b [$h] $brs)
    };
    (@parse $b:tt $else:tt $brs:tt $idx:tt $p:pat = $e:expr $(, if $c:expr)? => $($rest:tt)*) => {
        $crate::select!(@handler $b $else $brs $idx ($p) ($e) (true $(&& $c)?) $($rest)*)
    };
    (@parse $($t:tt)*) => {
        ::core::compile_error!(
            "`select!` expects branches `pattern = future => handler,` and an optional \
             `else => handler` last"
        )
    };
    // A handler is a block (comma optional) or an expression (comma unless last).
    (@handler $b:tt $else:tt $brs:tt $idx:tt $p:tt $e:tt $c:tt $h:block, $($rest:tt)*) => {
        $crate::select!(@branch $b $else $brs $idx $p $e $c ($h) $($rest)*)
    };
    (@handler $b:tt $else:tt $brs:tt $idx:tt $p:tt $e:tt $c:tt $h:block $($rest:tt)*) => {
        $crate::select!(@branch $b $else $brs $idx $p $e $c ($h) $($rest)*)
    };
    (@handler $b:tt $else:tt $brs:tt $idx:tt $p:tt $e:tt $c:tt $h:expr, $($rest:tt)*) => {
        $crate::select!(@branch $b $else $brs $idx $p $e $c ($h) $($rest)*)
    };
    (@handler $b:tt $else:tt $brs:tt $idx:tt $p:tt $e:tt $c:tt $h:expr) => {
        $crate::select!(@branch $b $else $brs $idx $p $e $c ($h))
    };
    // Record the branch under fresh names; its index is the count so far.
    (@branch $b:tt $else:tt [$($brs:tt)*] ($($idx:tt)*) $p:tt $e:tt $c:tt $h:tt $($rest:tt)*) => {
        $crate::select!(@parse $b $else
            [$($brs)* ( ($($idx)*) fut out off $p $e $c $h )]
            ($($idx)* + 1usize)
            $($rest)*)
    };

    // -- Entry.
    (biased; $($t:tt)+) => { $crate::select!(@parse (true) [] [] () $($t)+) };
    ($($t:tt)+) => { $crate::select!(@parse (false) [] [] () $($t)+) };
}

thread_local! {
    /// xorshift64 state for [`select_start`], seeded per thread.
    static RNG: Cell<u64> = Cell::new(RandomState::new().hash_one(0x5e1ec7u64) | 1);
}

/// A random branch index in `0..n`, for `select!`'s fair start. Public only
/// for the macro.
#[doc(hidden)]
pub fn select_start(n: usize) -> usize {
    if n <= 1 {
        return 0;
    }
    let x = RNG.with(|rng| {
        let mut x = rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rng.set(x);
        x
    });
    // Multiply-shift instead of `%`: unbiased enough, and no division.
    ((u128::from(x >> 32) * n as u128) >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::select_start;

    #[test]
    fn select_start_covers_every_branch_and_stays_in_range() {
        let mut seen = [0u32; 5];
        for _ in 0..5_000 {
            let i = select_start(5);
            assert!(i < 5);
            seen[i] += 1;
        }
        // Each of 5 branches should come first about 1,000 times.
        assert!(seen.iter().all(|&n| n > 700), "{seen:?}");
        assert_eq!(select_start(1), 0);
        assert_eq!(select_start(0), 0);
    }
}
