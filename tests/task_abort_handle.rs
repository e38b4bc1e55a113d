//! `AbortHandle`, task ids and `task::id()`.

mod support;

use std::collections::HashSet;

use ember::task::JoinSet;
use support::{run, LIMIT};

#[test]
fn an_abort_handle_cancels_without_owning_the_output() {
    run(LIMIT, || async {
        let h = ember::spawn(std::future::pending::<()>());
        let abort = h.abort_handle();
        assert_eq!(abort.id(), h.id());
        assert!(!abort.is_finished());
        abort.abort();
        assert!(h.await.unwrap_err().is_cancelled());
        assert!(abort.is_finished());
        // Dropping an abort handle leaves the task alone.
        let h = ember::spawn(async { 3 });
        drop(h.abort_handle());
        assert_eq!(h.await.unwrap(), 3);
    });
}

#[test]
fn task_ids_are_unique_and_task_id_names_the_running_task() {
    run(LIMIT, || async {
        let main = ember::task::id();
        let handles: Vec<_> = (0..100)
            .map(|_| ember::spawn(async { ember::task::id() }))
            .collect();
        let mut ids = HashSet::new();
        ids.insert(main);
        for h in handles {
            let id = h.id();
            assert_eq!(h.await.unwrap(), id);
            assert!(ids.insert(id), "id {id} handed out twice");
        }
        assert_eq!(ember::task::try_id(), Some(main));
    });
    assert_eq!(ember::task::try_id(), None);
}

#[test]
fn a_join_set_gives_an_abort_handle_per_task() {
    run(LIMIT, || async {
        let mut set = JoinSet::new();
        let stuck = set.spawn(std::future::pending::<u8>());
        set.spawn_local(async { 1u8 });
        stuck.abort();
        let mut ok = 0;
        let mut cancelled = 0;
        while let Some(r) = set.join_next().await {
            match r {
                Ok(v) => ok += v,
                Err(e) if e.is_cancelled() => cancelled += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!((ok, cancelled), (1, 1));
    });
}
