//! The graceful shutdown of `examples/graceful_shutdown.rs`, driven by real
//! clients on loopback: a request in flight at shutdown still gets its
//! full answer, idle connections close at once, new ones are refused, and
//! a request that outlives the deadline is cut.
#![cfg(all(
    feature = "net",
    feature = "io-util",
    feature = "time",
    feature = "sync",
    feature = "signal"
))]

mod support;

#[path = "../examples/graceful_shutdown.rs"]
#[allow(dead_code)]
mod example;

use std::io::ErrorKind;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use example::{serve, Report, Shutdown};

/// Sends `line` and reads until the server closes the connection.
async fn request(stream: &mut TcpStream, line: &str) -> String {
    stream.write_all(line.as_bytes()).await.expect("write");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.expect("read");
    reply
}

#[test]
fn a_request_in_flight_at_shutdown_still_gets_its_full_answer() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Rc::new(Shutdown::default());
        let server = ember::spawn(serve(listener, shutdown.clone(), Duration::from_secs(30)));

        // A client whose request takes 300 ms...
        let mut busy = TcpStream::connect(addr).await.unwrap();
        let busy = ember::spawn(async move { request(&mut busy, "work 300\n").await });
        // ...an idle one...
        let mut idle = TcpStream::connect(addr).await.unwrap();
        // ...and, once the work has started, one that asks for shutdown.
        ember::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let mut trigger = TcpStream::connect(addr).await.unwrap();
        assert_eq!(request(&mut trigger, "shutdown\n").await, "bye\n");

        // The idle connection is closed at once, not at the end of the work.
        let mut rest = Vec::new();
        assert_eq!(idle.read_to_end(&mut rest).await.unwrap(), 0);
        assert!(
            started.elapsed() < Duration::from_millis(250),
            "idle closed early"
        );

        assert_eq!(
            busy.await.unwrap(),
            "done 300\n",
            "the whole answer, then EOF"
        );
        let report = server.await.unwrap();
        assert_eq!(
            report,
            Report {
                drained: 3,
                aborted: 0
            }
        );

        let refused = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn a_request_that_outlives_the_deadline_is_cut_and_counted() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Rc::new(Shutdown::default());
        let grace = Duration::from_millis(100);
        let server = ember::spawn(serve(listener, shutdown.clone(), grace));

        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"work 60000\n").await.unwrap();
        ember::time::sleep(Duration::from_millis(30)).await;
        let started = Instant::now();
        shutdown.trigger();
        let report = server.await.unwrap();
        assert!(started.elapsed() >= grace, "the grace period was granted");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "and not much more"
        );
        assert_eq!(
            report,
            Report {
                drained: 0,
                aborted: 1
            }
        );

        // The aborted handler dropped its stream: the client sees EOF, no reply.
        let mut reply = Vec::new();
        assert_eq!(slow.read_to_end(&mut reply).await.unwrap(), 0);
    });
}

#[test]
fn a_shutdown_with_no_connection_returns_at_once() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let shutdown = Rc::new(Shutdown::default());
        shutdown.trigger();
        let started = Instant::now();
        let report = serve(listener, shutdown, Duration::from_secs(30)).await;
        assert_eq!(
            report,
            Report {
                drained: 0,
                aborted: 0
            }
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    });
}
