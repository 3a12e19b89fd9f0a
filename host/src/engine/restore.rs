//! Rebuilding the router from the store: at start, and after a step that
//! could not be stored, so memory and disk never disagree.

use std::collections::HashMap;

use frontdesk_routing::config::AUTO_CLOSE_AFTER;
use frontdesk_routing::{
    AgentSnapshot, Router, SessionId, SessionSnapshot, Snapshot, Timer, Timestamp,
};

use super::EngineError;
use super::convert::channel_queue_config;
use crate::store::{EngineStore, Role, StoreError, Viewer};

fn corrupt(what: &str, err: impl std::fmt::Display) -> EngineError {
    EngineError::Store(StoreError::Invalid(format!(
        "stored routing {what} is unreadable: {err}"
    )))
}

pub(super) fn written_sessions(router: &Router) -> HashMap<i64, SessionSnapshot> {
    router
        .snapshot()
        .sessions
        .into_iter()
        .map(|s| (s.id.0, s))
        .collect()
}

/// The router exactly as the store last recorded it, or a new one on a first start.
pub(super) async fn restore(
    store: &dyn EngineStore,
    now: Timestamp,
) -> Result<Router, EngineError> {
    let rows = store.load_routing().await?;
    // A router always has its daily sweep (R15) pending; no timers at all
    // means routing never ran on this database.
    if rows.timers.is_empty() {
        return Ok(Router::new(now));
    }
    let agents = rows
        .agents
        .iter()
        .map(|json| serde_json::from_str::<AgentSnapshot>(json))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt("agent", e))?;
    let mut sessions = rows
        .sessions
        .iter()
        .map(|json| serde_json::from_str::<SessionSnapshot>(json))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| corrupt("session", e))?;
    // R16: the last message and the auto-close deadline come from `sessions`.
    let last: HashMap<i64, i64> = rows.last_messages.iter().copied().collect();
    let mut auto_close = Vec::with_capacity(sessions.len());
    for s in &mut sessions {
        if let Some(&at) = last.get(&s.id.0) {
            s.last_message_at = s.last_message_at.max(Timestamp::from_millis(at));
        }
        auto_close.push((Timer::AutoClose(s.id), s.last_message_at + AUTO_CLOSE_AFTER));
    }
    let mut timers = rows
        .timers
        .iter()
        .filter(|(kind, _, _)| kind != Timer::AutoClose(SessionId(0)).kind())
        .map(|(kind, subject, at)| {
            Timer::from_parts(kind, *subject)
                .map(|t| (t, Timestamp::from_millis(*at)))
                .ok_or_else(|| corrupt("timer", format!("{kind}/{subject}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    timers.extend(auto_close);
    timers.sort_unstable();
    let admin = Viewer {
        user_id: 0,
        role: Role::Admin,
    };
    let mut queues = Vec::new();
    for channel in store.list_channels(admin).await? {
        queues.push(channel_queue_config(
            &channel,
            &store.queue(channel.id).await?,
        ));
    }
    Ok(Router::restore(Snapshot {
        agents,
        queues,
        sessions,
        timers,
    })?)
}
