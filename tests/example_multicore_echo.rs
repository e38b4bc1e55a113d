//! `examples/multicore_echo.rs`, run as a program: `multicore_echo ADDR
//! THREADS` on `127.0.0.1:0` prints one address that every thread's
//! listener shares, echoes on every connection, runs one thread per
//! runtime (pinned with `--pin`), and ends cleanly on Ctrl-C (`SIGINT`).
#![cfg(all(feature = "net", feature = "io-util", feature = "signal"))]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::LIMIT;

/// The example's binary, built by `cargo test` with the other examples
/// (or here, if this test runs alone).
fn multicore_echo() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/multicore_echo");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--example", "multicore_echo"])
            .status()
            .unwrap();
        assert!(
            status.success(),
            "could not build the multicore_echo example"
        );
    }
    bin
}

/// The server, started with `args`, once it says where it listens.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(multicore_echo())
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .parse()
            .unwrap();
        Server { child, addr }
    }

    /// The ids of the process's threads but the main one.
    fn worker_threads(&self) -> Vec<String> {
        let pid = self.child.id().to_string();
        let mut tids: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|tid| *tid != pid)
            .collect();
        tids.sort();
        tids
    }

    /// Sends `SIGINT`, and waits for a clean exit.
    fn ctrl_c(mut self) {
        // SAFETY: `kill` takes two integers; the pid is our own child's,
        // which has not been reaped yet, so it names no other process.
        let r = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        assert_eq!(r, 0, "kill");
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "multicore_echo failed: {status}");
                return;
            }
            assert!(Instant::now() < deadline, "multicore_echo ignored Ctrl-C");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed assertion must not leave the server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn echo_once(addr: SocketAddr, msg: &[u8]) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(LIMIT)).unwrap();
    c.write_all(msg).unwrap();
    let mut back = vec![0u8; msg.len()];
    c.read_exact(&mut back).unwrap();
    assert_eq!(back, msg);
}

#[test]
fn two_threads_share_one_port_echo_every_connection_and_stop_on_ctrl_c() {
    support::within(LIMIT, || {
        let server = Server::start(&["127.0.0.1:0", "2"]);
        assert_eq!(server.worker_threads().len(), 2, "one thread per runtime");
        assert_ne!(server.addr.port(), 0);
        // Many connections, from many source ports: the kernel spreads them
        // over both listeners, and every one is served.
        let mut open = Vec::new();
        for i in 0..64 {
            echo_once(server.addr, format!("hello {i}").as_bytes());
            open.push(TcpStream::connect(server.addr).unwrap());
        }
        server.ctrl_c();
        // The runtimes are gone, and with them every connection.
        for mut c in open {
            c.set_read_timeout(Some(LIMIT)).unwrap();
            let mut buf = [0u8; 1];
            assert!(matches!(c.read(&mut buf), Ok(0) | Err(_)));
        }
    });
}

#[test]
fn without_a_thread_count_it_starts_one_runtime_per_cpu() {
    support::within(LIMIT, || {
        let server = Server::start(&["127.0.0.1:0"]);
        let cpus = std::thread::available_parallelism().unwrap().get();
        assert_eq!(server.worker_threads().len(), cpus);
        echo_once(server.addr, b"default");
        server.ctrl_c();
    });
}

#[test]
fn with_pin_each_worker_runs_on_its_own_cpu() {
    support::within(LIMIT, || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let allowed = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .unwrap()
            .trim()
            .to_string();
        if !(allowed.starts_with("0-") || allowed.starts_with("0,1")) {
            eprintln!("skipped: CPUs 0 and 1 are not both allowed here ({allowed})");
            return;
        }
        let server = Server::start(&["127.0.0.1:0", "2", "--pin"]);
        let pid = server.child.id();
        let mut cpus: Vec<String> = server
            .worker_threads()
            .iter()
            .map(|tid| {
                let status =
                    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).unwrap();
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                    .unwrap()
                    .trim()
                    .to_string()
            })
            .collect();
        cpus.sort();
        assert_eq!(cpus, ["0", "1"]);
        echo_once(server.addr, b"pinned");
        server.ctrl_c();
    });
}

#[test]
fn a_bad_address_fails_before_any_thread_starts() {
    support::within(LIMIT, || {
        let out = Command::new(multicore_echo())
            .args(["not-an-address", "2"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            out.stdout.is_empty(),
            "it printed {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
    });
}
