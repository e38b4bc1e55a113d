//! Runs one command against the key space and appends its reply: the
//! dispatch from a command's name and argument count to what it does.
//!
//! Called by `main.rs` for each command `resp::parse`
//! returns, with the key space borrowed for just this call. The replies,
//! errors included, follow Redis's closely enough that `redis-cli` and
//! `redis-benchmark` run against this server unchanged.

use std::collections::HashMap;
use std::time::Duration;

use ember::time::Instant;

use super::db::Entry;
use super::resp::{bulk, error, integer, number};

/// Runs one command and appends its reply to `out`.
pub fn execute(args: &[&[u8]], db: &mut HashMap<Vec<u8>, Entry>, out: &mut Vec<u8>) {
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
