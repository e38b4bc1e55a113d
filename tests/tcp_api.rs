//! The smaller points of the TCP API: addresses, `TCP_NODELAY`, the
//! `readable`/`try_read` and `writable`/`try_write` pattern, `incoming` as a
//! `Stream`, `from_std`, `split`, `into_split`/`reunite`, `peek`, `connect`
//! by host name, over IPv6 and across several addresses, rebinding a port
//! in TIME_WAIT, and vectored writes.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

mod support;

use std::collections::HashSet;
use std::future::{poll_fn, Future};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::pin::pin;
use std::task::Poll;

use futures_core::Stream;

use ember::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ember::net::tcp::ReuniteError;
use ember::net::{TcpListener, TcpStream};
use ember::task::yield_now;

fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// A connected pair: (client, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let (listener, addr) = bind();
    let client = TcpStream::connect(addr).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Spawns an echo server that serves every connection until it closes.
fn spawn_echo_server() -> SocketAddr {
    let (listener, addr) = bind();
    ember::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            ember::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    stream.write_all(&buf[..n]).await.unwrap();
                }
            });
        }
    });
    addr
}

/// `len` bytes in which every offset has its own value (mod 251).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Runs two futures in the current task until both complete.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let (mut out_a, mut out_b) = (None, None);
    poll_fn(|cx| {
        if out_a.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                out_b = Some(v);
            }
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready((out_a.take().unwrap(), out_b.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Gives every other runnable task (and the reactor) several turns.
async fn let_others_run() {
    for _ in 0..200 {
        yield_now().await;
    }
}

#[test]
fn local_and_peer_addresses_agree_between_the_two_ends() {
    support::run(support::LIMIT, || async {
        let (listener, addr) = bind();
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0, "the kernel picked a port");
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();

        assert_eq!(client.peer_addr().unwrap(), addr);
        assert_eq!(server.local_addr().unwrap(), addr);
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        assert_eq!(peer, client.local_addr().unwrap(), "accept's peer address");
        assert_ne!(client.local_addr().unwrap().port(), addr.port());
    });
}

#[test]
fn set_nodelay_round_trips_through_nodelay() {
    support::run(support::LIMIT, || async {
        let (client, server) = pair().await;
        for stream in [&client, &server] {
            stream.set_nodelay(true).unwrap();
            assert!(stream.nodelay().unwrap());
            stream.set_nodelay(false).unwrap();
            assert!(!stream.nodelay().unwrap());
        }
    });
}

#[test]
fn try_read_is_would_block_on_an_empty_socket_and_readable_waits_for_data() {
    let got = support::run(support::LIMIT, || async {
        let (client, mut server) = pair().await;
        let mut buf = [0u8; 64];
        let err = client.try_read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock, "{err:?}");

        // The documented loop: wait for readiness, try, go round on WouldBlock.
        let reader = ember::spawn(async move {
            let mut buf = [0u8; 64];
            let mut got = Vec::new();
            while got.len() < 11 {
                client.readable().await.unwrap();
                match client.try_read(&mut buf) {
                    Ok(0) => panic!("unexpected EOF"),
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("try_read: {e:?}"),
                }
            }
            got
        });
        let_others_run().await;
        assert!(
            !reader.is_finished(),
            "readable() resolved with nothing to read"
        );

        server.write_all(b"hello").await.unwrap();
        let_others_run().await;
        server.write_all(b", you").await.unwrap();
        server.write_all(b"!").await.unwrap();
        reader.await.unwrap()
    });
    assert_eq!(got, b"hello, you!");
}

#[test]
fn try_write_fills_the_socket_to_would_block_and_writable_waits_for_room() {
    const CHUNK: usize = 64 * 1024;
    let (total, got) = support::run(support::LIMIT, || async {
        let (client, mut server) = pair().await;
        // Fill the socket while nobody reads: try_write takes bytes until
        // the buffers are full, then says WouldBlock.
        let data = pattern(64 * 1024 * 1024);
        let mut written = 0;
        loop {
            assert!(written < data.len(), "loopback buffers never filled up");
            match client.try_write(&data[written..written + CHUNK]) {
                Ok(n) => {
                    assert!(n > 0);
                    written += n;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("try_write: {e:?}"),
            }
        }
        // Then 1 MiB more, through the writable/try_write loop.
        let total = written + 1024 * 1024;
        let writer = ember::spawn(async move {
            let mut written = written;
            while written < total {
                client.writable().await.unwrap();
                match client.try_write(&data[written..total.min(written + CHUNK)]) {
                    Ok(n) => written += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("try_write: {e:?}"),
                }
            }
            client.shutdown(std::net::Shutdown::Write).unwrap();
        });
        let_others_run().await;
        assert!(!writer.is_finished(), "writable() resolved with no room");

        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        (total, got)
    });
    assert_eq!(got.len(), total);
    assert!(got == pattern(total), "the bytes arrived corrupted");
}

#[test]
fn incoming_is_a_stream_of_accepted_connections() {
    support::run(support::LIMIT, || async {
        let (listener, addr) = bind();
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let expected: HashSet<SocketAddr> =
            clients.iter().map(|c| c.local_addr().unwrap()).collect();

        let mut incoming = pin!(listener.incoming());
        let mut peers = HashSet::new();
        for _ in 0..3 {
            let item = poll_fn(|cx| incoming.as_mut().poll_next(cx)).await;
            let stream = item.expect("incoming never ends").expect("accept");
            peers.insert(stream.peer_addr().unwrap());
        }
        assert_eq!(peers, expected);

        // With nothing queued, the stream is pending, then yields the next
        // connection when it arrives.
        let mut polled_once = false;
        let next = poll_fn(|cx| {
            let p = incoming.as_mut().poll_next(cx);
            if !polled_once {
                polled_once = true;
                assert!(p.is_pending(), "an item with no connection queued");
            }
            p
        });
        let (item, late) = join(next, TcpStream::connect(addr)).await;
        let stream = item.unwrap().unwrap();
        assert_eq!(
            stream.peer_addr().unwrap(),
            late.unwrap().local_addr().unwrap()
        );
    });
}

#[test]
fn from_std_wraps_a_std_listener_and_a_std_stream() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    support::run(support::LIMIT, move || async move {
        let listener = TcpListener::from_std(std_listener).unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);

        // A blocking std connect completes in the kernel's backlog.
        let std_stream = std::net::TcpStream::connect(addr).unwrap();
        let client = TcpStream::from_std(std_stream).unwrap();
        let (mut server, _) = listener.accept().await.unwrap();

        // from_std made it non-blocking: no data is WouldBlock, not a hang.
        let err = client.try_read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);

        let mut client = client;
        client.write_all(b"from std").await.unwrap();
        let mut buf = [0u8; 8];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"from std");
        server.write_all(b"and back").await.unwrap();
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"and back");
    });
}

#[test]
fn split_halves_write_and_read_at_once_in_one_task() {
    // 8 MiB through an echo server: far more than the socket buffers hold,
    // so writing all before reading would deadlock.
    const LEN: usize = 8 * 1024 * 1024;
    let got = support::run(support::LIMIT, || async {
        let addr = spawn_echo_server();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let (mut r, mut w) = stream.split();
        let data = pattern(LEN);
        let write = async {
            w.write_all(&data).await.unwrap();
            w.close().await.unwrap();
        };
        let read = async {
            let mut got = Vec::new();
            r.read_to_end(&mut got).await.unwrap();
            got
        };
        let ((), got) = join(write, read).await;
        got
    });
    assert_eq!(got.len(), LEN);
    assert!(got == pattern(LEN), "the echo is corrupted");
}

#[test]
fn into_split_halves_work_in_two_tasks_and_reunite_into_a_working_stream() {
    support::run(support::LIMIT, || async {
        let addr = spawn_echo_server();
        let stream = TcpStream::connect(addr).await.unwrap();
        let local = stream.local_addr().unwrap();
        let (mut r, mut w) = stream.into_split();
        assert_eq!(r.local_addr().unwrap(), local);
        assert_eq!(w.peer_addr().unwrap(), addr);

        let reader = ember::spawn(async move {
            let mut buf = [0u8; 4];
            r.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping");
            r
        });
        let writer = ember::spawn(async move {
            w.write_all(b"ping").await.unwrap();
            w
        });
        let w = writer.await.unwrap();
        let r = reader.await.unwrap();

        // Reuniting does not shut the write side: the stream still talks.
        let mut stream = r.reunite(w).expect("halves of the same stream");
        assert_eq!(stream.local_addr().unwrap(), local);
        stream.write_all(b"pong").await.unwrap();
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
    });
}

#[test]
fn reuniting_halves_of_different_streams_fails_and_gives_them_back() {
    support::run(support::LIMIT, || async {
        let addr = spawn_echo_server();
        let a = TcpStream::connect(addr).await.unwrap();
        let b = TcpStream::connect(addr).await.unwrap();
        let (a_local, b_local) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let (ar, aw) = a.into_split();
        let (br, bw) = b.into_split();

        let ReuniteError(ar, bw) = ar.reunite(bw).unwrap_err();
        assert_eq!(ar.local_addr().unwrap(), a_local);
        assert_eq!(bw.local_addr().unwrap(), b_local);
        // From the write half's side too; the error is always (read, write).
        let ReuniteError(ar, bw) = bw.reunite(ar).unwrap_err();

        // Matched up again, they reunite.
        let mut a = ar.reunite(aw).unwrap();
        let mut b = bw.reunite(br).unwrap();
        assert_eq!(a.local_addr().unwrap(), a_local);
        assert_eq!(b.local_addr().unwrap(), b_local);
        for (stream, msg) in [(&mut a, b"aaaa"), (&mut b, b"bbbb")] {
            stream.write_all(msg).await.unwrap();
            let mut buf = [0u8; 4];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, msg);
        }
    });
}

#[test]
fn peek_returns_data_without_consuming_it() {
    support::run(support::LIMIT, || async {
        let (mut client, mut server) = pair().await;
        let peeker = ember::spawn(async move {
            // Waits for data like a read does.
            let mut buf = [0u8; 5];
            let n = client.peek(&mut buf).await.unwrap();
            (client, buf, n)
        });
        let_others_run().await;
        assert!(!peeker.is_finished(), "peek resolved with nothing to read");
        server.write_all(b"hello").await.unwrap();
        let (c, buf, n) = peeker.await.unwrap();
        client = c;
        assert_eq!(&buf[..n], &b"hello"[..n]);
        assert!(n > 0);

        // Peeking again sees the same bytes; reading consumes them.
        let mut again = [0u8; 5];
        let m = client.peek(&mut again).await.unwrap();
        assert_eq!(&again[..m], &b"hello"[..m]);
        let mut read = [0u8; 5];
        client.read_exact(&mut read).await.unwrap();
        assert_eq!(&read, b"hello");
        assert_eq!(
            client.try_read(&mut read).unwrap_err().kind(),
            ErrorKind::WouldBlock,
            "peeked bytes were read twice"
        );
    });
}

#[test]
fn connect_resolves_localhost_by_name() {
    support::run(support::LIMIT, || async {
        let (listener, addr) = bind();
        // `localhost` may resolve to ::1 first, where nothing listens:
        // connect must go on to 127.0.0.1.
        let mut client = TcpStream::connect(format!("localhost:{}", addr.port()))
            .await
            .expect("connect to localhost");
        assert_eq!(client.peer_addr().unwrap(), addr);
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"named").await.unwrap();
        let mut buf = [0u8; 5];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"named");
    });
}

#[test]
fn connect_reaches_an_ipv6_loopback_listener() {
    // Checked with std first, outside the runtime, so that a host without
    // ::1 skips the test instead of failing it.
    if let Err(e) = std::net::TcpListener::bind("[::1]:0") {
        println!("skipped: IPv6 loopback is unavailable ({e})");
        return;
    }
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("[::1]:0").unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, peer) = listener.accept().await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        assert!(peer.is_ipv6() && peer.ip().is_loopback());
        assert_eq!(peer, client.local_addr().unwrap());
        client.write_all(b"six").await.unwrap();
        let mut buf = [0u8; 3];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"six");
    });
}

#[test]
fn connect_tries_each_address_in_turn() {
    let closed: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    support::run(support::LIMIT, move || async move {
        let (listener, open) = bind();
        let addrs = [closed, open];
        let client = TcpStream::connect(&addrs[..])
            .await
            .expect("the second address");
        assert_eq!(client.peer_addr().unwrap(), open);
        let (server, _) = listener.accept().await.unwrap();
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());

        // With only refused addresses, the last error comes back.
        let err = TcpStream::connect(&[closed, closed][..]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn an_ember_client_and_a_blocking_std_server_interoperate_both_ways() {
    // The std side blocks in a thread of its own; the ember side must see
    // every byte and the std side's end of stream.
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = std_listener.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        s.write_all(&got).unwrap();
        got.len()
    });
    let echoed = support::run(support::LIMIT, move || async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(&pattern(300_000)).await.unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).await.unwrap();
        got
    });
    assert_eq!(peer.join().unwrap(), 300_000);
    assert!(echoed == pattern(300_000));
}

/// Whether `/proc/net/tcp` lists a socket in TIME_WAIT (state 06) on
/// local port `port`.
fn time_wait_on(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table.lines().skip(1).any(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let local_port = cols[1].rsplit(':').next().unwrap();
        u16::from_str_radix(local_port, 16) == Ok(port) && cols[3] == "06"
    })
}

#[test]
fn a_listener_can_rebind_its_port_while_old_connections_are_in_time_wait() {
    support::run(support::LIMIT, || async {
        let (listener, addr) = bind();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // The server side closes first, so it is the one left in
        // TIME_WAIT, on the listener's port.
        drop(server);
        let mut buf = [0u8; 1];
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        drop(client);
        drop(listener);
        for _ in 0..100 {
            if time_wait_on(addr.port()) {
                break;
            }
            ember::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(time_wait_on(addr.port()), "no TIME_WAIT socket on the port");

        // SO_REUSEADDR lets the port be bound again at once.
        let listener = TcpListener::bind(addr).expect("rebind during TIME_WAIT");
        let _client = TcpStream::connect(addr).await.unwrap();
        listener.accept().await.unwrap();
    });
}

#[test]
// Regression: a write of more than UIO_MAXIOV slices used to clear write
// readiness on its (legitimately) short count, then wait for an edge that
// never came.
fn a_vectored_write_of_more_than_1024_slices_does_not_stall() {
    const SLICES: usize = 2000;
    const SLICE_LEN: usize = 10;
    // 20,000 bytes: far less than the send buffer holds, so every write
    // could complete at once.
    let got = support::run(support::LIMIT, || async {
        let (listener, addr) = bind();
        let reader = ember::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            stream.read_to_end(&mut got).await.unwrap();
            got
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        let chunks: Vec<[u8; SLICE_LEN]> =
            (0..SLICES).map(|i| [(i % 251) as u8; SLICE_LEN]).collect();
        // (slice index, offset in it) of the first byte not yet written.
        let (mut idx, mut off) = (0, 0);
        while idx < SLICES {
            let mut bufs = vec![std::io::IoSlice::new(&chunks[idx][off..])];
            bufs.extend(chunks[idx + 1..].iter().map(|c| std::io::IoSlice::new(c)));
            let mut n =
                poll_fn(|cx| std::pin::Pin::new(&mut client).poll_write_vectored(cx, &bufs))
                    .await
                    .unwrap();
            assert!(n > 0);
            while n > 0 {
                let left = SLICE_LEN - off;
                if n >= left {
                    n -= left;
                    idx += 1;
                    off = 0;
                } else {
                    off += n;
                    n = 0;
                }
            }
        }
        drop(client);
        reader.await.unwrap()
    });
    let expected: Vec<u8> = (0..SLICES)
        .flat_map(|i| [(i % 251) as u8; SLICE_LEN])
        .collect();
    assert!(got == expected, "the vectored bytes arrived corrupted");
}
