//! Echo server on tokio's multi-thread runtime (work stealing) with N
//! workers, one `tokio::spawn`ed task per connection: the comparison for
//! ember's thread-per-core `multicore_echo` in the scale-out benchmark.
//!
//! Usage: `echo_tokio_mt [ADDR] [WORKERS]` (default 127.0.0.1:7000, one
//! worker per CPU, as tokio's default).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use ember_bench::server::{self, BUF_SIZE};

fn main() -> std::io::Result<()> {
    let addr = server::listen_addr();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = std::env::args().nth(2) {
        let workers = workers.parse().map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("WORKERS: {e}"))
        })?;
        builder.worker_threads(workers);
    }
    let runtime = builder.enable_all().build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await?;
        server::announce(listener.local_addr()?);
        loop {
            let (stream, _peer) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tokio::spawn(echo(stream));
        }
    })
}

async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}
