//! The Graph API side: the channel's settings, Send API requests
//! (`POST {graph_base_url}/{graph_version}/me/messages?access_token=...`) and
//! what Graph error bodies mean for the outbox. Pure: it builds requests and
//! reads responses; `lib.rs` sends them.

use frontdesk_plugin_api::{
    AttachmentKind, ChannelContext, ConnectorError, OutboundMessage, RateLimit, SendReceipt, chars,
    http, split_text, status_to_connector,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// Used when the channel does not set `graph_base_url`.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// Used when the channel does not set `graph_version`.
pub const DEFAULT_VERSION: &str = "v24.0";
/// The Send API's limit for one text message, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// The Send API takes at most this many quick replies on a message.
const MAX_QUICK_REPLIES: usize = 13;
/// A quick reply's title is cut to this many characters by Messenger.
const MAX_QUICK_REPLY_TITLE: usize = 20;
/// The longest a User Profile API call may hold up a webhook delivery.
pub const PROFILE_TIMEOUT_MS: u32 = 2000;
/// The webhook fields `setup` subscribes the Page to.
pub const SUBSCRIBED_FIELDS: &str = "messages,messaging_postbacks,message_edits";

#[derive(Debug, Default, Deserialize)]
struct Config {
    graph_base_url: Option<String>,
    graph_version: Option<String>,
    send_timeout_ms: Option<u32>,
}

/// Where and how this channel calls the Graph API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    base: String,
    version: String,
    token: String,
    timeout_ms: Option<u32>,
}

impl Graph {
    /// Reads the channel's settings; an `Err` says which one to fix.
    pub fn from_ctx(ctx: &ChannelContext) -> Result<Graph, ConnectorError> {
        let config: Config = serde_json::from_str(&ctx.config_json)
            .map_err(|e| ConnectorError::Permanent(format!("channel config unreadable: {e}")))?;
        let version = config
            .graph_version
            .unwrap_or_else(|| DEFAULT_VERSION.to_string());
        if !valid_version(&version) {
            return Err(ConnectorError::Permanent(format!(
                "graph_version {version:?} must look like v24.0"
            )));
        }
        let token = ctx
            .secret("page_access_token")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ConnectorError::Permanent("the channel has no page_access_token".into())
            })?;
        Ok(Graph {
            base: config
                .graph_base_url
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
                .trim_end_matches('/')
                .to_string(),
            version,
            token: token.to_string(),
            timeout_ms: config.send_timeout_ms,
        })
    }

    /// `{base}/{version}/me/{edge}?access_token=...` (the Page is `me` for a Page token).
    fn url(&self, edge: &str, extra_query: &str) -> String {
        let token: String = form_urlencoded::byte_serialize(self.token.as_bytes()).collect();
        format!(
            "{}/{}/me/{edge}?{extra_query}access_token={token}",
            self.base, self.version
        )
    }

    /// The Send API call for one message object to `psid`.
    pub fn send_request(&self, psid: &str, message: &Value) -> http::Request {
        let body = json!({
            "recipient": {"id": psid},
            // A reply to a customer who wrote within Messenger's 24-hour window.
            "messaging_type": "RESPONSE",
            "message": message,
        });
        let mut request =
            http::Request::post(self.url("messages", ""), body.to_string().into_bytes())
                .with_header("content-type", "application/json");
        request.timeout_ms = self.timeout_ms;
        request
    }

    /// The User Profile API call for a customer's name:
    /// `GET {base}/{version}/{psid}?fields=first_name,last_name&access_token=...`.
    /// `None` for an id that is not a PSID (they are digits).
    pub fn profile_request(&self, psid: &str) -> Option<http::Request> {
        if psid.is_empty() || !psid.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let token: String = form_urlencoded::byte_serialize(self.token.as_bytes()).collect();
        let mut request = http::Request::get(format!(
            "{}/{}/{psid}?fields=first_name,last_name&access_token={token}",
            self.base, self.version
        ));
        // The delivery waits for it, so it is short whatever sends may take.
        request.timeout_ms = Some(
            self.timeout_ms
                .unwrap_or(PROFILE_TIMEOUT_MS)
                .min(PROFILE_TIMEOUT_MS),
        );
        Some(request)
    }

    /// Subscribes the Page to this app's webhook fields (idempotent at Meta).
    pub fn subscribe_request(&self) -> http::Request {
        let fields = format!("subscribed_fields={SUBSCRIBED_FIELDS}&");
        let mut request = http::Request::post(self.url("subscribed_apps", &fields), Vec::new());
        request.timeout_ms = self.timeout_ms;
        request
    }
}

fn valid_version(version: &str) -> bool {
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.split('.');
    let digits =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    digits(parts.next()) && digits(parts.next()) && parts.next().is_none()
}

/// The Send API `message` objects one reply becomes, in order: the text
/// (split at [`MAX_TEXT_CHARS`]), then one per attachment, since a Messenger
/// message holds text or one attachment. Quick replies go on the last.
pub fn parts(msg: &OutboundMessage) -> Result<Vec<Value>, ConnectorError> {
    // I1: a page always writes as itself, so the agent's name is a first line.
    let mut parts: Vec<Value> = frontdesk_plugin_api::text_with_author(msg)
        .as_deref()
        .map(|text| split_text(text, MAX_TEXT_CHARS, chars))
        .unwrap_or_default()
        .into_iter()
        .map(|text| json!({ "text": text }))
        .collect();
    for attachment in &msg.attachments {
        let url = attachment.url.as_deref().ok_or_else(|| {
            ConnectorError::Permanent(
                "Messenger replies carry attachments by URL; this one has none".into(),
            )
        })?;
        let kind = match attachment.kind {
            AttachmentKind::Image | AttachmentKind::Sticker => "image",
            AttachmentKind::Audio => "audio",
            AttachmentKind::Video => "video",
            AttachmentKind::File | AttachmentKind::Location | AttachmentKind::Other => "file",
        };
        parts.push(json!({
            "attachment": {"type": kind, "payload": {"url": url, "is_reusable": true}}
        }));
    }
    let last = parts.last_mut().ok_or_else(|| {
        ConnectorError::Permanent("the reply has neither text nor attachments".into())
    })?;
    if !msg.quick_replies.is_empty() {
        let quick: Vec<Value> = msg
            .quick_replies
            .iter()
            .take(MAX_QUICK_REPLIES)
            .map(|title| {
                let shown: String = title.chars().take(MAX_QUICK_REPLY_TITLE).collect();
                json!({"content_type": "text", "title": shown, "payload": title})
            })
            .collect();
        last["quick_replies"] = Value::Array(quick);
    }
    Ok(parts)
}

/// The Send API's success body: `{"recipient_id": "...", "message_id": "m_..."}`.
pub fn receipt(response: &http::Response) -> SendReceipt {
    let message_id = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| v.get("message_id")?.as_str().map(str::to_owned));
    SendReceipt {
        external_message_id: message_id,
        push: None,
    }
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: GraphError,
}

/// Graph's error object, as Meta documents it.
#[derive(Debug, Deserialize)]
struct GraphError {
    message: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<i64>,
    error_subcode: Option<i64>,
    fbtrace_id: Option<String>,
    is_transient: Option<bool>,
}

/// Which Graph call failed, for the advice its errors get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphCall {
    /// A Send API reply to a customer.
    Send,
    /// `setup`'s Page subscription (`subscribed_apps`).
    Subscribe,
}

/// Graph's error as one line: status, code/subcode, type, message, trace id;
/// the body's first 200 characters when it is not a Graph error.
pub fn describe(response: &http::Response) -> String {
    match serde_json::from_slice::<ErrorBody>(&response.body) {
        Ok(ErrorBody { error }) => described(response, &error),
        Err(_) => {
            let body = String::from_utf8_lossy(&response.body);
            let excerpt: String = body.chars().take(200).collect();
            format!("Graph API answered {}: {excerpt}", response.status)
        }
    }
}

fn described(response: &http::Response, error: &GraphError) -> String {
    let code = error.code.unwrap_or(0);
    let subcode = error.error_subcode.unwrap_or(0);
    format!(
        "Graph API answered {} with error {code}{} ({}): {} [fbtrace_id {}]",
        response.status,
        if subcode != 0 {
            format!("/{subcode}")
        } else {
            String::new()
        },
        error.kind.as_deref().unwrap_or("no type"),
        error.message.as_deref().unwrap_or("no message"),
        error.fbtrace_id.as_deref().unwrap_or("none"),
    )
}

/// What a failed Send API call means for the outbox, from the error code
/// Meta documents (Graph API "Handling Errors", Messenger "Error Codes").
pub fn classify(response: &http::Response) -> ConnectorError {
    classify_call(response, GraphCall::Send)
}

/// Like [`classify`], with advice that fits `call`: a failed subscription
/// has no recipient and no messaging window.
pub fn classify_call(response: &http::Response, call: GraphCall) -> ConnectorError {
    let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(&response.body) else {
        return status_to_connector(response);
    };
    let code = error.code.unwrap_or(0);
    let described = described(response, &error);
    match code {
        // Throttling: application (4), user (17), page (32), Messenger's
        // per-hour cap (613), app limit (341) and business use case (80006).
        4 | 17 | 32 | 341 | 613 | 80006 => {
            let advice = format!("{described}; rate limited, retried later");
            match retry_after_ms(response) {
                Some(retry_after_ms) => ConnectorError::RateLimited(RateLimit {
                    message: advice,
                    retry_after_ms,
                }),
                None => ConnectorError::Transient(advice),
            }
        }
        // Unknown (1), service (2), Messenger's temporary send failure
        // (1200) and a temporary policy block (368): "wait and retry".
        1 | 2 | 368 | 1200 => ConnectorError::Transient(described),
        _ if error.is_transient == Some(true) => ConnectorError::Transient(described),
        190 | 102 => ConnectorError::Permanent(format!(
            "{described}; the Page access token is invalid or expired: generate a new one and update page_access_token"
        )),
        3 | 10 | 200..=299 => ConnectorError::Permanent(match call {
            GraphCall::Send => format!(
                "{described}; the app or token lacks a permission (pages_messaging), or the customer is outside the messaging window"
            ),
            GraphCall::Subscribe => format!(
                "{described}; the Page access token lacks a permission the subscription needs (pages_messaging, pages_manage_metadata)"
            ),
        }),
        100 | 551 if call == GraphCall::Send => ConnectorError::Permanent(format!(
            "{described}; the recipient cannot be messaged (unknown, blocked the Page, or unavailable)"
        )),
        _ if response.status >= 500 => ConnectorError::Transient(described),
        _ => ConnectorError::Permanent(described),
    }
}

fn retry_after_ms(response: &http::Response) -> Option<u64> {
    let secs = response.header("retry-after")?.trim().parse::<u64>().ok()?;
    Some(secs.saturating_mul(1000))
}

#[cfg(test)]
#[path = "send_api_tests.rs"]
mod tests;
