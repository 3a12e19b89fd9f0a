//! A session as a readable plain-text transcript (O2), for the export
//! endpoint and the transcript email (O3).
//!
//! [`render_transcript`] is a pure function of plain data, so the email path
//! can fill a [`Transcript`] from wherever it likes and pass labels in the
//! customer's language.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::store::{Channel, Message, Millis, SessionEvent, SessionState};

/// What a transcript shows. Times are unix milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    pub session_id: i64,
    pub channel_name: String,
    pub customer_name: String,
    /// An IANA zone (the channel's working-hours zone, W1); `None`, or a name
    /// the tz database does not know, shows times in UTC.
    pub time_zone: Option<String>,
    pub started_at: Millis,
    /// When the session closed, if it has.
    pub closed_at: Option<Millis>,
    /// The messages, oldest first.
    pub lines: Vec<TranscriptLine>,
}

/// One message of a transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TranscriptLine {
    pub at: Millis,
    /// Who wrote it, as the reader should see it (customer, agent, bot).
    pub author: String,
    pub text: String,
    /// File names of attachments, shown after the text.
    pub attachments: Vec<String>,
}

impl TranscriptLine {
    /// A stored message as a line written by `author`; attachments by file
    /// name, or by kind when they have none.
    pub fn of_message(message: Message, author: String) -> TranscriptLine {
        TranscriptLine {
            at: message.created_at,
            author,
            attachments: message
                .attachments
                .iter()
                .map(|a| {
                    a.file_name
                        .clone()
                        .unwrap_or_else(|| a.kind.as_str().to_string())
                })
                .collect(),
            text: message.body,
        }
    }
}

/// When the session closed, from its recorded moves (S1).
pub fn closed_at(events: &[SessionEvent]) -> Option<Millis> {
    events
        .iter()
        .find(|e| e.to_state == SessionState::Closed)
        .map(|e| e.at)
}

/// The fixed words of a transcript, so O3 can pass another language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLabels {
    /// Followed by the session id.
    pub title: String,
    pub channel: String,
    pub customer: String,
    pub started: String,
    pub closed: String,
    /// Shown as the close time of a session still open.
    pub still_open: String,
    /// Followed by the zone name.
    pub times_in: String,
    pub attachment: String,
}

impl TranscriptLabels {
    pub fn english() -> Self {
        TranscriptLabels {
            title: "Transcript of session".into(),
            channel: "Channel".into(),
            customer: "Customer".into(),
            started: "Started".into(),
            closed: "Closed".into(),
            still_open: "still open".into(),
            times_in: "Times are in".into(),
            attachment: "attachment".into(),
        }
    }
}

impl Default for TranscriptLabels {
    fn default() -> Self {
        Self::english()
    }
}

/// The transcript as text: a header (channel, customer, dates, zone), a blank
/// line, then one `[YYYY-MM-DD HH:MM:SS] Name: text` line per message.
/// Further lines of a multi-line message are indented by two spaces, so every
/// message still starts with its time.
pub fn render_transcript(t: &Transcript, labels: &TranscriptLabels) -> String {
    let (zone, zone_name) = zone(t.time_zone.as_deref());
    let time = |at: Millis| format_time(at, &zone);
    let mut out = String::new();
    out.push_str(&format!("{} {}\n", labels.title, t.session_id));
    out.push_str(&format!(
        "{}: {}\n",
        labels.channel,
        one_line(&t.channel_name)
    ));
    out.push_str(&format!(
        "{}: {}\n",
        labels.customer,
        one_line(&t.customer_name)
    ));
    out.push_str(&format!("{}: {}\n", labels.started, time(t.started_at)));
    let closed = t.closed_at.map_or_else(|| labels.still_open.clone(), time);
    out.push_str(&format!("{}: {}\n", labels.closed, closed));
    out.push_str(&format!("{} {}.\n\n", labels.times_in, zone_name));
    for line in &t.lines {
        let mut text = line.text.trim_end().to_string();
        for name in &line.attachments {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(&format!("({}: {})", labels.attachment, one_line(name)));
        }
        let mut rows = text.lines();
        let first = rows.next().unwrap_or("");
        out.push_str(&format!(
            "[{}] {}: {}\n",
            time(line.at),
            one_line(&line.author),
            first
        ));
        for rest in rows {
            out.push_str("  ");
            out.push_str(rest);
            out.push('\n');
        }
    }
    out
}

/// The channel's working-hours zone (W1), if it has one.
pub fn channel_time_zone(channel: &Channel) -> Option<String> {
    channel.config.time_zone().map(str::to_owned)
}

/// The zone to show times in, and its name for the header.
fn zone(name: Option<&str>) -> (TimeZone, String) {
    match name.map(|n| (n, TimeZone::get(n))) {
        Some((name, Ok(zone))) => (zone, name.to_string()),
        _ => (TimeZone::UTC, "UTC".to_string()),
    }
}

fn format_time(at: Millis, zone: &TimeZone) -> String {
    match Timestamp::from_millisecond(at) {
        Ok(ts) => ts
            .to_zoned_datetime(zone.clone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => at.to_string(),
    }
}

/// Names and headers stay on one line whatever a customer typed.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-30 09:00:00 UTC.
    const T: Millis = 1_796_029_200_000;

    fn sample(zone: Option<&str>) -> Transcript {
        Transcript {
            session_id: 7,
            channel_name: "Site".into(),
            customer_name: "Mia\nRoe".into(),
            time_zone: zone.map(Into::into),
            started_at: T,
            closed_at: None,
            lines: vec![
                TranscriptLine {
                    at: T,
                    author: "Mia Roe".into(),
                    text: "hello\nsecond line".into(),
                    attachments: vec![],
                },
                TranscriptLine {
                    at: T + 61_000,
                    author: "bo".into(),
                    text: String::new(),
                    attachments: vec!["invoice.pdf".into()],
                },
            ],
        }
    }

    #[test]
    fn o2_transcript_has_a_header_and_one_timed_line_per_message() {
        let text = render_transcript(&sample(None), &TranscriptLabels::english());
        assert_eq!(
            text,
            "Transcript of session 7\n\
             Channel: Site\n\
             Customer: Mia Roe\n\
             Started: 2026-11-30 09:00:00\n\
             Closed: still open\n\
             Times are in UTC.\n\
             \n\
             [2026-11-30 09:00:00] Mia Roe: hello\n  second line\n\
             [2026-11-30 09:01:01] bo: (attachment: invoice.pdf)\n"
        );
    }

    #[test]
    fn o2_transcript_times_follow_the_channel_zone_and_fall_back_to_utc() {
        let berlin = render_transcript(&sample(Some("Europe/Berlin")), &Default::default());
        assert!(
            berlin.contains("[2026-11-30 10:00:00] Mia Roe: hello"),
            "{berlin}"
        );
        assert!(berlin.contains("Times are in Europe/Berlin."), "{berlin}");
        let unknown = render_transcript(&sample(Some("Mars/Olympus")), &Default::default());
        assert!(unknown.contains("[2026-11-30 09:00:00]"), "{unknown}");
        assert!(unknown.contains("Times are in UTC."), "{unknown}");
    }
}
