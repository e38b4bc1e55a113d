//! An I/O object used outside the runtime that made it (after that runtime
//! is gone, or inside another one) fails at once with an error that says
//! why, instead of waiting for events nobody collects.
#![cfg(all(feature = "net", feature = "io-util"))]

mod support;

use std::io::ErrorKind;
use std::os::unix::net::UnixStream as StdUnixStream;

use ember::io::{Async, AsyncReadExt};
use ember::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixStream};
use ember::Runtime;
use support::{within, LIMIT};

fn assert_outside(e: std::io::Error) {
    assert_eq!(e.kind(), ErrorKind::Other, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("runtime"),
        "the message names the cause: {msg}"
    );
}

#[test]
fn a_tcp_stream_read_after_its_runtime_is_gone_is_an_error() {
    within(
        LIMIT,
        a_tcp_stream_read_after_its_runtime_is_gone_is_an_error_body,
    );
}

fn a_tcp_stream_read_after_its_runtime_is_gone_is_an_error_body() {
    let (listener, mut stream, _peer) = ember::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let peer = listener.accept().await.unwrap().0;
        (listener, stream, peer)
    });
    // Another runtime polls it: the first one is gone.
    let e = ember::block_on(async {
        let mut buf = [0u8; 8];
        stream.read(&mut buf).await.unwrap_err()
    });
    assert_outside(e);
    let e = ember::block_on(async { listener.accept().await.unwrap_err() });
    assert_outside(e);
    let e = ember::block_on(async { stream.readable().await.unwrap_err() });
    assert_outside(e);
    assert_outside(stream.try_write(b"x").unwrap_err());
}

#[test]
fn sockets_of_an_idle_runtime_fail_inside_another_runtime_and_work_in_their_own() {
    within(
        LIMIT,
        sockets_of_an_idle_runtime_fail_inside_another_runtime_and_work_in_their_own_body,
    );
}

fn sockets_of_an_idle_runtime_fail_inside_another_runtime_and_work_in_their_own_body() {
    let rt = Runtime::new().unwrap();
    let (udp, (a, b)) = rt.block_on(async {
        (
            UdpSocket::bind("127.0.0.1:0").unwrap(),
            UnixDatagram::pair().unwrap(),
        )
    });
    let other = Runtime::new().unwrap();
    other.block_on(async {
        let mut buf = [0u8; 8];
        assert_outside(udp.recv_from(&mut buf).await.unwrap_err());
        assert_outside(a.send(b"x").await.unwrap_err());
        assert_outside(b.recv(&mut buf).await.unwrap_err());
    });
    // Back in their own runtime they work.
    rt.block_on(async {
        a.send(b"hi").await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(b.recv(&mut buf).await.unwrap(), 2);
        let addr = udp.local_addr().unwrap();
        udp.send_to(b"u", addr).await.unwrap();
        assert_eq!(udp.recv_from(&mut buf).await.unwrap().0, 1);
    });
}

#[test]
fn an_async_fd_and_a_unix_stream_after_their_runtime_is_gone_are_errors() {
    within(
        LIMIT,
        an_async_fd_and_a_unix_stream_after_their_runtime_is_gone_are_errors_body,
    );
}

fn an_async_fd_and_a_unix_stream_after_their_runtime_is_gone_are_errors_body() {
    let (fd, stream, _keep) = ember::block_on(async {
        let (x, y) = StdUnixStream::pair().unwrap();
        let (s, t) = UnixStream::pair().unwrap();
        (Async::new(x).unwrap(), s, (y, t))
    });
    ember::block_on(async {
        let mut buf = [0u8; 8];
        assert_outside(
            fd.read_with(|mut f| std::io::Read::read(&mut f, &mut buf))
                .await
                .unwrap_err(),
        );
        assert_outside(fd.readable().await.unwrap_err());
        assert_outside(stream.writable().await.unwrap_err());
        let mut s = &stream;
        assert_outside(s.read(&mut buf).await.unwrap_err());
    });
}

#[test]
fn cached_readiness_lets_no_read_through_outside_its_runtime_and_survives_the_trip() {
    within(
        LIMIT,
        cached_readiness_lets_no_read_through_outside_its_runtime_and_survives_the_trip_body,
    );
}

fn cached_readiness_lets_no_read_through_outside_its_runtime_and_survives_the_trip_body() {
    use ember::io::AsyncWriteExt;
    let rt = Runtime::new().unwrap();
    let (mut a, _b) = rt.block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        b.write_all(b"hello world").await.unwrap();
        // A read that fills its buffer leaves the socket known readable.
        let mut five = [0u8; 5];
        a.read_exact(&mut five).await.unwrap();
        assert_eq!(&five, b"hello");
        (a, b)
    });
    let mut buf = [0u8; 16];
    // Data is there and readiness was cached, yet the read fails: its
    // runtime is not running.
    let other = Runtime::new().unwrap();
    assert_outside(other.block_on(async { a.read(&mut buf).await.unwrap_err() }));
    // Back home, the readiness is there again: no new edge will come for
    // the bytes already queued, so a lost readiness would hang here.
    let n = rt.block_on(async { a.read(&mut buf).await.unwrap() });
    assert_eq!(&buf[..n], b" world");
    drop(rt);
    assert_outside(other.block_on(async { a.read(&mut buf).await.unwrap_err() }));
}
