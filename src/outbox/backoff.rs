//! Retry timing: exponential steps from `backon`, full jitter on top, and
//! `Retry-After` (seconds or HTTP date) when the destination asks for longer.

use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use rand::Rng;

/// The retry schedule of a destination.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// First step.
    pub base: Duration,
    /// Largest step.
    pub cap: Duration,
    /// Largest Retry-After honoured.
    pub max_retry_after: Duration,
}

impl Schedule {
    /// Upper bound of the delay after failed attempt `attempt` (1-based): `min(cap, base·2^(attempt-1))`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        // Past 2^40 every step is the cap; clamping keeps the builder's arithmetic small.
        let n = attempt.clamp(1, 40) as usize;
        ExponentialBuilder::default()
            .with_min_delay(self.base)
            .with_max_delay(self.cap)
            .with_factor(2.0)
            .with_max_times(n)
            .build()
            .nth(n - 1)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// Full jitter: uniform in `[0, ceiling]`, then raised to `retry_after` (clamped) when the destination asked.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(attempt).as_millis() as u64;
        let jittered = Duration::from_millis(rng.gen_range(0..=ceiling));
        match retry_after {
            Some(r) => jittered.max(r.min(self.max_retry_after)),
            None => jittered,
        }
    }
}

/// A `Retry-After` value: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn schedule() -> Schedule {
        Schedule {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(3600),
        }
    }

    #[test]
    fn ceilings_double_up_to_the_cap() {
        let s = schedule();
        let got: Vec<u64> = (1..=10).map(|n| s.ceiling(n).as_millis() as u64).collect();
        assert_eq!(got, vec![500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
        assert_eq!(s.ceiling(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(90)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn jitter_spreads_a_herd() {
        // 1,000 messages failing together must not retry together.
        let s = schedule();
        let mut rng = rand::thread_rng();
        let mut buckets = [0u32; 10];
        for _ in 0..1000 {
            let d = s.delay(5, None, &mut rng).as_millis() as u64;
            buckets[(d * 10 / 8001).min(9) as usize] += 1;
        }
        assert!(buckets.iter().all(|&b| b < 250), "{buckets:?}");
    }

    proptest! {
        #[test]
        fn delay_within_bounds(attempt in 1u32..10_000, retry_after in proptest::option::of(0u64..10_000)) {
            let s = schedule();
            let ra = retry_after.map(Duration::from_secs);
            let d = s.delay(attempt, ra, &mut rand::thread_rng());
            let floor = ra.map(|r| r.min(s.max_retry_after)).unwrap_or_default();
            prop_assert!(d >= floor);
            prop_assert!(d <= s.ceiling(attempt).max(floor));
            prop_assert!(d <= s.cap.max(s.max_retry_after));
        }
    }
}
