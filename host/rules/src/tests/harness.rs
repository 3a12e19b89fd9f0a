//! A tiny stand-in for the host engine: it keeps one session's facts, runs
//! hooks under a virtual clock and applies their actions the way the engine
//! will, so scenarios read as stories. No clock is ever read.

use std::sync::Arc;

use crate::{
    Action, Author, ChannelInfo, ContactInfo, Hook, HookEvent, HookOutcome, RatingInfo, Rules,
    ScriptScope, SessionInfo, WorkingHours, WorkingHoursConfig,
};
use frontdesk_routing::{Mode, SessionId, State, Timestamp};

/// An RFC 3339 time, e.g. `2026-03-29T03:30:00+02:00`, as a timestamp.
pub fn at(rfc3339: &str) -> Timestamp {
    let ts: jiff::Timestamp = rfc3339.parse().expect("test times are RFC 3339");
    Timestamp::from_millis(ts.as_millisecond())
}

/// Berlin, Monday to Friday 09:00–17:00, closed at Christmas.
pub fn berlin_office() -> Arc<WorkingHours> {
    hours(&[
        ("mon", &["09:00-17:00"]),
        ("tue", &["09:00-17:00"]),
        ("wed", &["09:00-17:00"]),
        ("thu", &["09:00-17:00"]),
        ("fri", &["09:00-17:00"]),
    ])
}

/// Berlin hours with the given ranges, Christmas Day and Boxing Day off.
pub fn hours(days: &[(&str, &[&str])]) -> Arc<WorkingHours> {
    Arc::new(
        WorkingHours::from_config(WorkingHoursConfig {
            time_zone: "Europe/Berlin".into(),
            days: days
                .iter()
                .map(|(d, r)| (d.to_string(), r.iter().map(|s| s.to_string()).collect()))
                .collect(),
            holidays: vec!["2026-12-25".into(), "2026-12-26".into()],
        })
        .expect("test hours are valid"),
    )
}

/// A channel called "Support" in evenly mode with Berlin office hours.
pub fn channel() -> ChannelInfo {
    let mut c = ChannelInfo::named("Support");
    c.working_hours = Some(berlin_office());
    c.mode = Mode::Evenly;
    c
}

/// One session driven through hooks.
pub struct Sim {
    /// The rules under test.
    pub rules: Rules,
    /// The facts as the engine would build them for the next hook.
    pub event: HookEvent,
    /// Messages sent to the customer, with their time.
    pub sent: Vec<(Timestamp, String)>,
    /// Errors reported by `run_or_default`.
    pub errors: Vec<crate::RunError>,
    /// The A4 delay asked for by the last close.
    pub close_delay_ms: Option<i64>,
}

impl Sim {
    /// A fresh session opened by a customer message at `start`.
    pub fn new(channel: ChannelInfo) -> Self {
        let start = Timestamp::from_millis(0);
        Self {
            rules: Rules::new(),
            event: HookEvent {
                hook: None,
                now: start,
                session: SessionInfo {
                    id: SessionId(1),
                    state: State::Queued,
                    started_at: start,
                    last_message_at: start,
                    last_customer_message_at: None,
                    previous_customer_message_at: None,
                    last_agent_message_at: None,
                    customer_messages: 0,
                    agent_messages: 0,
                    last_author: None,
                    unanswered: false,
                    agent_name: None,
                },
                contact: ContactInfo::default(),
                channel,
                message: None,
                rating: None,
            },
            sent: Vec::new(),
            errors: Vec::new(),
            close_delay_ms: None,
        }
    }

    /// The texts sent so far.
    pub fn texts(&self) -> Vec<&str> {
        self.sent.iter().map(|(_, t)| t.as_str()).collect()
    }

    /// The customer writes at `now`: the engine stores the message, then runs
    /// the message hooks. Returns the hooks that ran.
    pub fn customer_writes(&mut self, now: Timestamp, text: &str) -> Vec<Hook> {
        let s = &mut self.event.session;
        if s.customer_messages == 0 {
            s.started_at = now;
        }
        s.previous_customer_message_at = s.last_customer_message_at;
        s.last_customer_message_at = Some(now);
        s.last_message_at = now;
        s.customer_messages += 1;
        s.last_author = Some(Author::Customer);
        if s.state == State::Waiting {
            s.state = State::Answered;
        }
        self.event.now = now;
        self.event.message = Some(text.to_owned());
        let hooks = Hook::for_customer_message(&self.event);
        for hook in &hooks {
            self.fire(*hook, now);
        }
        self.event.message = None;
        hooks
    }

    /// An agent replies at `now`.
    pub fn agent_writes(&mut self, now: Timestamp, name: &str) {
        let s = &mut self.event.session;
        s.last_agent_message_at = Some(now);
        s.last_message_at = now;
        s.agent_messages += 1;
        s.last_author = Some(Author::Agent);
        s.agent_name = Some(name.to_owned());
        s.state = State::Waiting;
        self.event.now = now;
    }

    /// The customer's rating arrives at `now`.
    pub fn customer_rates(&mut self, now: Timestamp, score: u8) -> HookOutcome {
        self.event.rating = Some(RatingInfo {
            score,
            comment: None,
        });
        let out = self.fire(Hook::RatingReceived, now);
        self.event.rating = None;
        out
    }

    /// Runs `hook` at `now` through `run_or_default` and applies the actions.
    pub fn fire(&mut self, hook: Hook, now: Timestamp) -> HookOutcome {
        self.event.now = now;
        let out = self
            .rules
            .run_or_default(ScriptScope::AllChannels, hook, &self.event);
        if let Some(e) = &out.error {
            self.errors.push(e.clone());
        }
        for action in out.actions.clone() {
            self.apply(action, now);
        }
        out
    }

    fn apply(&mut self, action: Action, now: Timestamp) {
        match action {
            Action::Reply { text } | Action::AskRating { text } => self.sent.push((now, text)),
            Action::BackToQueue => self.event.session.state = State::Queued,
            Action::Close { message } => {
                if let Some(text) = message {
                    self.sent.push((now, text));
                }
                let was_rating = self.event.session.state == State::Rating;
                self.event.session.state = State::Closed;
                // The router runs A3 when a session closes, except one that
                // was already closed and only waited for its rating.
                if !was_rating {
                    self.fire(Hook::Closed, now);
                }
            }
            Action::CloseAfter { delay_ms } => {
                self.close_delay_ms = Some(delay_ms);
                self.event.session.state = State::Closing;
            }
        }
    }
}
