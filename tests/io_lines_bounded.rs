//! Bounded lines: a peer that never sends `\n` costs a bounded amount of
//! memory, with `lines_with_max` and with `take` on the reader.
//!
//! A counting global allocator tracks the bytes this thread holds, and
//! their peak, so the bound is measured, not assumed. The stream is
//! `repeat(b'x').take(100 MiB)`: it is never allocated.
#![cfg(feature = "io-util")]

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::ErrorKind;

use ember::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use support::{run, LIMIT};

struct Counting;

thread_local! {
    // `const`-initialised, without a destructor: reading them never
    // allocates, so the allocator may use them.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grew(by: isize) {
    let live = LIVE.with(|l| {
        l.set(l.get() + by);
        l.get()
    });
    PEAK.with(|p| p.set(p.get().max(live)));
}

// SAFETY: every call is passed on unchanged to `System`, which upholds
// `GlobalAlloc`'s contract; the counts are side effects on thread-local
// `Cell`s that neither allocate nor unwind.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: the caller's guarantees for `alloc` are passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        // SAFETY: `ptr` and `layout` came from this allocator, that is from
        // `System`, as the caller guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        grew(-(layout.size() as isize));
        // SAFETY: as for `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Resets the peak to what this thread holds now; returns that.
fn reset_peak() -> isize {
    let live = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(live));
    live
}

fn peak() -> isize {
    PEAK.with(Cell::get)
}

const STREAM: u64 = 100 << 20;
const MAX: usize = 64 * 1024;

#[test]
fn a_100_mib_line_without_newline_is_invalid_data_in_bounded_memory() {
    run(LIMIT, || async {
        let base = reset_peak();
        let reader = BufReader::new(ember::io::repeat(b'x').take(STREAM));
        let mut lines = reader.lines_with_max(MAX);
        assert_eq!(lines.max_line_len(), MAX);
        let err = lines.next_line().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        // The rest of the line is skipped, not kept: the stream then ends.
        assert!(lines.next_line().await.unwrap().is_none());
        assert_eq!(
            lines.get_ref().get_ref().limit(),
            0,
            "all 100 MiB were read"
        );
        let held = peak() - base;
        // The line's bound, the reader's 8 KiB, and small change.
        assert!(
            held < (MAX + 64 * 1024) as isize,
            "reading 100 MiB without a newline held {held} bytes at its peak"
        );
    });
}

#[test]
fn lines_after_an_overlong_one_are_read_as_usual() {
    run(LIMIT, || async {
        let long = ember::io::repeat(b'y').take(1 << 20);
        let input = (&b"first\r\n"[..])
            .chain(long)
            .chain(&b"\nsecond\nexactly8\r\n123456789"[..]);
        let mut lines = BufReader::new(input).lines_with_max(8);
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("first"));
        assert_eq!(
            lines.next_line().await.unwrap_err().kind(),
            ErrorKind::InvalidData
        );
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("second"));
        assert_eq!(
            lines.next_line().await.unwrap().as_deref(),
            Some("exactly8")
        );
        // The last line has no '\n' and is one byte over.
        assert_eq!(
            lines.next_line().await.unwrap_err().kind(),
            ErrorKind::InvalidData
        );
        assert!(lines.next_line().await.unwrap().is_none());
    });
}

#[test]
fn take_on_the_reader_bounds_one_read_line() {
    run(LIMIT, || async {
        let base = reset_peak();
        let mut reader = BufReader::new(ember::io::repeat(b'x').take(STREAM));
        let mut line = String::new();
        let n = (&mut reader)
            .take(MAX as u64)
            .read_line(&mut line)
            .await
            .unwrap();
        // Cut at the bound, without its '\n': the caller sees the line
        // was too long, and the rest is still in the reader.
        assert_eq!(n, MAX);
        assert!(!line.ends_with('\n'));
        assert!(reader.get_ref().limit() > STREAM / 2);
        let held = peak() - base;
        assert!(
            held < (2 * MAX + 64 * 1024) as isize,
            "held {held} bytes at its peak"
        );
    });
}
