//! `ember::sync::watch`: the newest value is never lost (however many
//! sends come between two reads, from tasks or plain threads),
//! `borrow_and_update`/`has_changed`, `send_if_modified`, closing from
//! either side, `subscribe`, and `WatchStream`.
#![cfg(feature = "sync")]

mod support;

use std::future::poll_fn;
use std::pin::Pin;

use ember::sync::watch::{self, WatchStream};
use futures_core::Stream;

async fn next<S: Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
}

#[test]
fn both_halves_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<watch::Sender<String>>();
    send_sync::<watch::Receiver<String>>();
}

#[test]
fn changed_completes_once_for_many_sends_and_the_newest_value_is_read() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = watch::channel(0);
        assert_eq!(rx.has_changed(), Ok(false));
        for i in 1..=10 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.has_changed(), Ok(true));
        assert!(rx.borrow().has_changed());
        rx.changed().await.unwrap();
        let r = rx.borrow_and_update();
        assert_eq!(*r, 10);
        assert!(!r.has_changed(), "changed() marked it seen");
        drop(r);
        assert_eq!(rx.has_changed(), Ok(false));
        assert!(!rx.borrow().has_changed());
    });
}

#[test]
fn a_waiting_receiver_never_misses_the_last_value_sent_from_threads() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = watch::channel(0u64);
        let tx = std::sync::Arc::new(tx);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000u64 {
                        tx.send_modify(|v| *v = (*v).max(t * 100_000 + i));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // Every thread is done; the newest value is the largest one.
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow_and_update(), 3 * 100_000 + 9_999);
        drop(tx);
        assert!(rx.changed().await.is_err(), "closed, nothing unseen");
    });
}

#[test]
fn a_receiver_woken_by_a_send_sees_that_value_or_a_newer_one() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = watch::channel(0);
        let reader = ember::spawn(async move {
            let mut seen = Vec::new();
            while rx.changed().await.is_ok() {
                seen.push(*rx.borrow_and_update());
            }
            seen
        });
        for i in 1..=100 {
            tx.send(i).unwrap();
            if i % 7 == 0 {
                ember::task::yield_now().await;
            }
        }
        drop(tx);
        let seen = reader.await.unwrap();
        assert_eq!(seen.last(), Some(&100), "the last value always arrives");
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
    });
}

#[test]
fn send_if_modified_tells_receivers_only_when_it_returns_true() {
    let (tx, rx) = watch::channel(5);
    assert!(!tx.send_if_modified(|v| {
        *v += 0;
        false
    }));
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(tx.send_if_modified(|v| {
        *v += 1;
        true
    }));
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(tx.send_replace(9), 6);
    assert_eq!(*tx.borrow(), 9);
}

#[test]
fn send_fails_without_receivers_but_send_replace_still_stores() {
    support::run(support::LIMIT, || async {
        let (tx, rx) = watch::channel(1);
        assert_eq!(tx.receiver_count(), 1);
        drop(rx);
        assert!(tx.is_closed());
        tx.closed().await;
        assert_eq!(tx.send(2).unwrap_err().0, 2);
        tx.send_replace(3);
        let mut rx = tx.subscribe();
        assert_eq!(*rx.borrow(), 3);
        assert_eq!(
            rx.has_changed(),
            Ok(false),
            "subscribe starts having seen it"
        );
        tx.send(4).unwrap();
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow(), 4);
    });
}

#[test]
fn dropping_every_sender_fails_changed_after_the_last_value_is_seen() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = watch::channel(0);
        let tx2 = tx.clone();
        assert_eq!(tx.sender_count(), 2);
        tx.send(1).unwrap();
        drop(tx);
        drop(tx2);
        assert!(rx.changed().await.is_ok(), "the unseen value first");
        assert!(rx.changed().await.is_err());
        assert!(rx.has_changed().is_err());
    });
}

#[test]
fn mark_changed_and_wait_for() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = watch::channel(0);
        rx.mark_changed();
        rx.changed().await.unwrap();
        let setter = ember::spawn(async move {
            for i in 1..=5 {
                tx.send(i).unwrap();
                ember::task::yield_now().await;
            }
        });
        assert_eq!(*rx.wait_for(|v| *v >= 3).await.unwrap(), 3);
        setter.await.unwrap();
    });
}

#[test]
fn watch_stream_yields_the_current_value_then_changes_then_ends() {
    support::run(support::LIMIT, || async {
        let (tx, rx) = watch::channel("a");
        let mut stream = WatchStream::new(rx);
        assert_eq!(next(&mut stream).await, Some("a"));
        tx.send("b").unwrap();
        tx.send("c").unwrap();
        assert_eq!(next(&mut stream).await, Some("c"));
        drop(tx);
        assert_eq!(next(&mut stream).await, None);
    });
}
