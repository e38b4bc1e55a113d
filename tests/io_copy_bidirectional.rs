//! `io::copy_bidirectional`, alone and inside the `proxy` example: bulk
//! data both ways at once, half-closes passed on, counts, and errors.
//!
//! The proxy test compiles `examples/proxy.rs` in as a module, so it runs
//! exactly the example's `serve`.
#![cfg(all(feature = "net", feature = "io-util"))]

mod support;

#[path = "../examples/proxy.rs"]
#[allow(dead_code)] // its `main`
mod proxy;

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use ember::net::{TcpListener, TcpStream};

const MIB: usize = 1 << 20;

/// `len` pseudo-random bytes from `seed` (xorshift64*), so that a lost,
/// repeated or reordered chunk cannot go unnoticed.
fn stream_of(seed: u64, len: usize) -> Rc<Vec<u8>> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    Rc::new(out)
}

/// FNV-1a over `bytes`, continuing from `hash`: the same whatever the
/// chunking, so sender and receiver can each compute it their own way.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// Writes all of `data` in 64 KiB pieces, then closes the write side.
async fn send_all(mut writer: OwnedWriteHalf, data: Rc<Vec<u8>>) {
    for chunk in data.chunks(64 * 1024) {
        writer.write_all(chunk).await.expect("send");
    }
    writer.close().await.expect("close the write side");
}

/// Reads until end of stream; returns the byte count and checksum.
async fn receive_all(mut reader: OwnedReadHalf) -> (usize, u64) {
    let mut buf = vec![0u8; 64 * 1024];
    let (mut len, mut hash) = (0, FNV_START);
    loop {
        let n = reader.read(&mut buf).await.expect("receive");
        if n == 0 {
            return (len, hash);
        }
        len += n;
        hash = fnv1a(hash, &buf[..n]);
    }
}

/// Sends `out` on `stream` while receiving; returns what was received.
async fn exchange(stream: TcpStream, out: Rc<Vec<u8>>) -> (usize, u64) {
    let (reader, writer) = stream.into_split();
    let sending = ember::spawn(send_all(writer, out));
    let received = receive_all(reader).await;
    sending.await.expect("sender task");
    received
}

#[test]
fn thirty_two_mib_each_way_through_the_proxy_arrive_intact() {
    let (up, down) = support::run(support::LIMIT, || async {
        let (up, down) = (stream_of(1, 32 * MIB), stream_of(2, 32 * MIB));
        let start = Instant::now();

        // The upstream server: sends `down` while it receives.
        let upstream = TcpListener::bind("127.0.0.1:0").expect("bind upstream");
        let upstream_addr = upstream.local_addr().expect("local_addr");
        let server = ember::spawn({
            let down = down.clone();
            async move {
                let (stream, _) = upstream.accept().await.expect("accept");
                exchange(stream, down).await
            }
        });

        // The example's proxy, and a client that sends `up` through it.
        let proxy_listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let proxy_addr: SocketAddr = proxy_listener.local_addr().expect("local_addr");
        ember::spawn(proxy::serve(proxy_listener, upstream_addr));
        let client = TcpStream::connect(proxy_addr).await.expect("connect");
        let client_got = exchange(client, up.clone()).await;
        let server_got = server.await.expect("server task");

        assert_eq!(
            server_got.0,
            up.len(),
            "upstream received a different length"
        );
        assert_eq!(
            client_got.0,
            down.len(),
            "client received a different length"
        );
        assert_eq!(
            server_got.1,
            fnv1a(FNV_START, &up),
            "client to upstream corrupted"
        );
        assert_eq!(
            client_got.1,
            fnv1a(FNV_START, &down),
            "upstream to client corrupted"
        );
        eprintln!("64 MiB through the proxy in {:?}", start.elapsed());
        (up.len(), down.len())
    });
    assert_eq!((up, down), (32 * MIB, 32 * MIB));
}

#[test]
fn copy_bidirectional_counts_each_way_and_passes_a_half_close_on() {
    support::run(support::LIMIT, || async {
        // Upstream: reads to end of stream first, and only then answers,
        // which works only if the client's half-close reached it.
        let upstream = TcpListener::bind("127.0.0.1:0").expect("bind");
        let upstream_addr = upstream.local_addr().expect("local_addr");
        let server = ember::spawn(async move {
            let (mut stream, _) = upstream.accept().await.expect("accept");
            let mut request = Vec::new();
            stream
                .read_to_end(&mut request)
                .await
                .expect("read request");
            let reply = stream_of(3, 3 * MIB);
            stream.write_all(&reply).await.expect("write reply");
            stream.close().await.expect("close");
            request.len()
        });

        let proxy_listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let proxy_addr = proxy_listener.local_addr().expect("local_addr");
        let relay = ember::spawn(async move {
            let (client, _) = proxy_listener.accept().await.expect("accept");
            proxy::relay(client, upstream_addr).await
        });

        let mut client = TcpStream::connect(proxy_addr).await.expect("connect");
        let request = stream_of(4, MIB);
        client.write_all(&request).await.expect("write request");
        client.close().await.expect("half-close");
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.expect("read reply");

        assert_eq!(server.await.expect("server task"), MIB);
        assert!(reply == *stream_of(3, 3 * MIB), "the reply differs");
        let counts = relay
            .await
            .expect("relay task")
            .expect("copy_bidirectional");
        assert_eq!(counts, (MIB as u64, 3 * MIB as u64));
    });
}

#[test]
fn an_upstream_reset_ends_the_copy_with_an_error() {
    support::run(support::LIMIT, || async {
        let upstream = TcpListener::bind("127.0.0.1:0").expect("bind");
        let upstream_addr = upstream.local_addr().expect("local_addr");
        let server = ember::spawn(async move {
            let (stream, _) = upstream.accept().await.expect("accept");
            let stream = stream.into_std().expect("into_std");
            // SO_LINGER with a zero timeout: close sends RST, not FIN.
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: `linger` is a live local and the length is its size.
            let r = unsafe {
                libc::setsockopt(
                    std::os::fd::AsRawFd::as_raw_fd(&stream),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    (&linger as *const libc::linger).cast(),
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                )
            };
            assert_eq!(r, 0, "setsockopt(SO_LINGER)");
            drop(stream);
        });

        let proxy_listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let proxy_addr = proxy_listener.local_addr().expect("local_addr");
        let relay = ember::spawn(async move {
            let (client, _) = proxy_listener.accept().await.expect("accept");
            proxy::relay(client, upstream_addr).await
        });
        let _client = TcpStream::connect(proxy_addr).await.expect("connect");
        server.await.expect("server task");
        let err = relay
            .await
            .expect("relay task")
            .expect_err("a reset upstream must be an error");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    });
}
