//! A `Runtime` kept in a `thread_local!` drops cleanly when its thread
//! ends, whichever of it and ember's own thread-local is destroyed first,
//! with tasks alive (parked, sleeping, in `accept` on a socket) and
//! destructors that spawn and wake: every task is dropped, the socket is
//! closed, and the process goes on.
//!
//! A thread's thread-locals are destroyed in the reverse order of their
//! first use. A runtime that outlived ember's own would once panic in its
//! drop, and a panic in a thread-local's destructor aborts the process: so
//! each scenario runs in a child process (the test re-runs itself), in a
//! thread that it joins.
#![cfg(all(feature = "net", feature = "time"))]

mod support;

use std::cell::RefCell;
use std::future::poll_fn;
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::Duration;

use ember::task::yield_now;

thread_local! {
    static RT: ember::Runtime = ember::Runtime::new().expect("a runtime");
}

/// Counts its drops.
struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// What `ember::spawn` did from a destructor run by the teardown.
const SPAWN_UNTRIED: u8 = 0;
const SPAWN_WORKED: u8 = 1;
const SPAWN_PANICKED: u8 = 2;

/// Tries to spawn from its destructor, and records how that went: it tells
/// whether the teardown ran with its runtime current, so which of the two
/// thread-locals went first.
struct SpawnsOnDrop(Arc<AtomicU8>);

impl Drop for SpawnsOnDrop {
    fn drop(&mut self) {
        let spawned = catch_unwind(|| drop(ember::spawn(async {})));
        let seen = match spawned {
            Ok(()) => SPAWN_WORKED,
            Err(_) => SPAWN_PANICKED,
        };
        self.0.store(seen, Ordering::SeqCst);
    }
}

/// Wakes its waker when dropped.
struct WakesOnDrop(Waker);

impl Drop for WakesOnDrop {
    fn drop(&mut self) {
        self.0.wake_by_ref();
    }
}

/// What a scenario saw once its thread had ended.
struct Ended {
    tasks_dropped: usize,
    spawn_in_teardown: u8,
    listener_addr: std::net::SocketAddr,
}

/// Runs a thread that keeps a runtime in [`RT`], with four tasks alive in
/// it, and lets the thread end; returns what the teardown did. With
/// `ember_first`, ember's thread-local is used before [`RT`] (so it is
/// destroyed after it); otherwise after (so it is destroyed first).
fn scenario(ember_first: bool) -> Ended {
    let dropped = Arc::new(AtomicUsize::new(0));
    let spawn_seen = Arc::new(AtomicU8::new(SPAWN_UNTRIED));
    let (d, s) = (dropped.clone(), spawn_seen.clone());
    let thread = std::thread::spawn(move || {
        if ember_first {
            ember::block_on(async {});
        } else {
            RT.with(|_| ());
        }
        RT.with(|rt| {
            let guard = Guard(d.clone());
            rt.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
            let guard = Guard(d.clone());
            rt.spawn(async move {
                let _guard = guard;
                ember::time::sleep(Duration::from_secs(3600)).await
            });
            let (guard, probe) = (Guard(d.clone()), SpawnsOnDrop(s));
            rt.spawn(async move {
                let _guards = (guard, probe);
                // Its destructor also wakes (its own task, now gone).
                let _wakes = WakesOnDrop(poll_fn(|cx| Poll::Ready(cx.waker().clone())).await);
                std::future::pending::<()>().await
            });
            let guard = Guard(d);
            rt.block_on(async move {
                let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
                let listener = ember::net::TcpListener::from_std(std_listener).expect("from_std");
                let addr = listener.local_addr().expect("local_addr");
                ember::spawn(async move {
                    let _guard = guard;
                    let _ = listener.accept().await;
                });
                // Every task runs once and parks.
                for _ in 0..3 {
                    yield_now().await;
                }
                assert_eq!(ember::runtime::stats().tasks_alive, 4);
                addr
            })
        })
        // The thread ends here; its thread-locals are destroyed.
    });
    let listener_addr = thread.join().expect("the thread ended normally");
    Ended {
        tasks_dropped: dropped.load(Ordering::SeqCst),
        spawn_in_teardown: spawn_seen.load(Ordering::SeqCst),
        listener_addr,
    }
}

/// Checks what both orders must give: every task dropped, the socket
/// closed.
fn assert_torn_down(ended: &Ended) {
    assert_eq!(ended.tasks_dropped, 4, "every task was dropped");
    let refused = std::net::TcpStream::connect(ended.listener_addr)
        .expect_err("the listener is closed once its runtime is gone");
    assert_eq!(
        refused.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{refused:?}"
    );
}

#[test]
fn a_thread_local_runtime_destroyed_after_embers_own_drops_every_task() {
    if !support::in_child("a_thread_local_runtime_destroyed_after_embers_own_drops_every_task") {
        return;
    }
    let ended = support::within(support::LIMIT, || scenario(false));
    assert_torn_down(&ended);
    assert_eq!(
        ended.spawn_in_teardown, SPAWN_PANICKED,
        "the order under test: ember's thread-local was gone, so no runtime was current"
    );
}

#[test]
fn a_thread_local_runtime_destroyed_before_embers_own_drops_every_task() {
    if !support::in_child("a_thread_local_runtime_destroyed_before_embers_own_drops_every_task") {
        return;
    }
    let ended = support::within(support::LIMIT, || scenario(true));
    assert_torn_down(&ended);
    assert_eq!(
        ended.spawn_in_teardown, SPAWN_WORKED,
        "the order under test: the dying runtime was current during its teardown"
    );
}

/// Runs `block_on` from its destructor, and records how that went.
struct BlocksOnWhenDropped(Arc<AtomicU8>);

const BLOCK_ON_RAN: u8 = 1;
const BLOCK_ON_PANICKED_CLEARLY: u8 = 2;
const BLOCK_ON_PANICKED_OTHERWISE: u8 = 3;

impl Drop for BlocksOnWhenDropped {
    fn drop(&mut self) {
        let seen = match catch_unwind(|| ember::block_on(async {})) {
            Ok(()) => BLOCK_ON_RAN,
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                if msg.starts_with("`block_on` called while its thread is ending") {
                    BLOCK_ON_PANICKED_CLEARLY
                } else {
                    eprintln!("unexpected message: {msg}");
                    BLOCK_ON_PANICKED_OTHERWISE
                }
            }
        };
        self.0.store(seen, Ordering::SeqCst);
    }
}

#[test]
fn block_on_in_a_thread_local_destructor_after_embers_own_is_gone_panics_with_a_clear_message() {
    if !support::in_child(
        "block_on_in_a_thread_local_destructor_after_embers_own_is_gone_panics_with_a_clear_message",
    ) {
        return;
    }
    thread_local! {
        static LATE: RefCell<Option<BlocksOnWhenDropped>> = const { RefCell::new(None) };
    }
    let seen = Arc::new(AtomicU8::new(0));
    let s = seen.clone();
    support::within(support::LIMIT, move || {
        std::thread::spawn(move || {
            // Used first, so destroyed after ember's thread-local.
            LATE.with(|late| *late.borrow_mut() = Some(BlocksOnWhenDropped(s)));
            ember::block_on(async {});
        })
        .join()
        .expect("the thread ended normally");
    });
    assert_eq!(seen.load(Ordering::SeqCst), BLOCK_ON_PANICKED_CLEARLY);
}
