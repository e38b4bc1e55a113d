//! Echo server on `std::net` with one OS thread per connection (blocking I/O).
//!
//! Usage: `echo_threads [ADDR]` (default 127.0.0.1:7000).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use ember_bench::server::{self, BUF_SIZE};

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind(server::listen_addr())?;
    server::announce(listener.local_addr()?);
    loop {
        let (stream, _peer) = listener.accept()?;
        stream.set_nodelay(true)?;
        std::thread::spawn(move || echo(stream));
    }
}

fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).is_err() {
            break;
        }
    }
}
