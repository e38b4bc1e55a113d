//! UDP and Unix sockets leave no fd behind: not when dropped, not when a
//! bind or connect fails halfway, not when a stream is split. One test in
//! this file, so no other test opens fds while `/proc/self/fd` is compared.
#![cfg(all(feature = "net", feature = "io-util"))]

mod support;

use std::io::ErrorKind;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{UdpSocket, UnixDatagram, UnixListener, UnixStream};
use ember::runtime::stats;
use support::temp_dir::TempDir;

#[test]
fn udp_and_unix_sockets_close_every_fd_they_open_even_when_a_call_fails() {
    let fds_at_start = support::open_fds();
    // `support::run` returns after the runtime (epoll, eventfd) is dropped.
    support::run(support::LIMIT, || async {
        let base = stats().fds_registered;
        let dir = TempDir::new();
        {
            // UDP: a bound pair that talks, and a bind that fails.
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").unwrap();
            b.connect(a.local_addr().unwrap()).unwrap();
            b.send(b"x").await.unwrap();
            let mut buf = [0u8; 4];
            a.recv_from(&mut buf).await.unwrap();
            let err = UdpSocket::bind(a.local_addr().unwrap()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse);

            // Unix streams: a listener, a connection both ways, a pair
            // split into owned halves, and failed connects and binds.
            let path = dir.join("s.sock");
            let listener = UnixListener::bind(&path).unwrap();
            let mut client = UnixStream::connect(&path).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            client.write_all(b"x").await.unwrap();
            server.read_exact(&mut buf[..1]).await.unwrap();
            let (p, q) = UnixStream::pair().unwrap();
            let (p_read, p_write) = p.into_split();
            assert!(UnixStream::connect(dir.join("missing")).await.is_err());
            assert!(UnixListener::bind(&path).is_err());

            // Unix datagrams: bound, unbound, a pair, a failed bind.
            let dpath = dir.join("d.sock");
            let bound = UnixDatagram::bind(&dpath).unwrap();
            let unbound = UnixDatagram::unbound().unwrap();
            unbound.send_to(b"x", &dpath).await.unwrap();
            bound.recv_from(&mut buf).await.unwrap();
            let (d1, d2) = UnixDatagram::pair().unwrap();
            assert!(UnixDatagram::bind(&dpath).is_err());

            assert_eq!(
                stats().fds_registered,
                base + 11,
                "two UDP, listener, client, server, pair, two bound/unbound, pair"
            );
            drop((a, b, listener, client, server, p_read, p_write, q));
            drop((bound, unbound, d1, d2));
        }
        assert_eq!(
            stats().fds_registered,
            base,
            "every socket deregistered on drop"
        );
        // A stale socket left behind by a dropped listener is refused
        // without leaking the connecting socket.
        let stale = dir.join("s.sock");
        assert!(UnixStream::connect(&stale).await.is_err());
        assert_eq!(stats().fds_registered, base);
    });
    assert_eq!(
        support::open_fds(),
        fds_at_start,
        "a UDP or Unix socket left an fd open"
    );
}
