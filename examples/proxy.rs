//! A TCP proxy: every connection to LISTEN_ADDR is relayed to
//! UPSTREAM_ADDR, both ways, with `io::copy_bidirectional`. One task per
//! connection; a half-close (FIN) on either side is passed on.
//!
//! ```text
//! cargo run --release --example echo -- 127.0.0.1:7000     # an upstream to talk to
//! cargo run --release --example proxy -- 127.0.0.1:7001 127.0.0.1:7000
//! nc 127.0.0.1 7001                                        # type: the echo comes back through the proxy
//! ```
//!
//! `tests/io_copy_bidirectional.rs` runs [`serve`] with 32 MiB each way.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use ember::net::{TcpListener, TcpStream};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        eprintln!("usage: proxy LISTEN_ADDR UPSTREAM_ADDR");
        std::process::exit(2);
    };
    // Resolved once, before the loop starts (no name lookup per
    // connection); the first address it resolves to is used.
    let upstream = upstream.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "UPSTREAM_ADDR resolves to nothing",
        )
    })?;
    ember::block_on(async {
        let listener = TcpListener::bind(&listen)?;
        println!("listening on {}", listener.local_addr()?);
        serve(listener, upstream).await
    })
}

/// Accepts connections forever, relaying each to `upstream` in its own
/// task.
pub async fn serve(listener: TcpListener, upstream: SocketAddr) -> io::Result<()> {
    loop {
        match listener.accept().await {
            Ok((client, peer)) => {
                ember::spawn(async move {
                    if let Err(e) = relay(client, upstream).await {
                        eprintln!("{peer}: {e}");
                    }
                });
            }
            // Out of fds, for instance: report it; the next accept waits a
            // little before trying again.
            Err(e) => eprintln!("accept failed: {e}"),
        }
    }
}

/// Connects to `upstream` and pumps bytes both ways until both sides are
/// done; returns (client to upstream, upstream to client) byte counts.
pub async fn relay(mut client: TcpStream, upstream: SocketAddr) -> io::Result<(u64, u64)> {
    let mut server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    ember::io::copy_bidirectional(&mut client, &mut server).await
}
