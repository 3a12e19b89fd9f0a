//! G1: the personal-data consent notice, the customer's answer, and whether the
//! chat may go on.

use serde::{Deserialize, Serialize};

use frontdesk_routing::Timestamp;

/// A channel's consent notice (G1). A channel without one never asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentNotice {
    /// The text shown to the customer before the chat goes on.
    pub text: String,
    /// Bumped by the admin when the text changes in substance: answers given
    /// to an older version no longer count, so customers are asked again.
    #[serde(default = "first_version")]
    pub version: u32,
}

fn first_version() -> u32 {
    1
}

/// Longest notice text: a notice is read in a chat window, not a contract page.
pub const MAX_NOTICE_LEN: usize = 4_000;

impl ConsentNotice {
    /// Checks what the admin typed; the error names the field.
    pub fn validate(&self) -> Result<(), ConsentError> {
        if self.text.trim().is_empty() {
            return Err(ConsentError::EmptyText);
        }
        if self.text.chars().count() > MAX_NOTICE_LEN {
            return Err(ConsentError::TextTooLong {
                max: MAX_NOTICE_LEN,
            });
        }
        if self.version == 0 {
            return Err(ConsentError::ZeroVersion);
        }
        Ok(())
    }
}

/// A consent notice the admin typed was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    /// The notice has no text.
    #[error("consent.text is empty: write the notice customers must accept, or turn consent off")]
    EmptyText,
    /// The notice is longer than a chat window can sensibly show.
    #[error("consent.text is longer than {max} characters: shorten it and link to the full policy")]
    TextTooLong {
        /// The limit.
        max: usize,
    },
    /// Versions start at 1.
    #[error("consent.version must be 1 or more")]
    ZeroVersion,
}

/// The customer's answer, stored on the contact (G1: "record whether the
/// customer accepted").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// Whether they accepted.
    pub accepted: bool,
    /// When they answered.
    pub at: Timestamp,
    /// The notice version they answered.
    pub notice_version: u32,
}

impl ConsentRecord {
    /// Records an answer to `notice` given at `at`.
    pub fn answer(notice: &ConsentNotice, accepted: bool, at: Timestamp) -> Self {
        Self {
            accepted,
            at,
            notice_version: notice.version,
        }
    }
}

/// Where a contact stands with the channel's notice, as scripts see it
/// (`contact.consent`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// The channel asks for no consent.
    #[default]
    NotRequired,
    /// Asked (or about to be), with no answer to the current version yet.
    Pending,
    /// Accepted the current version.
    Accepted,
    /// Declined the current version.
    Declined,
}

impl ConsentStatus {
    /// The status of a contact whose stored answer is `record` (if any).
    pub fn of(notice: Option<&ConsentNotice>, record: Option<&ConsentRecord>) -> Self {
        let Some(notice) = notice else {
            return ConsentStatus::NotRequired;
        };
        match record {
            Some(r) if r.notice_version >= notice.version => {
                if r.accepted {
                    ConsentStatus::Accepted
                } else {
                    ConsentStatus::Declined
                }
            }
            _ => ConsentStatus::Pending,
        }
    }

    /// The status's name as scripts see it.
    pub fn name(self) -> &'static str {
        match self {
            ConsentStatus::NotRequired => "not_required",
            ConsentStatus::Pending => "pending",
            ConsentStatus::Accepted => "accepted",
            ConsentStatus::Declined => "declined",
        }
    }
}

/// What the engine does with a customer message, as far as consent goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentGate {
    /// Go on: no notice, or the customer accepted it.
    Proceed,
    /// Store the message but do not route it or run A1/W2 yet; show the
    /// notice. The chat goes on once the customer accepts.
    AskFirst {
        /// The notice text.
        text: String,
    },
    /// The customer declined: keep the message, route nothing, and offer the
    /// notice again so they can change their mind.
    Declined {
        /// The notice text to show again.
        text: String,
    },
}

impl ConsentGate {
    /// G1: may the chat go on before (or without) consent?
    pub fn decide(notice: Option<&ConsentNotice>, record: Option<&ConsentRecord>) -> Self {
        match (ConsentStatus::of(notice, record), notice) {
            (ConsentStatus::Pending, Some(n)) => ConsentGate::AskFirst {
                text: n.text.clone(),
            },
            (ConsentStatus::Declined, Some(n)) => ConsentGate::Declined {
                text: n.text.clone(),
            },
            _ => ConsentGate::Proceed,
        }
    }

    /// Whether routing and the message hooks may run.
    pub fn proceeds(&self) -> bool {
        matches!(self, ConsentGate::Proceed)
    }
}

/// The notice as a chat message: the admin's text, then how to answer, in
/// the channel's language (English when it has no translation).
pub fn prompt(notice: &ConsentNotice, language: &str) -> String {
    let how = frontdesk_i18n::text(language, "consent-how-to-answer", &[]);
    format!("{}\n\n{how}", notice.text.trim())
}

/// Reads a customer's answer to the notice from plain text: `Some(true)` for
/// yes, `Some(false)` for no, `None` when it is neither (the notice is shown
/// again). Words in English and German, any case, trailing punctuation ignored.
pub fn parse_answer(text: &str) -> Option<bool> {
    let word = text
        .trim()
        .trim_end_matches(['.', '!'])
        .trim()
        .to_lowercase();
    match word.as_str() {
        "yes" | "y" | "ok" | "okay" | "i agree" | "agree" | "accept" | "i accept" | "ja" | "j"
        | "einverstanden" | "ich stimme zu" | "zustimmen" | "👍" => Some(true),
        "no" | "n" | "decline" | "i decline" | "nein" | "ablehnen" | "ich lehne ab" | "👎" => {
            Some(false)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g1_answers_are_read_in_english_and_german() {
        for yes in ["YES", "yes.", " Ja! ", "I agree", "einverstanden", "👍"] {
            assert_eq!(parse_answer(yes), Some(true), "{yes}");
        }
        for no in ["no", "Nein", "decline!", "👎"] {
            assert_eq!(parse_answer(no), Some(false), "{no}");
        }
        for neither in ["", "what is this?", "yes please tell me more", "noon"] {
            assert_eq!(parse_answer(neither), None, "{neither}");
        }
        let notice = ConsentNotice {
            text: "We store your messages for 90 days.".into(),
            version: 1,
        };
        assert!(prompt(&notice, "de").ends_with("mit NEIN, um abzulehnen."));
        assert!(prompt(&notice, "fr").starts_with("We store"));
        assert!(prompt(&notice, "fr").ends_with("NO to decline."));
    }

    #[test]
    fn notice_validation_names_the_field() {
        let mut n = ConsentNotice {
            text: " ".into(),
            version: 1,
        };
        assert!(
            n.validate()
                .unwrap_err()
                .to_string()
                .starts_with("consent.text")
        );
        n.text = "x".repeat(MAX_NOTICE_LEN + 1);
        assert!(matches!(
            n.validate(),
            Err(ConsentError::TextTooLong { .. })
        ));
        n.text = "We store your messages.".into();
        n.version = 0;
        assert_eq!(n.validate(), Err(ConsentError::ZeroVersion));
        n.version = 1;
        n.validate().unwrap();
    }
}
