//! Bulk TCP transfer: 64 MiB each way at once through one connection, and
//! `ember::io::copy` as an echo, every byte checked by an order-sensitive
//! hash over a deterministic pseudo-random pattern.
#![cfg(all(feature = "net", feature = "io-util"))]

mod support;

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use ember::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};

const TOTAL: u64 = 64 * 1024 * 1024;

/// A deterministic byte pattern (xorshift64*), produced a word at a time.
struct Pattern(u64);

impl Pattern {
    fn new(seed: u64) -> Pattern {
        Pattern(seed | 1)
    }

    /// Fills `buf` (its length a multiple of 8) with the next bytes.
    fn fill(&mut self, buf: &mut [u8]) {
        assert_eq!(buf.len() % 8, 0, "the pattern comes in whole words");
        for word in buf.chunks_exact_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            word.copy_from_slice(&self.0.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
        }
    }
}

/// An order-sensitive hash of a byte stream, independent of how the stream
/// is cut into chunks: whole 8-byte words are mixed in (FNV-style multiply,
/// then rotate); a trailing partial word waits for the next chunk.
#[derive(Default)]
struct StreamHash {
    state: u64,
    carry: [u8; 8],
    carry_len: usize,
    bytes: u64,
}

impl StreamHash {
    fn update(&mut self, mut data: &[u8]) {
        self.bytes += data.len() as u64;
        if self.carry_len > 0 {
            let take = (8 - self.carry_len).min(data.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&data[..take]);
            self.carry_len += take;
            data = &data[take..];
            if self.carry_len < 8 {
                return;
            }
            self.mix(u64::from_le_bytes(self.carry));
            self.carry_len = 0;
        }
        let mut words = data.chunks_exact(8);
        for word in &mut words {
            self.mix(u64::from_le_bytes(word.try_into().unwrap()));
        }
        let rest = words.remainder();
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carry_len = rest.len();
    }

    fn mix(&mut self, word: u64) {
        self.state = ((self.state ^ word).wrapping_mul(0x0000_0100_0000_01B3)).rotate_left(29);
    }

    /// The hash and the byte count.
    fn finish(mut self) -> (u64, u64) {
        for b in &self.carry[..self.carry_len] {
            self.state = (self.state ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01B3);
        }
        (self.state, self.bytes)
    }
}

/// The hash of the first `len` bytes of the pattern for `seed`, computed
/// without any I/O: what the receiver must arrive at.
fn expected(seed: u64, len: u64) -> (u64, u64) {
    let mut pattern = Pattern::new(seed);
    let mut hash = StreamHash::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = (buf.len() as u64).min(left) as usize;
        pattern.fill(&mut buf[..n]);
        hash.update(&buf[..n]);
        left -= n as u64;
    }
    hash.finish()
}

/// Writes `len` bytes of the pattern for `seed`, in chunks of varying
/// size (so that writes end at every kind of offset), then closes.
async fn send_pattern<W: AsyncWrite + Unpin>(mut w: W, seed: u64, len: u64) {
    let mut pattern = Pattern::new(seed);
    let mut buf = vec![0u8; 256 * 1024];
    let sizes = [256 * 1024, 8, 65_536, 1000 * 8, 128 * 1024 + 8];
    let mut left = len;
    let mut i = 0;
    while left > 0 {
        let n = (sizes[i % sizes.len()] as u64).min(left) as usize;
        pattern.fill(&mut buf[..n]);
        w.write_all(&buf[..n]).await.expect("write pattern");
        left -= n as u64;
        i += 1;
    }
    w.close().await.expect("close after the pattern");
}

/// Reads to end of stream; returns the hash and count of what arrived.
async fn receive_hash<R: AsyncRead + Unpin>(mut r: R) -> (u64, u64) {
    let mut hash = StreamHash::default();
    // An odd size, so reads end at offsets that are not word-aligned.
    let mut buf = vec![0u8; 100_003];
    loop {
        let n = r.read(&mut buf).await.expect("read pattern");
        if n == 0 {
            return hash.finish();
        }
        hash.update(&buf[..n]);
    }
}

/// Runs two futures in the current task until both complete: a hand-written
/// join, so both make progress while either waits.
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let (mut out_a, mut out_b) = (None, None);
    poll_fn(|cx| {
        if out_a.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                out_b = Some(v);
            }
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready((out_a.take().unwrap(), out_b.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

#[test]
fn sixty_four_mib_each_way_at_once_arrive_intact() {
    const CLIENT_SEED: u64 = 0x00C1_1E27;
    const SERVER_SEED: u64 = 0x005E_2FE2;
    let (client_got, server_got) = support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();

        // Each side: one task writes its pattern while another reads the
        // peer's. Neither could finish if reads waited for writes: 64 MiB
        // is far more than the socket buffers hold.
        let server = ember::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (r, w) = stream.into_split();
            let writer = ember::spawn(send_pattern(w, SERVER_SEED, TOTAL));
            let got = receive_hash(r).await;
            writer.await.unwrap();
            got
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let (r, w) = stream.into_split();
        let writer = ember::spawn(send_pattern(w, CLIENT_SEED, TOTAL));
        let client_got = receive_hash(r).await;
        writer.await.unwrap();
        (client_got, server.await.unwrap())
    });
    let server_sent = expected(SERVER_SEED, TOTAL);
    let client_sent = expected(CLIENT_SEED, TOTAL);
    assert_ne!(server_sent, client_sent, "the two directions must differ");
    assert_eq!(client_got.1, TOTAL, "bytes the client received");
    assert_eq!(server_got.1, TOTAL, "bytes the server received");
    assert_eq!(
        client_got, server_sent,
        "the client received corrupted data"
    );
    assert_eq!(
        server_got, client_sent,
        "the server received corrupted data"
    );
}

#[test]
fn copy_echoes_sixty_four_mib_intact_through_split_halves() {
    const SEED: u64 = 0xEC40;
    let (copied, got) = support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = ember::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (mut r, mut w) = stream.into_split();
            let n = ember::io::copy(&mut r, &mut w).await.expect("copy");
            // Dropping the write half sends the client its end of stream.
            n
        });

        // The client writes and reads in one task, through borrowed halves.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let (r, w) = stream.split();
        let ((), got) = join(send_pattern(w, SEED, TOTAL), receive_hash(r)).await;
        (server.await.unwrap(), got)
    });
    assert_eq!(copied, TOTAL, "copy's count");
    assert_eq!(got.1, TOTAL, "bytes echoed back");
    assert_eq!(got, expected(SEED, TOTAL), "the echo is corrupted");
}
