//! A log-linear latency histogram (HDR-style) over nanosecond values.
//!
//! Values below 128 ns get an exact bucket each; above that, every power of
//! two is split into 128 equal buckets, so a reported percentile is within
//! 1/128 (< 0.8 %) of the true sample. Recording is O(1) and the memory is
//! fixed (~60 KiB) however many samples are recorded.

/// Number of linear sub-buckets per power of two, as a power of two.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Enough buckets for any `u64` value.
const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) << SUB_BITS;

/// Counts of nanosecond samples in log-linear buckets.
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    pub fn new() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }

    /// Records one sample, in nanoseconds.
    pub fn record(&mut self, nanos: u64) {
        self.counts[bucket_of(nanos)] += 1;
        self.total += 1;
        self.max = self.max.max(nanos);
    }

    /// Number of samples recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Largest sample recorded, in nanoseconds (0 if empty).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The `q`-quantile (`0.0..=1.0`) in nanoseconds: the midpoint of the
    /// bucket holding the sample of rank `ceil(q * count)`. 0 if empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                let (low, high) = bucket_range(index);
                // Never report more than the largest value actually seen.
                return (low + (high - low) / 2).min(self.max);
            }
        }
        self.max
    }
}

/// Index of the bucket holding `v`.
fn bucket_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let msb = 63 - v.leading_zeros(); // >= SUB_BITS
    let shift = msb - SUB_BITS;
    let sub = (v >> shift) - SUB; // in 0..SUB
    (((shift + 1) as usize) << SUB_BITS) + sub as usize
}

/// The inclusive range of values that land in bucket `index`.
fn bucket_range(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < SUB {
        return (index, index);
    }
    let shift = (index >> SUB_BITS) - 1;
    let sub = index & (SUB - 1);
    let low = (SUB + sub) << shift;
    (low, low + ((1u64 << shift) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_values_exactly_once() {
        for v in (0..100_000u64).chain([u64::MAX - 1, u64::MAX]) {
            let (low, high) = bucket_range(bucket_of(v));
            assert!(low <= v && v <= high, "{v} not in {low}..={high}");
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        // Adjacent buckets are contiguous.
        for i in 1..BUCKETS {
            assert_eq!(bucket_range(i - 1).1 + 1, bucket_range(i).0);
        }
    }

    #[test]
    fn quantiles_are_close() {
        let mut h = Histogram::new();
        for v in 1..=10_000u64 {
            h.record(v * 1000);
        }
        assert_eq!(h.count(), 10_000);
        for (q, want) in [
            (0.5, 5_000_000f64),
            (0.99, 9_900_000.0),
            (1.0, 10_000_000.0),
        ] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.01, "q={q}: {got} vs {want}");
        }
        assert_eq!(Histogram::new().quantile(0.5), 0);
    }
}
