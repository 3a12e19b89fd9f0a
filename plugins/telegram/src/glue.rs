//! The connector as the host calls it: the pure modules plus `http` and `kv`.

use frontdesk_plugin_api::{
    Attachment, ChannelContext, Connector, ConnectorError, FetchedFile, InboundOutcome,
    InboundRequest, OutboundMessage, SendReceipt, export_connector, http, http_error_to_connector,
    kv, log,
};
use serde_json::Value;

use crate::{bot_api, outbound, update, verify};

struct Telegram;

/// The channel's Bot API server and bot token, or a clear error naming the
/// missing field (the host validates config first, so this is a safety net).
fn api(ctx: &ChannelContext) -> Result<(String, String), ConnectorError> {
    let base = ctx.config_str("api_base_url").ok_or_else(|| {
        ConnectorError::Permanent(
            "api_base_url is not set; use https://api.telegram.org or your Bot API server"
                .to_string(),
        )
    })?;
    let token = ctx
        .secret("bot_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ConnectorError::Permanent("bot_token is not set; get one from @BotFather".to_string())
        })?;
    Ok((base, token.to_string()))
}

/// Sends one Bot API call and reads Telegram's answer, with the token kept
/// out of every error.
fn call(base: &str, token: &str, method: &str, body: &Value) -> Result<Value, ConnectorError> {
    let request = http::Request::post(
        bot_api::method_url(base, token, method),
        body.to_string().into_bytes(),
    )
    .with_header("content-type", "application/json");
    let response = http::send(&request)
        .map_err(|e| redact(http_error_to_connector(e), token))
        .map_err(|e| describe(method, e))?;
    bot_api::classify(method, response.status, &response.body).map_err(|e| redact(e, token))
}

fn describe(method: &str, error: ConnectorError) -> ConnectorError {
    map_message(error, |m| format!("Telegram {method}: {m}"))
}

fn redact(error: ConnectorError, token: &str) -> ConnectorError {
    map_message(error, |m| bot_api::redact(m, token))
}

fn map_message(error: ConnectorError, f: impl FnOnce(String) -> String) -> ConnectorError {
    match error {
        ConnectorError::Unauthorized(m) => ConnectorError::Unauthorized(f(m)),
        ConnectorError::Malformed(m) => ConnectorError::Malformed(f(m)),
        ConnectorError::Transient(m) => ConnectorError::Transient(f(m)),
        ConnectorError::Permanent(m) => ConnectorError::Permanent(f(m)),
        ConnectorError::Unprocessable(m) => ConnectorError::Unprocessable(f(m)),
        ConnectorError::RateLimited(mut limit) => {
            limit.message = f(limit.message);
            ConnectorError::RateLimited(limit)
        }
    }
}

/// The kv key recording how many parts of a multi-part reply went out, so a
/// retry after a failure half-way sends only the rest. The outbox id is used
/// only here, never sent to Telegram or shown to the customer.
fn progress_key(msg: &OutboundMessage) -> String {
    format!("sent-parts:{}", msg.outbox_id)
}

impl Connector for Telegram {
    /// `setWebhook`. A config the connector cannot use is `malformed`: the
    /// host then knows Telegram was not called.
    fn setup(ctx: &ChannelContext, webhook_url: &str) -> Result<(), ConnectorError> {
        let (base, token) = api(ctx).map_err(|e| match e {
            ConnectorError::Permanent(m) => ConnectorError::Malformed(m),
            other => other,
        })?;
        let secret = ctx.secret("webhook_secret").unwrap_or_default();
        let body = bot_api::set_webhook_body(webhook_url, secret)?;
        call(&base, &token, "setWebhook", &body)?;
        log::info("setWebhook accepted");
        Ok(())
    }

    fn verify(ctx: &ChannelContext, req: &InboundRequest) -> Result<(), ConnectorError> {
        verify::check(
            ctx.secret("webhook_secret"),
            req.header(verify::SECRET_HEADER),
        )
        .map_err(ConnectorError::Unauthorized)
    }

    fn parse(_ctx: &ChannelContext, req: InboundRequest) -> Result<InboundOutcome, ConnectorError> {
        // Only called after `verify` passed: the update is authentic, so one
        // that cannot be read is kept for admins, not refused (Telegram would
        // hold back the chat's later updates while it keeps failing).
        let messages = update::parse(&req.body).map_err(|e| ConnectorError::Unprocessable(e.0))?;
        Ok(InboundOutcome::messages(messages))
    }

    fn send(ctx: &ChannelContext, msg: OutboundMessage) -> Result<SendReceipt, ConnectorError> {
        let (base, token) = api(ctx)?;
        let calls = outbound::plan(&msg)?;
        let key = progress_key(&msg);
        let done = if calls.len() > 1 {
            kv::get(&key)
                .ok()
                .flatten()
                .and_then(|v| String::from_utf8(v).ok())
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
        } else {
            0
        };
        let mut first_id = None;
        for (i, part) in calls.iter().enumerate().skip(done) {
            let result = call(&base, &token, part.method, &part.body)?;
            first_id = first_id.or_else(|| bot_api::sent_message_id(&result));
            if i + 1 < calls.len()
                && let Err(e) = kv::set(&key, (i + 1).to_string().as_bytes())
            {
                // Not fatal: a retry would repeat this part, nothing is lost.
                log::warn(&format!("cannot record reply progress: {e:?}"));
            }
        }
        if calls.len() > 1 {
            let _ = kv::delete(&key);
        }
        Ok(SendReceipt {
            external_message_id: first_id,
            push: None,
        })
    }

    fn fetch_attachment(
        ctx: &ChannelContext,
        attachment: &Attachment,
    ) -> Result<FetchedFile, ConnectorError> {
        let (base, token) = api(ctx)?;
        let file_id = attachment.provider_file_id.as_deref().ok_or_else(|| {
            ConnectorError::Permanent(
                "this attachment has no Telegram file id (a location has no file)".to_string(),
            )
        })?;
        let result = call(
            &base,
            &token,
            "getFile",
            &serde_json::json!({"file_id": file_id}),
        )?;
        let path = bot_api::file_path(&result)?;
        let response = http::send(&http::Request::get(bot_api::file_url(&base, &token, &path)))
            .map_err(|e| redact(http_error_to_connector(e), &token))
            .map_err(|e| describe("file download", e))?;
        if !(200..300).contains(&response.status) {
            return Err(redact(
                bot_api::classify("file download", response.status, &response.body)
                    .err()
                    .unwrap_or_else(|| {
                        ConnectorError::Transient("Telegram file download failed".to_string())
                    }),
                &token,
            ));
        }
        // Telegram's file server says application/octet-stream for most
        // files; the type the update named is better when there is one.
        let mime_type = attachment
            .mime_type
            .clone()
            .or_else(|| response.header("content-type").map(str::to_owned));
        Ok(FetchedFile {
            mime_type,
            body: response.body,
        })
    }
}

export_connector!(Telegram);
