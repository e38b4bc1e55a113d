//! What the hot paths cost in heap allocations, counted exactly.
//!
//! A counting global allocator tallies the allocations made by the thread
//! that runs the runtime (a per-thread count, so the test harness's other
//! threads do not disturb it). Each test warms its path up first, so
//! buffers that grow once (the event array, the run queue, the timer heap,
//! the slabs) have their size, and then counts a known number of
//! operations. The figures are the design's, argued in `docs/architecture.md`:
//! a round trip on a socket allocates nothing; a spawned task is one
//! allocation for its cell and one for its waker.
#![cfg(all(
    feature = "net",
    feature = "io-util",
    feature = "time",
    feature = "sync"
))]

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream, UdpSocket};

use support::{run, LIMIT};

struct Counting;

thread_local! {
    // `const`-initialised and without a destructor: reading it never
    // allocates, so the allocator may use it.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is passed on unchanged to `System`, which upholds
// `GlobalAlloc`'s contract; the count is a side effect on a thread-local
// `Cell` that neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's guarantees for `alloc` are passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: `ptr` and `layout` came from this allocator, that is from
        // `System`, as the caller guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations (and reallocations) made by this thread so far.
fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

const WARM_UP: usize = 200;
const COUNTED: usize = 2_000;

async fn round_trips(client: &mut TcpStream, n: usize) {
    let mut buf = [0u8; 64];
    for i in 0..n {
        let msg = [i as u8; 64];
        client.write_all(&msg).await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, msg);
    }
}

#[test]
fn a_tcp_echo_round_trip_allocates_nothing() {
    let counted = run(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // The server task is the echo benchmark's: one read, one write_all.
        let server = ember::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            loop {
                match stream.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => stream.write_all(&buf[..n]).await.unwrap(),
                }
            }
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        round_trips(&mut client, WARM_UP).await;
        let before = allocations();
        round_trips(&mut client, COUNTED).await;
        let counted = allocations() - before;
        drop(client);
        server.await.unwrap();
        counted
    });
    // Both ends of 2,000 round trips, each a wait on readiness on both
    // sides: no allocation in a read, a write, a wake or a turn of the loop.
    assert_eq!(counted, 0, "allocations in {COUNTED} round trips");
}

#[test]
fn a_udp_send_to_a_socket_address_allocates_nothing() {
    let counted = run(LIMIT, || async {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let a_addr: SocketAddr = a.local_addr().unwrap();
        let b_addr: SocketAddr = b.local_addr().unwrap();
        let mut buf = [0u8; 64];
        let mut exchange = async |n: usize| {
            for i in 0..n {
                let msg = [i as u8; 32];
                assert_eq!(a.send_to(&msg, b_addr).await.unwrap(), 32);
                let (len, from) = b.recv_from(&mut buf).await.unwrap();
                assert_eq!((len, from), (32, a_addr));
                b.send_to(&buf[..len], a_addr).await.unwrap();
                let (len, _) = a.recv_from(&mut buf).await.unwrap();
                assert_eq!(buf[..len], msg);
            }
        };
        exchange(WARM_UP).await;
        let before = allocations();
        exchange(COUNTED).await;
        allocations() - before
    });
    // A `SocketAddr` needs no lookup, so `send_to` makes no `Vec` of one.
    assert_eq!(counted, 0, "allocations in {COUNTED} datagram exchanges");
}

#[test]
fn a_sleep_allocates_nothing_once_the_timer_store_has_grown() {
    let counted = run(LIMIT, || async {
        let nap = async |n: usize| {
            for _ in 0..n {
                ember::time::sleep(Duration::from_micros(20)).await;
                {
                    // Armed and dropped before it fires.
                    let sleep = std::pin::pin!(ember::time::sleep(Duration::from_secs(60)));
                    assert!(support::poll_once(sleep).await.is_pending());
                }
                // Enough polls for the loop to look at I/O with no timer
                // armed (it does after at most 61): such a turn must keep
                // what the next firing needs.
                for _ in 0..100 {
                    ember::task::yield_now().await;
                }
            }
        };
        nap(WARM_UP).await;
        let before = allocations();
        nap(COUNTED / 10).await;
        allocations() - before
    });
    assert_eq!(counted, 0, "allocations in {} sleeps", COUNTED / 10 * 2);
}

#[test]
fn a_spawned_task_is_two_allocations_its_cell_and_its_waker() {
    let (one, many) = run(LIMIT, || async {
        // Warm the task slab and the run queue up to the size used below.
        let handles: Vec<_> = (0..1_000).map(|_| ember::spawn(async {})).collect();
        for h in handles {
            h.await.unwrap();
        }
        let before = allocations();
        ember::spawn(async {}).await.unwrap();
        let one = allocations() - before;
        let mut handles = Vec::with_capacity(1_000);
        let before = allocations();
        for _ in 0..1_000 {
            handles.push(ember::spawn(async { 7u32 }));
        }
        for h in handles.drain(..) {
            assert_eq!(h.await.unwrap(), 7);
        }
        (one, allocations() - before)
    });
    assert_eq!(one, 2, "allocations for one spawned task");
    assert_eq!(many, 2_000, "allocations for 1,000 spawned tasks");
}

#[test]
fn a_bounded_channel_message_allocates_nothing_even_when_the_sender_waits() {
    let counted = run(LIMIT, || async {
        // Bursts of 8 through channels of 4: the producer fills its
        // channel and waits in the wait list, and so does the echo task on
        // the way back, every burst.
        let (tx, mut rx) = ember::sync::mpsc::channel::<u64>(4);
        let (back_tx, mut back_rx) = ember::sync::mpsc::channel::<u64>(4);
        let echo = ember::spawn(async move {
            while let Some(v) = rx.recv().await {
                back_tx.send(v).await.unwrap();
            }
        });
        let mut exchange = async |n: u64| {
            let mut sum = 0;
            for burst in 0..n / 8 {
                for i in 0..8 {
                    tx.send(burst * 8 + i).await.unwrap();
                }
                assert!(tx.try_send(u64::MAX).is_err(), "the channel should be full");
                for _ in 0..8 {
                    sum += back_rx.recv().await.unwrap();
                }
            }
            sum
        };
        assert_eq!(exchange(WARM_UP as u64).await, (0..WARM_UP as u64).sum());
        let before = allocations();
        let sum = exchange(COUNTED as u64).await;
        let counted = allocations() - before;
        assert_eq!(sum, (0..COUNTED as u64).sum());
        drop(tx);
        echo.await.unwrap();
        counted
    });
    assert_eq!(counted, 0, "allocations in {COUNTED} messages each way");
}
