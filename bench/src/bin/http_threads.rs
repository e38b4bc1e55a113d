//! HTTP/1.1 plaintext server on `std::net` with one OS thread per
//! connection (blocking I/O). Request handling is `ember_bench::http`.
//!
//! Usage: `http_threads [ADDR]` (default 127.0.0.1:7000).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use ember_bench::http::{self, BUF_SIZE};
use ember_bench::server;

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind(server::listen_addr())?;
    server::announce(listener.local_addr()?);
    loop {
        let (stream, _peer) = listener.accept()?;
        stream.set_nodelay(true)?;
        std::thread::spawn(move || serve(stream));
    }
}

fn serve(mut stream: TcpStream) {
    let (mut buf, mut filled) = (vec![0u8; BUF_SIZE], 0);
    let mut out = Vec::with_capacity(BUF_SIZE);
    loop {
        let n = match stream.read(&mut buf[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        filled += n;
        let answered = http::answer(&buf[..filled], &mut out);
        if stream.write_all(&out).is_err() || answered.close {
            break;
        }
        out.clear();
        buf.copy_within(answered.consumed..filled, 0);
        filled -= answered.consumed;
    }
}
