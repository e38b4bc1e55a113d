//! `UdpSocket`'s options (set and read back), multicast on this host where
//! the kernel allows it, the `recv_buf` family into a `Vec`'s spare
//! capacity, `try_send_to`/`try_recv_from`, `ready(Interest)`, and the
//! `TryFrom` std conversion.
#![cfg(all(feature = "net", feature = "time"))]

mod support;

use std::io::ErrorKind;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ember::io::Interest;
use ember::net::UdpSocket;

fn bound() -> (UdpSocket, SocketAddr) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = s.local_addr().unwrap();
    (s, addr)
}

#[test]
fn every_udp_option_reads_back_what_was_set() {
    support::run(support::LIMIT, || async {
        let (s, _) = bound();
        assert!(!s.broadcast().unwrap());
        s.set_broadcast(true).unwrap();
        assert!(s.broadcast().unwrap());

        s.set_ttl(7).unwrap();
        assert_eq!(s.ttl().unwrap(), 7);

        // UDP keeps every bit of the byte, ECN ones included.
        s.set_tos(0xb8).unwrap();
        assert_eq!(s.tos().unwrap(), 0xb8);

        assert!(s.multicast_loop_v4().unwrap());
        s.set_multicast_loop_v4(false).unwrap();
        assert!(!s.multicast_loop_v4().unwrap());

        assert_eq!(s.multicast_ttl_v4().unwrap(), 1);
        s.set_multicast_ttl_v4(5).unwrap();
        assert_eq!(s.multicast_ttl_v4().unwrap(), 5);

        let too_big = s.set_ttl(u32::MAX).unwrap_err();
        assert_eq!(too_big.kind(), ErrorKind::InvalidInput);

        match UdpSocket::bind("[::1]:0") {
            Ok(v6) => {
                assert!(v6.multicast_loop_v6().unwrap());
                v6.set_multicast_loop_v6(false).unwrap();
                assert!(!v6.multicast_loop_v6().unwrap());
            }
            Err(e) => eprintln!("skipped the IPv6 options: no IPv6 loopback ({e})"),
        }
    });
}

#[test]
fn a_datagram_sent_to_a_joined_v4_group_loops_back_to_the_member() {
    support::run(support::LIMIT, || async {
        let group = Ipv4Addr::new(239, 255, 42, 99);
        let member = UdpSocket::bind("0.0.0.0:0").unwrap();
        let port = member.local_addr().unwrap().port();
        if let Err(e) = member.join_multicast_v4(group, Ipv4Addr::UNSPECIFIED) {
            eprintln!("skipped: the kernel refuses to join {group} here ({e})");
            return;
        }
        let sender = UdpSocket::bind("0.0.0.0:0").unwrap();
        sender.set_multicast_loop_v4(true).unwrap();
        if let Err(e) = sender.send_to(b"to the group", (group, port)).await {
            eprintln!("skipped: no route for multicast here ({e})");
            return;
        }
        let mut buf = [0u8; 64];
        let from = sender.local_addr().unwrap().port();
        match ember::time::timeout(Duration::from_secs(5), member.recv_from(&mut buf)).await {
            Ok(received) => {
                let (n, peer) = received.unwrap();
                assert_eq!(&buf[..n], b"to the group");
                assert_eq!(peer.port(), from);
            }
            Err(_) => {
                eprintln!("skipped: joined and sent, but this host delivered nothing in 5 s");
                return;
            }
        }
        member
            .leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED)
            .unwrap();
        // Leaving twice: the kernel says the membership is gone.
        let err = member
            .leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED)
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(99 /* EADDRNOTAVAIL */));
    });
}

#[test]
fn a_v6_socket_joins_and_leaves_a_group() {
    support::run(support::LIMIT, || async {
        let Ok(s) = UdpSocket::bind("[::]:0") else {
            eprintln!("skipped: no IPv6 here");
            return;
        };
        let group: Ipv6Addr = "ff02::1:4242".parse().unwrap();
        // Interface 1 is the loopback on Linux.
        match s.join_multicast_v6(&group, 1) {
            Ok(()) => s.leave_multicast_v6(&group, 1).unwrap(),
            Err(e) => eprintln!("skipped: the kernel refuses to join {group} on lo ({e})"),
        }
        // A v6 group on a v4 socket is the kernel's error, not a panic.
        let (v4, _) = bound();
        assert!(v4.join_multicast_v6(&group, 1).is_err());
    });
}

#[test]
fn recv_buf_fills_spare_capacity_and_truncates_to_it() {
    support::run(support::LIMIT, || async {
        let (a, a_addr) = bound();
        let (b, b_addr) = bound();
        a.connect(b_addr).unwrap();
        b.connect(a_addr).unwrap();

        a.send(b"first").await.unwrap();
        let mut buf = b">".to_vec();
        buf.reserve_exact(16);
        let n = b.recv_buf(&mut buf).await.unwrap();
        assert_eq!(n, 5);
        assert_eq!(buf, b">first");

        // An empty Vec gets 64 bytes of room: a longer datagram is cut.
        a.send(&[7u8; 100]).await.unwrap();
        let mut empty = Vec::new();
        let n = b.recv_buf(&mut empty).await.unwrap();
        assert_eq!(n, empty.len());
        assert!((64..100).contains(&n), "{n}");

        let err = b.try_recv_buf(&mut buf).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        a.send(b"second").await.unwrap();
        b.readable().await.unwrap();
        let mut buf = Vec::with_capacity(64);
        assert_eq!(b.try_recv_buf(&mut buf).unwrap(), 6);
        assert_eq!(buf, b"second");
    });
}

#[test]
fn recv_buf_from_names_the_sender() {
    support::run(support::LIMIT, || async {
        let (a, a_addr) = bound();
        let (b, b_addr) = bound();
        a.send_to(b"hi", b_addr).await.unwrap();
        let mut buf = Vec::with_capacity(32);
        let (n, from) = b.recv_buf_from(&mut buf).await.unwrap();
        assert_eq!((n, from), (2, a_addr));
        assert_eq!(buf, b"hi");

        let err = b.try_recv_buf_from(&mut buf).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        a.try_send_to(b"yo", b_addr).unwrap();
        b.readable().await.unwrap();
        let (n, from) = b.try_recv_buf_from(&mut buf).unwrap();
        assert_eq!((n, from), (2, a_addr));
        assert_eq!(buf, b"hiyo");
    });
}

#[test]
fn try_send_to_and_try_recv_from_never_wait() {
    support::run(support::LIMIT, || async {
        let (a, a_addr) = bound();
        let (b, b_addr) = bound();
        let mut buf = [0u8; 16];
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(a.try_send_to(b"now", b_addr).unwrap(), 3);
        b.readable().await.unwrap();
        assert_eq!(b.try_recv_from(&mut buf).unwrap(), (3, a_addr));
        assert_eq!(&buf[..3], b"now");
    });
}

#[test]
fn ready_on_a_udp_socket_says_writable_at_once_and_readable_once_a_datagram_waits() {
    support::run(support::LIMIT, || async {
        let (a, _) = bound();
        let (b, b_addr) = bound();
        let ready = b
            .ready(Interest::READABLE | Interest::WRITABLE)
            .await
            .unwrap();
        assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");

        a.send_to(b"x", b_addr).await.unwrap();
        let ready = b.ready(Interest::READABLE).await.unwrap();
        assert!(ready.is_readable() && !ready.is_writable(), "{ready:?}");
        let mut buf = [0u8; 4];
        assert_eq!(b.try_recv_from(&mut buf).unwrap().0, 1);
        // A datagram read says nothing about the next one: readiness stays
        // until a receive finds the queue empty, which clears it.
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );

        // Nothing queued now: a READABLE wait does not finish.
        let waited =
            ember::time::timeout(Duration::from_millis(20), b.ready(Interest::READABLE)).await;
        assert!(waited.is_err(), "ready with nothing to read: {waited:?}");
    });
}

#[test]
fn a_std_udp_socket_converts_with_try_from() {
    support::run(support::LIMIT, || async {
        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = std_socket.local_addr().unwrap();
        let s = UdpSocket::try_from(std_socket).unwrap();
        assert_eq!(s.local_addr().unwrap(), addr);
        let (a, _) = bound();
        a.send_to(b"in", addr).await.unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(s.recv_from(&mut buf).await.unwrap().0, 2);
    });
}
