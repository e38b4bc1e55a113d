//! An HTTP/1.1 server that answers every request with `Hello, World!`:
//! keep-alive and pipelining, one task per connection.
//!
//! ```text
//! cargo run --release --example hello_http             # listens on 127.0.0.1:7000
//! curl -i http://127.0.0.1:7000/                       # in another terminal
//! wrk -t1 -c16 -d10s http://127.0.0.1:7000/            # load (Debian package `wrk`)
//! ```
//!
//! Each connection reads into one buffer, answers *every* complete request
//! in it with a single write (so a pipelined batch costs one `send`), and
//! keeps a partial request's bytes for the next read. `Connection: close`
//! (or HTTP/1.0 without `keep-alive`) closes after the reply. Shortcuts:
//! no `Date` header, no chunked request bodies (they get `400`), and a
//! request head must fit in the 8 KiB buffer.

use std::io;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};

const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nServer: ember\r\nContent-Type: text/plain\r\n\
                       Content-Length: 13\r\n\r\nHello, World!";
const HELLO_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: ember\r\nContent-Type: text/plain\r\n\
                             Content-Length: 13\r\nConnection: close\r\n\r\nHello, World!";
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
/// Read buffer per connection, and so the largest request we accept.
const BUF_SIZE: usize = 8 * 1024;

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1);
    let addr = addr.as_deref().unwrap_or("127.0.0.1:7000");
    ember::block_on(async {
        let listener = TcpListener::bind(addr)?;
        println!("listening on {}", listener.local_addr()?);
        serve(listener).await
    })
}

/// Accepts connections forever, one task each. (Tests call this directly.)
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                ember::spawn(connection(stream));
            }
            Err(e) => eprintln!("accept failed: {e}"), // e.g. out of fds; retried
        }
    }
}

/// What the front of the read buffer holds.
enum Parsed {
    /// A whole request of `len` bytes (head and body).
    Complete {
        len: usize,
        close: bool,
    },
    Partial,
    Invalid,
}

async fn connection(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let (mut buf, mut filled) = (vec![0u8; BUF_SIZE], 0);
    let mut out = Vec::with_capacity(4 * HELLO.len());
    loop {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(()); // the client closed (a partial request is dropped)
        }
        filled += n;
        // Answer every complete request in the buffer, then write once.
        let (mut start, mut close) = (0, false);
        while !close {
            match parse(&buf[start..filled]) {
                Parsed::Complete { len, close: c } => {
                    out.extend_from_slice(if c { HELLO_CLOSE } else { HELLO });
                    (start, close) = (start + len, c);
                }
                Parsed::Partial if filled - start < BUF_SIZE => break,
                Parsed::Partial | Parsed::Invalid => {
                    out.extend_from_slice(BAD_REQUEST); // or too large for the buffer
                    close = true;
                }
            }
        }
        stream.write_all(&out).await?;
        out.clear();
        if close {
            return Ok(()); // dropping the stream closes it
        }
        // Keep the partial request's bytes at the front for the next read.
        buf.copy_within(start..filled, 0);
        filled -= start;
    }
}

/// Parses the request at the front of `buf`: its length, and whether the
/// connection closes after it.
fn parse(buf: &[u8]) -> Parsed {
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Parsed::Partial;
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_end]) else {
        return Parsed::Invalid;
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut close = match request_line.rsplit(' ').next() {
        Some("HTTP/1.1") => false,
        Some("HTTP/1.0") => true, // HTTP/1.0 closes unless it asks for keep-alive
        _ => return Parsed::Invalid,
    };
    let mut body = 0;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Parsed::Invalid;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            let keep_alive = value.eq_ignore_ascii_case("keep-alive");
            close = (close || value.eq_ignore_ascii_case("close")) && !keep_alive;
        } else if name.eq_ignore_ascii_case("content-length") {
            match value.parse::<usize>() {
                Ok(n) if n <= BUF_SIZE => body = n,
                _ => return Parsed::Invalid,
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Invalid;
        }
    }
    let len = head_end + 4 + body;
    if buf.len() < len {
        return Parsed::Partial;
    }
    Parsed::Complete { len, close }
}
