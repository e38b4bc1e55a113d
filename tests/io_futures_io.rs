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
