//! Time as plain data: the core never reads a clock, it is handed `now`.

use std::fmt;
use std::ops::{Add, Mul, Sub};

use serde::{Deserialize, Serialize};

/// A point in time: Unix milliseconds, the unit the store uses everywhere.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from Unix milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Unix milliseconds.
    pub const fn as_millis(self) -> i64 {
        self.0
    }
}

impl Add<Span> for Timestamp {
    type Output = Timestamp;
    fn add(self, rhs: Span) -> Timestamp {
        // Saturating so a hostile or corrupt snapshot can't make the core panic.
        Timestamp(self.0.saturating_add(rhs.0))
    }
}

impl Sub<Timestamp> for Timestamp {
    type Output = Span;
    fn sub(self, rhs: Timestamp) -> Span {
        Span(self.0.saturating_sub(rhs.0))
    }
}

impl Add for Span {
    type Output = Span;
    fn add(self, rhs: Span) -> Span {
        Span(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Span {
    type Output = Span;
    fn sub(self, rhs: Span) -> Span {
        Span(self.0.saturating_sub(rhs.0))
    }
}

impl Mul<i64> for Span {
    type Output = Span;
    fn mul(self, rhs: i64) -> Span {
        Span(self.0.saturating_mul(rhs))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// A length of time in milliseconds.
///
/// Not `std::time::Duration`: that one serializes as `{secs, nanos}` and can't
/// be negative, while the store keeps plain `i64` milliseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Span(pub i64);

impl Span {
    /// Zero length.
    pub const ZERO: Span = Span(0);

    /// `ms` milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    /// `s` seconds.
    pub const fn seconds(s: i64) -> Self {
        Self(s * 1_000)
    }
    /// `m` minutes.
    pub const fn minutes(m: i64) -> Self {
        Self(m * 60_000)
    }
    /// `h` hours.
    pub const fn hours(h: i64) -> Self {
        Self(h * 3_600_000)
    }
    /// `d` days.
    pub const fn days(d: i64) -> Self {
        Self(d * 86_400_000)
    }
    /// Milliseconds.
    pub const fn as_millis(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Span {
    /// Human units, because this ends up in error messages shown to admins.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        let (n, unit) = if ms != 0 && ms % 86_400_000 == 0 {
            (ms / 86_400_000, "day")
        } else if ms != 0 && ms % 3_600_000 == 0 {
            (ms / 3_600_000, "hour")
        } else if ms != 0 && ms % 60_000 == 0 {
            (ms / 60_000, "minute")
        } else if ms % 1_000 == 0 {
            (ms / 1_000, "second")
        } else {
            return write!(f, "{ms} ms");
        };
        let plural = if n == 1 { "" } else { "s" };
        write!(f, "{n} {unit}{plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_displays_in_human_units() {
        assert_eq!(Span::minutes(1).to_string(), "1 minute");
        assert_eq!(Span::hours(12).to_string(), "12 hours");
        assert_eq!(Span::seconds(30).to_string(), "30 seconds");
        assert_eq!(Span::from_millis(1500).to_string(), "1500 ms");
        assert_eq!(Span::days(7).to_string(), "7 days");
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Timestamp(i64::MAX) + Span::days(1), Timestamp(i64::MAX));
        assert_eq!(Timestamp(10) - Timestamp(4), Span(6));
    }
}
