//! Failed inbound: authentic requests the channel's connector could not
//! parse, kept raw for admins (`GET /api/v1/inbound/failed` lists them).
//! The inbound path answers the provider 200 for each, because Telegram
//! holds back a chat's later updates while one keeps failing.

use http::HeaderMap;

use super::App;
use crate::store::{NewFailedInbound, StoreError};

/// Header values never kept: they authenticate the provider, and admins
/// reading the list have no use for them.
fn is_credential(name: &str) -> bool {
    matches!(name, "authorization" | "proxy-authorization" | "cookie")
        || ["secret", "signature", "token", "api-key"]
            .iter()
            .any(|word| name.contains(word))
}

/// The headers as a JSON object, credentials replaced by `"<redacted>"`.
fn headers_json(headers: &HeaderMap) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for name in headers.keys() {
        let value = if is_credential(name.as_str()) {
            "<redacted>".to_string()
        } else {
            headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        object.insert(name.as_str().to_string(), value.into());
    }
    serde_json::Value::Object(object)
}

/// Keeps an authentic request its connector could not parse; returns once
/// it is committed, so the 200 that follows never loses it (S4).
pub async fn keep(
    app: &App,
    channel_id: i64,
    headers: &HeaderMap,
    body: &[u8],
    reason: &str,
) -> Result<i64, StoreError> {
    let new = NewFailedInbound {
        channel_id,
        headers: headers_json(headers),
        body: body.to_vec(),
        reason: reason.to_string(),
    };
    let id = app.store.add_failed_inbound(&new, app.clock.now()).await?;
    metrics::counter!("frontdesk_inbound_failed_total").increment(1);
    tracing::warn!(
        channel = channel_id,
        failed_inbound = id,
        %reason,
        "webhook kept as failed inbound; answered 200"
    );
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_and_the_rest_kept() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.insert("x-telegram-bot-api-secret-token", "s3cret".parse().unwrap());
        headers.insert("x-hub-signature-256", "sha256=ab".parse().unwrap());
        headers.insert("authorization", "Bearer x".parse().unwrap());
        let json = headers_json(&headers);
        assert_eq!(json["content-type"], "application/json");
        assert_eq!(json["x-telegram-bot-api-secret-token"], "<redacted>");
        assert_eq!(json["x-hub-signature-256"], "<redacted>");
        assert_eq!(json["authorization"], "<redacted>");
        assert!(!json.to_string().contains("s3cret"));
    }
}
