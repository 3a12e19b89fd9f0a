//! Mail to an email channel: the connector parses it, the group-commit
//! writer stores it (S3, S4), the routing engine hears of it. The SMTP
//! listener and the IMAP poller both end here, so a mail that reaches
//! frontdesk both ways is still stored once (its key is the `Message-ID`).
//!
//! The same steps as the webhook handler (`api/hooks.rs`), with the mail's
//! own request method; the two could share one function.

use frontdesk_plugin_host::types;

use crate::api::AppState;
use crate::engine::Event;
use crate::ingest::{normalize, target};
use crate::store::{Accepted, Channel, IngestItem, Role, Viewer};

/// The channel kind (and plugin name) of email channels.
pub const EMAIL_KIND: &str = "email";
/// Header carrying the envelope sender to the connector (empty: the null sender).
pub const MAIL_FROM_HEADER: &str = "x-frontdesk-mail-from";
/// Header carrying the envelope recipients, comma-separated.
pub const RCPT_TO_HEADER: &str = "x-frontdesk-rcpt-to";

/// One mail on its way in.
#[derive(Debug, Clone)]
pub struct MailIn {
    /// `SMTP` or `IMAP`: the connector refuses mail from anywhere else.
    pub method: &'static str,
    /// The envelope sender (`Some("")` is the null sender of bounces);
    /// `None` when unknown, as for mail read over IMAP.
    pub mail_from: Option<String>,
    pub rcpt_to: Vec<String>,
    /// More headers for the connector (the IMAP mailbox and UID, say).
    pub extra: Vec<(String, String)>,
    pub raw: Vec<u8>,
}

/// Why a mail was not stored.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// Worth trying again later: the database, the plugin or the server is
    /// not able right now.
    #[error("{0}")]
    Temporary(String),
    /// Will never be stored as it is (not a mail, no sender).
    #[error("{0}")]
    Refused(String),
}

/// The enabled email channel whose `address` is `address`, if any.
pub async fn channel_for(state: &AppState, address: &str) -> Result<Option<Channel>, DeliverError> {
    let admin = Viewer {
        user_id: 0,
        role: Role::Admin,
    };
    let channels = state
        .store
        .list_channels(admin)
        .await
        .map_err(|e| DeliverError::Temporary(format!("cannot read channels: {e}")))?;
    Ok(channels.into_iter().find(|c| {
        c.kind == EMAIL_KIND
            && serde_json::from_str::<serde_json::Value>(&c.config)
                .ok()
                .and_then(|config| config["address"].as_str().map(str::to_string))
                .is_some_and(|a| a.trim().eq_ignore_ascii_case(address.trim()))
    }))
}

/// Parses and stores one mail for `channel`; returns when it is committed.
/// Zero messages (a bounce, an auto-reply) is a success.
pub async fn deliver(
    state: &AppState,
    channel: &Channel,
    mail: &MailIn,
) -> Result<Vec<Accepted>, DeliverError> {
    if !channel.enabled {
        return Err(DeliverError::Temporary(format!(
            "channel {} is disabled; an admin can enable it",
            channel.id
        )));
    }
    let host = state
        .plugins
        .as_ref()
        .ok_or_else(|| DeliverError::Temporary("the server runs without plugins".to_string()))?;
    let mut headers = vec![(RCPT_TO_HEADER.to_string(), mail.rcpt_to.join(","))];
    if let Some(from) = &mail.mail_from {
        headers.push((MAIL_FROM_HEADER.to_string(), from.clone()));
    }
    headers.extend(mail.extra.iter().cloned());
    let request = types::InboundRequest {
        method: mail.method.to_string(),
        path: String::new(),
        query: String::new(),
        headers,
        body: mail.raw.clone(),
    };
    let served = host
        .handle_inbound(&target(&channel.kind, channel), &request)
        .await
        .map_err(|fault| DeliverError::Temporary(format!("{} plugin: {fault}", channel.kind)))?;
    let outcome = served.value.map_err(|error| match error {
        types::ConnectorError::Malformed(m)
        | types::ConnectorError::Unprocessable(m)
        | types::ConnectorError::Unauthorized(m) => DeliverError::Refused(m),
        types::ConnectorError::Transient(m) | types::ConnectorError::Permanent(m) => {
            DeliverError::Temporary(format!("{} {}: {m}", served.plugin, served.version))
        }
        types::ConnectorError::RateLimited(limit) => DeliverError::Temporary(limit.message),
    })?;
    let mut accepted = Vec::with_capacity(outcome.messages.len());
    for message in outcome.messages {
        let item = IngestItem {
            channel_id: channel.id,
            source: EMAIL_KIND.to_string(),
            message: normalize(message),
        };
        let answer = state
            .ingest
            .submit(item)
            .await
            .map_err(|e| DeliverError::Temporary(e.to_string()))?;
        route(state, channel.id, answer).await;
        accepted.push(answer);
    }
    Ok(accepted)
}

/// Tells the routing engine about a stored message, as the webhook handler
/// does: the message is safe already, and sessions the engine missed in a
/// crash are routed when it starts again.
async fn route(state: &AppState, channel: i64, answer: Accepted) {
    if answer.duplicate {
        return;
    }
    let session = answer.session_id;
    if !answer.new_session {
        state.engine.notify(Event::CustomerMessage { session });
        return;
    }
    let admin = Viewer {
        user_id: 0,
        role: Role::Admin,
    };
    let responsible = match state.store.session(admin, session).await {
        Ok(Some(s)) => state
            .store
            .contact(admin, s.contact_id)
            .await
            .ok()
            .flatten()
            .and_then(|c| c.responsible_user_id),
        _ => None,
    };
    let opened = state
        .engine
        .enqueue(Event::SessionOpened {
            session,
            channel,
            responsible,
        })
        .await;
    if let Err(err) = opened {
        tracing::warn!(session, error = %err, "new session not handed to routing");
    }
}
