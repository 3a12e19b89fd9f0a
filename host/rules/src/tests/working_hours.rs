//! W1: working hours in Europe/Berlin across weekends, holidays and both
//! daylight-saving changes of 2026 (29 March and 25 October).

use super::harness::{at, berlin_office, hours};
use crate::ChannelInfo;
use frontdesk_routing::Span;

#[test]
fn w1_weekday_hours_and_weekend() {
    let h = berlin_office();
    assert!(h.is_open(at("2026-01-05T09:00:00+01:00")), "opens at 09:00");
    assert!(h.is_open(at("2026-01-05T16:59:59+01:00")));
    assert!(
        !h.is_open(at("2026-01-05T17:00:00+01:00")),
        "closes at 17:00"
    );
    assert!(!h.is_open(at("2026-01-05T08:59:59+01:00")));
    assert!(!h.is_open(at("2026-01-10T12:00:00+01:00")), "Saturday");
    assert!(!h.is_open(at("2026-01-11T12:00:00+01:00")), "Sunday");
    assert_eq!(
        h.next_open(at("2026-01-09T17:30:00+01:00")),
        Some(at("2026-01-12T09:00:00+01:00")),
        "Friday evening to Monday morning"
    );
    let open = at("2026-01-07T11:00:00+01:00");
    assert_eq!(h.next_open(open), Some(open), "already open");
}

#[test]
fn w1_several_ranges_a_day() {
    let h = hours(&[("mon", &["13:30-17:00", "09:00-12:30"])]);
    assert!(h.is_open(at("2026-01-05T12:00:00+01:00")));
    assert!(!h.is_open(at("2026-01-05T13:00:00+01:00")), "lunch");
    assert_eq!(
        h.next_open(at("2026-01-05T12:45:00+01:00")),
        Some(at("2026-01-05T13:30:00+01:00"))
    );
}

#[test]
fn w1_holiday_is_closed() {
    let h = berlin_office();
    // Friday 25 December 2026 is a weekday, but a holiday.
    let christmas = at("2026-12-25T10:00:00+01:00");
    assert!(!h.is_open(christmas));
    assert!(h.is_open(at("2026-12-24T10:00:00+01:00")));
    assert_eq!(
        h.next_open(christmas),
        Some(at("2026-12-28T09:00:00+01:00")),
        "Boxing Day is a holiday too, then the weekend"
    );
    let mut c = ChannelInfo::named("Support");
    c.working_hours = Some(h);
    assert!(!c.is_open(christmas));
}

#[test]
fn w1_berlin_dst_spring_forward() {
    let h = berlin_office();
    // After the change Berlin is UTC+2: 09:00 local is 07:00 UTC.
    assert_eq!(
        h.next_open(at("2026-03-28T12:00:00Z")),
        Some(at("2026-03-30T07:00:00Z"))
    );
    assert!(h.is_open(at("2026-03-30T14:30:00Z")), "16:30 local");
    // A fixed UTC+1 would still say 16:30 here; Berlin says 17:30: closed.
    assert!(!h.is_open(at("2026-03-30T15:30:00Z")));
    // Friday before, still winter time: 09:00 local is 08:00 UTC.
    assert!(!h.is_open(at("2026-03-27T07:30:00Z")));
    assert!(h.is_open(at("2026-03-27T08:00:00Z")));
}

#[test]
fn w1_berlin_dst_gap_opens_when_the_clocks_land() {
    // On 29 March 02:00 becomes 03:00: a range starting at 02:00 opens at
    // 03:00 CEST (01:00 UTC); one wholly inside the gap never opens that day.
    let h = hours(&[("sun", &["02:00-04:00"])]);
    assert_eq!(
        h.next_open(at("2026-03-28T12:00:00Z")),
        Some(at("2026-03-29T01:00:00Z"))
    );
    let h = hours(&[("sun", &["02:00-02:30"])]);
    assert_eq!(
        h.next_open(at("2026-03-28T12:00:00Z")),
        Some(at("2026-04-05T02:00:00+02:00")),
        "the next Sunday"
    );
    let h = hours(&[("sun", &["02:45-04:00"])]);
    assert_eq!(
        h.next_open(at("2026-03-29T00:59:00Z")),
        Some(at("2026-03-29T03:00:00+02:00")),
        "not 03:45, where shifting 02:45 by the gap would land"
    );
}

#[test]
fn w1_berlin_dst_fall_back() {
    // On 25 October 03:00 CEST becomes 02:00 CET: 02:00–03:00 happens twice,
    // and a range over it is open both times, two real hours.
    let h = hours(&[("sun", &["02:00-03:00"])]);
    assert!(!h.is_open(at("2026-10-24T23:59:00Z")), "01:59 CEST");
    assert!(h.is_open(at("2026-10-25T00:30:00Z")), "02:30 CEST");
    assert!(h.is_open(at("2026-10-25T01:30:00Z")), "02:30 CET");
    assert!(!h.is_open(at("2026-10-25T02:00:00Z")), "03:00 CET");
    assert_eq!(
        h.next_open(at("2026-10-24T12:00:00Z")),
        Some(at("2026-10-25T00:00:00Z")),
        "the first 02:00"
    );
    // A range the clocks fall back into reopens at the change itself.
    let h = hours(&[("sun", &["01:00-02:30"])]);
    assert!(!h.is_open(at("2026-10-25T02:40:00+02:00")));
    assert_eq!(
        h.next_open(at("2026-10-25T02:40:00+02:00")),
        Some(at("2026-10-25T02:00:00+01:00"))
    );
    // Office hours the day after: 09:00 CET is 08:00 UTC again.
    let office = berlin_office();
    assert!(!office.is_open(at("2026-10-26T07:30:00Z")));
    assert!(office.is_open(at("2026-10-26T08:00:00Z")));
    assert_eq!(
        office.next_open(at("2026-10-23T18:00:00Z")),
        Some(at("2026-10-26T08:00:00Z"))
    );
}

#[test]
fn w1_local_time_follows_the_zone() {
    let h = berlin_office();
    assert_eq!(
        h.local_time(at("2026-03-30T07:00:00Z")),
        "Monday 30 March, 09:00"
    );
    assert_eq!(
        h.local_time(at("2026-01-12T08:00:00Z")),
        "Monday 12 January, 09:00"
    );
}

#[test]
fn w1_a_year_of_holidays_never_opens() {
    let mut cfg = berlin_office().config().clone();
    let start = at("2026-01-01T00:00:00Z");
    cfg.holidays = (0..=420)
        .map(|d| {
            let ts =
                jiff::Timestamp::from_millisecond((start + Span::days(d)).as_millis()).unwrap();
            ts.to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .date()
                .to_string()
        })
        .collect();
    let h = crate::WorkingHours::from_config(cfg).unwrap();
    assert_eq!(h.next_open(start), None);
}

/// Minute by minute through both change weekends: `next_open` always names
/// the first minute `is_open` agrees with, and each change day has exactly
/// the open minutes its wall-clock ranges give once the clocks have moved.
#[test]
fn w1_next_open_agrees_with_is_open_minute_by_minute_across_dst() {
    let h = hours(&[
        ("sun", &["02:00-02:30", "02:45-04:00", "10:00-12:00"]),
        ("mon", &["09:00-17:00"]),
    ]);
    let minute = Span::minutes(1);
    // Spring: 02:00–03:00 is missing, so 60 + 120 minutes. Fall: 02:00–03:00
    // happens twice, so 2 × 30 + (2 × 15 + 60) + 120 minutes.
    for (from, sunday, sunday_minutes) in [
        ("2026-03-27T00:00:00Z", "2026-03-29T00:00:00+01:00", 180),
        ("2026-10-23T00:00:00Z", "2026-10-25T00:00:00+02:00", 270),
    ] {
        let start = at(from);
        let n = 5 * 1440;
        let times: Vec<_> = (0..n).map(|i| start + minute * i).collect();
        let open: Vec<bool> = times.iter().map(|&t| h.is_open(t)).collect();
        let mut next = None;
        for i in (0..times.len()).rev() {
            if open[i] {
                next = Some(times[i]);
            }
            if let Some(expected) = next {
                assert_eq!(h.next_open(times[i]), Some(expected), "at {}", times[i]);
            }
        }
        let sunday = at(sunday);
        let open_minutes = (0..25 * 60)
            .map(|m| sunday + minute * m)
            .filter(|&t| h.local_time(t).starts_with("Sunday") && h.is_open(t))
            .count();
        assert_eq!(open_minutes, sunday_minutes, "open minutes on {sunday}");
    }
}
