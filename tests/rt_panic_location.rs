//! A misuse panic (`spawn` and friends outside a runtime, a nested
//! `block_on`, `into_panic` on a cancelled task) points at the caller's
//! line, not at ember's source: the functions on the way are
//! `#[track_caller]`, and none panics inside a closure.
//!
//! This file installs a panic hook that records each panic's location (in
//! the panicking thread, so the tests do not see each other's), then calls
//! the one it replaced. A file of its own, so the hook disturbs no other
//! test.

mod support;

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// The file and line of this thread's last panic.
    static LAST: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns where the panic hook says it
/// panicked.
fn panic_location(f: impl FnOnce()) -> (String, u32) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| (l.file().to_string(), l.line()));
            let _ = LAST.try_with(|last| *last.borrow_mut() = at);
            previous(info);
        }));
    });
    LAST.with(|last| last.borrow_mut().take());
    catch_unwind(AssertUnwindSafe(f)).expect_err("the call must panic");
    LAST.with(|last| last.borrow_mut().take())
        .expect("the hook saw the panic")
}

#[test]
fn spawn_outside_a_runtime_panics_at_the_callers_line() {
    let line = line!() + 1;
    let at = panic_location(|| drop(ember::spawn(async {})));
    assert_eq!(at, (file!().to_string(), line));
}

#[test]
fn join_set_spawn_outside_a_runtime_panics_at_the_callers_line() {
    let mut set = ember::task::JoinSet::new();
    let line = line!() + 1;
    let at = panic_location(|| drop(set.spawn(async {})));
    assert_eq!(at, (file!().to_string(), line));
}

#[test]
fn spawn_blocking_outside_a_runtime_panics_at_the_callers_line() {
    let line = line!() + 1;
    let at = panic_location(|| drop(ember::spawn_blocking(|| {})));
    assert_eq!(at, (file!().to_string(), line));
}

#[test]
fn stats_outside_a_runtime_panics_at_the_callers_line() {
    let line = line!() + 2;
    let at = panic_location(|| {
        let _ = ember::runtime::stats();
    });
    assert_eq!(at, (file!().to_string(), line));
}

#[test]
fn a_nested_block_on_panics_at_the_callers_line() {
    let at = support::run(support::LIMIT, || async {
        let line = line!() + 1;
        let at = panic_location(|| ember::block_on(async {}));
        (at, line)
    });
    assert_eq!(at.0, (file!().to_string(), at.1));
}

#[test]
fn into_panic_on_a_cancelled_task_panics_at_the_callers_line() {
    let rt = ember::Runtime::new().expect("runtime");
    let handle = rt.spawn(std::future::pending::<()>());
    handle.abort();
    let err = rt.block_on(handle).expect_err("aborted");
    let line = line!() + 1;
    let at = panic_location(|| drop(err.into_panic()));
    assert_eq!(at, (file!().to_string(), line));
}
