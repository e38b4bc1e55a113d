//! `ember::sync::mpsc`: back-pressure of the bounded channel, FIFO service
//! of waiting senders, closing rules, cancel safety of `send` and `recv`,
//! the receiver as a `Stream`, a million messages between tasks and from
//! plain threads, the promise that a local send and receive make no
//! syscall, and a message destructor that re-enters its channel.
#![cfg(feature = "sync")]

mod support;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use ember::runtime::stats;
use ember::sync::mpsc;
use futures_core::Stream;

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

/// Counts its drops, from any thread.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_full_channel_makes_send_wait_until_the_receiver_frees_room() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        assert_eq!(tx.capacity(), 0);

        let sent = Rc::new(Cell::new(false));
        let flag = sent.clone();
        let sender = ember::spawn(async move {
            tx.send(3).await.unwrap();
            flag.set(true);
        });
        for _ in 0..10 {
            ember::task::yield_now().await;
        }
        assert!(!sent.get(), "the third send must wait: the channel is full");

        assert_eq!(rx.recv().await, Some(1));
        sender.await.unwrap();
        assert!(sent.get(), "receiving one message made room for the third");
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, Some(3));
        assert_eq!(rx.recv().await, None, "the only sender is gone");
    });
}

#[test]
fn waiting_senders_are_served_in_the_order_they_started_waiting() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.send(0).await.unwrap();
        let mut handles = Vec::new();
        for i in 1..=5 {
            let tx = tx.clone();
            handles.push(ember::spawn(async move { tx.send(i).await.unwrap() }));
            // Let each one start waiting before the next is spawned.
            ember::task::yield_now().await;
        }
        drop(tx);
        let mut got = Vec::new();
        while let Some(v) = rx.recv().await {
            got.push(v);
        }
        assert_eq!(got, [0, 1, 2, 3, 4, 5]);
        for h in handles {
            h.await.unwrap();
        }
    });
}

#[test]
fn try_send_reports_full_and_closed_and_gives_the_message_back() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<&str>(1);
        tx.try_send("a").unwrap();
        match tx.try_send("b") {
            Err(mpsc::TrySendError::Full(v)) => assert_eq!(v, "b"),
            other => panic!("expected Full, got {other:?}"),
        }
        assert_eq!(rx.try_recv(), Ok("a"));
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Empty));
        drop(rx);
        match tx.try_send("c") {
            Err(mpsc::TrySendError::Closed(v)) => assert_eq!(v, "c"),
            other => panic!("expected Closed, got {other:?}"),
        }
        assert!(tx.is_closed());
    });
}

#[test]
fn a_send_to_a_dropped_receiver_returns_the_message_and_queued_ones_are_dropped() {
    support::run(support::LIMIT, || async {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel(4);
        tx.send(Counted(drops.clone())).await.unwrap();
        tx.send(Counted(drops.clone())).await.unwrap();
        drop(rx);
        assert_eq!(drops.load(Ordering::SeqCst), 2, "queued messages dropped");
        let err = tx.send(Counted(drops.clone())).await.unwrap_err();
        assert_eq!(drops.load(Ordering::SeqCst), 2, "the message came back");
        drop(err);
        assert_eq!(drops.load(Ordering::SeqCst), 3);

        let (utx, urx) = mpsc::unbounded_channel();
        drop(urx);
        let back = utx.send(41).unwrap_err().into_inner();
        assert_eq!(back, 41);
    });
}

#[test]
fn recv_gives_none_only_once_every_sender_clone_is_gone() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
        let tx2 = tx.clone();
        drop(tx);
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Empty));
        let waiter = ember::spawn(async move { rx.recv().await });
        ember::task::yield_now().await;
        assert!(!waiter.is_finished(), "a clone is still alive");
        drop(tx2);
        assert_eq!(waiter.await.unwrap(), None);
    });
}

#[test]
fn close_lets_the_receiver_drain_what_is_queued_and_fails_waiting_senders() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        let tx2 = tx.clone();
        let blocked = ember::spawn(async move { tx2.send(3).await });
        ember::task::yield_now().await;
        let closed = {
            let tx = tx.clone();
            ember::spawn(async move { tx.closed().await })
        };
        rx.close();
        let err = blocked.await.unwrap().unwrap_err();
        assert_eq!(err.0, 3, "the waiting sender got its message back");
        closed.await.unwrap();
        assert!(tx.send(4).await.is_err());
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None, "closed, even with senders alive");
    });
}

#[test]
fn a_dropped_send_was_not_sent_and_its_slot_goes_to_the_next_sender() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.send(0).await.unwrap();
        let mut first = Box::pin(tx.send(1));
        assert!(poll_once(&mut first).is_pending());
        let second = {
            let tx = tx.clone();
            ember::spawn(async move { tx.send(2).await.unwrap() })
        };
        ember::task::yield_now().await;
        // The receive hands the freed slot to `first`, the first in line...
        assert_eq!(rx.recv().await, Some(0));
        // ...which is dropped: its message was not sent, and the slot moves on.
        drop(first);
        second.await.unwrap();
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Empty));
    });
}

#[test]
fn a_recv_dropped_midway_loses_no_message() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let mut got = Vec::new();
        let producer = ember::spawn(async move {
            for i in 0..100 {
                tx.send(i).unwrap();
                ember::task::yield_now().await;
            }
        });
        // Half the time the yield wins and the pending `recv` is dropped.
        loop {
            ember::select! {
                v = rx.recv() => match v {
                    Some(v) => got.push(v),
                    None => break,
                },
                () = ember::task::yield_now() => {}
            }
        }
        producer.await.unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn receivers_are_streams_that_end_when_the_senders_are_gone() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<u32>(8);
        let (utx, mut urx) = mpsc::unbounded_channel::<u32>();
        for i in 0..3 {
            tx.send(i).await.unwrap();
            utx.send(i * 10).unwrap();
        }
        drop((tx, utx));
        let mut a = Vec::new();
        while let Some(v) = std::future::poll_fn(|cx| Pin::new(&mut rx).poll_next(cx)).await {
            a.push(v);
        }
        let mut b = Vec::new();
        while let Some(v) = std::future::poll_fn(|cx| Pin::new(&mut urx).poll_next(cx)).await {
            b.push(v);
        }
        assert_eq!((a, b), (vec![0, 1, 2], vec![0, 10, 20]));
    });
}

#[test]
fn a_receiver_that_never_waits_still_lets_other_tasks_run() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        for i in 0..1000 {
            tx.send(i).unwrap();
        }
        let ran = Rc::new(Cell::new(false));
        let flag = ran.clone();
        ember::spawn(async move { flag.set(true) });
        for _ in 0..1000 {
            rx.recv().await.unwrap();
        }
        assert!(
            ran.get(),
            "the receiver yielded at least once in 1,000 messages"
        );
    });
}

#[test]
fn a_million_messages_between_two_tasks_arrive_in_order_exactly_once() {
    const N: u64 = 1_000_000;
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<u64>(256);
        let producer = ember::spawn(async move {
            for i in 0..N {
                tx.send(i).await.unwrap();
            }
        });
        let consumer = ember::spawn(async move {
            let mut next = 0u64;
            while let Some(v) = rx.recv().await {
                assert_eq!(v, next, "lost, duplicated or reordered");
                next += 1;
            }
            next
        });
        producer.await.unwrap();
        assert_eq!(consumer.await.unwrap(), N);
    });
}

#[test]
fn a_million_messages_from_four_plain_threads_arrive_once_each_in_per_sender_order() {
    const THREADS: u64 = 4;
    const PER_THREAD: u64 = 250_000;
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<(u64, u64)>(1024);
        let (utx, mut urx) = mpsc::unbounded_channel::<(u64, u64)>();
        let threads: Vec<_> = (0..THREADS)
            .map(|id| {
                let tx = tx.clone();
                let utx = utx.clone();
                std::thread::spawn(move || {
                    for seq in 0..PER_THREAD {
                        // Half bounded (parking when full), half unbounded.
                        if id % 2 == 0 {
                            tx.blocking_send((id, seq)).unwrap();
                        } else {
                            utx.send((id, seq)).unwrap();
                        }
                    }
                })
            })
            .collect();
        drop((tx, utx));
        let mut next = [0u64; THREADS as usize];
        let mut sum = 0u64;
        let mut count = 0u64;
        let mut check = |(id, seq): (u64, u64)| {
            assert_eq!(
                seq, next[id as usize],
                "sender {id}: lost, duplicated or reordered"
            );
            next[id as usize] += 1;
            sum += seq;
            count += 1;
        };
        let (mut bounded_open, mut unbounded_open) = (true, true);
        while bounded_open || unbounded_open {
            ember::select! {
                m = rx.recv(), if bounded_open => match m {
                    Some(m) => check(m),
                    None => bounded_open = false,
                },
                m = urx.recv(), if unbounded_open => match m {
                    Some(m) => check(m),
                    None => unbounded_open = false,
                },
            }
        }
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(count, THREADS * PER_THREAD);
        assert_eq!(sum, THREADS * (PER_THREAD * (PER_THREAD - 1) / 2));
        assert!(next.iter().all(|&n| n == PER_THREAD));
    });
}

#[test]
fn a_local_send_and_recv_make_no_syscall() {
    const N: u64 = 20_000;
    support::run(support::LIMIT, || async {
        // Ping-pong through two capacity-1 channels: every message wakes
        // the other task, the worst case for wake-ups.
        let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
        let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
        let before = stats();
        let echo = ember::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                pong_tx.send(v).await.unwrap();
            }
        });
        let pinger = ember::spawn(async move {
            for i in 0..N {
                ping_tx.send(i).await.unwrap();
                assert_eq!(pong_rx.recv().await, Some(i));
            }
        });
        pinger.await.unwrap();
        echo.await.unwrap();
        let after = stats();
        let polls = after.polls - before.polls;
        let waits = after.epoll_waits - before.epoll_waits;
        assert!(
            polls >= 2 * N,
            "each message woke its receiver ({polls} polls)"
        );
        assert_eq!(
            after.remote_wakes, before.remote_wakes,
            "no wake went through the eventfd"
        );
        assert_eq!(after.events, before.events, "the eventfd never rang");
        // The loop looks at I/O without blocking once every 61 polls; a
        // message costs no wait of its own.
        assert!(
            waits <= polls / 61 + 2,
            "{waits} epoll_waits for {N} round trips ({polls} polls)"
        );
    });
}

#[test]
fn senders_are_send_and_sync_and_local_types_are_fine_on_the_loop() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<mpsc::Sender<u32>>();
    send_sync::<mpsc::UnboundedSender<u32>>();
    send_sync::<mpsc::Receiver<u32>>();
    // A !Send message works between tasks on the loop.
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::unbounded_channel::<Rc<RefCell<u32>>>();
        tx.send(Rc::new(RefCell::new(7))).unwrap();
        assert_eq!(*rx.recv().await.unwrap().borrow(), 7);
    });
}

#[test]
#[should_panic(expected = "called from inside an ember runtime")]
fn blocking_send_on_the_loop_thread_panics_with_a_clear_message() {
    ember::block_on(async {
        let (tx, _rx) = mpsc::channel::<u32>(1);
        let _ = tx.blocking_send(1);
    });
}

#[test]
#[should_panic(expected = "capacity of at least 1")]
fn a_bounded_channel_of_capacity_zero_is_refused() {
    let _ = mpsc::channel::<u32>(0);
}

#[test]
fn blocking_recv_on_a_plain_thread_gets_what_a_task_sends() {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let thread = std::thread::spawn(move || {
        let mut got = Vec::new();
        while let Some(v) = rx.blocking_recv() {
            got.push(v);
        }
        got
    });
    support::run(support::LIMIT, move || async move {
        for i in 0..100 {
            tx.send(i).await.unwrap();
        }
    });
    assert_eq!(thread.join().unwrap(), (0..100).collect::<Vec<_>>());
}

#[test]
fn pinned_send_futures_can_be_polled_through_a_pin() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let fut = pin!(tx.send(5));
        fut.await.unwrap();
        assert_eq!(rx.recv().await, Some(5));
    });
}

/// Sends on its channel when dropped: re-enters the channel from a
/// destructor that the channel itself runs.
struct SendsOnDrop(Option<mpsc::UnboundedSender<SendsOnDrop>>, Arc<AtomicUsize>);

impl Drop for SendsOnDrop {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
        if let Some(tx) = self.0.take() {
            // The receiver is gone by now: the send fails and hands the
            // (empty) message back, which is dropped here.
            assert!(tx.send(SendsOnDrop(None, self.1.clone())).is_err());
        }
    }
}

#[test]
fn a_queued_message_whose_destructor_uses_the_channel_does_not_deadlock() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::unbounded_channel();
    tx.send(SendsOnDrop(Some(tx.clone()), drops.clone()))
        .unwrap();
    // Dropping the receiver drops the queued message, whose destructor
    // sends on the same channel: the lock must already be released.
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}
