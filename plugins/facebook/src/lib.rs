//! The Facebook Messenger connector: a Page's conversations through Meta's
//! webhooks and the Send API.
//!
//! - `GET /hooks/{channel}?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..`:
//!   Meta's subscription handshake, answered with the challenge as text when
//!   the token matches the channel's `verify_token` (403 otherwise).
//! - `POST /hooks/{channel}`: deliveries signed with `X-Hub-Signature-256`
//!   (HMAC-SHA256 of the raw body with `app_secret`); batched entries and
//!   messaging events become messages (see `webhook.rs`).
//! - Replies: `POST {graph_base_url}/{graph_version}/me/messages` with the
//!   Page access token (see `send_api.rs`).
//! - Customers' names: the User Profile API, once per customer (see `profile.rs`).
//!
//! # Layout
//!
//! - `signature.rs`: the handshake and the signature check.
//! - `webhook.rs`: deliveries to normalized messages.
//! - `send_api.rs`: settings, Send API requests, Graph error classes.
//! - `profile.rs`: customers' names and how long an answer is kept.
//! - this file: the `Connector` glue, the only part that calls the host.
//!
//! Everything but the glue is pure, so `cargo test -p facebook` runs natively.

pub mod profile;
pub mod send_api;
pub mod signature;
pub mod webhook;

use frontdesk_plugin_api::{
    ChannelContext, Connector, ConnectorError, InboundMessage, InboundOutcome, InboundRequest,
    OutboundMessage, SendReceipt, clock, export_connector, http, http_error_to_connector, kv, log,
};

use profile::Remembered;
use send_api::{Graph, GraphCall};
use signature::{Handshake, SIGNATURE_HEADER};

/// The connector; the host makes a fresh instance per call.
pub struct Messenger;

fn secret<'a>(ctx: &'a ChannelContext, name: &str) -> Result<&'a str, ConnectorError> {
    ctx.secret(name)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ConnectorError::Unauthorized(format!("the channel has no {name} set")))
}

/// The customer's name from Meta, remembered in kv (see `profile.rs`);
/// `None` when Meta gives none, and the message goes on without it.
fn customer_name(graph: &Graph, psid: &str) -> Option<String> {
    let request = graph.profile_request(psid)?;
    let key = profile::key(psid);
    let now = clock::now_ms();
    if let Some(answer) = kv::get(&key)
        .ok()
        .flatten()
        .and_then(|raw| Remembered::decode(&raw))
        .and_then(|remembered| remembered.answer(now))
    {
        return answer;
    }
    let fetched = match http::send(&request) {
        Ok(response) if (200..=299).contains(&response.status) => profile::name(&response.body),
        Ok(response) => {
            log::warn(&format!(
                "User Profile API gave no name for a customer: {}",
                send_api::describe(&response)
            ));
            None
        }
        Err(error) => {
            log::warn(&format!(
                "User Profile API unreachable: {:?}",
                http_error_to_connector(error)
            ));
            None
        }
    };
    let remembered = fetched
        .clone()
        .map_or(Remembered::Unknown { since_ms: now }, Remembered::Name);
    if let Err(error) = kv::set(&key, &remembered.encode()) {
        log::warn(&format!("cannot remember a customer's name: {error:?}"));
    }
    fetched
}

/// Names the senders Meta's delivery left nameless, when the channel's
/// Graph settings are usable (a message is never lost over a name).
fn add_names(ctx: &ChannelContext, messages: &mut [InboundMessage]) {
    if messages.iter().all(|m| m.sender.name.is_some()) {
        return;
    }
    let Ok(graph) = Graph::from_ctx(ctx) else {
        return;
    };
    for message in messages.iter_mut().filter(|m| m.sender.name.is_none()) {
        message.sender.name = customer_name(&graph, &message.sender.external_id);
    }
}

impl Connector for Messenger {
    /// Subscribes the Page to the app's message fields, so deliveries start
    /// once the app's webhook URL is set (safe to repeat). A config the
    /// connector cannot use is `malformed`: nothing was called.
    fn setup(ctx: &ChannelContext, _webhook_url: &str) -> Result<(), ConnectorError> {
        let graph = Graph::from_ctx(ctx).map_err(|e| match e {
            ConnectorError::Permanent(m) => ConnectorError::Malformed(m),
            other => other,
        })?;
        let response = http::send(&graph.subscribe_request()).map_err(http_error_to_connector)?;
        match response.status {
            200..=299 => Ok(()),
            _ => Err(send_api::classify_call(&response, GraphCall::Subscribe)),
        }
    }

    fn verify(ctx: &ChannelContext, req: &InboundRequest) -> Result<(), ConnectorError> {
        match req.method.as_str() {
            "GET" => Handshake::from_query(&req.query)
                .accept(secret(ctx, "verify_token")?)
                .map(|_| ())
                .map_err(ConnectorError::Unauthorized),
            "POST" => signature::verify(
                secret(ctx, "app_secret")?,
                req.header(SIGNATURE_HEADER),
                &req.body,
            )
            .map_err(|refusal| ConnectorError::Unauthorized(refusal.to_string())),
            other => Err(ConnectorError::Malformed(format!(
                "Messenger sends GET (the verification handshake) and POST (events), not {other}"
            ))),
        }
    }

    fn parse(ctx: &ChannelContext, req: InboundRequest) -> Result<InboundOutcome, ConnectorError> {
        if req.method == "GET" {
            // verify() accepted the token; echo the challenge as Meta expects.
            let handshake = Handshake::from_query(&req.query);
            let challenge = handshake
                .accept(secret(ctx, "verify_token")?)
                .map_err(ConnectorError::Unauthorized)?;
            return Ok(InboundOutcome {
                messages: Vec::new(),
                reply: Some(http::Response {
                    status: 200,
                    headers: vec![("content-type".into(), "text/plain".into())],
                    body: challenge.as_bytes().to_vec(),
                }),
            });
        }
        let mut messages = webhook::parse(&req.body).map_err(ConnectorError::Unprocessable)?;
        add_names(ctx, &mut messages);
        Ok(InboundOutcome::messages(messages))
    }

    /// Sends each part of the reply (see [`send_api::parts`]). A reply of
    /// several parts records each sent part in kv under its outbox id, so a
    /// retry after a failure part-way sends only what is missing.
    fn send(ctx: &ChannelContext, msg: OutboundMessage) -> Result<SendReceipt, ConnectorError> {
        let graph = Graph::from_ctx(ctx)?;
        let parts = send_api::parts(&msg)?;
        let several = parts.len() > 1;
        let key = |i: usize| format!("sent/{}/{i}", msg.outbox_id);
        let mut last_id = None;
        for (i, part) in parts.iter().enumerate() {
            if several && let Ok(Some(mid)) = kv::get(&key(i)) {
                last_id = String::from_utf8(mid).ok();
                continue;
            }
            let request = graph.send_request(&msg.external_chat_id, part);
            let response = http::send(&request).map_err(http_error_to_connector)?;
            if !(200..=299).contains(&response.status) {
                return Err(send_api::classify(&response));
            }
            last_id = send_api::receipt(&response).external_message_id;
            if several
                && let Err(error) = kv::set(&key(i), last_id.as_deref().unwrap_or("").as_bytes())
            {
                // The part is out; at worst a retry repeats it.
                log::warn(&format!(
                    "cannot record part {i} of outbox {}: {error:?}",
                    msg.outbox_id
                ));
            }
        }
        if several {
            for i in 0..parts.len() {
                let _ = kv::delete(&key(i));
            }
        }
        Ok(SendReceipt {
            external_message_id: last_id,
            push: None,
        })
    }
}

export_connector!(Messenger);
