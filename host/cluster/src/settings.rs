//! Lease timing: how long a lease lives, how often it is renewed and fought
//! for, and the checks that keep those numbers consistent.

use std::time::Duration;

use crate::error::Error;

/// How the lease is timed. [`Settings::default`] takes over from a crashed
/// leader in under 5 s (see [`Settings::takeover_within`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// How long a lease lives past its last acquire or renew, on the
    /// database's clock (`expires_at = now() + ttl`). Bounds how long a crashed
    /// leader blocks routing.
    pub ttl: Duration,
    /// How often the leader renews. Several renewals fit in one ttl, so a lost
    /// one or two cost nothing.
    pub renew_every: Duration,
    /// How often a follower tries to acquire. Adds at most this much to a
    /// takeover after the lease expires.
    pub acquire_every: Duration,
    /// How long the driver waits for one lease call before reporting
    /// [`Reply::Failed`](crate::Reply::Failed). Not above either interval, so a
    /// hung call never holds back the next attempt.
    pub call_timeout: Duration,
    /// How much earlier than the database the leader gives up its lease: it
    /// stops at `sent + ttl - margin` on its own monotonic clock, measured from
    /// when it *sent* the last successful renew. Absorbs the node's clock
    /// running faster than the database's; safety never depends on it (the
    /// fencing token does that), only /healthz honesty and useless work.
    pub margin: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(3),
            renew_every: Duration::from_secs(1),
            acquire_every: Duration::from_secs(1),
            call_timeout: Duration::from_secs(1),
            margin: Duration::from_millis(500),
        }
    }
}

impl Settings {
    /// Checks the settings agree with each other; the error says what to
    /// change.
    pub fn validate(&self) -> Result<(), Error> {
        let defaults = Settings::default();
        for (name, value, default) in [
            ("ttl", self.ttl, defaults.ttl),
            ("renew_every", self.renew_every, defaults.renew_every),
            ("acquire_every", self.acquire_every, defaults.acquire_every),
            ("call_timeout", self.call_timeout, defaults.call_timeout),
        ] {
            if value.is_zero() {
                return Err(Error::Zero { name, default });
            }
        }
        let needed = self
            .renew_every
            .saturating_mul(2)
            .saturating_add(self.margin);
        if self.ttl < needed {
            return Err(Error::TtlTooShort {
                ttl: self.ttl,
                renew_every: self.renew_every,
                margin: self.margin,
                needed,
            });
        }
        for (which, interval) in [("renew", self.renew_every), ("acquire", self.acquire_every)] {
            if self.call_timeout > interval {
                return Err(Error::CallTimeoutTooLong {
                    call_timeout: self.call_timeout,
                    which,
                    interval,
                });
            }
        }
        Ok(())
    }

    /// The longest a takeover can take after the leader dies without
    /// releasing, if the database answers every call within `db_delay` each
    /// way.
    ///
    /// The dead leader's last renew reaches the database at most `db_delay`
    /// after the crash, so the lease expires by `crash + db_delay + ttl`. A
    /// follower sends an acquire at least every `acquire_every`, so one
    /// reaches the database after the expiry within another `acquire_every +
    /// db_delay`, and its answer takes `db_delay` more.
    pub fn takeover_within(&self, db_delay: Duration) -> Duration {
        self.ttl + self.acquire_every + db_delay * 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_take_over_in_under_five_seconds() {
        let settings = Settings::default();
        assert_eq!(settings.validate(), Ok(()));
        // The target, with a slow database (250 ms each way).
        assert!(settings.takeover_within(Duration::from_millis(250)) < Duration::from_secs(5));
    }

    #[test]
    fn a_zero_interval_is_refused_with_its_name_and_default() {
        let settings = Settings {
            renew_every: Duration::ZERO,
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err();
        assert_eq!(
            error,
            Error::Zero {
                name: "renew_every",
                default: Duration::from_secs(1)
            }
        );
        assert!(
            error
                .to_string()
                .contains("`renew_every` must be above zero"),
            "{error}"
        );
    }

    #[test]
    fn a_ttl_that_one_lost_renewal_would_end_is_refused() {
        let settings = Settings {
            ttl: Duration::from_millis(2_400),
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err();
        assert_eq!(
            error,
            Error::TtlTooShort {
                ttl: Duration::from_millis(2_400),
                renew_every: Duration::from_secs(1),
                margin: Duration::from_millis(500),
                needed: Duration::from_millis(2_500),
            }
        );
        assert!(
            error.to_string().contains("raise the ttl to at least 2.5s"),
            "{error}"
        );
        // Exactly the minimum passes.
        let settings = Settings {
            ttl: Duration::from_millis(2_500),
            ..Settings::default()
        };
        assert_eq!(settings.validate(), Ok(()));
    }

    #[test]
    fn a_call_timeout_above_either_interval_is_refused() {
        let settings = Settings {
            acquire_every: Duration::from_millis(500),
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err();
        assert!(
            matches!(
                error,
                Error::CallTimeoutTooLong {
                    which: "acquire",
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("lower the call timeout"),
            "{error}"
        );
        let settings = Settings {
            renew_every: Duration::from_millis(800),
            ttl: Duration::from_secs(3),
            ..Settings::default()
        };
        assert!(matches!(
            settings.validate(),
            Err(Error::CallTimeoutTooLong { which: "renew", .. })
        ));
    }
}
