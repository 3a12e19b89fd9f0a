//! The publisher task: hints in, rows read back, frames out.
//!
//! It takes every hint that queued up while it worked (like the ingest
//! writer), merges them per session, and reads each session and its new
//! messages once. It remembers, per open session, the row it last published
//! and the last message id it sent, so a message is sent once however many
//! hints name it, and a message frame carries the session's channel and
//! holder for the sockets' visibility check without another read.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Frame, Hint, LiveEvent, Queued, bus};
use crate::store::{Message, Millis, Role, Session, SessionState, TranscriptStore, Viewer};

/// The most hints taken at once.
const MAX_HINTS: usize = 1024;

/// The most messages read for one session per query.
const MAX_MESSAGES: i64 = 200;

/// Sessions remembered at most; past this the memory is dropped and rebuilt
/// from the next hints (a session never seen gets its messages by time).
const MAX_SESSIONS: usize = 100_000;

/// What one round needs for one session.
#[derive(Default)]
struct Wanted {
    session: bool,
    /// The smallest message id a hint named.
    from: Option<i64>,
    /// The earliest write time a tail hint named.
    since: Option<Millis>,
}

pub(super) struct Known {
    session: Arc<Session>,
    /// The last message id sent for it (0: none yet).
    last_message: i64,
}

/// The publisher's parts: where it reads rows and where frames go.
pub(super) struct Publisher {
    pub(super) store: Arc<dyn TranscriptStore>,
    pub(super) events: broadcast::Sender<Arc<LiveEvent>>,
    /// Set by a hint that found the inbox full: consoles resync.
    pub(super) overflow: Arc<AtomicBool>,
    /// Where this node's own hints go on to the other nodes.
    pub(super) bus: bus::Link,
}

impl Publisher {
    /// Publishes hints until `stop` or until every [`super::Live`] handle is
    /// gone. On `stop` it takes no new hint but still publishes the ones
    /// waiting, so what was stored before the stop reaches the consoles.
    pub(super) async fn run(self, mut rx: mpsc::Receiver<Queued>, stop: CancellationToken) {
        let mut hints = Vec::with_capacity(MAX_HINTS);
        let mut known: HashMap<i64, Known> = HashMap::new();
        loop {
            let received = tokio::select! {
                received = rx.recv_many(&mut hints, MAX_HINTS) => received,
                () = stop.cancelled() => break,
            };
            if received == 0 {
                return;
            }
            self.round(&mut hints, &mut known).await;
        }
        rx.close();
        while rx.recv_many(&mut hints, MAX_HINTS).await > 0 {
            self.round(&mut hints, &mut known).await;
        }
    }

    /// Publishes one batch of hints, merged per session, and sends this
    /// node's own on to the other nodes first (they may have consoles
    /// open when this one has none).
    ///
    /// With no console open nobody would get the frames, so the hints are
    /// dropped unread (issue 20: the read-back was a tenth of the server's
    /// CPU under webhook load with no console open). What was sent before is
    /// forgotten too, so a console that opens later gets each later session
    /// from its first unsent message on, as after [`MAX_SESSIONS`]; it
    /// fetched what came before through the API.
    pub(super) async fn round(&self, hints: &mut Vec<Queued>, known: &mut HashMap<i64, Known>) {
        let events = &self.events;
        self.bus.send(
            hints
                .iter()
                .filter(|q| q.local)
                .map(|q| bus::Item::Hint(q.hint)),
        );
        if self.overflow.load(Ordering::Relaxed) {
            // Some hints never reached this inbox, so they never reached
            // the bus either: the other nodes' consoles refetch too.
            self.bus.send([bus::Item::Resync].into_iter());
        }
        if events.receiver_count() == 0 {
            hints.clear();
            known.clear();
            self.overflow.store(false, Ordering::Relaxed);
            return;
        }
        let admin = Viewer {
            user_id: 0,
            role: Role::Admin,
        };
        if self.overflow.swap(false, Ordering::Relaxed) {
            tracing::warn!("live hints overflowed; consoles resync");
            let _ = events.send(Arc::new(LiveEvent::Resync));
        }
        let mut wanted: BTreeMap<i64, Wanted> = BTreeMap::new();
        for Queued { hint, .. } in hints.drain(..) {
            match hint {
                Hint::Session(id) => wanted.entry(id).or_default().session = true,
                Hint::Messages { session, from } => {
                    let w = wanted.entry(session).or_default();
                    w.from = Some(w.from.map_or(from, |f| f.min(from)));
                }
                Hint::Tail { session, since } => {
                    let w = wanted.entry(session).or_default();
                    w.since = Some(w.since.map_or(since, |s| s.min(since)));
                }
            }
        }
        if known.len() > MAX_SESSIONS {
            known.clear();
        }
        for (id, want) in wanted {
            if let Err(err) = publish(self.store.as_ref(), admin, events, known, id, want).await {
                // The rows are stored; consoles refetch them.
                tracing::warn!(session = id, error = %err, "live event not read back; consoles resync");
                let _ = events.send(Arc::new(LiveEvent::Resync));
            }
        }
    }
}

async fn publish(
    store: &dyn TranscriptStore,
    admin: Viewer,
    events: &broadcast::Sender<Arc<LiveEvent>>,
    known: &mut HashMap<i64, Known>,
    id: i64,
    want: Wanted,
) -> Result<(), crate::store::StoreError> {
    let mut previous = None;
    if want.session || !known.contains_key(&id) {
        let Some(row) = store.session(admin, id).await? else {
            return Ok(());
        };
        let entry = known.entry(id).or_insert_with(|| Known {
            session: Arc::new(row.clone()),
            last_message: 0,
        });
        previous = Some((entry.session.agent_id, entry.session.channel_id));
        entry.session = Arc::new(row);
        // A session first seen because of a message is news too: it is new.
        send(
            events,
            &entry.session,
            previous,
            json!({"type": "session", "session": *entry.session}),
        );
    }
    let Some(entry) = known.get_mut(&id) else {
        return Ok(());
    };
    if want.from.is_some() || want.since.is_some() {
        let after = match (entry.last_message, want.from) {
            (0, Some(from)) => from - 1,
            (0, None) => 0,
            (last, _) => last,
        };
        let since = if entry.last_message == 0 && want.from.is_none() {
            want.since
        } else {
            None
        };
        let mut after = after;
        loop {
            let messages = store.messages(id, after, MAX_MESSAGES).await?;
            let full = messages.len() as i64 == MAX_MESSAGES;
            for message in messages {
                entry.last_message = entry.last_message.max(message.id);
                after = message.id;
                if since.is_some_and(|s| message.created_at < s) {
                    continue;
                }
                send_message(events, &entry.session, previous, &message);
            }
            if !full {
                break;
            }
        }
    }
    if entry.session.state == SessionState::Closed {
        known.remove(&id);
    }
    Ok(())
}

fn send_message(
    events: &broadcast::Sender<Arc<LiveEvent>>,
    session: &Session,
    previous: Option<(Option<i64>, i64)>,
    message: &Message,
) {
    send(
        events,
        session,
        previous,
        json!({"type": "message", "session_id": session.id, "message": message}),
    );
}

/// `previous`: the session's holder and channel before this event, if known.
fn send(
    events: &broadcast::Sender<Arc<LiveEvent>>,
    session: &Session,
    previous: Option<(Option<i64>, i64)>,
    value: serde_json::Value,
) {
    let (previous_agent_id, previous_channel_id) =
        previous.unwrap_or((session.agent_id, session.channel_id));
    let frame = Frame {
        session_id: session.id,
        channel_id: session.channel_id,
        agent_id: session.agent_id,
        previous_agent_id,
        previous_channel_id,
        json: value.to_string().into(),
    };
    // No socket open is fine.
    let _ = events.send(Arc::new(LiveEvent::Frame(frame)));
}
