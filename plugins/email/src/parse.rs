//! RFC 5322 in, the parts frontdesk keeps out: ids for threading, the
//! customer, readable text, and attachments with their bytes.
//!
//! `mail-parser` does the MIME work (multipart, transfer encodings,
//! charsets, RFC 2047 words, HTML to text for HTML-only mail).

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use crate::classify::{NotConversation, classify};
use crate::quote::strip_history;

/// One attachment of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub file_name: Option<String>,
    /// `type/subtype`, lowercase.
    pub mime_type: String,
    pub size: u64,
    /// The decoded bytes; `None` when over the channel's attachment budget.
    pub data: Option<Vec<u8>>,
}

/// A parsed mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Without angle brackets; derived from the bytes when the mail has none.
    pub message_id: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The author's address, lowercase.
    pub from: String,
    pub name: Option<String>,
    /// Where replies go: `Reply-To`, else `From`.
    pub reply_address: String,
    pub subject: String,
    /// The new text of the mail, quoted history removed.
    pub text: String,
    pub attachments: Vec<Part>,
    pub sent_at_ms: Option<u64>,
    /// Set for bounces and auto-replies, which open no session.
    pub not_conversation: Option<NotConversation>,
}

/// Why a mail could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not an RFC 5322 message at all.
    NotAMessage,
    /// No usable `From` address: nobody to answer.
    NoSender,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::NotAMessage => write!(f, "the body is not an RFC 5322 message"),
            ParseError::NoSender => write!(f, "the mail has no From address to answer"),
        }
    }
}

fn ids(value: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match value {
        mail_parser::HeaderValue::Text(id) => vec![id.to_string()],
        mail_parser::HeaderValue::TextList(list) => list.iter().map(|s| s.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn first_address(address: Option<&mail_parser::Address<'_>>) -> Option<(String, Option<String>)> {
    let addr = address?.first()?;
    let email = addr.address.as_deref()?.trim().to_ascii_lowercase();
    if !email.contains('@') {
        return None;
    }
    let name = addr
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    Some((email, name))
}

/// All text bodies in order, HTML-only parts converted to text.
fn body_text(message: &Message<'_>) -> String {
    let count = message.text_body_count().max(message.html_body_count());
    let mut parts = Vec::new();
    for index in 0..count {
        if let Some(text) = message.body_text(index) {
            let text = text.trim();
            if !text.is_empty() {
                parts.push(text.to_string());
            }
        }
    }
    parts.join("\n\n")
}

fn attachments(message: &Message<'_>, budget: usize) -> Vec<Part> {
    let mut left = budget;
    let mut parts = Vec::new();
    for part in message.attachments() {
        let mime_type = part
            .content_type()
            .map(|ct| match &ct.c_subtype {
                Some(sub) => format!("{}/{}", ct.c_type, sub),
                None => ct.c_type.to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".to_string())
            .to_ascii_lowercase();
        let bytes: &[u8] = match &part.body {
            PartType::Message(inner) => inner.raw_message(),
            _ => part.contents(),
        };
        let size = bytes.len();
        let data = (size <= left).then(|| {
            left -= size;
            bytes.to_vec()
        });
        parts.push(Part {
            file_name: part.attachment_name().map(str::to_string),
            mime_type,
            size: size as u64,
            data,
        });
    }
    parts
}

/// Parses a raw mail. `mail_from` is the envelope sender when known;
/// `attachment_budget` caps the attachment bytes carried with the message.
pub fn parse(
    raw: &[u8],
    mail_from: Option<&str>,
    attachment_budget: usize,
) -> Result<Mail, ParseError> {
    let message = MessageParser::default()
        .parse(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or(ParseError::NotAMessage)?;
    let not_conversation = classify(&message, mail_from);
    let (from, name) = match first_address(message.from()) {
        Some(found) => found,
        // A bounce may come from nobody in particular; it opens no session anyway.
        None if not_conversation.is_some() => (String::new(), None),
        None => return Err(ParseError::NoSender),
    };
    let reply_address = first_address(message.reply_to())
        .map(|(a, _)| a)
        .unwrap_or_else(|| from.clone());
    let message_id = match message.message_id() {
        Some(id) if !id.trim().is_empty() => id.trim().to_string(),
        _ => {
            let digest = Sha256::digest(raw);
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            format!("{hex}@frontdesk.invalid")
        }
    };
    let text = strip_history(&body_text(&message));
    Ok(Mail {
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        subject: message.subject().unwrap_or_default().trim().to_string(),
        sent_at_ms: message
            .date()
            .map(|d| d.to_timestamp())
            .filter(|&t| t > 0)
            .map(|t| t as u64 * 1000),
        attachments: attachments(&message, attachment_budget),
        message_id,
        from,
        name,
        reply_address,
        text,
        not_conversation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: usize = 1 << 20;

    #[test]
    fn a_plain_mail() {
        let raw = b"Return-Path: <bob@example.org>\r\nFrom: \"Bob Example\" <Bob@Example.org>\r\nTo: help@shop.test\r\nSubject: Order 42\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <a1@example.org>\r\n\r\nHello, where is my parcel?\r\n";
        let mail = parse(raw, Some("bob@example.org"), BUDGET).unwrap();
        assert_eq!(mail.message_id, "a1@example.org");
        assert_eq!(mail.from, "bob@example.org");
        assert_eq!(mail.name.as_deref(), Some("Bob Example"));
        assert_eq!(mail.subject, "Order 42");
        assert_eq!(mail.text, "Hello, where is my parcel?");
        assert_eq!(mail.sent_at_ms, Some(1_796_032_800_000));
        assert!(mail.not_conversation.is_none());
    }

    #[test]
    fn multipart_alternative_with_encodings_and_an_attachment() {
        let raw = "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>\r\n\
To: help@shop.test\r\n\
Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\n\
Message-ID: <m2@example.de>\r\n\
In-Reply-To: <sent-1@shop.test>\r\n\
References: <root@example.de> <sent-1@shop.test>\r\n\
Reply-To: orders@example.de\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n\
--inner\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\n\
Sch=F6ne Gr=FC=DFe, die Rechnung anbei.\r\n\r\n\
Am 30.11.2026 um 10:02 schrieb Shop <help@shop.test>:\r\n\
> Bitte senden Sie die Rechnung.\r\n\
--inner\r\n\
Content-Type: text/html; charset=utf-8\r\n\r\n\
<p>Sch\u{f6}ne Gr\u{fc}\u{df}e</p>\r\n\
--inner--\r\n\
--outer\r\n\
Content-Type: application/pdf; name=\"rechnung.pdf\"\r\n\
Content-Disposition: attachment; filename=\"rechnung.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n\
JVBERi0xLjQK\r\n\
--outer--\r\n";
        let mail = parse(raw.as_bytes(), None, BUDGET).unwrap();
        assert_eq!(mail.name.as_deref(), Some("Jürgen Müller"));
        assert_eq!(mail.subject, "Grüße");
        assert_eq!(mail.text, "Schöne Grüße, die Rechnung anbei.");
        assert_eq!(mail.reply_address, "orders@example.de");
        assert_eq!(mail.in_reply_to, vec!["sent-1@shop.test"]);
        assert_eq!(mail.references, vec!["root@example.de", "sent-1@shop.test"]);
        assert_eq!(mail.attachments.len(), 1);
        let pdf = &mail.attachments[0];
        assert_eq!(pdf.file_name.as_deref(), Some("rechnung.pdf"));
        assert_eq!(pdf.mime_type, "application/pdf");
        assert_eq!(pdf.data.as_deref(), Some(&b"%PDF-1.4\n"[..]));
        assert_eq!(pdf.size, 9);
    }

    #[test]
    fn html_only_mail_becomes_readable_text() {
        let raw = "From: ann@example.org\r\nTo: help@shop.test\r\nSubject: Hi\r\nMessage-ID: <h@example.org>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{color:red}</style></head><body><p>Hello <b>there</b>,</p><p>my order&nbsp;is late.</p></body></html>\r\n";
        let mail = parse(raw.as_bytes(), None, BUDGET).unwrap();
        assert!(mail.text.contains("Hello there,"), "{:?}", mail.text);
        assert!(mail.text.contains("my order"), "{:?}", mail.text);
        assert!(!mail.text.contains('<'), "{:?}", mail.text);
        assert!(!mail.text.contains("color"), "{:?}", mail.text);
    }

    #[test]
    fn attachments_over_the_budget_keep_their_name_but_not_their_bytes() {
        let raw = "From: ann@example.org\r\nMessage-ID: <b@x>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee files\r\n--b\r\nContent-Type: image/png; name=a.png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAAAAAA\r\n--b\r\nContent-Type: image/png; name=b.png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAAAAAA\r\n--b--\r\n";
        let mail = parse(raw.as_bytes(), None, 8).unwrap();
        assert_eq!(mail.attachments.len(), 2);
        assert_eq!(mail.attachments[0].data.as_ref().map(Vec::len), Some(6));
        assert_eq!(mail.attachments[1].data, None);
        assert_eq!(mail.attachments[1].size, 6);
        assert_eq!(mail.attachments[1].file_name.as_deref(), Some("b.png"));
    }

    #[test]
    fn a_mail_without_message_id_gets_a_stable_one() {
        let raw = b"From: ann@example.org\r\nSubject: x\r\n\r\nhi\r\n";
        let a = parse(raw, None, BUDGET).unwrap();
        let b = parse(raw, None, BUDGET).unwrap();
        assert_eq!(a.message_id, b.message_id);
        assert!(a.message_id.ends_with("@frontdesk.invalid"));
    }

    #[test]
    fn garbage_and_sender_less_mail_are_refused() {
        assert!(parse(b"\x00\x01\x02", None, BUDGET).is_err());
        assert_eq!(parse(b"", None, BUDGET), Err(ParseError::NotAMessage));
        assert_eq!(
            parse(b"Subject: nobody\r\n\r\nhi\r\n", None, BUDGET),
            Err(ParseError::NoSender)
        );
    }

    #[test]
    fn an_auto_reply_is_marked() {
        let raw = b"From: bob@example.org\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\nMessage-ID: <oo@x>\r\n\r\nI am away.\r\n";
        let mail = parse(raw, Some("bob@example.org"), BUDGET).unwrap();
        assert!(matches!(
            mail.not_conversation,
            Some(NotConversation::AutoReply(_))
        ));
    }
}
