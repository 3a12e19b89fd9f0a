//! O3: a session's transcript emailed to the customer on request, in the
//! channel's language, with agents named as the channel shows them (I1).
//!
//! The mail goes through the same SMTP relay as email channels' replies
//! (`--smtp-relay`), and the request is answered only after the relay took
//! it, so a "sent" the customer sees is never a mail still waiting somewhere.

use std::collections::HashMap;
use std::sync::Arc;

use frontdesk_plugin_host::{MailError, Mailer};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message as Mail};

use super::{App, Error};
use crate::contacts::normalize;
use crate::identity::AgentIdentity;
use crate::store::{Direction, Role, StoreError, Viewer};
use crate::transcript::{
    Transcript, TranscriptLabels, TranscriptLine, closed_at, render_transcript,
};

/// How the host sends mail of its own.
#[derive(Clone)]
pub struct HostMail {
    pub mailer: Arc<dyn Mailer>,
    /// The `From` address of transcripts (`--mail-from`).
    pub from: String,
}

/// Why a transcript was not sent.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error("this server sends no mail: start it with --smtp-relay to email transcripts")]
    NoRelay,
    #[error("{0}")]
    BadAddress(String),
    #[error("session {0} does not exist")]
    NoSession(i64),
    #[error("the mail relay refused the transcript: {0}")]
    Rejected(String),
    #[error("the mail relay cannot be reached now, try again later: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TranscriptError> for Error {
    fn from(error: TranscriptError) -> Self {
        match error {
            TranscriptError::BadAddress(m) => Error::invalid(m),
            TranscriptError::NoSession(id) => Error::not_found("session", id),
            TranscriptError::Store(e) => Error::Store(e),
            TranscriptError::NoRelay => Error::NotConfigured(error.to_string()),
            other @ (TranscriptError::Rejected(_) | TranscriptError::Unavailable(_)) => {
                Error::Unavailable(other.to_string())
            }
        }
    }
}

const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

/// Sends session `session_id`'s transcript to `to`; returns the address it
/// went to (normalized).
pub async fn send_transcript(
    app: &App,
    session_id: i64,
    to: &str,
) -> Result<String, TranscriptError> {
    let host_mail = app.host_mail.as_ref().ok_or(TranscriptError::NoRelay)?;
    let to = normalize::email(to).ok_or_else(|| {
        TranscriptError::BadAddress(format!(
            "email {to:?} is not an address like name@example.org"
        ))
    })?;
    let session = app
        .store
        .session(ADMIN, session_id)
        .await?
        .ok_or(TranscriptError::NoSession(session_id))?;
    let channel = app
        .store
        .channel(session.channel_id)
        .await?
        .ok_or(TranscriptError::NoSession(session_id))?;
    let language = channel.config.language().to_string();
    let text = |id: &str| frontdesk_i18n::text(&language, id, &[("channel", &channel.name)]);
    let customer_name = app
        .store
        .contact(ADMIN, session.contact_id)
        .await?
        .map_or_else(|| text("transcript-customer"), |c| c.name);

    // I1: each agent as the channel shows them; the team's name otherwise.
    let identity = AgentIdentity::of_channel_config(&channel.config);
    let mut agents: HashMap<i64, String> = HashMap::new();
    let mut lines = Vec::new();
    for message in app.store.messages(session_id, 0, 10_000).await? {
        let author = match (message.direction, message.author_id) {
            (Direction::In, _) => text("transcript-customer"),
            (_, Some(agent)) => match agents.get(&agent) {
                Some(name) => name.clone(),
                None => {
                    let shown = app
                        .store
                        .user(agent)
                        .await?
                        .and_then(|user| identity.shown(&user))
                        .map_or_else(|| text("transcript-team"), |a| a.name);
                    agents.insert(agent, shown.clone());
                    shown
                }
            },
            _ => text("transcript-team"),
        };
        lines.push(TranscriptLine::of_message(message, author));
    }
    let closed_at = closed_at(&app.store.session_events(session_id).await?);
    let transcript = Transcript {
        session_id,
        channel_name: channel.name.clone(),
        customer_name,
        time_zone: crate::transcript::channel_time_zone(&channel),
        started_at: session.created_at,
        closed_at,
        lines,
    };
    let labels = TranscriptLabels {
        title: text("transcript-title"),
        channel: text("transcript-channel"),
        customer: text("transcript-customer-label"),
        started: text("transcript-started"),
        closed: text("transcript-closed"),
        still_open: text("transcript-still-open"),
        times_in: text("transcript-times-in"),
        attachment: text("transcript-attachment"),
    };
    let body = format!(
        "{}\n\n{}\n{}\n",
        text("transcript-intro"),
        render_transcript(&transcript, &labels),
        text("transcript-outro")
    );
    let mail = compose(
        host_mail,
        &channel.name,
        &to,
        &text("transcript-subject"),
        body,
    )?;
    host_mail
        .mailer
        .send(&host_mail.from, std::slice::from_ref(&to), &mail)
        .await
        .map_err(|e| match e {
            MailError::Rejected(why) => TranscriptError::Rejected(why),
            MailError::Transient(why) => TranscriptError::Unavailable(why),
        })?;
    tracing::info!(session = session_id, "transcript emailed (O3)");
    Ok(to)
}

/// The RFC 5322 message: From the channel's name at the host's address.
fn compose(
    host_mail: &HostMail,
    channel_name: &str,
    to: &str,
    subject: &str,
    body: String,
) -> Result<Vec<u8>, TranscriptError> {
    let from: Mailbox = format!("{channel_name} <{}>", host_mail.from)
        .parse()
        .or_else(|_| host_mail.from.parse())
        .map_err(|e| {
            TranscriptError::BadAddress(format!("--mail-from {:?}: {e}", host_mail.from))
        })?;
    let to: Mailbox = to
        .parse()
        .map_err(|e| TranscriptError::BadAddress(format!("email {to:?}: {e}")))?;
    let mail = Mail::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| TranscriptError::BadAddress(e.to_string()))?;
    Ok(mail.formatted())
}
