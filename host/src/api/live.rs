//! `GET /api/v1/live`: the agent console's WebSocket (P1, R12), and the
//! colleague list the console offers for transfers (R18).
//!
//! The token is checked exactly as for the REST API. Browsers cannot set an
//! `Authorization` header on a WebSocket, so it may also come as the
//! subprotocol `bearer.<token>` (offered beside `frontdesk`, which the
//! server picks) or, last, as `?token=` (which ends up in access logs).
//!
//! Frames from the server are JSON text:
//! - `{"type":"hello","user":{..}}` once, first;
//! - `{"type":"session","session":{..}}` with a session as `GET /sessions` shows it;
//! - `{"type":"message","session_id":N,"message":{..}}` as `GET /sessions/{id}/messages` shows it;
//! - `{"type":"resync"}`: events were lost; refetch the lists.
//!
//! Disabling the user, changing their role or replacing their token closes
//! the socket within a second (close code 1008, with the reason); a change
//! of their channels narrows or widens what it forwards as fast, followed
//! by a `resync` frame (see `crate::live::AccessWatch`).
//!
//! The client may send `{"type":"activity"}` when its user is active: that,
//! and opening the socket, count as presence (R12). Pongs do not: a browser
//! answers pings by itself, with nobody at the keyboard.

use std::collections::HashSet;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::extract::ws::{
    CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code,
    rejection::WebSocketUpgradeRejection,
};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN, SEC_WEBSOCKET_PROTOCOL};
use axum::response::Response;
use frontdesk_routing::AgentId;
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, MissedTickBehavior, interval};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiQuery, AppState, Caller, Credential, ErrorBody};
use crate::auth::web::{SESSION_COOKIE, cookie_value};
use crate::engine::Event;
use crate::live::{Frame, LiveEvent, RESYNC_FRAME, SOCKET_READ_BUFFER};
use crate::store::{Role, Viewer};

/// The subprotocol the server speaks.
const PROTOCOL: &str = "frontdesk";

/// How often the server pings, so idle proxies keep the socket open.
const PING_EVERY: Duration = Duration::from_secs(25);

/// Activity is passed to routing at most this often per socket (R12 counts minutes).
const ACTIVITY_EVERY: Duration = Duration::from_secs(20);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(colleagues))
}

/// `?token=` for clients that can set neither a header nor a subprotocol.
#[derive(Debug, Deserialize)]
pub struct LiveQuery {
    token: Option<String>,
}

/// Upgrades to the live WebSocket after checking the token.
pub async fn socket(
    State(state): State<AppState>,
    ip: crate::limits::ClientIp,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<LiveQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let (credential, by_protocol) = credential(&headers, query.token)?;
    let caller = match &credential {
        // A wrong token counts against the address's failures (L1).
        Credential::Token(token) => Caller::signed_in(&state, token, ip).await?,
        Credential::Session(_) => Caller::from_credential(&state, &credential).await?,
    };
    let upgrade = upgrade.map_err(|e| {
        ApiError::invalid(format!(
            "/api/v1/live is a WebSocket; connect with a WebSocket client ({e})"
        ))
    })?;
    let upgrade = upgrade.read_buffer_size(SOCKET_READ_BUFFER);
    let upgrade = if by_protocol {
        upgrade.protocols([PROTOCOL])
    } else {
        upgrade
    };
    // The socket outlives its HTTP connection, so the node's drain tracks it.
    let tracker = state.workers.tracker.clone();
    Ok(upgrade
        .on_upgrade(move |socket| tracker.track_future(serve(state, credential, caller, socket))))
}

/// The token from the header, the subprotocol or the query, in that order,
/// else the browser's session cookie; true when it came as a subprotocol
/// (the answer must then pick one).
fn credential(headers: &HeaderMap, query: Option<String>) -> Result<(Credential, bool), ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be Bearer <token>".into())
            })?;
        return Ok((Credential::Token(token.to_string()), false));
    }
    let offered = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix("bearer.").map(str::to_string));
    if let Some(token) = offered {
        return Ok((Credential::Token(token), true));
    }
    if let Some(token) = query {
        return Ok((Credential::Token(token), false));
    }
    let Some(cookie) = cookie_value(headers, SESSION_COOKIE) else {
        return Err(ApiError::Unauthorized(
            "sign in at /console/, or send your API token as Authorization: Bearer <token>, as the subprotocol bearer.<token>, or as ?token=".into(),
        ));
    };
    // Browsers send cookies with a WebSocket handshake from any site and
    // SameSite does not cover every case, so a socket signed in by cookie
    // must come from a page of this server (cross-site WebSocket hijacking).
    if !same_origin(headers) {
        return Err(ApiError::Forbidden(
            "a live socket signed in by cookie must be opened from this server's console".into(),
        ));
    }
    Ok((Credential::Session(cookie), false))
}

/// Whether the handshake's `Origin` names the host it was sent to.
fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(ORIGIN).and_then(|o| o.to_str().ok());
    match (host, origin) {
        (Some(host), Some(origin)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

/// What one socket may see: P1, as the REST API's session queries decide it.
struct Scope {
    viewer: Viewer,
    channels: HashSet<i64>,
}

impl Scope {
    async fn load(state: &AppState, viewer: Viewer) -> Result<Scope, ApiError> {
        let channels = if viewer.sees_all() {
            HashSet::new()
        } else {
            state
                .store
                .list_channels(viewer)
                .await?
                .into_iter()
                .map(|c| c.id)
                .collect()
        };
        Ok(Scope { viewer, channels })
    }

    fn sees(&self, frame: &Frame) -> bool {
        let me = Some(self.viewer.user_id);
        self.viewer.sees_all()
            || frame.agent_id == me
            || frame.previous_agent_id == me
            || self.channels.contains(&frame.channel_id)
            || self.channels.contains(&frame.previous_channel_id)
    }
}

async fn serve(state: AppState, credential: Credential, mut caller: Caller, mut socket: WebSocket) {
    let user = caller.0.id;
    // Subscribe before anything else, so nothing that happens from here on is missed.
    let mut events = state.engine.live().subscribe();
    let mut access = state.engine.live().access().subscribe();
    state.engine.live().socket_opened(user);
    state.engine.notify(Event::Activity {
        agent: AgentId(user),
    });
    let mut last_activity = Instant::now();
    let result = async {
        let mut scope = Scope::load(&state, caller.viewer()).await.ok()?;
        let hello = serde_json::json!({"type": "hello", "user": caller.0}).to_string();
        socket.send(Message::Text(hello.into())).await.ok()?;
        let mut ping = interval(PING_EVERY);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ping.tick().await;
        loop {
            tokio::select! {
                // First: an event must never go out under access that was just taken away.
                biased;
                () = state.workers.stop.cancelled() => {
                    going_away(&mut socket).await;
                    return None;
                }
                changed = access.changed() => {
                    changed.ok()?;
                    caller = recheck(&state, &credential, &caller, &mut socket).await?;
                    let narrowed = Scope::load(&state, caller.viewer()).await.ok()?;
                    if narrowed.channels != scope.channels {
                        scope = narrowed;
                        resync(&mut socket).await?;
                    }
                }
                event = events.recv() => match event.as_deref() {
                    Some(LiveEvent::Frame(frame)) if scope.sees(frame) => {
                        // The event's text, shared with every other socket.
                        socket.send(Message::Text(frame.json.clone())).await.ok()?;
                    }
                    Some(LiveEvent::Frame(_)) => {}
                    Some(LiveEvent::Resync) => resync(&mut socket).await?,
                    None => return None,
                },
                received = socket.recv() => match received {
                    Some(Ok(Message::Text(text))) => {
                        if is_activity(&text) && last_activity.elapsed() >= ACTIVITY_EVERY {
                            last_activity = Instant::now();
                            state.engine.notify(Event::Activity { agent: AgentId(user) });
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                    Some(Ok(_)) => {}
                },
                _ = ping.tick() => {
                    socket.send(Message::Ping(Default::default())).await.ok()?;
                }
            }
        }
    }
    .await;
    let _: Option<()> = result;
    if state.engine.live().socket_closed(user) {
        state.engine.notify(Event::Disconnected {
            agent: AgentId(user),
        });
    }
}

/// Checks the socket's token again after an access change. A token that no
/// longer signs in (user disabled, token replaced) or now names someone
/// else or another role closes the socket with 1008 and the reason; the
/// console signs in again and starts from a fresh `hello`.
async fn recheck(
    state: &AppState,
    credential: &Credential,
    caller: &Caller,
    socket: &mut WebSocket,
) -> Option<Caller> {
    let why = match Caller::from_credential(state, credential).await {
        Ok(now) if now.0.id == caller.0.id && now.0.role == caller.0.role => return Some(now),
        Ok(now) if now.0.id == caller.0.id => format!(
            "your role changed from {} to {}; connect again",
            caller.0.role.as_str(),
            now.0.role.as_str()
        ),
        Ok(_) => "this token now belongs to another user; connect again".to_string(),
        Err(ApiError::Unauthorized(why)) => why,
        // The store could not say: fail closed, the console reconnects.
        Err(err) => err.code_and_message().1,
    };
    tracing::info!(user = caller.0.id, reason = %why, "live socket closed: access changed");
    // A close reason is at most 123 bytes.
    let mut reason = why;
    while reason.len() > 123 {
        reason.pop();
    }
    let frame = CloseFrame {
        code: close_code::POLICY,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
    None
}

/// Closes a socket because the server stops: 1001 (going away), which the
/// console and the widget answer by connecting again, to this node once it
/// is back or to another.
pub(crate) async fn going_away(socket: &mut WebSocket) {
    let frame = CloseFrame {
        code: close_code::AWAY,
        reason: "the server is stopping; connect again".into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

async fn resync(socket: &mut WebSocket) -> Option<()> {
    socket.send(Message::Text(RESYNC_FRAME.into())).await.ok()
}

fn is_activity(text: &str) -> bool {
    #[derive(Deserialize)]
    struct ClientFrame {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_str::<ClientFrame>(text).is_ok_and(|f| f.kind == "activity")
}

/// The users `viewer` may see as colleagues: the agents in the queues of
/// their channels; `None` for admins, who see everyone.
pub(super) async fn colleague_ids(
    state: &AppState,
    viewer: Viewer,
) -> Result<Option<HashSet<i64>>, ApiError> {
    if viewer.sees_all() {
        return Ok(None);
    }
    let mut ids = HashSet::new();
    for channel in state.store.list_channels(viewer).await? {
        ids.extend(state.store.queue(channel.id).await?.agents);
    }
    Ok(Some(ids))
}

/// Someone a session can be transferred to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Colleague {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// Clocked in and not on a break (R7): worth transferring to now.
    pub available: bool,
}

/// The agents in the queues of the caller's channels (all agents for admins),
/// for transfers (R18).
#[utoipa::path(get, path = "/colleagues", tag = "agent actions",
    responses((status = 200, body = Vec<Colleague>), (status = 401, body = ErrorBody)))]
async fn colleagues(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Colleague>>, ApiError> {
    let members = colleague_ids(&state, caller.viewer()).await?;
    let users = state.store.list_users().await?;
    Ok(Json(
        users
            .into_iter()
            .filter(|u| !u.disabled && !u.dismissed)
            .filter(|u| members.as_ref().is_none_or(|m| m.contains(&u.id)))
            .map(|u| Colleague {
                id: u.id,
                available: u.clocked_in && !u.on_break,
                name: u.name,
                role: u.role,
            })
            .collect::<Vec<_>>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Session 1 of channel 10, held by user 5; before this event it was in
    /// channel 20, held by user 6.
    fn frame() -> Frame {
        Frame {
            session_id: 1,
            channel_id: 10,
            agent_id: Some(5),
            previous_agent_id: Some(6),
            previous_channel_id: 20,
            json: r#"{"type":"session"}"#.into(),
        }
    }

    fn scope(user_id: i64, role: Role, channels: &[i64]) -> Scope {
        Scope {
            viewer: Viewer { user_id, role },
            channels: channels.iter().copied().collect(),
        }
    }

    /// P1 on the shared frame: who gets an event is decided per socket,
    /// from the frame's holder and channel, before and after the event.
    #[test]
    fn p1_a_shared_frame_reaches_exactly_the_people_who_may_see_it() {
        let frame = frame();
        assert!(scope(1, Role::Admin, &[]).sees(&frame), "admins see all");
        assert!(scope(5, Role::Agent, &[]).sees(&frame), "the holder");
        assert!(
            scope(6, Role::Agent, &[]).sees(&frame),
            "the holder it left"
        );
        assert!(scope(7, Role::Agent, &[10]).sees(&frame), "its channel");
        assert!(
            scope(7, Role::Supervisor, &[20]).sees(&frame),
            "the channel it left"
        );
        assert!(
            !scope(7, Role::Agent, &[30]).sees(&frame),
            "another channel"
        );
        assert!(!scope(7, Role::Supervisor, &[]).sees(&frame), "nobody else");
    }
}
