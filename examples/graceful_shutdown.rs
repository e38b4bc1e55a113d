//! A line server that shuts down gracefully: on a trigger it stops
//! accepting, lets each connection finish the request it is serving (for
//! at most 10 s), closes idle ones at once, then exits.
//!
//! ```text
//! cargo run --example graceful_shutdown             # listens on 127.0.0.1:7000
//! nc 127.0.0.1 7000          # type `work 3000`: the reply comes in 3 s
//! nc 127.0.0.1 7000          # meanwhile, in another terminal: `shutdown`
//! ```
//! (Ctrl-C in the server's terminal triggers the same shutdown.)
//! The first client still gets `done 3000`, then both connections close
//! and the server prints what it drained and exits. Other lines are echoed.
//! `tests/sync_graceful_shutdown.rs` runs [`serve`] against real clients.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use ember::sync::Notify;
use ember::task::JoinSet;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
    ember::block_on(async {
        let listener = TcpListener::bind(&addr)?;
        println!("listening on {}", listener.local_addr()?);
        let shutdown = Rc::new(Shutdown::default());
        // Ctrl-C is a trigger too, besides the `shutdown` line.
        let on_ctrl_c = shutdown.clone();
        ember::spawn(async move {
            if ember::signal::ctrl_c().await.is_ok() {
                on_ctrl_c.trigger();
            }
        });
        let report = serve(listener, shutdown, Duration::from_secs(10)).await;
        println!("shut down: {report:?}");
        Ok(())
    })
}

/// The trigger: a flag for code that checks, a [`Notify`] for code that waits.
#[derive(Default)]
pub struct Shutdown {
    started: Cell<bool>,
    notify: Notify,
}

impl Shutdown {
    pub fn trigger(&self) {
        if !self.started.replace(true) {
            self.notify.notify_waiters();
        }
    }

    /// Completes once shutdown has started. Cancel safe.
    pub async fn wait(&self) {
        let notified = self.notify.notified(); // registered before the check
        if !self.started.get() {
            notified.await;
        }
    }
}

/// Connections that finished within the grace period, and those cut at its end.
#[derive(Debug, PartialEq, Eq)]
pub struct Report {
    pub drained: usize,
    pub aborted: usize,
}

/// Accepts until `shutdown` triggers, then drains the connections for at
/// most `grace`; dropping the `JoinSet` aborts the ones left.
pub async fn serve(listener: TcpListener, shutdown: Rc<Shutdown>, grace: Duration) -> Report {
    let mut connections = JoinSet::new();
    loop {
        ember::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(handle(stream, shutdown.clone()));
                }
                Err(e) => eprintln!("accept failed: {e}"),
            },
            () = shutdown.wait() => break,
        }
        while connections.try_join_next().is_some() {} // reap the finished ones
    }
    drop(listener); // new connections are refused from here on
    let mut drained = 0;
    let drain = async {
        while connections.join_next().await.is_some() {
            drained += 1;
        }
    };
    let _ = ember::time::timeout(grace, drain).await;
    Report {
        drained,
        aborted: connections.len(),
    }
}

/// Serves one connection: every complete line is a request, answered in full
/// even if shutdown starts meanwhile; between requests, shutdown closes it.
async fn handle(mut stream: TcpStream, shutdown: Rc<Shutdown>) -> std::io::Result<()> {
    let mut pending = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let reply = respond(String::from_utf8_lossy(&line).trim(), &shutdown).await;
            stream.write_all(reply.as_bytes()).await?;
        }
        if shutdown.started.get() {
            return Ok(());
        }
        // `read` is cancel safe: if shutdown wins, no byte was consumed.
        let n = ember::select! {
            n = stream.read(&mut chunk) => n?,
            () = shutdown.wait() => 0,
        };
        if n == 0 {
            return Ok(());
        }
        pending.extend_from_slice(&chunk[..n]);
    }
}

/// `work MS` sleeps MS ms, then answers `done MS`; `shutdown` triggers it.
async fn respond(request: &str, shutdown: &Shutdown) -> String {
    if let Some(ms) = request.strip_prefix("work ").and_then(|ms| ms.parse().ok()) {
        ember::time::sleep(Duration::from_millis(ms)).await;
        return format!("done {ms}\n");
    }
    if request == "shutdown" {
        shutdown.trigger();
        return "bye\n".to_string();
    }
    format!("{request}\n")
}
