//! hyper 1.x's HTTP/1.1 server on tokio's current-thread runtime, through
//! hyper-util's `TokioIo` and `TokioTimer`: the same service as
//! `hyper_ember`, one task per connection.
//!
//! Usage: `hyper_tokio [ADDR]` (default 127.0.0.1:7000). Built with
//! `--features hyper`.

use std::convert::Infallible;

use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use ember_bench::server;

async fn hello(_req: Request<Incoming>) -> Result<Response<String>, Infallible> {
    Ok(Response::new("Hello, World!".to_string()))
}

fn main() -> std::io::Result<()> {
    let addr = server::listen_addr();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await?;
        server::announce(listener.local_addr()?);
        loop {
            let (stream, _peer) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), hyper::service::service_fn(hello))
                    .await;
            });
        }
    })
}
