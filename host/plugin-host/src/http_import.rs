//! The `http` import: allow-list first, then reqwest with no redirects and
//! capped bodies. Nothing touches the network before the allow-list passes.

use std::time::Duration;

use url::Url;

use crate::bindings::v0_1_0::connector::frontdesk::plugin::http::{
    self, Error, Method, Request, Response,
};
use crate::call_state::CallState;

impl http::Host for CallState {
    async fn send(&mut self, req: Request) -> Result<Response, Error> {
        let url = Url::parse(&req.url)
            .map_err(|error| Error::InvalidRequest(format!("bad URL {:?}: {error}", req.url)))?;
        if let Err(refused) = self.grants.allow.check(&url) {
            tracing::warn!(plugin = %self.grants.plugin, version = %self.grants.version,
                channel = %self.grants.channel, %refused, "plugin HTTP request refused by its allow-list");
            return Err(Error::Forbidden(refused));
        }
        let limits = &self.services.limits;
        if req.body.len() > limits.max_http_request_bytes {
            return Err(Error::InvalidRequest(format!(
                "request body is {} bytes, over the limit of {}",
                req.body.len(),
                limits.max_http_request_bytes
            )));
        }
        let asked = req.timeout_ms.map(|ms| Duration::from_millis(ms.into()));
        let http_timeout = self.grants.http_timeout;
        let timeout = [Some(http_timeout), asked, Some(self.remaining())]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(http_timeout);
        let max_body = self.grants.max_response_bytes;
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
            Method::Head => reqwest::Method::HEAD,
        };
        let mut builder = self
            .services
            .http
            .request(method, url)
            .timeout(timeout)
            .body(req.body);
        for (name, value) in &req.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::InvalidRequest(format!("bad header name {name:?}")))?;
            let value = reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| Error::InvalidRequest(format!("bad value for header {name}")))?;
            builder = builder.header(name, value);
        }
        let mut response = builder.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
            .collect();
        if response
            .content_length()
            .is_some_and(|len| len > max_body as u64)
        {
            self.response_too_large = true;
            return Err(Error::ResponseTooLarge(max_body as u64));
        }
        // Read in chunks so a provider that lies about (or omits) its length
        // cannot make the host buffer more than the limit.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > max_body {
                self.response_too_large = true;
                return Err(Error::ResponseTooLarge(max_body as u64));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn transport_error(error: reqwest::Error) -> Error {
    if error.is_timeout() {
        return Error::Timeout;
    }
    // reqwest's top-level message is vague ("error sending request"); the
    // source chain says whether it was DNS, a refused connection or TLS.
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::Transport(message)
}
