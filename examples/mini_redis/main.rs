//! A small Redis: the RESP protocol, one task per connection, and a key
//! space shared by all of them in an `Rc<RefCell<..>>` (one thread, so no
//! lock). Commands: `PING`, `ECHO`, `GET`, `SET` (with `EX`/`PX`), `DEL`,
//! `INCR`, `EXPIRE`, `TTL`.
//!
//! ```text
//! cargo run --release --example mini_redis              # listens on 127.0.0.1:7000
//! redis-cli -p 7000 set greeting hello ex 60            # in another terminal
//! redis-cli -p 7000 get greeting
//! redis-benchmark -p 7000 -t ping,set,get,incr -q       # add -P 16 to pipeline
//! ```
//!
//! This file is the server: the accept loop and the connection task.
//! Beside it, `resp.rs` parses and encodes the protocol, `command.rs` runs
//! one command, and `db.rs` holds the keys and expires them.
//!
//! Each connection reads into a buffer, runs *every* complete command in it
//! and answers them all with one write, so pipelined batches cost one
//! `send`. A partial command stays in the buffer until the next read.
//! Malformed input (a bad length, a missing CRLF, a frame past the limits)
//! gets `-ERR Protocol error: ...` and the connection is closed, as Redis
//! does.

// The modules name each other as `super::resp` and so on, never
// `crate::resp`: tests/example_mini_redis.rs compiles this file as a module
// of the test, where `crate` is the test. (`mod resp;` finds resp.rs beside
// this file either way: a file loaded with `#[path]` owns its directory.)
mod command;
mod db;
mod resp;

use std::io;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};

use db::Db;
use resp::{error, parse, MAX_FRAME};

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
    let db = Db::default();
    ember::spawn(db::sweep(db.clone()));
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                ember::spawn(connection(stream, db.clone()));
            }
            Err(e) => eprintln!("accept failed: {e}"), // e.g. out of fds; retried
        }
    }
}

async fn connection(mut stream: TcpStream, db: Db) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let (mut buf, mut filled) = (vec![0u8; 16 * 1024], 0);
    let mut out = Vec::new();
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0); // a command bigger than the buffer
        }
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(()); // the client closed (a partial command is dropped)
        }
        filled += n;
        // Run every complete command in the buffer, then write once.
        let mut start = 0;
        let failed = loop {
            match parse(&buf[start..filled]) {
                Ok(Some((args, len))) => {
                    start += len;
                    if !args.is_empty() {
                        command::execute(&args, &mut db.borrow_mut(), &mut out);
                    }
                }
                Ok(None) if filled - start <= MAX_FRAME => break false,
                Ok(None) => {
                    error(&mut out, "Protocol error: command too big");
                    break true;
                }
                Err(why) => {
                    error(&mut out, &format!("Protocol error: {why}"));
                    break true;
                }
            }
        };
        stream.write_all(&out).await?;
        out.clear();
        if failed {
            return Ok(()); // dropping the stream closes it
        }
        // Keep the partial command's bytes at the front for the next read.
        buf.copy_within(start..filled, 0);
        filled -= start;
    }
}
