//! TCP half-close: a side that shuts its write side (by `shutdown`, by
//! `AsyncWriteExt::close`, or by dropping an `OwnedWriteHalf`) gives its
//! peer end of stream, and can still read the peer's whole reply.
#![cfg(all(feature = "net", feature = "io-util"))]

mod support;

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};

const REQUEST_LEN: usize = 256 * 1024;
/// Larger than loopback's socket buffers, so the reply takes many writes
/// and many reads.
const REPLY_LEN: usize = 4 * 1024 * 1024;

fn request() -> Vec<u8> {
    (0..REQUEST_LEN).map(|i| (i % 251) as u8).collect()
}

/// The reply to `req`: depends on every byte of it, so a server that
/// replied before reading the whole request would send something else.
fn reply_to(req: &[u8]) -> Vec<u8> {
    let sum = req
        .iter()
        .fold(0u8, |acc, b| acc.wrapping_mul(31).wrapping_add(*b));
    (0..REPLY_LEN)
        .map(|i| (i % 253) as u8 ^ sum)
        .collect::<Vec<u8>>()
}

/// Accepts one connection, reads the request to end of stream, then writes
/// the reply and closes. Returns what it read.
async fn serve_one(listener: TcpListener) -> Vec<u8> {
    let (mut stream, _) = listener.accept().await.unwrap();
    let mut req = Vec::new();
    stream.read_to_end(&mut req).await.expect("read to EOF");
    // End of stream stays end of stream.
    let mut buf = [0u8; 16];
    assert_eq!(
        stream.read(&mut buf).await.unwrap(),
        0,
        "a second read at EOF"
    );
    stream.write_all(&reply_to(&req)).await.expect("reply");
    stream.close().await.expect("close");
    req
}

fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

#[test]
fn after_shutdown_write_the_server_reads_to_eof_and_the_reply_arrives_in_full() {
    let (served, reply) = support::run(support::LIMIT, || async {
        let (listener, addr) = listener();
        let server = ember::spawn(serve_one(listener));
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&request()).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();

        // The write side is shut: writing again is an error, not a signal.
        let err = client.write(b"late").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err:?}");

        let mut reply = Vec::new();
        client
            .read_to_end(&mut reply)
            .await
            .expect("read the reply");
        (server.await.unwrap(), reply)
    });
    assert!(served == request(), "the server read a different request");
    assert_eq!(reply.len(), REPLY_LEN);
    assert!(reply == reply_to(&request()), "the reply is corrupted");
}

#[test]
fn close_shuts_the_write_side_and_the_reply_arrives_in_full() {
    let (served, reply) = support::run(support::LIMIT, || async {
        let (listener, addr) = listener();
        let server = ember::spawn(serve_one(listener));
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&request()).await.unwrap();
        client.close().await.expect("close");
        // Closing twice is harmless.
        client.close().await.expect("second close");

        let mut reply = Vec::new();
        client
            .read_to_end(&mut reply)
            .await
            .expect("read the reply");
        (server.await.unwrap(), reply)
    });
    assert!(served == request(), "the server read a different request");
    assert_eq!(reply.len(), REPLY_LEN);
    assert!(reply == reply_to(&request()), "the reply is corrupted");
}

#[test]
fn dropping_an_owned_write_half_sends_eof_and_the_read_half_gets_the_reply() {
    let (served, reply) = support::run(support::LIMIT, || async {
        let (listener, addr) = listener();
        let server = ember::spawn(serve_one(listener));
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut r, mut w) = client.into_split();
        w.write_all(&request()).await.unwrap();
        drop(w);

        let mut reply = Vec::new();
        r.read_to_end(&mut reply).await.expect("read the reply");
        (server.await.unwrap(), reply)
    });
    assert!(served == request(), "the server read a different request");
    assert_eq!(reply.len(), REPLY_LEN);
    assert!(reply == reply_to(&request()), "the reply is corrupted");
}

#[test]
fn a_write_half_dropped_in_another_task_sends_eof_while_the_read_half_waits() {
    // The read half is already parked in `read` when the other task drops
    // the write half: the peer's reply must still wake it.
    let reply = support::run(support::LIMIT, || async {
        let (listener, addr) = listener();
        let server = ember::spawn(serve_one(listener));
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut r, mut w) = client.into_split();
        let reader = ember::spawn(async move {
            let mut reply = Vec::new();
            r.read_to_end(&mut reply).await.expect("read the reply");
            reply
        });
        let writer = ember::spawn(async move {
            w.write_all(&request()).await.unwrap();
            // `w` drops here.
        });
        writer.await.unwrap();
        let reply = reader.await.unwrap();
        assert!(server.await.unwrap() == request());
        reply
    });
    assert!(reply == reply_to(&request()), "the reply is corrupted");
}

#[test]
fn shutting_down_the_read_side_wakes_a_parked_reader_with_eof() {
    let n = support::run(support::LIMIT, || async {
        let (listener, addr) = listener();
        let client = Rc::new(TcpStream::connect(addr).await.unwrap());
        let (_server, _) = listener.accept().await.unwrap();
        let shared = client.clone();
        let reader = ember::spawn(async move {
            let mut buf = [0u8; 16];
            (&*shared).read(&mut buf).await
        });
        for _ in 0..100 {
            ember::task::yield_now().await;
        }
        assert!(!reader.is_finished(), "the reader did not park");
        client.shutdown(Shutdown::Read).unwrap();
        reader.await.unwrap()
    });
    assert_eq!(n.expect("read after shutdown(Read)"), 0);
}

#[test]
fn a_server_that_shuts_its_write_side_can_still_read_the_client() {
    // The mirror image: the server answers first and half-closes, the
    // client reads to EOF and only then sends its part.
    let got = support::run(support::LIMIT, || async {
        let (listener, addr) = listener();
        let server = ember::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"greeting").await.unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
            let mut got = Vec::new();
            stream.read_to_end(&mut got).await.unwrap();
            got
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        let mut greeting = Vec::new();
        client.read_to_end(&mut greeting).await.unwrap();
        assert_eq!(greeting, b"greeting");
        client.write_all(&request()).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        server.await.unwrap()
    });
    assert!(got == request(), "the server read a different request");
}
