//! A tiny `nc`: connects to a TCP address, sends everything it reads on
//! stdin, and prints everything the peer sends back. Works with stdin and
//! stdout on a terminal, in a pipe, or redirected from a file; never makes
//! the terminal non-blocking (ember's `stdin()`/`stdout()` run on the
//! blocking pool, see `src/io/stdio.rs`).
//!
//! ```text
//! cargo run --release --example echo                        # in one terminal
//! cargo run --release --example tcpcat -- 127.0.0.1:7000    # type lines; Ctrl-D ends
//! printf 'one\ntwo\n' | cargo run --release --example tcpcat -- 127.0.0.1:7000
//! cargo run --release --example tcpcat -- 127.0.0.1:7000 < Cargo.toml > copy.toml
//! ```
//!
//! Usage: `tcpcat ADDR`. At the end of stdin it shuts its sending half and
//! waits for the peer to finish; when the peer closes, it exits at once.
//! Exit status 1 (and one line on stderr) if the connection fails.

use std::io;
use std::process::ExitCode;

use ember::io::AsyncWriteExt;
use ember::net::TcpStream;

fn main() -> ExitCode {
    let Some(addr) = std::env::args().nth(1) else {
        eprintln!("usage: tcpcat ADDR");
        return ExitCode::FAILURE;
    };
    match ember::block_on(run(&addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcpcat: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(addr: &str) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    let (mut from_peer, mut to_peer) = stream.into_split();
    // Up: stdin to the socket, then a shutdown so the peer sees the end.
    let up = ember::spawn(async move {
        ember::io::copy(&mut ember::io::stdin(), &mut to_peer).await?;
        to_peer.close().await
    });
    // Down: the socket to stdout, until the peer closes.
    let mut stdout = ember::io::stdout();
    ember::io::copy(&mut from_peer, &mut stdout).await?;
    stdout.flush().await?;
    // The peer is done. A read of stdin may still be waiting on the
    // terminal: it is abandoned with the runtime (no need to wait for it).
    up.abort();
    match up.await {
        Ok(result) => result,
        Err(e) if e.is_cancelled() => Ok(()),
        Err(e) => Err(e.into()),
    }
}
