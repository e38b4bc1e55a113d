//! `TcpSocket` and the TCP options: every option set and read back, and
//! what can be seen of them on loopback (a zero linger resets the
//! connection, `SO_REUSEPORT` lets two listeners share a port and both
//! accept, a bound client keeps its source address); `listen` with a
//! backlog, `connect`, `ready(Interest)` on a stream, the `TryFrom` std
//! conversions, TTLs, and `lookup_host`.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

mod support;

use std::cell::RefCell;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt, Interest};
use ember::net::{TcpListener, TcpSocket, TcpStream};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn every_option_of_a_tcp_socket_reads_back_what_was_set_even_outside_a_runtime() {
    let s = TcpSocket::new_v4().unwrap();

    assert!(!s.reuseaddr().unwrap());
    s.set_reuseaddr(true).unwrap();
    assert!(s.reuseaddr().unwrap());

    assert!(!s.reuseport().unwrap());
    s.set_reuseport(true).unwrap();
    assert!(s.reuseport().unwrap());

    assert_eq!(s.linger().unwrap(), None);
    s.set_linger(Some(Duration::ZERO)).unwrap();
    assert_eq!(s.linger().unwrap(), Some(Duration::ZERO));
    s.set_linger(Some(Duration::from_secs(3))).unwrap();
    assert_eq!(s.linger().unwrap(), Some(Duration::from_secs(3)));
    s.set_linger(None).unwrap();
    assert_eq!(s.linger().unwrap(), None);

    s.set_nodelay(true).unwrap();
    assert!(s.nodelay().unwrap());
    s.set_nodelay(false).unwrap();
    assert!(!s.nodelay().unwrap());

    s.set_keepalive(true).unwrap();
    assert!(s.keepalive().unwrap());
    s.set_keepalive(false).unwrap();
    assert!(!s.keepalive().unwrap());

    // Linux doubles what is set (bookkeeping room) and clamps it to the
    // system's maximum; 64 KiB is under every default maximum.
    s.set_send_buffer_size(64 * 1024).unwrap();
    assert_eq!(s.send_buffer_size().unwrap(), 2 * 64 * 1024);
    s.set_recv_buffer_size(64 * 1024).unwrap();
    assert_eq!(s.recv_buffer_size().unwrap(), 2 * 64 * 1024);

    // IPTOS_LOWDELAY; TCP keeps the ECN bits for itself, so none are set.
    s.set_tos(0x10).unwrap();
    assert_eq!(s.tos().unwrap(), 0x10);

    assert_eq!(s.device().unwrap(), None);
    match s.bind_device(Some(b"lo")) {
        Ok(()) => {
            assert_eq!(s.device().unwrap().as_deref(), Some(&b"lo"[..]));
            s.bind_device(None).unwrap();
            assert_eq!(s.device().unwrap(), None);
        }
        // Kernels before 5.7 ask for CAP_NET_RAW.
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            eprintln!("skipped SO_BINDTODEVICE: {e}");
        }
        Err(e) => panic!("bind_device: {e}"),
    }
    let too_long = s.bind_device(Some(b"an-interface-name")).unwrap_err();
    assert_eq!(too_long.kind(), ErrorKind::InvalidInput);

    assert!(s.take_error().unwrap().is_none());
    s.bind(loopback()).unwrap();
    let addr = s.local_addr().unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
}

#[test]
fn a_tcp_socket_listens_with_a_backlog_and_connects_through_its_own_socket() {
    support::run(support::LIMIT, || async {
        let s = TcpSocket::new_v4().unwrap();
        s.set_reuseaddr(true).unwrap();
        s.bind(loopback()).unwrap();
        let listener = s.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();

        // A client bound first keeps that source address.
        let c = TcpSocket::new_v4().unwrap();
        c.bind(loopback()).unwrap();
        let source = c.local_addr().unwrap();
        let mut client = c.connect(addr).await.unwrap();
        let (mut server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, source);
        assert_eq!(client.local_addr().unwrap(), source);

        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
    });
}

#[test]
fn a_tcp_socket_connect_to_a_closed_port_is_refused() {
    support::run(support::LIMIT, || async {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        // The listener is gone: nobody listens on `addr` now.
        let err = TcpSocket::new_v4()
            .unwrap()
            .connect(addr)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn dropping_a_stream_with_a_zero_linger_resets_the_connection() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let s = TcpSocket::new_v4().unwrap();
        s.set_linger(Some(Duration::ZERO)).unwrap();
        let client = s.connect(addr).await.unwrap();
        assert_eq!(client.linger().unwrap(), Some(Duration::ZERO));
        let (mut server, _) = listener.accept().await.unwrap();

        drop(client);
        let mut buf = [0u8; 16];
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    });
}

#[test]
fn without_linger_dropping_a_stream_ends_it_with_a_clean_end_of_stream() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        client.set_linger(Some(Duration::ZERO)).unwrap();
        client.set_linger(None).unwrap();
        assert_eq!(client.linger().unwrap(), None);
        let (mut server, _) = listener.accept().await.unwrap();
        drop(client);
        let mut buf = [0u8; 16];
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
    });
}

/// A listener on `port` (0: any) with `SO_REUSEPORT`.
fn reuseport_listener(port: u16) -> std::io::Result<TcpListener> {
    let s = TcpSocket::new_v4()?;
    s.set_reuseport(true)?;
    s.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    s.listen(128)
}

#[test]
fn two_listeners_with_reuseport_share_a_port_and_both_accept() {
    support::run(support::LIMIT, || async {
        let first = reuseport_listener(0).unwrap();
        let addr = first.local_addr().unwrap();
        let second = reuseport_listener(addr.port()).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);

        // Without the option, the port is taken.
        let plain = TcpSocket::new_v4().unwrap();
        let err = plain.bind(addr).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);

        // The kernel spreads connections by a hash of their addresses: with
        // 64 connections from 64 source ports, the chance that one listener
        // gets none is 2^-63.
        const CONNS: usize = 64;
        let counts = Rc::new(RefCell::new([0usize; 2]));
        let mut acceptors = Vec::new();
        for (i, listener) in [first, second].into_iter().enumerate() {
            let counts = counts.clone();
            acceptors.push(ember::spawn(async move {
                let mut kept = Vec::new();
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    kept.push(stream);
                    counts.borrow_mut()[i] += 1;
                }
            }));
        }
        let mut clients = Vec::new();
        for _ in 0..CONNS {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        while counts.borrow().iter().sum::<usize>() < CONNS {
            ember::time::sleep(Duration::from_millis(1)).await;
        }
        let counts = *counts.borrow();
        assert!(
            counts[0] > 0 && counts[1] > 0,
            "each listener should accept some: {counts:?}"
        );
        for a in acceptors {
            a.abort();
        }
    });
}

#[test]
fn ttl_reads_back_on_a_stream_and_a_listener() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_ttl(17).unwrap();
        assert_eq!(listener.ttl().unwrap(), 17);
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        client.set_ttl(42).unwrap();
        assert_eq!(client.ttl().unwrap(), 42);
        // An accepted stream inherits the listener's.
        let (server, _) = listener.accept().await.unwrap();
        assert_eq!(server.ttl().unwrap(), 17);
        assert!(client.take_error().unwrap().is_none());
        assert!(listener.take_error().unwrap().is_none());
    });
}

#[test]
fn ready_on_a_stream_reports_writable_then_readable_then_read_closed() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();

        let ready = client
            .ready(Interest::READABLE | Interest::WRITABLE)
            .await
            .unwrap();
        assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");

        server.write_all(b"x").await.unwrap();
        let ready = client.ready(Interest::READABLE).await.unwrap();
        assert!(ready.is_readable() && !ready.is_writable(), "{ready:?}");
        let mut buf = [0u8; 8];
        assert_eq!(client.try_read(&mut buf).unwrap(), 1);

        drop(server);
        loop {
            let ready = client.ready(Interest::READABLE).await.unwrap();
            if ready.is_read_closed() {
                break;
            }
            // Readiness without the hang-up yet: drain and wait again.
            match client.try_read(&mut buf) {
                Ok(0) => break,
                Ok(_) => panic!("no data was sent"),
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(client.try_read(&mut buf).unwrap(), 0);
    });
}

#[test]
fn try_read_buf_appends_to_a_vec_without_touching_what_is_there() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let mut buf = b"head:".to_vec();
        let err = client.try_read_buf(&mut buf).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        assert_eq!(buf, b"head:");

        server.write_all(b"body").await.unwrap();
        client.readable().await.unwrap();
        buf.reserve(100);
        let n = client.try_read_buf(&mut buf).unwrap();
        assert_eq!(n, 4);
        assert_eq!(buf, b"head:body");
    });
}

#[test]
fn std_sockets_convert_with_try_from_and_back_with_into_std() {
    support::run(support::LIMIT, || async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::try_from(std_listener).unwrap();
        let std_client = std::net::TcpStream::connect(addr).unwrap();
        let client = TcpStream::try_from(std_client).unwrap();
        let (server, _) = listener.accept().await.unwrap();

        let std_server = server.into_std().unwrap();
        assert_eq!(
            std_server.peer_addr().unwrap(),
            client.local_addr().unwrap()
        );

        // A std stream's options through TcpSocket.
        let socket = TcpSocket::from_std_stream(std_server);
        socket.set_nodelay(true).unwrap();
        assert!(socket.nodelay().unwrap());
        assert_eq!(socket.local_addr().unwrap(), addr);
    });
}

#[test]
fn a_v6_tcp_socket_binds_and_connects_on_the_ipv6_loopback() {
    support::run(support::LIMIT, || async {
        let s = TcpSocket::new_v6().unwrap();
        if let Err(e) = s.bind("[::1]:0".parse().unwrap()) {
            eprintln!("skipped: no IPv6 loopback here ({e})");
            return;
        }
        let listener = s.listen(8).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpSocket::new_v6().unwrap().connect(addr).await.unwrap();
        let (_server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
    });
}

#[test]
fn lookup_host_parses_literals_and_resolves_localhost_off_the_loop() {
    support::run(support::LIMIT, || async {
        let addrs: Vec<SocketAddr> = ember::net::lookup_host("127.0.0.1:9")
            .await
            .unwrap()
            .collect();
        assert_eq!(addrs, ["127.0.0.1:9".parse().unwrap()]);
        let addrs: Vec<SocketAddr> = ember::net::lookup_host(("localhost", 80))
            .await
            .unwrap()
            .collect();
        assert!(
            addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80) && !addrs.is_empty(),
            "{addrs:?}"
        );
        let err = ember::net::lookup_host("no port here").await.err().unwrap();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    });
}

/// `recv(2)` on the stream's fd, as a user's own syscall would be.
fn raw_recv(stream: &TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes, and the fd is
    // the stream's, open while `stream` is borrowed.
    let n = unsafe { libc::recv(stream.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[test]
fn try_io_and_async_io_run_the_user_s_own_syscall_with_ember_s_readiness() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 16];

        // Nothing there: WouldBlock, which clears the read readiness, so a
        // READABLE wait now waits (for the bytes written below).
        let err = client
            .try_io(Interest::READABLE, || raw_recv(&client, &mut buf))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        let waited =
            ember::time::timeout(Duration::from_millis(20), client.ready(Interest::READABLE)).await;
        assert!(waited.is_err(), "ready with nothing to read: {waited:?}");

        let reader = client.async_io(Interest::READABLE, || raw_recv(&client, &mut buf));
        let (n, ()) = ember::join!(reader, async {
            server.write_all(b"custom").await.unwrap();
        });
        assert_eq!(n.unwrap(), 6);
        assert_eq!(&buf[..6], b"custom");
    });
}

#[test]
fn owned_halves_wait_with_ready_and_read_into_a_vec() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (reader, writer) = client.into_split();
        let (_server_reader, server_writer) = server.into_split();

        let ready = writer.ready(Interest::WRITABLE).await.unwrap();
        assert!(ready.is_writable());
        let bufs = [std::io::IoSlice::new(b"ab"), std::io::IoSlice::new(b"cd")];
        assert_eq!(server_writer.try_write_vectored(&bufs).unwrap(), 4);

        let ready = reader.ready(Interest::READABLE).await.unwrap();
        assert!(ready.is_readable());
        let mut v = Vec::with_capacity(8);
        assert_eq!(reader.try_read_buf(&mut v).unwrap(), 4);
        assert_eq!(v, b"abcd");
    });
}
