//! The [`Connector`] trait and the glue that exports it as the `connector` world.

use std::marker::PhantomData;

use crate::http;
use crate::wit::connector as w;
use crate::{
    Attachment, ChannelContext, ConnectorError, FetchedFile, InboundOutcome, InboundRequest,
    OutboundMessage, RateLimit, SendReceipt,
};

/// A channel connector: implement this, then call [`export_connector!`](crate::export_connector).
///
/// The host makes a fresh instance for every call, so there is no `self`:
/// anything that must outlive a call goes in [`kv`](crate::kv).
pub trait Connector {
    /// Prepares the provider for a channel that was created, enabled or
    /// reconfigured: registers `webhook_url` where the provider needs it
    /// (Telegram's `setWebhook`). Called again after every change, so it must
    /// be idempotent. The default does nothing.
    fn setup(_ctx: &ChannelContext, _webhook_url: &str) -> Result<(), ConnectorError> {
        Ok(())
    }

    /// Checks the request's signature or secret token (P3).
    ///
    /// Runs before [`parse`](Connector::parse). The default refuses every
    /// request, so a connector that forgets to verify fails closed; compare
    /// secrets with [`secrets_match`](crate::secrets_match). A connector for
    /// a provider that signs nothing must say so by returning `Ok(())`.
    fn verify(_ctx: &ChannelContext, _req: &InboundRequest) -> Result<(), ConnectorError> {
        Err(ConnectorError::Unauthorized(
            "this connector does not verify requests: implement Connector::verify".to_string(),
        ))
    }

    /// Turns a verified webhook request into normalized messages.
    fn parse(ctx: &ChannelContext, req: InboundRequest) -> Result<InboundOutcome, ConnectorError>;

    /// Renders a reply as the provider's HTTP API call.
    ///
    /// The default [`send`](Connector::send) sends what this returns. The
    /// default here refuses, for inbound-only connectors.
    fn render(
        _ctx: &ChannelContext,
        _msg: &OutboundMessage,
    ) -> Result<http::Request, ConnectorError> {
        Err(ConnectorError::Permanent(
            "this connector cannot send replies".to_string(),
        ))
    }

    /// Reads the provider's answer to a successful send; the default records
    /// no provider message id.
    fn receipt(
        _ctx: &ChannelContext,
        _response: &http::Response,
    ) -> Result<SendReceipt, ConnectorError> {
        Ok(SendReceipt {
            external_message_id: None,
            push: None,
        })
    }

    /// Sends a reply. The default renders it, sends it through the host's
    /// allow-listed HTTP, and classifies the status: 2xx is a success, 408,
    /// 429 and 5xx are worth a retry, anything else is not.
    ///
    /// Override it for transports other than one HTTP call, such as SMTP.
    fn send(ctx: &ChannelContext, msg: OutboundMessage) -> Result<SendReceipt, ConnectorError> {
        let request = Self::render(ctx, &msg)?;
        let response = http::send(&request).map_err(http_error_to_connector)?;
        match response.status {
            200..=299 => Self::receipt(ctx, &response),
            _ => Err(status_to_connector(&response)),
        }
    }

    /// Downloads an attachment a parsed message named. The default fetches
    /// its `url` with a GET; the host's allow-list keeps that to the
    /// provider's own hosts. Override it for providers that name files by id.
    fn fetch_attachment(
        _ctx: &ChannelContext,
        attachment: &Attachment,
    ) -> Result<FetchedFile, ConnectorError> {
        let url = attachment.url.as_deref().ok_or_else(|| {
            ConnectorError::Permanent("the attachment has no URL to fetch".to_string())
        })?;
        let response = http::send(&http::Request::get(url)).map_err(http_error_to_connector)?;
        if !(200..=299).contains(&response.status) {
            return Err(status_to_connector(&response));
        }
        let mime_type = response.header("content-type").map(str::to_owned);
        Ok(FetchedFile {
            mime_type,
            body: response.body,
        })
    }
}

/// Classifies a provider's non-2xx answer: 429 with `Retry-After` is a rate
/// limit, 408, 429 and 5xx are worth a retry, anything else is not.
pub fn status_to_connector(response: &http::Response) -> ConnectorError {
    let message = status_message(response);
    match response.status {
        429 => match response
            .header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            Some(secs) => ConnectorError::RateLimited(RateLimit {
                message,
                retry_after_ms: secs.saturating_mul(1000),
            }),
            None => ConnectorError::Transient(message),
        },
        408 | 500..=599 => ConnectorError::Transient(message),
        _ => ConnectorError::Permanent(message),
    }
}

/// Maps a host HTTP failure to the connector error the outbox acts on:
/// a refused host or bad request will not improve with retries, the rest may.
pub fn http_error_to_connector(error: http::Error) -> ConnectorError {
    match error {
        http::Error::Forbidden(host) => {
            ConnectorError::Permanent(format!("host not allowed by the manifest: {host}"))
        }
        http::Error::InvalidRequest(why) => {
            ConnectorError::Permanent(format!("invalid request: {why}"))
        }
        http::Error::Timeout => ConnectorError::Transient("provider timed out".to_string()),
        http::Error::Transport(why) => ConnectorError::Transient(format!("transport: {why}")),
        http::Error::ResponseTooLarge(limit) => {
            ConnectorError::Transient(format!("provider response over {limit} bytes"))
        }
    }
}

fn status_message(response: &http::Response) -> String {
    // A short excerpt of the body usually carries the provider's reason.
    let body = String::from_utf8_lossy(&response.body);
    let excerpt: String = body.chars().take(200).collect();
    format!("provider answered {}: {excerpt}", response.status)
}

/// Adapts a [`Connector`] to the generated `Guest` trait. Public only for the macro.
#[doc(hidden)]
pub struct ConnectorExport<T>(PhantomData<T>);

impl<T: Connector> w::Guest for ConnectorExport<T> {
    fn setup(ctx: ChannelContext, webhook_url: String) -> Result<(), ConnectorError> {
        T::setup(&ctx, &webhook_url)
    }

    fn fetch_attachment(
        ctx: ChannelContext,
        attachment: Attachment,
    ) -> Result<FetchedFile, ConnectorError> {
        T::fetch_attachment(&ctx, &attachment)
    }

    fn handle_inbound(
        ctx: ChannelContext,
        req: InboundRequest,
    ) -> Result<InboundOutcome, ConnectorError> {
        T::verify(&ctx, &req)?;
        T::parse(&ctx, req)
    }

    fn send(ctx: ChannelContext, msg: OutboundMessage) -> Result<SendReceipt, ConnectorError> {
        T::send(&ctx, msg)
    }
}

/// Exports a [`Connector`] implementation as this component's `connector` world.
///
/// Call it once, at the crate root of a `cdylib` built for `wasm32-wasip2`.
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        #[doc(hidden)]
        type __FrontdeskConnectorExport = $crate::__private::ConnectorExport<$connector>;
        $crate::__private::export_connector_world!(
            __FrontdeskConnectorExport with_types_in $crate::__private::connector_bindings
        );
    };
}

/// The reply's text with the agent's name as its first line (I1), for
/// networks whose messages cannot carry a sender name of their own (a
/// Telegram bot or a Messenger page always writes as itself). Without an
/// author (the channel hides agents, or a bot or the host wrote) the text is
/// unchanged.
pub fn text_with_author(msg: &OutboundMessage) -> Option<String> {
    let text = msg.text.as_deref()?;
    match msg.author_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() && !text.trim().is_empty() => {
            Some(format!("{name}:\n{text}"))
        }
        _ => Some(text.to_string()),
    }
}
