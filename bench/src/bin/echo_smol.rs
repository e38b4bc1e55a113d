//! Echo server on smol with a single-threaded executor: a `LocalExecutor`
//! driven by `smol::block_on` on the main thread, one task per connection.
//!
//! (smol's reactor, async-io, may also start its idle "async-io" fallback
//! thread; the executor and all I/O run on the main thread.)
//!
//! Usage: `echo_smol [ADDR]` (default 127.0.0.1:7000).

use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::{TcpListener, TcpStream};
use smol::LocalExecutor;

use ember_bench::server::{self, BUF_SIZE};

fn main() -> std::io::Result<()> {
    let addr = server::listen_addr();
    let executor = LocalExecutor::new();
    smol::block_on(executor.run(async {
        let listener = TcpListener::bind(addr).await?;
        server::announce(listener.local_addr()?);
        loop {
            let (stream, _peer) = listener.accept().await?;
            stream.set_nodelay(true)?;
            executor.spawn(echo(stream)).detach();
        }
    }))
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
