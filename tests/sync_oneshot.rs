//! `ember::sync::oneshot`: values across threads in both directions, the
//! errors of each half being dropped, `close`, `try_recv`, `closed()`, and
//! what happens to a value nobody receives.
#![cfg(all(feature = "time", feature = "sync"))]

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::task::{Context, Poll, Waker};

use ember::sync::oneshot;

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
fn a_value_sent_from_a_plain_thread_wakes_the_waiting_task() {
    let got = support::run(support::LIMIT, || async {
        let (tx, rx) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            tx.send(String::from("from a thread")).unwrap();
        });
        let v = rx.await.unwrap();
        thread.join().unwrap();
        v
    });
    assert_eq!(got, "from a thread");
}

#[test]
fn a_thousand_requests_answered_by_a_plain_thread_all_come_back() {
    support::run(support::LIMIT, || async {
        // Requests carry their reply channel, as in an actor.
        let (req_tx, req_rx) = std_mpsc::channel::<(u64, oneshot::Sender<u64>)>();
        let server = std::thread::spawn(move || {
            for (n, reply) in req_rx {
                let _ = reply.send(n * 2);
            }
        });
        for n in 0..1000 {
            let (tx, rx) = oneshot::channel();
            req_tx.send((n, tx)).unwrap();
            assert_eq!(rx.await, Ok(n * 2));
        }
        drop(req_tx);
        server.join().unwrap();
    });
}

#[test]
fn a_plain_thread_can_block_on_a_value_a_task_sends() {
    let (tx, rx) = oneshot::channel::<u32>();
    let thread = std::thread::spawn(move || rx.blocking_recv());
    support::run(support::LIMIT, move || async move {
        ember::time::sleep(std::time::Duration::from_millis(10)).await;
        tx.send(9).unwrap();
    });
    assert_eq!(thread.join().unwrap(), Ok(9));
}

#[test]
fn dropping_the_sender_completes_the_receiver_with_an_error() {
    support::run(support::LIMIT, || async {
        let (tx, rx) = oneshot::channel::<u32>();
        let waiter = ember::spawn(rx);
        ember::task::yield_now().await;
        drop(tx);
        let err = waiter.await.unwrap().unwrap_err();
        assert_eq!(
            err.to_string(),
            "the oneshot sender was dropped without sending"
        );
    });
}

#[test]
fn a_send_to_a_dropped_receiver_gives_the_value_back_and_drops_nothing() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    let back = tx.send(Counted(drops.clone())).expect_err("send must fail");
    assert_eq!(drops.load(Ordering::SeqCst), 0, "the value came back whole");
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn a_value_sent_but_never_received_is_dropped_with_the_receiver() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot::channel();
    tx.send(Counted(drops.clone()))
        .ok()
        .expect("receiver alive");
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn try_recv_says_empty_then_gives_the_value_then_says_closed() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Empty));
    tx.send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));
}

#[test]
fn close_makes_a_later_send_fail_but_keeps_a_value_sent_before() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    assert_eq!(tx.send(1), Err(1));
    assert!(matches!(poll_once(&mut rx), Poll::Ready(Err(_))));

    let (tx, mut rx) = oneshot::channel::<u8>();
    tx.send(2).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn closed_completes_when_the_receiver_goes_away_even_on_another_thread() {
    support::run(support::LIMIT, || async {
        let (mut tx, rx) = oneshot::channel::<u32>();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(10));
            drop(rx);
        });
        tx.closed().await;
        assert!(tx.is_closed());
        thread.join().unwrap();
    });
}

#[test]
fn awaiting_a_borrowed_receiver_is_cancel_safe() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = oneshot::channel::<u32>();
        // The first wait gives up; the value sent afterwards is still there.
        ember::select! {
            _ = &mut rx => panic!("nothing was sent yet"),
            () = ember::task::yield_now() => {}
        }
        tx.send(5).unwrap();
        assert_eq!(rx.await, Ok(5));
    });
}

#[test]
fn both_halves_are_send_when_the_value_is() {
    fn send<T: Send>() {}
    send::<oneshot::Sender<String>>();
    send::<oneshot::Receiver<String>>();
}

#[test]
fn is_empty_and_is_terminated_follow_the_value() {
    ember::block_on(async {
        let (tx, mut rx) = ember::sync::oneshot::channel();
        assert!(rx.is_empty());
        assert!(!rx.is_terminated());
        tx.send(1).unwrap();
        assert!(!rx.is_empty());
        assert_eq!((&mut rx).await, Ok(1));
        assert!(rx.is_empty());
        assert!(rx.is_terminated());
        let (tx, mut rx) = ember::sync::oneshot::channel::<u8>();
        drop(tx);
        assert!((&mut rx).await.is_err());
        assert!(rx.is_terminated());
    });
}
