//! hyper 1.x serving on ember, through ember's own glue (`ember::hyper`):
//! every request gets `Hello, World!`, over HTTP/1.1 (keep-alive,
//! pipelining) or HTTP/2 with prior knowledge, on the same port.
//!
//! ```text
//! cargo run --release --features hyper --example hyper_hello               # 127.0.0.1:7000
//! curl http://127.0.0.1:7000/
//! curl --http2-prior-knowledge http://127.0.0.1:7000/
//! wrk -t1 -c256 -d10s http://127.0.0.1:7000/
//! ```
//!
//! Usage: `hyper_hello [ADDR]`. Each connection is one ember task; the
//! protocol is chosen from its first bytes (HTTP/2's preface or not),
//! which are then put back in front of the stream for hyper.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ember::hyper::{Exec, Io, Timer};
use ember::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use ember::net::{TcpListener, TcpStream};
use hyper::body::Incoming;
use hyper::{Request, Response};

/// What an HTTP/2 connection with prior knowledge starts with.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".to_string());
    ember::block_on(async {
        let listener = TcpListener::bind(&addr)?;
        println!("listening on {}", listener.local_addr()?);
        serve(listener).await
    })
}

/// Accepts connections forever, one task each.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        ember::spawn(async move {
            if let Err(e) = connection(stream).await {
                eprintln!("connection: {e}");
            }
        });
    }
}

async fn hello(_req: Request<Incoming>) -> Result<Response<String>, Infallible> {
    Ok(Response::new("Hello, World!".to_string()))
}

async fn connection(mut stream: TcpStream) -> io::Result<()> {
    let service = hyper::service::service_fn(hello);
    // Read as much of the first bytes as it takes to tell, then hand them
    // back in front of the stream.
    let mut head = Vec::with_capacity(H2_PREFACE.len());
    while head.len() < H2_PREFACE.len() && H2_PREFACE.starts_with(&head) {
        let mut byte = [0u8; H2_PREFACE.len()];
        let want = H2_PREFACE.len() - head.len();
        let n = stream.read(&mut byte[..want]).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&byte[..n]);
    }
    let h2 = head == H2_PREFACE;
    let io = Io::new(Rewind {
        head,
        pos: 0,
        stream,
    });
    if h2 {
        hyper::server::conn::http2::Builder::new(Exec)
            .timer(Timer)
            .serve_connection(io, service)
            .await
    } else {
        hyper::server::conn::http1::Builder::new()
            .timer(Timer)
            .serve_connection(io, service)
            .await
    }
    .map_err(io::Error::other)
}

/// The stream with the bytes already read put back in front.
struct Rewind {
    head: Vec<u8>,
    pos: usize,
    stream: TcpStream,
}

impl AsyncRead for Rewind {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut rb = ReadBuf::new(buf);
        ready!(self.poll_read_buf(cx, &mut rb))?;
        Poll::Ready(Ok(rb.filled().len()))
    }

    fn poll_read_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pos < this.head.len() {
            let n = buf.remaining().min(this.head.len() - this.pos);
            buf.put_slice(&this.head[this.pos..this.pos + n]);
            this.pos += n;
            return Poll::Ready(Ok(()));
        }
        // Straight into hyper's buffer, no zeroing.
        Pin::new(&mut this.stream).poll_read_buf(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_close(cx)
    }
}
