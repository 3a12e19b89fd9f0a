//! The message log beyond the chat (O2): every session of a contact for the
//! contact's card, and a session exported as JSON or as a readable transcript.
//!
//! Access is the sessions' rule (P1, P2): admins read everything, others the
//! sessions of their channels and the ones they hold.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiPath, ApiQuery, AppState, Caller, ErrorBody};
use crate::store::{
    Channel, Contact, Direction, Message, RatingRow, Role, Session, SessionEvent, Store, Viewer,
};
use crate::transcript::{Transcript, TranscriptLabels, TranscriptLine, render_transcript};

/// Messages read per query when a whole log is needed.
const PAGE: i64 = 1000;
/// Messages shown per session on the contact's card; the chat pages on.
const CARD_MESSAGES: i64 = 500;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(contact_sessions))
        .routes(routes!(export_json))
        .routes(routes!(transcript_txt))
}

/// Paging through a contact's sessions, newest first.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactSessionsPage {
    /// Only sessions with a smaller id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// At most this many sessions (default 10, at most 50).
    pub limit: Option<i64>,
}

/// One session of the contact with its messages, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionLog {
    pub session: Session,
    pub messages: Vec<Message>,
    /// True when the session has more than the 500 messages shown; read the
    /// rest from `/sessions/{id}/messages?after=`.
    pub more_messages: bool,
}

/// A page of a contact's sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactSessions {
    pub sessions: Vec<SessionLog>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next_before: Option<i64>,
}

/// Every session of a contact the caller may see, with messages (O2).
#[utoipa::path(get, path = "/contacts/{id}/sessions", tag = "contacts",
    params(("id" = i64, Path), ContactSessionsPage),
    responses((status = 200, body = ContactSessions), (status = 404, body = ErrorBody)))]
async fn contact_sessions(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<ContactSessionsPage>,
) -> Result<Json<ContactSessions>, ApiError> {
    let limit = page.limit.unwrap_or(10).clamp(1, 50);
    let mut sessions = state
        .store
        .contact_sessions(caller.viewer(), id, page.before, limit + 1)
        .await?;
    if sessions.is_empty() && state.store.contact(caller.viewer(), id).await?.is_none() {
        return Err(ApiError::not_found("contact", id));
    }
    let next_before = (sessions.len() as i64 > limit).then(|| {
        sessions.truncate(limit as usize);
        sessions.last().map(|s| s.id)
    });
    let mut logs = Vec::with_capacity(sessions.len());
    for session in sessions {
        let mut messages = state
            .store
            .messages(session.id, 0, CARD_MESSAGES + 1)
            .await?;
        let more_messages = messages.len() as i64 > CARD_MESSAGES;
        messages.truncate(CARD_MESSAGES as usize);
        logs.push(SessionLog {
            session,
            messages,
            more_messages,
        });
    }
    Ok(Json(ContactSessions {
        sessions: logs,
        next_before: next_before.flatten(),
    }))
}

/// Who wrote a message, as the export names them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Author {
    /// `customer`, `agent`, or `system` (auto-replies, notices, bots).
    pub kind: String,
    /// The agent's user id.
    pub id: Option<i64>,
    pub name: String,
}

/// A message with its author.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedMessage {
    #[serde(flatten)]
    pub message: Message,
    pub author: Author,
}

/// The channel a session belongs to, by id and name.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelRef {
    pub id: i64,
    pub name: String,
}

/// A whole session: its state moves (S1), messages with authors, ratings.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionExport {
    pub session: Session,
    pub channel: ChannelRef,
    pub contact: Option<Contact>,
    pub history: Vec<SessionEvent>,
    pub messages: Vec<ExportedMessage>,
    pub ratings: Vec<RatingRow>,
}

/// Everything the exports read of one session.
struct Loaded {
    session: Session,
    channel: Channel,
    contact: Option<Contact>,
    messages: Vec<(Message, Author)>,
}

async fn load(state: &AppState, caller: &Caller, id: i64) -> Result<Loaded, ApiError> {
    let store = state.store.as_ref();
    let session = store
        .session(caller.viewer(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("session", id))?;
    let channel = store
        .channel(session.channel_id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel", session.channel_id))?;
    // Seeing the session is what grants its contact's name here.
    let admin = Viewer {
        user_id: 0,
        role: Role::Admin,
    };
    let contact = store.contact(admin, session.contact_id).await?;
    let names: HashMap<i64, String> = store
        .list_users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let customer = contact
        .as_ref()
        .map_or_else(|| "Customer".to_string(), |c| c.name.clone());
    let messages = all_messages(store, id)
        .await?
        .into_iter()
        .map(|m| {
            let author = match (m.direction, m.author_id) {
                (Direction::In, _) => Author {
                    kind: "customer".into(),
                    id: None,
                    name: customer.clone(),
                },
                (_, Some(user)) => Author {
                    kind: "agent".into(),
                    id: Some(user),
                    name: names
                        .get(&user)
                        .cloned()
                        .unwrap_or_else(|| format!("user {user}")),
                },
                (_, None) => Author {
                    kind: "system".into(),
                    id: None,
                    name: channel.name.clone(),
                },
            };
            (m, author)
        })
        .collect();
    Ok(Loaded {
        session,
        channel,
        contact,
        messages,
    })
}

async fn all_messages(store: &dyn Store, session: i64) -> Result<Vec<Message>, ApiError> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map_or(0, |m: &Message| m.id);
        let page = store.messages(session, after, PAGE).await?;
        let done = (page.len() as i64) < PAGE;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

fn download(content_type: &'static str, file: String, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{file}\"");
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (
            CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
        ),
        (CACHE_CONTROL, HeaderValue::from_static("private, no-cache")),
    ];
    (headers, body).into_response()
}

/// The session as one JSON document (O2).
#[utoipa::path(get, path = "/sessions/{id}/export.json", tag = "sessions", params(("id" = i64, Path)),
    responses((status = 200, body = SessionExport), (status = 404, body = ErrorBody)))]
async fn export_json(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let loaded = load(&state, &caller, id).await?;
    let export = SessionExport {
        history: state.store.session_events(id).await?,
        ratings: state.store.ratings(id).await?,
        channel: ChannelRef {
            id: loaded.channel.id,
            name: loaded.channel.name,
        },
        session: loaded.session,
        contact: loaded.contact,
        messages: loaded
            .messages
            .into_iter()
            .map(|(message, author)| ExportedMessage { message, author })
            .collect(),
    };
    let body = serde_json::to_string_pretty(&export)
        .map_err(|e| ApiError::Internal(format!("writing the export: {e}")))?;
    Ok(download(
        "application/json",
        format!("session-{id}.json"),
        body,
    ))
}

/// The session as a readable transcript: a header, then `[time] Name: text`
/// lines in the channel's time zone (UTC without working hours) (O2).
#[utoipa::path(get, path = "/sessions/{id}/transcript.txt", tag = "sessions", params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = ErrorBody)))]
async fn transcript_txt(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let loaded = load(&state, &caller, id).await?;
    let closed_at = crate::transcript::closed_at(&state.store.session_events(id).await?);
    let transcript = Transcript {
        session_id: id,
        channel_name: loaded.channel.name.clone(),
        customer_name: loaded
            .contact
            .map_or_else(|| "Customer".to_string(), |c| c.name),
        time_zone: crate::transcript::channel_time_zone(&loaded.channel),
        started_at: loaded.session.created_at,
        closed_at,
        lines: loaded
            .messages
            .into_iter()
            .map(|(m, author)| TranscriptLine::of_message(m, author.name))
            .collect(),
    };
    let text = render_transcript(&transcript, &TranscriptLabels::english());
    Ok(download(
        "text/plain; charset=utf-8",
        format!("session-{id}.txt"),
        text,
    ))
}
