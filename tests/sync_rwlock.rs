//! `ember::sync::RwLock`: shared readers, one writer, tokio's fair policy
//! (a waiting writer blocks later readers), `downgrade`, `map`, owned
//! guards released when their task is aborted, `with_max_readers`.
#![cfg(feature = "sync")]
// `lock_owned` takes an `Arc` (tokio's signature) of a lock that is not
// `Sync`: clippy's lint is right that no other thread can use it, which is
// the design (see `sync::Mutex`).
#![allow(clippy::arc_with_non_send_sync)]

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use ember::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Lets every runnable task run a few times.
async fn settle() {
    for _ in 0..5 {
        ember::task::yield_now().await;
    }
}

#[test]
fn an_rwlock_is_send() {
    fn send<T: Send>() {}
    send::<RwLock<Vec<u8>>>();
}

#[test]
fn readers_share_the_lock_and_a_writer_excludes_them() {
    let lock = RwLock::new(1);
    let a = lock.try_read().unwrap();
    let b = lock.try_read().unwrap();
    assert!(lock.try_write().is_err());
    assert_eq!(*a + *b, 2);
    drop((a, b));
    let mut w = lock.try_write().unwrap();
    *w = 5;
    assert!(lock.try_read().is_err());
    drop(w);
    assert_eq!(*lock.try_read().unwrap(), 5);
}

#[test]
fn a_waiting_writer_blocks_readers_that_arrive_after_it() {
    support::run(support::LIMIT, || async {
        let lock = Rc::new(RwLock::new(0));
        let order = Rc::new(RefCell::new(Vec::new()));
        let r = lock.read().await;
        let (l, o) = (lock.clone(), order.clone());
        let writer = ember::spawn(async move {
            *l.write().await += 1;
            o.borrow_mut().push("writer");
        });
        settle().await;
        assert!(lock.try_read().is_err(), "a writer waits: no new reader");
        let (l, o) = (lock.clone(), order.clone());
        let reader = ember::spawn(async move {
            let v = *l.read().await;
            o.borrow_mut().push("reader");
            v
        });
        settle().await;
        assert!(order.borrow().is_empty());
        drop(r);
        writer.await.unwrap();
        assert_eq!(reader.await.unwrap(), 1, "the reader saw the write");
        assert_eq!(*order.borrow(), ["writer", "reader"]);
    });
}

#[test]
fn downgrade_keeps_the_value_and_lets_waiting_readers_in() {
    support::run(support::LIMIT, || async {
        let lock = Rc::new(RwLock::new(0));
        let mut w = lock.write().await;
        *w = 3;
        let l = lock.clone();
        let reader = ember::spawn(async move { *l.read().await });
        settle().await;
        let r = RwLockWriteGuard::downgrade(w);
        assert_eq!(*r, 3);
        assert_eq!(reader.await.unwrap(), 3);
        assert!(lock.try_write().is_err());
        drop(r);
        assert!(lock.try_write().is_ok());
    });
}

#[test]
fn guards_map_to_a_part_of_the_value() {
    let lock = RwLock::new((1, vec![2, 3]));
    {
        let mut w = RwLockWriteGuard::map(lock.try_write().unwrap(), |v| &mut v.1);
        w.push(4);
    }
    let r = RwLockReadGuard::map(lock.try_read().unwrap(), |v| &v.1);
    assert_eq!(*r, [2, 3, 4]);
    drop(r);
    let r = RwLockReadGuard::try_map(lock.try_read().unwrap(), |v| v.1.get(9)).unwrap_err();
    assert_eq!(r.0, 1);
    drop(r);
    let w = RwLockWriteGuard::try_map(lock.try_write().unwrap(), |v| v.1.get_mut(0)).unwrap();
    assert_eq!(*w, 2);
    assert!(lock.try_read().is_err(), "a mapped guard holds the lock");
}

#[test]
fn owned_guards_are_released_when_their_tasks_are_aborted() {
    support::run(support::LIMIT, || async {
        let lock = Arc::new(RwLock::new(String::from("a")));
        let l = lock.clone();
        let reader = ember::spawn(async move {
            let r = l.read_owned().await;
            assert_eq!(*r, "a");
            std::future::pending::<()>().await;
        });
        settle().await;
        let l = lock.clone();
        let writer = ember::spawn(async move {
            let mut w = l.write_owned().await;
            w.push('b');
            std::future::pending::<()>().await;
        });
        settle().await;
        assert!(lock.try_read().is_err(), "the writer waits, readers queue");
        reader.abort();
        assert!(reader.await.unwrap_err().is_cancelled());
        settle().await;
        assert!(lock.try_read().is_err(), "the writer holds it now");
        writer.abort();
        assert!(writer.await.unwrap_err().is_cancelled());
        assert_eq!(*lock.read().await, "ab");
        assert!(lock.clone().try_write_owned().is_ok());
    });
}

#[test]
fn with_max_readers_limits_concurrent_readers() {
    let lock = RwLock::with_max_readers(0, 2);
    let a = lock.try_read().unwrap();
    let _b = lock.try_read().unwrap();
    assert!(lock.try_read().is_err());
    drop(a);
    assert!(lock.try_read().is_ok());
}
