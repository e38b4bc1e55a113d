//! `task_local!`: a value per scope, kept apart between tasks that share
//! the thread, restored after a panic, and readable in `sync_scope`.
#![cfg(feature = "time")]

mod support;

use std::time::Duration;

use support::{run, LIMIT};

ember::task_local! {
    static NAME: &'static str;
    /// A second key in the same block.
    pub static DEPTH: u32;
}

#[test]
fn two_tasks_interleaving_each_see_their_own_value() {
    run(LIMIT, || async {
        let a = ember::spawn(NAME.scope("a", async {
            let mut seen = Vec::new();
            for _ in 0..5 {
                seen.push(NAME.get());
                ember::time::sleep(Duration::from_millis(1)).await;
            }
            seen
        }));
        let b = ember::spawn(NAME.scope("b", async {
            let mut seen = Vec::new();
            for _ in 0..5 {
                seen.push(NAME.get());
                ember::task::yield_now().await;
            }
            seen
        }));
        assert!(a.await.unwrap().iter().all(|n| *n == "a"));
        assert!(b.await.unwrap().iter().all(|n| *n == "b"));
        assert!(NAME.try_get().is_err(), "no value outside the scopes");
    });
}

#[test]
fn nested_scopes_shadow_and_restore() {
    run(LIMIT, || async {
        DEPTH
            .scope(1, async {
                assert_eq!(DEPTH.get(), 1);
                DEPTH
                    .scope(2, async {
                        ember::task::yield_now().await;
                        assert_eq!(DEPTH.get(), 2);
                    })
                    .await;
                assert_eq!(DEPTH.get(), 1);
                let inner = DEPTH.sync_scope(3, || DEPTH.with(|d| d * 10));
                assert_eq!(inner, 30);
                assert_eq!(DEPTH.get(), 1);
            })
            .await;
    });
}

#[test]
fn a_panic_inside_a_scope_restores_the_slot() {
    run(LIMIT, || async {
        let h = ember::spawn(DEPTH.scope(9, async { panic!("expected by the test") }));
        assert!(h.await.unwrap_err().is_panic());
        assert!(
            DEPTH.try_get().is_err(),
            "the panicking scope left nothing behind"
        );
        let r = std::panic::catch_unwind(|| DEPTH.sync_scope(4, || panic!("expected too")));
        assert!(r.is_err());
        assert!(DEPTH.try_get().is_err());
    });
}

#[test]
#[should_panic(expected = "a task-local was read outside its scope")]
fn reading_outside_a_scope_panics_with_a_message_that_says_how_to_fix_it() {
    let _ = NAME.get();
}
