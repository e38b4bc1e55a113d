//! The baseline of the build-time and binary-size benchmark: the echo
//! server on `std` alone (a thread per connection), no dependency. What a
//! runtime adds to a binary is its echo server's size minus this one's.
//! `bench/suite.py` builds it like `echo_ember.rs` and `echo_tokio.rs`.

use std::io::{Read, Write};
use std::net::TcpListener;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1);
    let addr = addr.as_deref().unwrap_or("127.0.0.1:7000");
    let listener = TcpListener::bind(addr)?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (mut stream, _peer) = listener.accept()?;
        stream.set_nodelay(true)?;
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            loop {
                let n = match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if stream.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
    }
}
