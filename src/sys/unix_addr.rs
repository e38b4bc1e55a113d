//! Unix-domain socket addresses (`unix(7)`): std's
//! [`std::os::unix::net::SocketAddr`] to and from the kernel's `sockaddr_un`.
//!
//! Called by `socket.rs` for every Unix-domain call that takes or returns
//! an address; the result travels in `addr.rs`'s [`RawAddr`]. ember hands
//! out std's type rather than one of its own, so addresses move freely
//! between ember and std sockets. std can build every kind of address from
//! its parts, and that is all this file relies on:
//!
//! | kind | in `sockaddr_un` | std constructor |
//! | --- | --- | --- |
//! | pathname | `sun_path` = path bytes, then a NUL | `SocketAddr::from_pathname` |
//! | abstract (Linux) | `sun_path[0]` = 0, then the name's bytes (length from `len`) | `SocketAddrExt::from_abstract_name` |
//! | unnamed | nothing: `len` covers only `sun_family` | `from_pathname("")` (see [`unnamed`]) |
//!
//! Invariant: the length handed to the kernel never goes past `sun_path`'s
//! 108 bytes (checked here, not trusted to std), and `from_raw` reads
//! `sun_path` only as far as the kernel's length and the array allow.

use std::ffi::OsStr;
use std::io;
use std::mem::{offset_of, size_of};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::SocketAddr;

use super::addr::RawAddr;

/// Where `sun_path` starts: the length of an unnamed address.
const PATH_OFFSET: usize = offset_of!(libc::sockaddr_un, sun_path);

/// The longest `sun_path` (108 bytes on Linux).
const PATH_CAPACITY: usize = size_of::<libc::sockaddr_un>() - PATH_OFFSET;

/// `addr` as the kernel wants it, and its length.
pub(super) fn to_raw(addr: &SocketAddr) -> io::Result<(RawAddr, libc::socklen_t)> {
    let mut sun = libc::sockaddr_un {
        sun_family: libc::AF_UNIX as libc::sa_family_t,
        sun_path: [0; PATH_CAPACITY],
    };
    // Pathname: its bytes, then a NUL. Abstract: a NUL, then its bytes.
    // Either way one byte more than `bytes`; unnamed: nothing at all.
    let (start, bytes) = if let Some(path) = addr.as_pathname() {
        (0, path.as_os_str().as_bytes())
    } else if let Some(name) = addr.as_abstract_name() {
        (1, name)
    } else {
        (0, &[][..])
    };
    let used = if addr.is_unnamed() {
        0
    } else {
        bytes.len() + 1
    };
    // std's constructors already refuse what does not fit; checked again
    // rather than trusted, since a bad length here would be read by the
    // kernel.
    if used > PATH_CAPACITY {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "Unix socket address longer than sun_path (108 bytes)",
        ));
    }
    for (dst, &src) in sun.sun_path[start..].iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    let len = PATH_OFFSET + used;

    // SAFETY: an all-zero sockaddr_storage is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    // SAFETY: sockaddr_storage is, by definition, large enough and aligned
    // for every socket address type, sockaddr_un included.
    unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sun) };
    Ok((RawAddr { storage }, len as libc::socklen_t))
}

/// The address the kernel wrote into `storage`, `len` bytes of it.
pub(super) fn from_raw(
    storage: &libc::sockaddr_storage,
    len: libc::socklen_t,
) -> io::Result<SocketAddr> {
    let len = len as usize;
    // An unbound peer, or a call that had no address to give (`recvfrom` on
    // a stream), leaves nothing past the family.
    if len <= PATH_OFFSET {
        return unnamed();
    }
    if storage.ss_family != libc::AF_UNIX as libc::sa_family_t {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the kernel returned an address that is not a Unix socket address",
        ));
    }
    // SAFETY: the family says the storage holds a sockaddr_un, and the
    // storage is large enough and aligned for one.
    let sun: &libc::sockaddr_un = unsafe { &*(storage as *const libc::sockaddr_storage).cast() };
    let path_len = (len - PATH_OFFSET).min(PATH_CAPACITY);
    let mut bytes = [0u8; PATH_CAPACITY];
    for (dst, &src) in bytes.iter_mut().zip(&sun.sun_path[..path_len]) {
        *dst = src as u8;
    }
    let bytes = &bytes[..path_len];
    match bytes.split_first() {
        Some((0, name)) => SocketAddr::from_abstract_name(name),
        _ => {
            // A pathname ends at its NUL; the kernel may or may not count
            // the NUL in `len`.
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            SocketAddr::from_pathname(OsStr::from_bytes(&bytes[..end]))
        }
    }
}

/// The unnamed address: that of an unbound socket, or of either end of a
/// `socketpair`.
///
/// std has no constructor named for it, but an empty path gives exactly
/// that (`sun_path` empty, length = `sun_family` alone), which is also what
/// mio does. The unit test below checks that std keeps this behaviour.
fn unnamed() -> io::Result<SocketAddr> {
    SocketAddr::from_pathname("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(addr: &SocketAddr) -> SocketAddr {
        let (raw, len) = to_raw(addr).expect("to_raw");
        from_raw(&raw.storage, len).expect("from_raw")
    }

    #[test]
    fn an_empty_path_is_the_unnamed_address() {
        let addr = unnamed().unwrap();
        assert!(addr.is_unnamed());
        assert_eq!(addr.as_pathname(), None);
        assert_eq!(addr.as_abstract_name(), None);
    }

    #[test]
    fn a_pathname_survives_the_round_trip_through_sockaddr_un() {
        let addr = SocketAddr::from_pathname("/tmp/ember/some.sock").unwrap();
        let (_, len) = to_raw(&addr).unwrap();
        assert_eq!(len as usize, PATH_OFFSET + "/tmp/ember/some.sock".len() + 1);
        let back = round_trip(&addr);
        assert_eq!(
            back.as_pathname(),
            Some(std::path::Path::new("/tmp/ember/some.sock"))
        );
    }

    #[test]
    fn an_abstract_name_survives_the_round_trip_nuls_and_all() {
        let addr = SocketAddr::from_abstract_name(b"ember\0test").unwrap();
        let (_, len) = to_raw(&addr).unwrap();
        assert_eq!(len as usize, PATH_OFFSET + 1 + 10);
        let back = round_trip(&addr);
        assert_eq!(back.as_abstract_name(), Some(&b"ember\0test"[..]));
    }

    #[test]
    fn the_unnamed_address_survives_the_round_trip() {
        let addr = unnamed().unwrap();
        let (_, len) = to_raw(&addr).unwrap();
        assert_eq!(len as usize, PATH_OFFSET);
        assert!(round_trip(&addr).is_unnamed());
    }

    #[test]
    fn a_length_of_zero_reads_as_unnamed() {
        // SAFETY: an all-zero sockaddr_storage is a valid value.
        let storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        assert!(from_raw(&storage, 0).unwrap().is_unnamed());
    }

    #[test]
    fn a_path_of_the_longest_length_fits_and_one_longer_does_not() {
        let longest = "a".repeat(PATH_CAPACITY - 1);
        let addr = SocketAddr::from_pathname(&longest).unwrap();
        let back = round_trip(&addr);
        assert_eq!(back.as_pathname(), Some(std::path::Path::new(&longest)));
        assert!(SocketAddr::from_pathname("a".repeat(PATH_CAPACITY)).is_err());
    }
}
