//! `io::Async` on a pipe: run a command and read its output line by line
//! through the reactor, while another task keeps the loop visibly busy.
//!
//! ```text
//! cargo run --example pipe                          # a default command that prints slowly
//! cargo run --example pipe -- ping -c 3 127.0.0.1   # any command and its arguments
//! ```
//!
//! The child's stdout is a pipe; `Async::new` makes it non-blocking and
//! registers it with epoll, so waiting for the next line costs the thread
//! nothing: the "tick" task below keeps running in between.

use std::cell::Cell;
use std::io;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::Duration;

use ember::io::{Async, AsyncBufReadExt, BufReader};

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut command = match args.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest);
            c
        }
        None => {
            let mut c = Command::new("sh");
            c.args(["-c", "for i in 1 2 3 4 5; do echo line $i; sleep 0.5; done"]);
            c
        }
    };
    let mut child = command.stdout(Stdio::piped()).spawn()?;
    let stdout = child.stdout.take().expect("stdout was piped");

    ember::block_on(async {
        // A task that shows the loop is free while we wait for the child.
        let done = Rc::new(Cell::new(false));
        let ticker = ember::spawn({
            let done = done.clone();
            async move {
                for i in 1.. {
                    ember::time::sleep(Duration::from_millis(200)).await;
                    if done.get() {
                        break;
                    }
                    println!("  (tick {i}: the loop is not blocked)");
                }
            }
        });

        let mut lines = BufReader::new(Async::new(stdout)?).lines();
        let mut count = 0;
        while let Some(line) = lines.next_line().await? {
            count += 1;
            println!("child says: {line}");
        }
        done.set(true);
        let _ = ticker.await; // it notices within one tick
        println!("end of output after {count} lines");
        Ok::<(), io::Error>(())
    })?;

    // The pipe is closed: the child has exited or is about to.
    let status = child.wait()?;
    println!("child exited: {status}");
    Ok(())
}
