//! A channel's settings (`channels.config`), parsed once when the row is read.
//!
//! The column holds one JSON object: the connector plugin's own settings
//! (which plugins receive whole) beside the settings frontdesk itself reads.
//! The host's settings are read here and only here, each with its one
//! default; what an admin saves is validated before it is stored
//! (`api/settings.rs`, `retention::validate`, `AgentIdentity::parse`), so a
//! value that does not read falls back to its default rather than failing a
//! delivery or a routing step.

use serde::Serialize;
use serde_json::Value;

use super::LeadMode;

/// A channel's config JSON, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelConfig(Value);

impl ChannelConfig {
    /// The key of A5's conversation timeout, in seconds.
    pub const TIMEOUT_SECS: &str = "timeout_secs";
    /// The key of the retention setting, in days (issue 19).
    pub const RETENTION_DAYS: &str = "retention_days";

    /// Parses the stored text. Text that is not JSON (never written by
    /// frontdesk, which stores `serde_json::Value`s) reads as JSON `null`:
    /// every setting at its default, and the API shows `null` as before.
    pub fn parse(text: &str) -> ChannelConfig {
        ChannelConfig(serde_json::from_str(text).unwrap_or(Value::Null))
    }

    /// The whole JSON value, as stored.
    pub fn value(&self) -> &Value {
        &self.0
    }

    /// One top-level setting, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The object a connector plugin is given: the whole config, or an
    /// empty object when the stored text did not parse.
    pub fn plugin_config(&self) -> Value {
        match &self.0 {
            Value::Null => Value::Object(serde_json::Map::new()),
            value => value.clone(),
        }
    }

    /// O3: the language of the channel's customer texts (`language`);
    /// the i18n fallback when unset.
    pub fn language(&self) -> &str {
        self.get("language")
            .and_then(Value::as_str)
            .unwrap_or(frontdesk_i18n::FALLBACK)
    }

    /// A5: seconds of customer silence after which a session closes
    /// (`timeout_secs`); `None` when unset or not positive.
    pub fn conversation_timeout_secs(&self) -> Option<i64> {
        self.get(Self::TIMEOUT_SECS)
            .and_then(Value::as_i64)
            .filter(|secs| *secs > 0)
    }

    /// W1: the working hours (`working_hours`), `None` when unset (always
    /// open); an error names what does not read, for the caller to log.
    pub fn working_hours(
        &self,
    ) -> Option<Result<frontdesk_rules::WorkingHours, serde_json::Error>> {
        self.get("working_hours")
            .map(|v| serde_json::from_value(v.clone()))
    }

    /// W1: the working hours' time zone, if the channel has working hours.
    pub fn time_zone(&self) -> Option<&str> {
        self.get("working_hours")?.get("time_zone")?.as_str()
    }

    /// G1: the consent notice (`consent`), `None` when unset; an error
    /// names what does not read, for the caller to log.
    pub fn consent(&self) -> Option<Result<frontdesk_rules::ConsentNotice, serde_json::Error>> {
        self.get("consent")
            .map(|v| serde_json::from_value(v.clone()))
    }

    /// Issue 19: days after which closed sessions are erased
    /// (`retention_days`); `None` when off (unset or not positive).
    pub fn retention_days(&self) -> Option<i64> {
        self.get(Self::RETENTION_DAYS)
            .and_then(Value::as_i64)
            .filter(|d| *d > 0)
    }

    /// C2: when the channel creates leads (`leads`); `auto` when unset.
    pub fn leads(&self) -> LeadMode {
        self.get("leads")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// W2: the text customers get outside working hours (`off_hours_text`).
    pub fn off_hours_text(&self) -> Option<&str> {
        self.get("off_hours_text").and_then(Value::as_str)
    }

    /// An `api` channel's `callback_url`, where replies are POSTed.
    pub fn callback_url(&self) -> Option<&str> {
        self.get("callback_url").and_then(Value::as_str)
    }

    /// An email channel's `address`.
    pub fn address(&self) -> Option<&str> {
        self.get("address").and_then(Value::as_str)
    }
}

impl From<Value> for ChannelConfig {
    fn from(value: Value) -> Self {
        ChannelConfig(value)
    }
}

/// Read straight from the column by `sqlx::FromRow` (`try_from = "String"`,
/// through the blanket `TryFrom` that `From` gives).
impl From<String> for ChannelConfig {
    fn from(text: String) -> Self {
        ChannelConfig::parse(&text)
    }
}

/// The API shows the JSON value itself, not its text.
impl Serialize for ChannelConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_host_setting_has_its_default_when_unset_or_unreadable() {
        for config in [ChannelConfig::parse("{}"), ChannelConfig::parse("not json")] {
            assert_eq!(config.language(), frontdesk_i18n::FALLBACK);
            assert_eq!(config.conversation_timeout_secs(), None);
            assert!(config.working_hours().is_none());
            assert!(config.consent().is_none());
            assert_eq!(config.retention_days(), None);
            assert_eq!(config.leads(), LeadMode::Auto);
            assert_eq!(config.callback_url(), None);
            assert_eq!(config.plugin_config(), json!({}));
        }
        assert_eq!(
            serde_json::to_value(ChannelConfig::parse("not json")).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn settings_read_what_the_admin_saved() {
        let config = ChannelConfig::parse(
            &json!({"language": "de", "timeout_secs": 600, "retention_days": 30,
                "leads": "manual", "callback_url": "https://example.org/cb",
                "working_hours": {"time_zone": "Europe/Berlin", "days": {"mon": ["09:00-17:00"]}},
                "token": "t"})
            .to_string(),
        );
        assert_eq!(config.language(), "de");
        assert_eq!(config.conversation_timeout_secs(), Some(600));
        assert_eq!(config.retention_days(), Some(30));
        assert_eq!(config.leads(), LeadMode::Manual);
        assert_eq!(config.callback_url(), Some("https://example.org/cb"));
        assert_eq!(config.time_zone(), Some("Europe/Berlin"));
        assert!(config.working_hours().unwrap().is_ok());
        assert_eq!(config.plugin_config()["token"], "t");
        // A5 and issue 19: zero or less is off.
        let off = ChannelConfig::parse(r#"{"timeout_secs": 0, "retention_days": -1}"#);
        assert_eq!(off.conversation_timeout_secs(), None);
        assert_eq!(off.retention_days(), None);
    }
}
