//! A line client, the other half of `echo`: connects with a timeout (a
//! non-blocking connect under `ember::time::timeout`), sends one line and
//! prints the reply. A refused or timed-out connection is one clear line on
//! stderr and exit status 1.
//!
//! ```text
//! cargo run --release --example echo                         # in one terminal
//! cargo run --release --example client                       # 127.0.0.1:7000, sends "hello"
//! cargo run --release --example client -- 127.0.0.1:7000 "any line at all"
//! cargo run --release --example client -- 127.0.0.1:1       # refused: exit status 1
//! ```
//!
//! To watch the connect time out, make a listener whose accept queue is full
//! (backlog 0, one connection never accepted: Linux then drops new SYNs):
//!
//! ```text
//! python3 -c "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 7001)); \
//!     s.listen(0); c = socket.create_connection(('127.0.0.1', 7001)); time.sleep(60)" &
//! cargo run --release --example client -- 127.0.0.1:7001    # times out after 3 s: exit status 1
//! ```
//!
//! Usage: `client [ADDR] [LINE]` (defaults `127.0.0.1:7000` and `hello`).

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::TcpStream;
use ember::time::timeout;

/// How long the connect may take, and then how long the reply may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REPLY_TIMEOUT: Duration = Duration::from_secs(3);

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7000".to_string());
    let line = args.next().unwrap_or_else(|| "hello".to_string());
    match ember::block_on(exchange(&addr, &line)) {
        Ok(reply) => {
            println!("{reply}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("client: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Connects to `addr`, sends `line` and a newline, returns the reply line.
/// Errors come back as the one line to show the user.
async fn exchange(addr: &str, line: &str) -> Result<String, String> {
    let mut stream = match timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
            return Err(format!(
                "{addr} refused the connection (is the server running?)"
            ))
        }
        Ok(Err(e)) => return Err(format!("cannot connect to {addr}: {e}")),
        Err(_elapsed) => {
            return Err(format!(
                "no answer from {addr} within {CONNECT_TIMEOUT:?}: connect timed out"
            ))
        }
    };
    let request = format!("{line}\n");
    let reply = timeout(REPLY_TIMEOUT, async {
        stream.write_all(request.as_bytes()).await?;
        read_line(&mut stream).await
    })
    .await;
    match reply {
        Ok(Ok(Some(reply))) => Ok(reply),
        Ok(Ok(None)) => Err(format!("{addr} closed the connection without replying")),
        Ok(Err(e)) => Err(format!("talking to {addr}: {e}")),
        Err(_elapsed) => Err(format!("no reply from {addr} within {REPLY_TIMEOUT:?}")),
    }
}

/// Reads up to the first newline (or the end of the stream); `None` if the
/// peer closed without sending anything.
async fn read_line(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&buf[..n]);
        if let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            bytes.truncate(end);
            break;
        }
    }
    if bytes.is_empty() {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}
