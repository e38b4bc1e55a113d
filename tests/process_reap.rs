//! No child is left behind: dropped children are reaped (no zombies, in a
//! runtime, after it, and when it shut down first), no fd stays open, and
//! the `SIGCHLD` fallback (forced with `EMBER_PROCESS_NO_PIDFD`) waits,
//! kills and reaps as the pidfd path does.
//!
//! Zombies and fds are process-wide, so each test runs in a child process
//! of its own (`support::in_child`), where no other test spawns anything.
#![cfg(all(feature = "process", feature = "io-util", feature = "time"))]

mod support;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::process::Command;

/// The pids of this process's children, zombies included, whichever
/// thread spawned them.
fn children() -> Vec<u32> {
    let mut pids = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let path = task.unwrap().path().join("children");
        // A thread may have exited since the listing.
        if let Ok(list) = std::fs::read_to_string(path) {
            pids.extend(list.split_whitespace().map(|p| p.parse::<u32>().unwrap()));
        }
    }
    pids
}

/// The state letter of `/proc/PID/stat` (`Z` for a zombie), if any.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim().chars().next()
}

/// Waits on the loop until this process has no child left.
async fn until_no_children() {
    while !children().is_empty() {
        ember::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Asserts that the process has no child at all, not even a zombie:
/// `waitpid(-1, WNOHANG)` says `ECHILD`.
fn assert_no_child_left() {
    assert_eq!(children(), Vec::<u32>::new());
    let mut status = 0;
    // SAFETY: `status` is a live out-pointer.
    let r = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    let err = std::io::Error::last_os_error();
    assert_eq!(r, -1, "waitpid(-1) found a child");
    assert_eq!(err.raw_os_error(), Some(libc::ECHILD), "{err}");
}

/// How many of this process's fds are pidfds.
fn pidfds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().contains("pidfd"))
        .count()
}

/// Whether the kernel has `pidfd_open` (Linux 5.3+); without it the pidfd
/// path falls back to `SIGCHLD` on its own.
fn kernel_has_pidfd() -> bool {
    // SAFETY: `pidfd_open(pid, 0)` takes two integers; the fd it may return
    // is closed at once.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    if fd >= 0 {
        // SAFETY: a fresh fd that nothing else owns.
        unsafe { libc::close(fd as i32) };
        return true;
    }
    std::io::Error::last_os_error().raw_os_error() != Some(libc::ENOSYS)
}

/// Spawns children and drops them without waiting, in every way: exited,
/// still running, killed on drop; plus some waited for as usual.
async fn drop_children_every_way() {
    for _ in 0..20 {
        drop(Command::new("true").spawn().unwrap());
    }
    for _ in 0..5 {
        drop(Command::new("sleep").arg("0.2").spawn().unwrap());
    }
    for _ in 0..5 {
        let child = Command::new("sleep")
            .arg("60")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        drop(child);
    }
    assert!(Command::new("true").status().await.unwrap().success());
    let out = Command::new("echo").arg("x").output().await.unwrap();
    assert_eq!(out.stdout, b"x\n");
}

#[test]
fn children_dropped_without_waiting_are_reaped_and_no_zombie_is_left() {
    if !support::in_child("children_dropped_without_waiting_are_reaped_and_no_zombie_is_left") {
        return;
    }
    support::run(support::LIMIT, || async {
        drop_children_every_way().await;
        until_no_children().await;
    });
    assert_no_child_left();
}

#[test]
fn a_child_dropped_outside_its_runtime_is_reaped_by_the_next_spawn() {
    if !support::in_child("a_child_dropped_outside_its_runtime_is_reaped_by_the_next_spawn") {
        return;
    }
    support::within(support::LIMIT, || {
        // Dropped after its runtime is gone: nothing can wait for it there.
        let child = ember::block_on(async { Command::new("sleep").arg("0.1").spawn().unwrap() });
        let first = child.id().unwrap();
        drop(child);
        // Dropped in a runtime that shuts down before it exits: the orphan
        // task is dropped with the runtime.
        let second = ember::block_on(async {
            let child = Command::new("sleep").arg("0.1").spawn().unwrap();
            child.id().unwrap()
        });
        for pid in [first, second] {
            while state(pid) != Some('Z') {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // The next spawn, in any runtime, reaps them.
        ember::block_on(async {
            assert!(Command::new("true").status().await.unwrap().success());
        });
        assert_eq!(state(first), None, "reaped");
        assert_eq!(state(second), None, "reaped");
    });
    assert_no_child_left();
}

#[test]
fn children_their_pipes_and_pidfds_leave_no_fd_behind() {
    if !support::in_child("children_their_pipes_and_pidfds_leave_no_fd_behind") {
        return;
    }
    let fds_at_start = support::open_fds();
    support::run(support::LIMIT, || async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if kernel_has_pidfd() {
            assert_eq!(pidfds(), 1, "the exit is heard through a pidfd");
        }
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"abc").await.unwrap();
        drop(stdin);
        let mut got = Vec::new();
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_to_end(&mut got)
            .await
            .unwrap();
        assert_eq!(got, b"abc");
        assert!(child.wait().await.unwrap().success());
        drop(child);
        assert!(Command::new("/nonexistent/program").spawn().is_err());
        drop_children_every_way().await;
        until_no_children().await;
    });
    assert_eq!(support::open_fds(), fds_at_start, "an fd was left open");
    assert_no_child_left();
}

#[test]
fn the_sigchld_fallback_waits_kills_and_reaps_like_the_pidfd_path() {
    if !support::in_child("the_sigchld_fallback_waits_kills_and_reaps_like_the_pidfd_path") {
        return;
    }
    // Read once, at the first spawn: nothing has spawned yet in this child.
    std::env::set_var("EMBER_PROCESS_NO_PIDFD", "1");
    support::run(support::LIMIT, || async {
        // Exit codes and signals.
        let seven = Command::new("sh").args(["-c", "exit 7"]).status().await;
        assert_eq!(seven.unwrap().code(), Some(7));
        let killed = Command::new("sh")
            .args(["-c", "kill -TERM $$"])
            .status()
            .await;
        assert_eq!(killed.unwrap().signal(), Some(15));

        // Killed past a deadline, heard through SIGCHLD, not a pidfd.
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        assert_eq!(pidfds(), 0, "no pidfd in the fallback");
        let waited = ember::time::timeout(Duration::from_millis(100), child.wait()).await;
        assert!(waited.is_err());
        child.kill().await.unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(9));

        // Many at once, each woken by the SIGCHLDs of the others too.
        let mut set = ember::task::JoinSet::new();
        for _ in 0..30 {
            let mut child = Command::new("true").spawn().unwrap();
            set.spawn(async move { child.wait().await.unwrap() });
        }
        while let Some(status) = set.join_next().await {
            assert!(status.unwrap().success());
        }

        // Output through pipes, and children dropped every way.
        let out = Command::new("sh")
            .args(["-c", "echo out; echo err >&2"])
            .output()
            .await
            .unwrap();
        assert_eq!(
            (out.stdout.as_slice(), out.stderr.as_slice()),
            (&b"out\n"[..], &b"err\n"[..])
        );
        drop_children_every_way().await;
        until_no_children().await;
    });
    // Outside the runtime that spawned it, a wait is an error, not a hang.
    support::within(support::LIMIT, || {
        let mut child = ember::block_on(async { Command::new("sleep").arg("60").spawn().unwrap() });
        assert!(ember::block_on(async { child.wait().await }).is_err());
        child.start_kill().unwrap();
        while child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    assert_no_child_left();
}
