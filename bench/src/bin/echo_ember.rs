//! Echo server on ember (this repository's runtime): `ember::block_on` on
//! the main thread, one `ember::spawn`ed task per connection.
//!
//! Usage: `echo_ember [ADDR]` (default 127.0.0.1:7000).
//! Needs the `ember` feature (on by default).

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::TcpListener;

use ember_bench::server::{self, BUF_SIZE};

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
