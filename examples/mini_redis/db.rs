//! The key space: every key's value and when it expires, shared by all the
//! connections' tasks in an `Rc<RefCell<..>>` (one thread, so no lock).
//!
//! Expired keys are deleted when a command touches them (in
//! `command::execute`), and once a second [`sweep`] drops the ones nobody
//! touches.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use ember::time::Instant;

/// The key space. Shared by every connection's task; borrowed only for one
/// `command::execute` call or one sweep, never across an `.await`.
pub type Db = Rc<RefCell<HashMap<Vec<u8>, Entry>>>;

pub struct Entry {
    pub value: Vec<u8>,
    /// When the key expires (`None`: never).
    pub expires: Option<Instant>,
}

impl Entry {
    pub fn is_live(&self, now: Instant) -> bool {
        self.expires.is_none_or(|at| at > now)
    }
}

/// Once a second, deletes the expired keys that nobody has touched.
pub async fn sweep(db: Db) {
    loop {
        ember::time::sleep(Duration::from_secs(1)).await;
        let now = Instant::now();
        db.borrow_mut().retain(|_, entry| entry.is_live(now));
    }
}
