//! `ember::sync::Barrier`: nobody passes before the `n`th arrival, exactly
//! one leader per generation, and the barrier is reusable.
#![cfg(feature = "sync")]

mod support;

use std::cell::Cell;
use std::rc::Rc;

use ember::sync::Barrier;

#[test]
fn a_barrier_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Barrier>();
}

#[test]
fn nobody_passes_before_the_last_arrival_and_one_is_the_leader() {
    support::run(support::LIMIT, || async {
        let barrier = Rc::new(Barrier::new(4));
        let passed = Rc::new(Cell::new(0));
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let (b, p) = (barrier.clone(), passed.clone());
            tasks.push(ember::spawn(async move {
                let r = b.wait().await;
                p.set(p.get() + 1);
                r.is_leader()
            }));
        }
        for _ in 0..5 {
            ember::task::yield_now().await;
        }
        assert_eq!(passed.get(), 0, "three of four arrived: all wait");
        let mine = barrier.wait().await.is_leader();
        assert!(mine, "the last to arrive leads");
        let mut leaders = mine as u32;
        for t in tasks {
            leaders += t.await.unwrap() as u32;
        }
        assert_eq!(leaders, 1);
        assert_eq!(passed.get(), 3);
    });
}

#[test]
fn a_barrier_can_be_used_for_several_generations() {
    support::run(support::LIMIT, || async {
        let barrier = Rc::new(Barrier::new(2));
        let b = barrier.clone();
        let other = ember::spawn(async move {
            let mut leaders = 0;
            for _ in 0..10 {
                leaders += b.wait().await.is_leader() as u32;
            }
            leaders
        });
        let mut leaders = 0;
        for _ in 0..10 {
            leaders += barrier.wait().await.is_leader() as u32;
        }
        assert_eq!(leaders + other.await.unwrap(), 10, "one per generation");
    });
}

#[test]
fn a_barrier_of_zero_or_one_never_waits() {
    support::run(support::LIMIT, || async {
        assert!(Barrier::new(0).wait().await.is_leader());
        assert!(Barrier::new(1).wait().await.is_leader());
    });
}
