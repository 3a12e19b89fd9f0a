//! W1: a channel's working hours, in its own time zone.
//!
//! Hours are wall-clock times in the channel's IANA zone, so "09:00–17:00"
//! means nine in the morning in Berlin on both sides of a daylight-saving
//! change. The tz database is bundled (jiff `tzdb-bundle-always`), so every
//! machine agrees on the rules.

use std::collections::{BTreeMap, BTreeSet};

use jiff::ZonedDateTime;
use jiff::civil::Date;
use jiff::tz::{AmbiguousOffset, TimeZone};
use serde::{Deserialize, Serialize};

use frontdesk_routing::Timestamp;

/// The stored form of working hours, as an admin writes it:
///
/// ```json
/// {
///   "time_zone": "Europe/Berlin",
///   "days": { "mon": ["09:00-12:30", "13:30-17:00"], "fri": ["09:00-15:00"] },
///   "holidays": ["2026-12-25", "2026-12-26"]
/// }
/// ```
///
/// A weekday missing from `days` (or with an empty list) is a day off: that
/// is how weekends are written. `24:00` may end a range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingHoursConfig {
    /// An IANA time zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Opening ranges per weekday (`mon` … `sun`), `HH:MM-HH:MM`.
    pub days: BTreeMap<String, Vec<String>>,
    /// Whole days closed, `YYYY-MM-DD` in the channel's zone.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// Validated working hours (W1). Build with [`WorkingHours::from_config`] or
/// deserialize (which validates).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "WorkingHoursConfig", into = "WorkingHoursConfig")]
pub struct WorkingHours {
    config: WorkingHoursConfig,
    tz: TimeZone,
    /// Monday first; each day's ranges in minutes since local midnight,
    /// sorted and disjoint.
    week: [Vec<(u16, u16)>; 7],
    holidays: BTreeSet<Date>,
}

const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// How far `next_open` looks ahead. A year covers any run of holidays an
/// admin would enter; past it the answer is "not within a year".
const LOOKAHEAD_DAYS: i64 = 400;

/// Working hours an admin typed were refused. Each message names the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    /// `time_zone` is not in the tz database.
    #[error(
        "working_hours.time_zone: unknown time zone {given:?}; use an IANA name such as \"Europe/Berlin\" or \"America/New_York\""
    )]
    UnknownTimeZone {
        /// What was given.
        given: String,
    },
    /// A key of `days` is not a weekday.
    #[error("working_hours.days: unknown day {given:?}; use mon, tue, wed, thu, fri, sat or sun")]
    UnknownDay {
        /// What was given.
        given: String,
    },
    /// A range is not `HH:MM-HH:MM` with the start before the end.
    #[error("working_hours.{field}: {given:?} is not a range like \"09:00-17:00\" ({reason})")]
    BadRange {
        /// Where, e.g. `days.mon[1]`.
        field: String,
        /// What was given.
        given: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two ranges of one day overlap.
    #[error("working_hours.days.{day}: ranges {first:?} and {second:?} overlap; merge them")]
    Overlap {
        /// The weekday key.
        day: String,
        /// One range.
        first: String,
        /// The range that overlaps it.
        second: String,
    },
    /// A holiday is not a `YYYY-MM-DD` date.
    #[error("working_hours.{field}: {given:?} is not a date like \"2026-12-25\"")]
    BadHoliday {
        /// Where, e.g. `holidays[2]`.
        field: String,
        /// What was given.
        given: String,
    },
    /// No day has any hours, so the channel would never open.
    #[error(
        "working_hours.days: no open hours on any day; add ranges, or remove working hours to stay always open"
    )]
    NeverOpen,
}

impl WorkingHours {
    /// Validates an admin's config.
    pub fn from_config(config: WorkingHoursConfig) -> Result<Self, HoursError> {
        let tz = TimeZone::get(&config.time_zone).map_err(|_| HoursError::UnknownTimeZone {
            given: config.time_zone.clone(),
        })?;
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for (key, ranges) in &config.days {
            let Some(day) = DAY_KEYS.iter().position(|d| d == key) else {
                return Err(HoursError::UnknownDay { given: key.clone() });
            };
            let mut parsed = Vec::with_capacity(ranges.len());
            for (i, text) in ranges.iter().enumerate() {
                let range = parse_range(text).map_err(|reason| HoursError::BadRange {
                    field: format!("days.{key}[{i}]"),
                    given: text.clone(),
                    reason,
                })?;
                parsed.push((range, text));
            }
            parsed.sort();
            for pair in parsed.windows(2) {
                if pair[1].0.0 < pair[0].0.1 {
                    return Err(HoursError::Overlap {
                        day: key.clone(),
                        first: pair[0].1.clone(),
                        second: pair[1].1.clone(),
                    });
                }
            }
            week[day] = parsed.into_iter().map(|(r, _)| r).collect();
        }
        if week.iter().all(Vec::is_empty) {
            return Err(HoursError::NeverOpen);
        }
        let mut holidays = BTreeSet::new();
        for (i, text) in config.holidays.iter().enumerate() {
            let date = text
                .trim()
                .parse::<Date>()
                .map_err(|_| HoursError::BadHoliday {
                    field: format!("holidays[{i}]"),
                    given: text.clone(),
                })?;
            holidays.insert(date);
        }
        Ok(Self {
            config,
            tz,
            week,
            holidays,
        })
    }

    /// The config this was built from (what to store).
    pub fn config(&self) -> &WorkingHoursConfig {
        &self.config
    }

    /// The channel's time zone.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// The channel's time zone name.
    pub fn time_zone(&self) -> &str {
        &self.config.time_zone
    }

    /// Whether the channel is open at `at`: a listed range of that local
    /// weekday contains the local time, and the local date is no holiday.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let Ok(ts) = jiff::Timestamp::from_millisecond(at.as_millis()) else {
            // Outside jiff's ±9999-year range: no business hours there.
            return false;
        };
        let local = ts.to_zoned_datetime(self.tz.clone());
        if self.holidays.contains(&local.date()) {
            return false;
        }
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        let day = local.weekday().to_monday_zero_offset() as usize;
        self.week[day]
            .iter()
            .any(|&(start, end)| start <= minute && minute < end)
    }

    /// The first moment at or after `at` when the channel is open, or `None`
    /// if it stays closed for more than a year (holidays all the way).
    ///
    /// Daylight saving is handled as the clocks on the wall see it: a range
    /// starting inside a spring-forward gap opens when the clocks land (02:45
    /// becomes 03:00), and in an autumn fold a range can open twice, at its
    /// start in each occurrence of the repeated hour or at the change itself.
    pub fn next_open(&self, at: Timestamp) -> Option<Timestamp> {
        if self.is_open(at) {
            return Some(at);
        }
        let ts = jiff::Timestamp::from_millisecond(at.as_millis()).ok()?;
        let today = ts.to_zoned_datetime(self.tz.clone()).date();
        for offset in 0..=LOOKAHEAD_DAYS {
            let date = today.checked_add(jiff::Span::new().days(offset)).ok()?;
            if self.holidays.contains(&date) {
                continue;
            }
            // The channel can only go from closed to open where local time
            // enters a range: at a range's start, or by jumping at a change
            // of offset. `is_open` stays the single judge of each candidate.
            let first = self
                .candidates(date)
                .filter(|z| z.date() == date)
                .map(|z| Timestamp::from_millis(z.timestamp().as_millisecond()))
                .filter(|&c| c > at && self.is_open(c))
                .min();
            if first.is_some() {
                return first;
            }
        }
        None
    }

    /// Every instant on `date` where the channel might open: each range's
    /// start (both occurrences in a fold, the landing in a gap) and each
    /// change of offset that day.
    fn candidates(&self, date: Date) -> impl Iterator<Item = ZonedDateTime> + '_ {
        let day = jiff::Span::new().hours(26);
        let transitions = self
            .tz
            .to_ambiguous_zoned_datetime(date.at(0, 0, 0, 0))
            .earlier()
            .ok()
            .map(|midnight| {
                let from = midnight.timestamp();
                let until = from.checked_add(day).unwrap_or(from);
                self.tz
                    .following(from)
                    .map(|t| t.timestamp())
                    .take_while(move |t| *t < until)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let days = date.weekday().to_monday_zero_offset() as usize;
        let starts = self.week[days].iter().flat_map(move |&(start, _)| {
            let wall = date.at((start / 60) as i8, (start % 60) as i8, 0, 0);
            let ambiguous = self.tz.to_ambiguous_zoned_datetime(wall);
            // In a gap `earlier` lies before the missing hour; the next
            // transition is the landing. In a fold both occurrences count.
            let (first, second) = match ambiguous.offset() {
                AmbiguousOffset::Gap { .. } => (None, None),
                AmbiguousOffset::Fold { .. } => {
                    (ambiguous.clone().earlier().ok(), ambiguous.later().ok())
                }
                AmbiguousOffset::Unambiguous { .. } => (ambiguous.earlier().ok(), None),
            };
            first.into_iter().chain(second)
        });
        transitions
            .into_iter()
            .map(|t| t.to_zoned_datetime(self.tz.clone()))
            .chain(starts)
    }

    /// `at` as a local wall-clock time for messages, e.g. `Monday 30 March, 09:00`.
    pub fn local_time(&self, at: Timestamp) -> String {
        match jiff::Timestamp::from_millisecond(at.as_millis()) {
            Ok(ts) => ts
                .to_zoned_datetime(self.tz.clone())
                .strftime("%A %-d %B, %H:%M")
                .to_string(),
            Err(_) => String::new(),
        }
    }
}

impl TryFrom<WorkingHoursConfig> for WorkingHours {
    type Error = HoursError;
    fn try_from(config: WorkingHoursConfig) -> Result<Self, HoursError> {
        Self::from_config(config)
    }
}

impl From<WorkingHours> for WorkingHoursConfig {
    fn from(hours: WorkingHours) -> Self {
        hours.config
    }
}

impl PartialEq for WorkingHours {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

/// `HH:MM-HH:MM` to minutes since midnight.
fn parse_range(text: &str) -> Result<(u16, u16), &'static str> {
    let (start, end) = text
        .split_once('-')
        .ok_or("expected a '-' between start and end")?;
    let start = parse_clock(start.trim())?;
    let end = parse_clock(end.trim())?;
    if start >= end {
        return Err("the start must come before the end; split ranges past midnight over two days");
    }
    if start == 24 * 60 {
        return Err("a range can't start at 24:00");
    }
    Ok((start, end))
}

fn parse_clock(text: &str) -> Result<u16, &'static str> {
    let (h, m) = text.split_once(':').ok_or("times are HH:MM")?;
    let h: u16 = h.parse().map_err(|_| "times are HH:MM")?;
    let m: u16 = m.parse().map_err(|_| "times are HH:MM")?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err("times run from 00:00 to 24:00");
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(days: &[(&str, &[&str])]) -> WorkingHoursConfig {
        WorkingHoursConfig {
            time_zone: "Europe/Berlin".into(),
            days: days
                .iter()
                .map(|(d, r)| (d.to_string(), r.iter().map(|s| s.to_string()).collect()))
                .collect(),
            holidays: vec![],
        }
    }

    #[test]
    fn errors_name_the_field() {
        let mut c = config(&[("mon", &["09:00-17:00"])]);
        c.time_zone = "Europe/Berlín".into();
        let err = WorkingHours::from_config(c).unwrap_err();
        assert!(err.to_string().starts_with("working_hours.time_zone"));

        let c = config(&[("mon", &["09:00-17:00", "17:00-16:00"])]);
        let err = WorkingHours::from_config(c).unwrap_err().to_string();
        assert!(err.starts_with("working_hours.days.mon[1]"), "{err}");

        let c = config(&[("mon", &["09:00-13:00", "12:00-17:00"])]);
        assert!(matches!(
            WorkingHours::from_config(c),
            Err(HoursError::Overlap { .. })
        ));

        let c = config(&[("monday", &["09:00-17:00"])]);
        assert!(matches!(
            WorkingHours::from_config(c),
            Err(HoursError::UnknownDay { .. })
        ));

        let mut c = config(&[("mon", &["09:00-17:00"])]);
        c.holidays = vec!["2026-12-25".into(), "25.12.2026".into()];
        let err = WorkingHours::from_config(c).unwrap_err().to_string();
        assert!(err.starts_with("working_hours.holidays[1]"), "{err}");

        let c = config(&[("sat", &[])]);
        assert_eq!(WorkingHours::from_config(c), Err(HoursError::NeverOpen));

        for bad in ["9-17", "09:00-24:30", "09:60-10:00", "24:00-24:00"] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_range("00:00-24:00"), Ok((0, 1440)));
    }

    #[test]
    fn deserializing_validates_and_serializing_gives_the_config_back() {
        let json = r#"{"time_zone":"Europe/Berlin","days":{"mon":["09:00-17:00"]},"holidays":["2026-12-25"]}"#;
        let hours: WorkingHours = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&hours).unwrap(), json);
        let bad = r#"{"time_zone":"Mars/Olympus","days":{"mon":["09:00-17:00"]}}"#;
        let err = serde_json::from_str::<WorkingHours>(bad).unwrap_err();
        assert!(err.to_string().contains("working_hours.time_zone"), "{err}");
    }
}
