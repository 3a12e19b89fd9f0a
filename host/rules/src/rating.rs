//! Q1–Q3: ratings of a session, by the customer or by a supervisor.

use serde::{Deserialize, Serialize};

use frontdesk_routing::{SessionId, Timestamp};

/// Lowest score.
pub const MIN_SCORE: u8 = 1;
/// Highest score.
pub const MAX_SCORE: u8 = 5;
/// Longest comment kept; longer ones are refused rather than cut, so nobody's
/// words are silently lost.
pub const MAX_COMMENT_LEN: usize = 2_000;

/// Who gave a rating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Rater {
    /// The customer, answering Q1's request.
    Customer,
    /// A supervisor reviewing the session (Q3).
    Supervisor {
        /// The supervisor's user id.
        user: i64,
    },
}

/// One rating of a session. Store one per `(session, rater)`: a second rating
/// by the same rater replaces the first ([`Rating::key`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// The rated session.
    pub session: SessionId,
    /// Who rated it.
    #[serde(flatten)]
    pub rater: Rater,
    /// 1 (poor) to 5 (excellent).
    pub score: u8,
    /// Free text; supervisors use it to explain their score (Q3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When it was given.
    pub at: Timestamp,
}

/// A rating was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    /// The score is outside 1–5.
    #[error("rating.score must be between 1 and 5, but it is {given}")]
    ScoreOutOfRange {
        /// What was given.
        given: i64,
    },
    /// The comment is too long.
    #[error("rating.comment is longer than {max} characters; shorten it")]
    CommentTooLong {
        /// The limit.
        max: usize,
    },
}

impl Rating {
    /// Q1: the customer's rating.
    pub fn customer(
        session: SessionId,
        score: i64,
        comment: Option<String>,
        at: Timestamp,
    ) -> Result<Self, RatingError> {
        Self::new(session, Rater::Customer, score, comment, at)
    }

    /// Q3: a supervisor's rating, usually with a comment.
    pub fn supervisor(
        session: SessionId,
        user: i64,
        score: i64,
        comment: Option<String>,
        at: Timestamp,
    ) -> Result<Self, RatingError> {
        Self::new(session, Rater::Supervisor { user }, score, comment, at)
    }

    fn new(
        session: SessionId,
        rater: Rater,
        score: i64,
        comment: Option<String>,
        at: Timestamp,
    ) -> Result<Self, RatingError> {
        if !(i64::from(MIN_SCORE)..=i64::from(MAX_SCORE)).contains(&score) {
            return Err(RatingError::ScoreOutOfRange { given: score });
        }
        // An empty comment box is no comment.
        let comment = comment
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if comment
            .as_deref()
            .is_some_and(|c| c.chars().count() > MAX_COMMENT_LEN)
        {
            return Err(RatingError::CommentTooLong {
                max: MAX_COMMENT_LEN,
            });
        }
        Ok(Self {
            session,
            rater,
            score: score as u8,
            comment,
            at,
        })
    }

    /// The uniqueness key for storage.
    pub fn key(&self) -> (SessionId, Rater) {
        (self.session, self.rater)
    }
}

/// Reads a score from a customer's plain-text answer, for channels without
/// rating buttons (email, Telegram without inline keyboards): `"5"`,
/// `"4/5"`, `"★★★★"`, `"3 stars"`, `"2 - slow"`. `None` when the text is not
/// a rating, so the engine treats it as a normal message instead.
pub fn parse_score(text: &str) -> Option<u8> {
    let text = text.trim();
    let stars = text.chars().filter(|&c| c == '★' || c == '⭐').count();
    if stars > 0
        && text
            .chars()
            .all(|c| c == '★' || c == '⭐' || c.is_whitespace())
    {
        return u8::try_from(stars)
            .ok()
            .filter(|s| (MIN_SCORE..=MAX_SCORE).contains(s));
    }
    let mut chars = text.chars();
    let digit = chars.next()?.to_digit(10)? as u8;
    let rest = chars.as_str().trim_start();
    // "45" or "4.5" is not a 1–5 score; "4/5", "4 stars" and "4 - ok" are.
    let ends_well = rest.is_empty()
        || rest.starts_with("/5")
        || rest.starts_with(['-', ',', '!', ':'])
        || text[1..].starts_with(char::is_whitespace);
    ((MIN_SCORE..=MAX_SCORE).contains(&digit) && ends_well).then_some(digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_scores() {
        for (text, want) in [
            ("5", Some(5)),
            (" 4/5 ", Some(4)),
            ("★★★", Some(3)),
            ("⭐⭐⭐⭐⭐", Some(5)),
            ("2 - slow answer", Some(2)),
            ("1 star", Some(1)),
            ("45", None),
            ("4.5", None),
            ("0", None),
            ("6", None),
            ("hello", None),
            ("★★★★★★", None),
            ("", None),
        ] {
            assert_eq!(parse_score(text), want, "{text:?}");
        }
    }

    #[test]
    fn q3_supervisor_rating_keeps_its_comment_and_has_its_own_key() {
        let s = SessionId(3);
        let at = Timestamp::from_millis(1);
        let sup =
            Rating::supervisor(s, 9, 2, Some(" missed the refund question ".into()), at).unwrap();
        assert_eq!(sup.comment.as_deref(), Some("missed the refund question"));
        let cust = Rating::customer(s, 5, Some("   ".into()), at).unwrap();
        assert_eq!(cust.comment, None);
        assert_ne!(sup.key(), cust.key());
        assert_eq!(
            Rating::customer(s, 6, None, at),
            Err(RatingError::ScoreOutOfRange { given: 6 })
        );
        let long = "x".repeat(MAX_COMMENT_LEN + 1);
        assert!(matches!(
            Rating::supervisor(s, 9, 3, Some(long), at),
            Err(RatingError::CommentTooLong { .. })
        ));
        let json = serde_json::to_value(&sup).unwrap();
        assert_eq!(json["by"], "supervisor");
        assert_eq!(json["user"], 9);
    }
}
