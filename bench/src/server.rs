//! The start-up convention shared by every echo server binary.
//!
//! Each server takes the listen address as its first argument (default
//! `127.0.0.1:7000`; `127.0.0.1:0` picks a free port) and prints
//! `listening on ADDR` with the address it actually bound, so scripts can
//! parse the port.

use std::io::Write;
use std::net::SocketAddr;

/// Address used when no argument is given.
pub const DEFAULT_ADDR: &str = "127.0.0.1:7000";

/// Size of the per-connection read buffer used by every server.
pub const BUF_SIZE: usize = 4096;

/// Parses the listen address from the first command-line argument, exiting
/// with a usage message if it is malformed.
pub fn listen_addr() -> SocketAddr {
    let arg = std::env::args().nth(1);
    let text = arg.as_deref().unwrap_or(DEFAULT_ADDR);
    match text.parse() {
        Ok(addr) => addr,
        Err(e) => {
            let prog = std::env::args().next().unwrap_or_default();
            eprintln!("{prog}: bad listen address {text:?}: {e}");
            eprintln!("usage: {prog} [ADDR]   (default {DEFAULT_ADDR})");
            std::process::exit(2);
        }
    }
}

/// Prints `listening on ADDR` and flushes stdout so a parent process that
/// reads our stdout through a pipe or file sees it immediately.
pub fn announce(addr: SocketAddr) {
    let mut out = std::io::stdout().lock();
    // Ignore errors: a closed stdout must not stop the server.
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}
