//! A line-based chat server: each line a client sends goes to every other
//! client, prefixed with the sender's address.
//!
//! ```text
//! cargo run --release --example chat                # listens on 127.0.0.1:7000
//! cargo run --release --example chat -- 0.0.0.0:9000
//! nc 127.0.0.1 7000                                 # in two or more terminals: type in one, read in the others
//! ```
//!
//! Each client has an outbox (a queue of lines) emptied by its own writer
//! task, so a client that reads slowly, or not at all, never holds up the
//! others: a sender only pushes into queues. A full queue drops lines (a
//! real server might disconnect that client instead).
//! `tests/example_chat.rs` runs [`serve`] with several clients.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Poll, Waker};

use ember::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use ember::net::tcp::OwnedWriteHalf;
use ember::net::{TcpListener, TcpStream};

/// The most lines waiting for one client; more are dropped for it.
const MAX_QUEUED: usize = 16 * 1024;

/// Lines waiting to be written to one client.
#[derive(Default)]
struct Outbox {
    lines: VecDeque<Rc<str>>,
    /// The client's writer task, when it waits for a line.
    waker: Option<Waker>,
}

/// Every connected client's outbox.
type Registry = Rc<RefCell<HashMap<SocketAddr, Rc<RefCell<Outbox>>>>>;

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1);
    let addr = addr.as_deref().unwrap_or("127.0.0.1:7000");
    ember::block_on(async {
        let listener = TcpListener::bind(addr)?;
        println!("listening on {}", listener.local_addr()?);
        serve(listener).await
    })
}

/// Accepts clients forever. A client is in the registry before any of its
/// lines is read, so it receives every line sent after it joined.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let registry = Registry::default();
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue; // out of fds, say: the next accept waits a little first
        };
        registry.borrow_mut().insert(peer, Rc::default());
        broadcast(&registry, peer, format!("* {peer} joined\n"));
        ember::spawn(client(stream, peer, registry.clone()));
    }
}

/// Reads `peer`'s lines and hands each to everyone else.
async fn client(stream: TcpStream, peer: SocketAddr, registry: Registry) {
    let outbox = registry.borrow()[&peer].clone();
    let (reader, writer) = stream.into_split();
    let writer_task = ember::spawn(write_lines(writer, outbox));
    let mut lines = BufReader::new(reader).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) => broadcast(&registry, peer, format!("{peer}: {line}\n")),
            Ok(None) => break,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => continue, // not UTF-8
            Err(_) => break,
        }
    }
    registry.borrow_mut().remove(&peer);
    broadcast(&registry, peer, format!("* {peer} left\n"));
    writer_task.abort(); // lines still queued for a client that left are dropped
}

/// Queues `line` for every client but `from`, then wakes their writers
/// (after every borrow is released).
fn broadcast(registry: &Registry, from: SocketAddr, line: String) {
    let line: Rc<str> = line.into();
    let mut wakers = Vec::new();
    for (addr, outbox) in registry.borrow().iter() {
        let mut outbox = outbox.borrow_mut();
        if *addr == from || outbox.lines.len() >= MAX_QUEUED {
            continue;
        }
        outbox.lines.push_back(line.clone());
        wakers.extend(outbox.waker.take());
    }
    wakers.into_iter().for_each(Waker::wake);
}

/// Writes the lines queued for one client, in order, until aborted.
async fn write_lines(writer: OwnedWriteHalf, outbox: Rc<RefCell<Outbox>>) {
    let mut writer = BufWriter::new(writer);
    loop {
        let line = poll_fn(|cx| {
            let mut outbox = outbox.borrow_mut();
            match outbox.lines.pop_front() {
                Some(line) => Poll::Ready(line),
                None => {
                    outbox.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await;
        if writer.write_all(line.as_bytes()).await.is_err() {
            return; // the client is gone; its reader will notice too
        }
        // Lines queued together go out in one write: flush when none is left.
        if outbox.borrow().lines.is_empty() && writer.flush().await.is_err() {
            return;
        }
    }
}
