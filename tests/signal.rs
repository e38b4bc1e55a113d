//! Signals: delivery to a sleeping loop whatever thread the kernel picks,
//! several listeners, restored dispositions, `ctrl_c`, bursts.
//!
//! Signals are process-wide, so every test that installs a handler or sends
//! a signal runs in a child process of its own (`in_child`): tests running
//! side by side in one process would see each other's signals and
//! dispositions. No thread in these processes blocks any signal.
#![cfg(feature = "signal")]

mod support;

use std::future::poll_fn;
use std::io::ErrorKind;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use ember::signal::{ctrl_c, Signals};
use futures_core::Stream;
use support::in_child;

/// Sends `sig` to the whole process (any thread may take it).
fn kill_process(sig: i32) {
    // SAFETY: plain syscalls with integer arguments.
    let r = unsafe { libc::kill(libc::getpid(), sig) };
    assert_eq!(r, 0, "kill failed");
}

/// Sends `sig` to the process from a new thread, after `delay`.
fn kill_later(sig: i32, delay: Duration) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        kill_process(sig);
    })
}

/// The handler address `sigaction` reports for `sig` now.
fn current_handler(sig: i32) -> libc::sighandler_t {
    // SAFETY: an all-zero `sigaction` is a valid out-buffer; a null new
    // action only queries.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, std::ptr::null(), &mut old), 0);
        old.sa_sigaction
    }
}

#[test]
fn a_signal_sent_while_the_loop_sleeps_is_received() {
    if !in_child("a_signal_sent_while_the_loop_sleeps_is_received") {
        return;
    }
    support::run(support::LIMIT, || async {
        let mut signals = Signals::new(&[libc::SIGUSR1]).unwrap();
        // Nothing else runs: the loop blocks in epoll_wait (no timer) until
        // the handler, on whichever thread, rings the pipe.
        let sender = kill_later(libc::SIGUSR1, Duration::from_millis(100));
        assert_eq!(signals.recv().await, Some(libc::SIGUSR1));
        sender.join().unwrap();
        assert!(ember::runtime::stats().epoll_waits >= 1);
    });
}

#[test]
fn a_signal_the_kernel_hands_to_another_thread_still_reaches_the_loop() {
    if !in_child("a_signal_the_kernel_hands_to_another_thread_still_reaches_the_loop") {
        return;
    }
    support::run(support::LIMIT, || async {
        let mut signals = Signals::new(&[libc::SIGUSR1]).unwrap();
        // Directed at a thread that has not blocked it: the handler runs
        // there, not on the loop's thread. (With a plain signalfd, this
        // thread would take the default action and end the process.)
        let other = std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            // SAFETY: signals the calling thread itself, which is alive.
            let r = unsafe { libc::pthread_kill(libc::pthread_self(), libc::SIGUSR1) };
            assert_eq!(r, 0);
        });
        assert_eq!(signals.recv().await, Some(libc::SIGUSR1));
        other.join().unwrap();
    });
}

#[test]
fn two_listeners_for_the_same_signal_both_see_it() {
    if !in_child("two_listeners_for_the_same_signal_both_see_it") {
        return;
    }
    support::run(support::LIMIT, || async {
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let mut signals = Signals::new(&[libc::SIGUSR1]).unwrap();
                ember::spawn(async move { signals.recv().await })
            })
            .collect();
        let sender = kill_later(libc::SIGUSR1, Duration::from_millis(100));
        for t in tasks {
            assert_eq!(t.await.unwrap(), Some(libc::SIGUSR1));
        }
        sender.join().unwrap();
    });
}

#[test]
fn dropping_one_listener_does_not_starve_the_other() {
    if !in_child("dropping_one_listener_does_not_starve_the_other") {
        return;
    }
    support::run(support::LIMIT, || async {
        let mut first = Signals::new(&[libc::SIGUSR1]).unwrap();
        let mut second = Signals::new(&[libc::SIGUSR1]).unwrap();
        // `first` takes the delivery and empties the pipe, then goes away
        // before `second` has ever polled.
        kill_later(libc::SIGUSR1, Duration::from_millis(50));
        assert_eq!(first.recv().await, Some(libc::SIGUSR1));
        drop(first);
        assert_eq!(second.recv().await, Some(libc::SIGUSR1));
        // And later deliveries still reach the survivor.
        kill_later(libc::SIGUSR1, Duration::from_millis(50));
        assert_eq!(second.recv().await, Some(libc::SIGUSR1));
    });
}

static CUSTOM_HANDLER_RAN: AtomicUsize = AtomicUsize::new(0);

extern "C" fn custom_handler(_: libc::c_int) {
    CUSTOM_HANDLER_RAN.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn the_previous_disposition_comes_back_when_the_last_listener_goes() {
    if !in_child("the_previous_disposition_comes_back_when_the_last_listener_goes") {
        return;
    }
    let custom = custom_handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: installs a handler that only touches an atomic.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = custom;
        assert_eq!(
            libc::sigaction(libc::SIGUSR2, &act, std::ptr::null_mut()),
            0
        );
    }
    assert_eq!(current_handler(libc::SIGHUP), libc::SIG_DFL);
    support::run(support::LIMIT, move || async move {
        let a = Signals::new(&[libc::SIGUSR2, libc::SIGHUP]).unwrap();
        let b = Signals::new(&[libc::SIGUSR2]).unwrap();
        let ember_handler = current_handler(libc::SIGUSR2);
        assert_ne!(ember_handler, custom, "ember did not install its handler");
        assert_ne!(current_handler(libc::SIGHUP), libc::SIG_DFL);
        drop(a);
        assert_eq!(current_handler(libc::SIGHUP), libc::SIG_DFL, "SIGHUP");
        assert_eq!(
            current_handler(libc::SIGUSR2),
            ember_handler,
            "restored while a listener remained"
        );
        drop(b);
        assert_eq!(current_handler(libc::SIGUSR2), custom, "not restored");
    });
    // The restored handler is the one that runs. (`raise` runs it on this
    // thread before returning; `kill` could pick another thread, later.)
    // SAFETY: a plain syscall; the handler only touches an atomic.
    assert_eq!(unsafe { libc::raise(libc::SIGUSR2) }, 0);
    assert_eq!(CUSTOM_HANDLER_RAN.load(Ordering::SeqCst), 1);
}

#[test]
fn ctrl_c_completes_on_sigint_and_gives_sigint_back_afterwards() {
    if !in_child("ctrl_c_completes_on_sigint_and_gives_sigint_back_afterwards") {
        return;
    }
    // What SIGINT was before: `SIG_DFL`, or `SIG_IGN` when the tests run
    // in the background of a non-interactive shell, which ignores SIGINT
    // for its background jobs (and their children inherit it).
    let before = current_handler(libc::SIGINT);
    support::run(support::LIMIT, move || async move {
        let waiter = ember::spawn(ctrl_c());
        // Let it start listening (it does so when first polled) before the
        // signal exists; otherwise SIGINT would end this process.
        ember::task::yield_now().await;
        assert_ne!(current_handler(libc::SIGINT), before);
        let sender = kill_later(libc::SIGINT, Duration::from_millis(50));
        waiter.await.unwrap().expect("ctrl_c");
        sender.join().unwrap();
        assert_eq!(
            current_handler(libc::SIGINT),
            before,
            "given back as it was"
        );
    });
}

#[test]
fn a_hundred_signals_sent_one_after_another_are_each_received() {
    if !in_child("a_hundred_signals_sent_one_after_another_are_each_received") {
        return;
    }
    support::run(support::LIMIT, || async {
        let mut signals = Signals::new(&[libc::SIGUSR1]).unwrap();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let sender = std::thread::spawn(move || {
            while go_rx.recv().is_ok() {
                kill_process(libc::SIGUSR1);
            }
        });
        for round in 0..100 {
            // The sender may signal before or after the loop goes to sleep:
            // either way this delivery must be seen.
            go_tx.send(()).unwrap();
            assert_eq!(signals.recv().await, Some(libc::SIGUSR1), "round {round}");
        }
        drop(go_tx);
        sender.join().unwrap();
    });
}

#[test]
fn a_burst_of_signals_is_seen_and_the_next_one_is_not_lost() {
    if !in_child("a_burst_of_signals_is_seen_and_the_next_one_is_not_lost") {
        return;
    }
    support::run(support::LIMIT, || async {
        let mut signals = Signals::new(&[libc::SIGUSR1]).unwrap();
        std::thread::spawn(|| (0..200).for_each(|_| kill_process(libc::SIGUSR1)))
            .join()
            .unwrap();
        // Pending deliveries of one signal merge: at least one is seen.
        assert_eq!(signals.recv().await, Some(libc::SIGUSR1));
        // Whatever the burst left unread has merged into at most a few more;
        // a delivery after this point is still seen.
        kill_later(libc::SIGUSR1, Duration::from_millis(50));
        assert_eq!(signals.recv().await, Some(libc::SIGUSR1));
    });
}

#[test]
fn a_set_of_signals_reports_each_of_them_as_a_stream() {
    if !in_child("a_set_of_signals_reports_each_of_them_as_a_stream") {
        return;
    }
    support::run(support::LIMIT, || async {
        let mut signals = Signals::new(&[libc::SIGUSR1, libc::SIGUSR2, libc::SIGUSR1]).unwrap();
        kill_process(libc::SIGUSR2);
        kill_process(libc::SIGUSR1);
        let mut got = Vec::new();
        for _ in 0..2 {
            let next = poll_fn(|cx| Pin::new(&mut signals).poll_next(cx)).await;
            got.push(next.expect("the stream never ends"));
        }
        got.sort_unstable();
        assert_eq!(got, [libc::SIGUSR1, libc::SIGUSR2]);
    });
}

#[test]
fn two_runtimes_on_two_threads_both_see_one_signal() {
    if !in_child("two_runtimes_on_two_threads_both_see_one_signal") {
        return;
    }
    let ready = Arc::new(Barrier::new(3));
    let runtimes: Vec<_> = (0..2)
        .map(|_| {
            let ready = ready.clone();
            std::thread::spawn(move || {
                ember::block_on(async move {
                    let mut signals = Signals::new(&[libc::SIGUSR1]).unwrap();
                    ready.wait();
                    signals.recv().await
                })
            })
        })
        .collect();
    ready.wait();
    kill_process(libc::SIGUSR1);
    for rt in runtimes {
        assert_eq!(rt.join().unwrap(), Some(libc::SIGUSR1));
    }
}

#[test]
fn a_runtime_whose_loop_was_busy_when_another_drained_the_pipe_still_sees_the_signal() {
    if !in_child(
        "a_runtime_whose_loop_was_busy_when_another_drained_the_pipe_still_sees_the_signal",
    ) {
        return;
    }
    // Runtime A listens to SIGUSR2 and waits in epoll_wait; a SIGUSR1 rings
    // the shared pipe, wakes A, and A (nothing for it) drains the pipe.
    // Runtime B, listening to SIGUSR1, is blocked meanwhile; when it next
    // calls epoll_wait the pipe is empty again, and epoll (which re-checks
    // readiness before it reports an edge) says nothing. B hears of its
    // signal only because A wakes every listener after draining.
    let ready = Arc::new(Barrier::new(3));
    let a = {
        let ready = ready.clone();
        std::thread::spawn(move || {
            ember::block_on(async move {
                let mut signals = Signals::new(&[libc::SIGUSR2]).unwrap();
                ready.wait();
                signals.recv().await
            })
        })
    };
    let b = {
        let ready = ready.clone();
        std::thread::spawn(move || {
            ember::block_on(async move {
                let mut signals = Signals::new(&[libc::SIGUSR1]).unwrap();
                let listener = ember::spawn(async move { signals.recv().await });
                ember::task::yield_now().await; // the listener polls, waits
                ready.wait();
                std::thread::sleep(Duration::from_millis(300)); // a busy loop
                listener.await.unwrap()
            })
        })
    };
    ready.wait();
    kill_process(libc::SIGUSR1);
    assert_eq!(b.join().unwrap(), Some(libc::SIGUSR1));
    kill_process(libc::SIGUSR2);
    assert_eq!(a.join().unwrap(), Some(libc::SIGUSR2));
}

#[test]
fn signals_that_cannot_be_listened_to_are_invalid_input() {
    // Nothing is installed for these, so this runs in the shared process.
    support::run(support::LIMIT, || async {
        for set in [
            &[][..],
            &[0],
            &[65],
            &[-3],
            &[libc::SIGKILL],
            &[libc::SIGSTOP],
            &[libc::SIGSEGV],
            &[libc::SIGTERM, libc::SIGFPE],
        ] {
            let err = Signals::new(set).expect_err("refused");
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{set:?}: {err}");
        }
        assert_eq!(current_handler(libc::SIGTERM), libc::SIG_DFL);
    });
}

#[test]
fn signal_by_name_receives_each_delivery_of_its_kind() {
    use ember::signal::unix::{signal, SignalKind};
    if !in_child("signal_by_name_receives_each_delivery_of_its_kind") {
        return;
    }
    assert_eq!(SignalKind::user_defined2().as_raw_value(), libc::SIGUSR2);
    assert_eq!(SignalKind::terminate(), SignalKind::from_raw(libc::SIGTERM));
    assert_eq!(i32::from(SignalKind::hangup()), libc::SIGHUP);
    support::run(support::LIMIT, || async {
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        for _ in 0..3 {
            let sender = kill_later(libc::SIGUSR2, Duration::from_millis(20));
            assert_eq!(usr2.recv().await, Some(()));
            sender.join().unwrap();
        }
        let e = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let e = signal(SignalKind::from_raw(0)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    });
}
