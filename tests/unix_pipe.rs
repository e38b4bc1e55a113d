//! `net::unix::pipe`: anonymous pipes (a round trip, a large transfer, end
//! of stream when the sender drops, a broken pipe when the receiver drops,
//! `try_*` and readiness), FIFOs opened through `OpenOptions` (made with
//! the `mkfifo` command in a temporary directory), the checks of
//! `from_file`, the fd flags, and no fd left behind.
#![cfg(all(feature = "net", feature = "io-util"))]

mod support;

use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::unix::pipe::{self, OpenOptions, Receiver, Sender};
use support::temp_dir::TempDir;

/// The file status flags of `fd` (`F_GETFL`).
fn status_flags(fd: BorrowedFd<'_>) -> i32 {
    // SAFETY: F_GETFL takes no pointer; `fd` is borrowed, so open.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    assert!(flags >= 0, "fcntl: {}", std::io::Error::last_os_error());
    flags
}

/// The fd flags of `fd` (`F_GETFD`: close-on-exec).
fn fd_flags(fd: BorrowedFd<'_>) -> i32 {
    // SAFETY: as above.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
    assert!(flags >= 0, "fcntl: {}", std::io::Error::last_os_error());
    flags
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn bytes_written_to_the_sender_come_out_of_the_receiver() {
    support::run(support::LIMIT, || async {
        let (mut tx, mut rx) = pipe::pipe().unwrap();
        tx.write_all(b"hello, pipe").await.unwrap();
        let mut buf = [0u8; 11];
        rx.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello, pipe");
    });
}

#[test]
fn four_mebibytes_go_through_while_the_reader_reads_concurrently() {
    support::run(support::LIMIT, || async {
        let (mut tx, mut rx) = pipe::pipe().unwrap();
        let data: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
        let expected = data.clone();
        let writer = ember::spawn(async move {
            tx.write_all(&data).await.unwrap();
            // Dropping `tx` ends the stream.
        });
        let mut got = Vec::new();
        rx.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert!(got == expected, "the bytes differ");
    });
}

#[test]
fn the_receiver_reads_end_of_stream_once_the_sender_is_dropped() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = pipe::pipe().unwrap();
        let reader = ember::spawn(async move {
            let mut buf = [0u8; 8];
            rx.read(&mut buf).await.unwrap()
        });
        ember::task::yield_now().await;
        drop(tx);
        assert_eq!(reader.await.unwrap(), 0);
    });
}

#[test]
fn writing_with_no_receiver_left_is_a_broken_pipe() {
    support::run(support::LIMIT, || async {
        let (mut tx, rx) = pipe::pipe().unwrap();
        drop(rx);
        let err = tx.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn try_read_says_would_block_until_readable_and_then_reads() {
    support::run(support::LIMIT, || async {
        let (tx, rx) = pipe::pipe().unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(
            rx.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        tx.writable().await.unwrap();
        assert_eq!(tx.try_write(b"abc").unwrap(), 3);
        rx.readable().await.unwrap();
        assert_eq!(rx.try_read(&mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
    });
}

#[test]
fn try_write_on_a_full_pipe_says_would_block_and_writable_waits_for_room() {
    support::run(support::LIMIT, || async {
        let (tx, mut rx) = pipe::pipe().unwrap();
        let chunk = [7u8; 4096];
        let mut written = 0;
        loop {
            match tx.try_write(&chunk) {
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("try_write: {e}"),
            }
        }
        assert!(written >= 4096, "a pipe holds at least a page");
        let reader = ember::spawn(async move {
            let mut buf = vec![0u8; written];
            rx.read_exact(&mut buf).await.unwrap();
            rx
        });
        tx.writable().await.unwrap();
        let _rx = reader.await.unwrap();
        assert_eq!(tx.try_write(b"more").unwrap(), 4);
    });
}

#[test]
fn both_ends_are_non_blocking_and_close_on_exec() {
    support::run(support::LIMIT, || async {
        let (tx, rx) = pipe::pipe().unwrap();
        for fd in [tx.as_fd(), rx.as_fd()] {
            assert_ne!(status_flags(fd) & libc::O_NONBLOCK, 0);
            assert_ne!(fd_flags(fd) & libc::FD_CLOEXEC, 0);
        }
    });
}

#[test]
fn into_blocking_fd_clears_o_nonblock_and_into_nonblocking_fd_keeps_it() {
    support::run(support::LIMIT, || async {
        let (tx, rx) = pipe::pipe().unwrap();
        let tx = tx.into_blocking_fd().unwrap();
        assert_eq!(status_flags(tx.as_fd()) & libc::O_NONBLOCK, 0);
        let rx = rx.into_nonblocking_fd().unwrap();
        assert_ne!(status_flags(rx.as_fd()) & libc::O_NONBLOCK, 0);
        // Still a working pipe, now in blocking std hands.
        let mut tx = std::fs::File::from(tx);
        tx.write_all(b"ok").unwrap();
        let mut rx = std::fs::File::from(rx);
        let mut buf = [0u8; 2];
        rx.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ok");
    });
}

#[test]
fn a_fifo_opened_by_path_carries_bytes_from_sender_to_receiver() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("fifo");
        mkfifo(&path);
        // The read end first: opening it does not wait for a writer.
        let mut rx = OpenOptions::new().open_receiver(&path).unwrap();
        let mut tx = OpenOptions::new().open_sender(&path).unwrap();
        tx.write_all(b"through the fifo").await.unwrap();
        drop(tx);
        let mut got = String::new();
        rx.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "through the fifo");
        assert_ne!(status_flags(rx.as_fd()) & libc::O_NONBLOCK, 0);
        assert_ne!(fd_flags(rx.as_fd()) & libc::FD_CLOEXEC, 0);
    });
}

#[test]
fn opening_a_fifo_sender_with_no_reader_fails_unless_read_write() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("fifo");
        mkfifo(&path);
        let err = OpenOptions::new().open_sender(&path).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENXIO), "{err}");
        let mut tx = OpenOptions::new()
            .read_write(true)
            .open_sender(&path)
            .unwrap();
        // A reader coming later sees what was written before it opened.
        tx.write_all(b"early").await.unwrap();
        let mut rx = OpenOptions::new().open_receiver(&path).unwrap();
        let mut buf = [0u8; 5];
        rx.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"early");
    });
}

#[test]
fn open_options_refuse_a_regular_file_unless_unchecked() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("file");
        std::fs::write(&path, b"x").unwrap();
        let err = OpenOptions::new().open_receiver(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        // Unchecked, the open succeeds and epoll is the one to refuse.
        assert!(OpenOptions::new()
            .unchecked(true)
            .open_receiver(&path)
            .is_err());
    });
}

#[test]
fn from_file_checks_the_type_and_the_direction() {
    support::run(support::LIMIT, || async {
        let dir = TempDir::new();
        let path = dir.join("fifo");
        mkfifo(&path);
        let read_end = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags_nonblocking()
            .open(&path)
            .unwrap();
        let err = Sender::from_file(read_end.try_clone().unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        let rx = Receiver::from_file(read_end).unwrap();
        let tx = Sender::from_file(std::fs::OpenOptions::new().write(true).open(&path).unwrap())
            .unwrap();
        drop((tx, rx));
        let file = std::fs::File::create(dir.join("plain")).unwrap();
        let err = Sender::from_file(file).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    });
}

/// Opens a FIFO's read end without waiting for a writer.
trait NonBlockingOpen {
    fn custom_flags_nonblocking(&mut self) -> &mut Self;
}

impl NonBlockingOpen for std::fs::OpenOptions {
    fn custom_flags_nonblocking(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_NONBLOCK)
    }
}

#[test]
fn pipes_leave_no_fd_behind_even_when_a_check_fails() {
    if !support::in_child("pipes_leave_no_fd_behind_even_when_a_check_fails") {
        return;
    }
    let dir = TempDir::new();
    let path = dir.join("fifo");
    mkfifo(&path);
    let plain = dir.join("plain");
    std::fs::write(&plain, b"x").unwrap();
    let fds_at_start = support::open_fds();
    support::run(support::LIMIT, move || async move {
        for _ in 0..10 {
            let (mut tx, mut rx) = pipe::pipe().unwrap();
            tx.write_all(b"x").await.unwrap();
            let mut b = [0u8; 1];
            rx.read_exact(&mut b).await.unwrap();
            drop((tx, rx));
            let rx = OpenOptions::new().open_receiver(&path).unwrap();
            assert!(OpenOptions::new().open_receiver(&plain).is_err());
            assert!(OpenOptions::new().open_sender(dir.join("missing")).is_err());
            assert!(Sender::from_file(std::fs::File::open(&plain).unwrap()).is_err());
            drop(rx);
        }
        drop(dir);
    });
    assert_eq!(support::open_fds(), fds_at_start, "a pipe left an fd open");
}

#[test]
fn poll_read_buf_reads_into_uninitialised_memory_and_marks_only_what_came() {
    support::run(support::LIMIT, || async {
        use ember::io::{AsyncRead, ReadBuf};
        use std::mem::MaybeUninit;
        use std::pin::Pin;

        let (mut tx, mut rx) = pipe::pipe().unwrap();
        tx.write_all(b"abc").await.unwrap();
        let mut storage = [MaybeUninit::<u8>::uninit(); 16];
        let mut buf = ReadBuf::uninit(&mut storage);
        std::future::poll_fn(|cx| Pin::new(&mut rx).poll_read_buf(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"abc");
        assert_eq!(buf.initialized().len(), 3, "nothing zeroed beyond the read");
        drop(tx);
        std::future::poll_fn(|cx| Pin::new(&mut rx).poll_read_buf(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"abc", "end of stream adds nothing");
    });
}
