//! The `chat` example's server, run in-process with real TCP clients: every
//! line reaches every other client and never its sender, and a client that
//! never reads does not hold up the others.
//!
//! The example's source is compiled into this test as a module, so what is
//! tested is exactly what `cargo run --example chat` runs (minus `main`).
#![cfg(all(feature = "net", feature = "io-util"))]

mod support;

#[path = "../examples/chat.rs"]
#[allow(dead_code)] // its `main`
mod chat;

use std::net::SocketAddr;

use ember::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use ember::net::{TcpListener, TcpStream};

/// A chat client: its address (as the server names it) and its lines.
struct Client {
    addr: SocketAddr,
    lines: ember::io::Lines<BufReader<ember::net::tcp::OwnedReadHalf>>,
    writer: ember::net::tcp::OwnedWriteHalf,
}

impl Client {
    async fn connect(server: SocketAddr) -> Client {
        let stream = TcpStream::connect(server).await.expect("connect");
        let addr = stream.local_addr().expect("local_addr");
        let (reader, writer) = stream.into_split();
        Client {
            addr,
            lines: BufReader::new(reader).lines(),
            writer,
        }
    }

    async fn say(&mut self, text: &str) {
        let line = format!("{text}\n");
        self.writer.write_all(line.as_bytes()).await.expect("send");
    }

    async fn next(&mut self) -> String {
        let line = self.lines.next_line().await.expect("receive");
        line.expect("the server closed the connection")
    }
}

/// Starts the example's server on a free port; returns its address.
fn start_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    ember::spawn(chat::serve(listener));
    addr
}

#[test]
fn each_line_reaches_the_two_other_clients_and_not_its_sender() {
    support::run(support::LIMIT, || async {
        let server = start_server();
        let mut a = Client::connect(server).await;
        let mut b = Client::connect(server).await;
        // A hears of B, so B is registered; then C joins, heard by both.
        assert_eq!(a.next().await, format!("* {} joined", b.addr));
        let mut c = Client::connect(server).await;
        assert_eq!(a.next().await, format!("* {} joined", c.addr));
        assert_eq!(b.next().await, format!("* {} joined", c.addr));

        a.say("hello from a").await;
        assert_eq!(b.next().await, format!("{}: hello from a", a.addr));
        assert_eq!(c.next().await, format!("{}: hello from a", a.addr));
        b.say("hello from b").await;
        assert_eq!(c.next().await, format!("{}: hello from b", b.addr));
        // Had A been sent its own line, it would come before B's.
        assert_eq!(a.next().await, format!("{}: hello from b", b.addr));
        c.say("hello from c").await;
        assert_eq!(a.next().await, format!("{}: hello from c", c.addr));
        assert_eq!(b.next().await, format!("{}: hello from c", c.addr));
        // Neither B nor C got their own line back: the next thing each
        // hears is A's next line.
        a.say("bye").await;
        assert_eq!(b.next().await, format!("{}: bye", a.addr));
        assert_eq!(c.next().await, format!("{}: bye", a.addr));

        // Leaving is announced to those who stay.
        let a_addr = a.addr;
        drop(a);
        assert_eq!(b.next().await, format!("* {a_addr} left"));
        assert_eq!(c.next().await, format!("* {a_addr} left"));
    });
}

#[test]
fn a_client_that_never_reads_does_not_hold_up_the_others() {
    support::run(support::LIMIT, || async {
        let server = start_server();
        let mut talker = Client::connect(server).await;
        let mut listener = Client::connect(server).await;
        let _sleeper = Client::connect(server).await; // connected, never reads
        talker.next().await; // listener joined
        talker.next().await; // sleeper joined
        listener.next().await; // sleeper joined

        // ~24 MB: far more than the kernel buffers for the sleeper hold, so
        // a server that wrote to each client in turn would stall on it.
        const LINES: usize = 24_000;
        let text = "x".repeat(1000);
        let sending = ember::spawn(async move {
            for i in 0..LINES {
                talker.say(&format!("{i} {text}")).await;
            }
            talker
        });
        for i in 0..LINES {
            let line = listener.next().await;
            let body = line.split(": ").nth(1).expect("a chat line");
            let n: usize = body
                .split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("a number");
            assert_eq!(n, i, "lines arrived out of order or were lost");
        }
        let _talker = sending.await.expect("sender task");
    });
}
