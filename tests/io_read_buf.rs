//! `ReadBuf` and `poll_read_buf`: sockets read into uninitialised memory
//! with no zeroing, the default zeroes first, `read_buf` fills a `Vec`'s
//! spare capacity, a reader that swaps the buffer is caught; vectored
//! writes on sockets.
#![cfg(all(feature = "net", feature = "io-util"))]

mod support;

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use ember::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter, ReadBuf};
use ember::net::{TcpListener, TcpStream, UnixStream};
use support::{run, LIMIT};

/// Only `poll_read`: gets the trait's default `poll_read_buf`.
struct Plain<R>(R);

impl<R: AsyncRead + Unpin> AsyncRead for Plain<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

#[test]
fn a_socket_reads_into_uninitialised_memory_and_initialises_only_what_it_filled() {
    run(LIMIT, || async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"ten bytes!").await.unwrap();
        let mut storage = [MaybeUninit::<u8>::uninit(); 4096];
        let mut buf = ReadBuf::uninit(&mut storage);
        std::future::poll_fn(|cx| Pin::new(&mut b).poll_read_buf(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"ten bytes!");
        assert_eq!(buf.initialized().len(), 10, "no zeroing past what was read");

        // The default path zeroes the unfilled region first.
        a.write_all(b"more").await.unwrap();
        let mut storage = [MaybeUninit::<u8>::uninit(); 4096];
        let mut buf = ReadBuf::uninit(&mut storage);
        let mut plain = Plain(&mut b);
        std::future::poll_fn(|cx| Pin::new(&mut plain).poll_read_buf(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"more");
        assert_eq!(buf.initialized().len(), 4096);
    });
}

#[test]
fn read_buf_appends_to_a_vec_and_read_to_end_gets_every_byte() {
    run(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let sender = ember::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let data: Vec<u8> = (0..1_000_000u32).map(|i| i as u8).collect();
            s.write_all(&data).await.unwrap();
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut first = Vec::with_capacity(8);
        let n = stream.read_buf(&mut first).await.unwrap();
        assert!(n > 0 && n <= 8 && first.len() == n);
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap();
        sender.await.unwrap();
        first.extend_from_slice(&rest);
        assert_eq!(first.len(), 1_000_000);
        assert!(first.iter().enumerate().all(|(i, &b)| b == i as u8));
        // An empty Vec grows to take bytes; end of stream is 0.
        let mut empty = Vec::new();
        assert_eq!(stream.read_buf(&mut empty).await.unwrap(), 0);
    });
}

/// A broken reader: it fills a buffer of its own instead of the one given.
struct Swapper;

impl AsyncRead for Swapper {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(0))
    }

    fn poll_read_buf(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let leaked: &'static mut [u8] = Box::leak(vec![7u8; 64].into_boxed_slice());
        *buf = ReadBuf::new(leaked);
        buf.advance(64);
        Poll::Ready(Ok(()))
    }
}

#[test]
#[should_panic(expected = "replaced the buffer it was given")]
fn a_reader_that_swaps_the_buffer_is_caught_before_bytes_are_counted() {
    ember::block_on(async {
        let mut v = Vec::with_capacity(64);
        let _ = Swapper.read_buf(&mut v).await;
    });
}

#[test]
fn sockets_write_vectored_in_one_call_and_say_so() {
    run(LIMIT, || async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        assert!(a.is_write_vectored());
        assert!(BufWriter::new(&mut a).is_write_vectored());
        assert!(!Vec::<u8>::new().is_write_vectored());
        let parts = [IoSlice::new(b"GET / "), IoSlice::new(b"HTTP/1.1\r\n")];
        let n = a.write_vectored(&parts).await.unwrap();
        assert_eq!(n, 16, "both slices in one call");
        let mut got = [0u8; 16];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"GET / HTTP/1.1\r\n");
    });
}

#[test]
fn a_buf_reader_hands_bytes_to_a_read_buf_with_no_zeroing_on_both_of_its_paths() {
    use ember::io::{AsyncBufReadExt, BufReader};
    run(LIMIT, || async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let mut reader = BufReader::with_capacity(64, b);
        a.write_all(b"line one\nrest").await.unwrap();
        // Buffered path: fill the reader's buffer, then copy out of it.
        assert_eq!(reader.fill_buf().await.unwrap().len(), 13);
        let mut small = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut small);
        std::future::poll_fn(|cx| Pin::new(&mut reader).poll_read_buf(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"line one");
        assert_eq!(buf.initialized().len(), 8);
        // Drain what is buffered, then a read larger than the buffer goes
        // straight to the socket.
        let mut rest = [0u8; 5];
        reader.read_exact(&mut rest).await.unwrap();
        a.write_all(b"direct").await.unwrap();
        let mut big = [MaybeUninit::<u8>::uninit(); 4096];
        let mut buf = ReadBuf::uninit(&mut big);
        std::future::poll_fn(|cx| Pin::new(&mut reader).poll_read_buf(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"direct");
        assert_eq!(buf.initialized().len(), 6, "no zeroing past what was read");
    });
}
