//! Linux abstract Unix addresses named by a path that begins with a NUL
//! byte (listener, stream and datagram), `peer_cred`, the `into_std` and
//! `TryFrom` conversions, and the datagram's `recv_buf` family and
//! `ready(Interest)`.
#![cfg(all(feature = "net", feature = "io-util"))]

mod support;

use std::io::ErrorKind;
use std::os::linux::net::SocketAddrExt;

use ember::io::{AsyncReadExt, AsyncWriteExt, Interest};
use ember::net::{UnixDatagram, UnixListener, UnixStream};

/// An abstract name no other process uses: tests of other checkouts may
/// run at the same time, and abstract names are machine-wide (per network
/// namespace).
fn abstract_path(what: &str) -> String {
    format!("\0ember-test-{}-{what}", std::process::id())
}

#[test]
fn a_path_beginning_with_nul_binds_and_connects_an_abstract_name_and_creates_no_file() {
    support::run(support::LIMIT, || async {
        let path = abstract_path("stream");
        let listener = UnixListener::bind(&path).unwrap();
        let local = listener.local_addr().unwrap();
        let name = format!("ember-test-{}-stream", std::process::id());
        assert_eq!(local.as_abstract_name(), Some(name.as_bytes()));
        assert_eq!(local.as_pathname(), None);

        let mut client = UnixStream::connect(&path).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_abstract_name(),
            Some(name.as_bytes())
        );
        client.write_all(b"abstract").await.unwrap();
        let mut buf = [0u8; 8];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abstract");

        // The name is held: a second bind is AddrInUse, and says so.
        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(err.to_string().contains("abstract"), "{err}");

        // And released with the socket: no file to remove.
        drop(listener);
        drop(server);
        let again = UnixListener::bind(&path).unwrap();
        drop(again);
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn datagrams_travel_between_abstract_names_given_as_paths() {
    support::run(support::LIMIT, || async {
        let server_path = abstract_path("dgram-server");
        let client_path = abstract_path("dgram-client");
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::bind(&client_path).unwrap();

        client.send_to(b"one", &server_path).await.unwrap();
        client.try_send_to(b"two", &server_path).unwrap();
        let mut buf = [0u8; 8];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"one");
        let client_name = format!("ember-test-{}-dgram-client", std::process::id());
        assert_eq!(from.as_abstract_name(), Some(client_name.as_bytes()));

        // The rest into a Vec's spare capacity.
        let mut v = Vec::with_capacity(16);
        let (n, from) = server.recv_buf_from(&mut v).await.unwrap();
        assert_eq!((n, v.as_slice()), (3, &b"two"[..]));
        assert_eq!(from.as_abstract_name(), Some(client_name.as_bytes()));

        client.connect(&server_path).unwrap();
        client.send(b"three").await.unwrap();
        let ready = server.ready(Interest::READABLE).await.unwrap();
        assert!(ready.is_readable());
        v.clear();
        assert_eq!(server.try_recv_buf_from(&mut v).unwrap().0, 5);
        assert_eq!(v, b"three");
        assert_eq!(
            server.try_recv_buf(&mut v).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    });
}

#[test]
fn recv_buf_on_a_datagram_pair_appends_one_datagram() {
    support::run(support::LIMIT, || async {
        let (a, b) = UnixDatagram::pair().unwrap();
        a.send(b"abc").await.unwrap();
        let mut v = b"<".to_vec();
        v.reserve(8);
        assert_eq!(b.recv_buf(&mut v).await.unwrap(), 3);
        assert_eq!(v, b"<abc");
        let ready = a
            .ready(Interest::READABLE | Interest::WRITABLE)
            .await
            .unwrap();
        assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");
    });
}

#[test]
fn peer_cred_is_this_process_on_both_ends_of_a_local_connection() {
    support::run(support::LIMIT, || async {
        // SAFETY: getuid and getgid take nothing and cannot fail.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let pid = std::process::id() as i32;

        let path = abstract_path("cred");
        let listener = UnixListener::bind(&path).unwrap();
        let client = UnixStream::connect(&path).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        for stream in [&client, &server] {
            let cred = stream.peer_cred().unwrap();
            assert_eq!(cred.pid(), Some(pid));
            assert_eq!(cred.uid(), uid);
            assert_eq!(cred.gid(), gid);
        }

        let (a, _b) = UnixStream::pair().unwrap();
        let cred = a.peer_cred().unwrap();
        assert_eq!((cred.pid(), cred.uid(), cred.gid()), (Some(pid), uid, gid));
    });
}

#[test]
fn unix_sockets_go_to_std_and_back() {
    support::run(support::LIMIT, || async {
        let path = abstract_path("std");
        let listener = UnixListener::bind(&path).unwrap();
        let std_listener = listener.into_std().unwrap();
        let listener = UnixListener::try_from(std_listener).unwrap();

        let addr = std::os::unix::net::SocketAddr::from_abstract_name(
            format!("ember-test-{}-std", std::process::id()).as_bytes(),
        )
        .unwrap();
        let std_client = std::os::unix::net::UnixStream::connect_addr(&addr).unwrap();
        let client = UnixStream::try_from(std_client).unwrap();
        let (server, _) = listener.accept().await.unwrap();

        let mut std_server = server.into_std().unwrap();
        (&client).write_all(b"to std").await.unwrap();
        std_server.set_nonblocking(false).unwrap();
        let mut buf = [0u8; 6];
        std::io::Read::read_exact(&mut std_server, &mut buf).unwrap();
        assert_eq!(&buf, b"to std");

        let (a, _b) = std::os::unix::net::UnixDatagram::pair().unwrap();
        let a = UnixDatagram::try_from(a).unwrap();
        assert!(a.local_addr().unwrap().is_unnamed());
    });
}
