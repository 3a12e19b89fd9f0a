//! A6: canned responses, in named lists a channel picks from.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Longest list or response name.
pub const MAX_NAME_LEN: usize = 100;
/// Longest shortcut, without its leading `/`.
pub const MAX_SHORTCUT_LEN: usize = 32;
/// Longest response text: about a screenful in a chat window.
pub const MAX_TEXT_LEN: usize = 4_000;
/// Most responses in one list; past this nobody finds anything in it anyway.
pub const MAX_RESPONSES: usize = 500;

/// One canned response an agent can insert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedResponse {
    /// What agents see in the picker, e.g. "Refund policy".
    pub name: String,
    /// What an agent types to insert it, e.g. `/refund`: a `/` and then
    /// lowercase letters, digits, `-` or `_`.
    pub shortcut: String,
    /// The text inserted into the agent's reply.
    pub text: String,
}

/// A named list of canned responses; channels pick lists (A6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedList {
    /// The list's name, e.g. "Billing".
    pub name: String,
    /// The responses, in the order agents see them.
    pub responses: Vec<CannedResponse>,
}

/// A canned-response list was refused. Each message names the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CannedError {
    /// A name is empty or too long.
    #[error("{field}: a name of 1 to {MAX_NAME_LEN} characters is required")]
    BadName {
        /// Where, e.g. `responses[2].name`.
        field: String,
    },
    /// A shortcut is not `/` followed by 1–32 lowercase letters, digits, `-` or `_`.
    #[error(
        "{field}: {given:?} is not a shortcut; use '/' and then up to {MAX_SHORTCUT_LEN} lowercase letters, digits, '-' or '_', e.g. \"/refund\""
    )]
    BadShortcut {
        /// Where, e.g. `responses[2].shortcut`.
        field: String,
        /// What was given.
        given: String,
    },
    /// Two responses in one list share a shortcut, so typing it would be ambiguous.
    #[error("{field}: shortcut {shortcut:?} is already used by responses[{first}]; pick another")]
    DuplicateShortcut {
        /// Where the second one is.
        field: String,
        /// The shortcut.
        shortcut: String,
        /// Index of the first response using it.
        first: usize,
    },
    /// A response text is empty or too long.
    #[error("{field}: the text must be 1 to {MAX_TEXT_LEN} characters")]
    BadText {
        /// Where, e.g. `responses[2].text`.
        field: String,
    },
    /// The list has too many responses.
    #[error("responses: at most {MAX_RESPONSES} per list; split it into several lists")]
    TooMany,
}

impl CannedList {
    /// Checks a list an admin submitted.
    pub fn validate(&self) -> Result<(), CannedError> {
        check_name(&self.name, "name")?;
        if self.responses.len() > MAX_RESPONSES {
            return Err(CannedError::TooMany);
        }
        let mut shortcuts: HashMap<&str, usize> = HashMap::with_capacity(self.responses.len());
        for (i, r) in self.responses.iter().enumerate() {
            check_name(&r.name, &format!("responses[{i}].name"))?;
            if !is_shortcut(&r.shortcut) {
                return Err(CannedError::BadShortcut {
                    field: format!("responses[{i}].shortcut"),
                    given: r.shortcut.clone(),
                });
            }
            if let Some(&first) = shortcuts.get(r.shortcut.as_str()) {
                return Err(CannedError::DuplicateShortcut {
                    field: format!("responses[{i}].shortcut"),
                    shortcut: r.shortcut.clone(),
                    first,
                });
            }
            shortcuts.insert(&r.shortcut, i);
            let len = r.text.chars().count();
            if r.text.trim().is_empty() || len > MAX_TEXT_LEN {
                return Err(CannedError::BadText {
                    field: format!("responses[{i}].text"),
                });
            }
        }
        Ok(())
    }

    /// The response an agent's typed shortcut stands for.
    pub fn find(&self, shortcut: &str) -> Option<&CannedResponse> {
        self.responses.iter().find(|r| r.shortcut == shortcut)
    }

    /// Responses whose shortcut or name starts with what the agent has typed
    /// so far (case-insensitive on names), for the console's picker.
    pub fn complete<'a>(&'a self, typed: &'a str) -> impl Iterator<Item = &'a CannedResponse> + 'a {
        let lower = typed.trim_start_matches('/').to_lowercase();
        self.responses.iter().filter(move |r| {
            r.shortcut[1..].starts_with(&lower) || r.name.to_lowercase().starts_with(&lower)
        })
    }
}

fn check_name(name: &str, field: &str) -> Result<(), CannedError> {
    let len = name.trim().chars().count();
    if len == 0 || name.chars().count() > MAX_NAME_LEN {
        return Err(CannedError::BadName {
            field: field.to_owned(),
        });
    }
    Ok(())
}

fn is_shortcut(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('/') else {
        return false;
    };
    (1..=MAX_SHORTCUT_LEN).contains(&rest.len())
        && rest
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}
