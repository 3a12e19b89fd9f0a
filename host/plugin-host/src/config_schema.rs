//! Channel config schemas: each field a plugin takes, checked before any call.
//!
//! A schema is the `[config.FIELD]` tables of a manifest. Validation reports
//! every bad field at once, each by name, so an admin fixes a form in one go.
//! Fields marked `secret` are split off and reach the plugin only through
//! `channel-context.secrets`, never in `config-json`, so an admin API can
//! show the config without them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ConfigError, FieldError, ManifestError};

/// The type of a config field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    /// Any string.
    String,
    /// An absolute `http` or `https` URL.
    Url,
    /// A whole number.
    Integer,
    /// Any JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A list of strings.
    StringList,
}

/// One field of a plugin's channel config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Whether a channel must set it.
    #[serde(default)]
    pub required: bool,
    /// Whether it holds a credential: passed as a secret, hidden from listings.
    #[serde(default)]
    pub secret: bool,
    /// Help text for the admin form.
    #[serde(default)]
    pub description: Option<String>,
    /// Smallest allowed value (numbers) or length (strings, lists).
    #[serde(default)]
    pub min: Option<i64>,
    /// Largest allowed value (numbers) or length (strings, lists).
    #[serde(default)]
    pub max: Option<i64>,
    /// The characters a string may use, as ranges and single characters:
    /// `"A-Za-z0-9_-"` (a `-` at the end is itself). Lets a provider's rule,
    /// such as Telegram's for `secret_token`, refuse a value before the
    /// channel is saved rather than when the provider is called.
    #[serde(default)]
    pub chars: Option<String>,
}

/// Whether `c` is in a [`FieldSpec::chars`] set.
fn char_allowed(set: &str, c: char) -> bool {
    let set: Vec<char> = set.chars().collect();
    let mut i = 0;
    while i < set.len() {
        if i + 2 < set.len() && set[i + 1] == '-' {
            if (set[i]..=set[i + 2]).contains(&c) {
                return true;
            }
            i += 3;
        } else {
            if set[i] == c {
                return true;
            }
            i += 1;
        }
    }
    false
}

impl FieldSpec {
    /// Rejects declarations that could never validate anything sensibly.
    pub(crate) fn check(&self, field: &str) -> Result<(), ManifestError> {
        let bad = |why: &str| ManifestError::BadSchema {
            field: field.to_string(),
            why: why.to_string(),
        };
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad("field names use a-z, A-Z, 0-9 and '_'"));
        }
        if self.secret && self.kind != FieldType::String {
            return Err(bad("a secret must have type = \"string\""));
        }
        if matches!(self.kind, FieldType::Boolean | FieldType::Url)
            && (self.min.is_some() || self.max.is_some())
        {
            return Err(bad("min and max do not apply to this type"));
        }
        if let (Some(min), Some(max)) = (self.min, self.max)
            && min > max
        {
            return Err(bad("min is larger than max"));
        }
        if let Some(set) = &self.chars
            && (self.kind != FieldType::String || set.is_empty())
        {
            return Err(bad(
                "chars applies to strings and must name at least one character",
            ));
        }
        Ok(())
    }

    fn validate(&self, value: &Value) -> Result<(), String> {
        match (self.kind, value) {
            (FieldType::String, Value::String(s)) => {
                self.bounds(s.chars().count() as f64, "characters")?;
                if let Some(set) = &self.chars
                    && let Some(at) = s.chars().position(|c| !char_allowed(set, c))
                {
                    // The position, not the character: the value may be a secret.
                    return Err(format!(
                        "may only use the characters {set}; character {} is another",
                        at + 1
                    ));
                }
                Ok(())
            }
            (FieldType::Url, Value::String(s)) => match url::Url::parse(s) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
                    Ok(())
                }
                Ok(_) => Err("must be an http or https URL with a host".to_string()),
                Err(error) => Err(format!("is not a URL ({error})")),
            },
            (FieldType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => {
                self.bounds(n.as_f64().unwrap_or(f64::MAX), "")
            }
            (FieldType::Integer, _) => Err("must be an integer".to_string()),
            (FieldType::Number, Value::Number(n)) => {
                self.bounds(n.as_f64().unwrap_or(f64::MAX), "")
            }
            (FieldType::Boolean, Value::Bool(_)) => Ok(()),
            (FieldType::StringList, Value::Array(items)) => {
                if let Some(index) = items.iter().position(|item| !item.is_string()) {
                    return Err(format!("item {index} must be a string"));
                }
                self.bounds(items.len() as f64, "items")
            }
            (kind, _) => Err(format!("must be {}", describe(kind))),
        }
    }

    fn bounds(&self, value: f64, unit: &str) -> Result<(), String> {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        if let Some(min) = self.min
            && value < min as f64
        {
            return Err(format!("must be at least {min}{unit}"));
        }
        if let Some(max) = self.max
            && value > max as f64
        {
            return Err(format!("must be at most {max}{unit}"));
        }
        Ok(())
    }
}

fn describe(kind: FieldType) -> &'static str {
    match kind {
        FieldType::String => "a string",
        FieldType::Url => "a URL string",
        FieldType::Integer => "an integer",
        FieldType::Number => "a number",
        FieldType::Boolean => "true or false",
        FieldType::StringList => "a list of strings",
    }
}

/// A channel config that passed its schema, split the way a plugin gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedConfig {
    /// The non-secret fields as compact JSON.
    pub config_json: String,
    /// The secret fields, by name.
    pub secrets: Vec<(String, String)>,
}

/// Checks `config` against `schema`, reporting every bad field.
pub fn validate(
    plugin: &str,
    version: &str,
    schema: &BTreeMap<String, FieldSpec>,
    config: &Value,
) -> Result<ValidatedConfig, ConfigError> {
    let Value::Object(fields) = config else {
        return Err(ConfigError::NotAnObject {
            plugin: plugin.to_string(),
        });
    };
    let mut errors = Vec::new();
    let mut public = Map::new();
    let mut secrets = Vec::new();
    for (name, spec) in schema {
        match fields.get(name) {
            None | Some(Value::Null) if spec.required => errors.push(FieldError {
                field: name.clone(),
                problem: "is required".to_string(),
            }),
            None | Some(Value::Null) => {}
            Some(value) => match spec.validate(value) {
                Err(problem) => errors.push(FieldError {
                    field: name.clone(),
                    problem,
                }),
                Ok(()) if spec.secret => {
                    secrets.push((name.clone(), value.as_str().unwrap_or_default().to_string()))
                }
                Ok(()) => {
                    public.insert(name.clone(), value.clone());
                }
            },
        }
    }
    // Unknown fields are usually typos of real ones; silently ignoring them
    // would leave the channel running on a default the admin meant to change.
    for name in fields.keys().filter(|name| !schema.contains_key(*name)) {
        errors.push(FieldError {
            field: name.clone(),
            problem: "is not a config field of this plugin".to_string(),
        });
    }
    if !errors.is_empty() {
        return Err(ConfigError::Fields {
            plugin: plugin.to_string(),
            version: version.to_string(),
            errors,
        });
    }
    Ok(ValidatedConfig {
        config_json: Value::Object(public).to_string(),
        secrets,
    })
}

/// A copy of `config` with every secret field's value replaced by `"********"`,
/// for listings and audit logs.
pub fn redact(schema: &BTreeMap<String, FieldSpec>, config: &Value) -> Value {
    let mut config = config.clone();
    if let Value::Object(fields) = &mut config {
        for (name, value) in fields.iter_mut() {
            if schema.get(name).is_some_and(|spec| spec.secret) {
                *value = Value::String("********".to_string());
            }
        }
    }
    config
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> BTreeMap<String, FieldSpec> {
        toml::from_str(
            r#"
            [api_base_url]
            type = "url"
            required = true
            [token]
            type = "string"
            secret = true
            required = true
            [max_text_len]
            type = "integer"
            min = 1
            max = 100
            [tags]
            type = "string-list"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn splits_secrets_from_public_config() {
        let valid = validate(
            "echo",
            "0.1.0",
            &schema(),
            &json!({"api_base_url": "http://127.0.0.1:1/x", "token": "s3cret", "max_text_len": 5}),
        )
        .unwrap();
        assert_eq!(
            valid.secrets,
            vec![("token".to_string(), "s3cret".to_string())]
        );
        assert!(!valid.config_json.contains("s3cret"));
        assert!(valid.config_json.contains("max_text_len"));
    }

    #[test]
    fn names_every_bad_field() {
        let error = validate(
            "echo",
            "0.1.0",
            &schema(),
            &json!({"api_base_url": "ftp://x", "max_text_len": 500, "tags": ["a", 1], "tokn": "typo"}),
        )
        .unwrap_err();
        let ConfigError::Fields { errors, .. } = &error else {
            panic!("{error}")
        };
        let by_field: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.problem.as_str()))
            .collect();
        assert_eq!(
            by_field,
            vec![
                ("api_base_url", "must be an http or https URL with a host"),
                ("max_text_len", "must be at most 100"),
                ("tags", "item 1 must be a string"),
                ("token", "is required"),
                ("tokn", "is not a config field of this plugin"),
            ]
        );
        let message = error.to_string();
        assert!(
            message.starts_with(
                "channel config for echo 0.1.0 is invalid: config field \"api_base_url\""
            ),
            "{message}"
        );
    }

    #[test]
    fn rejects_non_objects_and_wrong_types() {
        assert!(matches!(
            validate("echo", "0.1.0", &schema(), &json!([1])),
            Err(ConfigError::NotAnObject { .. })
        ));
        let error = validate(
            "echo",
            "0.1.0",
            &schema(),
            &json!({"api_base_url": 3, "token": "t", "max_text_len": 1.5}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("\"api_base_url\": must be a URL string"),
            "{error}"
        );
        assert!(
            error.contains("\"max_text_len\": must be an integer"),
            "{error}"
        );
    }

    #[test]
    fn a_character_set_refuses_other_characters_without_echoing_them() {
        let schema: BTreeMap<String, FieldSpec> = toml::from_str(
            r#"
            [webhook_secret]
            type = "string"
            secret = true
            chars = "A-Za-z0-9_-"
            "#,
        )
        .unwrap();
        let ok = validate("t", "0.1.0", &schema, &json!({"webhook_secret": "Ab9_-z"}));
        assert!(ok.is_ok(), "{ok:?}");
        let error = validate(
            "t",
            "0.1.0",
            &schema,
            &json!({"webhook_secret": "has space"}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains(
                "\"webhook_secret\": may only use the characters A-Za-z0-9_-; character 4 is another"
            ),
            "{error}"
        );
        assert!(!error.contains("has space"), "{error}");
        let bad: FieldSpec = toml::from_str("type = \"integer\"\nchars = \"0-9\"").unwrap();
        assert!(bad.check("n").is_err());
    }

    #[test]
    fn redacts_secrets() {
        let shown = redact(
            &schema(),
            &json!({"token": "s3cret", "api_base_url": "http://a"}),
        );
        assert_eq!(
            shown,
            json!({"token": "********", "api_base_url": "http://a"})
        );
    }
}
