//! `ember::sync::mpsc`, the tokio API beyond send and receive: permits
//! (`reserve`, `reserve_many`, `reserve_owned` and the `try_` forms) in the
//! same FIFO queue as `send`, slots given back by unused permits and by an
//! aborted task, weak senders, `recv_many`, and the counters (`len`,
//! `capacity`, `max_capacity`, `is_closed`).
#![cfg(feature = "sync")]

mod support;

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use ember::sync::mpsc::{self, TrySendError};

fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_permit_sends_without_waiting_and_an_unused_one_gives_its_slot_back() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(2);
        let p1 = tx.reserve().await.unwrap();
        let p2 = tx.try_reserve().unwrap();
        assert_eq!(tx.capacity(), 0);
        assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
        assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
        p1.send(1);
        drop(p2);
        assert_eq!(tx.capacity(), 1);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.capacity(), 2);
        assert_eq!(rx.max_capacity(), 2);
    });
}

#[test]
fn reserve_waits_in_the_same_queue_as_send() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut send = pin!(tx.send(1));
    let mut reserve = Box::pin(tx.reserve());
    assert!(send
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    assert!(poll_once(&mut reserve).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(poll_once(&mut reserve).is_pending(), "the send was first");
    assert!(send
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_ready());
    assert_eq!(rx.try_recv(), Ok(1));
    let Poll::Ready(Ok(permit)) = poll_once(&mut reserve) else {
        panic!("the reserve is served next");
    };
    permit.send(2);
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn reserve_many_gathers_its_slots_and_fails_beyond_the_capacity() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(3);
        assert!(tx.reserve_many(4).await.is_err());
        tx.send(0).await.unwrap();
        tx.send(1).await.unwrap();
        let tx2 = tx.clone();
        let many = ember::spawn(async move {
            let permits = tx2.reserve_many(3).await.unwrap();
            assert_eq!(permits.len(), 3);
            for (i, p) in permits.enumerate() {
                p.send(10 + i);
            }
        });
        ember::task::yield_now().await;
        assert!(tx.try_reserve().is_err(), "the big reservation is first");
        assert_eq!(rx.recv().await, Some(0));
        assert_eq!(rx.recv().await, Some(1));
        many.await.unwrap();
        let mut got = Vec::new();
        assert_eq!(rx.recv_many(&mut got, 10).await, 3);
        assert_eq!(got, [10, 11, 12]);
        let it = tx.try_reserve_many(2).unwrap();
        drop(it);
        assert_eq!(tx.capacity(), 3, "unused permits of the iterator went back");
    });
}

#[test]
fn an_owned_permit_gives_the_sender_back_and_its_slot_when_its_task_is_aborted() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(1);
        let permit = tx.clone().reserve_owned().await.unwrap();
        let tx_back = permit.send(5);
        assert!(tx_back.same_channel(&tx));
        assert_eq!(rx.recv().await, Some(5));

        let holder = ember::spawn({
            let tx = tx.clone();
            async move {
                let _permit = tx.reserve_owned().await.unwrap();
                std::future::pending::<()>().await;
            }
        });
        ember::task::yield_now().await;
        assert_eq!(tx.capacity(), 0);
        let waiter = ember::spawn({
            let tx = tx.clone();
            async move { tx.send(6).await }
        });
        ember::task::yield_now().await;
        holder.abort();
        assert!(holder.await.unwrap_err().is_cancelled());
        waiter.await.unwrap().unwrap();
        assert_eq!(rx.recv().await, Some(6));
        let p = tx.clone().try_reserve_owned().unwrap();
        let tx_again = p.release();
        assert_eq!(tx_again.capacity(), 1);
    });
}

#[test]
fn try_reserve_owned_gives_the_sender_back_when_it_fails() {
    let (tx, rx) = mpsc::channel::<u8>(1);
    let _p = tx.try_reserve().unwrap();
    let Err(TrySendError::Full(tx2)) = tx.clone().try_reserve_owned() else {
        panic!("the channel is full");
    };
    drop(rx);
    assert!(matches!(
        tx2.try_reserve_owned(),
        Err(TrySendError::Closed(_))
    ));
}

#[test]
fn weak_senders_do_not_keep_the_channel_open() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<u8>(4);
        let weak = tx.downgrade();
        assert_eq!((tx.strong_count(), tx.weak_count()), (1, 1));
        let strong = weak.upgrade().unwrap();
        strong.send(1).await.unwrap();
        drop(strong);
        drop(tx);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None, "only a weak sender is left");
        assert!(weak.upgrade().is_none());
        assert_eq!(rx.sender_weak_count(), 1);

        let (utx, mut urx) = mpsc::unbounded_channel::<u8>();
        let uweak = utx.downgrade();
        uweak.upgrade().unwrap().send(2).unwrap();
        drop(utx);
        assert_eq!(urx.recv().await, Some(2));
        assert_eq!(urx.recv().await, None);
        assert!(uweak.upgrade().is_none());
    });
}

#[test]
fn recv_many_takes_up_to_its_limit_and_returns_zero_at_the_end() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        let mut buf = vec![100];
        assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
        assert_eq!(buf, [100, 0, 1, 2]);
        assert_eq!(rx.len(), 2);
        assert_eq!(rx.recv_many(&mut buf, 0).await, 0);
        let sender = ember::spawn(async move {
            ember::task::yield_now().await;
            drop(tx);
        });
        assert_eq!(rx.recv_many(&mut buf, 10).await, 2);
        assert!(!rx.is_closed() || rx.is_empty());
        sender.await.unwrap();
        assert_eq!(rx.recv_many(&mut buf, 10).await, 0);
        assert!(rx.is_closed());
    });
}

#[test]
fn a_bounded_recv_many_frees_the_slots_for_waiting_senders() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel(2);
        let producer = ember::spawn(async move {
            for i in 0..10 {
                tx.send(i).await.unwrap();
            }
        });
        let mut got = Vec::new();
        while rx.recv_many(&mut got, 4).await > 0 {}
        producer.await.unwrap();
        assert_eq!(got, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn close_on_the_receiver_is_seen_by_is_closed_on_both_sides() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    assert!(!rx.is_closed());
    rx.close();
    assert!(rx.is_closed());
    assert!(tx.is_closed());
    assert!(tx.try_reserve().is_err());
}

#[test]
fn reserve_many_of_zero_slots_never_waits() {
    support::run(support::LIMIT, || async {
        let (tx, _rx) = mpsc::channel::<u8>(1);
        tx.try_send(1).unwrap();
        let mut waiting = Box::pin(tx.send(2));
        assert!(poll_once(&mut waiting).is_pending());
        assert_eq!(tx.reserve_many(0).await.unwrap().len(), 0);
        assert_eq!(
            tx.try_reserve_many(0).map(|it| it.len()).ok(),
            None,
            "others wait first"
        );
    });
}
