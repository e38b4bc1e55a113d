//! A tiny HTTP/1.1 client that checks an `http_*` server (or
//! `examples/hello_http`): used by `bench/smoke.sh`, so the smoke pass needs
//! no `wrk`.
//!
//! On each of `--conns` connections it sends `--requests` requests, one at
//! a time, then the same number again pipelined in batches of 8, and checks
//! that every response is `200` with the body `Hello, World!`. Then one
//! request with `Connection: close` must get its response and a closed
//! connection. Prints `ok: N responses` or exits 1 with the reason.
//!
//! Usage: `http_check --addr 127.0.0.1:7000 [--conns 4] [--requests 20]`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use ember_bench::args::Flags;

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
const GET_CLOSE: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";

fn main() {
    let result =
        Flags::parse(std::env::args().skip(1), &["addr", "conns", "requests"]).and_then(|flags| {
            let addr: SocketAddr = flags.get("addr")?.ok_or("--addr is required")?;
            let conns: usize = flags.get_or("conns", 4)?;
            let requests: usize = flags.get_or("requests", 20)?;
            (0..conns).try_fold(0, |total, _| Ok(total + check(addr, requests)?))
        });
    match result {
        Ok(total) => println!("ok: {total} responses"),
        Err(msg) => {
            eprintln!("http_check: FAILED: {msg}");
            std::process::exit(1);
        }
    }
}

/// Runs the checks on one connection; returns the responses received.
fn check(addr: SocketAddr, requests: usize) -> Result<usize, String> {
    let stream = connect(addr)?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut send = |bytes: &[u8]| writer.write_all(bytes).map_err(|e| format!("write: {e}"));
    for _ in 0..requests {
        send(GET)?;
        response(&mut reader)?;
    }
    for batch in (0..requests).collect::<Vec<_>>().chunks(8) {
        send(&GET.repeat(batch.len()))?;
        for _ in batch {
            response(&mut reader)?;
        }
    }
    send(GET_CLOSE)?;
    response(&mut reader)?;
    let mut rest = Vec::new();
    match reader.read_to_end(&mut rest) {
        Ok(_) if rest.is_empty() => Ok(2 * requests + 1),
        Ok(_) => Err(format!(
            "{} stray bytes after the last response",
            rest.len()
        )),
        Err(e) => Err(format!("after `Connection: close`: {e} instead of a close")),
    }
}

fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(addr) {
            Ok(stream) => {
                let timeout = Some(Duration::from_secs(10));
                stream
                    .set_read_timeout(timeout)
                    .map_err(|e| e.to_string())?;
                return Ok(stream);
            }
            Err(e) if Instant::now() > deadline => return Err(format!("connect {addr}: {e}")),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Reads one response and checks it is `200 OK` with `Hello, World!`.
fn response(reader: &mut impl BufRead) -> Result<(), String> {
    let mut length = None;
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return Err("connection closed before a response".into()),
            Ok(_) => {}
            Err(e) => return Err(format!("reading a response: {e}")),
        }
        if first && !line.starts_with("HTTP/1.1 200 ") {
            return Err(format!("status line {line:?}"));
        }
        first = false;
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let mut body = vec![0; length.ok_or("no Content-Length")?];
    reader
        .read_exact(&mut body)
        .map_err(|e| format!("body: {e}"))?;
    if body != b"Hello, World!" {
        return Err(format!("body {:?}", String::from_utf8_lossy(&body)));
    }
    Ok(())
}
