//! The routing inbox's wire form (issue 18): an [`Event`] with ids only, the
//! [`Actor`] of a forwarded action, and the leader's answer, as the JSON in
//! `routing_inbox.event` and `routing_answers.outcome`.
//!
//! Nodes of different versions share the tables during a rolling upgrade,
//! so each value carries a version (`v`) and its kind by name: a kind or a
//! version this node does not know is an error it logs and answers, never
//! a panic. The leader reads what the ids name as it is when it applies the
//! event (a user for `agent_changed`, a channel's queue for
//! `queue_changed`), so a row never carries data the store already has.
//!
//! Plain data with no engine state: ingest's store code writes rows with
//! [`inbound`] in the message's own transaction.

use frontdesk_routing::{AgentId, Interval, MessageOutcome, QueueId, SessionId, Span, State};
use serde::{Deserialize, Serialize};

use super::{Actor, EngineError, Event, Outcome};

/// The version this node writes and reads.
pub const VERSION: u32 = 1;

/// An event as a row carries it: ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WireEvent {
    SessionOpened {
        session: i64,
        channel: i64,
        contact: i64,
        responsible: Option<i64>,
    },
    CustomerMessage {
        session: i64,
    },
    AgentMessage {
        session: i64,
        agent: i64,
        text: String,
    },
    Accept {
        session: i64,
        agent: i64,
    },
    Take {
        session: i64,
        agent: i64,
    },
    TransferToAgent {
        session: i64,
        agent: i64,
    },
    TransferToQueue {
        session: i64,
        channel: i64,
    },
    Close {
        session: i64,
    },
    /// The leader reads the user as stored.
    AgentChanged {
        user: i64,
    },
    Activity {
        agent: i64,
    },
    Disconnected {
        agent: i64,
    },
    ChannelChanged {
        channel: i64,
    },
    /// The leader reads the queue as stored.
    QueueChanged {
        channel: i64,
    },
    BotHandover {
        session: i64,
    },
}

/// [`Actor`] on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireActor {
    pub user: i64,
    pub oversees: bool,
}

/// One inbox row's JSON.
#[derive(Serialize)]
struct Envelope<'a> {
    v: u32,
    event: &'a WireEvent,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<WireActor>,
}

/// Why a row's JSON could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    /// Not JSON, or not an object with a version.
    #[error("the routing event is not in frontdesk's wire form ({0}); it was dropped")]
    Malformed(String),
    /// Written by a frontdesk with another wire version.
    #[error(
        "the routing event has wire version {0}, this frontdesk reads version {VERSION}; run the same frontdesk version on every node"
    )]
    Version(u64),
    /// A kind this version does not know (a newer node wrote it).
    #[error(
        "the routing event is of a kind this frontdesk does not know ({0}); run the same frontdesk version on every node"
    )]
    UnknownKind(String),
}

impl WireEvent {
    /// The wire form of `event`: the ids it names.
    pub fn of(event: &Event) -> WireEvent {
        match event {
            Event::SessionOpened {
                session,
                channel,
                contact,
                responsible,
            } => WireEvent::SessionOpened {
                session: session.0,
                channel: channel.0,
                contact: *contact,
                responsible: responsible.map(|a| a.0),
            },
            Event::CustomerMessage { session } => WireEvent::CustomerMessage { session: session.0 },
            Event::AgentMessage {
                session,
                agent,
                text,
            } => WireEvent::AgentMessage {
                session: session.0,
                agent: agent.0,
                text: text.clone(),
            },
            Event::Accept { session, agent } => WireEvent::Accept {
                session: session.0,
                agent: agent.0,
            },
            Event::Take { session, agent } => WireEvent::Take {
                session: session.0,
                agent: agent.0,
            },
            Event::TransferToAgent { session, agent } => WireEvent::TransferToAgent {
                session: session.0,
                agent: agent.0,
            },
            Event::TransferToQueue { session, channel } => WireEvent::TransferToQueue {
                session: session.0,
                channel: channel.0,
            },
            Event::Close { session } => WireEvent::Close { session: session.0 },
            Event::AgentChanged(user) => WireEvent::AgentChanged { user: user.id },
            Event::Activity { agent } => WireEvent::Activity { agent: agent.0 },
            Event::Disconnected { agent } => WireEvent::Disconnected { agent: agent.0 },
            Event::ChannelChanged { channel } => WireEvent::ChannelChanged { channel: channel.0 },
            Event::QueueChanged { channel, .. } => WireEvent::QueueChanged { channel: channel.0 },
            Event::BotHandover { session } => WireEvent::BotHandover { session: session.0 },
        }
    }

    /// The event again, for every kind that names ids only; `Err` with the
    /// user's id for `agent_changed`, which the leader reads from the store.
    /// A queue change becomes a channel change: both make the leader read
    /// the channel's queue and settings as stored now.
    pub fn into_event(self) -> Result<Event, i64> {
        let s = SessionId;
        Ok(match self {
            WireEvent::SessionOpened {
                session,
                channel,
                contact,
                responsible,
            } => Event::SessionOpened {
                session: s(session),
                channel: QueueId(channel),
                contact,
                responsible: responsible.map(AgentId),
            },
            WireEvent::CustomerMessage { session } => Event::CustomerMessage {
                session: s(session),
            },
            WireEvent::AgentMessage {
                session,
                agent,
                text,
            } => Event::AgentMessage {
                session: s(session),
                agent: AgentId(agent),
                text,
            },
            WireEvent::Accept { session, agent } => Event::Accept {
                session: s(session),
                agent: AgentId(agent),
            },
            WireEvent::Take { session, agent } => Event::Take {
                session: s(session),
                agent: AgentId(agent),
            },
            WireEvent::TransferToAgent { session, agent } => Event::TransferToAgent {
                session: s(session),
                agent: AgentId(agent),
            },
            WireEvent::TransferToQueue { session, channel } => Event::TransferToQueue {
                session: s(session),
                channel: QueueId(channel),
            },
            WireEvent::Close { session } => Event::Close {
                session: s(session),
            },
            WireEvent::AgentChanged { user } => return Err(user),
            WireEvent::Activity { agent } => Event::Activity {
                agent: AgentId(agent),
            },
            WireEvent::Disconnected { agent } => Event::Disconnected {
                agent: AgentId(agent),
            },
            WireEvent::ChannelChanged { channel } | WireEvent::QueueChanged { channel } => {
                Event::ChannelChanged {
                    channel: QueueId(channel),
                }
            }
            WireEvent::BotHandover { session } => Event::BotHandover {
                session: s(session),
            },
        })
    }
}

/// A row's JSON for `event`, from `actor` if it is a person's action (R18).
pub fn encode(event: &Event, actor: Option<Actor>) -> String {
    let envelope = Envelope {
        v: VERSION,
        event: &WireEvent::of(event),
        actor: actor.map(|a| WireActor {
            user: a.user,
            oversees: a.oversees,
        }),
    };
    serde_json::to_string(&envelope).expect("a wire event serializes")
}

/// Reads a row's JSON back.
pub fn decode(json: &str) -> Result<(WireEvent, Option<Actor>), WireError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| WireError::Malformed(e.to_string()))?;
    check_version(&value)?;
    let event = value
        .get("event")
        .ok_or_else(|| WireError::Malformed("no `event`".into()))?;
    let kind = event.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let event: WireEvent = serde_json::from_value(event.clone()).map_err(|e| {
        if e.to_string().starts_with("unknown variant") {
            WireError::UnknownKind(kind.to_string())
        } else {
            WireError::Malformed(e.to_string())
        }
    })?;
    let actor = match value.get("actor") {
        None | Some(serde_json::Value::Null) => None,
        Some(actor) => {
            let a: WireActor = serde_json::from_value(actor.clone())
                .map_err(|e| WireError::Malformed(format!("actor: {e}")))?;
            Some(Actor {
                user: a.user,
                oversees: a.oversees,
            })
        }
    };
    Ok((event, actor))
}

fn check_version(value: &serde_json::Value) -> Result<(), WireError> {
    match value.get("v").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(VERSION) => Ok(()),
        Some(v) => Err(WireError::Version(v)),
        None => Err(WireError::Malformed("no version `v`".into())),
    }
}

/// Ingest's row for a stored message, if routing must hear of it: see
/// [`Event::inbound`].
pub fn inbound(channel: i64, accepted: &crate::store::Accepted) -> Option<String> {
    Event::inbound(channel, accepted).map(|event| encode(&event, None))
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Interval", rename_all = "snake_case")]
enum IntervalDef {
    Forward,
    Unanswered,
}

/// The routing core's refusal, kept whole so the forwarding node answers
/// exactly what the leader's engine did. A remote definition: a variant
/// added to the core's error fails to compile here until it is added.
#[derive(Serialize, Deserialize)]
#[serde(
    remote = "frontdesk_routing::Error",
    tag = "kind",
    content = "detail",
    rename_all = "snake_case"
)]
enum RefusalDef {
    IntervalOutOfRange {
        #[serde(with = "IntervalDef")]
        which: Interval,
        given: Span,
        min: Span,
        max: Span,
    },
    ZeroLimit {
        queue: QueueId,
    },
    NegativeCloseDelay {
        queue: QueueId,
        given: Span,
    },
    NonPositiveTimeout {
        queue: QueueId,
        given: Span,
    },
    DuplicateMember {
        queue: QueueId,
        agent: AgentId,
    },
    UnknownAgent(AgentId),
    UnknownQueue(QueueId),
    UnknownSession(SessionId),
    SessionExists(SessionId),
    NotOffered {
        session: SessionId,
        agent: AgentId,
    },
    AlreadyTaken {
        session: SessionId,
        holder: AgentId,
    },
    WrongState {
        session: SessionId,
        state: State,
    },
    AgentDismissed(AgentId),
    LimitReached {
        agent: AgentId,
        queue: QueueId,
    },
    BadSnapshot(String),
}

/// The leader's answer on the wire. An agent's reply is `replied`: the
/// answer row names the stored message, which the forwarding node reads.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum WireAnswer {
    Done,
    Message {
        outcome: MessageOutcome,
    },
    Replied,
    Refused {
        #[serde(with = "RefusalDef")]
        refusal: frontdesk_routing::Error,
    },
    NotStored {
        reason: String,
    },
    Stopped,
    NotRouting {
        reason: String,
    },
}

#[derive(Serialize, Deserialize)]
struct AnswerEnvelope {
    v: u32,
    answer: WireAnswer,
}

/// The answer's JSON for `outcome`. A store error goes as its text: the
/// forwarding node answers it as not stored (503), which its caller may retry.
pub fn encode_answer(outcome: &Result<Outcome, EngineError>) -> String {
    let answer = match outcome {
        Ok(Outcome::Done) => WireAnswer::Done,
        Ok(Outcome::Message(outcome)) => WireAnswer::Message { outcome: *outcome },
        Ok(Outcome::Replied(_)) => WireAnswer::Replied,
        Err(EngineError::Refused(refusal)) => WireAnswer::Refused {
            refusal: refusal.clone(),
        },
        Err(EngineError::Store(err)) => WireAnswer::NotStored {
            reason: err.to_string(),
        },
        Err(EngineError::NotStored(reason)) => WireAnswer::NotStored {
            reason: reason.clone(),
        },
        Err(EngineError::Stopped) => WireAnswer::Stopped,
        Err(EngineError::NotRouting(reason)) => WireAnswer::NotRouting {
            reason: reason.clone(),
        },
    };
    let envelope = AnswerEnvelope { v: VERSION, answer };
    serde_json::to_string(&envelope).expect("a wire answer serializes")
}

/// The answer for an agent's reply the step stored: the answer row names
/// the stored message.
pub fn encode_replied() -> String {
    let envelope = AnswerEnvelope {
        v: VERSION,
        answer: WireAnswer::Replied,
    };
    serde_json::to_string(&envelope).expect("a wire answer serializes")
}

/// What an answer says: the leader's result, or that it stored an agent's
/// reply, which the caller reads from the store.
#[derive(Debug)]
pub enum Answer {
    Ready(Result<Outcome, EngineError>),
    Replied,
}

/// Reads an answer back; an answer this node cannot read is an error
/// saying so, never a panic.
pub fn decode_answer(json: &str) -> Answer {
    let unreadable = |why: String| {
        Answer::Ready(Err(EngineError::NotStored(format!(
            "the routing node's answer cannot be read ({why}); the action may have taken effect: refresh to see"
        ))))
    };
    let value: serde_json::Value = match serde_json::from_str(json) {
        Ok(value) => value,
        Err(err) => return unreadable(err.to_string()),
    };
    if let Err(err) = check_version(&value) {
        return unreadable(err.to_string());
    }
    let answer = match serde_json::from_value::<AnswerEnvelope>(value) {
        Ok(envelope) => envelope.answer,
        Err(err) => return unreadable(err.to_string()),
    };
    Answer::Ready(match answer {
        WireAnswer::Done => Ok(Outcome::Done),
        WireAnswer::Message { outcome } => Ok(Outcome::Message(outcome)),
        WireAnswer::Replied => return Answer::Replied,
        WireAnswer::Refused { refusal } => Err(EngineError::Refused(refusal)),
        WireAnswer::NotStored { reason } => Err(EngineError::NotStored(reason)),
        WireAnswer::Stopped => Err(EngineError::Stopped),
        WireAnswer::NotRouting { reason } => Err(EngineError::NotRouting(reason)),
    })
}

#[cfg(test)]
#[path = "tests_wire.rs"]
mod tests;
