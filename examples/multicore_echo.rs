//! The echo server on every core: N threads, each with its own ember
//! runtime and its own `SO_REUSEPORT` listener on the same port; the
//! kernel spreads new connections across the listeners, and a connection
//! stays on the thread that accepted it. Nothing is shared between the
//! threads: no queue, no lock, no task ever moves. Ctrl-C stops them all.
//! (The pattern, and what it gives up, is in `docs/multicore.md`.)
//!
//! ```text
//! cargo run --release --example multicore_echo                    # 127.0.0.1:7000, one thread per CPU
//! cargo run --release --example multicore_echo -- 127.0.0.1:7000 2
//! cargo run --release --example multicore_echo -- 127.0.0.1:7000 2 --pin   # thread i on CPU i
//! nc 127.0.0.1 7000                                               # type, read it back
//! ```

use std::future::{poll_fn, Future as _};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::mpsc;
use std::task::Poll;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpSocket, TcpStream};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:7000".to_string())
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("ADDR: {e}")))?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = match args.next() {
        Some(n) => n
            .parse()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("THREADS: {e}")))?,
        None => cpus,
    };
    let pin = args.next().as_deref() == Some("--pin");

    // Bind every socket here, so that a bad address fails before any
    // thread starts. Port 0 would give each socket a port of its own: the
    // first one binds, and the others take the port it got.
    let first = reuseport_socket(addr)?;
    let addr = first.local_addr()?;
    let mut sockets = vec![first];
    for _ in 1..threads.max(1) {
        sockets.push(reuseport_socket(addr)?);
    }

    // Each thread reports once it listens (and catches Ctrl-C), or why not.
    let (report, reports) = mpsc::channel();
    let workers: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, socket)| {
            let report = report.clone();
            std::thread::spawn(move || worker(socket, pin.then_some(i % cpus), report))
        })
        .collect();
    drop(report);
    for started in reports.iter().take(workers.len()) {
        started?;
    }
    println!("listening on {addr}");

    for worker in workers {
        worker
            .join()
            .map_err(|_| io::Error::other("a worker thread panicked"))?;
    }
    // An error that stopped a thread after it started.
    reports.try_iter().try_for_each(|r| r)
}

/// A TCP socket bound to `addr` with `SO_REUSEPORT` (and `SO_REUSEADDR`,
/// as `TcpListener::bind` sets it), not yet listening.
fn reuseport_socket(addr: SocketAddr) -> io::Result<TcpSocket> {
    let socket = if addr.is_ipv6() {
        TcpSocket::new_v6()?
    } else {
        TcpSocket::new_v4()?
    };
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

/// One thread: pinned to `cpu` if asked, its own runtime and listener,
/// until Ctrl-C. Sends `Ok` on `report` once it accepts (and catches
/// Ctrl-C), or the error that stopped it.
fn worker(socket: TcpSocket, cpu: Option<usize>, report: mpsc::Sender<io::Result<()>>) {
    let run = || {
        if let Some(cpu) = cpu {
            ember::runtime::pin_to_cpu(cpu)?;
        }
        // Dropping the runtime at the end drops this thread's connections.
        ember::Runtime::new()?.block_on(async {
            let listener = socket.listen(1024)?;
            // Ctrl-C is caught from the first poll of `ctrl_c()` on: poll
            // it once before reporting, so that none arrives uncaught.
            let mut ctrl_c = pin!(ember::signal::ctrl_c());
            if poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx)))
                .await
                .is_ready()
            {
                return Ok(());
            }
            let _ = report.send(Ok(()));
            ember::select! {
                _ = serve(&listener) => Ok(()),
                stopped = &mut ctrl_c => stopped,
            }
        })
    };
    if let Err(e) = run() {
        let _ = report.send(Err(e));
    }
}

async fn serve(listener: &TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                ember::spawn(echo(stream));
            }
            Err(e) => eprintln!("accept failed: {e}"),
        }
    }
}

async fn echo(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
