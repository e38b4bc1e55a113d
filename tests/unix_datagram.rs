//! Unix-domain datagrams, in a temporary directory: `bind` with
//! `send_to`/`recv_from`, `pair()`, `unbound()` sending to a bound socket,
//! `connect`, truncation, a sender that outruns the receiver's queue (and
//! must wait for room rather than lose datagrams), and the errors.
#![cfg(all(feature = "net", feature = "time"))]

mod support;

use std::io::ErrorKind;
use std::net::Shutdown;

use ember::net::UnixDatagram;
use support::temp_dir::TempDir;

#[test]
fn two_bound_sockets_exchange_datagrams_and_each_sees_the_others_path() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let (pa, pb) = (dir.join("a.sock"), dir.join("b.sock"));
        let a = UnixDatagram::bind(&pa).unwrap();
        let b = UnixDatagram::bind(&pb).unwrap();
        assert_eq!(a.send_to(b"from a", &pb).await.unwrap(), 6);
        let mut buf = [0u8; 64];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"from a");
        assert_eq!(from.as_pathname(), Some(pa.as_path()));
        // Reply to whoever wrote.
        b.send_to_addr(b"from b", &from).await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"from b");
        assert_eq!(from.as_pathname(), Some(pb.as_path()));
        assert_eq!(a.local_addr().unwrap().as_pathname(), Some(pa.as_path()));
    });
}

#[test]
fn pair_sends_and_receives_both_ways_with_unnamed_addresses() {
    support::run(support::LIMIT, || async {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"ping").await.unwrap();
        let mut buf = [0u8; 16];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        b.send(b"pong").await.unwrap();
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"pong");
        assert!(from.is_unnamed());
        assert!(a.local_addr().unwrap().is_unnamed());
        assert!(a.peer_addr().unwrap().is_unnamed());
    });
}

#[test]
fn an_unbound_socket_sends_to_a_bound_one_from_an_unnamed_address() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("server.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        client.send_to(b"anonymous", &path).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"anonymous");
        assert!(from.is_unnamed(), "an unbound sender has no address");
        assert_eq!(
            client.peer_addr().unwrap_err().kind(),
            ErrorKind::NotConnected
        );
    });
}

#[test]
fn a_connected_socket_uses_send_and_recv_and_knows_its_peer() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let (ps, pc) = (dir.join("s.sock"), dir.join("c.sock"));
        let server = UnixDatagram::bind(&ps).unwrap();
        let client = UnixDatagram::bind(&pc).unwrap();
        client.connect(&ps).unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_pathname(),
            Some(ps.as_path())
        );
        client.send(b"connected").await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connected");
        server.send_to_addr(b"back", &from).await.unwrap();
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"back");
    });
}

#[test]
fn a_datagram_larger_than_the_buffer_is_truncated_and_its_rest_is_lost() {
    support::run(support::LIMIT, || async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let big: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        a.send(&big).await.unwrap();
        a.send(b"next").await.unwrap();
        let mut small = [0u8; 10];
        assert_eq!(b.recv(&mut small).await.unwrap(), 10);
        assert_eq!(&small[..], &big[..10]);
        let mut buf = [0u8; 64];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"next", "the rest of the first datagram is gone");
    });
}

/// The receiver's queue holds only a few datagrams (`max_dgram_qlen`, 10
/// by default), so the sender hits `EAGAIN` again and again; unlike UDP
/// nothing may be lost, so it must wait for room and go on. The receiver
/// starts late, so the queue really fills.
#[test]
fn a_sender_that_outruns_the_receivers_queue_waits_and_every_datagram_arrives_in_order() {
    const COUNT: u32 = 2000;
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("slow.sock");
        let receiver = UnixDatagram::bind(&path).unwrap();
        let sending = ember::spawn(async move {
            let sender = UnixDatagram::unbound().unwrap();
            for i in 0..COUNT {
                let msg = [&i.to_le_bytes()[..], &[i as u8; 60][..]].concat();
                sender.send_to(&msg, &path).await.unwrap();
            }
        });
        ember::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!sending.is_finished(), "the queue filled up");
        let mut buf = [0u8; 128];
        for i in 0..COUNT {
            let (n, _) = receiver.recv_from(&mut buf).await.unwrap();
            assert_eq!(n, 64);
            assert_eq!(&buf[..4], &i.to_le_bytes(), "datagram {i} in order");
            assert!(buf[4..n].iter().all(|&b| b == i as u8));
        }
        sending.await.unwrap();
    });
}

#[test]
fn binding_over_an_existing_file_is_addr_in_use_and_leaves_the_file() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("taken.sock");
        drop(UnixDatagram::bind(&path).unwrap());
        let err = UnixDatagram::bind(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&*path.to_string_lossy()));
        assert!(path.exists());
    });
}

#[test]
fn sending_to_a_missing_path_is_not_found_and_to_a_stale_file_is_refused() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let client = UnixDatagram::unbound().unwrap();
        let err = client.send_to(b"x", dir.join("none")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        let stale = dir.join("stale.sock");
        drop(UnixDatagram::bind(&stale).unwrap());
        let err = client.send_to(b"x", &stale).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        let err = client.connect(&stale).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn after_shutdown_write_a_send_is_broken_pipe_and_no_sigpipe() {
    support::run(support::LIMIT, || async {
        let (a, _b) = UnixDatagram::pair().unwrap();
        a.shutdown(Shutdown::Write).unwrap();
        let err = a.send(b"late").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn once_the_other_end_of_a_pair_is_dropped_a_send_is_connection_refused() {
    support::run(support::LIMIT, || async {
        let (a, b) = UnixDatagram::pair().unwrap();
        drop(b);
        let err = a.send(b"anyone?").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn try_recv_is_would_block_until_readable_says_a_datagram_came() {
    support::run(support::LIMIT, || async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        a.writable().await.unwrap();
        a.try_send(b"now").unwrap();
        b.readable().await.unwrap();
        let n = b.try_recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"now");
    });
}

#[test]
fn a_std_socket_works_through_from_std() {
    support::run(support::LIMIT, || async {
        let (std_a, std_b) = std::os::unix::net::UnixDatagram::pair().unwrap();
        let a = UnixDatagram::from_std(std_a).unwrap();
        std_b.send(b"from std").unwrap();
        let mut buf = [0u8; 16];
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"from std");
        let back = a.into_std().unwrap();
        assert_eq!(
            back.recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    });
}
