//! `timeout` and `timeout_at`: alone, and around real I/O on loopback (a
//! silent peer, a peer that never answers a connect, a refusing port).
//!
//! Timing bounds are generous; one is strict: no timeout gives up before
//! its deadline.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

use std::cell::Cell;
use std::future::{pending, ready};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd};
use std::rc::Rc;
use std::time::Duration;

use ember::time::Instant;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use ember::runtime::stats;
use ember::time::{sleep, timeout, timeout_at, Elapsed};

mod support;

#[test]
fn a_future_that_finishes_in_time_gives_its_output() {
    support::run(support::LIMIT, || async {
        let r = timeout(Duration::from_secs(5), async {
            sleep(Duration::from_millis(1)).await;
            "done"
        })
        .await;
        assert_eq!(r, Ok("done"));
    });
}

#[test]
fn a_timeout_never_gives_up_before_its_deadline() {
    support::run(support::LIMIT, || async {
        // 150 ms and more: armed a duration after the store's time, made
        // exact by the loop's next clock reading (see `Timers::observe`).
        for micros in [20, 300, 4_000, 30_000, 150_000] {
            let d = Duration::from_micros(micros);
            let start = Instant::now();
            let r = timeout(d, pending::<()>()).await;
            assert_eq!(r, Err::<(), _>(elapsed()));
            assert!(start.elapsed() >= d, "timeout({d:?}) gave up early");
        }
    });
}

#[test]
fn timeout_at_gives_up_at_its_deadline_and_not_before() {
    support::run(support::LIMIT, || async {
        let deadline = Instant::now() + Duration::from_millis(3);
        let t = timeout_at(deadline, pending::<()>());
        assert_eq!(t.deadline(), deadline);
        assert!(t.await.is_err());
        assert!(Instant::now() >= deadline);
    });
}

#[test]
fn a_ready_future_wins_over_a_zero_or_past_deadline() {
    support::run(support::LIMIT, || async {
        let before = stats();
        assert_eq!(timeout(Duration::ZERO, ready(5)).await, Ok(5));
        let past = Instant::now() - Duration::from_secs(1);
        assert_eq!(timeout_at(past, ready(6)).await, Ok(6));
        let after = stats();
        assert_eq!(after.epoll_waits, before.epoll_waits, "no wait was needed");
        assert_eq!(
            after.timers_fired, before.timers_fired,
            "no timer was armed"
        );
    });
}

#[test]
fn a_pending_future_under_a_zero_or_past_deadline_gives_elapsed_at_once() {
    support::run(support::LIMIT, || async {
        let start = Instant::now();
        assert!(timeout(Duration::ZERO, pending::<()>()).await.is_err());
        let past = Instant::now() - Duration::from_secs(1);
        assert!(timeout_at(past, pending::<()>()).await.is_err());
        assert!(start.elapsed() < Duration::from_secs(1));
    });
}

#[test]
fn a_timeout_of_duration_max_is_no_deadline_at_all() {
    support::run(support::LIMIT, || async {
        let r = timeout(Duration::MAX, sleep(Duration::from_millis(2))).await;
        assert_eq!(r, Ok(()));
    });
}

#[test]
fn a_timeout_that_completes_in_time_leaves_no_timer_to_fire() {
    support::run(support::LIMIT, || async {
        let r = timeout(Duration::from_millis(20), sleep(Duration::from_millis(1))).await;
        assert!(r.is_ok());
        let fired = stats().timers_fired;
        sleep(Duration::from_millis(50)).await;
        // Only this sleep fired: the timeout's 20 ms timer was cancelled.
        assert_eq!(stats().timers_fired, fired + 1);
    });
}

#[test]
fn the_inner_of_two_nested_timeouts_gives_up_first() {
    support::run(support::LIMIT, || async {
        let outer = timeout(
            Duration::from_secs(10),
            timeout(Duration::from_millis(5), pending::<()>()),
        );
        assert_eq!(outer.await, Ok(Err(elapsed())));
    });
}

#[test]
fn a_timed_out_future_is_dropped_with_the_timeout() {
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    support::run(support::LIMIT, || async {
        let dropped = Rc::new(Cell::new(false));
        let flag = Flag(dropped.clone());
        let r = timeout(Duration::from_millis(2), async move {
            let _flag = flag;
            pending::<()>().await
        })
        .await;
        assert!(r.is_err());
        assert!(dropped.get());
    });
}

#[test]
fn into_inner_gives_the_future_back_without_its_deadline() {
    support::run(support::LIMIT, || async {
        let t = timeout(Duration::ZERO, sleep(Duration::from_millis(2)));
        assert!(t.get_ref().deadline() > Instant::now());
        let inner = t.into_inner();
        inner.await; // no deadline any more: it completes
    });
}

#[test]
fn elapsed_is_an_error_that_converts_into_io_timed_out() {
    fn with_question_mark(r: Result<(), Elapsed>) -> io::Result<()> {
        r?;
        Ok(())
    }
    let e = elapsed();
    assert_eq!(e.to_string(), "deadline has elapsed");
    let dyn_error: &dyn std::error::Error = &e;
    assert!(dyn_error.source().is_none());
    let io_error: io::Error = e.into();
    assert_eq!(io_error.kind(), io::ErrorKind::TimedOut);
    let via_try = with_question_mark(Err(e)).unwrap_err();
    assert_eq!(via_try.kind(), io::ErrorKind::TimedOut);
    assert!(via_try.to_string().contains("deadline has elapsed"));
}

#[test]
fn a_read_from_a_silent_peer_times_out_and_the_stream_stays_usable() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();

        let mut buf = [0u8; 16];
        let start = Instant::now();
        let r = timeout(Duration::from_millis(100), client.read(&mut buf)).await;
        assert_eq!(r.unwrap_err(), elapsed());
        assert!(start.elapsed() >= Duration::from_millis(100));

        server.write_all(b"late hello").await.unwrap();
        let n = timeout(Duration::from_secs(10), client.read(&mut buf))
            .await
            .expect("the peer has written: the read must not time out")
            .unwrap();
        assert_eq!(&buf[..n], b"late hello");
        // And the other direction still works.
        client.write_all(b"reply").await.unwrap();
        let mut reply = [0u8; 5];
        server.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"reply");
    });
}

#[test]
fn a_refused_connect_is_an_error_not_a_timeout() {
    // A port that was just free: bind, note it, close.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    support::run(support::LIMIT, move || async move {
        let r = timeout(Duration::from_secs(10), TcpStream::connect(addr)).await;
        let e = r.expect("refused at once, not timed out").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
    });
}

/// A listener that never answers new connections: its accept queue (backlog
/// 0, so one connection) is full and never drained, and Linux drops the
/// SYNs that arrive at a listener with a full accept queue. The client
/// retransmits after 1 s, 3 s, 7 s, ... so its connect hangs. Returns the
/// listener, its address and the connections that filled the queue.
fn unanswering_listener() -> (std::net::TcpListener, SocketAddr, Vec<std::net::TcpStream>) {
    // SAFETY: plain integer arguments; the result is checked below.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(raw >= 0, "socket: {}", io::Error::last_os_error());
    // SAFETY: `raw` is a new fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let listener = std::net::TcpListener::from(fd);
    let mut sin: libc::sockaddr_in = {
        // SAFETY: all-zero bytes are a valid sockaddr_in.
        unsafe { std::mem::zeroed() }
    };
    sin.sin_family = libc::AF_INET as libc::sa_family_t;
    sin.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
    sin.sin_port = 0;
    // SAFETY: `sin` is an initialised sockaddr_in and the length is its size.
    let r = unsafe {
        libc::bind(
            raw,
            (&sin as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "bind: {}", io::Error::last_os_error());
    // SAFETY: `raw` is a bound TCP socket owned by `listener`.
    let r = unsafe { libc::listen(raw, 0) };
    assert_eq!(r, 0, "listen: {}", io::Error::last_os_error());
    let addr = listener.local_addr().unwrap();
    // Fill the queue: connect until a connect does not complete.
    let mut fillers = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => fillers.push(s),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return (listener, addr, fillers),
            Err(e) => panic!("filling the accept queue: {e}"),
        }
    }
    panic!("16 connects completed to a listener with backlog 0 and no accept");
}

#[test]
fn connecting_under_a_timeout_to_a_peer_that_never_answers_gives_elapsed_and_leaks_no_fd() {
    // Counting the process's fds needs a process of its own: the other
    // tests of this file open sockets in parallel.
    const NAME: &str =
        "connecting_under_a_timeout_to_a_peer_that_never_answers_gives_elapsed_and_leaks_no_fd";
    const DONE: &str = "child: ten connects timed out, no fd leaked";
    if !support::is_child() {
        let out = support::run_in_child(NAME, support::LIMIT);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains(DONE),
            "the child failed: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        );
        return;
    }
    let (listener, addr, fillers) = unanswering_listener();
    println!(
        "child: the accept queue is full after {} connect(s)",
        fillers.len()
    );
    support::run(support::LIMIT, move || async move {
        let fds = support::open_fds();
        let registered = stats().fds_registered;
        for _ in 0..10 {
            let start = Instant::now();
            let r = timeout(Duration::from_millis(50), TcpStream::connect(addr)).await;
            assert_eq!(r.map(|_| ()).unwrap_err(), elapsed());
            assert!(start.elapsed() >= Duration::from_millis(50));
        }
        assert_eq!(support::open_fds(), fds, "a timed-out connect leaked an fd");
        assert_eq!(stats().fds_registered, registered);
    });
    drop((listener, fillers));
    println!("{DONE}");
}

/// An `Elapsed`, made the only way users can make one (on a thread of its
/// own, since a runtime may already run on this one).
fn elapsed() -> Elapsed {
    std::thread::spawn(|| ember::block_on(timeout(Duration::ZERO, pending::<()>())))
        .join()
        .unwrap()
        .unwrap_err()
}

#[test]
fn a_timeout_armed_late_in_a_long_turn_still_never_gives_up_early() {
    // The store's time is the loop's last clock reading, from before the
    // turn (another timer keeps the store from reading the clock when the
    // timeout arms). A task polled after another ran for 50 ms arms a
    // 200 ms timeout then: it counts from then, not from that reading.
    support::run(support::LIMIT, || async {
        let far = ember::spawn(sleep(Duration::from_secs(60)));
        let spinner = ember::spawn(async {
            ember::task::yield_now().await;
            let busy = std::time::Instant::now();
            while busy.elapsed() < Duration::from_millis(50) {
                std::hint::spin_loop();
            }
        });
        let armer = ember::spawn(async {
            ember::task::yield_now().await; // polled again after the spinner
            let start = Instant::now();
            let r = timeout(Duration::from_millis(200), pending::<()>()).await;
            assert!(r.is_err());
            start.elapsed()
        });
        spinner.await.unwrap();
        let waited = armer.await.unwrap();
        assert!(
            waited >= Duration::from_millis(200),
            "gave up after {waited:?}"
        );
        far.abort();
    });
}
