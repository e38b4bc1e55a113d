//! `ReadBuf`: a byte buffer that may start uninitialised, so a reader can
//! read into fresh memory without zeroing it first.
//!
//! Used by `AsyncRead::poll_read_buf` (which the fd-backed readers
//! override to hand the unfilled region straight to `recv`), by
//! `AsyncReadExt::read_buf` (a `Vec`'s spare capacity) and by the `hyper`
//! glue (hyper's own uninitialised buffers).
//!
//! The buffer is split in three regions, as in tokio's type of the same
//! name:
//!
//! ```text
//! [ filled | initialised, not filled | uninitialised ]
//! 0     filled                   initialized       capacity
//! ```
//!
//! # Invariant
//! `filled <= initialized <= buf.len()`, and `buf[..initialized]` holds
//! initialised bytes. Every `unsafe` block below stands on it; every method
//! that moves `filled` or `initialized` keeps it (those that cannot check
//! it are `unsafe fn`s whose callers promise it). This is one of the three
//! files with `unsafe` outside `sys/` and the task cell: the buffer's whole
//! point is memory that safe Rust will not let be read before it is
//! written (`docs/unsafe.md` lists each site).

use std::fmt;
use std::mem::MaybeUninit;

/// A buffer being filled by a read; see the module docs for its regions.
///
/// ```
/// use std::mem::MaybeUninit;
/// use ember::io::ReadBuf;
///
/// let mut storage = [MaybeUninit::<u8>::uninit(); 16];
/// let mut buf = ReadBuf::uninit(&mut storage);
/// buf.put_slice(b"hello");
/// assert_eq!(buf.filled(), b"hello");
/// assert_eq!(buf.remaining(), 11);
/// ```
pub struct ReadBuf<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    filled: usize,
    initialized: usize,
}

impl<'a> ReadBuf<'a> {
    /// A buffer over initialised bytes: all of it counts as initialised,
    /// none as filled.
    pub fn new(buf: &'a mut [u8]) -> ReadBuf<'a> {
        let initialized = buf.len();
        // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and
        // the region starts initialised, which `initialized` records; no
        // method ever writes uninitialised bytes into it (`MaybeUninit`
        // writes through this view would de-initialise the caller's `[u8]`,
        // so none is offered before `initialized`).
        let buf = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        ReadBuf {
            buf,
            filled: 0,
            initialized,
        }
    }

    /// A buffer over memory that may be uninitialised: nothing filled,
    /// nothing initialised.
    pub fn uninit(buf: &'a mut [MaybeUninit<u8>]) -> ReadBuf<'a> {
        ReadBuf {
            buf,
            filled: 0,
            initialized: 0,
        }
    }

    /// Its size, filled or not.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The filled region.
    pub fn filled(&self) -> &[u8] {
        // SAFETY: `filled <= initialized`: these bytes are initialised.
        unsafe { slice_assume_init(&self.buf[..self.filled]) }
    }

    /// The filled region, mutably.
    pub fn filled_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `filled`.
        unsafe { slice_assume_init_mut(&mut self.buf[..self.filled]) }
    }

    /// The initialised region (filled and not).
    pub fn initialized(&self) -> &[u8] {
        // SAFETY: the invariant: `buf[..initialized]` is initialised.
        unsafe { slice_assume_init(&self.buf[..self.initialized]) }
    }

    /// The initialised region, mutably.
    pub fn initialized_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `initialized`.
        unsafe { slice_assume_init_mut(&mut self.buf[..self.initialized]) }
    }

    /// How many bytes may still be filled.
    pub fn remaining(&self) -> usize {
        self.capacity() - self.filled
    }

    /// Forgets what was filled (the bytes stay initialised).
    pub fn clear(&mut self) {
        self.filled = 0;
    }

    /// Marks `n` more bytes filled.
    ///
    /// # Panics
    /// If they are not initialised (past `initialized()`).
    #[track_caller]
    pub fn advance(&mut self, n: usize) {
        let filled = self.filled.saturating_add(n);
        self.set_filled(filled);
    }

    /// Sets the filled length.
    ///
    /// # Panics
    /// Past the initialised region.
    #[track_caller]
    pub fn set_filled(&mut self, n: usize) {
        assert!(
            n <= self.initialized,
            "ReadBuf: filled ({n}) cannot pass the initialised region ({})",
            self.initialized
        );
        self.filled = n;
    }

    /// Records that the first `n` unfilled bytes have been initialised
    /// (written by a syscall, say).
    ///
    /// # Safety
    /// `unfilled_mut()[..n]` must really be initialised.
    // SAFETY: an `unsafe fn`; its `# Safety` section is the caller's part.
    pub unsafe fn assume_init(&mut self, n: usize) {
        let end = self.filled + n;
        if end > self.initialized {
            self.initialized = end.min(self.buf.len());
        }
    }

    /// The unfilled region, uninitialised parts included, to write into.
    ///
    /// # Safety
    /// The caller must not write uninitialised bytes (`MaybeUninit::uninit()`)
    /// into it: the part before `initialized` must stay initialised.
    // SAFETY: an `unsafe fn`; its `# Safety` section is the caller's part.
    pub unsafe fn unfilled_mut(&mut self) -> &mut [MaybeUninit<u8>] {
        &mut self.buf[self.filled..]
    }

    /// Zeroes what is left uninitialised of the unfilled region, and
    /// returns the unfilled region (the way a plain `&mut [u8]` reader is
    /// given a `ReadBuf`).
    pub fn initialize_unfilled(&mut self) -> &mut [u8] {
        self.initialize_unfilled_to(self.remaining())
    }

    /// The first `n` unfilled bytes, initialised (zeroed if they were not).
    ///
    /// # Panics
    /// If fewer than `n` remain.
    #[track_caller]
    pub fn initialize_unfilled_to(&mut self, n: usize) -> &mut [u8] {
        assert!(
            n <= self.remaining(),
            "ReadBuf: {n} bytes asked, fewer remain"
        );
        let end = self.filled + n;
        if self.initialized < end {
            for byte in &mut self.buf[self.initialized..end] {
                byte.write(0);
            }
            self.initialized = end;
        }
        // SAFETY: `buf[filled..end]` is initialised: it was before
        // `initialized`, or was just zeroed.
        unsafe { slice_assume_init_mut(&mut self.buf[self.filled..end]) }
    }

    /// Appends `data` to the filled region.
    ///
    /// # Panics
    /// If it does not fit.
    #[track_caller]
    pub fn put_slice(&mut self, data: &[u8]) {
        assert!(
            data.len() <= self.remaining(),
            "ReadBuf: {} bytes put, {} remain",
            data.len(),
            self.remaining()
        );
        let end = self.filled + data.len();
        for (dst, &src) in self.buf[self.filled..end].iter_mut().zip(data) {
            dst.write(src);
        }
        self.filled = end;
        self.initialized = self.initialized.max(end);
    }

    /// A `ReadBuf` over the first `n` unfilled bytes (what a reader with a
    /// length limit hands on). Its filled bytes must then be added here
    /// with [`advance`](Self::advance), after [`assume_init`](Self::assume_init).
    pub fn take(&mut self, n: usize) -> ReadBuf<'_> {
        let n = n.min(self.remaining());
        let initialized = self.initialized.saturating_sub(self.filled).min(n);
        ReadBuf {
            buf: &mut self.buf[self.filled..self.filled + n],
            filled: 0,
            initialized,
        }
    }
}

impl fmt::Debug for ReadBuf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadBuf")
            .field("filled", &self.filled)
            .field("initialized", &self.initialized)
            .field("capacity", &self.capacity())
            .finish()
    }
}

/// Reads from `reader` into `vec`'s spare capacity (at most `max` bytes),
/// with no zeroing, and adds what was read to its length. `Ready(Ok(0))` at
/// end of stream (or with no spare capacity).
///
/// # Panics
/// If `reader` swapped the `ReadBuf` it was handed for another one (a
/// reader that does so is broken; going on would count bytes `vec` never
/// received).
#[cfg(feature = "io-util")]
pub(crate) fn poll_read_vec<R: super::AsyncRead + ?Sized>(
    reader: std::pin::Pin<&mut R>,
    cx: &mut std::task::Context<'_>,
    vec: &mut Vec<u8>,
    max: usize,
) -> std::task::Poll<std::io::Result<usize>> {
    let spare = vec.spare_capacity_mut();
    let len = spare.len().min(max);
    let start = spare.as_ptr();
    let mut buf = ReadBuf::uninit(&mut spare[..len]);
    std::task::ready!(reader.poll_read_buf(cx, &mut buf))?;
    assert!(
        std::ptr::eq(buf.buf.as_ptr(), start),
        "an AsyncRead::poll_read_buf replaced the buffer it was given"
    );
    let n = buf.filled;
    // SAFETY: `buf` is the same memory as `vec`'s spare capacity (checked
    // above), and its first `n = filled` bytes are initialised (the
    // invariant), so `vec`'s next `n` bytes are; `n <= len <= spare`.
    unsafe { vec.set_len(vec.len() + n) };
    std::task::Poll::Ready(Ok(n))
}

/// Runs `read` on a `ReadBuf` over `vec`'s spare capacity (64 bytes are
/// reserved first if there is none, as `bytes`' `BufMut` does for a
/// `Vec`), and adds what it filled to `vec`'s length: for the sockets'
/// `try_read_buf` and `recv_buf` family. On error `vec` is unchanged.
///
/// # Panics
/// If `read` swapped the `ReadBuf` it was handed for another one (ember's
/// callers never do).
#[cfg(feature = "net")]
pub(crate) fn fill_vec<T>(
    vec: &mut Vec<u8>,
    read: impl FnOnce(&mut ReadBuf<'_>) -> std::io::Result<T>,
) -> std::io::Result<T> {
    if vec.capacity() == vec.len() {
        vec.reserve(64);
    }
    let spare = vec.spare_capacity_mut();
    let start = spare.as_ptr();
    let mut buf = ReadBuf::uninit(spare);
    let result = read(&mut buf)?;
    assert!(
        std::ptr::eq(buf.buf.as_ptr(), start),
        "a read replaced the buffer it was given"
    );
    let n = buf.filled;
    // SAFETY: `buf` is the same memory as `vec`'s spare capacity (checked
    // above), and its first `n = filled` bytes are initialised (the
    // invariant), so `vec`'s next `n` bytes are; `n <= spare`.
    unsafe { vec.set_len(vec.len() + n) };
    Ok(result)
}

/// Whether `buf` is still made over the memory that starts at `start` (a
/// reader handed a `ReadBuf` could replace it with one of its own).
#[cfg(feature = "hyper")]
pub(crate) fn points_at(buf: &ReadBuf<'_>, start: *const MaybeUninit<u8>) -> bool {
    std::ptr::eq(buf.buf.as_ptr(), start)
}

/// # Safety
/// Every byte of `s` must be initialised.
// SAFETY: an `unsafe fn`; its `# Safety` section is the caller's part.
unsafe fn slice_assume_init(s: &[MaybeUninit<u8>]) -> &[u8] {
    // SAFETY: same layout; the caller promises the bytes are initialised.
    unsafe { &*(s as *const [MaybeUninit<u8>] as *const [u8]) }
}

/// # Safety
/// Every byte of `s` must be initialised.
// SAFETY: an `unsafe fn`; its `# Safety` section is the caller's part.
unsafe fn slice_assume_init_mut(s: &mut [MaybeUninit<u8>]) -> &mut [u8] {
    // SAFETY: as above.
    unsafe { &mut *(s as *mut [MaybeUninit<u8>] as *mut [u8]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_move_as_bytes_are_put_and_initialised() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut storage);
        assert_eq!((buf.filled().len(), buf.initialized().len()), (0, 0));
        buf.put_slice(b"ab");
        assert_eq!(buf.filled(), b"ab");
        assert_eq!(buf.initialize_unfilled_to(3), &[0, 0, 0]);
        assert_eq!(buf.initialized().len(), 5);
        buf.advance(1);
        assert_eq!(buf.filled(), b"ab\0");
        buf.clear();
        assert_eq!(buf.initialized().len(), 5, "clear keeps bytes initialised");
    }

    #[test]
    fn a_buffer_over_initialised_bytes_needs_no_zeroing() {
        let mut bytes = *b"xyz";
        let mut buf = ReadBuf::new(&mut bytes);
        assert_eq!(buf.initialized(), b"xyz");
        assert_eq!(buf.initialize_unfilled(), b"xyz");
    }

    #[test]
    #[should_panic(expected = "cannot pass the initialised region")]
    fn advancing_past_the_initialised_region_panics() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 4];
        ReadBuf::uninit(&mut storage).advance(1);
    }

    #[test]
    fn take_limits_the_unfilled_region() {
        let mut storage = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut storage);
        buf.put_slice(b"1");
        let mut part = buf.take(3);
        assert_eq!(part.capacity(), 3);
        part.put_slice(b"23");
        // SAFETY: `put_slice` initialised the two bytes.
        unsafe { buf.assume_init(2) };
        buf.advance(2);
        assert_eq!(buf.filled(), b"123");
    }
}
