//! The `mini_redis` example (`examples/mini_redis/`) driven over loopback
//! by a small RESP client of our own, so `cargo test` needs no `redis-cli`.
//!
//! The example is compiled into this test (`#[path]` to its `main.rs`,
//! which brings in `resp.rs`, `command.rs` and `db.rs` from beside it): its
//! `serve` runs on an ember runtime in a background thread, and the clients
//! are plain blocking `std` sockets with read timeouts, so a server that
//! hangs makes a test fail instead of stalling CI.
#![cfg(all(feature = "net", feature = "io-util", feature = "time"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

#[allow(dead_code)] // `main` and friends are the binary's, not ours
#[path = "../examples/mini_redis/main.rs"]
mod mini_redis;

/// How long a client waits for a reply before the test fails.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// Starts mini_redis on a free loopback port, on its own thread and runtime.
fn start_server() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    std::thread::spawn(move || {
        ember::block_on(async move {
            let listener = ember::net::TcpListener::from_std(listener).expect("from_std");
            mini_redis::serve(listener).await
        })
    });
    addr
}

/// A reply, as RESP types it.
#[derive(Debug, PartialEq)]
enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

fn ok() -> Reply {
    Reply::Simple("OK".into())
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Some(s.as_bytes().to_vec()))
}

/// What a connection gave back when we expected a reply or its end.
#[derive(Debug, PartialEq)]
enum Outcome {
    Reply(Reply),
    Closed,
}

struct Client {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let writer = TcpStream::connect(addr).expect("connect");
        writer.set_nodelay(true).expect("nodelay");
        writer
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .expect("timeout");
        let reader = BufReader::new(writer.try_clone().expect("clone"));
        Client { writer, reader }
    }

    /// Sends raw bytes, exactly as given.
    fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    /// Sends one command as a RESP array of bulk strings.
    fn send(&mut self, args: &[&[u8]]) {
        self.send_raw(&encode(args));
    }

    /// Sends a command of string arguments and reads its reply.
    fn call(&mut self, args: &[&str]) -> Reply {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&args);
        self.reply()
    }

    /// Reads one reply; panics on a timeout or a closed connection.
    fn reply(&mut self) -> Reply {
        match self.outcome() {
            Outcome::Reply(reply) => reply,
            Outcome::Closed => panic!("the server closed the connection"),
        }
    }

    /// Reads one reply, or sees the server close the connection.
    fn outcome(&mut self) -> Outcome {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => return Outcome::Closed,
            Ok(_) => {}
            // A reset counts as closed; a timeout is a hang, so a failure.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Outcome::Closed,
            Err(e) => panic!("no reply within {REPLY_TIMEOUT:?}: {e}"),
        }
        assert!(line.ends_with(b"\r\n"), "reply line without CRLF: {line:?}");
        let text = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
        let number = || text.parse::<i64>().expect("a number");
        Outcome::Reply(match line[0] {
            b'+' => Reply::Simple(text),
            b'-' => Reply::Error(text),
            b':' => Reply::Integer(number()),
            b'$' if number() < 0 => Reply::Bulk(None),
            b'$' => {
                let mut data = vec![0; number() as usize + 2];
                self.reader.read_exact(&mut data).expect("bulk data");
                assert!(data.ends_with(b"\r\n"), "bulk string without CRLF");
                data.truncate(data.len() - 2);
                Reply::Bulk(Some(data))
            }
            b'*' => Reply::Array((0..number()).map(|_| self.reply()).collect()),
            other => panic!("unknown reply type {:?}", other as char),
        })
    }
}

fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn is_error(reply: &Reply) -> bool {
    matches!(reply, Reply::Error(e) if e.starts_with("ERR"))
}

#[test]
fn every_command_gets_the_reply_redis_would_give() {
    let mut c = Client::connect(start_server());
    assert_eq!(c.call(&["PING"]), Reply::Simple("PONG".into()));
    assert_eq!(c.call(&["ping", "hi"]), bulk("hi"));
    assert_eq!(c.call(&["ECHO", "hello world"]), bulk("hello world"));

    assert_eq!(c.call(&["GET", "k"]), Reply::Bulk(None));
    assert_eq!(c.call(&["SET", "k", "v1"]), ok());
    assert_eq!(c.call(&["get", "k"]), bulk("v1"));
    assert_eq!(c.call(&["SET", "k", "v2"]), ok());
    assert_eq!(c.call(&["GET", "k"]), bulk("v2"));

    assert_eq!(c.call(&["INCR", "n"]), Reply::Integer(1));
    assert_eq!(c.call(&["INCR", "n"]), Reply::Integer(2));
    assert_eq!(c.call(&["SET", "n", "-10"]), ok());
    assert_eq!(c.call(&["INCR", "n"]), Reply::Integer(-9));
    assert!(is_error(&c.call(&["INCR", "k"])), "INCR of a non-number");
    assert_eq!(c.call(&["SET", "max", &i64::MAX.to_string()]), ok());
    assert!(is_error(&c.call(&["INCR", "max"])), "INCR past i64::MAX");

    assert_eq!(c.call(&["TTL", "missing"]), Reply::Integer(-2));
    assert_eq!(c.call(&["TTL", "k"]), Reply::Integer(-1));
    assert_eq!(c.call(&["EXPIRE", "k", "100"]), Reply::Integer(1));
    assert!(matches!(c.call(&["TTL", "k"]), Reply::Integer(1..=100)));
    assert_eq!(c.call(&["EXPIRE", "missing", "100"]), Reply::Integer(0));
    assert_eq!(c.call(&["SET", "e", "v", "EX", "50"]), ok());
    assert!(matches!(c.call(&["TTL", "e"]), Reply::Integer(1..=50)));
    assert_eq!(c.call(&["SET", "p", "v", "px", "90000"]), ok());
    assert!(matches!(c.call(&["TTL", "p"]), Reply::Integer(1..=90)));
    assert_eq!(c.call(&["SET", "e", "plain"]), ok());
    assert_eq!(
        c.call(&["TTL", "e"]),
        Reply::Integer(-1),
        "SET clears the TTL"
    );

    assert_eq!(c.call(&["DEL", "k", "n", "nothing"]), Reply::Integer(2));
    assert_eq!(c.call(&["GET", "k"]), Reply::Bulk(None));
    assert_eq!(c.call(&["DEL", "k"]), Reply::Integer(0));

    // Values are binary-safe: CRLF and NUL inside a bulk string are data.
    let odd: &[u8] = b"a\r\nb\0c\r\n";
    c.send(&[b"SET", b"odd", odd]);
    assert_eq!(c.reply(), ok());
    c.send(&[b"GET", b"odd"]);
    assert_eq!(c.reply(), Reply::Bulk(Some(odd.to_vec())));
    let big = vec![b'x'; 100_000];
    c.send(&[b"SET", b"big", &big]);
    assert_eq!(c.reply(), ok());
    c.send(&[b"GET", b"big"]);
    assert_eq!(c.reply(), Reply::Bulk(Some(big)));

    // What redis-benchmark and redis-cli ask before they start.
    let save = c.call(&["CONFIG", "GET", "save"]);
    assert!(
        matches!(save, Reply::Array(ref a) if a.len() == 2),
        "{save:?}"
    );
    assert!(matches!(c.call(&["COMMAND", "DOCS"]), Reply::Array(_)));

    // The inline form, as typed into telnet.
    c.send_raw(b"PING\r\n");
    assert_eq!(c.reply(), Reply::Simple("PONG".into()));
    assert_eq!(
        c.call(&["PING"]),
        Reply::Simple("PONG".into()),
        "still in sync"
    );
}

#[test]
fn wrong_commands_get_errors_and_the_connection_stays_usable() {
    let mut c = Client::connect(start_server());
    let cases: &[&[&str]] = &[
        &["NOSUCHCOMMAND", "x"],
        &["GET"],
        &["GET", "a", "b"],
        &["SET", "k"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "EX", "abc"],
        &["SET", "k", "v", "EX", "0"],
        &["SET", "k", "v", "EX", "-5"],
        &["SET", "k", "v", "PX", "99999999999999999999"],
        &["SET", "k", "v", "NX", "1"],
        &["EXPIRE", "k"],
        &["TTL"],
        &["INCR"],
        &["DEL"],
        &["ECHO"],
    ];
    assert_eq!(c.call(&["SET", "k", "v"]), ok());
    for &case in cases {
        let reply = c.call(case);
        assert!(is_error(&reply), "{case:?} got {reply:?}");
    }
    assert!(is_error(&c.call(&["EXPIRE", "k", "soon"])));
    assert_eq!(
        c.call(&["GET", "k"]),
        bulk("v"),
        "failed commands change nothing"
    );
    assert_eq!(c.call(&["TTL", "k"]), Reply::Integer(-1));
}

#[test]
fn pipelined_commands_are_answered_in_order_even_when_split_across_reads() {
    let mut c = Client::connect(start_server());
    let mut batch = Vec::new();
    for i in 0..200 {
        batch.extend(encode(&[
            b"SET",
            format!("key{i}").as_bytes(),
            format!("{i}").as_bytes(),
        ]));
        batch.extend(encode(&[b"INCR", b"counter"]));
        batch.extend(encode(&[b"GET", format!("key{i}").as_bytes()]));
    }
    // One write of the whole batch...
    c.send_raw(&batch);
    for i in 0..200 {
        assert_eq!(c.reply(), ok());
        assert_eq!(c.reply(), Reply::Integer(i + 1));
        assert_eq!(c.reply(), bulk(&i.to_string()));
    }
    // ...then the same batch in pieces cut at awkward places (inside a
    // length, inside a bulk string, between CR and LF), with pauses so the
    // server sees them in separate reads.
    for (n, piece) in batch.chunks(997).enumerate() {
        c.send_raw(piece);
        if n % 4 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    for i in 0..200 {
        assert_eq!(c.reply(), ok());
        assert_eq!(c.reply(), Reply::Integer(200 + i + 1));
        assert_eq!(c.reply(), bulk(&i.to_string()));
    }
    // One byte at a time.
    for byte in encode(&[b"ECHO", b"slowly"]) {
        c.send_raw(&[byte]);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(c.reply(), bulk("slowly"));
}

/// Polls `GET key` until it is gone; returns how long that took.
fn wait_until_gone(c: &mut Client, key: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if c.call(&["GET", key]) == Reply::Bulk(None) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{key} did not expire within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn keys_expire_after_px_milliseconds_and_never_before() {
    let mut c = Client::connect(start_server());
    let set_at = Instant::now();
    assert_eq!(c.call(&["SET", "short", "v", "PX", "150"]), ok());
    assert_eq!(c.call(&["SET", "long", "v", "EX", "1000"]), ok());
    let gone_after = wait_until_gone(&mut c, "short", Duration::from_secs(20));
    assert!(
        set_at.elapsed() >= Duration::from_millis(150) && gone_after <= set_at.elapsed(),
        "expired early"
    );
    assert_eq!(c.call(&["TTL", "short"]), Reply::Integer(-2));
    assert_eq!(c.call(&["GET", "long"]), bulk("v"));

    // An expired key is gone for every command, not only GET.
    for cmd in ["DEL", "INCR"] {
        assert_eq!(c.call(&["SET", "t", "41", "PX", "20"]), ok());
        wait_until_gone(&mut c, "t", Duration::from_secs(20));
        assert_eq!(c.call(&["SET", "t", "41", "PX", "20"]), ok());
        std::thread::sleep(Duration::from_millis(100));
        let want = if cmd == "DEL" { 0 } else { 1 };
        assert_eq!(
            c.call(&[cmd, "t"]),
            Reply::Integer(want),
            "{cmd} of an expired key"
        );
    }

    // EXPIRE on an existing key.
    assert_eq!(c.call(&["SET", "x", "v"]), ok());
    assert_eq!(c.call(&["EXPIRE", "x", "1"]), Reply::Integer(1));
    let gone = wait_until_gone(&mut c, "x", Duration::from_secs(20));
    assert!(
        gone >= Duration::from_millis(900),
        "EXPIRE 1 gone after {gone:?}"
    );
}

/// Sends `bytes` on a fresh connection and returns what came back, up to
/// the first error reply or the server closing. (If it does neither, the
/// read times out and the test fails.)
fn malformed(addr: SocketAddr, bytes: &[u8]) -> Vec<Outcome> {
    let mut c = Client::connect(addr);
    c.send_raw(bytes);
    let mut seen = Vec::new();
    loop {
        let outcome = c.outcome();
        let done = matches!(outcome, Outcome::Closed | Outcome::Reply(Reply::Error(_)));
        seen.push(outcome);
        if done {
            return seen;
        }
    }
}

#[test]
fn malformed_resp_gets_an_error_or_a_closed_connection_and_others_are_served() {
    let addr = start_server();
    let mut bystander = Client::connect(addr);
    assert_eq!(bystander.call(&["SET", "safe", "1"]), ok());

    let long_line = vec![b'a'; 200 * 1024];
    let cases: &[(&str, &[u8])] = &[
        ("bad array length", b"*abc\r\n"),
        ("negative array length", b"*-5\r\n"),
        ("huge array length", b"*99999999999\r\n"),
        ("huge bulk length", b"*1\r\n$99999999999\r\n"),
        ("bulk too big", b"*1\r\n$1000000000\r\n"),
        ("bad bulk length", b"*1\r\n$x\r\n"),
        ("not a bulk string", b"*2\r\n:1\r\n:2\r\n"),
        ("bulk without CRLF", b"*1\r\n$4\r\nPINGxx"),
        ("binary garbage", b"\x00\xff\xfe garbage \x01\r\n"),
        ("a line that never ends", &long_line),
    ];
    for (what, bytes) in cases {
        let seen = malformed(addr, bytes);
        let last = seen.last().expect("an outcome");
        assert!(
            matches!(last, Outcome::Closed | Outcome::Reply(Reply::Error(_))),
            "{what}: {seen:?}"
        );
    }

    // A frame cut off, then the client hangs up: the server just closes.
    let mut c = Client::connect(addr);
    c.send_raw(b"*2\r\n$3\r\nGET\r\n$10\r\nabc");
    c.writer.shutdown(Shutdown::Write).expect("shutdown");
    assert_eq!(c.outcome(), Outcome::Closed);

    // A protocol error closes that connection after the error reply.
    let mut c = Client::connect(addr);
    c.send_raw(b"*1\r\n$-7\r\n");
    assert!(matches!(c.outcome(), Outcome::Reply(Reply::Error(e)) if e.contains("Protocol")));
    assert_eq!(c.outcome(), Outcome::Closed);

    // And through all of it, the other clients were served.
    assert_eq!(bystander.call(&["INCR", "safe"]), Reply::Integer(2));
    assert_eq!(Client::connect(addr).call(&["GET", "safe"]), bulk("2"));
}

#[test]
fn concurrent_clients_share_one_key_space() {
    let addr = start_server();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                for _ in 0..100 {
                    assert!(matches!(c.call(&["INCR", "hits"]), Reply::Integer(1..)));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    assert_eq!(Client::connect(addr).call(&["GET", "hits"]), bulk("1600"));
}
