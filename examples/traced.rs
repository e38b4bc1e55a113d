//! A tiny program to watch ember work: one server task, one client, one
//! timer, one wake from another thread. `docs/guide.md` walks through its
//! trace line by line.
//!
//! ```text
//! EMBER_TRACE=1 cargo run --example traced
//! ```

use std::io;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};

fn main() -> io::Result<()> {
    ember::block_on(async {
        // A server task that answers one message.
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let server = ember::spawn(async move {
            let (mut stream, _peer) = listener.accept().await?;
            let mut buf = [0u8; 64];
            let n = stream.read(&mut buf).await?;
            stream.write_all(&buf[..n]).await?;
            Ok::<(), io::Error>(())
        });

        // The client, in the `block_on` future itself.
        let mut client = TcpStream::connect(addr).await?;
        client.write_all(b"ping").await?;
        let mut reply = [0u8; 4];
        client.read_exact(&mut reply).await?;
        server.await??;

        // A timer.
        ember::time::sleep(Duration::from_millis(2)).await;

        // A wake from another thread: the loop sleeps in epoll_wait until
        // the blocking pool's result arrives through the remote queue and
        // the eventfd.
        let answer = ember::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(5));
            42
        })
        .await?;

        println!(
            "reply: {}, answer: {answer}",
            String::from_utf8_lossy(&reply)
        );
        Ok(())
    })
}
