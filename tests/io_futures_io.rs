//! The optional `futures-io` feature: ember's sockets and buffered adapters
//! work through the `futures_io` traits. Runs only with the feature on:
//! `cargo test --features futures-io --test io_futures_io` (CI does).
#![cfg(all(feature = "net", feature = "io-util", feature = "futures-io"))]

mod support;

use std::future::poll_fn;
use std::io;
use std::pin::Pin;

use ember::io::BufReader;
use ember::net::{TcpListener, TcpStream, UnixStream};
use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

/// Writes all of `buf` through `futures_io::AsyncWrite` only.
async fn write_all<W: AsyncWrite + Unpin>(w: &mut W, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, buf)).await?;
        buf = &buf[n..];
    }
    poll_fn(|cx| Pin::new(&mut *w).poll_flush(cx)).await
}

/// Reads exactly `n` bytes through `futures_io::AsyncRead` only.
async fn read_n<R: AsyncRead + Unpin>(r: &mut R, n: usize) -> io::Result<Vec<u8>> {
    let mut out = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        let k = poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, &mut out[filled..])).await?;
        if k == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        filled += k;
    }
    Ok(out)
}

#[test]
fn a_tcp_stream_echoes_through_the_futures_io_traits() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = ember::spawn(async move {
            let (mut s, _) = listener.accept().await?;
            let got = read_n(&mut s, 5).await?;
            write_all(&mut s, &got).await?;
            poll_fn(|cx| Pin::new(&mut s).poll_close(cx)).await
        });
        let mut client = TcpStream::connect(addr).await?;
        write_all(&mut client, b"hello").await?;
        assert_eq!(read_n(&mut client, 5).await?, b"hello");
        server.await??;
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[test]
fn a_buf_reader_fills_and_consumes_through_the_futures_io_trait() {
    support::run(support::LIMIT, || async {
        let (a, mut b) = UnixStream::pair()?;
        write_all(&mut b, b"line one\nline two\n").await?;
        let mut reader = BufReader::new(a);
        let first = poll_fn(|cx| {
            Pin::new(&mut reader)
                .poll_fill_buf(cx)
                .map_ok(|buf| buf.to_vec())
        })
        .await?;
        assert!(first.starts_with(b"line one\n"));
        Pin::new(&mut reader).consume(9);
        let rest = poll_fn(|cx| {
            Pin::new(&mut reader)
                .poll_fill_buf(cx)
                .map_ok(|b| b.to_vec())
        })
        .await?;
        assert!(rest.starts_with(b"line two\n"));
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

/// A futures-io byte pipe held in memory (one direction), standing for a
/// type from the `futures` world such as a TLS stream.
#[derive(Clone, Default)]
struct MemPipe(std::rc::Rc<std::cell::RefCell<MemPipeState>>);

#[derive(Default)]
struct MemPipeState {
    bytes: std::collections::VecDeque<u8>,
    closed: bool,
    reader: Option<std::task::Waker>,
}

impl AsyncRead for MemPipe {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<io::Result<usize>> {
        let mut s = self.0.borrow_mut();
        if s.bytes.is_empty() && !s.closed {
            s.reader = Some(cx.waker().clone());
            return std::task::Poll::Pending;
        }
        let n = buf.len().min(s.bytes.len());
        for (dst, src) in buf.iter_mut().zip(s.bytes.drain(..n)) {
            *dst = src;
        }
        std::task::Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for MemPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        let mut s = self.0.borrow_mut();
        s.bytes.extend(buf);
        if let Some(w) = s.reader.take() {
            w.wake();
        }
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_close(
        self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let mut s = self.0.borrow_mut();
        s.closed = true;
        if let Some(w) = s.reader.take() {
            w.wake();
        }
        std::task::Poll::Ready(Ok(()))
    }
}

#[test]
fn a_futures_io_reader_goes_through_embers_buf_reader_and_lines() {
    use ember::io::{AsyncBufReadExt, Compat};
    support::run(support::LIMIT, || async {
        let pipe = MemPipe::default();
        let mut writer = pipe.clone();
        let feeder = ember::spawn(async move {
            for i in 0..100 {
                write_all(&mut writer, format!("line {i}\n").as_bytes())
                    .await
                    .unwrap();
                ember::task::yield_now().await;
            }
            poll_fn(|cx| Pin::new(&mut writer).poll_close(cx))
                .await
                .unwrap();
        });
        let mut lines = BufReader::new(Compat::new(pipe)).lines();
        let mut n = 0;
        while let Some(line) = lines.next_line().await.unwrap() {
            assert_eq!(line, format!("line {n}"));
            n += 1;
        }
        assert_eq!(n, 100);
        feeder.await.unwrap();
    });
}

#[test]
fn copy_bidirectional_joins_a_futures_io_stream_and_a_socket() {
    use ember::io::{copy_bidirectional, AsyncReadExt, AsyncWriteExt, Compat};
    support::run(support::LIMIT, || async {
        // The "foreign" side is two one-way pipes; the far end plays the
        // remote peer through futures-io calls only.
        let (to_proxy, from_proxy) = (MemPipe::default(), MemPipe::default());
        struct Duplex {
            rd: MemPipe,
            wr: MemPipe,
        }
        impl AsyncRead for Duplex {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<io::Result<usize>> {
                Pin::new(&mut self.rd).poll_read(cx, buf)
            }
        }
        impl AsyncWrite for Duplex {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<io::Result<usize>> {
                Pin::new(&mut self.wr).poll_write(cx, buf)
            }
            fn poll_flush(
                mut self: Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                Pin::new(&mut self.wr).poll_flush(cx)
            }
            fn poll_close(
                mut self: Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                Pin::new(&mut self.wr).poll_close(cx)
            }
        }
        let mut foreign = Compat::new(Duplex {
            rd: to_proxy.clone(),
            wr: from_proxy.clone(),
        });
        let (mut near, mut far) = UnixStream::pair().unwrap();
        let proxy =
            ember::spawn(async move { copy_bidirectional(&mut foreign, &mut near).await.unwrap() });
        // Socket -> foreign.
        far.write_all(b"ping").await.unwrap();
        let mut from = from_proxy.clone();
        assert_eq!(read_n(&mut from, 4).await.unwrap(), b"ping");
        // Foreign -> socket.
        let mut to = to_proxy.clone();
        write_all(&mut to, b"pong").await.unwrap();
        let mut got = [0u8; 4];
        far.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"pong");
        // Both ends close: the proxy reports the counts.
        poll_fn(|cx| Pin::new(&mut to).poll_close(cx))
            .await
            .unwrap();
        far.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(proxy.await.unwrap(), (4, 4));
    });
}

#[test]
fn an_ember_reader_wrapped_in_compat_is_a_futures_io_reader() {
    use ember::io::Compat;
    support::run(support::LIMIT, || async {
        let mut r = Compat::new(&b"from ember"[..]);
        assert_eq!(read_n(&mut r, 10).await.unwrap(), b"from ember");
        let mut w = Compat::new(Vec::new());
        write_all(&mut w, b"into ember").await.unwrap();
        assert_eq!(w.into_inner(), b"into ember");
    });
}

#[test]
fn a_duplex_pair_and_take_work_through_the_futures_io_traits() {
    support::run(support::LIMIT, || async {
        let (mut a, b) = ember::io::duplex(64);
        write_all(&mut a, b"through the duplex").await?;
        let mut first = ember::io::AsyncReadExt::take(b, 7);
        assert_eq!(read_n(&mut first, 7).await?, b"through");
        assert!(
            read_n(&mut first, 1).await.is_err(),
            "take ends at its limit"
        );
        Ok::<(), io::Error>(())
    })
    .unwrap();
}

#[cfg(feature = "fs")]
#[test]
fn a_file_writes_seeks_and_reads_through_the_futures_io_traits() {
    use futures_io::AsyncSeek;
    use std::io::SeekFrom;
    support::run(support::LIMIT, || async {
        let dir = support::temp_dir::TempDir::new();
        let mut file = ember::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.join("f"))
            .await?;
        write_all(&mut file, b"0123456789").await?;
        let pos = poll_fn(|cx| Pin::new(&mut file).poll_seek(cx, SeekFrom::Start(4))).await?;
        assert_eq!(pos, 4);
        assert_eq!(read_n(&mut file, 3).await?, b"456");
        Ok::<(), io::Error>(())
    })
    .unwrap();
}
