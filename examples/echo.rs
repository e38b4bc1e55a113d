//! An echo server: every byte a client sends comes back. One task per
//! connection.
//!
//! ```text
//! cargo run --release --example echo              # listens on 127.0.0.1:7000
//! cargo run --release --example echo -- 0.0.0.0:9000
//! nc 127.0.0.1 7000                               # in another terminal: type, read it back
//! ```

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".to_string());
    ember::block_on(async {
        let listener = TcpListener::bind(&addr)?;
        println!("listening on {}", listener.local_addr()?);
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    ember::spawn(echo(stream));
                }
                // Out of fds, for instance: the error is reported and the
                // next accept waits a little before trying again.
                Err(e) => eprintln!("accept failed: {e}"),
            }
        }
    })
}

async fn echo(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return, // end of stream, or the peer reset
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
