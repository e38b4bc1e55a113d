//! `UCred`: the credentials of a Unix socket's peer, with tokio's names.
//!
//! Made by `UnixStream::peer_cred` from `SO_PEERCRED` (`sys/sockopt.rs`):
//! the kernel records the peer's process, user and group when the
//! connection is made (at `connect`, or at `socketpair` for a pair), and
//! keeps them, whatever the peer does afterwards (a `setuid`, an `exec`,
//! passing the fd to another process).

/// A user id (`uid_t` on Linux).
#[allow(non_camel_case_types)]
pub type uid_t = u32;
/// A group id (`gid_t` on Linux).
#[allow(non_camel_case_types)]
pub type gid_t = u32;
/// A process id (`pid_t` on Linux).
#[allow(non_camel_case_types)]
pub type pid_t = i32;

/// The credentials of a Unix socket's peer, as the kernel recorded them
/// when the connection was made (see
/// [`UnixStream::peer_cred`](super::UnixStream::peer_cred)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UCred {
    pid: Option<pid_t>,
    uid: uid_t,
    gid: gid_t,
}

impl UCred {
    pub(crate) fn new(pid: pid_t, uid: uid_t, gid: gid_t) -> UCred {
        UCred {
            pid: Some(pid),
            uid,
            gid,
        }
    }

    /// The peer's effective user id.
    pub fn uid(&self) -> uid_t {
        self.uid
    }

    /// The peer's effective group id.
    pub fn gid(&self) -> gid_t {
        self.gid
    }

    /// The peer's process id. Always `Some` on Linux (an `Option` for
    /// parity with the systems where it is not known). A process in another
    /// pid namespace reads as 0.
    pub fn pid(&self) -> Option<pid_t> {
        self.pid
    }
}
