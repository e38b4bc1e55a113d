//! [`ToSocketAddrs`]: what `TcpStream::connect` accepts, and [`resolve`],
//! which turns it into socket addresses without blocking the loop.
//!
//! Called by `TcpStream::connect` and `UdpSocket::send_to`. IP literals and
//! socket addresses are parsed on the loop's thread, at no more cost than a
//! parse; a host name goes to the blocking pool (`spawn_blocking`), where
//! std's resolver (`getaddrinfo(3)`) may block as long as it likes.
//!
//! The plain functions that bind or connect without waiting
//! (`TcpListener::bind`, `UdpSocket::bind`, `UdpSocket::connect`) take
//! std's `ToSocketAddrs` instead and resolve on the calling thread, as std
//! does: they are usually called once, at startup, with an IP literal.
//!
//! # Why a trait of ember's own
//! std's `ToSocketAddrs` has one method, which resolves, blocking, on the
//! calling thread, and gives no way to look at a value first: ember could not
//! tell `"10.0.0.1:80"` (parse it here) from `"example.com:80"` (a network
//! round trip), nor move the name to another thread (the value need be
//! neither `Send` nor `'static`). So ember has its own trait, sealed, with
//! the same name and implemented for the same types as std's, so every call
//! that compiled against std's compiles against it. Each implementation
//! splits its value into "known now" or "an owned name to look up".
//!
//! Production note: tokio does the same (a sealed `tokio::net::ToSocketAddrs`
//! for the same types, names resolved on its blocking pool). async-std and
//! smol's `async-net` do too, with a thread per lookup or `blocking`'s pool.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Something [`TcpStream::connect`](super::TcpStream::connect) can connect
/// to: a socket address, an IP and a port, a `"host:port"` string, a
/// `(host, port)` pair, or a slice of addresses to try in turn.
///
/// Implemented for the same types as [`std::net::ToSocketAddrs`]:
/// [`SocketAddr`], [`SocketAddrV4`], [`SocketAddrV6`], `(IpAddr, u16)`,
/// `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)`, `(&str, u16)`, `(String, u16)`,
/// `str`, `String`, `[SocketAddr]`, and `&T` for any of them (so `&str`,
/// `&String` and `&[SocketAddr]` work). It is sealed: it cannot be
/// implemented outside ember.
///
/// IP literals are parsed on the loop's thread. A host name is resolved by
/// std's resolver on the blocking pool
/// ([`spawn_blocking`](crate::spawn_blocking)), so a slow DNS server never
/// stops the loop.
///
/// ```no_run
/// use ember::net::TcpStream;
/// # ember::block_on(async {
/// let a = TcpStream::connect("127.0.0.1:7000").await?; // parsed here
/// let b = TcpStream::connect("localhost:7000").await?; // resolved on the pool
/// let c = TcpStream::connect(("localhost", 7000)).await?;
/// let d = TcpStream::connect(a.peer_addr()?).await?;
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

mod sealed {
    use super::*;

    /// The hidden half of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait Sealed {
        /// Addresses known now, or a name to look up.
        fn lookup(&self) -> Lookup;
    }

    /// What a value needs to become socket addresses.
    #[derive(Debug)]
    pub enum Lookup {
        /// One address, known without asking anyone. Held without a `Vec`,
        /// so that `send_to` with a `SocketAddr` allocates nothing.
        One(SocketAddr),
        /// Several addresses known without asking anyone (a slice), or
        /// known to be invalid.
        Done(io::Result<Vec<SocketAddr>>),
        /// A host name and a port, for `getaddrinfo`.
        Name(String, u16),
    }
}

use sealed::{Lookup, Sealed};

/// Resolves `addr`: on this thread if it holds IP addresses, on the
/// blocking pool if it holds a host name.
///
/// # Cancel safety
/// Dropping the future during a name lookup detaches it: the lookup runs to
/// completion on its pool thread and its result is dropped.
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    match addr.lookup() {
        Lookup::One(addr) => Ok(vec![addr]),
        Lookup::Done(addrs) => addrs,
        Lookup::Name(host, port) => look_up(host, port).await,
    }
}

/// Resolves `host` (`"example.com:80"`, `("localhost", 7000)`, an IP
/// literal...) to the socket addresses it names, as
/// [`TcpStream::connect`](super::TcpStream::connect) would try them. IP
/// literals are parsed here; a host name is looked up by std's resolver
/// (`getaddrinfo(3)`) on the blocking pool, never on the loop's thread.
///
/// ```no_run
/// # ember::block_on(async {
/// for addr in ember::net::lookup_host("localhost:7000").await? {
///     println!("{addr}");
/// }
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
///
/// # Cancel safety
/// Dropping the future during a name lookup detaches it: the lookup runs
/// to completion on its pool thread and its result is dropped.
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    resolve(host).await.map(Vec::into_iter)
}

/// The first address `addr` resolves to (what `UdpSocket::send_to` sends
/// to). An address known now is returned as is, without allocating.
///
/// # Cancel safety
/// As [`resolve`].
pub(crate) async fn resolve_first(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    let addrs = match addr.lookup() {
        Lookup::One(addr) => return Ok(addr),
        Lookup::Done(addrs) => addrs?,
        Lookup::Name(host, port) => look_up(host, port).await?,
    };
    addrs.into_iter().next().ok_or_else(no_address)
}

/// The error for a lookup that found nothing, or an empty slice.
pub(crate) fn no_address() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any address",
    )
}

/// Runs `f` on each address `addr` resolves to with std's resolver, on this
/// thread, until one works; returns that result or the last error. For the
/// plain functions that bind or connect without waiting.
pub(crate) fn each_addr<T>(
    addr: impl std::net::ToSocketAddrs,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last_err = None;
    for addr in addr.to_socket_addrs()? {
        match f(addr) {
            Ok(t) => return Ok(t),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(no_address))
}

/// std's resolver, on the blocking pool.
async fn look_up(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
    crate::spawn_blocking(move || {
        std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port)).map(Iterator::collect)
    })
    .await?
}

fn done(addr: impl Into<SocketAddr>) -> Lookup {
    Lookup::One(addr.into())
}

fn invalid(msg: &'static str) -> Lookup {
    Lookup::Done(Err(io::Error::new(io::ErrorKind::InvalidInput, msg)))
}

/// A host and a port: an IP literal is parsed here, anything else is a name.
/// (std tries the same two parses before it calls `getaddrinfo`.)
fn host_port(host: &str, port: u16) -> Lookup {
    match host.parse::<IpAddr>() {
        Ok(ip) => done((ip, port)),
        Err(_) => Lookup::Name(host.to_string(), port),
    }
}

impl ToSocketAddrs for SocketAddr {}
impl Sealed for SocketAddr {
    fn lookup(&self) -> Lookup {
        done(*self)
    }
}

impl ToSocketAddrs for SocketAddrV4 {}
impl Sealed for SocketAddrV4 {
    fn lookup(&self) -> Lookup {
        done(*self)
    }
}

impl ToSocketAddrs for SocketAddrV6 {}
impl Sealed for SocketAddrV6 {
    fn lookup(&self) -> Lookup {
        done(*self)
    }
}

impl ToSocketAddrs for (IpAddr, u16) {}
impl Sealed for (IpAddr, u16) {
    fn lookup(&self) -> Lookup {
        done(*self)
    }
}

impl ToSocketAddrs for (Ipv4Addr, u16) {}
impl Sealed for (Ipv4Addr, u16) {
    fn lookup(&self) -> Lookup {
        done(*self)
    }
}

impl ToSocketAddrs for (Ipv6Addr, u16) {}
impl Sealed for (Ipv6Addr, u16) {
    fn lookup(&self) -> Lookup {
        done(*self)
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl Sealed for (&str, u16) {
    fn lookup(&self) -> Lookup {
        host_port(self.0, self.1)
    }
}

impl ToSocketAddrs for (String, u16) {}
impl Sealed for (String, u16) {
    fn lookup(&self) -> Lookup {
        host_port(&self.0, self.1)
    }
}

impl ToSocketAddrs for str {}
impl Sealed for str {
    /// `"ip:port"` or `"[ipv6]:port"` parse here; `"host:port"` is split at
    /// its last colon, as std does, with std's errors for a missing or bad
    /// port (before any lookup).
    fn lookup(&self) -> Lookup {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return done(addr);
        }
        let Some((host, port)) = self.rsplit_once(':') else {
            return invalid("invalid socket address");
        };
        match port.parse::<u16>() {
            Ok(port) => host_port(host, port),
            Err(_) => invalid("invalid port value"),
        }
    }
}

impl ToSocketAddrs for String {}
impl Sealed for String {
    fn lookup(&self) -> Lookup {
        self.as_str().lookup()
    }
}

impl ToSocketAddrs for [SocketAddr] {}
impl Sealed for [SocketAddr] {
    fn lookup(&self) -> Lookup {
        Lookup::Done(Ok(self.to_vec()))
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> Sealed for &T {
    fn lookup(&self) -> Lookup {
        (**self).lookup()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now(addr: impl ToSocketAddrs) -> Vec<SocketAddr> {
        match addr.lookup() {
            Lookup::One(addr) => vec![addr],
            Lookup::Done(r) => r.expect("a valid address"),
            Lookup::Name(h, p) => panic!("{h}:{p} should not need a lookup"),
        }
    }

    fn name(addr: impl ToSocketAddrs) -> (String, u16) {
        match addr.lookup() {
            Lookup::Name(h, p) => (h, p),
            other => panic!("expected a name, got {other:?}"),
        }
    }

    #[test]
    fn ip_literals_of_every_shape_are_parsed_without_a_lookup() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(now(v4), [v4]);
        assert_eq!(now("127.0.0.1:80"), [v4]);
        assert_eq!(now("[::1]:80".to_string()), [v6]);
        let owned = "[::1]:80".to_string();
        assert_eq!(now(&owned), [v6]);
        assert_eq!(now(("127.0.0.1", 80)), [v4]);
        assert_eq!(now(("::1".to_string(), 80)), [v6]);
        assert_eq!(now((Ipv4Addr::LOCALHOST, 80)), [v4]);
        assert_eq!(now((IpAddr::V6(Ipv6Addr::LOCALHOST), 80)), [v6]);
        assert_eq!(now(&[v4, v6][..]), [v4, v6]);
        // std's string parse also accepts a bare IPv6 host before the last colon.
        assert_eq!(now("::1:80"), [v6]);
    }

    #[test]
    fn host_names_are_left_for_the_pool() {
        assert_eq!(name("localhost:8080"), ("localhost".to_string(), 8080));
        assert_eq!(name(("example.com", 443)), ("example.com".to_string(), 443));
        assert_eq!(
            name(format!("db.internal:{}", 5432)),
            ("db.internal".to_string(), 5432)
        );
    }

    #[test]
    fn a_missing_or_bad_port_fails_at_once_with_std_s_error() {
        for (s, msg) in [
            ("localhost", "invalid socket address"),
            ("localhost:http", "invalid port value"),
            ("localhost:70000", "invalid port value"),
        ] {
            let Lookup::Done(Err(e)) = s.lookup() else {
                panic!("{s} should fail without a lookup");
            };
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{s}");
            assert_eq!(e.to_string(), msg, "{s}");
            let std_err = std::net::ToSocketAddrs::to_socket_addrs(s).unwrap_err();
            assert_eq!(std_err.to_string(), msg, "std disagrees on {s}");
        }
    }
}
