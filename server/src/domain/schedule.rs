//! When an ACTIVE connection is next validated (docs/api.md#scheduled-re-validation):
//! one interval after its last outcome, give or take a tenth (so connections
//! activated together drift apart), and after a retryable failure sooner,
//! with back-off.

use std::time::Duration;

/// The spread around the interval: ±10 %.
const JITTER: f64 = 0.10;
/// The first retry after a retryable failure comes after this share of the
/// interval (1 h of a day), doubling with each failure in a row.
const FIRST_RETRY_SHARE: u32 = 24;

/// The re-validation settings (`CLOUDCONN_REVALIDATE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revalidation {
    /// Between two scheduled validations of one connection; zero turns the
    /// schedule off.
    pub interval: Duration,
    /// Scheduled validations a replica starts per provider per second.
    pub rate: u32,
}

impl Revalidation {
    pub const OFF: Revalidation = Revalidation { interval: Duration::ZERO, rate: 1 };

    pub fn is_on(&self) -> bool {
        !self.interval.is_zero()
    }

    /// From now, the delay until the next validation after a success (or
    /// an outcome that leaves nothing to retry): the interval ± 10 %.
    /// `unit` is a uniform draw in [0, 1).
    pub fn after_success(&self, unit: f64) -> Duration {
        jittered(self.interval, unit)
    }

    /// From now, the delay until the next try after the `failures`-th
    /// retryable failure in a row: 1/24 of the interval, doubling, at most
    /// the interval; ± 10 % too.
    pub fn after_retryable_failure(&self, failures: u32, unit: f64) -> Duration {
        let first = self.interval / FIRST_RETRY_SHARE;
        let doublings = failures.saturating_sub(1).min(16);
        let backoff = first.saturating_mul(1 << doublings).min(self.interval);
        jittered(backoff, unit)
    }
}

fn jittered(base: Duration, unit: f64) -> Duration {
    let factor = 1.0 - JITTER + 2.0 * JITTER * unit.clamp(0.0, 1.0);
    base.mul_f64(factor)
}

/// A uniform draw in [0, 1) for the jitter.
pub fn draw() -> f64 {
    use rand::Rng;
    rand::rng().random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn success_schedules_within_a_tenth_of_the_interval() {
        let r = Revalidation { interval: DAY, rate: 10 };
        assert_eq!(r.after_success(0.0), DAY.mul_f64(0.9));
        assert_eq!(r.after_success(0.5), DAY);
        assert!(r.after_success(0.999_999) <= DAY.mul_f64(1.1));
        for _ in 0..1000 {
            let d = r.after_success(draw());
            assert!(d >= DAY.mul_f64(0.9) && d <= DAY.mul_f64(1.1), "{d:?}");
        }
    }

    #[test]
    fn retries_back_off_from_an_hour_a_day_doubling_to_the_interval() {
        let r = Revalidation { interval: DAY, rate: 10 };
        let hour = Duration::from_secs(3600);
        assert_eq!(r.after_retryable_failure(1, 0.5), hour);
        assert_eq!(r.after_retryable_failure(2, 0.5), hour * 2);
        assert_eq!(r.after_retryable_failure(5, 0.5), hour * 16);
        assert_eq!(r.after_retryable_failure(6, 0.5), DAY);
        assert_eq!(r.after_retryable_failure(u32::MAX, 0.5), DAY);
        assert_eq!(r.after_retryable_failure(0, 0.5), hour, "a first failure however counted");
    }

    #[test]
    fn zero_is_off() {
        assert!(!Revalidation::OFF.is_on());
        assert!(Revalidation { interval: Duration::from_millis(1), rate: 1 }.is_on());
    }
}
