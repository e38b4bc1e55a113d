//! TCP errors: a refused connect is `ConnectionRefused`, a taken port is
//! `AddrInUse`, a reset wakes parked readers and writers with an error, and
//! writing to a peer that has gone is `BrokenPipe` (never `SIGPIPE`), even
//! with `SIGPIPE` at its default action (checked in a child process).
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

mod support;

use std::future::poll_fn;
use std::io::{ErrorKind, IoSlice};
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;
use std::pin::Pin;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};

/// What a child prints once it has done its part and lives, so that the
/// parent knows the child really ran the test (an `--exact` filter that
/// matches nothing also exits with success).
const SURVIVED: &str = "child survived the writes";

/// A connected stream whose peer has closed its socket, after that close
/// has reached us (we read its end of stream).
async fn stream_with_gone_peer() -> TcpStream {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).await.unwrap();
    let (server_side, _) = listener.accept().await.unwrap();
    drop(server_side);
    drop(listener);
    let mut buf = [0u8; 16];
    assert_eq!(client.read(&mut buf).await.unwrap(), 0, "EOF from the peer");
    client
}

/// Writes to a stream whose peer has gone until the kernel says
/// `EPIPE`: the first write may still be accepted (it draws the peer's
/// RST), and one may fail with `ECONNRESET`; then every write is `EPIPE`.
/// Returns the errors seen, in order.
async fn write_until_broken_pipe(stream: &mut TcpStream) -> Vec<ErrorKind> {
    let mut errors = Vec::new();
    // Generous: on loopback the RST arrives before the second write.
    for _ in 0..2000 {
        match stream.write(&[7u8; 1024]).await {
            Ok(_) => {}
            Err(e) => {
                let kind = e.kind();
                assert!(
                    matches!(kind, ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
                    "unexpected error writing to a gone peer: {e:?}"
                );
                errors.push(kind);
                if kind == ErrorKind::BrokenPipe {
                    return errors;
                }
            }
        }
        ember::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("no BrokenPipe after 2000 writes to a gone peer; errors seen: {errors:?}");
}

#[test]
fn a_refused_connection_is_connection_refused() {
    // Take a port the kernel just gave out, then free it: nothing listens.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = support::run(support::LIMIT, move || async move {
        TcpStream::connect(("127.0.0.1", port))
            .await
            .expect_err("nothing listens on the port")
    });
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err:?}");
}

#[test]
fn binding_a_port_that_is_already_listening_is_addr_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = support::run(support::LIMIT, move || async move {
        TcpListener::bind(addr).expect_err("the port is taken")
    });
    assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err:?}");
    drop(taken);
}

#[test]
fn a_reset_from_the_peer_wakes_a_parked_reader_with_connection_reset() {
    let result = support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // Closing a socket with unread data makes the kernel send RST
        // instead of FIN.
        client.write_all(b"never read").await.unwrap();
        server.readable().await.unwrap();

        let reader = ember::spawn(async move {
            let mut buf = [0u8; 16];
            client.read(&mut buf).await
        });
        for _ in 0..100 {
            ember::task::yield_now().await;
        }
        assert!(!reader.is_finished(), "the reader did not park");
        drop(server);
        reader.await.unwrap()
    });
    let err = result.expect_err("a reset connection");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err:?}");
}

#[test]
fn a_writer_parked_on_a_full_buffer_wakes_with_an_error_when_the_peer_goes() {
    let result = support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // Far more than the buffers hold while nobody reads: it parks.
        let writer = ember::spawn(async move {
            let data = vec![3u8; 64 * 1024 * 1024];
            client.write_all(&data).await
        });
        server.readable().await.unwrap();
        for _ in 0..100 {
            ember::task::yield_now().await;
        }
        assert!(!writer.is_finished(), "the writer did not park");
        drop(server); // unread data: the kernel resets the connection
        writer.await.unwrap()
    });
    let err = result.expect_err("the peer has gone");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
        ),
        "{err:?}"
    );
}

#[test]
fn writing_to_a_peer_that_has_gone_is_broken_pipe_and_the_process_lives() {
    let errors = support::run(support::LIMIT, || async {
        let mut stream = stream_with_gone_peer().await;
        let errors = write_until_broken_pipe(&mut stream).await;
        // And it stays broken, through every write path.
        let err = stream.write_all(b"more").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe, "write_all: {err:?}");
        let err = stream.try_write(b"more").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe, "try_write: {err:?}");
        errors
    });
    assert_eq!(errors.last(), Some(&ErrorKind::BrokenPipe));
}

/// The child's half of the two SIGPIPE tests: put SIGPIPE back to its
/// default action (the test harness ignores it), which kills the process
/// on any write that raises it.
fn restore_default_sigpipe() {
    // SAFETY: `signal` with a valid signal number and SIG_DFL installs no
    // handler code; nothing else in this process changes SIGPIPE meanwhile.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR, "signal(SIGPIPE, SIG_DFL) failed");
}

#[test]
fn writes_to_a_gone_peer_do_not_raise_sigpipe_at_its_default_action() {
    const NAME: &str = "writes_to_a_gone_peer_do_not_raise_sigpipe_at_its_default_action";
    if support::is_child() {
        restore_default_sigpipe();
        support::run(support::LIMIT, || async {
            let mut stream = stream_with_gone_peer().await;
            write_until_broken_pipe(&mut stream).await;
            // Every write path, once the pipe is known to be broken:
            // send(2) ...
            let err = stream.write_all(&[1u8; 4096]).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err:?}");
            // ... send(2) without waiting ...
            let err = stream.try_write(&[1u8; 4096]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err:?}");
            // ... and sendmsg(2).
            let bufs = [IoSlice::new(b"one"), IoSlice::new(b"two")];
            let err = poll_fn(|cx| Pin::new(&mut stream).poll_write_vectored(cx, &bufs))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err:?}");
        });
        println!("{SURVIVED}");
        return;
    }
    let out = support::run_in_child(NAME, support::LIMIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "the child was killed by SIGPIPE\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        out.status.success(),
        "the child failed: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains(SURVIVED),
        "the child did not run the test\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
}

#[test]
fn the_sigpipe_check_is_real_a_plain_write_to_a_gone_peer_kills_the_child() {
    // The control for the test above: the same child, the same gone peer,
    // but a plain write(2) (no MSG_NOSIGNAL). It must die of SIGPIPE, or
    // the test above would pass whatever ember does.
    const NAME: &str = "the_sigpipe_check_is_real_a_plain_write_to_a_gone_peer_kills_the_child";
    if support::is_child() {
        restore_default_sigpipe();
        support::run(support::LIMIT, || async {
            let stream = stream_with_gone_peer().await;
            for _ in 0..2000 {
                // SAFETY: the fd is the stream's, open for the whole call;
                // the buffer is a live 16-byte array.
                let r = unsafe { libc::write(stream.as_raw_fd(), [0u8; 16].as_ptr().cast(), 16) };
                if r < 0 {
                    let err = std::io::Error::last_os_error();
                    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err:?}");
                }
                ember::time::sleep(Duration::from_millis(1)).await;
            }
        });
        println!("{SURVIVED}");
        return;
    }
    let out = support::run_in_child(NAME, support::LIMIT);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "the child should have died of SIGPIPE: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
