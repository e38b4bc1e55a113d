//! Echo server on tokio's single-threaded (`current_thread`) runtime with an
//! idle timeout: the plain `echo_tokio`, but every `read` runs inside
//! `tokio::time::timeout(30 s, ..)`. The timeout never fires in the
//! benchmark: what it measures is the cost of arming and cancelling a timer
//! on every read.
//!
//! Usage: `echo_tokio_timed [ADDR]` (default 127.0.0.1:7000).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use ember_bench::server::{self, BUF_SIZE};

/// How long a connection may stay silent before the server drops it.
const IDLE: Duration = Duration::from_secs(30);

fn main() -> std::io::Result<()> {
    let addr = server::listen_addr();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
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
        let n = match timeout(IDLE, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}
