//! The echo server of the build-time and binary-size benchmark, on ember.
//! `bench/suite.py` copies this file into a fresh crate (ember as its only
//! dependency, with `default-features = false` and the `net` and `io-util`
//! features: all this server uses, as tokio gets `rt`, `net` and
//! `io-util`), builds it in release mode from clean, and strips it.
//! It is `bench/src/bin/echo_ember.rs` without the bench crate's helpers.

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::TcpListener;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1);
    let addr = addr.as_deref().unwrap_or("127.0.0.1:7000");
    ember::block_on(async {
        let listener = TcpListener::bind(addr)?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            let (mut stream, _peer) = listener.accept().await?;
            stream.set_nodelay(true)?;
            ember::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    let n = match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    })
}
