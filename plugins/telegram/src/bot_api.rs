//! Bot API requests and answers (<https://core.telegram.org/bots/api#making-requests>).
//! Pure: builds URLs and JSON bodies, and reads Telegram's answers into the
//! outcomes the host acts on, so native unit tests cover all of it.

use frontdesk_plugin_api::{ConnectorError, RateLimit};
use serde::Deserialize;
use serde_json::Value;

/// Telegram's answer envelope: `{"ok": true, "result": ...}` or
/// `{"ok": false, "error_code": 429, "description": "...", "parameters": {...}}`.
#[derive(Debug, Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error_code: Option<u16>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<ResponseParameters>,
}

#[derive(Debug, Deserialize)]
struct ResponseParameters {
    /// Seconds to wait before the next request (flood control).
    #[serde(default)]
    retry_after: Option<u64>,
    /// The group became a supergroup with this new id.
    #[serde(default)]
    migrate_to_chat_id: Option<i64>,
}

/// `{base}/bot{token}/{method}`.
pub fn method_url(base: &str, token: &str, method: &str) -> String {
    format!("{}/bot{token}/{method}", base.trim_end_matches('/'))
}

/// `{base}/file/bot{token}/{file_path}`, where `getFile` files are downloaded.
pub fn file_url(base: &str, token: &str, file_path: &str) -> String {
    format!(
        "{}/file/bot{token}/{}",
        base.trim_end_matches('/'),
        file_path.trim_start_matches('/')
    )
}

/// Reads an answer to `method`: the `result` on success, otherwise the
/// error the host acts on. Flood control (429) waits `retry_after`; server
/// trouble (5xx, an answer that is not the Bot API's) is retried; a refusal
/// (400 chat not found, 403 bot blocked, 401 bad token) is final.
pub fn classify(method: &str, status: u16, body: &[u8]) -> Result<Value, ConnectorError> {
    let envelope = serde_json::from_slice::<Envelope>(body).ok();
    if let Some(Envelope {
        ok: true, result, ..
    }) = &envelope
        && (200..300).contains(&status)
    {
        return Ok(result.clone().unwrap_or(Value::Null));
    }
    let Some(envelope) = envelope else {
        // A proxy's or load balancer's page, not Telegram's JSON.
        let excerpt: String = String::from_utf8_lossy(body).chars().take(200).collect();
        let message = format!("Telegram {method}: HTTP {status}: {excerpt}");
        return Err(match status {
            408 | 429 | 500..=599 => ConnectorError::Transient(message),
            _ => ConnectorError::Permanent(message),
        });
    };
    let code = envelope.error_code.unwrap_or(status);
    let description = envelope
        .description
        .unwrap_or_else(|| "no description".to_string());
    let mut message = format!("Telegram {method}: {code} {description}");
    let parameters = envelope.parameters;
    if let Some(chat) = parameters.as_ref().and_then(|p| p.migrate_to_chat_id) {
        message.push_str(&format!(" (the group is now supergroup {chat})"));
    }
    let retry_after = parameters.and_then(|p| p.retry_after);
    Err(match (code, retry_after) {
        (_, Some(secs)) => ConnectorError::RateLimited(RateLimit {
            message,
            retry_after_ms: secs.saturating_mul(1000),
        }),
        (429 | 408 | 500..=599, None) => ConnectorError::Transient(message),
        _ => ConnectorError::Permanent(message),
    })
}

/// Telegram's id for a sent message, from `sendMessage`'s `result`.
pub fn sent_message_id(result: &Value) -> Option<String> {
    result
        .get("message_id")
        .and_then(Value::as_i64)
        .map(|id| id.to_string())
}

/// The `file_path` from `getFile`'s `result`; Telegram leaves it out for
/// files over the Bot API's download limit (20 MB on the cloud server).
pub fn file_path(result: &Value) -> Result<String, ConnectorError> {
    result
        .get("file_path")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            ConnectorError::Permanent(
                "Telegram getFile gave no file_path: the file is over the Bot API's download \
                 limit (20 MB on api.telegram.org; a self-hosted Bot API server has none)"
                    .to_string(),
            )
        })
}

/// Removes the bot token from a message, so errors shown to admins (the
/// outbox's last error, logs) never carry it: request URLs contain it.
pub fn redact(message: String, token: &str) -> String {
    if token.is_empty() {
        message
    } else {
        message.replace(token, "<bot_token>")
    }
}

/// `setWebhook`'s parameters: the update kinds frontdesk reads, and the
/// secret Telegram then sends in `X-Telegram-Bot-Api-Secret-Token`. A secret
/// outside Telegram's rule is `malformed` (the manifest's `chars` normally
/// refuses it before the channel is saved).
pub fn set_webhook_body(url: &str, secret: &str) -> Result<Value, ConnectorError> {
    if secret.is_empty()
        || secret.len() > 256
        || !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(ConnectorError::Malformed(
            "webhook_secret must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - \
             (Telegram's rule for secret_token)"
                .to_string(),
        ));
    }
    Ok(serde_json::json!({
        "url": url,
        "secret_token": secret,
        "allowed_updates": ["message", "edited_message"],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(method: &str, status: u16, body: &str) -> ConnectorError {
        classify(method, status, body.as_bytes()).unwrap_err()
    }

    #[test]
    fn ok_answers_give_their_result() {
        let body = r#"{"ok":true,"result":{"message_id":77,"chat":{"id":5}}}"#;
        let result = classify("sendMessage", 200, body.as_bytes()).unwrap();
        assert_eq!(sent_message_id(&result).as_deref(), Some("77"));
    }

    #[test]
    fn flood_control_is_a_rate_limit_with_telegrams_wait() {
        let body = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#;
        match err("sendMessage", 429, body) {
            ConnectorError::RateLimited(limit) => {
                assert_eq!(limit.retry_after_ms, 7000);
                assert!(limit.message.contains("Too Many Requests"), "{limit:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn server_trouble_is_transient_and_refusals_are_permanent() {
        assert!(matches!(
            err(
                "sendMessage",
                502,
                r#"{"ok":false,"error_code":502,"description":"Bad Gateway"}"#
            ),
            ConnectorError::Transient(_)
        ));
        assert!(matches!(
            err("sendMessage", 503, "<html>down</html>"),
            ConnectorError::Transient(_)
        ));
        match err(
            "sendMessage",
            403,
            r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
        ) {
            ConnectorError::Permanent(m) => {
                assert_eq!(
                    m,
                    "Telegram sendMessage: 403 Forbidden: bot was blocked by the user"
                )
            }
            other => panic!("{other:?}"),
        }
        match err(
            "sendMessage",
            400,
            r#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234}}"#,
        ) {
            ConnectorError::Permanent(m) => assert!(m.contains("-1001234"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            err(
                "sendMessage",
                400,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#
            ),
            ConnectorError::Permanent(_)
        ));
    }

    #[test]
    fn tokens_never_reach_error_text() {
        let token = "123:SECRET";
        let message = format!(
            "transport: error sending request for url ({})",
            method_url("https://api.telegram.org/", token, "sendMessage")
        );
        let clean = redact(message, token);
        assert!(!clean.contains("SECRET"), "{clean}");
        assert!(clean.contains("/bot<bot_token>/sendMessage"), "{clean}");
    }

    #[test]
    fn urls_follow_the_bot_api_layout() {
        assert_eq!(
            method_url("http://127.0.0.1:9000/", "1:x", "getFile"),
            "http://127.0.0.1:9000/bot1:x/getFile"
        );
        assert_eq!(
            file_url("https://api.telegram.org", "1:x", "photos/file_0.jpg"),
            "https://api.telegram.org/file/bot1:x/photos/file_0.jpg"
        );
        assert!(matches!(
            file_path(&serde_json::json!({"file_id": "a", "file_size": 30000000})),
            Err(ConnectorError::Permanent(_))
        ));
    }

    #[test]
    fn webhook_secrets_follow_telegrams_charset() {
        let body = set_webhook_body("https://x/hooks/1", "s3cret_-").unwrap();
        assert_eq!(body["secret_token"], "s3cret_-");
        assert_eq!(
            body["allowed_updates"],
            serde_json::json!(["message", "edited_message"])
        );
        assert!(matches!(
            set_webhook_body("https://x/hooks/1", "has space"),
            Err(ConnectorError::Malformed(m)) if m.contains("webhook_secret")
        ));
        assert!(set_webhook_body("https://x/hooks/1", "").is_err());
    }
}
