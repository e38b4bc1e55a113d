//! The monotonic clock: `clock_gettime(2)` with `CLOCK_MONOTONIC`, as
//! nanoseconds.
//!
//! Called by `time::clock` (what `time::Instant::now()` and the loop read).
//! It is the clock `std::time::Instant` reads on Linux, read the same way
//! (through the vDSO, no syscall), but handed back as one `u64` of
//! nanoseconds since boot, so that the timer store's arithmetic on it is
//! integer arithmetic: a `std::time::Instant` would cost a `timespec`
//! subtraction (about 50 instructions) each time a deadline is filed.
//! A `u64` of nanoseconds lasts 584 years of uptime.

/// Nanoseconds on `CLOCK_MONOTONIC`.
#[inline]
pub(crate) fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a local `timespec`, valid and writable for the call;
    // the kernel writes it and keeps no pointer. CLOCK_MONOTONIC always
    // exists on Linux, so the call cannot fail (`EINVAL`, `EFAULT` are
    // ruled out by the arguments); if it somehow did, `ts` stays zero.
    let ret = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    debug_assert_eq!(ret, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
    // Both fields are non-negative for CLOCK_MONOTONIC.
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}
