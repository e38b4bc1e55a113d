//! HTTP/1.1 plaintext server on tokio's single-threaded (`current_thread`)
//! runtime, one `tokio::spawn`ed task per connection. Request handling is
//! `ember_bench::http`, shared by every `http_*` server.
//!
//! Usage: `http_tokio [ADDR]` (default 127.0.0.1:7000).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use ember_bench::http::{self, BUF_SIZE};
use ember_bench::server;

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
            tokio::spawn(serve(stream));
        }
    })
}

async fn serve(mut stream: TcpStream) {
    let (mut buf, mut filled) = (vec![0u8; BUF_SIZE], 0);
    let mut out = Vec::with_capacity(BUF_SIZE);
    loop {
        let n = match stream.read(&mut buf[filled..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        filled += n;
        let answered = http::answer(&buf[..filled], &mut out);
        if stream.write_all(&out).await.is_err() || answered.close {
            break;
        }
        out.clear();
        buf.copy_within(answered.consumed..filled, 0);
        filled -= answered.consumed;
    }
}
