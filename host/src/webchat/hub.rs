//! The per-node registry of visitors' open sockets, and the frames they get.
//!
//! The outbox worker hands the webchat connector's `push` frame here; every
//! socket of that (channel, visitor) on this node gets it. A visitor with no
//! socket here gets the message from the backlog on their next `resume`, so
//! the delivery counts as done either way.
//!
//! On PostgreSQL the visitor's sockets may be on other nodes: each push is
//! also sent on the live bus ([`crate::live::bus`]) as "this chat has a new
//! message", and the hub of every other node wakes that chat's sockets
//! ([`Hub::catch_up_chat`]), which read it from the store. Nothing polls.
//!
//! Each socket has a bounded queue of [`SOCKET_DEPTH`] frames. A socket
//! whose peer stops reading fills it; the hub then drops frames for it
//! instead of waiting or growing, and wakes its [`Inbox::catch_up`], and the
//! socket catches up from the store (the same backlog read as `resume`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Notify, OnceCell, mpsc};

use super::token::Signer;
use crate::app::App;
use crate::identity::AgentIdentity;
use crate::live::bus::{Link, chat_tag};
use crate::store::{ChatMessage, Direction, PushStore, SessionState};

/// How many frames may wait for one socket before the hub drops them and
/// the socket catches up from the store.
pub const SOCKET_DEPTH: usize = 256;

/// A frame for a visitor's socket, with its message id for de-duplication.
#[derive(Debug)]
pub struct Frame {
    pub message_id: i64,
    /// Built once, shared by every socket of the visitor.
    pub json: Utf8Bytes,
}

/// The hub's end of one socket.
struct Outlet {
    id: u64,
    /// The visitor's [`chat_tag`], as other nodes name the chat.
    tag: u64,
    frames: mpsc::Sender<Arc<Frame>>,
    catch_up: Arc<Notify>,
}

/// The socket's end: its frames, and a wake-up when it must read from the
/// store what it has not sent (frames were dropped, or another node sent a
/// message to this chat).
pub struct Inbox {
    pub frames: mpsc::Receiver<Arc<Frame>>,
    pub catch_up: Arc<Notify>,
}

type Key = (i64, String);
type Sockets = HashMap<Key, Vec<Outlet>>;

/// Open widget sockets by (channel, visitor), and the token key.
#[derive(Default)]
pub struct Hub {
    sockets: Mutex<Sockets>,
    next: AtomicU64,
    signer: OnceCell<Signer>,
    /// Where pushes are announced to the other nodes (unattached on SQLite).
    bus: Link,
}

/// A socket's place in the hub; leaving drops it.
pub struct Registration {
    hub: Arc<Hub>,
    key: Key,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut sockets = self.hub.sockets.lock().expect("webchat hub lock");
        if let Some(list) = sockets.get_mut(&self.key) {
            list.retain(|outlet| outlet.id != self.id);
            if list.is_empty() {
                sockets.remove(&self.key);
            }
        }
    }
}

/// The name of the token key in `server_secrets`.
const TOKEN_KEY: &str = "webchat_token_key";

impl Hub {
    /// A hub that announces its pushes on `bus`.
    pub fn new(bus: Link) -> Hub {
        Hub {
            bus,
            ..Hub::default()
        }
    }

    /// The token signer; the key is created on first use and shared by all nodes.
    pub async fn signer(&self, app: &App) -> Result<&Signer, crate::store::StoreError> {
        self.signer
            .get_or_try_init(|| async {
                let fresh = hex::encode(rand::random::<[u8; 32]>());
                let key = app
                    .store
                    .server_secret(TOKEN_KEY, &fresh, app.clock.now())
                    .await?;
                Ok(Signer::new(key.as_bytes()))
            })
            .await
    }

    /// Adds a socket for a visitor; frames for them arrive on the receiver.
    pub fn register(self: &Arc<Self>, channel: i64, visitor: &str) -> (Registration, Inbox) {
        let (frames, rx) = mpsc::channel(SOCKET_DEPTH);
        let catch_up = Arc::new(Notify::new());
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let key = (channel, visitor.to_string());
        self.sockets
            .lock()
            .expect("webchat hub lock")
            .entry(key.clone())
            .or_default()
            .push(Outlet {
                id,
                tag: chat_tag(visitor),
                frames,
                catch_up: catch_up.clone(),
            });
        let registration = Registration {
            hub: self.clone(),
            key,
            id,
        };
        (
            registration,
            Inbox {
                frames: rx,
                catch_up,
            },
        )
    }

    /// Another node stored a message for the chat (`channel`, visitor with
    /// [`chat_tag`] `tag`): its sockets here read it from the store.
    ///
    /// A scan of the open sockets, a comparison each: far cheaper than the
    /// store read it wakes, and it keeps the registry one map.
    pub fn catch_up_chat(&self, channel: i64, tag: u64) {
        let sockets = self.sockets.lock().expect("webchat hub lock");
        let outlets = sockets
            .iter()
            .filter(|((c, _), _)| *c == channel)
            .flat_map(|(_, outlets)| outlets)
            .filter(|outlet| outlet.tag == tag);
        for outlet in outlets {
            outlet.catch_up.notify_one();
        }
    }

    /// Every socket here reads what it has not sent (the bus was cut).
    pub fn catch_up_all(&self) {
        let sockets = self.sockets.lock().expect("webchat hub lock");
        for outlet in sockets.values().flatten() {
            outlet.catch_up.notify_one();
        }
    }

    fn connected(&self, channel: i64, visitor: &str) -> bool {
        self.sockets
            .lock()
            .expect("webchat hub lock")
            .contains_key(&(channel, visitor.to_string()))
    }

    /// Pushes a sent message to the visitor's sockets on this node.
    ///
    /// `pushed` is the connector's frame (text, author as the channel shows
    /// it); the host adds the message id, its time and who wrote it.
    pub async fn push(
        &self,
        store: &dyn PushStore,
        channel: i64,
        visitor: &str,
        message_id: i64,
        pushed: &[u8],
    ) {
        // The visitor's sockets on other nodes read it from the store.
        self.bus.chat(channel, visitor);
        if !self.connected(channel, visitor) {
            return;
        }
        let message = match store.chat_message(message_id).await {
            Ok(Some(message)) => message,
            Ok(None) => return,
            Err(err) => {
                // The visitor gets it from the backlog on their next resume.
                tracing::warn!(message_id, error = %err, "webchat push skipped");
                return;
            }
        };
        let mut frame = match serde_json::from_slice::<Value>(pushed) {
            Ok(Value::Object(fields)) => Value::Object(fields),
            _ => {
                tracing::warn!(
                    channel,
                    "the webchat connector pushed a frame that is not a JSON object"
                );
                let config = store.channel(channel).await.ok().flatten();
                let identity = config.map_or_else(AgentIdentity::default, |c| {
                    AgentIdentity::of_channel_config(&c.config)
                });
                message_frame(&message, visitor, &identity)
            }
        };
        let from = from(&message);
        frame["type"] = json!("message");
        frame["id"] = json!(message.id);
        frame["from"] = json!(from);
        frame["at"] = json!(message.created_at);
        frame["rating"] = json!(asks_rating(&message));
        if frame.get("author").is_none() {
            frame["author"] = Value::Null;
        }
        let frame = Arc::new(Frame {
            message_id: message.id,
            json: frame.to_string().into(),
        });
        self.deliver(channel, visitor, &frame);
    }

    /// Queues `frame` for each of the visitor's sockets without waiting.
    fn deliver(&self, channel: i64, visitor: &str, frame: &Arc<Frame>) {
        let sockets = self.sockets.lock().expect("webchat hub lock");
        for outlet in sockets
            .get(&(channel, visitor.to_string()))
            .into_iter()
            .flatten()
        {
            match outlet.frames.try_send(frame.clone()) {
                // A closed socket is removed by its own task.
                Ok(()) | Err(TrySendError::Closed(_)) => {}
                // The message is stored: the socket reads it back when it catches up.
                Err(TrySendError::Full(_)) => outlet.catch_up.notify_one(),
            }
        }
    }
}

/// Who wrote a message, as the widget shows it.
fn from(message: &ChatMessage) -> &'static str {
    match (message.direction, message.author_id) {
        (Direction::In, _) => "customer",
        (_, Some(_)) => "agent",
        // Routing notices (W2, R11), the consent notice (G1), the rating
        // prompt (Q1) and bot replies have no author.
        _ => "system",
    }
}

/// Q1: an outgoing message of a session that waits for the customer's score.
fn asks_rating(message: &ChatMessage) -> bool {
    message.direction == Direction::Out && message.session_state == SessionState::Rating
}

/// The agent as the widget shows them (I1), by the channel's choice;
/// null for the customer's own messages, bots and notices.
pub fn author(message: &ChatMessage, identity: &AgentIdentity) -> Value {
    let shown = match (&message.author_name, message.direction) {
        (Some(name), Direction::Out) => identity.shown_as(
            name,
            message.author_display_name.as_deref(),
            message.author_avatar.as_deref(),
        ),
        _ => None,
    };
    shown.map_or(
        Value::Null,
        |a| json!({"name": a.name, "avatar_url": a.avatar_url}),
    )
}

/// A stored message as a backlog frame. The widget's own messages carry
/// their `client_id`, so a widget that never saw the ack shows them once.
pub fn message_frame(message: &ChatMessage, visitor: &str, identity: &AgentIdentity) -> Value {
    let client_id = message
        .external_id
        .as_deref()
        .filter(|_| message.direction == Direction::In)
        .and_then(|id| id.strip_prefix(visitor))
        .and_then(|rest| rest.strip_prefix('/'));
    json!({
        "type": "message",
        "id": message.id,
        "from": from(message),
        "text": message.body,
        "author": author(message, identity),
        "at": message.created_at,
        "client_id": client_id,
        "rating": asks_rating(message),
    })
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt as _;

    use super::*;

    #[test]
    fn a_socket_that_stops_reading_holds_up_nobody_and_is_told_to_catch_up() {
        let hub = Arc::new(Hub::default());
        // Two tabs of one visitor: one reads, one does not.
        let (_reading, mut reader) = hub.register(7, "v:a");
        let (_stuck, mut stuck) = hub.register(7, "v:a");
        for id in 0..=SOCKET_DEPTH as i64 {
            let frame = Arc::new(Frame {
                message_id: id,
                json: format!(r#"{{"type":"message","id":{id}}}"#).into(),
            });
            hub.deliver(7, "v:a", &frame);
            let got = reader.frames.try_recv().expect("queued at once");
            assert!(Arc::ptr_eq(&got, &frame), "one frame shared by both tabs");
            if id < SOCKET_DEPTH as i64 {
                assert!(stuck.catch_up.notified().now_or_never().is_none());
            }
        }
        assert!(
            reader.catch_up.notified().now_or_never().is_none(),
            "the reading tab lost nothing"
        );
        // The stuck tab holds a full queue, no more, and is told it missed some.
        assert!(stuck.catch_up.notified().now_or_never().is_some());
        let held: Vec<i64> = std::iter::from_fn(|| stuck.frames.try_recv().ok())
            .map(|f| f.message_id)
            .collect();
        assert_eq!(held, (0..SOCKET_DEPTH as i64).collect::<Vec<_>>());
    }

    fn message(
        direction: Direction,
        author: Option<(i64, &str)>,
        external: Option<&str>,
    ) -> ChatMessage {
        ChatMessage {
            id: 9,
            session_id: 1,
            direction,
            author_id: author.map(|a| a.0),
            author_name: author.map(|a| a.1.to_string()),
            author_display_name: None,
            author_avatar: None,
            external_id: external.map(str::to_string),
            body: "<b>hi</b>".into(),
            created_at: 5,
            session_state: SessionState::Rating,
        }
    }

    #[test]
    fn the_widgets_own_message_carries_its_client_id_and_no_author() {
        let frame = message_frame(
            &message(Direction::In, None, Some("v:a/c-1")),
            "v:a",
            &AgentIdentity::Profile,
        );
        assert_eq!(frame["from"], "customer");
        assert_eq!(frame["client_id"], "c-1");
        assert_eq!(frame["author"], Value::Null);
        assert_eq!(
            frame["rating"], false,
            "only the host's messages ask for a rating"
        );
        // Another visitor's prefix is never taken for this one's.
        let other = message_frame(
            &message(Direction::In, None, Some("v:ab/c-1")),
            "v:a",
            &AgentIdentity::Profile,
        );
        assert_eq!(other["client_id"], Value::Null);
    }

    #[test]
    fn agents_and_notices_are_told_apart_and_text_stays_as_is() {
        let agent = message_frame(
            &message(Direction::Out, Some((3, "Mia")), None),
            "v:a",
            &AgentIdentity::Profile,
        );
        assert_eq!(
            (&agent["from"], &agent["author"]["name"]),
            (&json!("agent"), &json!("Mia"))
        );
        assert_eq!(agent["text"], "<b>hi</b>");
        assert_eq!(agent["rating"], true);
        let notice = message_frame(
            &message(Direction::Out, None, None),
            "v:a",
            &AgentIdentity::Profile,
        );
        assert_eq!(
            (&notice["from"], &notice["author"]),
            (&json!("system"), &Value::Null)
        );
    }
}
