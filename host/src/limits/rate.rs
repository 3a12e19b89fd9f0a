//! How a rate reads on the command line (`30/min`, `off`), and the whole
//! rule set a server runs with (`--rate-limits`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::Rule;

/// `count` events per `per`, all of which may come at once (the burst);
/// after that one more every `per / count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    /// `count` per minute.
    pub const fn per_minute(count: u32) -> Rate {
        Rate {
            count,
            per: Duration::from_secs(60),
        }
    }

    /// `count` per hour.
    pub const fn per_hour(count: u32) -> Rate {
        Rate {
            count,
            per: Duration::from_secs(3_600),
        }
    }

    /// `count` per day.
    pub const fn per_day(count: u32) -> Rate {
        Rate {
            count,
            per: Duration::from_secs(86_400),
        }
    }
}

/// The units a rate may be given in, longest name first for the parser.
const UNITS: &[(&str, u64)] = &[("min", 60), ("s", 1), ("h", 3_600), ("d", 86_400)];

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Rate, String> {
        let bad = || {
            format!(
                "{text:?} is not a rate: write COUNT/UNIT such as 30/min (units s, min, h, d) or off"
            )
        };
        let (count, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 {
            return Err(format!(
                "{text:?}: a rate needs a count of at least 1; write off to turn the limit off"
            ));
        }
        let unit = unit.trim();
        let secs = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, secs)| *secs)
            .ok_or_else(bad)?;
        Ok(Rate {
            count,
            per: Duration::from_secs(secs),
        })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.per.as_secs();
        match UNITS.iter().find(|(_, s)| *s == secs) {
            Some((unit, _)) => write!(f, "{}/{unit}", self.count),
            None => write!(f, "{}/{secs}s", self.count),
        }
    }
}

/// The rate of every rule; `None` turns a rule off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    rates: [Option<Rate>; Rule::ALL.len()],
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            rates: Rule::ALL.map(|rule| Some(rule.default_rate())),
        }
    }
}

impl RateLimits {
    /// Every rule off (load tools, benchmarks).
    pub fn off() -> Self {
        RateLimits {
            rates: [None; Rule::ALL.len()],
        }
    }

    /// The rate `rule` runs with, if it is on.
    pub fn rate(&self, rule: Rule) -> Option<Rate> {
        self.rates[rule as usize]
    }

    /// Changes one rule.
    pub fn set(&mut self, rule: Rule, rate: Option<Rate>) {
        self.rates[rule as usize] = rate;
    }

    /// The defaults changed by `items`, each `off` (every rule off) or
    /// `RULE=RATE` / `RULE=off`, applied in order.
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut limits = RateLimits::default();
        for item in items.into_iter().map(str::trim).filter(|i| !i.is_empty()) {
            if item == "off" {
                limits = RateLimits::off();
                continue;
            }
            let Some((name, rate)) = item.split_once('=') else {
                return Err(format!(
                    "{item:?} must be RULE=RATE (e.g. visitors-per-ip=30/min) or off"
                ));
            };
            let rule = Rule::named(name.trim()).ok_or_else(|| {
                let names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
                format!(
                    "no rate limit is called {:?}; the rules are {}",
                    name.trim(),
                    names.join(", ")
                )
            })?;
            let rate = match rate.trim() {
                "off" => None,
                other => Some(other.parse::<Rate>().map_err(|e| format!("{name}: {e}"))?),
            };
            if let (Some(rate), Some(min)) = (rate, rule.min_count())
                && rate.count < min
            {
                return Err(format!(
                    "{name}={rate}: at least {min} are needed, or one largest widget message could never pass"
                ));
            }
            limits.set(rule, rate);
        }
        Ok(limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_and_print_in_the_units_people_write() {
        let rate: Rate = "30/min".parse().unwrap();
        assert_eq!(rate, Rate::per_minute(30));
        assert_eq!(rate.to_string(), "30/min");
        assert_eq!("5/h".parse::<Rate>().unwrap(), Rate::per_hour(5));
        assert_eq!("10 / d".parse::<Rate>().unwrap(), Rate::per_day(10));
        for bad in ["30", "0/min", "x/min", "3/week", "-1/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_spec_changes_named_rules_and_off_turns_all_off() {
        let limits = RateLimits::parse(["visitors-per-ip=2/s", "transcripts-per-ip=off"]).unwrap();
        assert_eq!(
            limits.rate(Rule::VisitorsPerIp),
            Some(Rate {
                count: 2,
                per: Duration::from_secs(1)
            })
        );
        assert_eq!(limits.rate(Rule::TranscriptsPerIp), None);
        assert_eq!(
            limits.rate(Rule::MessagesPerVisitor),
            Some(Rule::MessagesPerVisitor.default_rate())
        );
        let off = RateLimits::parse(["off", "visitors-per-ip=1/min"]).unwrap();
        assert_eq!(off.rate(Rule::VisitorsPerIp), Some(Rate::per_minute(1)));
        assert_eq!(off.rate(Rule::MessagesPerIp), None);
        let err = RateLimits::parse(["visitor-per-ip=1/min"]).unwrap_err();
        assert!(err.contains("visitors-per-ip"), "{err}");
        assert!(RateLimits::parse(["message-kib-per-visitor=8/min"]).is_err());
    }
}
