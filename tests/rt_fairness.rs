//! Fairness: tasks that never stop being runnable (a `yield_now` loop, a
//! reader whose socket is always full, two tasks waking each other) must not
//! starve I/O, timers or the other tasks. Relies on the per-poll I/O budget
//! (128 operations) and on the loop looking at epoll every 61 polls (or
//! after a pass over the tasks queued at its last look, if more).
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

mod support;

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::io::Write;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};

/// The per-poll cooperative budget documented in `src/runtime/coop.rs`.
const BUDGET: u64 = 128;

/// How many polls the loop makes between two looks at epoll, even when
/// tasks are still runnable (`POLLS_PER_IO_CHECK` in `src/runtime/core.rs`).
const POLLS_PER_IO_CHECK: u64 = 61;

/// A bound for the echo client: seconds where the work takes milliseconds,
/// so that only starvation (which never ends) can exceed it.
const ECHO_LIMIT: Duration = Duration::from_secs(30);

/// Starts an echo server task (one task per connection) and returns its
/// address.
fn start_echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    ember::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.expect("accept");
            ember::spawn(async move {
                let mut buf = [0u8; 1024];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// `rounds` round trips of a small message through the echo server at
/// `addr`; returns how long they took.
async fn echo_client(addr: std::net::SocketAddr, rounds: u32) -> Duration {
    let start = Instant::now();
    let mut client = TcpStream::connect(addr).await.expect("connect");
    client.set_nodelay(true).expect("nodelay");
    let mut reply = [0u8; 64];
    for round in 0..rounds {
        let msg = [round as u8; 64];
        client.write_all(&msg).await.expect("client write");
        client.read_exact(&mut reply).await.expect("client read");
        assert_eq!(reply, msg, "round {round}");
    }
    start.elapsed()
}

/// A task that yields forever, counting its turns.
fn spawn_yield_loop(turns: Rc<Cell<u64>>) {
    ember::spawn(async move {
        loop {
            turns.set(turns.get() + 1);
            ember::task::yield_now().await;
        }
    });
}

/// Per-poll accounting of a reading task: its poll count and the most
/// reads it made in one poll.
#[derive(Default)]
struct ReadStats {
    polls: Cell<u64>,
    reads: Cell<u64>,
    bytes: Cell<u64>,
    max_reads_per_poll: Cell<u64>,
}

/// Wraps a future and records, for each poll, how many reads it made.
struct Metered<F> {
    inner: Pin<Box<F>>,
    stats: Rc<ReadStats>,
}

impl<F: Future> Future for Metered<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let before = self.stats.reads.get();
        let out = self.inner.as_mut().poll(cx);
        let s = &self.stats;
        s.polls.set(s.polls.get() + 1);
        let made = s.reads.get() - before;
        s.max_reads_per_poll
            .set(s.max_reads_per_poll.get().max(made));
        out
    }
}

#[test]
fn a_yield_loop_and_an_always_ready_socket_do_not_starve_an_echo_client() {
    let (elapsed, turns, reader, writer) = support::run(ECHO_LIMIT, || async {
        // The flood: a plain thread keeps the reader's socket full.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let writer = std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr).expect("flood connect");
            let chunk = vec![0xa5u8; 64 * 1024];
            // Ends when the runtime drops the reader (EPIPE or ECONNRESET).
            while s.write_all(&chunk).is_ok() {}
        });
        let (mut flooded, _) = listener.accept().await.expect("accept flood");
        drop(listener);
        // Let the sender fill the socket before the reader starts, so that
        // every read from the first one on finds data waiting.
        ember::time::sleep(Duration::from_millis(50)).await;

        let reader = Rc::new(ReadStats::default());
        let stats = reader.clone();
        ember::spawn(Metered {
            stats: reader.clone(),
            inner: Box::pin(async move {
                let mut buf = [0u8; 256];
                loop {
                    let n = flooded.read(&mut buf).await.expect("flood read");
                    assert!(n > 0, "the flood never ends");
                    stats.reads.set(stats.reads.get() + 1);
                    stats.bytes.set(stats.bytes.get() + n as u64);
                }
            }),
        });
        let turns = Rc::new(Cell::new(0));
        spawn_yield_loop(turns.clone());

        let echo = start_echo_server();
        let elapsed = echo_client(echo, 200).await;
        let turns = turns.get();
        let r = &*reader;
        let reader = (
            r.polls.get(),
            r.reads.get(),
            r.bytes.get(),
            r.max_reads_per_poll.get(),
        );
        // Returning drops the runtime, the reader and so the flood socket.
        (elapsed, turns, reader, writer)
    });
    writer.join().expect("flood writer");
    let (polls, reads, bytes, max_reads) = reader;
    eprintln!(
        "200 round trips in {elapsed:?}; yield loop: {turns} turns; \
         reader: {polls} polls, {reads} reads, {bytes} bytes, at most {max_reads} reads per poll"
    );
    assert!(
        elapsed < ECHO_LIMIT,
        "the echo client was starved: {elapsed:?}"
    );
    assert!(turns > 0, "the yield loop ran");
    assert!(reads > 0, "the reader ran");
    assert!(
        max_reads <= BUDGET,
        "a task made {max_reads} reads in one poll, past the budget of {BUDGET}"
    );
    assert_eq!(
        max_reads, BUDGET,
        "the flood never kept the reader busy for a full budget: the test did not exercise it"
    );
}

/// Two tasks that wake each other and return `Pending`, forever: the run
/// queue is never empty, so only the loop's periodic look at epoll lets the
/// sockets (and timers) through.
#[test]
fn two_tasks_waking_each_other_forever_do_not_starve_io_or_timers() {
    let (elapsed, slept, ping_pongs, polls, waits) = support::run(ECHO_LIMIT, || async {
        let a: Rc<RefCell<Option<Waker>>> = Rc::default();
        let b: Rc<RefCell<Option<Waker>>> = Rc::default();
        let count = Rc::new(Cell::new(0u64));
        for (mine, theirs) in [(a.clone(), b.clone()), (b, a)] {
            let count = count.clone();
            ember::spawn(poll_fn(move |cx| {
                count.set(count.get() + 1);
                *mine.borrow_mut() = Some(cx.waker().clone());
                if let Some(w) = theirs.borrow_mut().take() {
                    w.wake();
                }
                Poll::<()>::Pending
            }));
        }
        let echo = start_echo_server();
        let elapsed = echo_client(echo, 200).await;
        let start = Instant::now();
        ember::time::sleep(Duration::from_millis(20)).await;
        let s = ember::runtime::stats();
        (
            elapsed,
            start.elapsed(),
            count.get(),
            s.polls,
            s.epoll_waits,
        )
    });
    eprintln!(
        "200 round trips in {elapsed:?}; {ping_pongs} ping-pong polls; \
         {polls} task polls, {waits} epoll_waits"
    );
    assert!(
        waits * POLLS_PER_IO_CHECK + POLLS_PER_IO_CHECK >= polls,
        "the loop made {polls} polls but only {waits} calls to epoll_wait"
    );
    assert!(
        elapsed < ECHO_LIMIT,
        "the echo client was starved: {elapsed:?}"
    );
    assert!(slept >= Duration::from_millis(20));
    assert!(
        ping_pongs > 200,
        "the two tasks should have kept waking each other ({ping_pongs} polls)"
    );
}

#[test]
fn a_burst_of_ready_tasks_is_polled_in_one_pass_without_extra_epoll_waits() {
    // 1,000 tasks become runnable at once. The loop looks at epoll after
    // its first 61 polls (it could not know the burst was coming), then
    // polls the rest of the burst in one pass: a look every 61 polls would
    // make 16 epoll_waits.
    const TASKS: usize = 1000;
    let (waits, polls) = support::run(support::LIMIT, || async {
        let before = ember::runtime::stats();
        let done = Rc::new(Cell::new(0usize));
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                let done = done.clone();
                ember::spawn(async move { done.set(done.get() + 1) })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(done.get(), TASKS);
        let after = ember::runtime::stats();
        (
            after.epoll_waits - before.epoll_waits,
            after.polls - before.polls,
        )
    });
    assert!(polls >= TASKS as u64, "{polls} polls");
    assert!(
        waits <= 4,
        "{waits} epoll_waits while {TASKS} ready tasks were polled"
    );
}
