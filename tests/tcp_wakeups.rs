//! Who a socket wakes. A task that waits with its own waker is woken by
//! run-queue entry, without its waker (see `reactor/mod.rs`); every other
//! waker must still be woken as a waker, and a socket that changes hands
//! must wake its new owner, not the old one.
#![cfg(all(
    feature = "net",
    feature = "io-util",
    feature = "time",
    feature = "sync"
))]

mod support;

use std::future::{pending, poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use ember::sync::oneshot;

use support::{run, LIMIT};

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = ember::future::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

/// Counts its wakes and passes them on to the task's own waker.
struct Counting {
    wakes: AtomicUsize,
    inner: Waker,
}

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.inner.wake_by_ref();
    }
}

/// Polls `fut` with a waker of its own (as a combinator that tracks which
/// branch was woken would), and reports how many times that waker was woken.
async fn with_counting_waker<F: Future>(fut: F) -> (F::Output, usize) {
    let mut fut = pin!(fut);
    let mut counting: Option<Arc<Counting>> = None;
    let out = poll_fn(|cx| {
        let waker = counting
            .get_or_insert_with(|| {
                Arc::new(Counting {
                    wakes: AtomicUsize::new(0),
                    inner: cx.waker().clone(),
                })
            })
            .clone();
        fut.as_mut()
            .poll(&mut Context::from_waker(&Waker::from(waker)))
    })
    .await;
    (out, counting.unwrap().wakes.load(Ordering::SeqCst))
}

#[test]
fn a_read_polled_with_a_foreign_waker_wakes_that_waker() {
    run(LIMIT, || async {
        let (mut a, mut b) = pair().await;
        let writer = ember::spawn(async move {
            // Let the reader poll first and wait.
            ember::time::sleep(Duration::from_millis(20)).await;
            a.write_all(b"ping").await.unwrap();
            a
        });
        let mut buf = [0u8; 4];
        let (n, wakes) = with_counting_waker(b.read(&mut buf)).await;
        assert_eq!(n.unwrap(), 4);
        assert_eq!(&buf, b"ping");
        assert!(
            wakes >= 1,
            "the socket did not wake the waker it was polled with"
        );
        writer.await.unwrap();
    });
}

#[test]
fn a_write_polled_with_a_foreign_waker_wakes_that_waker() {
    run(LIMIT, || async {
        let (mut a, mut b) = pair().await;
        // Fill the send buffer (and the peer's receive buffer).
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0usize;
        loop {
            match a.try_write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        let reader = ember::spawn(async move {
            ember::time::sleep(Duration::from_millis(20)).await;
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = 0usize;
            while got < sent + 1 {
                let n = b.read(&mut buf).await.unwrap();
                assert!(n > 0, "early EOF");
                got += n;
            }
            got
        });
        let (n, wakes) = with_counting_waker(a.write(&[1])).await;
        assert_eq!(n.unwrap(), 1);
        assert!(
            wakes >= 1,
            "the socket did not wake the waker it was polled with"
        );
        assert_eq!(reader.await.unwrap(), sent + 1);
    });
}

#[test]
fn a_stream_handed_to_another_task_wakes_its_new_owner() {
    run(LIMIT, || async {
        let (mut a, b) = pair().await;
        let (to_second, from_first) = oneshot::channel::<TcpStream>();
        let (started_tx, started_rx) = oneshot::channel::<()>();

        // The first owner waits to read (so the socket records it as the
        // reader), gives up, hands the stream over, and then stays alive,
        // so that a wake meant for the new owner and sent to it instead
        // would leave the new owner waiting for ever.
        let first = ember::spawn(async move {
            let mut b = b;
            let mut buf = [0u8; 1];
            let read = ember::time::timeout(Duration::from_millis(10), b.read(&mut buf)).await;
            assert!(read.is_err(), "nothing was written yet");
            to_second.send(b).ok().unwrap();
            pending::<()>().await;
        });
        let second = ember::spawn(async move {
            let mut b = from_first.await.unwrap();
            started_tx.send(()).unwrap();
            let mut buf = [0u8; 5];
            b.read_exact(&mut buf).await.unwrap();
            buf
        });

        started_rx.await.unwrap();
        // The new owner has polled its read in the same poll that sent
        // `started`; give the loop a turn or two anyway.
        ember::time::sleep(Duration::from_millis(20)).await;
        a.write_all(b"hello").await.unwrap();
        assert_eq!(&second.await.unwrap(), b"hello");
        first.abort();
    });
}

#[test]
fn many_tasks_on_many_sockets_are_each_woken_by_their_own_socket() {
    // Each task reads from its own socket; the writes come in reverse
    // order of the reads, so every task waits before its data arrives.
    run(LIMIT, || async {
        const N: usize = 64;
        let mut writers = Vec::new();
        let mut readers = Vec::new();
        for i in 0..N {
            let (a, mut b) = pair().await;
            writers.push(a);
            readers.push(ember::spawn(async move {
                let mut buf = [0u8; 8];
                b.read_exact(&mut buf).await.unwrap();
                assert_eq!(u64::from_le_bytes(buf), i as u64);
                i
            }));
        }
        ember::task::yield_now().await;
        for (i, a) in writers.iter_mut().enumerate().rev() {
            a.write_all(&(i as u64).to_le_bytes()).await.unwrap();
        }
        for (i, r) in readers.into_iter().enumerate() {
            assert_eq!(r.await.unwrap(), i);
        }
    });
}
