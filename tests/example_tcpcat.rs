//! `examples/tcpcat.rs`, run as a program against a loopback echo server:
//! stdin from a pipe, from a file and from a terminal (a pseudo-terminal
//! made here), stdout to a pipe or the terminal.
#![cfg(all(feature = "net", feature = "io-util", feature = "io-std"))]

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::LIMIT;

/// The example's binary, built by `cargo test` with the other examples
/// (or here, if this test runs alone).
fn tcpcat() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/tcpcat");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--example", "tcpcat"])
            .status()
            .unwrap();
        assert!(status.success(), "could not build the tcpcat example");
    }
    bin
}

/// An echo server on its own threads: each connection's bytes come back
/// until the client shuts its sending half.
fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let mut out = conn.try_clone().unwrap();
                let _ = std::io::copy(&mut conn, &mut out);
                let _ = out.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    addr
}

fn wait(mut child: Child) {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "tcpcat failed: {status}");
            return;
        }
        assert!(Instant::now() < deadline, "tcpcat did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 256) as u8).collect()
}

#[test]
fn bytes_piped_into_tcpcat_come_back_out_of_it() {
    let addr = echo_server();
    let mut c = Command::new(tcpcat())
        .arg(&addr)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let data = pattern(3 << 20);
    let mut stdin = c.stdin.take().unwrap();
    let sent = data.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&sent).unwrap());
    let mut out = Vec::new();
    c.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    writer.join().unwrap();
    wait(c);
    assert!(out == data, "{} bytes back of {}", out.len(), data.len());
}

#[test]
fn a_file_redirected_into_tcpcat_comes_back_out_of_it() {
    let addr = echo_server();
    let dir = support::temp_dir::TempDir::new();
    let path = dir.path().join("in");
    let data = pattern(500_000);
    std::fs::write(&path, &data).unwrap();
    let mut c = Command::new(tcpcat())
        .arg(&addr)
        .stdin(std::fs::File::open(&path).unwrap())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = Vec::new();
    c.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    wait(c);
    assert!(out == data);
}

#[test]
fn on_a_terminal_a_typed_line_comes_back_and_ctrl_d_ends_it() {
    let addr = echo_server();
    let (master, slave) = support::openpty();
    let c = Command::new(tcpcat())
        .arg(&addr)
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave))
        .spawn()
        .unwrap();
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            let _ = tx.send(String::from_utf8_lossy(&seen).into_owned());
        }
    });
    let mut term = std::fs::File::from(master);
    // Typed, then Ctrl-D on an empty line: the end of the input.
    term.write_all(b"hello over tcp\n").unwrap();
    let deadline = Instant::now() + LIMIT;
    let mut text = String::new();
    // The terminal echoes the line once; the server's copy makes two.
    while text.matches("hello over tcp").count() < 2 {
        text = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("no echo from the server: {text:?}"));
    }
    term.write_all(&[4]).unwrap();
    wait(c);
}

#[test]
fn a_refused_connection_is_an_error_and_exit_status_one() {
    // A port with no listener: bind, note it, close.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = Command::new(tcpcat())
        .arg(addr.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tcpcat"));
}
