//! The HTTP/1.1 plaintext logic every `http_*` server shares: a tiny
//! request parser and the fixed `Hello, World!` response.
//!
//! Every server reads into a buffer, calls [`answer`] on the bytes it holds,
//! writes the responses it got back with one write, and keeps the unparsed
//! tail (a partial request) at the front of its buffer for the next read.
//! So a pipelined batch costs one `send`, and the only difference between
//! the servers is the runtime under them. This is the same parser as
//! `examples/hello_http.rs`, minus the comments that teach it.

/// The response to every request (no `Date` header: a benchmark shortcut).
pub const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/plain\r\n\
                           Content-Length: 13\r\n\r\nHello, World!";
const HELLO_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/plain\r\n\
                             Content-Length: 13\r\nConnection: close\r\n\r\nHello, World!";
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Read buffer size of every HTTP server: the largest request accepted.
pub const BUF_SIZE: usize = 8 * 1024;

/// What [`answer`] did with a buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Answered {
    /// Bytes of complete requests at the front of the buffer (answered).
    pub consumed: usize,
    /// Whether to close the connection once the responses are written.
    pub close: bool,
}

/// Appends to `out` a response for every complete request at the front of
/// `buf`. A bad request, or a partial one that already fills [`BUF_SIZE`],
/// gets a `400` and `close`.
pub fn answer(buf: &[u8], out: &mut Vec<u8>) -> Answered {
    let mut consumed = 0;
    loop {
        match parse(&buf[consumed..]) {
            Parsed::Complete { len, close } => {
                out.extend_from_slice(if close { HELLO_CLOSE } else { HELLO });
                consumed += len;
                if close {
                    return Answered { consumed, close };
                }
            }
            Parsed::Partial if buf.len() - consumed < BUF_SIZE => {
                return Answered {
                    consumed,
                    close: false,
                }
            }
            Parsed::Partial | Parsed::Invalid => {
                out.extend_from_slice(BAD_REQUEST);
                return Answered {
                    consumed,
                    close: true,
                };
            }
        }
    }
}

enum Parsed {
    Complete { len: usize, close: bool },
    Partial,
    Invalid,
}

/// Index just past the `\r\n\r\n` that ends the request head, if any.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = buf[from..].iter().position(|&b| b == b'\n') {
        let nl = from + i;
        if nl >= 3 && &buf[nl - 3..=nl] == b"\r\n\r\n" {
            return Some(nl + 1);
        }
        from = nl + 1;
    }
    None
}

fn parse(buf: &[u8]) -> Parsed {
    let Some(end) = head_end(buf) else {
        return Parsed::Partial;
    };
    let Ok(head) = std::str::from_utf8(&buf[..end - 4]) else {
        return Parsed::Invalid;
    };
    let mut lines = head.split("\r\n");
    let mut close = match lines.next().unwrap_or_default().rsplit(' ').next() {
        Some("HTTP/1.1") => false,
        Some("HTTP/1.0") => true,
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
    if buf.len() < end + body {
        return Parsed::Partial;
    }
    Parsed::Complete {
        len: end + body,
        close,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    fn run(buf: &[u8]) -> (Answered, usize) {
        let mut out = Vec::new();
        let answered = answer(buf, &mut out);
        let responses = out.windows(8).filter(|w| w == b"HTTP/1.1").count();
        (answered, responses)
    }

    #[test]
    fn answers_every_complete_request_and_keeps_the_partial_one() {
        let batch = [GET, GET, &GET[..10]].concat();
        let (answered, responses) = run(&batch);
        assert_eq!(responses, 2);
        assert_eq!(answered.consumed, 2 * GET.len());
        assert!(!answered.close);
        assert_eq!(run(&GET[..GET.len() - 1]).1, 0);
    }

    #[test]
    fn bodies_are_skipped_and_close_stops_the_batch() {
        let post = b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        let close = b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
        let batch = [&post[..], close, GET].concat();
        let (answered, responses) = run(&batch);
        assert_eq!(responses, 2);
        assert_eq!(answered.consumed, post.len() + close.len());
        assert!(answered.close);
        // A body not all there yet is a partial request.
        assert_eq!(run(&post[..post.len() - 1]).0.consumed, 0);
    }

    #[test]
    fn bad_or_oversized_requests_get_400_and_close() {
        for bad in [
            &b"nonsense\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nnocolon\r\n\r\n",
        ] {
            let mut out = Vec::new();
            assert!(answer(bad, &mut out).close);
            assert!(out.starts_with(b"HTTP/1.1 400"));
        }
        let huge = vec![b'a'; BUF_SIZE];
        assert!(run(&huge).0.close);
    }
}
