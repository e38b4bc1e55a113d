//! The `hyper` feature: `examples/hyper_hello.rs` served on ember and
//! fetched with hyper's own client, also on ember (HTTP/1.1 and HTTP/2),
//! and ember's `Timer` ending a connection that sends no request. Runs only
//! with the feature: `cargo test --features hyper --test hyper_http`.
#![cfg(all(feature = "hyper", feature = "net", feature = "io-util"))]

mod support;

use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use ember::hyper::{Exec, Io, Timer};
use ember::io::AsyncReadExt;
use ember::net::TcpStream;
use hyper::body::{Body, Incoming};
use hyper::{Request, Response};
use support::{run, LIMIT};

#[allow(dead_code)] // `main` is the binary's, not ours
#[path = "../examples/hyper_hello.rs"]
mod hyper_hello;

fn start_server() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        ember::block_on(async move {
            let listener = ember::net::TcpListener::from_std(listener).unwrap();
            hyper_hello::serve(listener).await
        })
    });
    addr
}

/// The whole body, frame by frame.
async fn body_text(mut body: Incoming) -> String {
    let mut out = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame.unwrap().into_data() {
            out.extend_from_slice(&data);
        }
    }
    String::from_utf8(out).unwrap()
}

fn get(path: &str) -> Request<String> {
    Request::builder()
        .uri(path)
        .header("host", "localhost")
        .body(String::new())
        .unwrap()
}

#[test]
fn hyper_hello_answers_hypers_http1_client_on_ember_with_keep_alive() {
    let addr = start_server();
    run(LIMIT, move || async move {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .unwrap();
        ember::spawn(conn);
        for _ in 0..20 {
            let resp: Response<Incoming> = sender.send_request(get("/")).await.unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.version(), hyper::Version::HTTP_11);
            assert_eq!(body_text(resp.into_body()).await, "Hello, World!");
        }
    });
}

#[test]
fn hyper_hello_answers_hypers_http2_client_with_many_streams_at_once() {
    let addr = start_server();
    run(LIMIT, move || async move {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (sender, conn) = hyper::client::conn::http2::Builder::new(Exec)
            .timer(Timer)
            .handshake(Io::new(stream))
            .await
            .unwrap();
        ember::spawn(conn);
        let requests: Vec<_> = (0..50)
            .map(|_| {
                let mut sender = sender.clone();
                ember::spawn(async move {
                    let resp = sender.send_request(get("http://localhost/")).await.unwrap();
                    assert_eq!(resp.version(), hyper::Version::HTTP_2);
                    body_text(resp.into_body()).await
                })
            })
            .collect();
        for r in requests {
            assert_eq!(r.await.unwrap(), "Hello, World!");
        }
    });
}

#[test]
fn embers_timer_closes_a_connection_that_sends_no_request_in_time() {
    run(LIMIT, || async {
        let listener = ember::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        ember::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let service = hyper::service::service_fn(|_req: Request<Incoming>| async {
                Ok::<_, std::convert::Infallible>(Response::new(String::new()))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(Timer)
                .header_read_timeout(Duration::from_millis(300))
                .serve_connection(Io::new(stream), service)
                .await;
        });
        let started = Instant::now();
        let mut idle = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 64];
        // The server gives up and closes: end of stream (or a reset).
        let _ = idle.read(&mut buf).await;
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "closed early"
        );
    });
}
