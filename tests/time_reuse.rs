//! The last cancelled timer (`src/time/cell.rs`): a `Sleep` dropped while
//! armed leaves its entry for the next one its task arms. These tests
//! check that no timer is lost or misrouted by it: timeouts in a loop,
//! across two runtimes, under a combinator's waker, and one cancelled
//! timer that nobody takes.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

use std::future::{pending, poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use ember::runtime::{stats, Runtime};
use ember::time::{sleep, timeout, Instant};

mod support;

#[test]
fn a_read_timeout_in_a_loop_still_fires_after_a_thousand_reads_that_beat_it() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = ember::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            for i in 0..1000u32 {
                s.write_all(&i.to_le_bytes()).await.unwrap();
            }
            // Then silence, with the connection open.
            pending::<()>().await;
        });
        let (mut s, _) = listener.accept().await.unwrap();
        let idle = Duration::from_millis(200);
        let mut got = 0u32;
        let start = loop {
            let mut buf = [0u8; 4];
            let before = Instant::now();
            match timeout(idle, s.read_exact(&mut buf)).await {
                Ok(r) => {
                    r.unwrap();
                    assert_eq!(u32::from_le_bytes(buf), got);
                    got += 1;
                }
                Err(_) => break before,
            }
        };
        assert_eq!(got, 1000);
        assert!(
            start.elapsed() >= idle,
            "gave up early: {:?}",
            start.elapsed()
        );
        peer.abort();
    });
}

#[test]
fn a_timer_cancelled_in_one_runtime_is_not_taken_by_another() {
    let a = Runtime::new().unwrap();
    let b = Runtime::new().unwrap();
    a.block_on(async {
        // Armed, then dropped: A's entry waits in the thread's slot.
        let r = timeout(Duration::from_secs(30), async {
            ember::task::yield_now().await;
        })
        .await;
        assert!(r.is_ok());
    });
    b.block_on(async {
        let start = Instant::now();
        let r = timeout(Duration::from_millis(20), pending::<()>()).await;
        assert!(r.is_err(), "B's own timer fired");
        assert!(start.elapsed() >= Duration::from_millis(20));
    });
    a.block_on(async {
        let start = Instant::now();
        sleep(Duration::from_millis(5)).await;
        assert!(start.elapsed() >= Duration::from_millis(5));
    });
}

#[test]
fn a_cancelled_timer_nobody_takes_never_fires_and_never_wakes_the_loop() {
    support::run(support::LIMIT, || async {
        let before = stats();
        // A 30 ms timeout, cancelled when its future finishes at once.
        let r = timeout(Duration::from_millis(30), async {
            ember::task::yield_now().await;
            7
        })
        .await;
        assert_eq!(r, Ok(7));
        // Wait well past its deadline for something else: a thread.
        let (tx, rx) = ember::sync::oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let _ = tx.send(());
        });
        rx.await.unwrap();
        let after = stats();
        assert_eq!(after.timers_fired, before.timers_fired, "nothing fired");
    });
}

/// A combinator's waker around the task's (as `FuturesUnordered` hands to
/// the futures it polls): it notes the wake, then wakes the task.
struct Flag(Arc<AtomicBool>, Waker);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
        self.1.wake_by_ref();
    }
}

#[test]
fn a_timer_polled_with_a_combinators_waker_wakes_that_waker_even_after_a_reuse() {
    support::run(support::LIMIT, || async {
        // Leave a cancelled timer of this task in the slot...
        let r = timeout(Duration::from_millis(10), async {
            ember::task::yield_now().await;
        })
        .await;
        assert!(r.is_ok());
        // ...then arm a later one under another waker: it must wake that
        // waker, so it must not take the task's entry as the task's.
        let mut s = sleep(Duration::from_millis(20));
        let flag = Arc::new(AtomicBool::new(false));
        poll_fn(|cx: &mut Context<'_>| {
            if flag.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            let inner = Waker::from(Arc::new(Flag(flag.clone(), cx.waker().clone())));
            Pin::new(&mut s).poll(&mut Context::from_waker(&inner))
        })
        .await;
        assert!(
            flag.load(Ordering::SeqCst),
            "woken through the combinator's waker, not the task's"
        );
    });
}

#[test]
fn timeouts_around_reads_leave_one_timer_per_connection_in_the_store() {
    // Nothing to count from outside but what fires; what this checks is
    // that a thousand rounds of arm-cancel-arm keep firing right: the
    // last timeout of each of 8 connections fires, at its deadline.
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut servers = Vec::new();
        let mut clients = Vec::new();
        for _ in 0..8 {
            clients.push(TcpStream::connect(addr).await.unwrap());
            let (mut s, _) = listener.accept().await.unwrap();
            servers.push(ember::spawn(async move {
                let mut rounds = 0;
                loop {
                    let mut buf = [0u8; 1];
                    let start = Instant::now();
                    match timeout(Duration::from_millis(100), s.read_exact(&mut buf)).await {
                        Ok(r) => {
                            r.unwrap();
                            s.write_all(&buf).await.unwrap();
                            rounds += 1;
                        }
                        Err(_) => {
                            assert!(start.elapsed() >= Duration::from_millis(100));
                            return rounds;
                        }
                    }
                }
            }));
        }
        for _ in 0..125 {
            for c in &mut clients {
                c.write_all(b"x").await.unwrap();
                let mut b = [0u8; 1];
                c.read_exact(&mut b).await.unwrap();
            }
        }
        for server in servers {
            assert_eq!(server.await.unwrap(), 125);
        }
        drop(clients);
    });
}
