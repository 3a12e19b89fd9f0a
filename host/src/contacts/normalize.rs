//! C1: the forms of an email address and a phone number that contacts are
//! matched on, so `Ada@Example.org ` and `ada@example.org`, or
//! `+49 (30) 1234-5678` and `+4930 12345678`, find the same customer.

/// Why a typed-in address or number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("email {0:?} is not an address like name@example.org")]
    Email(String),
    #[error(
        "phone {0:?} is not an international number: write it with its country code, like +49 30 1234567"
    )]
    Phone(String),
}

/// An email address trimmed and lower-cased, or `None` if it is not one.
///
/// The whole address is lower-cased: the local part is case-sensitive in
/// RFC 5321, but no mail provider in use treats it so, and matching
/// `Ada@` and `ada@` as two customers would split one person's history.
pub fn email(raw: &str) -> Option<String> {
    let address = raw.trim().to_lowercase();
    let (local, domain) = address.rsplit_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == '<' || c == '>');
    plausible.then_some(address)
}

/// A phone number in E.164 (`+493012345678`), or `None` if it does not parse
/// as a valid international number. National numbers without a country code
/// are ambiguous across a channel's customers, so they are not guessed.
pub fn phone(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    // `00` is the international prefix most of the world dials.
    let international = match trimmed.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => trimmed.to_string(),
    };
    let number = phonenumber::parse(None, &international).ok()?;
    phonenumber::is_valid(&number)
        .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
}

/// For what a person types (API): the normalized email, or why it is refused.
pub fn checked_email(raw: Option<&str>) -> Result<Option<String>, Invalid> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => email(raw)
            .map(Some)
            .ok_or_else(|| Invalid::Email(raw.to_string())),
    }
}

/// For what a person types (API): the E.164 phone, or why it is refused.
pub fn checked_phone(raw: Option<&str>) -> Result<Option<String>, Invalid> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => phone(raw)
            .map(Some)
            .ok_or_else(|| Invalid::Phone(raw.to_string())),
    }
}

/// For what a provider sends (ingest): the normalized form when there is
/// one, else the value as sent, trimmed, so nothing a customer gave is lost.
pub fn lenient_email(raw: Option<&str>) -> Option<String> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    Some(email(raw).unwrap_or_else(|| raw.to_string()))
}

/// See [`lenient_email`].
pub fn lenient_phone(raw: Option<&str>) -> Option<String> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    Some(phone(raw).unwrap_or_else(|| raw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c1_emails_match_whatever_their_case_and_spacing() {
        assert_eq!(
            email(" Ada@Example.ORG ").as_deref(),
            Some("ada@example.org")
        );
        assert_eq!(email("ada@example"), None);
        assert_eq!(email("ada example.org"), None);
        assert_eq!(email("@example.org"), None);
        assert_eq!(email("a b@example.org"), None);
    }

    #[test]
    fn c1_phones_become_e164_from_the_usual_ways_of_writing_them() {
        for written in [
            "+49 30 12345678",
            "+49 (30) 1234-5678",
            "0049 30 12345678",
            "+49.30.123.456.78",
        ] {
            assert_eq!(
                phone(written).as_deref(),
                Some("+493012345678"),
                "{written}"
            );
        }
        assert_eq!(phone("+1 415-555-2671").as_deref(), Some("+14155552671"));
        assert_eq!(phone("030 12345678"), None, "no country code: not guessed");
        assert_eq!(phone("+49 1"), None, "too short to be valid");
        assert_eq!(phone("call me"), None);
    }

    #[test]
    fn typed_values_are_refused_with_what_to_write_instead() {
        assert_eq!(checked_email(Some("  ")), Ok(None));
        assert_eq!(
            checked_email(Some("Bo@Example.org")),
            Ok(Some("bo@example.org".into()))
        );
        let err = checked_phone(Some("12345")).unwrap_err();
        assert!(err.to_string().contains("country code"), "{err}");
        assert_eq!(lenient_phone(Some(" 12345 ")).as_deref(), Some("12345"));
        assert_eq!(
            lenient_phone(Some("+49 30 12345678")).as_deref(),
            Some("+493012345678")
        );
    }
}
