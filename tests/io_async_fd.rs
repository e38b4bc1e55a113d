//! `io::Async<T>` on fds that are not ember sockets: pipes (from `pipe2`
//! and from a child process), eventfds, and the fds epoll refuses.
#![cfg(all(feature = "net", feature = "io-util"))]

mod support;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use ember::io::{Async, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A pipe as two `File`s (read end, write end), close-on-exec and still
/// blocking, as a library other than ember would hand them over.
fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid out-array of two ints.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(r, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both fds are fresh and owned by nobody else.
    unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
}

/// An eventfd (counter 0, close-on-exec, blocking) as a `File`.
fn eventfd() -> File {
    // SAFETY: no pointers.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    assert!(fd >= 0, "eventfd: {}", std::io::Error::last_os_error());
    // SAFETY: a fresh fd owned by nobody else.
    File::from(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn is_nonblocking(fd: &impl AsRawFd) -> bool {
    // SAFETY: F_GETFL takes no pointer; the fd is borrowed, so open.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    flags & libc::O_NONBLOCK != 0
}

/// Bytes that differ at every position, so a lost or repeated chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn a_pipe_is_read_through_async_while_a_std_thread_writes_it() {
    support::run(support::LIMIT, || async {
        let (reader, mut writer) = pipe();
        let data = pattern(300_000);
        let expected = data.clone();
        // Writes in pieces with pauses, so the reader really waits.
        let writer_thread = thread::spawn(move || {
            for chunk in data.chunks(30_000) {
                writer.write_all(chunk).expect("pipe write");
                thread::sleep(Duration::from_millis(5));
            }
            // `writer` drops here: the reader sees end of stream.
        });
        let mut reader = Async::new(reader).expect("Async::new(pipe)");
        assert!(is_nonblocking(reader.get_ref()));
        let mut got = Vec::new();
        reader.read_to_end(&mut got).await.expect("read_to_end");
        writer_thread.join().expect("writer thread");
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "the bytes read differ from those written");
    });
}

#[test]
fn a_child_process_stdout_is_read_line_by_line() {
    support::run(support::LIMIT, || async {
        let mut child = Command::new("sh")
            .args(["-c", "for i in 1 2 3; do echo line $i; sleep 0.05; done"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(Async::new(stdout).expect("Async::new")).lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next_line().await.expect("next_line") {
            got.push(line);
        }
        assert_eq!(got, ["line 1", "line 2", "line 3"]);
        assert!(child.wait().expect("wait").success());
    });
}

#[test]
fn a_child_process_echoes_back_a_mebibyte_written_to_its_stdin() {
    support::run(support::LIMIT, || async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn cat");
        let stdin = Async::new(child.stdin.take().expect("piped stdin")).expect("Async::new");
        let mut stdout =
            Async::new(child.stdout.take().expect("piped stdout")).expect("Async::new");
        let data = pattern(1 << 20); // far more than a pipe holds: both must flow
        let expected = data.clone();
        let writing = ember::spawn(async move {
            let mut stdin = stdin;
            stdin.write_all(&data).await.expect("write to cat");
            // Dropping `stdin` closes the pipe: cat sees end of input.
        });
        let mut got = Vec::new();
        stdout.read_to_end(&mut got).await.expect("read from cat");
        writing.await.expect("writer task");
        assert!(got == expected, "cat's output differs from its input");
        assert!(child.wait().expect("wait").success());
    });
}

#[test]
fn an_eventfd_counts_through_read_with_and_write_with() {
    support::run(support::LIMIT, || async {
        let efd = Async::new(eventfd()).expect("Async::new(eventfd)");
        for add in [1u64, 2, 39] {
            let n = efd
                .write_with(|mut f| f.write(&add.to_ne_bytes()))
                .await
                .expect("eventfd write");
            assert_eq!(n, 8);
        }
        let mut counter = [0u8; 8];
        let n = efd
            .read_with(|mut f| f.read(&mut counter))
            .await
            .expect("eventfd read");
        assert_eq!((n, u64::from_ne_bytes(counter)), (8, 42));
    });
}

#[test]
fn reading_an_empty_eventfd_waits_until_another_thread_writes_it() {
    support::run(support::LIMIT, || async {
        let file = eventfd();
        let mut writer = file.try_clone().expect("dup eventfd");
        let efd = Async::new(file).expect("Async::new(eventfd)");
        let read = ember::spawn(async move {
            let mut counter = [0u8; 8];
            efd.read_with(|mut f| f.read(&mut counter)).await?;
            Ok::<u64, std::io::Error>(u64::from_ne_bytes(counter))
        });
        for _ in 0..10 {
            ember::task::yield_now().await;
        }
        assert!(!read.is_finished(), "the read did not wait for a value");
        let writer_thread = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            writer
                .write_all(&7u64.to_ne_bytes())
                .expect("eventfd write");
        });
        let value = read.await.expect("task").expect("eventfd read");
        writer_thread.join().expect("writer thread");
        assert_eq!(value, 7);
    });
}

#[test]
fn readable_returns_once_the_fd_has_data() {
    support::run(support::LIMIT, || async {
        let (reader, mut writer) = pipe();
        let reader = Async::new(reader).expect("Async::new");
        let writer_thread = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            writer.write_all(b"x").expect("pipe write");
            writer
        });
        reader.readable().await.expect("readable");
        let mut byte = [0u8; 1];
        let n = reader
            .read_with(|mut f| f.read(&mut byte))
            .await
            .expect("read");
        assert_eq!((n, &byte), (1, b"x"));
        drop(writer_thread.join().expect("writer thread"));
    });
}

#[test]
fn a_regular_file_is_an_unsupported_error_not_a_panic() {
    support::run(support::LIMIT, || async {
        let path = std::env::temp_dir().join(format!("ember-async-fd-{}", std::process::id()));
        std::fs::write(&path, b"plain file").expect("create temp file");
        let file = File::open(&path).expect("open temp file");
        let result = Async::new(file);
        std::fs::remove_file(&path).expect("remove temp file");
        let err = result.expect_err("epoll accepted a regular file");
        assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
        let message = err.to_string();
        assert!(
            message.contains("regular files"),
            "unclear message: {message}"
        );

        // The same for a directory and for /dev/null, and the fd's flags
        // are left alone.
        let dir = File::open(std::env::temp_dir()).expect("open temp dir");
        let dir_fd = dir.try_clone().expect("dup");
        let err = Async::new(dir).expect_err("epoll accepted a directory");
        assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
        assert!(
            !is_nonblocking(&dir_fd),
            "a refused fd was made non-blocking"
        );
        let null = File::open("/dev/null").expect("open /dev/null");
        let err = Async::new(null).expect_err("epoll accepted /dev/null");
        assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    });
}

#[test]
fn writing_more_than_a_pipe_holds_waits_for_the_reader() {
    support::run(support::LIMIT, || async {
        let (mut reader, writer) = pipe();
        let data = pattern(1 << 20); // 16 times a default pipe's capacity
        let expected = data.clone();
        let reader_thread = thread::spawn(move || {
            let mut got = Vec::new();
            let mut buf = [0u8; 16 * 1024];
            loop {
                match reader.read(&mut buf).expect("pipe read") {
                    0 => return got,
                    n => got.extend_from_slice(&buf[..n]),
                }
                thread::sleep(Duration::from_micros(200));
            }
        });
        let mut writer = Async::new(writer).expect("Async::new");
        writer.write_all(&data).await.expect("write_all");
        writer.flush().await.expect("flush");
        drop(writer); // closes the write end: the reader sees end of stream
        let got = reader_thread.join().expect("reader thread");
        assert!(got == expected, "the bytes read differ from those written");
    });
}

#[test]
fn writing_to_a_pipe_whose_reader_is_gone_is_broken_pipe() {
    support::run(support::LIMIT, || async {
        let (reader, writer) = pipe();
        drop(reader);
        let mut writer = Async::new(writer).expect("Async::new");
        // Rust's runtime ignores SIGPIPE before `main`, so this is EPIPE.
        let err = writer
            .write_all(b"anyone?")
            .await
            .expect_err("write to a closed pipe");
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    });
}

#[test]
fn into_inner_deregisters_so_the_fd_can_be_wrapped_again() {
    support::run(support::LIMIT, || async {
        let (reader, mut writer) = pipe();
        let first = Async::new(reader).expect("Async::new");
        // Registering the same fd twice is refused by epoll (EEXIST) ...
        let dup_err = Async::new(first.get_ref().as_raw_fd());
        assert_eq!(
            dup_err.expect_err("the fd registered twice").kind(),
            std::io::ErrorKind::AlreadyExists
        );
        // ... so a second `Async::new` working proves into_inner let go.
        let file = first.into_inner();
        assert!(is_nonblocking(&file), "into_inner cleared O_NONBLOCK");
        let mut again = Async::new(file).expect("Async::new after into_inner");
        writer.write_all(b"still works").expect("pipe write");
        drop(writer);
        let mut got = String::new();
        again.read_to_string(&mut got).await.expect("read");
        assert_eq!(got, "still works");
    });
}

#[test]
fn a_shared_async_file_reads_and_writes_through_a_reference() {
    support::run(support::LIMIT, || async {
        let (reader, writer) = pipe();
        let reader = Async::new(reader).expect("Async::new");
        let writer = Async::new(writer).expect("Async::new");
        // `&File` is `Read` and `Write`, so `&Async<File>` is async.
        (&writer).write_all(b"by reference").await.expect("write");
        let mut buf = [0u8; 12];
        (&reader).read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"by reference");
    });
}
