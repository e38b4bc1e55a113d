//! IP socket addresses (`ip(7)`, `ipv6(7)`): std's [`SocketAddr`] to and
//! from the kernel's `sockaddr_in` and `sockaddr_in6`, and [`RawAddr`], the
//! `sockaddr_storage` every address (IP or Unix) travels in.
//!
//! Called by `socket.rs` for every IP call that takes or returns an address
//! (`bind`, `connect`, `accept4`, `getsockname`, `getpeername`, `sendto`,
//! `recvfrom`), and by `unix_addr.rs`, which builds a [`RawAddr`] too.
//! Relies on nothing but `libc`'s struct layouts.
//!
//! # Invariant
//! A [`RawAddr`] handed to the kernel holds a complete address of the
//! family its `ss_family` names, and the length that goes with it is never
//! more than that address's struct. [`from_raw`] reads a struct only when
//! the family names it and the kernel's length covers all of it.
//!
//! | std | kernel | port and address |
//! | --- | --- | --- |
//! | `SocketAddr::V4` | `sockaddr_in` (`AF_INET`) | big-endian port; the four octets in order |
//! | `SocketAddr::V6` | `sockaddr_in6` (`AF_INET6`) | big-endian port; the sixteen octets, flow info and scope id as they are |

use std::io;
use std::mem::size_of;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};

/// The family of an IP address, as `socket(2)` wants it.
pub(super) fn ip_domain(addr: &SocketAddr) -> libc::c_int {
    match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    }
}

/// A socket address as the kernel wants it: IP ([`to_raw`] below) or Unix
/// (`unix_addr::to_raw`). The storage is zeroed before an address is
/// written into it, so every byte of it is initialised.
pub(super) struct RawAddr {
    pub(super) storage: libc::sockaddr_storage,
}

impl RawAddr {
    /// The storage as the `*const sockaddr` that `bind`, `connect` and
    /// `sendto` take.
    pub(super) fn as_ptr(&self) -> *const libc::sockaddr {
        (&self.storage as *const libc::sockaddr_storage).cast()
    }
}

/// `addr` as the kernel wants it (`sockaddr_in` or `sockaddr_in6`), and
/// the length of that struct.
pub(super) fn to_raw(addr: &SocketAddr) -> (RawAddr, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned
            // for sockaddr_in.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (RawAddr { storage }, len as libc::socklen_t)
}

/// The IP address the kernel wrote into `storage`, `len` bytes of it.
/// Anything but a complete `sockaddr_in` or `sockaddr_in6` is an error.
pub(super) fn from_raw(
    storage: &libc::sockaddr_storage,
    len: libc::socklen_t,
) -> io::Result<SocketAddr> {
    let len = len as usize;
    match storage.ss_family as i32 {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the storage holds a sockaddr_in, and it
            // is large enough and aligned for one.
            let sin: &libc::sockaddr_in =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast() };
            let ip = sin.sin_addr.s_addr.to_ne_bytes();
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip.into(),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6: &libc::sockaddr_in6 =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast() };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                sin6.sin6_addr.s6_addr.into(),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the kernel returned an address that is neither IPv4 nor IPv6",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_addresses_survive_the_round_trip_through_sockaddr_storage() {
        let v6 = SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 443, 7, 3));
        for addr in ["127.0.0.1:8080".parse().unwrap(), v6] {
            let (raw, len) = to_raw(&addr);
            assert_eq!(from_raw(&raw.storage, len).unwrap(), addr);
        }
    }

    #[test]
    fn a_length_short_of_the_family_s_struct_is_refused() {
        let addr: SocketAddr = "[::1]:80".parse().unwrap();
        let (raw, len) = to_raw(&addr);
        assert!(from_raw(&raw.storage, len - 1).is_err());
    }
}
