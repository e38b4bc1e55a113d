//! `examples/run_with_timeout.rs`, run as a program: lines stream through
//! with the command's exit status, and a command past its deadline is
//! killed with status 124.
#![cfg(all(feature = "process", feature = "io-util", feature = "time"))]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/run_with_timeout");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--example", "run_with_timeout"])
            .status()
            .unwrap();
        assert!(status.success(), "could not build the example");
    }
    bin
}

#[test]
fn lines_stream_through_and_the_commands_exit_status_comes_back() {
    let out = Command::new(example())
        .args(["30", "sh", "-c", "echo one; echo two; exit 3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].ends_with("] one") && lines[1].ends_with("] two"),
        "{text}"
    );
}

#[test]
fn a_command_past_its_deadline_is_killed_with_status_124() {
    let started = Instant::now();
    let out = Command::new(example())
        .args(["0.5", "sh", "-c", "echo started; exec sleep 60"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(124));
    assert!(String::from_utf8_lossy(&out.stdout).contains("started"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("killed"));
    // Far less than the child's 60 s (a generous bound for a loaded box).
    assert!(started.elapsed() < Duration::from_secs(40));
}

#[test]
fn a_command_that_cannot_start_is_status_125() {
    let out = Command::new(example())
        .args(["5", "/nonexistent/ember-test-command"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
}
