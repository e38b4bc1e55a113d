//! Unix-domain streams, in a temporary directory: echo (and a large
//! checksummed transfer), `pair()`, half-close, the errors of `connect`,
//! binding over a stale socket file (which is left in place), a full
//! backlog, `SIGPIPE`, abstract addresses, and the smaller API points.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

mod support;

use std::io::ErrorKind;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use futures_core::Stream;

use ember::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ember::net::unix::ReuniteError;
use ember::net::{UnixListener, UnixStream};
use support::temp_dir::TempDir;

/// FNV-1a over `bytes`, continuing from `hash`.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// `len` bytes from a xorshift generator: no period a lost or repeated
/// chunk could hide behind.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Binds `path` and spawns an echo server that serves every connection
/// until it closes.
fn spawn_echo_server(path: &Path) {
    let listener = UnixListener::bind(path).unwrap();
    ember::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            ember::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    if stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
}

#[test]
fn an_echo_server_returns_every_message_to_its_client() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("echo.sock");
        spawn_echo_server(&path);
        let mut client = UnixStream::connect(&path).await.unwrap();
        let mut reply = Vec::new();
        for round in 0..100u64 {
            let msg = random_bytes(1 + (round as usize * 97) % 5000, round);
            client.write_all(&msg).await.unwrap();
            reply.resize(msg.len(), 0);
            client.read_exact(&mut reply).await.unwrap();
            assert!(reply == msg, "round {round}: the echo differs");
        }
    });
}

#[test]
fn a_32_mib_transfer_through_an_echo_server_arrives_whole_with_the_same_checksum() {
    const LEN: usize = 32 * 1024 * 1024;
    let (sent, received, count) = support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("bulk.sock");
        spawn_echo_server(&path);
        let client = UnixStream::connect(&path).await.unwrap();
        let (mut reader, mut writer) = client.into_split();
        let data = random_bytes(LEN, 42);
        let sent = fnv1a(FNV_START, &data);
        // Write and read at once: the echo fills both socket buffers long
        // before 32 MiB have gone through.
        let writing = ember::spawn(async move {
            for chunk in data.chunks(100_000) {
                writer.write_all(chunk).await.unwrap();
            }
            drop(writer); // shuts down the write side: the server sees EOF
        });
        let mut buf = vec![0u8; 64 * 1024];
        let (mut received, mut count) = (FNV_START, 0usize);
        while count < LEN {
            let n = reader.read(&mut buf).await.unwrap();
            assert!(n > 0, "end of stream after {count} bytes");
            received = fnv1a(received, &buf[..n]);
            count += n;
        }
        writing.await.unwrap();
        (sent, received, count)
    });
    assert_eq!(count, LEN);
    assert_eq!(received, sent, "the bytes that came back differ");
}

#[test]
fn pair_gives_two_connected_streams_with_unnamed_addresses() {
    support::run(support::LIMIT, || async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"to b").await.unwrap();
        b.write_all(b"to a").await.unwrap();
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to b");
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to a");
        assert!(a.local_addr().unwrap().is_unnamed());
        assert!(a.peer_addr().unwrap().is_unnamed());
    });
}

#[test]
fn after_shutdown_write_the_peer_reads_eof_and_its_reply_still_arrives() {
    support::run(support::LIMIT, || async {
        let (mut client, mut server) = UnixStream::pair().unwrap();
        let request = random_bytes(300_000, 7);
        let expected = request.clone();
        let serving = ember::spawn(async move {
            let mut req = Vec::new();
            server.read_to_end(&mut req).await.unwrap();
            assert!(req == expected, "the request arrived whole before EOF");
            let mut buf = [0u8; 8];
            assert_eq!(server.read(&mut buf).await.unwrap(), 0, "EOF stays EOF");
            server.write_all(&req[..1000]).await.unwrap();
            server.close().await.unwrap();
        });
        client.write_all(&request).await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.unwrap();
        assert_eq!(&reply[..], &request[..1000]);
        serving.await.unwrap();
    });
}

#[test]
fn connecting_to_a_missing_path_is_not_found() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let err = UnixStream::connect(dir.join("nobody.sock"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    });
}

#[test]
fn connecting_to_a_stale_socket_file_is_connection_refused() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("stale.sock");
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists(), "the socket file outlives the listener");
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn binding_over_a_stale_socket_file_is_addr_in_use_and_leaves_the_file_in_place() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("stale.sock");
        drop(UnixListener::bind(&path).unwrap());

        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        let msg = err.to_string();
        assert!(
            msg.contains(&*path.to_string_lossy()) && msg.contains("remove it"),
            "the error names the path and says what to do: {msg}"
        );
        assert!(path.exists(), "ember did not delete the file");

        // A live listener's file is just as safe.
        let path2 = dir.join("live.sock");
        let live = UnixListener::bind(&path2).unwrap();
        let err = UnixListener::bind(&path2).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(UnixStream::connect(&path2).await.is_ok(), "still served");
        drop(live);

        // Once the user removes the stale file, bind works.
        std::fs::remove_file(&path).unwrap();
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
    });
}

#[test]
fn accept_names_the_listener_path_on_the_client_side_and_an_unnamed_peer_on_the_server_side() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("names.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let client = UnixStream::connect(&path).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        assert!(peer.is_unnamed(), "the client never bound");
        assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(&*path));
        assert!(client.local_addr().unwrap().is_unnamed());
        assert_eq!(server.local_addr().unwrap().as_pathname(), Some(&*path));
        assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(&*path));
    });
}

/// With the backlog cut to zero, one connection fills it: a second connect
/// gets `EAGAIN` from the kernel and must wait (not fail, not spin) until
/// the listener accepts.
#[test]
fn a_connect_to_a_full_backlog_waits_until_the_listener_accepts() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("full.sock");
        let listener = UnixListener::bind(&path).unwrap();
        // SAFETY: a valid listening fd; listen takes no pointer, and may be
        // called again to change the backlog.
        assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
        let first = UnixStream::connect(&path).await.unwrap();

        let path2 = path.clone();
        let second = ember::spawn(async move { UnixStream::connect(&path2).await });
        ember::time::sleep(Duration::from_millis(100)).await;
        assert!(!second.is_finished(), "the second connect waits for room");

        let (_a, _) = listener.accept().await.unwrap();
        let second = second.await.unwrap().expect("connects once there is room");
        let (_b, _) = listener.accept().await.unwrap();
        drop((first, second));
    });
}

#[test]
fn writing_to_a_closed_peer_is_broken_pipe_and_no_sigpipe() {
    support::run(support::LIMIT, || async {
        let (mut a, b) = UnixStream::pair().unwrap();
        drop(b);
        // SIGPIPE's default action would kill this test process.
        let err = a.write_all(b"into the void").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        let bufs = [std::io::IoSlice::new(b"vectored"); 3];
        let err =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut a).poll_write_vectored(cx, &bufs))
                .await
                .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn an_abstract_address_connects_without_a_file() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::SocketAddr;
    support::run(support::LIMIT, || async {
        let name = format!("ember-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixListener::bind_addr(&addr).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_abstract_name(),
            Some(name.as_bytes())
        );
        let mut client = UnixStream::connect_addr(&addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"abstract").await.unwrap();
        let mut buf = [0u8; 8];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abstract");
        let err = UnixListener::bind_addr(&addr).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
    });
}

#[test]
fn incoming_yields_each_connection() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("incoming.sock");
        let listener = UnixListener::bind(&path).unwrap();
        for _ in 0..3 {
            let _client = UnixStream::connect(&path).await.unwrap();
            let mut incoming = std::pin::pin!(listener.incoming());
            let next = std::future::poll_fn(|cx| incoming.as_mut().poll_next(cx)).await;
            next.expect("never ends").expect("a connection");
        }
    });
}

#[test]
fn split_and_owned_halves_read_and_write_and_reunite() {
    support::run(support::LIMIT, || async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        {
            let (mut ra, mut wa) = a.split();
            wa.write_all(b"half").await.unwrap();
            let mut buf = [0u8; 4];
            b.read_exact(&mut buf).await.unwrap();
            b.write_all(&buf).await.unwrap();
            ra.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"half");
        }
        let (r, w) = a.into_split();
        let (r2, w2) = UnixStream::pair().unwrap().0.into_split();
        let ReuniteError(r, w2) = r.reunite(w2).unwrap_err();
        drop((r2, w2));
        let a = r.reunite(w).expect("halves of one stream");
        a.try_write(b"x").unwrap();
        b.readable().await.unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(b.try_read(&mut buf).unwrap(), 1);
        assert_eq!(
            b.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    });
}

#[test]
fn a_std_stream_works_through_from_std_and_peek_leaves_bytes_in_place() {
    support::run(support::LIMIT, || async {
        let (std_a, std_b) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut a = UnixStream::from_std(std_a).unwrap();
        let b = UnixStream::from_std(std_b).unwrap();
        a.write_all(b"peek me").await.unwrap();
        let mut buf = [0u8; 7];
        let n = b.peek(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], &b"peek me"[..n]);
        (&b).read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"peek me");
        let back = b.into_std().unwrap();
        assert!(back.peer_addr().unwrap().is_unnamed());
    });
}
