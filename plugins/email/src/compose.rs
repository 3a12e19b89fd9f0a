//! Writes an agent's reply as an RFC 5322 message that threads at the
//! customer's end: `Re:` subject, `In-Reply-To` the customer's latest mail,
//! `References` the thread (RFC 5322 §3.6.4), and a `Message-ID` of our own
//! that later replies will name.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::message_id::MessageId;

use crate::thread::ChatState;

/// An outbound attachment with its bytes.
#[derive(Debug, Clone)]
pub struct OutFile {
    pub file_name: String,
    pub mime_type: String,
    pub data: Vec<u8>,
}

/// Everything a reply is made of.
#[derive(Debug, Clone)]
pub struct Reply<'a> {
    /// The channel's address, used as `From`.
    pub from_address: &'a str,
    /// The name shown with it (the channel's or the agent's).
    pub from_name: Option<&'a str>,
    /// Without angle brackets.
    pub message_id: &'a str,
    pub text: &'a str,
    pub attachments: Vec<OutFile>,
    /// Unix milliseconds, for the `Date` header.
    pub date_ms: u64,
}

/// The reply's `Message-ID`: stable for one outbox item, so a retry after a
/// lost answer carries the same id and the customer's client drops the copy.
pub fn reply_message_id(channel: &str, outbox_id: &str, from_address: &str) -> String {
    let domain = from_address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
        .unwrap_or("frontdesk.invalid");
    format!("frontdesk.{channel}.{outbox_id}@{domain}")
}

/// `Re: subject`, without stacking prefixes.
pub fn reply_subject(subject: &str) -> String {
    let trimmed = subject.trim();
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("re:") || lower.starts_with("aw:") {
        trimmed.to_string()
    } else if trimmed.is_empty() {
        "Re: your message".to_string()
    } else {
        format!("Re: {trimmed}")
    }
}

/// The whole message, CRLF line ends, ready for the relay.
pub fn compose(chat: &ChatState, reply: Reply<'_>) -> Vec<u8> {
    let from: Address<'_> = match reply.from_name {
        Some(name) => (name, reply.from_address).into(),
        None => reply.from_address.into(),
    };
    let to: Address<'_> = match chat.name.as_deref() {
        Some(name) => (name, chat.customer.as_str()).into(),
        None => chat.customer.as_str().into(),
    };
    let mut builder = MessageBuilder::new()
        .from(from)
        .to(to)
        .subject(reply_subject(&chat.subject))
        .message_id(reply.message_id)
        .date(i64::try_from(reply.date_ms / 1000).unwrap_or(i64::MAX))
        .header("Auto-Submitted", mail_builder::headers::raw::Raw::new("no"));
    if !chat.last.is_empty() {
        builder = builder.in_reply_to(chat.last.as_str());
    }
    if !chat.references.is_empty() {
        builder = builder.references(MessageId::new_list(
            chat.references.iter().map(String::as_str),
        ));
    }
    builder = builder.text_body(reply.text);
    for file in reply.attachments {
        builder = builder.attachment(file.mime_type, file.file_name, file.data);
    }
    builder
        .write_to_vec()
        .expect("writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn chat() -> ChatState {
        ChatState {
            customer: "bob@example.org".into(),
            name: Some("Bob Example".into()),
            subject: "Order 42".into(),
            last: "b2@example.org".into(),
            references: vec!["a1@example.org".into(), "b2@example.org".into()],
        }
    }

    #[test]
    fn a_reply_threads_and_round_trips() {
        let id = reply_message_id("3", "17", "help@shop.test");
        assert_eq!(id, "frontdesk.3.17@shop.test");
        let raw = compose(
            &chat(),
            Reply {
                from_address: "help@shop.test",
                from_name: Some("Shop Support"),
                message_id: &id,
                text: "Hallo Bob, Ihr Paket ist unterwegs. Grüße",
                attachments: Vec::new(),
                date_ms: 1_796_032_800_000,
            },
        );
        let parsed = MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some("Re: Order 42"));
        assert_eq!(parsed.message_id(), Some("frontdesk.3.17@shop.test"));
        assert_eq!(parsed.in_reply_to().as_text(), Some("b2@example.org"));
        assert_eq!(parsed.references().as_text_list().map(|l| l.len()), Some(2));
        let from = parsed.from().unwrap().first().unwrap();
        assert_eq!(from.address.as_deref(), Some("help@shop.test"));
        assert_eq!(
            parsed.to().unwrap().first().unwrap().address.as_deref(),
            Some("bob@example.org")
        );
        assert_eq!(
            parsed.body_text(0).unwrap().trim(),
            "Hallo Bob, Ihr Paket ist unterwegs. Grüße"
        );
        assert_eq!(
            parsed.header_raw("Auto-Submitted").map(str::trim),
            Some("no")
        );
    }

    #[test]
    fn subjects_do_not_stack() {
        assert_eq!(reply_subject("Re: Order"), "Re: Order");
        assert_eq!(reply_subject("AW: Bestellung"), "AW: Bestellung");
        assert_eq!(reply_subject("Order"), "Re: Order");
        assert_eq!(reply_subject(""), "Re: your message");
    }
}
