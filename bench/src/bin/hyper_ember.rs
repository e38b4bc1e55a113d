//! hyper 1.x's HTTP/1.1 server on ember, through ember's own glue
//! (`ember::hyper::{Io, Timer}`): `Hello, World!` for every request, one
//! task per connection. The same service as `hyper_tokio`.
//!
//! Usage: `hyper_ember [ADDR]` (default 127.0.0.1:7000). Built with
//! `--features hyper`.

use std::convert::Infallible;

use ember::hyper::{Io, Timer};
use ember::net::TcpListener;
use hyper::body::Incoming;
use hyper::{Request, Response};

use ember_bench::server;

async fn hello(_req: Request<Incoming>) -> Result<Response<String>, Infallible> {
    Ok(Response::new("Hello, World!".to_string()))
}

fn main() -> std::io::Result<()> {
    let addr = server::listen_addr();
    ember::block_on(async {
        let listener = TcpListener::bind(addr)?;
        server::announce(listener.local_addr()?);
        loop {
            let (stream, _peer) = listener.accept().await?;
            stream.set_nodelay(true)?;
            ember::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(Timer)
                    .serve_connection(Io::new(stream), hyper::service::service_fn(hello))
                    .await;
            });
        }
    })
}
