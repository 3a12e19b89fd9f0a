//! Mail to an email channel: the connector parses it, the group-commit
//! writer stores it (S3, S4), the routing engine hears of it. The SMTP
//! listener and the IMAP poller both end here, so a mail that reaches
//! frontdesk both ways is still stored once (its key is the `Message-ID`).
//!
//! The steps are the webhook handler's own (`App::receive_inbound`), with the
//! mail's own request method (`SMTP` or `IMAP`).

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use bytes::Bytes;

use crate::app::App;
use crate::ingest::InboundRequest;
use crate::store::{Accepted, Channel, Role, Viewer};

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
pub async fn channel_for(app: &App, address: &str) -> Result<Option<Channel>, DeliverError> {
    let admin = Viewer {
        user_id: 0,
        role: Role::Admin,
    };
    let channels = app
        .store
        .list_channels(admin)
        .await
        .map_err(|e| DeliverError::Temporary(format!("cannot read channels: {e}")))?;
    Ok(channels.into_iter().find(|c| {
        c.kind == EMAIL_KIND
            && c.config
                .address()
                .is_some_and(|a| a.trim().eq_ignore_ascii_case(address.trim()))
    }))
}

/// Parses and stores one mail for `channel`; returns when it is committed.
/// Zero messages (a bounce, an auto-reply) is a success, and so is a mail
/// the connector cannot read: it is kept for admins as failed inbound.
pub async fn deliver(
    app: &App,
    channel: &Channel,
    mail: &MailIn,
) -> Result<Vec<Accepted>, DeliverError> {
    let refused = |what: &str| DeliverError::Refused(format!("{what} is not a valid header value"));
    let mut headers = HeaderMap::new();
    let rcpt = HeaderValue::from_str(&mail.rcpt_to.join(",")).map_err(|_| refused("RCPT TO"))?;
    headers.insert(RCPT_TO_HEADER, rcpt);
    if let Some(from) = &mail.mail_from {
        let from = HeaderValue::from_str(from).map_err(|_| refused("MAIL FROM"))?;
        headers.insert(MAIL_FROM_HEADER, from);
    }
    for (name, value) in &mail.extra {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| refused(name))?;
        let value = HeaderValue::from_str(value).map_err(|_| refused(name.as_str()))?;
        headers.insert(name, value);
    }
    let request = InboundRequest {
        method: Method::from_bytes(mail.method.as_bytes()).map_err(|_| refused(mail.method))?,
        path: String::new(),
        query: String::new(),
        headers,
        body: Bytes::from(mail.raw.clone()),
    };
    // The same path as webhooks: connector, group commit, routing (S3, S4).
    match app.receive_inbound(channel.id, request).await {
        Ok(received) => Ok(received.accepted),
        Err(err) if err.is_temporary() => Err(DeliverError::Temporary(err.to_string())),
        Err(err) => Err(DeliverError::Refused(err.to_string())),
    }
}
