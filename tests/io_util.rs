//! The io utilities: `take`, `chain`, the numbers (`read_u16` ..,
//! `write_f64_le` ..), `write_all_buf`, and the in-memory streams
//! (`duplex`, `simplex`, `empty`, `sink`, `repeat`), which take the
//! cooperative budget so that an endless copy through them yields.
#![cfg(feature = "io-util")]

mod support;

use std::cell::Cell;
use std::io::{Cursor, ErrorKind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use ember::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use support::{run, LIMIT};

#[test]
fn take_ends_the_stream_after_its_limit_and_can_be_raised() {
    run(LIMIT, || async {
        let mut take = (&b"0123456789"[..]).take(4);
        let mut out = Vec::new();
        take.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"0123");
        assert_eq!(take.limit(), 0);
        take.set_limit(100);
        out.clear();
        take.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"456789");
        assert_eq!(take.into_inner(), b"");
    });
}

#[test]
fn take_on_a_buffered_reader_bounds_read_until_and_leaves_the_rest() {
    run(LIMIT, || async {
        let mut reader = BufReader::new(&b"abcdefgh\nrest\n"[..]);
        let mut out = Vec::new();
        (&mut reader)
            .take(3)
            .read_until(b'\n', &mut out)
            .await
            .unwrap();
        assert_eq!(out, b"abc");
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "defgh\n");
    });
}

#[test]
fn chain_reads_the_first_reader_then_the_second() {
    run(LIMIT, || async {
        let mut both = (&b"one\ntw"[..]).chain(&b"o\nthree"[..]);
        let mut s = String::new();
        both.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "one\ntwo\nthree");

        // As an `AsyncBufRead`, a line may span the two.
        let both = BufReader::new(&b"one\ntw"[..]).chain(&b"o\nthree"[..]);
        let mut lines = both.lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["one", "two", "three"]);
    });
}

#[test]
fn every_number_written_is_read_back_in_both_byte_orders() {
    run(LIMIT, || async {
        let mut out = Vec::new();
        out.write_u8(0xab).await.unwrap();
        out.write_i8(-2).await.unwrap();
        out.write_u16(0x0102).await.unwrap();
        out.write_i16(-3).await.unwrap();
        out.write_u32(0x01020304).await.unwrap();
        out.write_i32(-4).await.unwrap();
        out.write_u64(u64::MAX - 5).await.unwrap();
        out.write_i64(i64::MIN).await.unwrap();
        out.write_u128(u128::MAX / 3).await.unwrap();
        out.write_i128(-7).await.unwrap();
        out.write_f32(1.5).await.unwrap();
        out.write_f64(-0.25).await.unwrap();
        out.write_u16_le(0x0102).await.unwrap();
        out.write_i16_le(-3).await.unwrap();
        out.write_u32_le(0x01020304).await.unwrap();
        out.write_i32_le(-4).await.unwrap();
        out.write_u64_le(9).await.unwrap();
        out.write_i64_le(-9).await.unwrap();
        out.write_u128_le(10).await.unwrap();
        out.write_i128_le(-10).await.unwrap();
        out.write_f32_le(2.5).await.unwrap();
        out.write_f64_le(1e300).await.unwrap();
        // Big-endian unless `_le`, as in tokio.
        assert_eq!(&out[2..4], [1, 2]);
        assert_eq!(&out[6..10], [1, 2, 3, 4]);

        let mut r = &out[..];
        assert_eq!(r.read_u8().await.unwrap(), 0xab);
        assert_eq!(r.read_i8().await.unwrap(), -2);
        assert_eq!(r.read_u16().await.unwrap(), 0x0102);
        assert_eq!(r.read_i16().await.unwrap(), -3);
        assert_eq!(r.read_u32().await.unwrap(), 0x01020304);
        assert_eq!(r.read_i32().await.unwrap(), -4);
        assert_eq!(r.read_u64().await.unwrap(), u64::MAX - 5);
        assert_eq!(r.read_i64().await.unwrap(), i64::MIN);
        assert_eq!(r.read_u128().await.unwrap(), u128::MAX / 3);
        assert_eq!(r.read_i128().await.unwrap(), -7);
        assert_eq!(r.read_f32().await.unwrap(), 1.5);
        assert_eq!(r.read_f64().await.unwrap(), -0.25);
        assert_eq!(r.read_u16_le().await.unwrap(), 0x0102);
        assert_eq!(r.read_i16_le().await.unwrap(), -3);
        assert_eq!(r.read_u32_le().await.unwrap(), 0x01020304);
        assert_eq!(r.read_i32_le().await.unwrap(), -4);
        assert_eq!(r.read_u64_le().await.unwrap(), 9);
        assert_eq!(r.read_i64_le().await.unwrap(), -9);
        assert_eq!(r.read_u128_le().await.unwrap(), 10);
        assert_eq!(r.read_i128_le().await.unwrap(), -10);
        assert_eq!(r.read_f32_le().await.unwrap(), 2.5);
        assert_eq!(r.read_f64_le().await.unwrap(), 1e300);
        assert!(r.is_empty());
        assert_eq!(
            r.read_u8().await.unwrap_err().kind(),
            ErrorKind::UnexpectedEof
        );
    });
}

#[test]
fn a_number_split_across_reads_is_put_together() {
    run(LIMIT, || async {
        // Two bytes, then the other two, from two readers.
        let mut r = (&[0x12u8, 0x34][..]).chain(&[0x56u8, 0x78][..]);
        assert_eq!(r.read_u32().await.unwrap(), 0x12345678);
        let mut short = &[1u8, 2, 3][..];
        assert_eq!(
            short.read_u32().await.unwrap_err().kind(),
            ErrorKind::UnexpectedEof
        );
    });
}

/// A writer that takes at most `max` bytes per write.
struct Trickle {
    out: Vec<u8>,
    max: usize,
}

impl AsyncWrite for Trickle {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let n = buf.len().min(this.max);
        this.out.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn write_all_buf_writes_from_the_cursor_and_moves_it() {
    run(LIMIT, || async {
        let mut w = Trickle {
            out: Vec::new(),
            max: 3,
        };
        let mut src = Cursor::new(&b"0123456789"[..]);
        src.set_position(2);
        w.write_all_buf(&mut src).await.unwrap();
        assert_eq!(w.out, b"23456789");
        assert_eq!(src.position(), 10);
        // Nothing left: nothing written.
        w.write_all_buf(&mut src).await.unwrap();
        assert_eq!(w.out.len(), 8);
        w.max = 0;
        let mut src = Cursor::new(vec![1u8]);
        let err = w.write_all_buf(&mut src).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WriteZero);
    });
}

#[test]
fn duplex_ends_carry_bytes_both_ways() {
    run(LIMIT, || async {
        let (mut a, mut b) = ember::io::duplex(64);
        a.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        b.write_all(b"pong").await.unwrap();
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
    });
}

#[test]
fn a_full_duplex_makes_the_writer_wait_for_the_reader() {
    run(LIMIT, || async {
        let (mut a, mut b) = ember::io::duplex(16);
        let data: Vec<u8> = (0..10_000).map(|i| i as u8).collect();
        let expected = data.clone();
        let writer = ember::spawn(async move {
            // Far more than 16 bytes: only goes through as `b` reads.
            a.write_all(&data).await.unwrap();
            a
        });
        let mut got = vec![0u8; 10_000];
        b.read_exact(&mut got).await.unwrap();
        assert!(got == expected);
        drop(writer.await.unwrap());
        // `a` is gone: `b` reads end of stream and cannot write.
        assert_eq!(b.read(&mut got).await.unwrap(), 0);
        assert_eq!(
            b.write(b"x").await.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );
    });
}

#[test]
fn closing_a_duplex_end_sends_end_of_stream_after_the_bytes() {
    run(LIMIT, || async {
        let (mut a, mut b) = ember::io::duplex(64);
        a.write_all(b"last words").await.unwrap();
        a.close().await.unwrap();
        let mut s = String::new();
        b.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "last words");
        // The other direction is still open.
        b.write_all(b"reply").await.unwrap();
        let mut buf = [0u8; 5];
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"reply");
    });
}

#[test]
fn a_duplex_end_works_from_a_plain_thread() {
    fn send<T: Send + Sync>(_: &T) {}
    run(LIMIT, || async {
        let (mut a, b) = ember::io::duplex(8);
        send(&b);
        let other = std::thread::spawn(move || {
            ember::block_on(async move {
                let mut b = b;
                let mut s = String::new();
                b.read_to_string(&mut s).await.unwrap();
                s
            })
        });
        a.write_all(b"across threads").await.unwrap();
        drop(a);
        let got = ember::spawn_blocking(move || other.join().unwrap())
            .await
            .unwrap();
        assert_eq!(got, "across threads");
    });
}

#[test]
fn simplex_halves_carry_bytes_one_way_until_closed() {
    run(LIMIT, || async {
        let (mut rx, mut tx) = ember::io::simplex(4);
        let writer = ember::spawn(async move {
            tx.write_all(b"through a small pipe").await.unwrap();
            tx.close().await.unwrap();
        });
        let mut s = String::new();
        rx.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "through a small pipe");
        writer.await.unwrap();
    });
}

#[test]
fn empty_sink_and_repeat_do_what_their_names_say() {
    run(LIMIT, || async {
        let mut buf = Vec::new();
        assert_eq!(ember::io::empty().read_to_end(&mut buf).await.unwrap(), 0);
        let mut lines = BufReader::new(ember::io::empty()).lines();
        assert!(lines.next_line().await.unwrap().is_none());
        assert_eq!(ember::io::empty().write(b"gone").await.unwrap(), 4);
        assert_eq!(ember::io::sink().write(b"gone").await.unwrap(), 4);
        let mut five = [0u8; 5];
        ember::io::repeat(7).read_exact(&mut five).await.unwrap();
        assert_eq!(five, [7; 5]);
        let n = ember::io::copy(
            &mut ember::io::repeat(1).take(1 << 20),
            &mut ember::io::sink(),
        )
        .await
        .unwrap();
        assert_eq!(n, 1 << 20);
    });
}

/// Spawns `endless`, then a task that sets a flag; returns once the flag
/// is set. Without the budget, `endless` would never give the thread
/// back, and the watchdog would fail the test.
async fn endless_copy_lets_another_task_run(endless: impl std::future::Future + 'static) {
    let copier = ember::spawn(endless);
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    ember::spawn(async move { flag.set(true) }).await.unwrap();
    assert!(ran.get());
    copier.abort();
}

#[test]
fn an_endless_copy_from_repeat_to_sink_yields() {
    run(LIMIT, || async {
        endless_copy_lets_another_task_run(async {
            let _ = ember::io::copy(&mut ember::io::repeat(0), &mut ember::io::sink()).await;
        })
        .await;
    });
}

#[test]
fn an_endless_copy_through_a_duplex_yields() {
    run(LIMIT, || async {
        let (mut a, mut b) = ember::io::duplex(1024);
        endless_copy_lets_another_task_run(async move {
            let (mut zeros, mut sink) = (ember::io::repeat(0), ember::io::sink());
            let _ = ember::join!(
                ember::io::copy(&mut zeros, &mut a),
                ember::io::copy(&mut b, &mut sink),
            );
        })
        .await;
    });
}
