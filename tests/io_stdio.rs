//! `io::stdin()`, `stdout()`, `stderr()`: on pipes, a regular file, a
//! socket and a pseudo-terminal, each test runs in a child process of this
//! test binary whose standard streams the parent chose. Checked: every
//! byte gets through, the fds' status flags are unchanged (never
//! `O_NONBLOCK`), `println!` works beside a busy `stdout()`, and a stdout
//! nobody reads does not hold up a timer on the loop.
#![cfg(all(feature = "io-std", feature = "io-util", feature = "time"))]

mod support;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ember::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use support::{is_child, CHILD_ENV, LIMIT};

const BEGIN: &[u8] = b"<<BEGIN>>\n";
const END: &[u8] = b"\n<<END>>\n";

/// Starts this binary's test `test` as a child with the given streams.
fn child(test: &str, stdin: Stdio, stdout: Stdio) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Waits for `child`, failing the test past [`LIMIT`].
fn wait(mut child: Child) {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the child test failed: {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child test did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the child wrote between the markers.
fn between_markers(out: &[u8]) -> &[u8] {
    let find = |pat: &[u8], from: usize| {
        out[from..]
            .windows(pat.len())
            .position(|w| w == pat)
            .map(|p| p + from)
    };
    let start = find(BEGIN, 0).expect("no begin marker") + BEGIN.len();
    let end = find(END, start).expect("no end marker");
    &out[start..end]
}

fn flags(fd: RawFd) -> i32 {
    // SAFETY: F_GETFL on an fd number; no memory is passed.
    unsafe { libc::fcntl(fd, libc::F_GETFL) }
}

/// The child's half of the copy tests: stdin to stdout through ember,
/// between markers, with the flags of both checked before and after.
fn copy_stdin_to_stdout_in_child() {
    let before = (flags(0), flags(1));
    ember::block_on(async {
        let mut out = ember::io::stdout();
        out.write_all(BEGIN).await.unwrap();
        let n = ember::io::copy(&mut ember::io::stdin(), &mut out)
            .await
            .unwrap();
        assert!(n > 0);
        out.write_all(END).await.unwrap();
        out.flush().await.unwrap();
    });
    assert_eq!((flags(0), flags(1)), before, "the status flags changed");
    assert_eq!(flags(0) & libc::O_NONBLOCK, 0);
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn a_pipe_copied_from_stdin_to_stdout_arrives_whole_and_the_flags_stay() {
    if is_child() {
        return copy_stdin_to_stdout_in_child();
    }
    let mut c = child(
        "a_pipe_copied_from_stdin_to_stdout_arrives_whole_and_the_flags_stay",
        Stdio::piped(),
        Stdio::piped(),
    );
    let data = pattern(1 << 20);
    let mut stdin = c.stdin.take().unwrap();
    let sent = data.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&sent).unwrap());
    let mut out = Vec::new();
    c.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    wait(c);
    assert!(between_markers(&out) == data, "bytes lost or changed");
}

#[test]
fn stdin_from_a_regular_file_is_read_to_its_end() {
    if is_child() {
        return copy_stdin_to_stdout_in_child();
    }
    let dir = support::temp_dir::TempDir::new();
    let path = dir.path().join("input");
    let data = pattern(300_000);
    std::fs::write(&path, &data).unwrap();
    let mut c = child(
        "stdin_from_a_regular_file_is_read_to_its_end",
        Stdio::from(std::fs::File::open(&path).unwrap()),
        Stdio::piped(),
    );
    let mut out = Vec::new();
    c.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    wait(c);
    assert!(between_markers(&out) == data);
}

#[test]
fn stdin_and_stdout_on_a_socket_work() {
    if is_child() {
        return copy_stdin_to_stdout_in_child();
    }
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    let theirs_out = theirs.try_clone().unwrap();
    let c = child(
        "stdin_and_stdout_on_a_socket_work",
        Stdio::from(OwnedFd::from(theirs)),
        Stdio::from(OwnedFd::from(theirs_out)),
    );
    let data = pattern(200_000);
    let mut w = ours.try_clone().unwrap();
    let sent = data.clone();
    let writer = std::thread::spawn(move || {
        w.write_all(&sent).unwrap();
        w.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut out = Vec::new();
    let mut r = &ours;
    // Reads until the child closes its end (it exits).
    r.read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    wait(c);
    assert!(between_markers(&out) == data);
}

#[test]
fn on_a_terminal_reads_and_writes_work_beside_println_and_the_terminal_stays_blocking() {
    if is_child() {
        let before = (flags(0), flags(1));
        ember::block_on(async {
            let mut out = ember::io::stdout();
            out.write_all(b"hello-from-ember\n").await.unwrap();
            out.flush().await.unwrap();
            println!("hello-from-println");
            let mut line = String::new();
            BufReader::new(ember::io::stdin())
                .read_line(&mut line)
                .await
                .unwrap();
            out.write_all(format!("got:{}\n", line.trim()).as_bytes())
                .await
                .unwrap();
            out.flush().await.unwrap();
        });
        assert_eq!((flags(0), flags(1)), before, "the terminal's flags changed");
        return;
    }
    let (master, slave) = support::openpty();
    let c = child(
        "on_a_terminal_reads_and_writes_work_beside_println_and_the_terminal_stays_blocking",
        Stdio::from(slave.try_clone().unwrap()),
        Stdio::from(slave.try_clone().unwrap()),
    );
    // Read the terminal's output on a thread until the reply shows.
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            let _ = tx.send(String::from_utf8_lossy(&seen).into_owned());
        }
    });
    let mut writer = std::fs::File::from(master);
    let deadline = Instant::now() + LIMIT;
    let mut text = String::new();
    while !text.contains("hello-from-println") {
        text = rx.recv_timeout(deadline - Instant::now()).expect("output");
    }
    writer.write_all(b"ping\n").unwrap();
    while !text.contains("got:ping") {
        text = rx
            .recv_timeout(deadline - Instant::now())
            .expect("the reply");
    }
    wait(c);
    assert!(text.contains("hello-from-ember"), "{text}");
    // The child shared the slave's file description: still blocking.
    assert_eq!(flags(slave.as_raw_fd()) & libc::O_NONBLOCK, 0);
}

#[test]
fn a_stdout_nobody_reads_does_not_hold_up_a_timer() {
    if is_child() {
        ember::block_on(async {
            // Far more than a pipe holds: the pool thread blocks in write.
            let writer = ember::spawn(async {
                let mut out = ember::io::stdout();
                let chunk = vec![b'x'; 64 * 1024];
                for _ in 0..64 {
                    out.write_all(&chunk).await.unwrap();
                }
                out.flush().await.unwrap();
            });
            let mut worst = Duration::ZERO;
            for _ in 0..10 {
                let start = Instant::now();
                ember::time::sleep(Duration::from_millis(50)).await;
                worst = worst.max(start.elapsed() - Duration::from_millis(50));
            }
            // The parent reads nothing for 3 s: a loop blocked on the pipe
            // would be seconds late here.
            eprintln!("worst lateness {worst:?}");
            assert!(
                worst < Duration::from_millis(1500),
                "timer late by {worst:?}"
            );
            writer.await.unwrap();
        });
        return;
    }
    let mut c = child(
        "a_stdout_nobody_reads_does_not_hold_up_a_timer",
        Stdio::null(),
        Stdio::piped(),
    );
    std::thread::sleep(Duration::from_secs(3));
    let mut out = Vec::new();
    c.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    wait(c);
    assert!(out.iter().filter(|&&b| b == b'x').count() >= 64 * 64 * 1024);
}

#[test]
fn println_beside_a_busy_stdout_never_fails_and_lines_stay_whole() {
    const LINES: usize = 2000;
    if is_child() {
        // The harness may have left its "test ... " line unfinished.
        println!();
        ember::block_on(async {
            let writer = ember::spawn(async {
                let mut out = ember::io::stdout();
                for i in 0..LINES {
                    out.write_all(format!("ember {i}\n").as_bytes())
                        .await
                        .unwrap();
                }
                out.flush().await.unwrap();
            });
            for i in 0..LINES {
                println!("std {i}");
                if i % 16 == 0 {
                    ember::task::yield_now().await;
                }
            }
            writer.await.unwrap();
        });
        return;
    }
    let mut c = child(
        "println_beside_a_busy_stdout_never_fails_and_lines_stay_whole",
        Stdio::null(),
        Stdio::piped(),
    );
    let mut out = String::new();
    c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    wait(c);
    let lines: std::collections::HashSet<&str> = out.lines().collect();
    for i in 0..LINES {
        assert!(
            lines.contains(format!("ember {i}").as_str()),
            "ember {i} missing"
        );
        assert!(
            lines.contains(format!("std {i}").as_str()),
            "std {i} missing"
        );
    }
}

#[test]
fn stderr_writes_reach_the_fd() {
    if is_child() {
        ember::block_on(async {
            let mut err = ember::io::stderr();
            err.write_all(b"to-stderr\n").await.unwrap();
            err.flush().await.unwrap();
        });
        return;
    }
    let mut c = Command::new(std::env::current_exe().unwrap())
        .args([
            "stderr_writes_reach_the_fd",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = String::new();
    c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    wait(c);
    assert!(err.contains("to-stderr"), "{err}");
}

#[test]
fn reading_stdin_at_end_of_file_gives_zero() {
    if is_child() {
        let n = ember::block_on(async {
            let mut buf = [0u8; 16];
            ember::io::stdin().read(&mut buf).await.unwrap()
        });
        assert_eq!(n, 0);
        return;
    }
    let c = child(
        "reading_stdin_at_end_of_file_gives_zero",
        Stdio::null(),
        Stdio::null(),
    );
    wait(c);
}
