//! Many tasks waiting on one direction of one socket: every one of them is
//! woken (or, where only one can take what came, none is forgotten).
#![cfg(feature = "net")]

mod support;

use std::cell::Cell;
use std::rc::Rc;

use ember::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use support::{run, LIMIT};

/// Lets every spawned task run until it waits.
async fn settle() {
    for _ in 0..10 {
        ember::task::yield_now().await;
    }
}

#[test]
fn several_acceptors_on_one_tcp_listener_each_get_a_client() {
    run(LIMIT, || async {
        let listener = Rc::new(TcpListener::bind("127.0.0.1:0").unwrap());
        let addr = listener.local_addr().unwrap();
        let accepted = Rc::new(Cell::new(0));
        let mut handles = Vec::new();
        for _ in 0..4 {
            let (listener, accepted) = (listener.clone(), accepted.clone());
            handles.push(ember::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                accepted.set(accepted.get() + 1);
                stream
            }));
        }
        settle().await;
        let mut clients = Vec::new();
        for _ in 0..4 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(accepted.get(), 4);
    });
}

#[test]
fn several_acceptors_on_one_unix_listener_each_get_a_client() {
    let dir = support::temp_dir::TempDir::new();
    let path = dir.join("sock");
    run(LIMIT, move || async move {
        let listener = Rc::new(UnixListener::bind(&path).unwrap());
        let mut handles = Vec::new();
        for _ in 0..3 {
            let listener = listener.clone();
            handles.push(ember::spawn(
                async move { listener.accept().await.unwrap().0 },
            ));
        }
        settle().await;
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(UnixStream::connect(&path).await.unwrap());
        }
        for h in handles {
            h.await.unwrap();
        }
    });
}

#[test]
fn several_receivers_on_one_udp_socket_each_get_a_datagram() {
    run(LIMIT, || async {
        let socket = Rc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        let addr = socket.local_addr().unwrap();
        let mut handles = Vec::new();
        for _ in 0..3 {
            let socket = socket.clone();
            handles.push(ember::spawn(async move {
                let mut buf = [0u8; 16];
                let (n, _) = socket.recv_from(&mut buf).await.unwrap();
                buf[..n].to_vec()
            }));
        }
        settle().await;
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..3u8 {
            sender.send_to(&[i], addr).await.unwrap();
        }
        let mut got = Vec::new();
        for h in handles {
            got.extend(h.await.unwrap());
        }
        got.sort();
        assert_eq!(got, [0, 1, 2]);
    });
}

#[test]
fn several_receivers_on_one_unix_datagram_socket_each_get_a_datagram() {
    run(LIMIT, || async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let b = Rc::new(b);
        let mut handles = Vec::new();
        for _ in 0..3 {
            let b = b.clone();
            handles.push(ember::spawn(async move {
                let mut buf = [0u8; 16];
                let n = b.recv(&mut buf).await.unwrap();
                buf[..n].to_vec()
            }));
        }
        settle().await;
        for i in 0..3u8 {
            a.send(&[i]).await.unwrap();
        }
        let mut got = Vec::new();
        for h in handles {
            got.extend(h.await.unwrap());
        }
        got.sort();
        assert_eq!(got, [0, 1, 2]);
    });
}

#[test]
fn three_tasks_awaiting_readable_on_one_stream_are_all_woken() {
    run(LIMIT, || async {
        let (a, b) = UnixStream::pair().unwrap();
        let b = Rc::new(b);
        let woken = Rc::new(Cell::new(0));
        let mut handles = Vec::new();
        for _ in 0..3 {
            let (b, woken) = (b.clone(), woken.clone());
            handles.push(ember::spawn(async move {
                b.readable().await.unwrap();
                woken.set(woken.get() + 1);
            }));
        }
        settle().await;
        assert_eq!(woken.get(), 0, "nothing was written yet");
        a.try_write(b"x").unwrap();
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(woken.get(), 3);
    });
}

#[test]
fn three_tasks_awaiting_writable_on_a_full_stream_are_all_woken() {
    run(LIMIT, || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // Fill the send buffer (and the peer's receive buffer) until the
        // kernel refuses more.
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0usize;
        loop {
            match client.try_write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        let client = Rc::new(client);
        let woken = Rc::new(Cell::new(0));
        let mut handles = Vec::new();
        for _ in 0..3 {
            let (client, woken) = (client.clone(), woken.clone());
            handles.push(ember::spawn(async move {
                client.writable().await.unwrap();
                woken.set(woken.get() + 1);
            }));
        }
        settle().await;
        assert_eq!(woken.get(), 0, "the send buffer is full");
        // Drain everything: room frees up and every writer is woken.
        let mut buf = vec![0u8; 64 * 1024];
        let mut read = 0;
        while read < sent {
            server.readable().await.unwrap();
            let n = match server.try_read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            };
            assert!(n > 0);
            read += n;
        }
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(woken.get(), 3);
    });
}

#[test]
fn a_dropped_waiter_does_not_keep_the_others_from_being_woken() {
    run(LIMIT, || async {
        let (a, b) = UnixStream::pair().unwrap();
        let b = Rc::new(b);
        let cancelled = {
            let b = b.clone();
            ember::spawn(async move { b.readable().await })
        };
        let kept = {
            let b = b.clone();
            ember::spawn(async move { b.readable().await })
        };
        settle().await;
        cancelled.abort();
        settle().await;
        a.try_write(b"x").unwrap();
        kept.await.unwrap().unwrap();
        assert!(cancelled.await.unwrap_err().is_cancelled());
    });
}
