//! UDP on loopback: echo with `send_to`/`recv_from` and with a connected
//! socket, truncation of a datagram larger than the buffer, bursts of
//! datagrams from a std thread (which only pass if a receive never counts
//! the socket as drained), ICMP errors, and the smaller API points.
#![cfg(all(feature = "net", feature = "time"))]

mod support;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use ember::net::UdpSocket;

fn bind() -> (UdpSocket, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    (socket, addr)
}

/// Datagram `i` of a test: its length and bytes depend on `i`, so a
/// datagram that is lost, repeated, reordered or cut shows.
fn datagram(i: u32) -> Vec<u8> {
    let len = 4 + (i as usize * 37) % 1200;
    let mut d = i.to_le_bytes().to_vec();
    d.extend((4..len).map(|j| (j as u32 ^ i.wrapping_mul(2_654_435_761)) as u8));
    d
}

/// Spawns a task that echoes every datagram back to its sender.
fn spawn_echo() -> SocketAddr {
    let (server, addr) = bind();
    ember::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let (n, peer) = server.recv_from(&mut buf).await.expect("server recv_from");
            server
                .send_to(&buf[..n], peer)
                .await
                .expect("server send_to");
        }
    });
    addr
}

#[test]
fn send_to_and_recv_from_echo_each_datagram_back_to_its_sender() {
    support::run(support::LIMIT, || async {
        let server = spawn_echo();
        let (client, client_addr) = bind();
        let mut buf = vec![0u8; 64 * 1024];
        for i in 0..200 {
            let msg = datagram(i);
            assert_eq!(client.send_to(&msg, server).await.unwrap(), msg.len());
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, server, "the reply comes from the server");
            assert_eq!(&buf[..n], &msg[..], "datagram {i} echoed whole");
        }
        assert_eq!(client.local_addr().unwrap(), client_addr);
    });
}

#[test]
fn a_connected_socket_echoes_with_send_and_recv_and_knows_its_peer() {
    support::run(support::LIMIT, || async {
        let server = spawn_echo();
        let (client, _) = bind();
        assert_eq!(
            client.peer_addr().unwrap_err().kind(),
            ErrorKind::NotConnected,
            "no peer before connect"
        );
        client.connect(server).unwrap();
        assert_eq!(client.peer_addr().unwrap(), server);
        let mut buf = [0u8; 2048];
        for i in 0..200 {
            let msg = datagram(i);
            assert_eq!(client.send(&msg).await.unwrap(), msg.len());
            let n = client.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &msg[..], "datagram {i} echoed whole");
        }
    });
}

#[test]
fn ipv6_loopback_echoes_too() {
    support::run(support::LIMIT, || async {
        let Ok(server) = UdpSocket::bind("[::1]:0") else {
            eprintln!("no IPv6 loopback here: skipped");
            return;
        };
        let server_addr = server.local_addr().unwrap();
        let client = UdpSocket::bind("[::1]:0").unwrap();
        client.send_to(b"over six", server_addr).await.unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"over six");
        assert_eq!(from, client.local_addr().unwrap());
        assert!(from.is_ipv6());
    });
}

#[test]
fn a_datagram_larger_than_the_buffer_is_truncated_and_its_rest_is_lost() {
    support::run(support::LIMIT, || async {
        let (receiver, addr) = bind();
        let (sender, _) = bind();
        let big = datagram(7);
        assert!(big.len() > 100);
        sender.send_to(&big, addr).await.unwrap();
        sender.send_to(b"next", addr).await.unwrap();

        let mut small = [0u8; 10];
        let (n, _) = receiver.recv_from(&mut small).await.unwrap();
        assert_eq!(
            n, 10,
            "the count is the buffer's length, not the datagram's"
        );
        assert_eq!(
            &small[..],
            &big[..10],
            "the buffer holds the datagram's start"
        );

        let mut buf = [0u8; 64];
        let (n, _) = receiver.recv_from(&mut buf).await.unwrap();
        assert_eq!(
            &buf[..n],
            b"next",
            "the next receive gets the next datagram, not the rest of the first"
        );
    });
}

#[test]
fn an_empty_datagram_reads_as_zero_bytes_and_the_socket_goes_on() {
    support::run(support::LIMIT, || async {
        let (receiver, addr) = bind();
        let (sender, _) = bind();
        sender.send_to(b"", addr).await.unwrap();
        sender.send_to(b"after", addr).await.unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(receiver.recv_from(&mut buf).await.unwrap().0, 0);
        let (n, _) = receiver.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"after");
    });
}

/// The std thread sends `BATCHES` bursts of `BURST` datagrams, and waits
/// for the ember side's acknowledgement after each burst, so the receive
/// buffer never overflows (loopback UDP drops, rather than waits, when it
/// does). A burst is queued whole before the receiver looks, so a receiver
/// that took a short read for "drained" would stop after one datagram and
/// hang.
#[test]
fn bursts_of_datagrams_from_a_std_thread_all_arrive_whole_and_in_order() {
    const BATCHES: u32 = 100;
    const BURST: u32 = 32;
    let received = support::run(support::LIMIT, || async {
        let (socket, addr) = bind();
        let sender = std::thread::spawn(move || {
            let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            std_socket
                .set_read_timeout(Some(Duration::from_secs(30)))
                .unwrap();
            let mut ack = [0u8; 4];
            for batch in 0..BATCHES {
                for i in 0..BURST {
                    std_socket
                        .send_to(&datagram(batch * BURST + i), addr)
                        .unwrap();
                }
                let (n, _) = std_socket.recv_from(&mut ack).expect("ack");
                assert_eq!(&ack[..n], &batch.to_le_bytes());
            }
        });
        let mut buf = vec![0u8; 2048];
        let mut count = 0;
        for batch in 0..BATCHES {
            let mut from = None;
            for i in 0..BURST {
                let (n, peer) = socket.recv_from(&mut buf).await.unwrap();
                let want = datagram(batch * BURST + i);
                assert_eq!(
                    &buf[..n],
                    &want[..],
                    "datagram {} intact",
                    batch * BURST + i
                );
                from = Some(peer);
                count += 1;
            }
            let from = from.expect("a burst has datagrams");
            socket.send_to(&batch.to_le_bytes(), from).await.unwrap();
        }
        sender.join().expect("sender thread");
        count
    });
    assert_eq!(received, BATCHES * BURST);
}

#[test]
fn a_connected_socket_reports_a_closed_port_as_connection_refused() {
    support::run(support::LIMIT, || async {
        // A port that was just free: nothing listens there now.
        let closed = {
            let (socket, addr) = bind();
            drop(socket);
            addr
        };
        let (client, _) = bind();
        client.connect(closed).unwrap();
        client.send(b"anyone?").await.unwrap();
        // The ICMP "port unreachable" comes back as an error on the socket.
        let mut buf = [0u8; 16];
        let err = client.recv(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn peek_from_leaves_the_datagram_for_the_next_receive() {
    support::run(support::LIMIT, || async {
        let (receiver, addr) = bind();
        let (sender, sender_addr) = bind();
        sender.send_to(b"look twice", addr).await.unwrap();
        let mut buf = [0u8; 32];
        let (n, from) = receiver.peek_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"look twice"[..], sender_addr));
        let (n, from) = receiver.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"look twice"[..], sender_addr));
    });
}

#[test]
fn try_recv_from_is_would_block_until_readable_says_a_datagram_came() {
    support::run(support::LIMIT, || async {
        let (receiver, addr) = bind();
        let (sender, _) = bind();
        let mut buf = [0u8; 32];
        assert_eq!(
            receiver.try_recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        ember::spawn(async move {
            ember::time::sleep(Duration::from_millis(20)).await;
            sender.try_send_to(b"ping", addr).unwrap();
            // Keep the sender open until the datagram is read.
            ember::time::sleep(Duration::from_secs(5)).await;
        });
        loop {
            receiver.readable().await.unwrap();
            match receiver.try_recv_from(&mut buf) {
                Ok((n, _)) => {
                    assert_eq!(&buf[..n], b"ping");
                    break;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => panic!("try_recv_from: {e}"),
            }
        }
        receiver.writable().await.unwrap();
    });
}

#[test]
fn a_std_socket_works_through_from_std_and_comes_back_through_into_std() {
    support::run(support::LIMIT, || async {
        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = std_socket.local_addr().unwrap();
        let socket = UdpSocket::from_std(std_socket).unwrap();
        let (sender, _) = bind();
        sender.send_to(b"via std", addr).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, _) = socket.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"via std");

        let back = socket.into_std().unwrap();
        assert_eq!(back.local_addr().unwrap(), addr);
        // Still non-blocking: nothing queued is WouldBlock, not a hang.
        assert_eq!(
            back.recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    });
}

#[test]
fn bind_takes_a_host_and_port_string_and_a_bad_one_is_an_error() {
    support::run(support::LIMIT, || async {
        let socket = UdpSocket::bind("localhost:0").unwrap();
        assert!(socket.local_addr().unwrap().ip().is_loopback());
        assert!(UdpSocket::bind("not an address").is_err());
    });
}
