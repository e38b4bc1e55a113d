//! Re-entrancy: user code that the runtime calls (a task's `poll`, the
//! destructors of a task's future or output, wakers called by the reactor
//! and the timer store) may spawn, wake, abort and drop tasks, handles and
//! sockets, its own included, without a panic, a double borrow or a leak.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

mod support;

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use ember::task::{yield_now, JoinHandle};

/// Runs a closure when dropped.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// Counts its drops.
struct DropCount(Rc<Cell<u32>>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Counts its drops in a counter that outlives the runtime's thread.
struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A connected pair on loopback: (client side, server side).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let client = TcpStream::connect(addr).await.expect("connect");
    let (server, _) = listener.accept().await.expect("accept");
    (client, server)
}

type Slot<T> = Rc<RefCell<Option<T>>>;

/// A task pending until it is aborted, whose drop sets a flag.
fn spawn_victim(dropped: Rc<Cell<bool>>) -> JoinHandle<()> {
    ember::spawn(async move {
        let _g = OnDrop(move || dropped.set(true));
        std::future::pending::<()>().await;
    })
}

/// How the task holding a re-entrant guard ends.
#[derive(Clone, Copy, Debug)]
enum End {
    Completes,
    IsAborted,
}

/// A task holds a guard whose destructor spawns a task and aborts another
/// task's handle. The destructor runs inside the holder's poll (when it
/// completes) or inside its cancellation (when it is aborted); both times
/// the holder's cell is borrowed by the executor.
fn guard_that_spawns_and_aborts(end: End) {
    support::run(support::LIMIT, move || async move {
        let victim_dropped = Rc::new(Cell::new(false));
        let victim = spawn_victim(victim_dropped.clone());
        let spawned_ran = Rc::new(Cell::new(false));
        let victim_after: Slot<JoinHandle<()>> = Rc::default();
        let child: Slot<JoinHandle<u32>> = Rc::default();

        let (sr, va, ch) = (spawned_ran.clone(), victim_after.clone(), child.clone());
        let mut victim = Some(victim);
        let guard = OnDrop(move || {
            let sr = sr.clone();
            *ch.borrow_mut() = Some(ember::spawn(async move {
                sr.set(true);
                9
            }));
            if let Some(v) = victim.take() {
                v.abort();
                *va.borrow_mut() = Some(v);
            }
        });
        let holder = ember::spawn(async move {
            let _guard = guard;
            yield_now().await;
            if let End::IsAborted = end {
                std::future::pending::<()>().await;
            }
        });
        yield_now().await;
        if let End::IsAborted = end {
            holder.abort();
            assert!(holder.await.expect_err("aborted").is_cancelled());
        } else {
            holder.await.expect("the holder completes");
        }
        let child = child.borrow_mut().take().expect("the guard spawned");
        assert_eq!(child.await.expect("the spawned task runs"), 9);
        assert!(spawned_ran.get());
        let victim = victim_after.borrow_mut().take().expect("the guard aborted");
        assert!(victim.await.expect_err("aborted").is_cancelled());
        assert!(victim_dropped.get());
    });
}

#[test]
fn a_destructor_that_spawns_and_aborts_runs_safely_when_its_task_completes() {
    guard_that_spawns_and_aborts(End::Completes);
}

#[test]
fn a_destructor_that_spawns_and_aborts_runs_safely_when_its_task_is_aborted() {
    guard_that_spawns_and_aborts(End::IsAborted);
}

#[test]
fn a_task_that_aborts_itself_is_dropped_right_after_that_poll() {
    support::run(support::LIMIT, || async {
        let own: Slot<JoinHandle<()>> = Rc::default();
        let polls = Rc::new(Cell::new(0));
        let dropped = Rc::new(Cell::new(false));
        let (o, p, d) = (own.clone(), polls.clone(), dropped.clone());
        let h = ember::spawn(async move {
            let _g = OnDrop(move || d.set(true));
            poll_fn(|cx| {
                p.set(p.get() + 1);
                o.borrow().as_ref().expect("own handle").abort();
                // Ask to be polled again: the abort must win.
                cx.waker().wake_by_ref();
                Poll::<()>::Pending
            })
            .await;
            unreachable!("an aborted task resumed");
        });
        *own.borrow_mut() = Some(h);
        // Queued right behind the self-aborting task: it must find it gone.
        let d = dropped.clone();
        let observer = ember::spawn(async move { d.get() });
        assert!(observer.await.expect("observer"), "the abort waited");
        let h = own.borrow_mut().take().expect("handle");
        assert!(h.await.expect_err("aborted").is_cancelled());
        assert_eq!(polls.get(), 1, "polled again after aborting itself");
    });
}

#[test]
fn a_task_that_aborts_itself_while_its_future_owns_its_handle_is_freed() {
    let (marker, dropped) = support::run(support::LIMIT, || async {
        let marker = Arc::new(());
        let dropped = Rc::new(Cell::new(false));
        let own: Slot<JoinHandle<()>> = Rc::default();
        let (o, d, m) = (own.clone(), dropped.clone(), marker.clone());
        // The task's future holds the only handle to the task: a cycle that
        // only the abort breaks.
        let h = ember::spawn(async move {
            let _m = m;
            let _g = OnDrop(move || d.set(true));
            yield_now().await;
            o.borrow().as_ref().expect("own handle").abort();
            std::future::pending::<()>().await;
        });
        *own.borrow_mut() = Some(h);
        drop(own);
        while !dropped.get() {
            yield_now().await;
        }
        assert_eq!(ember::runtime::stats().tasks_alive, 0);
        (Arc::strong_count(&marker), dropped.get())
    });
    assert!(dropped);
    assert_eq!(marker, 1, "the self-aborted task's future was not freed");
}

#[test]
fn a_task_that_drops_its_own_handle_runs_on_detached() {
    support::run(support::LIMIT, || async {
        let own: Slot<JoinHandle<DropCount>> = Rc::default();
        let done = Rc::new(Cell::new(false));
        let output_drops = Rc::new(Cell::new(0));
        let (o, dn, od) = (own.clone(), done.clone(), output_drops.clone());
        let h = ember::spawn(async move {
            yield_now().await;
            drop(o.borrow_mut().take().expect("own handle"));
            yield_now().await;
            dn.set(true);
            DropCount(od)
        });
        *own.borrow_mut() = Some(h);
        while !done.get() {
            yield_now().await;
        }
        yield_now().await;
        assert_eq!(output_drops.get(), 1, "the detached output is dropped once");
        assert_eq!(ember::runtime::stats().tasks_alive, 0);
    });
}

#[test]
fn a_task_may_drop_the_last_handles_of_running_and_finished_tasks_in_its_poll() {
    support::run(support::LIMIT, || async {
        let finished_output = Rc::new(Cell::new(0));
        let running_output = Rc::new(Cell::new(0));
        let running_done = Rc::new(Cell::new(false));

        let fo = finished_output.clone();
        let finished = ember::spawn(async move { DropCount(fo) });
        let (ro, rd) = (running_output.clone(), running_done.clone());
        let running = ember::spawn(async move {
            for _ in 0..5 {
                yield_now().await;
            }
            rd.set(true);
            DropCount(ro)
        });
        yield_now().await;
        assert!(finished.is_finished());
        assert!(!running.is_finished());

        let fo = finished_output.clone();
        ember::spawn(async move {
            drop(finished);
            assert_eq!(
                fo.get(),
                1,
                "the finished task's output drops with its handle"
            );
            drop(running);
        })
        .await
        .expect("the dropping task");
        assert_eq!(finished_output.get(), 1);
        while !running_done.get() {
            yield_now().await;
        }
        yield_now().await;
        assert_eq!(running_output.get(), 1, "the detached task completed");
        assert_eq!(ember::runtime::stats().tasks_alive, 0);
    });
}

/// Holds a socket and another task's handle; its destructor drops both and
/// spawns.
struct Holder {
    stream: Option<TcpStream>,
    handle: Option<JoinHandle<()>>,
    spawned: Rc<Cell<u32>>,
}

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.stream.take());
        drop(self.handle.take());
        let s = self.spawned.clone();
        drop(ember::spawn(async move { s.set(s.get() + 1) }));
    }
}

#[test]
fn a_destructor_that_drops_a_socket_and_a_handle_runs_safely_on_abort_and_completion() {
    support::run(support::LIMIT, || async {
        for end in [End::IsAborted, End::Completes] {
            let (mut client, server) = tcp_pair().await;
            let detached_done = Rc::new(Cell::new(false));
            let dd = detached_done.clone();
            let other = ember::spawn(async move {
                ember::time::sleep(Duration::from_millis(5)).await;
                dd.set(true);
            });
            let spawned = Rc::new(Cell::new(0));
            let holder = Holder {
                stream: Some(server),
                handle: Some(other),
                spawned: spawned.clone(),
            };
            let task = ember::spawn(async move {
                let mut holder = holder;
                let mut buf = [0u8; 8];
                let stream = holder.stream.as_mut().expect("stream");
                let n = stream.read(&mut buf).await.expect("read");
                assert_eq!(&buf[..n], b"go");
            });
            yield_now().await;
            match end {
                End::IsAborted => {
                    task.abort();
                    assert!(task.await.expect_err("aborted").is_cancelled());
                }
                End::Completes => {
                    client.write_all(b"go").await.expect("write");
                    task.await.expect("the task completes");
                }
            }
            let mut buf = [0u8; 8];
            let n = client.read(&mut buf).await.expect("client read");
            assert_eq!(n, 0, "{end:?}: the peer sees EOF");
            while !detached_done.get() || spawned.get() == 0 {
                yield_now().await;
            }
            assert_eq!(spawned.get(), 1, "{end:?}");
        }
    });
}

/// A waker (it must be `Send + Sync`) whose `wake` spawns a task on the
/// current runtime, then wakes the task that uses it.
struct SpawningWaker {
    inner: Mutex<Option<Waker>>,
    spawned: Arc<AtomicUsize>,
}

impl Wake for SpawningWaker {
    fn wake(self: Arc<Self>) {
        let spawned = self.spawned.clone();
        drop(ember::spawn(async move {
            spawned.fetch_add(1, Ordering::SeqCst);
        }));
        if let Some(w) = self.inner.lock().unwrap().take() {
            w.wake();
        }
    }
}

/// Polls `fut` with a `SpawningWaker` wrapped around the task's own waker.
async fn poll_with_spawning_waker<F: Future>(fut: F, spawned: Arc<AtomicUsize>) -> F::Output {
    let waker = Arc::new(SpawningWaker {
        inner: Mutex::new(None),
        spawned,
    });
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        *waker.inner.lock().unwrap() = Some(cx.waker().clone());
        let custom = Waker::from(waker.clone());
        fut.as_mut().poll(&mut Context::from_waker(&custom))
    })
    .await
}

#[test]
fn a_waker_called_by_the_reactor_or_the_timers_may_spawn() {
    support::run(support::LIMIT, || async {
        let spawned = Arc::new(AtomicUsize::new(0));

        // The reactor calls it: the peer writes.
        let (mut client, server) = tcp_pair().await;
        let reader = ember::spawn(poll_with_spawning_waker(
            async move {
                server.readable().await.expect("readable");
                let mut buf = [0u8; 8];
                server.try_read(&mut buf).expect("try_read")
            },
            spawned.clone(),
        ));
        yield_now().await;
        client.write_all(b"abc").await.expect("write");
        assert_eq!(reader.await.expect("reader"), 3);

        // The timer store calls it.
        let sleeper = ember::spawn(poll_with_spawning_waker(
            ember::time::sleep(Duration::from_millis(5)),
            spawned.clone(),
        ));
        sleeper.await.expect("sleeper");

        while spawned.load(Ordering::SeqCst) < 2 {
            yield_now().await;
        }
        assert!(spawned.load(Ordering::SeqCst) >= 2);
    });
}

thread_local! {
    /// What `DroppingWaker` drops: sockets and handles are `!Send`, so a
    /// waker (which must be `Send`) can only reach them through the thread.
    static STASH: RefCell<Vec<Box<dyn std::any::Any>>> = RefCell::new(Vec::new());
}

/// A waker whose `wake` drops whatever is in `STASH`, then wakes the task.
struct DroppingWaker {
    inner: Mutex<Option<Waker>>,
}

impl Wake for DroppingWaker {
    fn wake(self: Arc<Self>) {
        let stash = STASH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        drop(stash);
        if let Some(w) = self.inner.lock().unwrap().take() {
            w.wake();
        }
    }
}

/// The reactor calls a waker for a ready socket; the waker drops that very
/// socket (deregistering it in the middle of the reactor's wake loop),
/// another socket, and the handles of a running and a finished task.
#[test]
fn a_waker_called_by_the_reactor_may_drop_the_socket_it_waits_on_and_join_handles() {
    support::run(support::LIMIT, || async {
        let (mut client, server) = tcp_pair().await;
        let (mut other_client, other_server) = tcp_pair().await;
        let finished_output = Rc::new(Cell::new(0));
        let fo = finished_output.clone();
        let finished = ember::spawn(async move { DropCount(fo) });
        let running_done = Rc::new(Cell::new(false));
        let rd = running_done.clone();
        let running = ember::spawn(async move {
            ember::time::sleep(Duration::from_millis(5)).await;
            rd.set(true);
        });
        yield_now().await;
        assert!(finished.is_finished());

        let server = Rc::new(server);
        let s = server.clone();
        STASH.with(|st| {
            let mut st = st.borrow_mut();
            st.push(Box::new(server));
            st.push(Box::new(other_server));
            st.push(Box::new(finished));
            st.push(Box::new(running));
        });
        let waiter = ember::spawn(async move {
            let waker = Arc::new(DroppingWaker {
                inner: Mutex::new(None),
            });
            let weak = Rc::downgrade(&s);
            drop(s);
            poll_fn(|cx| {
                *waker.inner.lock().unwrap() = Some(cx.waker().clone());
                let custom = Waker::from(waker.clone());
                match weak.upgrade() {
                    // The stash still holds the socket: wait on it, with
                    // the custom waker.
                    Some(stream) => {
                        let mut cx2 = Context::from_waker(&custom);
                        match stream.poll_read_ready(&mut cx2) {
                            Poll::Ready(_) => Poll::Ready(false),
                            Poll::Pending => Poll::Pending,
                        }
                    }
                    // The waker dropped it.
                    None => Poll::Ready(true),
                }
            })
            .await
        });
        yield_now().await;
        client.write_all(b"x").await.expect("write");
        assert!(
            waiter.await.expect("waiter"),
            "the waker should have dropped the socket before the task was polled"
        );
        assert_eq!(
            finished_output.get(),
            1,
            "the finished task's output dropped"
        );
        let mut buf = [0u8; 4];
        // The server side was closed with the "x" unread, so the kernel
        // answers with a reset rather than a FIN.
        match client.read(&mut buf).await {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("expected EOF or a reset, got {other:?}"),
        }
        assert_eq!(other_client.read(&mut buf).await.expect("read"), 0, "EOF");
        while !running_done.get() {
            yield_now().await;
        }
        assert_eq!(ember::runtime::stats().fds_registered, 2);
    });
}

#[test]
fn aborting_a_task_that_awaits_another_handle_leaves_the_other_running() {
    support::run(support::LIMIT, || async {
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        let inner = ember::spawn(async move {
            ember::time::sleep(Duration::from_millis(5)).await;
            d.set(true);
            1
        });
        // The outer task's future is the inner task's handle.
        let outer = ember::spawn(inner);
        yield_now().await;
        outer.abort();
        assert!(outer.await.expect_err("aborted").is_cancelled());
        while !done.get() {
            yield_now().await;
        }
        yield_now().await;
        assert_eq!(ember::runtime::stats().tasks_alive, 0);
    });
}

#[test]
fn a_detached_task_whose_output_destructor_spawns_and_aborts_is_harmless() {
    support::run(support::LIMIT, || async {
        let victim_dropped = Rc::new(Cell::new(false));
        let victim = spawn_victim(victim_dropped.clone());
        let spawned_ran = Rc::new(Cell::new(false));
        let sr = spawned_ran.clone();
        let mut victim = Some(victim);
        drop(ember::spawn(async move {
            OnDrop(move || {
                if let Some(v) = victim.take() {
                    v.abort();
                }
                let sr = sr.clone();
                drop(ember::spawn(async move { sr.set(true) }));
            })
        }));
        while !spawned_ran.get() || !victim_dropped.get() {
            yield_now().await;
        }
    });
}

/// Tasks whose futures hold each other's handles in a ring, each pending
/// forever: an `Rc` cycle through the futures, which only dropping the
/// futures breaks. The runtime's drop must do it.
#[test]
fn a_cycle_of_tasks_holding_each_others_handles_is_freed_when_the_runtime_drops() {
    const RING: usize = 4;
    let guards = Arc::new(AtomicUsize::new(0));
    let marker = Arc::new(());
    let (g, m) = (guards.clone(), marker.clone());
    support::run(support::LIMIT, move || async move {
        let slots: Vec<Slot<JoinHandle<()>>> = (0..RING).map(|_| Rc::default()).collect();
        let mut handles = Vec::new();
        for i in 0..RING {
            let next = slots[(i + 1) % RING].clone();
            let (g, m) = (Guard(g.clone()), m.clone());
            handles.push(ember::spawn(async move {
                let _g = g;
                let _m = m;
                let _next = next;
                std::future::pending::<()>().await;
            }));
        }
        for (slot, h) in slots.iter().zip(handles) {
            *slot.borrow_mut() = Some(h);
        }
        drop(slots);
        yield_now().await;
        assert_eq!(ember::runtime::stats().tasks_alive, RING as u64);
        assert_eq!(g.load(Ordering::SeqCst), 0);
    });
    assert_eq!(
        guards.load(Ordering::SeqCst),
        RING,
        "every future was dropped"
    );
    assert_eq!(
        Arc::strong_count(&marker),
        1,
        "the ring's futures were not freed"
    );
}

/// Regression test: `Runtime::drop` enters its own runtime only if no other
/// is current (`context::try_enter`). Dropped inside another runtime's task,
/// its tasks' destructors see the *outer* runtime, so a destructor that
/// spawns puts a task of the dying runtime on the outer one, where it runs
/// (sockets made there would register with the outer reactor too). tokio's
/// `Runtime::drop` sets its own context for the teardown and restores the
/// previous one afterwards.
#[test]
// Regression: teardown used to keep the outer runtime current, so spawns
// from the dying runtime's destructors ran in the outer one.
fn spawns_from_the_destructors_of_a_runtime_dropped_inside_another_stay_in_the_dropped_one() {
    support::run(support::LIMIT, || async {
        let outer_before = ember::runtime::stats().tasks_spawned;
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        let inner = ember::Runtime::new().expect("inner runtime");
        let guard = OnDrop(move || {
            let r = r.clone();
            drop(ember::spawn(async move { r.set(true) }));
        });
        drop(inner.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }));
        drop(inner);
        for _ in 0..3 {
            yield_now().await;
        }
        assert!(
            !ran.get(),
            "a task spawned while the inner runtime shut down ran on the outer one"
        );
        assert_eq!(ember::runtime::stats().tasks_spawned, outer_before);
    });
}
