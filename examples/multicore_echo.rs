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

use std::future::Future as _;
use std::io;
use std::net::SocketAddr;
use std::sync::mpsc;

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

    // Each thread says when its runtime listens, and for Ctrl-C.
    let (ready_tx, ready_rx) = mpsc::channel();
    let workers: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, socket)| {
            let ready = ready_tx.clone();
            std::thread::spawn(move || worker(socket, pin.then_some(i % cpus), ready))
        })
        .collect();
    drop(ready_tx);
    for started in ready_rx.iter().take(workers.len()) {
        started?;
    }
    println!("listening on {addr}");

    for worker in workers {
        worker
            .join()
            .map_err(|_| io::Error::other("a worker thread panicked"))??;
    }
    Ok(())
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

/// One thread: pinned to `cpu` if asked, its own runtime, its own
/// listener, until Ctrl-C. Reports on `ready` once it accepts and
/// listens for Ctrl-C (or why it could not).
fn worker(
    socket: TcpSocket,
    cpu: Option<usize>,
    ready: mpsc::Sender<io::Result<()>>,
) -> io::Result<()> {
    let started = (|| {
        if let Some(cpu) = cpu {
            ember::runtime::pin_to_cpu(cpu)?;
        }
        ember::Runtime::new()
    })();
    let rt = match started {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(io::Error::new(e.kind(), e.to_string())));
            return Err(e);
        }
    };
    rt.block_on(async move {
        let listener = match socket.listen(1024) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = ready.send(Err(io::Error::new(e.kind(), e.to_string())));
                return Err(e);
            }
        };
        // Ctrl-C is caught from the first poll of `ctrl_c()` on; poll it
        // once before saying "ready", so that none arrives uncaught.
        let mut ctrl_c = std::pin::pin!(ember::signal::ctrl_c());
        let caught = std::future::poll_fn(|cx| std::task::Poll::Ready(ctrl_c.as_mut().poll(cx)));
        if caught.await.is_ready() {
            return Ok(());
        }
        let _ = ready.send(Ok(()));
        ember::select! {
            _ = serve(&listener) => Ok(()),
            stopped = &mut ctrl_c => stopped,
        }
    })
    // Dropping the runtime here drops this thread's connections.
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
