//! Mail that is not a person writing: bounces and auto-replies.
//!
//! Answering these, or opening a session for them, is how mail loops start:
//! an out-of-office reply to our reply would answer itself forever. So they
//! never open a session (they parse to zero messages). The rules follow
//! RFC 3834 (`Auto-Submitted`), RFC 3464 (`multipart/report` delivery status
//! notifications), RFC 5321 §4.5.5 (the null reverse-path of bounces) and the
//! headers common clients and list servers set.

use mail_parser::{Message, MimeHeaders};

/// Why a mail is not a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotConversation {
    /// A delivery report or bounce.
    Bounce(String),
    /// An auto-reply, list mail or other machine-sent mail.
    AutoReply(String),
}

impl std::fmt::Display for NotConversation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotConversation::Bounce(why) => write!(f, "bounce ({why})"),
            NotConversation::AutoReply(why) => write!(f, "auto-reply ({why})"),
        }
    }
}

fn header_text<'a>(message: &'a Message<'_>, name: &'a str) -> Option<&'a str> {
    message.header_raw(name).map(str::trim)
}

/// Classifies a mail; `None` means a person wrote it. `mail_from` is the
/// envelope sender when the host knows it (`Some("")` is the null sender).
pub fn classify(message: &Message<'_>, mail_from: Option<&str>) -> Option<NotConversation> {
    if mail_from.is_some_and(|from| from.trim().trim_matches(['<', '>']).is_empty()) {
        return Some(NotConversation::Bounce("null envelope sender".into()));
    }
    // Mail read from a mailbox has no envelope; the delivering server
    // recorded the reverse-path as Return-Path (RFC 5321 §4.4).
    if mail_from.is_none() && header_text(message, "Return-Path").is_some_and(|p| p == "<>") {
        return Some(NotConversation::Bounce("Return-Path: <>".into()));
    }
    if message.is_content_type("multipart", "report") {
        let report = message
            .content_type()
            .and_then(|ct| ct.attribute("report-type"))
            .unwrap_or("report")
            .to_ascii_lowercase();
        return Some(NotConversation::Bounce(format!(
            "multipart/report; {report}"
        )));
    }
    let from_local = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address.as_deref())
        .and_then(|a| a.split('@').next())
        .map(str::to_ascii_lowercase);
    if from_local.as_deref() == Some("mailer-daemon") {
        return Some(NotConversation::Bounce("from MAILER-DAEMON".into()));
    }
    if let Some(value) = header_text(message, "Auto-Submitted") {
        let token = value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if token != "no" {
            return Some(NotConversation::AutoReply(format!(
                "Auto-Submitted: {value}"
            )));
        }
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponse"] {
        if let Some(value) = header_text(message, name) {
            return Some(NotConversation::AutoReply(format!("{name}: {value}")));
        }
    }
    if let Some(value) = header_text(message, "Precedence") {
        let value = value.to_ascii_lowercase();
        if matches!(value.as_str(), "bulk" | "auto_reply" | "list" | "junk") {
            return Some(NotConversation::AutoReply(format!("Precedence: {value}")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn check(raw: &str, mail_from: Option<&str>) -> Option<NotConversation> {
        let message = MessageParser::default().parse(raw.as_bytes()).unwrap();
        classify(&message, mail_from)
    }

    const PERSON: &str = "From: Bob <bob@example.org>\r\nTo: help@shop.test\r\nSubject: Hi\r\nMessage-ID: <1@example.org>\r\n\r\nHello\r\n";

    #[test]
    fn a_person_is_a_conversation() {
        assert_eq!(check(PERSON, Some("bob@example.org")), None);
        let explicit_no = PERSON.replace("Subject:", "Auto-Submitted: no\r\nSubject:");
        assert_eq!(check(&explicit_no, None), None);
    }

    #[test]
    fn the_null_sender_is_a_bounce() {
        assert!(matches!(
            check(PERSON, Some("")),
            Some(NotConversation::Bounce(_))
        ));
        assert!(matches!(
            check(PERSON, Some("<>")),
            Some(NotConversation::Bounce(_))
        ));
        let stored = format!("Return-Path: <>\r\n{PERSON}");
        assert!(matches!(
            check(&stored, None),
            Some(NotConversation::Bounce(_))
        ));
        let person = format!("Return-Path: <bob@example.org>\r\n{PERSON}");
        assert_eq!(check(&person, None), None);
    }

    #[test]
    fn a_delivery_status_notification_is_a_bounce() {
        let dsn = "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n\
To: help@shop.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n\
--b1\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n\
--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n\
Final-Recipient: rfc822; nobody@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
--b1--\r\n";
        assert_eq!(
            check(dsn, Some("bob@example.org")),
            Some(NotConversation::Bounce(
                "multipart/report; delivery-status".into()
            ))
        );
    }

    #[test]
    fn auto_replies_are_recognised() {
        for header in [
            "Auto-Submitted: auto-replied",
            "Auto-Submitted: auto-generated; owner-email=x@y",
            "X-Autoreply: yes",
            "Precedence: bulk",
            "Precedence: auto_reply",
            "Precedence: list",
        ] {
            let raw = PERSON.replace("Subject:", &format!("{header}\r\nSubject:"));
            assert!(
                matches!(check(&raw, None), Some(NotConversation::AutoReply(_))),
                "{header}"
            );
        }
    }
}
