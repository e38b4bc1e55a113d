//! TCP echo under load: many concurrent clients, every byte checked, with the
//! clients either as ember tasks on the server's runtime or as plain std
//! threads talking to an ember server on another thread.
#![cfg(all(feature = "net", feature = "io-util"))]

mod support;

use std::cell::Cell;
use std::io::{Read, Write};
use std::rc::Rc;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};

/// The message a client sends in one round trip: its length and bytes
/// depend on the client and the round, so a reply that belongs to another
/// client, another round, or is shifted by a byte does not match.
fn message(client: u64, round: u64) -> Vec<u8> {
    let mut x = (client << 32 | round).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let len = 1 + (next() % 3000) as usize;
    let mut msg = Vec::with_capacity(len + 8);
    while msg.len() < len {
        msg.extend_from_slice(&next().to_le_bytes());
    }
    msg.truncate(len);
    msg
}

/// Echoes everything `stream` sends until it closes; returns the count.
async fn echo(mut stream: TcpStream) -> u64 {
    let mut buf = vec![0u8; 8 * 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf).await.expect("server read");
        if n == 0 {
            return total;
        }
        stream.write_all(&buf[..n]).await.expect("server write");
        total += n as u64;
    }
}

/// Round trips of `client` on `stream`; returns the bytes sent.
async fn run_client(client: u64, rounds: u64, stream: &mut TcpStream) -> u64 {
    let mut reply = Vec::new();
    let mut sent = 0;
    for round in 0..rounds {
        let msg = message(client, round);
        stream.write_all(&msg).await.expect("client write");
        reply.resize(msg.len(), 0);
        stream.read_exact(&mut reply).await.expect("client read");
        assert!(
            reply == msg,
            "client {client}, round {round}: the echo differs from what was sent"
        );
        sent += msg.len() as u64;
    }
    sent
}

#[test]
fn five_hundred_concurrent_clients_each_get_a_hundred_exact_echoes() {
    const CLIENTS: u64 = 500;
    const ROUNDS: u64 = 100;
    support::run(support::LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Rc::new(Cell::new(0u64));
        let echoed = Rc::new(Cell::new(0u64));
        let (acc, ech) = (accepted.clone(), echoed.clone());
        let server = ember::spawn(async move {
            let mut conns = Vec::new();
            for _ in 0..CLIENTS {
                let (stream, _) = listener.accept().await.expect("accept");
                acc.set(acc.get() + 1);
                conns.push(ember::spawn(echo(stream)));
            }
            for conn in conns {
                ech.set(ech.get() + conn.await.expect("echo task"));
            }
        });

        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                ember::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.expect("connect");
                    run_client(client, ROUNDS, &mut stream).await
                    // Dropping `stream` ends its echo task.
                })
            })
            .collect();
        let mut sent = 0;
        for client in clients {
            sent += client.await.expect("client task");
        }
        server.await.expect("server task");

        let expected: u64 = (0..CLIENTS)
            .flat_map(|c| (0..ROUNDS).map(move |r| message(c, r).len() as u64))
            .sum();
        assert_eq!(accepted.get(), CLIENTS);
        assert_eq!(sent, expected);
        assert_eq!(
            echoed.get(),
            expected,
            "the server echoed a different total"
        );
    });
}

#[test]
fn std_threads_get_exact_echoes_from_an_ember_server_on_another_thread() {
    const THREADS: u64 = 16;
    const CONNS_PER_THREAD: u64 = 4;
    const ROUNDS: u64 = 50;
    const CONNS: u64 = THREADS * CONNS_PER_THREAD;

    // Bound and listening before any client starts, so a client's connect
    // never races the server thread's start.
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();

    let clients: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let mut sent = 0u64;
                let mut reply = Vec::new();
                for c in 0..CONNS_PER_THREAD {
                    let client = t * CONNS_PER_THREAD + c;
                    let mut stream = std::net::TcpStream::connect(addr).expect("std connect");
                    for round in 0..ROUNDS {
                        let msg = message(client, round);
                        stream.write_all(&msg).expect("std write");
                        reply.resize(msg.len(), 0);
                        stream.read_exact(&mut reply).expect("std read");
                        assert!(
                            reply == msg,
                            "client {client}, round {round}: the echo differs from what was sent"
                        );
                        sent += msg.len() as u64;
                    }
                }
                sent
            })
        })
        .collect();

    let (accepted, echoed) = support::run(support::LIMIT, move || async move {
        let listener = TcpListener::from_std(std_listener).unwrap();
        let mut conns = Vec::new();
        for _ in 0..CONNS {
            let (stream, peer) = listener.accept().await.expect("accept");
            assert!(peer.ip().is_loopback());
            conns.push(ember::spawn(echo(stream)));
        }
        let mut echoed = 0;
        for conn in conns {
            echoed += conn.await.expect("echo task");
        }
        (CONNS, echoed)
    });

    let sent: u64 = clients
        .into_iter()
        .map(|c| c.join().expect("client thread panicked"))
        .sum();
    let expected: u64 = (0..CONNS)
        .flat_map(|c| (0..ROUNDS).map(move |r| message(c, r).len() as u64))
        .sum();
    assert_eq!(accepted, CONNS);
    assert_eq!(sent, expected);
    assert_eq!(echoed, expected, "the server echoed a different total");
}
