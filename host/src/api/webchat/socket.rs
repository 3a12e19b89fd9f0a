//! One visitor's WebSocket: `message` and `resume` frames in; acks, the
//! chat's messages and error frames out.
//!
//! A message is acked only after `App::receive_inbound` committed it (S4), so a
//! widget that saw no ack sends it again with the same `client_id`, and the
//! store keeps one (S3). Every message frame is sent at most once per
//! socket, whether it came from the backlog or a live push; a socket that
//! fell behind its live pushes (see `hub`), or whose chat got a message
//! through another node (the live bus wakes it), reads what it has not sent
//! from the store, as a `resume` would. No socket polls. A message over
//! a rate limit (L1) gets a `rate_limited` error frame with `retry_after`
//! and is neither stored nor acked.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use axum::http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::api::{ApiError, AppState};
use crate::identity::AgentIdentity;
use crate::ingest::InboundRequest;
use crate::limits::ClientIp;
use crate::webchat::hub::{Frame, message_frame};
use crate::webchat::token::Visitor;

/// Messages read from the store per backlog query.
const PAGE: i64 = 200;

/// What a socket sends: frames to the visitor, or the reason to hang up.
type Sent = Result<(), axum::Error>;

struct Conversation {
    state: AppState,
    visitor: Visitor,
    /// Where the socket came from, for the per-IP message limit (L1).
    ip: ClientIp,
    /// Message ids this socket has sent, from the backlog or live.
    sent: HashSet<i64>,
    /// The newest message id read from the store for this chat, once the
    /// widget resumed; live pushes do not move it (they skip other nodes').
    cursor: Option<i64>,
}

/// Serves a visitor's socket until they hang up or the server stops (1001).
pub async fn serve(mut socket: WebSocket, state: AppState, visitor: Visitor, ip: ClientIp) {
    let hub = state.webchat.clone();
    // Registered before any backlog is read, so nothing sent meanwhile is missed.
    let (_registration, mut live) = hub.register(visitor.channel_id, &visitor.visitor_id);
    let mut talk = Conversation {
        state,
        visitor,
        ip,
        sent: HashSet::new(),
        cursor: None,
    };
    let stop = talk.state.workers.stop.clone();
    loop {
        let outcome = tokio::select! {
            () = stop.cancelled() => {
                crate::api::live::going_away(&mut socket).await;
                break;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => talk.frame(&mut socket, text.as_str()).await,
                Some(Ok(Message::Binary(_))) => {
                    error(&mut socket, "invalid_frame", "frames are JSON text", None).await
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            Some(frame) = live.frames.recv() => talk.live(&mut socket, frame).await,
            // Frames dropped here, or a message another node sent (the live bus).
            () = live.catch_up.notified() => talk.catch_up(&mut socket).await,
        };
        if outcome.is_err() {
            break;
        }
    }
}

async fn send(socket: &mut WebSocket, frame: &Value) -> Sent {
    socket.send(Message::Text(frame.to_string().into())).await
}

/// An error frame; bad frames are never dropped silently.
async fn error(socket: &mut WebSocket, code: &str, message: &str, client_id: Option<&str>) -> Sent {
    let mut frame = json!({"type": "error", "code": code, "message": message});
    if let Some(id) = client_id {
        frame["client_id"] = json!(id);
    }
    send(socket, &frame).await
}

impl Conversation {
    async fn frame(&mut self, socket: &mut WebSocket, text: &str) -> Sent {
        let Ok(frame) = serde_json::from_str::<Value>(text) else {
            return error(
                socket,
                "invalid_frame",
                "a frame is a JSON object with a \"type\"",
                None,
            )
            .await;
        };
        match frame["type"].as_str() {
            Some("message") => self.message(socket, text, &frame).await,
            Some("resume") => match frame.get("after").map(|a| a.as_i64()) {
                None => self.backlog(socket, 0, true).await,
                Some(Some(after)) if after >= 0 => self.backlog(socket, after, true).await,
                Some(_) => {
                    let why = "\"after\" is the last message id seen: a whole number, 0 for all";
                    error(socket, "invalid_frame", why, None).await
                }
            },
            Some(other) => {
                let why = format!("unknown frame type {other:?}; send \"message\" or \"resume\"");
                error(socket, "invalid_frame", &why, None).await
            }
            None => error(socket, "invalid_frame", "the frame has no \"type\"", None).await,
        }
    }

    /// Hands the frame to the webchat connector through the webhook's path,
    /// so dedupe, routing, consent and bots apply as for any channel.
    async fn message(&mut self, socket: &mut WebSocket, raw: &str, frame: &Value) -> Sent {
        let client_id = frame["client_id"].as_str().map(str::to_string);
        let Some(client_id) = client_id else {
            let why =
                "a message frame needs a \"client_id\" (the widget's own id, kept for resends)";
            return error(socket, "invalid_frame", why, None).await;
        };
        // L1: refused before anything is stored, so never acked; the frame
        // says when to send it again.
        let limited = self.state.limits.widget_message(
            self.ip,
            self.visitor.channel_id,
            &self.visitor.visitor_id,
            raw.len(),
        );
        if let Err(limited) = limited {
            let frame = json!({"type": "error", "code": "rate_limited",
                "message": limited.to_string(), "client_id": client_id,
                "retry_after": limited.retry_after_secs});
            return send(socket, &frame).await;
        }
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let Ok(visitor) = HeaderValue::from_str(&self.visitor.visitor_id) else {
            return error(
                socket,
                "invalid_visitor",
                "the visitor id is not usable",
                None,
            )
            .await;
        };
        headers.insert("x-frontdesk-visitor", visitor);
        let request = InboundRequest::post(headers, bytes::Bytes::copy_from_slice(raw.as_bytes()));
        let stored = self
            .state
            .receive_inbound(self.visitor.channel_id, request)
            .await;
        match stored.map(|r| r.accepted.first().copied()) {
            Ok(Some(accepted)) => {
                let ack = json!({
                    "type": "ack",
                    "client_id": client_id,
                    "message_id": accepted.message_id,
                });
                send(socket, &ack).await
            }
            Ok(None) => {
                let why = "the message could not be read; it was kept for the admins";
                error(socket, "unprocessable_payload", why, Some(&client_id)).await
            }
            Err(err) => {
                let err = ApiError::from(err);
                let (code, message) = err.code_and_message();
                error(socket, &code, &message, Some(&client_id)).await
            }
        }
    }

    /// The chat's messages after `after`, oldest first; `announce` ends a
    /// `resume` with the `resumed` frame.
    async fn backlog(&mut self, socket: &mut WebSocket, mut after: i64, announce: bool) -> Sent {
        let (channel, visitor) = (self.visitor.channel_id, self.visitor.visitor_id.clone());
        // I1: agents as the channel shows them, read once per backlog.
        let identity = match self.state.store.channel(channel).await {
            Ok(Some(c)) => AgentIdentity::of_channel_config(&c.config),
            _ => AgentIdentity::default(),
        };
        loop {
            let page = match self
                .state
                .store
                .chat_messages(channel, &visitor, after, PAGE)
                .await
            {
                Ok(page) => page,
                Err(err) => {
                    let (code, message) = ApiError::from(err).code_and_message();
                    return error(socket, &code, &message, None).await;
                }
            };
            for message in &page {
                after = message.id;
                if self.sent.insert(message.id) {
                    send(socket, &message_frame(message, &visitor, &identity)).await?;
                }
            }
            if (page.len() as i64) < PAGE {
                self.cursor = Some(self.cursor.map_or(after, |c| c.max(after)));
                if !announce {
                    return Ok(());
                }
                return send(socket, &json!({"type": "resumed", "last_id": after})).await;
            }
        }
    }

    /// Messages stored since the last backlog read that this socket has not
    /// sent: another node's (woken by the live bus), or pushes the hub dropped. Before the widget's
    /// `resume` there is nothing to do: the resume reads them all.
    async fn catch_up(&mut self, socket: &mut WebSocket) -> Sent {
        match self.cursor {
            Some(after) => self.backlog(socket, after, false).await,
            None => Ok(()),
        }
    }

    async fn live(&mut self, socket: &mut WebSocket, frame: Arc<Frame>) -> Sent {
        if !self.sent.insert(frame.message_id) {
            return Ok(());
        }
        socket.send(Message::Text(frame.json.clone())).await
    }
}
