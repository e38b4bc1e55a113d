//! The paused clock: `time::pause`, `resume`, `advance` and
//! `Builder::start_paused`, with tokio's behaviour: time moves only when
//! asked to, or skips ahead to the next timer when the runtime has nothing
//! else to do; I/O goes on meanwhile.
//!
//! Every test runs under a watchdog of a minute; none asserts how fast it
//! runs beyond that, only what the paused clock reads.
#![cfg(feature = "time")]

use std::cell::Cell;
use std::future::pending;
use std::rc::Rc;
use std::time::Duration;

use ember::time::{self, interval, sleep, timeout, Instant};
use ember::Runtime;

mod support;

const HOUR: Duration = Duration::from_secs(3600);

/// Runs `make`'s future on a runtime whose clock starts paused, under the
/// watchdog.
fn run_paused<F, Fut>(make: F) -> Fut::Output
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future,
    Fut::Output: Send + 'static,
{
    support::within(support::LIMIT, move || {
        let rt = Runtime::builder()
            .start_paused(true)
            .build()
            .expect("a runtime");
        rt.block_on(make())
    })
}

#[test]
fn an_hourly_interval_ticks_24_times_in_a_paused_day() {
    let real = std::time::Instant::now();
    let (ticks, span) = run_paused(|| async {
        let start = Instant::now();
        let mut hourly = interval(HOUR);
        let mut ticks = vec![];
        for _ in 0..24 {
            ticks.push(hourly.tick().await);
        }
        (ticks.len(), ticks[23] - start)
    });
    assert_eq!(ticks, 24);
    assert_eq!(span, 23 * HOUR, "the first tick at once, then one an hour");
    // Not a timing assertion: only that a paused day is not a real one.
    assert!(real.elapsed() < support::LIMIT);
}

#[test]
fn a_timeout_with_the_clock_paused_fires_exactly_at_its_deadline() {
    run_paused(|| async {
        let start = Instant::now();
        let t = timeout(Duration::from_secs(30), pending::<()>());
        let deadline = t.deadline();
        assert_eq!(deadline, start + Duration::from_secs(30));
        assert!(t.await.is_err());
        assert_eq!(Instant::now(), deadline, "not a nanosecond later");
    });
}

#[test]
fn the_clock_stands_still_while_tasks_run() {
    run_paused(|| async {
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(5)); // real time passes
        ember::task::yield_now().await;
        assert_eq!(Instant::now(), start);
    });
}

#[test]
fn advance_moves_the_clock_and_fires_the_timers_it_passes() {
    run_paused(|| async {
        let start = Instant::now();
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        let sleeper = ember::spawn(async move {
            sleep(Duration::from_secs(10)).await;
            d.set(true);
        });
        ember::task::yield_now().await; // let it arm its timer
        time::advance(Duration::from_secs(4)).await;
        assert_eq!(Instant::now(), start + Duration::from_secs(4));
        assert!(!done.get());
        time::advance(Duration::from_secs(6)).await;
        assert_eq!(Instant::now(), start + Duration::from_secs(10));
        sleeper.await.expect("the sleeper does not panic");
        assert!(done.get());
    });
}

#[test]
fn sleeps_of_different_lengths_end_in_order_at_their_own_instants() {
    run_paused(|| async {
        let start = Instant::now();
        let order = Rc::new(std::cell::RefCell::new(vec![]));
        let mut handles = vec![];
        for secs in [50u64, 5, 86_400, 1] {
            let order = order.clone();
            handles.push(ember::spawn(async move {
                sleep(Duration::from_secs(secs)).await;
                order.borrow_mut().push((secs, Instant::now() - start));
            }));
        }
        for h in handles {
            h.await.expect("no panic");
        }
        let order = order.borrow().clone();
        let expected: Vec<(u64, Duration)> = [1u64, 5, 50, 86_400]
            .iter()
            .map(|s| (*s, Duration::from_secs(*s)))
            .collect();
        assert_eq!(order, expected);
    });
}

#[cfg(all(feature = "net", feature = "io-util"))]
#[test]
fn tcp_echo_works_while_the_clock_is_paused() {
    use ember::io::{AsyncReadExt, AsyncWriteExt};
    use ember::net::{TcpListener, TcpStream};

    run_paused(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let server = ember::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 1024];
            loop {
                let n = s.read(&mut buf).await.expect("read");
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await.expect("write");
            }
        });
        // A far timer is armed all along, so the loop takes its paused
        // path (look for I/O without blocking, then skip ahead) each time
        // it runs out of work; the echo must go on regardless.
        let far = ember::spawn(sleep(HOUR));
        let mut client = TcpStream::connect(addr).await.expect("connect");
        for round in 0..100u32 {
            let msg = format!("round {round}");
            client.write_all(msg.as_bytes()).await.expect("write");
            let mut back = vec![0u8; msg.len()];
            client.read_exact(&mut back).await.expect("read");
            assert_eq!(back, msg.as_bytes());
        }
        drop(client);
        server.await.expect("the server does not panic");
        far.abort();
    });
}

#[test]
fn the_clock_does_not_skip_ahead_while_a_blocking_job_runs() {
    run_paused(|| async {
        let start = Instant::now();
        let job = ember::spawn_blocking(|| std::thread::sleep(Duration::from_millis(50)));
        let r = timeout(Duration::from_secs(1), job).await;
        assert!(r.is_ok(), "the paused clock waited for the job");
        assert_eq!(Instant::now(), start);
    });
}

#[test]
fn resume_carries_on_from_the_paused_instant() {
    support::run(support::LIMIT, || async {
        time::pause();
        let paused = Instant::now();
        time::advance(HOUR).await;
        time::resume();
        let resumed = Instant::now();
        assert!(resumed >= paused + HOUR, "never back to the system clock");
        sleep(Duration::from_millis(2)).await; // real time again
        assert!(Instant::now() >= resumed + Duration::from_millis(2));
        time::pause(); // and it can be paused again
        let again = Instant::now();
        assert_eq!(Instant::now(), again);
    });
}

#[test]
#[should_panic(expected = "already paused")]
fn pausing_a_paused_clock_panics() {
    run_paused(|| async { time::pause() });
}

#[test]
#[should_panic(expected = "not paused")]
fn advancing_a_running_clock_panics() {
    support::run(support::LIMIT, || async {
        time::advance(Duration::from_secs(1)).await;
    });
}

#[test]
#[should_panic(expected = "outside an ember runtime")]
fn pausing_outside_a_runtime_panics() {
    time::pause();
}

#[test]
fn a_skipping_interval_with_the_clock_paused_keeps_its_schedule() {
    use ember::time::MissedTickBehavior;

    run_paused(|| async {
        let start = Instant::now();
        let mut every = interval(Duration::from_secs(10));
        every.set_missed_tick_behavior(MissedTickBehavior::Skip);
        assert_eq!(every.tick().await, start);
        // Busy (in paused time) for 35 s: the ticks at 10, 20, 30 s are missed.
        time::advance(Duration::from_secs(35)).await;
        assert_eq!(every.tick().await, start + Duration::from_secs(10));
        assert_eq!(every.tick().await, start + Duration::from_secs(40));
        assert_eq!(Instant::now(), start + Duration::from_secs(40));
    });
}

#[test]
fn a_long_timeout_counts_from_its_first_poll_even_across_an_advance() {
    // Unlike tokio's, whose deadline is fixed by the call: a timeout of
    // 100 ms or more reads no clock until it is armed (`docs/from-tokio.md`).
    // Made before an advance and first polled after it, it ends its full
    // duration after that poll, never sooner.
    run_paused(|| async {
        let t = timeout(Duration::from_secs(10), pending::<()>());
        time::advance(Duration::from_secs(4)).await;
        let polled = Instant::now();
        assert!(t.await.is_err());
        assert_eq!(Instant::now() - polled, Duration::from_secs(10));
    });
}
