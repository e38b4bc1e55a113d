//! Echo server on ember with an idle timeout: the plain `echo_ember`, but
//! every `read` runs inside `ember::time::timeout(30 s, ..)`, the shape of
//! a real server that drops idle clients. The timeout never fires in the
//! benchmark: what it measures is the cost of arming and cancelling a timer
//! on every read.
//!
//! Usage: `echo_ember_timed [ADDR]` (default 127.0.0.1:7000).
//! Needs the `ember` feature (on by default).

use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::TcpListener;
use ember::time::timeout;

use ember_bench::server::{self, BUF_SIZE};

/// How long a connection may stay silent before the server drops it.
const IDLE: Duration = Duration::from_secs(30);

fn main() -> std::io::Result<()> {
    let addr = server::listen_addr();
    ember::block_on(async {
        let listener = TcpListener::bind(addr)?;
        server::announce(listener.local_addr()?);
        loop {
            let (mut stream, _peer) = listener.accept().await?;
            stream.set_nodelay(true)?;
            ember::spawn(async move {
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
            });
        }
    })
}
