//! The SMTP listener: drives [`SmtpSession`] over TCP for each connection.
//!
//! A recipient is accepted only if an enabled email channel has that
//! address; a message is answered `250` only after its transaction
//! committed, `451` if it could not be stored (the client keeps it and
//! retries), `554` if the connector can never read it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::deliver::{DeliverError, MailIn, channel_for, deliver};
use super::smtp_session::{Envelope, Reply, SmtpSession, Step};
use crate::app::App;
use crate::store::Channel;

/// Longest command line (RFC 5321 §4.5.3.1.4 asks for 512; be generous).
const MAX_COMMAND_LINE: u64 = 4096;
/// Longest line of message text read at once (RFC says 1000; real mail breaks it).
const MAX_TEXT_LINE: u64 = 1 << 20;
/// How long a client may stay silent (RFC 5321 §4.5.3.2 suggests 5 minutes).
const IDLE: Duration = Duration::from_secs(300);
/// Connections served at once; more wait for a free slot.
const MAX_CONNECTIONS: usize = 256;

/// Settings of the listener.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The name in the greeting and EHLO reply.
    pub hostname: String,
    /// Largest message accepted, in bytes (announced as `SIZE`).
    pub max_size: usize,
}

/// Serves SMTP on `listener` until `shutdown` resolves. Connections in
/// progress then finish on their own, under the app's workers (so the drain
/// waits for them): every `250` they sent is committed.
pub async fn run(
    listener: TcpListener,
    app: App,
    config: SmtpConfig,
    shutdown: impl Future<Output = ()> + Send,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let config = Arc::new(config);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                tracing::warn!(error = %err, "SMTP accept failed");
                continue;
            }
        };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let app = app.clone();
        let config = config.clone();
        app.workers.tracker.clone().spawn(async move {
            if let Err(err) = serve(stream, &app, &config).await {
                tracing::debug!(%peer, error = %err, "SMTP connection ended");
            }
            drop(permit);
        });
    }
}

async fn serve(stream: TcpStream, app: &App, config: &SmtpConfig) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut session = SmtpSession::new(config.hostname.clone(), config.max_size);
    // The channel each accepted recipient maps to, for the delivery.
    let mut channels: HashMap<String, Channel> = HashMap::new();
    write.write_all(&session.greeting().to_wire()).await?;
    let mut line = Vec::new();
    loop {
        line.clear();
        let limit = if session.in_data() {
            MAX_TEXT_LINE
        } else {
            MAX_COMMAND_LINE
        };
        let read =
            tokio::time::timeout(IDLE, (&mut reader).take(limit).read_until(b'\n', &mut line))
                .await;
        let n = match read {
            Ok(result) => result?,
            Err(_) => {
                let bye = Reply::new(421, "4.4.2 idle too long, closing");
                write.write_all(&bye.to_wire()).await?;
                return Ok(());
            }
        };
        if n == 0 {
            return Ok(());
        }
        if !session.in_data() && !line.ends_with(b"\n") && n as u64 == limit {
            let bye = Reply::new(500, "5.5.2 line too long, closing");
            write.write_all(&bye.to_wire()).await?;
            return Ok(());
        }
        let reply = match session.handle_line(&line) {
            Step::Continue => continue,
            Step::Reply(reply) => reply,
            Step::Close(reply) => {
                write.write_all(&reply.to_wire()).await?;
                return Ok(());
            }
            Step::CheckRecipient(address) => {
                let checked = check_recipient(app, &address).await;
                let result = checked.map(|channel| {
                    channels.insert(address.to_ascii_lowercase(), channel);
                });
                session.recipient_checked(result)
            }
            Step::Deliver(envelope) => {
                let reply = store(app, &channels, envelope).await;
                channels.clear();
                session.delivered(reply)
            }
        };
        write.write_all(&reply.to_wire()).await?;
    }
}

async fn check_recipient(app: &App, address: &str) -> Result<Channel, Reply> {
    match channel_for(app, address).await {
        Ok(Some(channel)) if channel.enabled => Ok(channel),
        Ok(Some(channel)) => Err(Reply::new(
            450,
            format!(
                "4.2.1 <{address}>: channel {} is disabled; try again later",
                channel.id
            ),
        )),
        Ok(None) => Err(Reply::new(
            550,
            format!("5.1.1 <{address}>: no frontdesk email channel has this address"),
        )),
        Err(err) => {
            tracing::warn!(error = %err, "SMTP recipient lookup failed");
            Err(Reply::new(
                451,
                "4.3.0 cannot look up recipients now; try again later",
            ))
        }
    }
}

/// Stores the message for every channel among its recipients; 250 only when
/// all are committed. A retry after a 451 stores nothing twice (S3).
async fn store(app: &App, channels: &HashMap<String, Channel>, envelope: Envelope) -> Reply {
    let mut targets: Vec<&Channel> = Vec::new();
    for rcpt in &envelope.rcpt_to {
        if let Some(channel) = channels.get(&rcpt.to_ascii_lowercase())
            && !targets.iter().any(|c| c.id == channel.id)
        {
            targets.push(channel);
        }
    }
    let mail = MailIn {
        method: "SMTP",
        mail_from: Some(envelope.mail_from),
        rcpt_to: envelope.rcpt_to,
        extra: Vec::new(),
        raw: envelope.data,
    };
    let mut stored = 0;
    let mut refused = None;
    for channel in targets {
        match deliver(app, channel, &mail).await {
            Ok(accepted) => stored += accepted.len(),
            Err(DeliverError::Refused(why)) => {
                tracing::info!(channel = channel.id, error = %why, "mail refused by the connector");
                refused = Some(why);
            }
            Err(DeliverError::Temporary(why)) => {
                tracing::warn!(channel = channel.id, error = %why, "mail not stored; the client will retry");
                metrics::counter!("frontdesk_smtp_deferred_total").increment(1);
                return Reply::new(
                    451,
                    "4.3.0 the message could not be stored now; try again later",
                );
            }
        }
    }
    if let Some(why) = refused {
        return Reply::new(554, format!("5.6.0 message not accepted: {why}"));
    }
    metrics::counter!("frontdesk_smtp_accepted_total").increment(1);
    Reply::new(250, format!("2.0.0 stored ({stored} message(s))"))
}
