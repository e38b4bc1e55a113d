//! Socket options: `setsockopt(2)` and `getsockopt(2)`, for `socket(7)`
//! (`SOL_SOCKET`), `tcp(7)`, `ip(7)` and `ipv6(7)` options, and
//! `SO_PEERCRED` on Unix sockets (`unix(7)`).
//!
//! Called by `net` (`TcpSocket`, the stream, listener and datagram types)
//! through the typed methods on [`Socket`] below; each turns Rust values
//! (`bool`, `Option<Duration>`, `Ipv4Addr`) into the C value the option
//! takes and back. Relies on `socket.rs` for the fd.
//!
//! # Invariant
//! Every value handed to the kernel, or read back from it, has a type
//! that implements [`Plain`]: a C struct of integers (or an array of
//! bytes) for which every bit pattern, all-zero included, is a valid
//! value. That is what lets [`Socket::get`] start from zeroed memory and
//! keep whatever the kernel wrote, and [`Socket::set`] pass the value's
//! bytes as they are.
//!
//! | option | level | C value | read back as |
//! | --- | --- | --- | --- |
//! | `SO_REUSEADDR`, `SO_REUSEPORT`, `SO_KEEPALIVE`, `SO_BROADCAST` | `SOL_SOCKET` | `int` 0/1 | `bool` |
//! | `SO_SNDBUF`, `SO_RCVBUF` | `SOL_SOCKET` | `int` bytes | the kernel doubles what is set (bookkeeping room), and reports the doubled size |
//! | `SO_LINGER` | `SOL_SOCKET` | `struct linger` (on, seconds) | `Option<Duration>`, whole seconds |
//! | `SO_BINDTODEVICE` | `SOL_SOCKET` | the interface name's bytes (empty: none) | `Option<Vec<u8>>` |
//! | `SO_ERROR` | `SOL_SOCKET` | `int` errno | `Option<io::Error>`, cleared by reading |
//! | `SO_PEERCRED` | `SOL_SOCKET` | `struct ucred` | pid, uid, gid |
//! | `TCP_NODELAY` | `IPPROTO_TCP` | `int` 0/1 | `bool` |
//! | `IP_TTL`, `IP_TOS`, `IP_MULTICAST_TTL` | `IPPROTO_IP` | `int` | `u32` |
//! | `IP_MULTICAST_LOOP` | `IPPROTO_IP` | `int` 0/1 | `bool` |
//! | `IP_ADD_MEMBERSHIP`, `IP_DROP_MEMBERSHIP` | `IPPROTO_IP` | `struct ip_mreq` (group, interface address) | — |
//! | `IPV6_MULTICAST_LOOP` | `IPPROTO_IPV6` | `int` 0/1 | `bool` |
//! | `IPV6_ADD_MEMBERSHIP`, `IPV6_DROP_MEMBERSHIP` | `IPPROTO_IPV6` | `struct ipv6_mreq` (group, interface index) | — |

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::cvt;
use super::socket::Socket;

/// A C value an option takes: plain data, valid for every bit pattern
/// (see the module's invariant). Implemented only for the types below.
trait Plain: Copy {}
impl Plain for libc::c_int {}
impl Plain for libc::linger {}
impl Plain for libc::ucred {}
impl Plain for libc::ip_mreq {}
impl Plain for libc::ipv6_mreq {}
impl Plain for [u8; libc::IFNAMSIZ] {}

/// The credentials of a Unix socket's peer, as the kernel recorded them
/// when the connection was made (`SO_PEERCRED`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PeerCred {
    pub(crate) pid: i32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

impl Socket {
    /// `setsockopt(level, name, value)`.
    fn set<T: Plain>(&self, level: i32, name: i32, value: T) -> io::Result<()> {
        self.set_bytes(level, name, &value, size_of::<T>())
    }

    /// `setsockopt` with the first `len` bytes at `value` (`len` at most
    /// the size of `T`).
    fn set_bytes<T: Plain>(&self, level: i32, name: i32, value: &T, len: usize) -> io::Result<()> {
        let len = len.min(size_of::<T>());
        // SAFETY: `value` is a live, initialised `T` (plain data), readable
        // for `size_of::<T>()` bytes, and `len` is no more than that.
        cvt(unsafe {
            libc::setsockopt(
                self.raw(),
                level,
                name,
                (value as *const T).cast(),
                len as libc::socklen_t,
            )
        })?;
        Ok(())
    }

    /// `getsockopt(level, name)`, and how many bytes the kernel wrote.
    fn get<T: Plain>(&self, level: i32, name: i32) -> io::Result<(T, usize)> {
        let mut value = MaybeUninit::<T>::zeroed();
        let mut len = size_of::<T>() as libc::socklen_t;
        // SAFETY: `value` is writable for `len` bytes; `len` is in-out.
        cvt(unsafe {
            libc::getsockopt(self.raw(), level, name, value.as_mut_ptr().cast(), &mut len)
        })?;
        // SAFETY: zeroed, then (partly) overwritten by the kernel; every
        // bit pattern is a valid `T` (`Plain`).
        Ok((unsafe { value.assume_init() }, len as usize))
    }

    fn set_int(&self, level: i32, name: i32, value: libc::c_int) -> io::Result<()> {
        self.set(level, name, value)
    }

    fn int(&self, level: i32, name: i32) -> io::Result<libc::c_int> {
        self.get::<libc::c_int>(level, name).map(|(v, _)| v)
    }

    fn set_flag(&self, level: i32, name: i32, on: bool) -> io::Result<()> {
        self.set_int(level, name, on as libc::c_int)
    }

    fn flag(&self, level: i32, name: i32) -> io::Result<bool> {
        Ok(self.int(level, name)? != 0)
    }

    /// A `u32` option stored in an `int`; values past `i32::MAX` are
    /// refused, as the kernel would refuse them.
    fn set_u32(&self, level: i32, name: i32, value: u32) -> io::Result<()> {
        let value = libc::c_int::try_from(value).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "value too large for an int option",
            )
        })?;
        self.set_int(level, name, value)
    }

    fn u32(&self, level: i32, name: i32) -> io::Result<u32> {
        Ok(self.int(level, name)?.max(0) as u32)
    }

    // SOL_SOCKET

    pub(crate) fn set_reuseaddr(&self, on: bool) -> io::Result<()> {
        self.set_flag(libc::SOL_SOCKET, libc::SO_REUSEADDR, on)
    }

    pub(crate) fn reuseaddr(&self) -> io::Result<bool> {
        self.flag(libc::SOL_SOCKET, libc::SO_REUSEADDR)
    }

    pub(crate) fn set_reuseport(&self, on: bool) -> io::Result<()> {
        self.set_flag(libc::SOL_SOCKET, libc::SO_REUSEPORT, on)
    }

    pub(crate) fn reuseport(&self) -> io::Result<bool> {
        self.flag(libc::SOL_SOCKET, libc::SO_REUSEPORT)
    }

    pub(crate) fn set_keepalive(&self, on: bool) -> io::Result<()> {
        self.set_flag(libc::SOL_SOCKET, libc::SO_KEEPALIVE, on)
    }

    pub(crate) fn keepalive(&self) -> io::Result<bool> {
        self.flag(libc::SOL_SOCKET, libc::SO_KEEPALIVE)
    }

    pub(crate) fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.set_flag(libc::SOL_SOCKET, libc::SO_BROADCAST, on)
    }

    pub(crate) fn broadcast(&self) -> io::Result<bool> {
        self.flag(libc::SOL_SOCKET, libc::SO_BROADCAST)
    }

    pub(crate) fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_u32(libc::SOL_SOCKET, libc::SO_SNDBUF, size)
    }

    pub(crate) fn send_buffer_size(&self) -> io::Result<u32> {
        self.u32(libc::SOL_SOCKET, libc::SO_SNDBUF)
    }

    pub(crate) fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_u32(libc::SOL_SOCKET, libc::SO_RCVBUF, size)
    }

    pub(crate) fn recv_buffer_size(&self) -> io::Result<u32> {
        self.u32(libc::SOL_SOCKET, libc::SO_RCVBUF)
    }

    /// `SO_LINGER`: `Some(d)` makes `close` wait up to `d` (whole seconds)
    /// for unsent data; `Some(0)` makes it reset the connection at once.
    pub(crate) fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        let value = libc::linger {
            l_onoff: linger.is_some() as libc::c_int,
            l_linger: linger.map_or(0, |d| {
                d.as_secs().min(libc::c_int::MAX as u64) as libc::c_int
            }),
        };
        self.set(libc::SOL_SOCKET, libc::SO_LINGER, value)
    }

    pub(crate) fn linger(&self) -> io::Result<Option<Duration>> {
        let (value, _) = self.get::<libc::linger>(libc::SOL_SOCKET, libc::SO_LINGER)?;
        Ok((value.l_onoff != 0).then(|| Duration::from_secs(value.l_linger.max(0) as u64)))
    }

    /// `SO_BINDTODEVICE`: only packets of that interface; `None` (an empty
    /// name) undoes it. Needs `CAP_NET_RAW` on kernels before 5.7.
    pub(crate) fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        let name = interface.unwrap_or(&[]);
        // Room for the name and its NUL, as the kernel reads it.
        let mut buf = [0u8; libc::IFNAMSIZ];
        if name.len() >= buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "interface name longer than IFNAMSIZ - 1 (15 bytes)",
            ));
        }
        buf[..name.len()].copy_from_slice(name);
        self.set_bytes(libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &buf, name.len())
    }

    pub(crate) fn device(&self) -> io::Result<Option<Vec<u8>>> {
        let (buf, len) =
            self.get::<[u8; libc::IFNAMSIZ]>(libc::SOL_SOCKET, libc::SO_BINDTODEVICE)?;
        let name = &buf[..len.min(buf.len())];
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        Ok((end > 0).then(|| name[..end].to_vec()))
    }

    /// Reads and clears the pending error (`SO_ERROR`): after a non-blocking
    /// connect, `None` means the connection is established.
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        let code = self.int(libc::SOL_SOCKET, libc::SO_ERROR)?;
        Ok((code != 0).then(|| io::Error::from_raw_os_error(code)))
    }

    /// The peer's credentials (`SO_PEERCRED`), on a connected Unix socket.
    pub(crate) fn peer_cred(&self) -> io::Result<PeerCred> {
        let (cred, _) = self.get::<libc::ucred>(libc::SOL_SOCKET, libc::SO_PEERCRED)?;
        Ok(PeerCred {
            pid: cred.pid,
            uid: cred.uid,
            gid: cred.gid,
        })
    }

    // IPPROTO_TCP

    pub(crate) fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.set_flag(libc::IPPROTO_TCP, libc::TCP_NODELAY, on)
    }

    pub(crate) fn nodelay(&self) -> io::Result<bool> {
        self.flag(libc::IPPROTO_TCP, libc::TCP_NODELAY)
    }

    // IPPROTO_IP

    pub(crate) fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.set_u32(libc::IPPROTO_IP, libc::IP_TTL, ttl)
    }

    pub(crate) fn ttl(&self) -> io::Result<u32> {
        self.u32(libc::IPPROTO_IP, libc::IP_TTL)
    }

    pub(crate) fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_u32(libc::IPPROTO_IP, libc::IP_TOS, tos)
    }

    pub(crate) fn tos(&self) -> io::Result<u32> {
        self.u32(libc::IPPROTO_IP, libc::IP_TOS)
    }

    pub(crate) fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.set_u32(libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, ttl)
    }

    pub(crate) fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.u32(libc::IPPROTO_IP, libc::IP_MULTICAST_TTL)
    }

    pub(crate) fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.set_flag(libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, on)
    }

    pub(crate) fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.flag(libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP)
    }

    /// Joins (`join`) or leaves the IPv4 group `group` on the interface
    /// whose address is `interface` (`0.0.0.0`: the kernel chooses).
    pub(crate) fn multicast_v4(
        &self,
        join: bool,
        group: Ipv4Addr,
        interface: Ipv4Addr,
    ) -> io::Result<()> {
        let mreq = libc::ip_mreq {
            imr_multiaddr: libc::in_addr {
                s_addr: u32::from_ne_bytes(group.octets()),
            },
            imr_interface: libc::in_addr {
                s_addr: u32::from_ne_bytes(interface.octets()),
            },
        };
        let name = if join {
            libc::IP_ADD_MEMBERSHIP
        } else {
            libc::IP_DROP_MEMBERSHIP
        };
        self.set(libc::IPPROTO_IP, name, mreq)
    }

    // IPPROTO_IPV6

    pub(crate) fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.set_flag(libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP, on)
    }

    pub(crate) fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.flag(libc::IPPROTO_IPV6, libc::IPV6_MULTICAST_LOOP)
    }

    /// Joins (`join`) or leaves the IPv6 group `group` on the interface
    /// numbered `interface` (0: the kernel chooses).
    pub(crate) fn multicast_v6(
        &self,
        join: bool,
        group: &Ipv6Addr,
        interface: u32,
    ) -> io::Result<()> {
        let mreq = libc::ipv6_mreq {
            ipv6mr_multiaddr: libc::in6_addr {
                s6_addr: group.octets(),
            },
            ipv6mr_interface: interface as _,
        };
        let name = if join {
            libc::IPV6_ADD_MEMBERSHIP
        } else {
            libc::IPV6_DROP_MEMBERSHIP
        };
        self.set(libc::IPPROTO_IPV6, name, mreq)
    }
}
