//! `ember::sync::broadcast`: every receiver gets every value, a slow
//! receiver gets the exact `Lagged(n)` then the oldest value held,
//! `Closed` after the last sender, `try_recv`, `len`, `receiver_count`,
//! `resubscribe`, values dropped once everyone read them, and senders on
//! plain threads.
#![cfg(feature = "sync")]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ember::sync::broadcast::{self, error::RecvError, error::TryRecvError};

#[test]
fn both_halves_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<broadcast::Sender<String>>();
    send_sync::<broadcast::Receiver<String>>();
}

#[test]
fn every_receiver_gets_every_value_in_order() {
    support::run(support::LIMIT, || async {
        let (tx, rx) = broadcast::channel(8);
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = tx.subscribe();
                ember::spawn(async move {
                    let mut got = Vec::new();
                    while let Ok(v) = rx.recv().await {
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        for i in 0..100 {
            assert_eq!(tx.send(i).unwrap(), 3);
            ember::task::yield_now().await; // readers keep up
        }
        drop(tx);
        for r in readers {
            assert_eq!(r.await.unwrap(), (0..100).collect::<Vec<_>>());
        }
    });
}

#[test]
fn a_slow_receiver_gets_the_exact_number_it_missed_then_the_oldest_value() {
    support::run(support::LIMIT, || async {
        let (tx, mut slow) = broadcast::channel(4);
        let mut fast = tx.subscribe();
        for i in 0..10 {
            tx.send(i).unwrap();
            assert_eq!(fast.recv().await, Ok(i));
        }
        // The ring holds 6..=9: 0..=5 were overwritten.
        assert_eq!(slow.len(), 10);
        assert_eq!(slow.recv().await, Err(RecvError::Lagged(6)));
        for i in 6..10 {
            assert_eq!(slow.recv().await, Ok(i));
        }
        assert_eq!(slow.try_recv(), Err(TryRecvError::Empty));
        tx.send(10).unwrap();
        tx.send(11).unwrap();
        assert_eq!(slow.try_recv(), Ok(10));
        for i in 12..17 {
            tx.send(i).unwrap();
        }
        // Ring holds 13..=16; 11 and 12 were lost.
        assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(2)));
        assert_eq!(slow.try_recv(), Ok(13));
    });
}

#[test]
fn the_capacity_is_rounded_up_to_a_power_of_two() {
    let (tx, mut rx) = broadcast::channel(3);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Lagged(1)),
        "4 slots, not 3"
    );
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn receivers_see_closed_after_the_last_sender_and_the_last_value() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = broadcast::channel(2);
        let tx2 = tx.clone();
        let waiter = ember::spawn(async move {
            let first = rx.recv().await;
            (first, rx.recv().await)
        });
        ember::task::yield_now().await;
        tx.send(1).unwrap();
        drop(tx);
        drop(tx2);
        assert_eq!(waiter.await.unwrap(), (Ok(1), Err(RecvError::Closed)));
    });
}

#[test]
fn send_without_receivers_fails_and_len_counts_unread_values() {
    support::run(support::LIMIT, || async {
        let (tx, rx) = broadcast::channel::<u8>(4);
        assert_eq!(tx.receiver_count(), 1);
        let mut rx2 = rx.resubscribe();
        assert_eq!(tx.receiver_count(), 2);
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        assert_eq!(tx.len(), 2);
        assert_eq!(rx2.recv().await, Ok(1));
        assert_eq!(tx.len(), 2, "rx has read nothing yet");
        drop(rx);
        assert_eq!(tx.len(), 1);
        let rx3 = rx2.resubscribe();
        assert!(rx3.is_empty(), "resubscribe starts at the tail");
        drop((rx2, rx3));
        assert_eq!(tx.send(3).unwrap_err().0, 3);
        tx.closed().await;
    });
}

#[test]
fn a_value_is_dropped_once_every_receiver_has_read_it() {
    struct Counted(Arc<AtomicUsize>);
    impl Clone for Counted {
        fn clone(&self) -> Counted {
            Counted(self.0.clone())
        }
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut a) = broadcast::channel(4);
    let mut b = tx.subscribe();
    tx.send(Counted(drops.clone())).map_err(|_| ()).unwrap();
    drop(a.try_recv().map_err(|_| ()).unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 1, "a's clone");
    drop(b.try_recv().map_err(|_| ()).unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 2, "b got the original");
    tx.send(Counted(drops.clone())).map_err(|_| ()).unwrap();
    drop(a);
    drop(b);
    assert_eq!(drops.load(Ordering::SeqCst), 3, "unread by all: dropped");
}

#[test]
fn senders_on_plain_threads_reach_a_task() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = broadcast::channel(1024);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..200 {
                        tx.send(t * 1000 + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut got = Vec::new();
        loop {
            match rx.recv().await {
                Ok(v) => got.push(v),
                Err(RecvError::Closed) => break,
                Err(RecvError::Lagged(n)) => panic!("lagged by {n} with room for all"),
            }
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(got.len(), 800);
        for t in 0..4 {
            let mine: Vec<_> = got.iter().filter(|v| **v / 1000 == t).collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "per-sender order");
        }
    });
}

#[test]
fn a_dropped_recv_leaves_the_value_for_the_next_one() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = broadcast::channel(4);
        {
            let mut recv = std::pin::pin!(rx.recv());
            assert!(support::poll_once(recv.as_mut()).await.is_pending());
        }
        tx.send(5).unwrap();
        assert_eq!(rx.recv().await, Ok(5));
    });
}

#[test]
fn a_weak_sender_does_not_keep_the_channel_open() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = broadcast::channel(4);
        let weak = tx.downgrade();
        assert_eq!((tx.strong_count(), tx.weak_count()), (1, 1));
        weak.upgrade().unwrap().send(1).unwrap();
        drop(tx);
        assert_eq!(rx.recv().await, Ok(1));
        assert_eq!(rx.recv().await, Err(RecvError::Closed));
        assert!(weak.upgrade().is_none());
        assert_eq!(rx.sender_weak_count(), 1);
    });
}
