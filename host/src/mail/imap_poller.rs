//! The IMAP poller: reads new mail from the mailboxes email channels name.
//!
//! Each poll opens a connection, `EXAMINE`s the mailbox (read-only: no flag
//! changes, the mail stays where it is), and fetches every UID above the
//! channel's cursor, one at a time in UID order. Each mail is committed
//! (S4) before the cursor moves past it, so an outage of the IMAP server, the
//! database or frontdesk itself leaves no gap; a crash between commit and
//! cursor fetches that one mail again, and its `Message-ID` key (S3) stores
//! it once. When the mailbox's UIDVALIDITY changes its UIDs mean nothing any
//! more, so the poller starts from the beginning; stored mail is not stored twice.
//! A mail the connector can never read is logged and skipped, so it cannot
//! block the mailbox in a refetch loop (it stays in the mailbox).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::TryStreamExt;
use serde_json::Value;
use tokio::time::Instant;

use super::deliver::{DeliverError, EMAIL_KIND, MailIn, deliver};
use super::imap_stream::ImapStream;
use crate::app::App;
use crate::store::{Channel, ImapCursor, Role, Viewer};

/// How often the poller looks for channels whose poll is due.
const TICK: Duration = Duration::from_secs(1);
/// How long one poll may take before it is abandoned (and retried later).
const POLL_DEADLINE: Duration = Duration::from_secs(300);

/// A channel's IMAP settings, from its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub user: String,
    pub password: String,
    pub mailbox: String,
    pub poll: Duration,
}

impl ImapSettings {
    /// `None` when the channel does not poll (no `imap_host`); `Err` says
    /// which field is missing.
    pub fn from_config(config: &Value) -> Option<Result<ImapSettings, String>> {
        let host = config["imap_host"].as_str()?.trim().to_string();
        let text = |field: &str| config[field].as_str().map(str::to_string);
        let tls = config["imap_tls"].as_bool().unwrap_or(true);
        let settings = (|| {
            Ok(ImapSettings {
                port: match config["imap_port"].as_u64() {
                    Some(port) => u16::try_from(port).map_err(|_| "imap_port is not a port")?,
                    None if tls => 993,
                    None => 143,
                },
                user: text("imap_user").ok_or("imap_user is missing")?,
                password: text("imap_password").ok_or("imap_password is missing")?,
                mailbox: text("imap_mailbox").unwrap_or_else(|| "INBOX".into()),
                poll: Duration::from_secs(config["imap_poll_secs"].as_u64().unwrap_or(60).max(1)),
                tls,
                host,
            })
        })();
        Some(settings.map_err(|e: &str| e.to_string()))
    }
}

/// Why a poll stopped early; the next poll starts at the same cursor.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("cannot reach the IMAP server: {0}")]
    Connect(#[from] std::io::Error),
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("the cursor could not be read or moved: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("mail not stored, will retry: {0}")]
    Deliver(String),
    #[error("the poll took longer than {0:?}")]
    Deadline(Duration),
}

/// Starts polling every enabled email channel that has IMAP settings; the
/// set of channels and their settings are read again on every tick. On
/// shutdown no poll starts; polls in flight finish (or meet their deadline)
/// within the drain time, so a mail is not fetched and left half-handled.
pub fn start(app: App) {
    let (tracker, stop) = (app.workers.tracker.clone(), app.workers.stop.clone());
    tracker.clone().spawn(async move {
        let running: Arc<Mutex<HashSet<i64>>> = Arc::default();
        let mut due: HashMap<i64, Instant> = HashMap::new();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let admin = Viewer {
                user_id: 0,
                role: Role::Admin,
            };
            let channels = match app.store.list_channels(admin).await {
                Ok(channels) => channels,
                Err(err) => {
                    tracing::warn!(error = %err, "IMAP poller cannot list channels");
                    continue;
                }
            };
            let now = Instant::now();
            for channel in channels {
                if channel.kind != EMAIL_KIND || !channel.enabled {
                    continue;
                }
                let settings = match ImapSettings::from_config(channel.config.value()) {
                    None => continue,
                    Some(Ok(settings)) => settings,
                    Some(Err(why)) => {
                        if due.get(&channel.id).is_none_or(|at| *at <= now) {
                            tracing::error!(
                                channel = channel.id,
                                "IMAP settings incomplete: {why}"
                            );
                            due.insert(channel.id, now + Duration::from_secs(60));
                        }
                        continue;
                    }
                };
                if due.get(&channel.id).is_some_and(|at| *at > now)
                    || !running.lock().expect("poller lock").insert(channel.id)
                {
                    continue;
                }
                due.insert(channel.id, now + settings.poll);
                let (app, running) = (app.clone(), running.clone());
                tracker.spawn(async move {
                    let polled =
                        tokio::time::timeout(POLL_DEADLINE, poll_once(&app, &channel, &settings))
                            .await
                            .unwrap_or(Err(PollError::Deadline(POLL_DEADLINE)));
                    match polled {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(channel = channel.id, mails = n, "IMAP mail stored")
                        }
                        Err(err) => {
                            metrics::counter!("frontdesk_imap_poll_failed_total").increment(1);
                            tracing::warn!(channel = channel.id, host = %settings.host, error = %err, "IMAP poll failed; retrying at the next poll");
                        }
                    }
                    running.lock().expect("poller lock").remove(&channel.id);
                });
            }
        }
    });
}

/// One poll of one channel's mailbox; returns how many mails it handled.
pub async fn poll_once(
    app: &App,
    channel: &Channel,
    settings: &ImapSettings,
) -> Result<usize, PollError> {
    let stream = ImapStream::connect(&settings.host, settings.port, settings.tls).await?;
    let mut client = async_imap::Client::new(stream);
    client.read_response().await?;
    let mut session = client
        .login(&settings.user, &settings.password)
        .await
        .map_err(|(err, _)| err)?;
    let mailbox = session.examine(&settings.mailbox).await?;
    let validity = i64::from(mailbox.uid_validity.unwrap_or(0));
    let stored = app.store.imap_cursor(channel.id, &settings.mailbox).await?;
    let mut cursor = match stored {
        Some(c) if c.uid_validity == validity => c,
        Some(c) => {
            tracing::info!(
                channel = channel.id,
                mailbox = %settings.mailbox,
                old = c.uid_validity,
                new = validity,
                "UIDVALIDITY changed: reading the mailbox again from the start (stored mail is not stored twice)"
            );
            ImapCursor {
                uid_validity: validity,
                last_uid: 0,
            }
        }
        None => ImapCursor {
            uid_validity: validity,
            last_uid: 0,
        },
    };
    let mut handled = 0;
    if mailbox.exists > 0 {
        // `N:*` always names the highest UID, even below N: filter.
        let found = session
            .uid_search(format!("UID {}:*", cursor.last_uid + 1))
            .await?;
        let mut uids: Vec<u32> = found
            .into_iter()
            .filter(|&uid| i64::from(uid) > cursor.last_uid)
            .collect();
        uids.sort_unstable();
        for uid in uids {
            let fetched: Vec<_> = session
                .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
                .await?
                .try_collect()
                .await?;
            let Some(raw) = fetched.iter().find_map(|f| f.body()) else {
                // Expunged between SEARCH and FETCH: nothing to store.
                continue;
            };
            metrics::counter!("frontdesk_imap_fetched_total").increment(1);
            let mail = MailIn {
                method: "IMAP",
                mail_from: None,
                rcpt_to: Vec::new(),
                extra: vec![
                    ("x-frontdesk-imap-mailbox".into(), settings.mailbox.clone()),
                    ("x-frontdesk-imap-uidvalidity".into(), validity.to_string()),
                    ("x-frontdesk-imap-uid".into(), uid.to_string()),
                ],
                raw: raw.to_vec(),
            };
            match deliver(app, channel, &mail).await {
                Ok(_) => {}
                Err(DeliverError::Refused(why)) => {
                    tracing::error!(channel = channel.id, mailbox = %settings.mailbox, uid, error = %why,
                        "mail cannot be read; skipped (it stays in the mailbox)");
                }
                Err(DeliverError::Temporary(why)) => return Err(PollError::Deliver(why)),
            }
            cursor.last_uid = i64::from(uid);
            let now = app.clock.now();
            app.store
                .set_imap_cursor(channel.id, &settings.mailbox, cursor, now)
                .await?;
            handled += 1;
        }
    }
    if stored != Some(cursor) {
        let now = app.clock.now();
        app.store
            .set_imap_cursor(channel.id, &settings.mailbox, cursor, now)
            .await?;
    }
    let _ = session.logout().await;
    Ok(handled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_come_from_the_channel_config() {
        assert_eq!(
            ImapSettings::from_config(&json!({"address": "a@b.c"})),
            None
        );
        let s = ImapSettings::from_config(&json!({
            "imap_host": "imap.example.org", "imap_user": "u", "imap_password": "p"
        }))
        .unwrap()
        .unwrap();
        assert_eq!((s.port, s.tls, s.mailbox.as_str()), (993, true, "INBOX"));
        assert_eq!(s.poll, Duration::from_secs(60));
        let s = ImapSettings::from_config(&json!({
            "imap_host": "127.0.0.1", "imap_tls": false, "imap_user": "u",
            "imap_password": "p", "imap_mailbox": "Support", "imap_poll_secs": 5
        }))
        .unwrap()
        .unwrap();
        assert_eq!((s.port, s.tls, s.mailbox.as_str()), (143, false, "Support"));
        let missing = ImapSettings::from_config(&json!({"imap_host": "h", "imap_user": "u"}));
        assert_eq!(missing, Some(Err("imap_password is missing".to_string())));
    }
}
