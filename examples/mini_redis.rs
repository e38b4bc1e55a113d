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
//! Each connection reads into a buffer, runs *every* complete command in it
//! and answers them all with one write, so pipelined batches cost one
//! `send`. A partial command stays in the buffer until the next read.
//! Malformed input (a bad length, a missing CRLF, a frame past the limits)
//! gets `-ERR Protocol error: ...` and the connection is closed, as Redis
//! does. Expired keys are deleted when touched, and once a second a sweep
//! drops the ones nobody touches. Commands written as plain lines
//! (`PING\r\n`, the "inline" form telnet users type) work too.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use ember::time::Instant;

/// Longest header or inline line: `*<count>`, `$<len>`, or `PING`.
const MAX_LINE: usize = 64 * 1024;
/// Largest bulk string (Redis allows 512 MiB; a mini server does not).
const MAX_BULK: usize = 16 * 1024 * 1024;
/// Most arguments in one command (the biggest we need is `SET k v PX ms`,
/// but `DEL` takes any number of keys).
const MAX_ARGS: usize = 64 * 1024;
/// Largest command, all arguments together.
const MAX_FRAME: usize = 2 * MAX_BULK;

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1);
    let addr = addr.as_deref().unwrap_or("127.0.0.1:7000");
    ember::block_on(async {
        let listener = TcpListener::bind(addr)?;
        println!("listening on {}", listener.local_addr()?);
        serve(listener).await
    })
}

/// The key space. Shared by every connection's task; borrowed only inside
/// [`execute`], which never awaits, so no borrow is held across an `.await`.
type Db = Rc<RefCell<HashMap<Vec<u8>, Entry>>>;

struct Entry {
    value: Vec<u8>,
    /// When the key expires (`None`: never).
    expires: Option<Instant>,
}

impl Entry {
    fn is_live(&self, now: Instant) -> bool {
        self.expires.is_none_or(|at| at > now)
    }
}

/// Accepts connections forever, one task each. (Tests call this directly.)
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let db = Db::default();
    ember::spawn(sweep(db.clone()));
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                ember::spawn(connection(stream, db.clone()));
            }
            Err(e) => eprintln!("accept failed: {e}"), // e.g. out of fds; retried
        }
    }
}

/// Once a second, deletes the expired keys that nobody has touched.
async fn sweep(db: Db) {
    loop {
        ember::time::sleep(Duration::from_secs(1)).await;
        let now = Instant::now();
        db.borrow_mut().retain(|_, entry| entry.is_live(now));
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
                        execute(&args, &mut db.borrow_mut(), &mut out);
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

/// A command's arguments (borrowed from the read buffer) and its length in bytes.
type Command<'a> = (Vec<&'a [u8]>, usize);

/// Parses the command at the front of `buf`: `None` if it is not all there
/// yet, `Err` if it is malformed.
fn parse(buf: &[u8]) -> Result<Option<Command<'_>>, &'static str> {
    let Some((first, mut pos)) = line(buf, 0)? else {
        return Ok(None);
    };
    let Some(count) = first.strip_prefix(b"*") else {
        // Inline form: space-separated words on one line.
        let words = first.split(|b| b.is_ascii_whitespace());
        return Ok(Some((words.filter(|w| !w.is_empty()).collect(), pos)));
    };
    let count = number(count)
        .filter(|&n| n <= MAX_ARGS as u64)
        .ok_or("invalid multibulk length")?;
    let mut args = Vec::with_capacity(count.min(16) as usize);
    for _ in 0..count {
        let Some((header, start)) = line(buf, pos)? else {
            return Ok(None);
        };
        let len = header
            .strip_prefix(b"$")
            .ok_or("expected '$'")
            .map(number)?
            .filter(|&n| n <= MAX_BULK as u64)
            .ok_or("invalid bulk length")? as usize;
        let end = start + len;
        if buf.len() < end + 2 {
            return Ok(None);
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Err("expected CRLF after bulk string");
        }
        args.push(&buf[start..end]);
        pos = end + 2;
    }
    Ok(Some((args, pos)))
}

/// The line starting at `at` (without its `\r\n`, or a bare `\n` as Redis
/// allows) and where the next begins.
fn line(buf: &[u8], at: usize) -> Result<Option<(&[u8], usize)>, &'static str> {
    let rest = &buf[at..buf.len().min(at + MAX_LINE + 2)];
    match rest.iter().position(|&b| b == b'\n') {
        Some(end) => Ok(Some((
            rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]),
            at + end + 1,
        ))),
        None if rest.len() <= MAX_LINE => Ok(None),
        None => Err("line too long"),
    }
}

/// A non-negative decimal number, as RESP lengths and our arguments use.
fn number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
}

/// Runs one command and appends its reply to `out`.
fn execute(args: &[&[u8]], db: &mut HashMap<Vec<u8>, Entry>, out: &mut Vec<u8>) {
    let name = args[0].to_ascii_uppercase();
    let now = Instant::now();
    // Lazy expiry: an expired key is deleted when a command touches it.
    if let Some(key) = args.get(1) {
        if db.get(*key).is_some_and(|e| !e.is_live(now)) {
            db.remove(*key);
        }
    }
    match (&name[..], args.len()) {
        (b"PING", 1) => out.extend_from_slice(b"+PONG\r\n"),
        (b"PING" | b"ECHO", 2) => bulk(out, args[1]),
        (b"GET", 2) => match db.get(args[1]) {
            Some(entry) => bulk(out, &entry.value),
            None => out.extend_from_slice(b"$-1\r\n"),
        },
        (b"SET", 3 | 5) => {
            let expires = match args {
                [_, _, _, unit, amount] => match expiry(unit, amount, now) {
                    Ok(at) => Some(at),
                    Err(why) => return error(out, why),
                },
                _ => None,
            };
            let value = args[2].to_vec();
            db.insert(args[1].to_vec(), Entry { value, expires });
            out.extend_from_slice(b"+OK\r\n");
        }
        (b"DEL", 2..) => {
            let removed = args[1..].iter().filter_map(|k| db.remove(*k));
            let removed = removed.filter(|entry| entry.is_live(now));
            integer(out, removed.count() as i64);
        }
        (b"INCR", 2) => {
            let entry = db.entry(args[1].to_vec()).or_insert(Entry {
                value: b"0".to_vec(),
                expires: None,
            });
            let old = std::str::from_utf8(&entry.value).ok();
            match old.and_then(|s| s.parse::<i64>().ok()?.checked_add(1)) {
                Some(new) => {
                    entry.value = new.to_string().into_bytes(); // keeps the TTL, as Redis does
                    integer(out, new);
                }
                None => error(out, "value is not an integer or out of range"),
            }
        }
        (b"EXPIRE", 3) => match (db.get_mut(args[1]), expiry(b"EX", args[2], now)) {
            (None, _) => integer(out, 0),
            (Some(entry), Ok(at)) => {
                entry.expires = Some(at);
                integer(out, 1);
            }
            (Some(_), Err(why)) => error(out, why),
        },
        (b"TTL", 2) => match db.get(args[1]).map(|e| e.expires) {
            None => integer(out, -2),
            Some(None) => integer(out, -1),
            // Rounded to the nearest second, as Redis does.
            Some(Some(at)) => integer(out, ((at - now).as_millis() as i64 + 500) / 1000),
        },
        // redis-benchmark asks `CONFIG GET save` and `CONFIG GET appendonly`
        // on start-up (and warns unless it gets a name and a value), and
        // redis-cli asks `COMMAND DOCS`. Empty answers say "nothing to know".
        (b"CONFIG", 3) if args[1].eq_ignore_ascii_case(b"GET") => {
            out.extend_from_slice(b"*2\r\n");
            bulk(out, args[2]);
            bulk(out, b"");
        }
        (b"COMMAND", _) => out.extend_from_slice(b"*0\r\n"),
        (b"PING" | b"ECHO" | b"GET" | b"SET" | b"DEL" | b"INCR" | b"EXPIRE" | b"TTL", _) => {
            let name = String::from_utf8_lossy(args[0]).to_lowercase();
            error(
                out,
                &format!("wrong number of arguments for '{name}' command"),
            );
        }
        _ => {
            let name = String::from_utf8_lossy(&args[0][..args[0].len().min(64)]);
            error(out, &format!("unknown command '{name}'"));
        }
    }
}

/// The deadline `amount` seconds (`EX`) or milliseconds (`PX`) from `now`.
fn expiry(unit: &[u8], amount: &[u8], now: Instant) -> Result<Instant, &'static str> {
    let amount = number(amount).filter(|&n| n > 0);
    let duration = match unit.to_ascii_uppercase().as_slice() {
        b"EX" => amount.map(Duration::from_secs),
        b"PX" => amount.map(Duration::from_millis),
        _ => return Err("syntax error"),
    };
    duration
        .and_then(|d| now.checked_add(d))
        .ok_or("invalid expire time")
}

fn bulk(out: &mut Vec<u8>, value: &[u8]) {
    out.extend_from_slice(format!("${}\r\n", value.len()).as_bytes());
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn integer(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(format!(":{n}\r\n").as_bytes());
}

fn error(out: &mut Vec<u8>, message: &str) {
    out.extend_from_slice(format!("-ERR {message}\r\n").as_bytes());
}
