//! Buffered and composed I/O over real sockets: `BufReader` line reading
//! across packet boundaries, `lines()`, `BufWriter` batching, `io::split`,
//! and the cancel semantics of `read_line`.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

mod support;

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::pin::{pin, Pin};
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use ember::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use ember::net::{TcpListener, TcpStream};
use futures_core::Stream;

/// Accepts one connection from a std client that `client` drives in its
/// own thread; returns the server side and the client thread.
async fn with_std_client<T: Send + 'static>(
    client: impl FnOnce(std::net::TcpStream) -> T + Send + 'static,
) -> (TcpStream, thread::JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let handle = thread::spawn(move || {
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        client(stream)
    });
    let (stream, _) = listener.accept().await.expect("accept");
    (stream, handle)
}

#[test]
fn a_line_sent_in_many_small_pieces_is_read_whole() {
    support::run(support::LIMIT, || async {
        let line = "a line that arrives a few bytes at a time\n";
        let (stream, client) = with_std_client(move |mut s| {
            for piece in line.as_bytes().chunks(3) {
                s.write_all(piece).expect("client write");
                thread::sleep(Duration::from_millis(3));
            }
            s.write_all(b"second\n").expect("client write");
        })
        .await;
        let mut reader = BufReader::new(stream);
        let mut got = String::new();
        let n = reader.read_line(&mut got).await.expect("read_line");
        assert_eq!((n, got.as_str()), (line.len(), line));
        got.clear();
        reader.read_line(&mut got).await.expect("read_line");
        assert_eq!(got, "second\n");
        client.join().expect("client thread");
        got.clear();
        assert_eq!(reader.read_line(&mut got).await.ok(), Some(0), "no EOF");
    });
}

#[test]
fn several_lines_in_one_packet_are_read_one_at_a_time() {
    support::run(support::LIMIT, || async {
        let (stream, client) = with_std_client(|mut s| {
            s.write_all(b"one\ntwo\r\nthree\nfour")
                .expect("client write");
        })
        .await;
        client.join().expect("client thread"); // everything is sent, then FIN
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        for expected in ["one\n", "two\r\n", "three\n", "four"] {
            line.clear();
            reader.read_line(&mut line).await.expect("read_line");
            assert_eq!(line, expected);
        }
        line.clear();
        assert_eq!(reader.read_line(&mut line).await.ok(), Some(0));
    });
}

#[test]
fn lines_is_a_stream_of_lines_without_terminators() {
    support::run(support::LIMIT, || async {
        let (stream, client) = with_std_client(|mut s| {
            // Lines split across writes, a CRLF, an empty line, no final \n.
            for piece in [&b"al"[..], b"pha\nbe", b"ta\r\n", b"\ngam", b"ma"] {
                s.write_all(piece).expect("client write");
                thread::sleep(Duration::from_millis(5));
            }
        })
        .await;
        let mut lines = pin!(BufReader::new(stream).lines());
        let mut got = Vec::new();
        while let Some(line) = poll_fn(|cx| lines.as_mut().poll_next(cx)).await {
            got.push(line.expect("line"));
        }
        assert_eq!(got, ["alpha", "beta", "", "gamma"]);
        client.join().expect("client thread");
    });
}

#[test]
fn a_line_that_is_not_utf8_is_invalid_data_and_leaves_the_string_alone() {
    support::run(support::LIMIT, || async {
        let mut reader = BufReader::new(&b"\xff\xfe\n"[..]);
        let mut line = String::from("kept");
        let err = reader.read_line(&mut line).await.expect_err("not UTF-8");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(line, "kept");
    });
}

#[test]
fn a_dropped_read_line_restores_the_string_and_next_line_keeps_the_partial_line() {
    support::run(support::LIMIT, || async {
        // The client sends half a line, then the rest only when told to.
        let half_a_line = || {
            let (go, wait) = mpsc::channel::<()>();
            let client = move |mut s: std::net::TcpStream| {
                s.write_all(b"half a ").expect("client write");
                wait.recv().expect("go");
                s.write_all(b"line\n").expect("client write");
            };
            (go, client)
        };

        let (go, client) = half_a_line();
        let (stream, client) = with_std_client(client).await;
        stream.readable().await.expect("readable"); // the first half is in
        let mut reader = BufReader::new(stream);
        let mut line = String::from("before:");
        {
            // One poll takes the first half, then waits for the rest: drop it.
            let mut fut = pin!(reader.read_line(&mut line));
            assert!(support::poll_once(fut.as_mut()).await.is_pending());
        }
        assert_eq!(
            line, "before:",
            "a dropped read_line must restore the string"
        );
        go.send(()).expect("go");
        // The consumed half is gone: documented as lost.
        reader.read_line(&mut line).await.expect("read_line");
        assert_eq!(line, "before:line\n");
        client.join().expect("client thread");

        // `Lines::next_line` keeps the partial line across a drop.
        let (go, client) = half_a_line();
        let (stream, client) = with_std_client(client).await;
        stream.readable().await.expect("readable");
        let mut lines = BufReader::new(stream).lines();
        {
            let mut fut = pin!(lines.next_line());
            assert!(support::poll_once(fut.as_mut()).await.is_pending());
        }
        assert_eq!(
            lines.get_ref().buffer(),
            b"",
            "the first half was not taken"
        );
        go.send(()).expect("go");
        let line = lines.next_line().await.expect("next_line");
        assert_eq!(line.as_deref(), Some("half a line"));
        client.join().expect("client thread");
    });
}

/// An `AsyncWrite` that counts the calls it receives.
#[derive(Default)]
struct Counting {
    bytes: Vec<u8>,
    writes: usize,
    vectored: usize,
}

impl AsyncWrite for Counting {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.writes += 1;
        this.bytes.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.vectored += 1;
        let mut n = 0;
        for b in bufs {
            this.bytes.extend_from_slice(b);
            n += b.len();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn buf_writer_turns_many_small_writes_into_few() {
    support::run(support::LIMIT, || async {
        let mut w = BufWriter::with_capacity(1000, Counting::default());
        let mut expected = Vec::new();
        for i in 0..1000u32 {
            let piece = format!("{i:04}|"); // 5 bytes
            w.write_all(piece.as_bytes()).await.expect("write");
            expected.extend_from_slice(piece.as_bytes());
        }
        w.flush().await.expect("flush");
        // 5000 bytes through a 1000-byte buffer: 5 writes, not 1000.
        assert_eq!(w.get_ref().writes, 5);
        assert!(w.get_ref().bytes == expected);

        // A write as large as the buffer skips it, after what is buffered.
        w.write_all(b"small").await.expect("write");
        w.write_all(&[b'L'; 1000]).await.expect("write");
        assert_eq!(w.get_ref().writes, 7);
        assert!(w
            .get_ref()
            .bytes
            .ends_with(&[&b"small"[..], &[b'L'; 1000]].concat()));

        // Small vectored writes are gathered; large ones go through whole.
        let (a, b) = (io::IoSlice::new(b"ab"), io::IoSlice::new(b"cd"));
        let n = poll_fn(|cx| Pin::new(&mut w).poll_write_vectored(cx, &[a, b])).await;
        assert_eq!(n.ok(), Some(4));
        assert_eq!(w.buffer(), b"abcd");
        let big = vec![b'V'; 600];
        let (c, d) = (io::IoSlice::new(&big), io::IoSlice::new(&big));
        let n = poll_fn(|cx| Pin::new(&mut w).poll_write_vectored(cx, &[c, d])).await;
        assert_eq!(n.ok(), Some(1200));
        assert_eq!(w.get_ref().vectored, 1);
        assert!(w
            .get_ref()
            .bytes
            .ends_with(&[&b"abcd"[..], &[b'V'; 1200]].concat()));
    });
}

#[test]
fn buf_writer_bytes_reach_the_peer_only_after_flush() {
    support::run(support::LIMIT, || async {
        let (stream, client) = with_std_client(|mut s| {
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .expect("timeout");
            let mut buf = [0u8; 4096];
            // Nothing arrives while the server only writes small pieces.
            let early = s.read(&mut buf);
            assert!(
                matches!(&early, Err(e) if e.kind() == io::ErrorKind::WouldBlock),
                "the peer received bytes before the flush: {early:?}"
            );
            s.write_all(b"go").expect("client write"); // now flush, please
            s.set_read_timeout(None).expect("timeout");
            let mut got = Vec::new();
            s.read_to_end(&mut got).expect("client read");
            got
        })
        .await;
        let mut w = BufWriter::new(stream);
        for _ in 0..100 {
            w.write_all(b"0123456789").await.expect("write");
        }
        let mut go = [0u8; 2];
        w.get_mut().read_exact(&mut go).await.expect("read go");
        w.close().await.expect("close flushes, then shuts down");
        let got = client.join().expect("client thread");
        assert_eq!(got, b"0123456789".repeat(100));
    });
}

#[test]
fn split_halves_read_and_write_in_different_tasks() {
    support::run(support::LIMIT, || async {
        let (stream, client) = with_std_client(|mut s| {
            // An uppercasing echo on the std side.
            let mut buf = [0u8; 1024];
            loop {
                let n = s.read(&mut buf).expect("client read");
                if n == 0 {
                    return;
                }
                s.write_all(&buf[..n].to_ascii_uppercase())
                    .expect("client write");
            }
        })
        .await;
        let (reader, mut writer) = ember::io::split(BufReader::new(stream));
        let reading = ember::spawn(async move {
            let mut reader = BufReader::new(reader);
            let mut all = String::new();
            reader.read_to_string(&mut all).await.expect("read");
            (reader.into_inner(), all)
        });
        for word in ["split ", "halves ", "work\n"] {
            writer.write_all(word.as_bytes()).await.expect("write");
            ember::time::sleep(Duration::from_millis(5)).await;
        }
        writer.close().await.expect("close");
        let (reader, all) = reading.await.expect("reader task");
        assert_eq!(all, "SPLIT HALVES WORK\n");
        assert!(reader.is_pair_of(&writer));
        let stream = reader.unsplit(writer);
        assert!(stream.buffer().is_empty());
        client.join().expect("client thread");
    });
}

#[test]
fn halves_of_different_splits_do_not_reunite() {
    support::run(support::LIMIT, || async {
        let (stream_a, _client_a) = with_std_client(|_| ()).await;
        let (stream_b, _client_b) = with_std_client(|_| ()).await;
        let (read_a, write_a) = ember::io::split(stream_a);
        let (read_b, write_b) = ember::io::split(stream_b);
        let err = read_a.reunite(write_b).expect_err("different streams");
        let ember::io::ReuniteError(read_a, write_b) = err;
        assert!(read_a.reunite(write_a).is_ok());
        assert!(read_b.reunite(write_b).is_ok());
    });
}

// Regression: `copy` into a `BufWriter` flushed only at end of stream, so an
// echo through it never reached a client waiting for its reply.
#[test]
fn copy_into_a_buf_writer_flushes_while_the_reader_waits() {
    support::run(support::LIMIT, || async {
        let listener = ember::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = ember::spawn(async move {
            let (stream, _) = listener.accept().await?;
            let (mut reader, writer) = stream.into_split();
            let mut writer = ember::io::BufWriter::new(writer);
            ember::io::copy(&mut reader, &mut writer).await
        });
        let mut client = ember::net::TcpStream::connect(addr).await?;
        for round in 0..3u8 {
            let msg = [b'a' + round; 10];
            client.write_all(&msg).await?;
            let mut echo = [0u8; 10];
            client.read_exact(&mut echo).await?;
            assert_eq!(echo, msg);
        }
        client.shutdown(std::net::Shutdown::Write)?;
        assert_eq!(server.await??, 30);
        Ok::<(), std::io::Error>(())
    })
    .unwrap();
}
