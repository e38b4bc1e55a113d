//! Running out of file descriptors: `accept` reports `EMFILE`, an accept
//! loop that logs it and goes on does not spin, and the connection that
//! waited is accepted and served once fds are freed. Runs in a child
//! process, since it lowers `RLIMIT_NOFILE` and fills the fd table.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

mod support;

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{Read, Write};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::tcp::ACCEPT_BACKOFF;
use ember::net::{TcpListener, TcpStream};

/// Printed by the child once every assertion has passed.
const DONE: &str = "emfile child: all checks passed";

/// How long the accept loop is kept starved while its CPU is measured.
const STARVED: Duration = Duration::from_secs(1);

/// Sets the soft `RLIMIT_NOFILE` of this process to `limit`, keeping the
/// hard limit.
fn set_fd_limit(limit: u64) {
    // SAFETY: an all-zero rlimit is a valid value to overwrite.
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `rl` is a valid out-pointer for getrlimit.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) }, 0);
    rl.rlim_cur = limit as libc::rlim_t;
    // SAFETY: `rl` is a valid, initialised rlimit with cur <= max (the
    // limit asked for is far below any hard limit we run under).
    let r = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) };
    assert_eq!(r, 0, "setrlimit: {}", std::io::Error::last_os_error());
}

/// Lowers the fd limit to a little above the highest fd now open, then
/// opens `/dev/null` until the table is full. Returns the spare files:
/// dropping one frees one slot.
fn fill_fd_table() -> Vec<File> {
    let highest: u64 = support::open_fds()
        .iter()
        .filter_map(|name| name.parse().ok())
        .max()
        .expect("some fd is open");
    set_fd_limit(highest + 1 + 32);
    let mut spare = Vec::with_capacity(4096);
    loop {
        match File::open("/dev/null") {
            Ok(f) => spare.push(f),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => return spare,
            Err(e) => panic!("filling the fd table: {e:?}"),
        }
        assert!(spare.len() < 4096, "the lowered fd limit did not apply");
    }
}

/// Echoes until the peer closes.
async fn echo(mut stream: TcpStream) {
    let mut buf = [0u8; 1024];
    while let Ok(n @ 1..) = stream.read(&mut buf).await {
        stream.write_all(&buf[..n]).await.unwrap();
    }
}

/// Waits (without blocking the loop) for a value from a plain thread.
async fn recv_from_thread<T>(rx: &mpsc::Receiver<T>) -> T {
    loop {
        match rx.try_recv() {
            Ok(v) => return v,
            Err(mpsc::TryRecvError::Empty) => ember::time::sleep(Duration::from_millis(5)).await,
            Err(mpsc::TryRecvError::Disconnected) => panic!("the client thread died"),
        }
    }
}

fn child() {
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();

        // The client: a plain thread, started now (a thread takes no fd),
        // that connects when told to, then does one round trip.
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (connected_tx, connected_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        let client = std::thread::spawn(move || {
            go_rx.recv().unwrap();
            let stream = std::net::TcpStream::connect(addr);
            let ok = stream.is_ok();
            connected_tx
                .send(stream.as_ref().map(|_| ()).map_err(|e| e.to_string()))
                .unwrap();
            if !ok {
                return;
            }
            let mut stream = stream.unwrap();
            let result = (|| {
                stream.write_all(b"still there?")?;
                let mut reply = [0u8; 12];
                stream.read_exact(&mut reply)?;
                Ok::<_, std::io::Error>(reply)
            })();
            done_tx.send(result.map_err(|e| e.to_string())).unwrap();
        });

        // The accept loop under test: it logs errors and goes on.
        let errors = Rc::new(RefCell::new(Vec::new()));
        let accepted = Rc::new(Cell::new(0u32));
        let (errs, acc) = (errors.clone(), accepted.clone());
        ember::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        acc.set(acc.get() + 1);
                        ember::spawn(echo(stream));
                    }
                    Err(e) => {
                        println!("accept error: {e}");
                        errs.borrow_mut().push(e.raw_os_error());
                    }
                }
            }
        });

        // Fill the table, free exactly one slot, and let the client take
        // it: the connection completes in the kernel's backlog, and the
        // process has no fd left for `accept` to return it in.
        let mut spare = fill_fd_table();
        drop(spare.pop());
        go_tx.send(()).unwrap();
        connected_rx
            .recv()
            .unwrap()
            .expect("the client connects into the backlog");

        // Wait for the first failed accept.
        while errors.borrow().is_empty() {
            ember::time::sleep(Duration::from_millis(5)).await;
        }

        // Starved: the loop retries, but at the runtime's pace.
        let cpu_before = support::thread_cpu_time();
        let errors_before = errors.borrow().len();
        ember::time::sleep(STARVED).await;
        let cpu = support::thread_cpu_time() - cpu_before;
        let attempts = errors.borrow().len() - errors_before;
        println!("starved for {STARVED:?}: {attempts} failed accepts, {cpu:?} of CPU");
        assert_eq!(accepted.get(), 0, "nothing can be accepted while starved");
        assert!(
            cpu < Duration::from_millis(300),
            "the starved accept loop used {cpu:?} of CPU in {STARVED:?}"
        );
        let max_attempts = (2 * STARVED.as_millis() / ACCEPT_BACKOFF.as_millis()) as usize + 2;
        assert!(
            attempts <= max_attempts,
            "{attempts} accept attempts in {STARVED:?}: the loop spins"
        );
        assert!(attempts >= 1, "the accept loop stopped retrying");

        // Free the fds: the waiting client is accepted and served.
        drop(spare);
        let reply = recv_from_thread(&done_rx)
            .await
            .expect("the client's round trip");
        assert_eq!(&reply, b"still there?");
        assert_eq!(accepted.get(), 1);
        client.join().unwrap();

        let errors = errors.borrow();
        assert!(
            errors
                .iter()
                .all(|e| matches!(*e, Some(libc::EMFILE | libc::ENFILE))),
            "accept failed with something other than EMFILE/ENFILE: {errors:?}"
        );
    });
    println!("{DONE}");
}

#[test]
fn accept_reports_emfile_without_spinning_and_serves_the_waiting_client_once_fds_free_up() {
    if support::is_child() {
        return child();
    }
    let out = support::run_in_child(
        "accept_reports_emfile_without_spinning_and_serves_the_waiting_client_once_fds_free_up",
        support::LIMIT,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(DONE),
        "the child failed: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(stdout.contains("accept error:"), "no accept error was seen");
}
