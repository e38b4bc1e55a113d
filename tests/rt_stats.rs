//! `ember::runtime::stats()`: each counter checked against a scenario whose
//! counts are known exactly.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

mod support;

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use ember::runtime::stats;
use ember::task::yield_now;

#[test]
fn task_counters_follow_spawns_polls_and_wakes_exactly() {
    support::run(support::LIMIT, || async {
        let s = stats();
        assert_eq!(
            (s.tasks_spawned, s.tasks_alive, s.tasks_completed, s.polls),
            (0, 0, 0, 0)
        );
        assert_eq!((s.local_wakes, s.remote_wakes, s.epoll_waits), (0, 0, 0));

        // Run queue: [a, b] after the spawns.
        let a = ember::spawn(async {});
        let b = ember::spawn(async { yield_now().await });
        let s = stats();
        assert_eq!((s.tasks_spawned, s.tasks_alive), (2, 2));

        // a: one poll, completes, wakes us (1). b: yields, waking itself
        // (2); polled again, completes, wakes us (3).
        a.await.unwrap();
        b.await.unwrap();
        let s = stats();
        assert_eq!(
            (s.tasks_spawned, s.tasks_alive, s.tasks_completed),
            (2, 0, 2)
        );
        assert_eq!(
            s.polls, 3,
            "a once, b twice; block_on's polls are not counted"
        );
        assert_eq!(s.local_wakes, 3);
        assert_eq!(s.remote_wakes, 0);
        assert_eq!(s.epoll_waits, 0, "the run queue never emptied");
    });
}

#[test]
fn a_wake_from_another_thread_counts_once_as_remote() {
    support::run(support::LIMIT, || async {
        let slot: Arc<Mutex<(bool, Option<Waker>)>> = Arc::default();
        let theirs = slot.clone();
        let thread = std::thread::spawn(move || {
            // Wait until the task has parked its waker, then wake it once.
            loop {
                let waker = {
                    let mut slot = theirs.lock().unwrap();
                    slot.1.take().inspect(|_| slot.0 = true)
                };
                if let Some(waker) = waker {
                    waker.wake();
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        poll_fn(|cx| {
            let mut slot = slot.lock().unwrap();
            if slot.0 {
                Poll::Ready(())
            } else {
                slot.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        thread.join().unwrap();
        let s = stats();
        assert_eq!(s.remote_wakes, 1);
        assert_eq!(s.local_wakes, 0);
        // The bell rings only if the loop was already asleep when the wake
        // came, which depends on timing, so `events` is not checked here.
        assert!(s.epoll_waits >= 1, "the loop looked at the outside world");
    });
}

#[test]
fn a_timer_fires_once_after_at_least_one_wait() {
    support::run(support::LIMIT, || async {
        ember::time::sleep(Duration::from_millis(2)).await;
        let s = stats();
        assert_eq!(s.timers_fired, 1);
        assert!(s.epoll_waits >= 1);
        assert!(
            s.empty_waits >= 1,
            "the wait that ended at the deadline saw no event"
        );
        assert_eq!(s.events, 0, "nothing but the timer happened");
    });
}

#[test]
fn registered_fds_are_counted_while_their_sockets_live() {
    support::run(support::LIMIT, || async {
        assert_eq!(stats().fds_registered, 0);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        assert_eq!(stats().fds_registered, 1);
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        assert_eq!(stats().fds_registered, 3);

        let before = stats().events;
        client.write_all(b"x").await.unwrap();
        let mut byte = [0u8; 1];
        server.read_exact(&mut byte).await.unwrap();
        assert!(stats().events > before, "the byte's arrival was an event");

        drop((client, server, listener));
        assert_eq!(stats().fds_registered, 0);
    });
}
