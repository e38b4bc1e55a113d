//! RESP, the Redis protocol: parsing the commands a client sends, and
//! encoding the replies. No I/O here: `main.rs` hands [`parse`] the bytes it
//! has read so far, and the encoders append to the buffer it writes once.
//!
//! A command is an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`)
//! or, in the "inline" form telnet users type, words on one line
//! (`GET k\r\n`). Every length is checked against the limits below before
//! it is used, so malformed input gives an `Err`, never a panic.

/// Longest header or inline line: `*<count>`, `$<len>`, or `PING`.
const MAX_LINE: usize = 64 * 1024;
/// Largest bulk string (Redis allows 512 MiB; a mini server does not).
const MAX_BULK: usize = 16 * 1024 * 1024;
/// Most arguments in one command (the biggest we need is `SET k v PX ms`,
/// but `DEL` takes any number of keys).
const MAX_ARGS: usize = 64 * 1024;
/// Largest command, all arguments together.
pub const MAX_FRAME: usize = 2 * MAX_BULK;

/// A command's arguments (borrowed from the read buffer) and its length in bytes.
pub type Command<'a> = (Vec<&'a [u8]>, usize);

/// Parses the command at the front of `buf`: `None` if it is not all there
/// yet, `Err` if it is malformed.
pub fn parse(buf: &[u8]) -> Result<Option<Command<'_>>, &'static str> {
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
pub fn number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
}

pub fn bulk(out: &mut Vec<u8>, value: &[u8]) {
    out.extend_from_slice(format!("${}\r\n", value.len()).as_bytes());
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

pub fn integer(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(format!(":{n}\r\n").as_bytes());
}

pub fn error(out: &mut Vec<u8>, message: &str) {
    out.extend_from_slice(format!("-ERR {message}\r\n").as_bytes());
}
