//! Graceful shutdown: an echo server that, on Ctrl-C or SIGTERM, stops
//! accepting, lets the open connections finish (for up to 10 s), and exits.
//! A second signal while it drains exits at once.
//!
//! ```text
//! cargo run --example signals                   # listens on 127.0.0.1:7000
//! cargo run --example signals -- 127.0.0.1:9000
//! nc 127.0.0.1 7000                             # another terminal: type, read it back
//! kill -TERM $(pgrep -x signals)                # or Ctrl-C in the server's terminal
//! ```
//!
//! After the signal the listener is closed (new clients are refused) while
//! `nc` keeps echoing; end it (Ctrl-D) and the server exits.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use ember::signal::unix::SignalKind;
use ember::signal::Signals;

/// How long open connections may take to finish after the signal.
const GRACE: Duration = Duration::from_secs(10);

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".to_string());
    ember::block_on(async {
        // Listen before accepting: from here on, SIGINT and SIGTERM no
        // longer kill the process; they arrive here.
        let mut signals = Signals::new(&[
            SignalKind::interrupt().into(),
            SignalKind::terminate().into(),
        ])?;
        let listener = TcpListener::bind(&addr)?;
        println!("listening on {}", listener.local_addr()?);
        let open = Rc::new(Cell::new(0usize));
        let sig = loop {
            // The signal is polled first, so a flood of clients cannot
            // delay the shutdown.
            match first(signals.recv(), listener.accept()).await {
                Either::A(sig) => break sig,
                Either::B(Ok((stream, _peer))) => {
                    open.set(open.get() + 1);
                    ember::spawn(echo(stream, open.clone()));
                }
                Either::B(Err(e)) => eprintln!("accept failed: {e}"),
            }
        };
        drop(listener);
        eprintln!(
            "signal {}: no new connections; waiting for {} open one(s), up to {GRACE:?}",
            sig.unwrap_or(0),
            open.get()
        );
        // A second signal ends the process without waiting.
        ember::spawn(async move {
            signals.recv().await;
            eprintln!("second signal: exiting now");
            std::process::exit(1);
        });
        let deadline = Instant::now() + GRACE;
        while open.get() > 0 && Instant::now() < deadline {
            ember::time::sleep(Duration::from_millis(50)).await;
        }
        match open.get() {
            0 => eprintln!("every connection closed; bye"),
            n => eprintln!("grace period over; dropping {n} connection(s)"),
        }
        Ok(())
    })
}

async fn echo(mut stream: TcpStream, open: Rc<Cell<usize>>) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n @ 1..) = stream.read(&mut buf).await {
        if stream.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    open.set(open.get() - 1);
}

enum Either<A, B> {
    A(A),
    B(B),
}

/// Runs `a` and `b` together; the first to finish wins and the other is
/// dropped (`Signals::recv` and `accept` are both cancel safe). A hand-made
/// `select` of two, polling `a` first.
async fn first<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::A(x));
        }
        b.as_mut().poll(cx).map(Either::B)
    })
    .await
}
