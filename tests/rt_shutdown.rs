//! Runtime shutdown: dropping a runtime drops every task still pending (in
//! accept, read, a one-hour sleep, a yield loop), runs their destructors,
//! tolerates destructors that spawn, wake or panic, and closes every fd it
//! opened, also over a thousand runtimes.
//!
//! This file holds exactly ONE test: it compares `/proc/self/fd` before and
//! after, and tests of one binary run in parallel threads of one process, so
//! a second test would open and close fds under its feet.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

mod support;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Poll, Waker};
use std::time::Duration;

use ember::io::AsyncReadExt;
use ember::net::{TcpListener, TcpStream};

/// Counts its drops in a counter that outlives the runtime's thread.
struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Spawns a task from its destructor, which runs while the runtime shuts
/// down; records whether that spawn returned a handle of a finished task.
struct SpawnsOnDrop {
    spawned_guards: Arc<AtomicUsize>,
    spawned_finished: Arc<AtomicBool>,
}

impl Drop for SpawnsOnDrop {
    fn drop(&mut self) {
        let guard = Guard(self.spawned_guards.clone());
        let h = ember::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        // A task spawned during shutdown never runs: it is dropped at once.
        self.spawned_finished
            .store(h.is_finished(), Ordering::SeqCst);
    }
}

/// Wakes another task's waker from its destructor.
struct WakesOnDrop(Rc<RefCell<Option<Waker>>>, Arc<AtomicUsize>);

impl Drop for WakesOnDrop {
    fn drop(&mut self) {
        if let Some(w) = self.0.borrow_mut().take() {
            w.wake();
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Panics when dropped.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("a destructor panicked during shutdown (expected by the test)");
    }
}

/// A connected pair on loopback: (client side, server side).
async fn tcp_pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
    let addr = listener.local_addr().expect("local_addr");
    let client = TcpStream::connect(addr).await.expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    (client, server)
}

/// Runs `f` on a fresh thread, failing the test if it takes longer than
/// `limit`.
fn on_new_thread<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => {
            thread.join().expect("thread panicked after finishing");
            out
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the thread ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {limit:?}"),
    }
}

/// Builds pending tasks of every kind on the current runtime; returns how
/// many `Guard`s they hold.
async fn spawn_pending_tasks(
    guards: &Arc<AtomicUsize>,
    spawned_guards: &Arc<AtomicUsize>,
    spawned_finished: &Arc<AtomicBool>,
    wakes: &Arc<AtomicUsize>,
) -> usize {
    let mut expected = 0;

    // Blocked in accept.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let (client, server) = tcp_pair(&listener).await;
    let g = Guard(guards.clone());
    ember::spawn(async move {
        let _g = g;
        let _ = listener.accept().await;
        unreachable!("nobody connects");
    });
    expected += 1;

    // Blocked in read, on both sides of a connection.
    for mut stream in [client, server] {
        let g = Guard(guards.clone());
        ember::spawn(async move {
            let _g = g;
            let mut buf = [0u8; 16];
            let _ = stream.read(&mut buf).await;
            unreachable!("nobody writes");
        });
        expected += 1;
    }

    // Asleep for an hour.
    let g = Guard(guards.clone());
    ember::spawn(async move {
        let _g = g;
        ember::time::sleep(Duration::from_secs(3600)).await;
        unreachable!("the hour never ends");
    });
    expected += 1;

    // Yielding forever.
    for _ in 0..3 {
        let g = Guard(guards.clone());
        ember::spawn(async move {
            let _g = g;
            loop {
                ember::task::yield_now().await;
            }
        });
        expected += 1;
    }

    // Spawns from its destructor.
    let g = Guard(guards.clone());
    let spawner = SpawnsOnDrop {
        spawned_guards: spawned_guards.clone(),
        spawned_finished: spawned_finished.clone(),
    };
    ember::spawn(async move {
        let _g = g;
        let _spawner = spawner;
        std::future::pending::<()>().await;
    });
    expected += 1;

    // Wakes another pending task from its destructor: one whose future is
    // dropped before the waker's (it is earlier in the slab), and one whose
    // future is dropped after. Then one that wakes the `block_on` future.
    for waker_first in [false, true] {
        let slot: Rc<RefCell<Option<Waker>>> = Rc::default();
        let s = slot.clone();
        let g = Guard(guards.clone());
        let woken = async move {
            let _g = g;
            poll_fn(|cx| {
                *s.borrow_mut() = Some(cx.waker().clone());
                Poll::<()>::Pending
            })
            .await;
        };
        let g = Guard(guards.clone());
        let waker_of_other = WakesOnDrop(slot, wakes.clone());
        let waking = async move {
            let _g = g;
            let _w = waker_of_other;
            std::future::pending::<()>().await;
        };
        if waker_first {
            ember::spawn(waking);
            ember::spawn(woken);
        } else {
            ember::spawn(woken);
            ember::spawn(waking);
        }
        expected += 2;
    }
    let main_slot: Rc<RefCell<Option<Waker>>> = Rc::default();
    *main_slot.borrow_mut() = Some(poll_fn(|cx| Poll::Ready(cx.waker().clone())).await);
    let g = Guard(guards.clone());
    let w = WakesOnDrop(main_slot, wakes.clone());
    ember::spawn(async move {
        let _g = g;
        let _w = w;
        std::future::pending::<()>().await;
    });
    expected += 1;

    // Panics in its destructor: the runtime's drop catches it (as it
    // catches a panic in `poll`) and goes on dropping the others. (The
    // panic message shows up in the test's output; that is expected.)
    let g = Guard(guards.clone());
    ember::spawn(async move {
        let _g = g;
        let _p = PanicsOnDrop;
        std::future::pending::<()>().await;
    });
    expected += 1;

    // Let every task run into its wait.
    for _ in 0..3 {
        ember::task::yield_now().await;
    }
    let s = ember::runtime::stats();
    assert_eq!(
        s.tasks_alive, expected as u64,
        "every task is still pending"
    );
    assert_eq!(
        s.fds_registered, 3,
        "the listener and both streams are registered"
    );
    expected
}

/// One of many short-lived runtimes: a listener, a connected pair and a
/// task blocked in a read, all left for the runtime's drop to clean up.
async fn small_world(guards: Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let (client, mut server) = tcp_pair(&listener).await;
    let g = Guard(guards);
    ember::spawn(async move {
        let _g = g;
        let _client = client;
        let mut buf = [0u8; 8];
        let _ = server.read(&mut buf).await;
    });
    ember::task::yield_now().await;
    drop(listener);
}

#[test]
fn dropping_runtimes_drops_pending_tasks_and_closes_every_fd() {
    let fds_at_start = support::open_fds();

    // 1. One runtime, many kinds of pending tasks.
    let guards = Arc::new(AtomicUsize::new(0));
    let spawned_guards = Arc::new(AtomicUsize::new(0));
    let spawned_finished = Arc::new(AtomicBool::new(false));
    let wakes = Arc::new(AtomicUsize::new(0));
    let (g, sg, sf, w) = (
        guards.clone(),
        spawned_guards.clone(),
        spawned_finished.clone(),
        wakes.clone(),
    );
    // `support::run` returns after `block_on` has dropped the runtime.
    let expected = support::run(support::LIMIT, move || async move {
        let expected = spawn_pending_tasks(&g, &sg, &sf, &w).await;
        assert_eq!(g.load(Ordering::SeqCst), 0, "nothing dropped yet");
        expected
    });
    assert_eq!(
        guards.load(Ordering::SeqCst),
        expected,
        "every pending task's destructors ran when the runtime was dropped"
    );
    assert_eq!(
        spawned_guards.load(Ordering::SeqCst),
        1,
        "the task spawned during shutdown was dropped too"
    );
    assert!(
        spawned_finished.load(Ordering::SeqCst),
        "a task spawned during shutdown is finished at once (it never runs)"
    );
    assert_eq!(
        wakes.load(Ordering::SeqCst),
        3,
        "each waking destructor ran and woke its (dropped or not yet dropped) target"
    );
    assert_eq!(
        support::open_fds(),
        fds_at_start,
        "dropping the runtime left fds open"
    );

    // 2. A thousand runtimes, alternately through `ember::block_on` and a
    // hand-built `Runtime`; some of the latter never run at all.
    const RUNTIMES: usize = 1_000;
    let guards = Arc::new(AtomicUsize::new(0));
    let g = guards.clone();
    on_new_thread(support::LIMIT, move || {
        for i in 0..RUNTIMES {
            match i % 3 {
                0 => ember::block_on(small_world(g.clone())),
                1 => {
                    let rt = ember::Runtime::new().expect("runtime");
                    rt.block_on(small_world(g.clone()));
                    drop(rt);
                }
                _ => {
                    let rt = ember::Runtime::new().expect("runtime");
                    let ran = Rc::new(Cell::new(false));
                    let (r, guard) = (ran.clone(), Guard(g.clone()));
                    let h = rt.spawn(async move {
                        let _guard = guard;
                        r.set(true);
                    });
                    drop(rt);
                    assert!(!ran.get(), "a task ran without block_on");
                    assert!(h.is_finished(), "the runtime's drop finished the task");
                }
            }
        }
    });
    assert_eq!(guards.load(Ordering::SeqCst), RUNTIMES);
    assert_eq!(
        support::open_fds(),
        fds_at_start,
        "a thousand runtimes left fds open"
    );
}
