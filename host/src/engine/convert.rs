//! Between the store's rows and the routing core's types.

use frontdesk_routing::{
    AgentId, AgentStatus, Command, Mode, QueueConfig, QueueId, SessionLimit, Span, Timer,
};

use crate::store::{Channel, Queue, QueueMode, RoutingBatch, SessionState, TransitionRow, User};

/// The core's view of a user: disabled users count as dismissed (R13).
pub fn agent_status(user: &User) -> AgentStatus {
    AgentStatus {
        dismissed: user.dismissed || user.disabled,
        vacation: user.vacation,
        clocked_in: user.clocked_in,
        on_break: user.on_break,
    }
}

/// The core's configuration for a channel: its queue's settings plus the
/// channel's A5 conversation timeout (`timeout_secs` in its config).
pub fn channel_queue_config(channel: &Channel, queue: &Queue) -> QueueConfig {
    let mut config = queue_config(channel.id, queue);
    config.conversation_timeout = channel
        .config
        .conversation_timeout_secs()
        .map(Span::seconds);
    config
}

/// The core's configuration for a channel's queue; `validate()` it before storing.
pub fn queue_config(channel: i64, queue: &Queue) -> QueueConfig {
    let o = &queue.options;
    QueueConfig {
        id: QueueId(channel),
        members: queue.agents.iter().copied().map(AgentId).collect(),
        mode: match queue.mode {
            QueueMode::Evenly => Mode::Evenly,
            QueueMode::Strict => Mode::Strict,
            QueueMode::Everybody => Mode::Everybody,
        },
        forward_interval: Span::seconds(queue.forward_interval_secs),
        unanswered_interval: Span::seconds(queue.unanswered_interval_secs),
        require_clocked_in: o.require_clocked_in,
        require_online: o.require_online,
        watch_availability: o.watch_availability,
        limit: o.session_limit.map(|max| SessionLimit {
            max,
            exclude: o.limit_exclusion,
        }),
        route_to_responsible: o.route_to_responsible,
        close_delay: Span::seconds(o.close_delay_secs),
        ask_rating: o.ask_rating,
        close_on_rating: o.close_on_rating,
        transfer_makes_responsible: o.transfer_makes_responsible,
        // A channel setting, not a queue one: see `channel_queue_config`.
        conversation_timeout: None,
    }
}

/// The snake_case name serde gives a unit variant, for text columns.
fn name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Adds one command's persistent part to the batch; commands that only have
/// effects (console events, hooks) add nothing.
pub fn record(batch: &mut RoutingBatch, command: &Command) {
    match command {
        Command::SaveSession(s) => {
            batch.sessions.insert(s.id.0, Some(json(s)));
        }
        Command::ForgetSession(id) => {
            batch.sessions.insert(id.0, None);
        }
        Command::SaveAgent(a) => {
            batch.agents.insert(a.id.0, json(a));
        }
        Command::SetTimer { timer, at } => {
            batch.timers.insert(timer_key(*timer), Some(at.as_millis()));
        }
        Command::ClearTimer { timer } => {
            batch.timers.insert(timer_key(*timer), None);
        }
        Command::Transition(t) => batch.transitions.push(TransitionRow {
            session_id: t.session.0,
            channel_id: t.queue.0,
            from_state: t.from.map(SessionState::from),
            to_state: t.to.into(),
            agent_id: t.holder.map(|a| a.0),
            cause: name(&t.cause),
            at: t.at.as_millis(),
        }),
        Command::MakeResponsible {
            session,
            agent,
            replace,
        } => batch.responsible.push((session.0, agent.0, *replace)),
        Command::MarkUnanswered { session } => batch.unanswered.push(session.0),
        // Effects only: offers and releases reach the consoles through the
        // live hub, notices are written by the step itself (they need their
        // text), hooks run after the step is stored.
        Command::Offer { .. }
        | Command::WithdrawOffer { .. }
        | Command::Assign { .. }
        | Command::Release { .. }
        | Command::NotifyCustomer { .. }
        | Command::RunHook { .. } => {}
    }
}

fn timer_key(timer: Timer) -> (String, i64) {
    (timer.kind().to_string(), timer.subject())
}

/// The core's snapshots are plain serde structs, stored as JSON text.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("routing snapshots always serialise")
}
