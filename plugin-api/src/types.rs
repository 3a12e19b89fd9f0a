//! Conveniences on the generated WIT types, so plugins read like Rust.

use crate::http::{Method, Request, Response};
use crate::{ChannelContext, InboundMessage, InboundOutcome, InboundRequest, Sender};

impl ChannelContext {
    /// This channel's value for a secret the manifest declares.
    pub fn secret(&self, name: &str) -> Option<&str> {
        self.secrets
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A top-level string field of the channel config.
    ///
    /// Plugins with structured config should deserialize `config_json` with
    /// serde instead; this covers the common one-URL case without a dependency.
    pub fn config_str(&self, field: &str) -> Option<String> {
        json_string_field(&self.config_json, field)
    }
}

impl InboundRequest {
    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl Response {
    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

impl InboundOutcome {
    /// Messages, answered with a plain `200 OK`.
    pub fn messages(messages: Vec<InboundMessage>) -> Self {
        InboundOutcome {
            messages,
            reply: None,
        }
    }
}

impl Sender {
    /// A sender known only by their provider id.
    pub fn id(external_id: impl Into<String>) -> Self {
        Sender {
            external_id: external_id.into(),
            name: None,
            handle: None,
            email: None,
            phone: None,
        }
    }
}

impl Request {
    /// A `POST` with a body and no headers, using the host's default timeout.
    pub fn post(url: impl Into<String>, body: Vec<u8>) -> Self {
        Request {
            method: Method::Post,
            url: url.into(),
            headers: Vec::new(),
            body,
            timeout_ms: None,
        }
    }

    /// A `GET` with no headers, using the host's default timeout.
    pub fn get(url: impl Into<String>) -> Self {
        Request {
            method: Method::Get,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout_ms: None,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Reads `"field": "value"` from the top level of a JSON object.
///
/// Deliberately small rather than a JSON parser: config reaching a plugin was
/// produced by the host with serde_json, so it is compact, valid, and string
/// values use only the standard escapes handled here.
fn json_string_field(json: &str, field: &str) -> Option<String> {
    let bytes = json.as_bytes();
    let mut depth = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let (string, end) = read_json_string(json, i)?;
                i = end;
                if depth == 1 && string == field {
                    let rest = json[i..].trim_start();
                    let rest = rest.strip_prefix(':')?.trim_start();
                    let start = json.len() - rest.len();
                    return if rest.starts_with('"') {
                        read_json_string(json, start).map(|(value, _)| value)
                    } else {
                        None
                    };
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Reads the JSON string starting at `start` (a `"`); returns it and the index after it.
fn read_json_string(json: &str, start: usize) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = json[start + 1..].char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            '"' => return Some((out, start + 1 + offset + 1)),
            '\\' => {
                let (_, escaped) = chars.next()?;
                match escaped {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let hex: String = (0..4)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    other => out.push(other),
                }
            }
            other => out.push(other),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::json_string_field;

    #[test]
    fn reads_top_level_string_fields_only() {
        let json =
            r#"{"nested":{"api_base_url":"inner"},"api_base_url":"http://127.0.0.1:9\/x","n":3}"#;
        assert_eq!(
            json_string_field(json, "api_base_url").as_deref(),
            Some("http://127.0.0.1:9/x")
        );
        assert_eq!(json_string_field(json, "n"), None);
        assert_eq!(json_string_field(json, "missing"), None);
    }

    #[test]
    fn decodes_escapes() {
        let json = r#"{"a":"line\nbreak \"quoted\" \u00e9"}"#;
        assert_eq!(
            json_string_field(json, "a").as_deref(),
            Some("line\nbreak \"quoted\" é")
        );
    }
}
