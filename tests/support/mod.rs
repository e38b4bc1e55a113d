//! Helpers shared by the integration tests: a watchdog around `block_on`,
//! fd and CPU accounting, and re-running a test in a child process.
//!
//! Each test file includes it with `mod support;`; not every file uses
//! every helper.
#![allow(dead_code)]

pub mod temp_dir;

use std::future::Future;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

/// Runs the future built by `make` on a fresh ember runtime in a new
/// thread, and fails the test if it takes longer than `limit` (a hang must
/// be a failure, not a stuck CI). Panics inside propagate.
pub fn run<F, Fut>(limit: Duration, make: F) -> Fut::Output
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    within(limit, move || ember::block_on(make()))
}

/// Runs `f` in a new thread, and fails the test if it takes longer than
/// `limit`; for a test that builds and drops its own runtimes. Panics
/// inside propagate.
pub fn within<T, F>(limit: Duration, f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let out = f();
        let _ = tx.send(out);
    });
    match rx.recv_timeout(limit) {
        Ok(out) => {
            thread
                .join()
                .expect("runtime thread panicked after finishing");
            out
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the runtime thread ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {limit:?}"),
    }
}

/// Polls `fut` once, from inside the running task (so with its waker), and
/// returns what that poll gave.
pub async fn poll_once<F: Future>(mut fut: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await
}

/// A generous bound for loopback tests on a loaded 2-core machine.
pub const LIMIT: Duration = Duration::from_secs(60);

/// The open fds of this process, as names in `/proc/self/fd`.
pub fn open_fds() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// CPU time (user + system) used by the calling thread so far.
pub fn thread_cpu_time() -> Duration {
    cpu_time(libc::RUSAGE_THREAD)
}

/// CPU time (user + system) used by the whole process so far.
pub fn process_cpu_time() -> Duration {
    cpu_time(libc::RUSAGE_SELF)
}

fn cpu_time(who: i32) -> Duration {
    // SAFETY: `usage` is a valid out-pointer for getrusage.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; `who` is RUSAGE_SELF or RUSAGE_THREAD.
    let r = unsafe { libc::getrusage(who, &mut usage) };
    assert_eq!(r, 0, "getrusage failed");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The environment variable that tells a test it runs as the child.
pub const CHILD_ENV: &str = "EMBER_TEST_CHILD";

/// Whether this process is the child started by [`run_in_child`].
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// In the parent: runs `test` in a child process (see [`run_in_child`]),
/// checks that it passed, and returns `false`. In the child: returns `true`
/// (run the body). For a test whose failure would be an abort, or that
/// needs a process of its own.
pub fn in_child(test: &str) -> bool {
    if is_child() {
        return true;
    }
    let out = run_in_child(test, LIMIT);
    assert!(
        out.status.success(),
        "child test {test} failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A misspelt name would run no test at all, and pass.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "child ran no test named {test}"
    );
    false
}

/// Re-runs the test named `test` (its full path, e.g. `emfile_is_reported`)
/// in a child process of the same test binary with [`CHILD_ENV`] set, and
/// returns its exit status and output. The test checks [`is_child`] to know
/// its role. Bounded by `limit`: the child is killed if it takes longer.
pub fn run_in_child(test: &str, limit: Duration) -> std::process::Output {
    let exe = std::env::current_exe().expect("current_exe");
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn child test");
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("child output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("child output");
            panic!(
                "child test {test} did not finish within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh pseudo-terminal: (master, slave), both owned.
pub fn openpty() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: two valid out-pointers; name, termios and winsize are null
    // (allowed: defaults).
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two fresh fds that nothing else owns.
    unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(master),
            std::os::fd::OwnedFd::from_raw_fd(slave),
        )
    }
}
