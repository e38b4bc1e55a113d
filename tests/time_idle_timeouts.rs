//! Many idle timeouts: 100,000 tasks each waiting in a 30 s `timeout`, and
//! 2,000 idle TCP connections each read inside a 30 s `timeout`, cost the
//! loop no wake-up while nothing happens (a far timer may cost one as its
//! wheel slot moves down a level, never a tick). Counted with
//! `runtime::stats()`; no timing assertion but "not before" ones.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

use std::cell::Cell;
use std::future::pending;
use std::rc::Rc;
use std::time::Duration;

use ember::io::AsyncReadExt;
use ember::net::{TcpListener, TcpStream};
use ember::runtime::stats;
use ember::time::timeout;

mod support;

/// Waits `d` of real time on another thread, so that the loop blocks with
/// nothing but its timers to wake it; returns how many times it woke.
async fn loop_wakeups_while_idle(d: Duration) -> u64 {
    // Let the loop take what setting up left behind (the first readiness
    // events of fresh sockets), so that only the idle second is counted.
    ember::time::sleep(Duration::from_millis(50)).await;
    let (tx, rx) = ember::sync::oneshot::channel();
    let before = stats();
    std::thread::spawn(move || {
        std::thread::sleep(d);
        let _ = tx.send(());
    });
    rx.await.unwrap();
    let after = stats();
    assert_eq!(after.timers_fired, before.timers_fired, "no timer fired");
    after.epoll_waits - before.epoll_waits
}

#[test]
fn a_hundred_thousand_idle_timeouts_do_not_wake_the_loop() {
    const TASKS: usize = 100_000;
    support::run(support::LIMIT, || async {
        let armed = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let armed = armed.clone();
                ember::spawn(async move {
                    armed.set(armed.get() + 1);
                    // Armed in this same poll.
                    let _ = timeout(Duration::from_secs(30), pending::<()>()).await;
                })
            })
            .collect();
        while armed.get() < TASKS {
            ember::task::yield_now().await;
        }
        // One second idle: at most a slot moved down a level (the timeouts
        // were armed within far less than their slots' 17 s), and the
        // oneshot's wake itself.
        let woke = loop_wakeups_while_idle(Duration::from_secs(1)).await;
        eprintln!("idle second: {woke} loop wake-ups");
        assert!(woke <= 4, "the loop woke {woke} times in an idle second");
        for task in &tasks {
            task.abort();
        }
    });
}

#[test]
fn two_thousand_idle_connections_with_read_timeouts_do_not_wake_the_loop() {
    const CONNS: usize = 2_000;
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let waiting = Rc::new(Cell::new(0));
        let mut clients = Vec::with_capacity(CONNS);
        let mut servers = Vec::with_capacity(CONNS);
        for _ in 0..CONNS {
            clients.push(TcpStream::connect(addr).await.unwrap());
            let (mut s, _) = listener.accept().await.unwrap();
            let waiting = waiting.clone();
            servers.push(ember::spawn(async move {
                let mut buf = [0u8; 64];
                waiting.set(waiting.get() + 1);
                timeout(Duration::from_secs(30), s.read(&mut buf)).await
            }));
        }
        while waiting.get() < CONNS {
            ember::task::yield_now().await;
        }
        let woke = loop_wakeups_while_idle(Duration::from_secs(1)).await;
        eprintln!("idle second: {woke} loop wake-ups");
        assert!(woke <= 4, "the loop woke {woke} times in an idle second");
        // Still alive and reading: closing the clients ends every read.
        drop(clients);
        for server in servers {
            let read = server.await.unwrap();
            assert!(matches!(read, Ok(Ok(0))), "{read:?}");
        }
    });
}
