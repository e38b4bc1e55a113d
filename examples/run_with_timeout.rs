//! Runs a command, streams its output line by line as it comes, and kills
//! it if it is still running past a deadline: a tiny `timeout(1)` that
//! also labels each line with the time it arrived.
//!
//! ```text
//! cargo run --example run_with_timeout -- 2 sh -c 'echo one; sleep 1; echo two'   # exit 0
//! cargo run --example run_with_timeout -- 1 sh -c 'echo start; sleep 60'           # killed: exit 124
//! ```
//!
//! Usage: `run_with_timeout SECONDS COMMAND [ARG...]`. Exit status: the
//! command's own, 124 if it was killed at the deadline (as `timeout(1)`),
//! 125 if it could not be started. The child is waited for (no zombie),
//! killed on any early return (`kill_on_drop`), and a line longer than
//! 64 KiB is an error rather than unbounded memory. Like `timeout(1)`, it
//! kills the command itself, not processes the command started (a shell's
//! `sleep` would outlive the shell: `exec` it).

use std::io;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use ember::io::{AsyncBufReadExt, BufReader};
use ember::process::Command;
use ember::time::timeout;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(secs), Some(program)) = (args.next(), args.next()) else {
        eprintln!("usage: run_with_timeout SECONDS COMMAND [ARG...]");
        return ExitCode::from(125);
    };
    let Ok(secs) = secs.parse::<f64>() else {
        eprintln!("run_with_timeout: {secs:?} is not a number of seconds");
        return ExitCode::from(125);
    };
    let limit = Duration::from_secs_f64(secs);
    match ember::block_on(run(limit, &program, args.collect())) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("run_with_timeout: {program}: {e}");
            ExitCode::from(125)
        }
    }
}

async fn run(limit: Duration, program: &str, args: Vec<String>) -> io::Result<u8> {
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(&args)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let streamed = timeout(limit, async {
        while let Some(line) = lines.next_line().await? {
            if line.len() > 64 * 1024 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
            }
            println!("[{:>7.3}s] {line}", started.elapsed().as_secs_f64());
        }
        // Its output ended; the exit comes right after (or not, within
        // what is left of the limit).
        child.wait().await
    })
    .await;
    match streamed {
        Ok(Ok(status)) => Ok(status.code().map_or(128, |c| c as u8)),
        Ok(Err(e)) => Err(e),
        Err(_elapsed) => {
            child.kill().await?;
            eprintln!("run_with_timeout: {program} still running after {limit:?}: killed");
            Ok(124)
        }
    }
}
