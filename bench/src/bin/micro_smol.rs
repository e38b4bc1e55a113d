//! Task micro-benchmark on smol's `LocalExecutor`, driven by
//! `smol::block_on`; see `ember_bench::micro` for the commands. Only
//! `spawn N`: the timer comparisons are ember against tokio.

use std::time::Instant;

use ember_bench::micro::{self, Command};
use smol::LocalExecutor;

fn main() {
    let executor = LocalExecutor::new();
    smol::block_on(executor.run(async {
        match micro::command() {
            Command::Spawn { tasks } => {
                let start = Instant::now();
                let handles: Vec<_> = (0..tasks).map(|_| executor.spawn(async {})).collect();
                for handle in handles {
                    handle.await;
                }
                micro::report_rate("spawn", tasks, start.elapsed());
            }
            _ => {
                eprintln!("micro_smol: only `spawn N` (timers are compared on ember and tokio)");
                std::process::exit(2);
            }
        }
    }));
}
