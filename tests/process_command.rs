//! `process::Command` and `Child`: exit codes and signals, `output` and
//! `status`, the builder options, 200 children at once, 8 MiB through
//! `cat`, kill on a deadline, `kill_on_drop`, the states of a child
//! (`id`, `try_wait`, `start_kill` once reaped), and pipelines through
//! `Stdio`. Children are small shell tools (`true`, `sh`, `cat`,
//! `sleep`), so every test is bounded by `support::LIMIT`, never by a
//! tight deadline.
#![cfg(all(feature = "process", feature = "io-util", feature = "time"))]

mod support;

use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::process::{Child, Command};

/// Whether `/proc/PID` names a live or zombie process.
fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The state letter of `/proc/PID/stat` (`Z` for a zombie), if any.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim().chars().next()
}

#[test]
fn exit_codes_come_back_in_the_status() {
    support::run(support::LIMIT, || async {
        let ok = Command::new("true").status().await.unwrap();
        assert!(ok.success());
        assert_eq!(ok.code(), Some(0));
        let failed = Command::new("false").status().await.unwrap();
        assert_eq!(failed.code(), Some(1));
        let seven = Command::new("sh")
            .args(["-c", "exit 7"])
            .status()
            .await
            .unwrap();
        assert_eq!(seven.code(), Some(7));
        assert_eq!(seven.signal(), None);
    });
}

#[test]
fn a_child_killed_by_a_signal_reports_the_signal_and_no_code() {
    support::run(support::LIMIT, || async {
        let status = Command::new("sh")
            .args(["-c", "kill -TERM $$"])
            .status()
            .await
            .unwrap();
        assert_eq!(status.code(), None);
        assert_eq!(status.signal(), Some(15));
    });
}

#[test]
fn a_missing_program_is_not_found() {
    support::run(support::LIMIT, || async {
        let err = Command::new("/nonexistent/ember-test-program")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn output_captures_stdout_and_stderr_and_gives_stdin_nothing() {
    support::run(support::LIMIT, || async {
        let out = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; cat; exit 3"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    });
}

#[test]
fn env_current_dir_and_args_reach_the_child() {
    support::run(support::LIMIT, || async {
        let dir = std::env::temp_dir().canonicalize().unwrap();
        let out = Command::new("sh")
            .args(["-c", "echo \"$A $B $C\"; pwd; echo \"$0\""])
            .arg("one")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .envs([("A", "a"), ("B", "b"), ("C", "c")])
            .env_remove("C")
            .current_dir(&dir)
            .output()
            .await
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a b ");
        assert_eq!(std::path::Path::new(lines[1]), dir);
        assert_eq!(lines[2], "one", "the first argument after the script is $0");
    });
}

#[test]
fn process_group_zero_puts_the_child_in_a_group_of_its_own() {
    support::run(support::LIMIT, || async {
        let out = Command::new("sh")
            .args([
                "-c",
                "echo $$; ps -o pgid= -p $$ 2>/dev/null || cut -d' ' -f5 /proc/$$/stat",
            ])
            .process_group(0)
            .output()
            .await
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let mut words = text.split_whitespace();
        let pid = words.next().unwrap();
        let pgid = words.next().unwrap();
        assert_eq!(pid, pgid, "the child leads its own group");
    });
}

#[test]
fn two_hundred_short_children_run_and_are_waited_for_at_once() {
    support::run(support::LIMIT, || async {
        let mut children: Vec<Child> = (0..200)
            .map(|_| Command::new("true").spawn().unwrap())
            .collect();
        let waits = children
            .iter_mut()
            .map(|child| async move { child.wait().await.unwrap() });
        let mut set = ember::task::JoinSet::new();
        for child in (0..200).map(|_| Command::new("true").spawn().unwrap()) {
            set.spawn(async move {
                let mut child = child;
                child.wait().await.unwrap()
            });
        }
        for wait in waits {
            assert!(wait.await.success());
        }
        let mut n = 0;
        while let Some(status) = set.join_next().await {
            assert!(status.unwrap().success());
            n += 1;
        }
        assert_eq!(n, 200);
    });
}

#[test]
fn eight_mebibytes_go_through_cat_while_written_and_read_concurrently() {
    support::run(support::LIMIT, || async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let data: Vec<u8> = (0..8u32 << 20).map(|i| (i % 253) as u8).collect();
        let expected = data.clone();
        // Neither side fits in a pipe: writing all before reading would
        // deadlock, so the two run as tasks of their own.
        let writer = ember::spawn(async move {
            stdin.write_all(&data).await.unwrap();
            // Dropping `stdin` gives `cat` end of file.
        });
        let reader = ember::spawn(async move {
            let mut got = Vec::with_capacity(8 << 20);
            stdout.read_to_end(&mut got).await.unwrap();
            got
        });
        writer.await.unwrap();
        let got = reader.await.unwrap();
        assert!(child.wait().await.unwrap().success());
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "the bytes differ");
    });
}

#[test]
fn wait_closes_stdin_so_a_child_reading_to_the_end_can_finish() {
    support::run(support::LIMIT, || async {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        assert!(child.stdin.is_some());
        assert!(child.wait().await.unwrap().success());
        assert!(child.stdin.is_none());
    });
}

#[test]
fn a_child_past_its_deadline_is_killed_and_reaped() {
    support::run(support::LIMIT, || async {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        let pid = child.id().unwrap();
        let waited = ember::time::timeout(Duration::from_millis(200), child.wait()).await;
        assert!(waited.is_err(), "sleep 60 finished early");
        child.kill().await.unwrap();
        let status = child.try_wait().unwrap().unwrap();
        assert_eq!(status.signal(), Some(9));
        assert_eq!(child.id(), None, "no pid once reaped");
        assert!(
            !exists(pid) || state(pid) != Some('Z'),
            "reaped, not a zombie"
        );
    });
}

#[test]
fn start_kill_then_wait_reports_sigkill_and_killing_a_reaped_child_does_nothing() {
    support::run(support::LIMIT, || async {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        assert_eq!(child.try_wait().unwrap(), None, "running");
        child.start_kill().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(9));
        // Reaped: the same status again, and killing does nothing.
        assert_eq!(child.wait().await.unwrap(), status);
        assert_eq!(child.try_wait().unwrap(), Some(status));
        child.start_kill().unwrap();
        child.kill().await.unwrap();
        assert_eq!(child.try_wait().unwrap(), Some(status));
    });
}

#[test]
fn try_wait_reaps_a_child_that_has_exited() {
    support::run(support::LIMIT, || async {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id().unwrap();
        // Wait for the exit without reaping: the pid turns into a zombie.
        while state(pid) != Some('Z') {
            ember::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(child.try_wait().unwrap().unwrap().success());
        assert_eq!(child.id(), None);
    });
}

#[test]
fn kill_on_drop_kills_the_child_and_it_is_reaped() {
    support::run(support::LIMIT, || async {
        let child = Command::new("sleep")
            .arg("60")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        drop(child);
        // Killed, then reaped in the background: the pid disappears.
        while exists(pid) {
            ember::time::sleep(Duration::from_millis(10)).await;
        }
    });
}

#[test]
fn without_kill_on_drop_a_dropped_child_runs_on() {
    support::run(support::LIMIT, || async {
        let child = Command::new("sleep").arg("60").spawn().unwrap();
        let pid = child.id().unwrap();
        drop(child);
        ember::time::sleep(Duration::from_millis(100)).await;
        assert!(exists(pid) && state(pid) != Some('Z'), "still running");
        // Clean up: kill it by hand (the orphan task then reaps it).
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        while exists(pid) {
            ember::time::sleep(Duration::from_millis(10)).await;
        }
    });
}

#[test]
fn one_childs_stdout_becomes_anothers_stdin_through_stdio() {
    support::run(support::LIMIT, || async {
        let mut first = Command::new("echo")
            .arg("piped along")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout: Stdio = first.stdout.take().unwrap().try_into().unwrap();
        let out = Command::new("cat").stdin(stdout).output().await.unwrap();
        assert!(first.wait().await.unwrap().success());
        assert_eq!(out.stdout, b"piped along\n");
    });
}

#[test]
fn wait_with_output_reads_both_streams_of_a_chatty_child() {
    support::run(support::LIMIT, || async {
        // More than a pipe holds on each stream: both must be read while
        // the child runs.
        let child = Command::new("sh")
            .args([
                "-c",
                "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.wait_with_output().await.unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout.len(), 300_000);
        assert_eq!(out.stderr.len(), 200_000);
    });
}

#[test]
fn child_pipes_are_non_blocking_on_our_side_only() {
    support::run(support::LIMIT, || async {
        use std::os::fd::AsRawFd;
        // The child reports the flags of its own stdin, fd 0.
        let mut child = Command::new("sh")
            .args(["-c", "grep flags /proc/self/fdinfo/0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let fd = child.stdin.as_ref().unwrap().as_raw_fd();
        let flags = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
        let ours = octal_flags(&flags);
        assert_ne!(ours & libc::O_NONBLOCK, 0, "our end is non-blocking");
        assert_ne!(ours & libc::O_CLOEXEC, 0, "our end is close-on-exec");
        let mut text = String::new();
        let mut stdout = child.stdout.take().unwrap();
        stdout.read_to_string(&mut text).await.unwrap();
        assert_eq!(
            octal_flags(&text) & libc::O_NONBLOCK,
            0,
            "the child's end blocks"
        );
        child.wait().await.unwrap();
    });
}

/// The `flags:` field of a `/proc/*/fdinfo/*` file, in octal.
fn octal_flags(fdinfo: &str) -> i32 {
    let line = fdinfo
        .lines()
        .find(|l| l.starts_with("flags:"))
        .expect("a flags line");
    i32::from_str_radix(line["flags:".len()..].trim(), 8).unwrap()
}

#[test]
fn spawn_outside_a_runtime_panics_before_spawning() {
    let panic = std::panic::catch_unwind(|| Command::new("true").spawn()).unwrap_err();
    let msg = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    assert!(msg.contains("outside an ember runtime"), "{msg}");
}

#[test]
fn waiting_outside_the_runtime_that_spawned_the_child_is_an_error_not_a_hang() {
    support::within(support::LIMIT, || {
        let mut child = ember::block_on(async { Command::new("sleep").arg("60").spawn().unwrap() });
        // The exit is registered with the first runtime, now gone.
        let waited = ember::block_on(async { child.wait().await });
        assert!(waited.is_err(), "{waited:?}");
        // `start_kill` and `try_wait` need no runtime: they still kill
        // and reap.
        child.start_kill().unwrap();
        while child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(child.id(), None);
    });
}
