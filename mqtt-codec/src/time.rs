//! Time, as the state machines see it: only ever a value the caller passes in.
//!
//! The machines never read a clock. The caller picks an origin (process start, boot, the
//! start of a simulation) and passes the milliseconds elapsed since it as an [`Instant`]
//! to every input; the machines answer with the next [`Instant`] they need to be woken at.
//! Durations are `core::time::Duration`, so the type works the same with and without
//! `std`, on a microcontroller's tick counter as on `std::time::Instant`.

use core::fmt;
use core::time::Duration;

/// A point in time: milliseconds since an origin the caller chooses and keeps.
///
/// Millisecond resolution is finer than anything MQTT times (keep-alive, will delay and
/// session expiry are whole seconds); 64 bits of milliseconds last 584 million years, so
/// the arithmetic saturates instead of failing.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The origin.
    pub const ZERO: Instant = Instant(0);

    /// The instant `millis` milliseconds after the origin.
    pub const fn from_millis(millis: u64) -> Self {
        Instant(millis)
    }

    /// The instant `secs` seconds after the origin.
    pub const fn from_secs(secs: u64) -> Self {
        Instant(secs.saturating_mul(1000))
    }

    /// Milliseconds since the origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// How long after `earlier` this is; zero when it is not later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// This instant plus `d` (rounded down to the millisecond), saturating at the end of
    /// time.
    pub fn saturating_add(self, d: Duration) -> Instant {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(ms))
    }

    /// This instant plus `secs` seconds, saturating.
    pub(crate) const fn plus_secs(self, secs: u64) -> Instant {
        Instant(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    /// This instant plus `ms` milliseconds, saturating.
    pub(crate) const fn plus_millis(self, ms: u64) -> Instant {
        Instant(self.0.saturating_add(ms))
    }
}

impl core::ops::Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_secs(2);
        assert_eq!(t.as_millis(), 2000);
        assert_eq!(t + Duration::from_millis(5), Instant::from_millis(2005));
        assert_eq!(
            Instant::from_millis(u64::MAX) + Duration::from_secs(1),
            Instant::from_millis(u64::MAX)
        );
        assert_eq!(
            Instant::from_millis(5).saturating_duration_since(Instant::from_millis(9)),
            Duration::ZERO
        );
        assert_eq!(t.plus_secs(u64::MAX).as_millis(), u64::MAX);
        assert_eq!(alloc::format!("{t:?}"), "2.000s");
    }
}
