//! I1: what customers see of the agent who wrote to them, as the channel
//! decides: the agent's own profile, one name and avatar for the whole
//! channel, or nothing at all.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ingest::AuthorIdentity;
use crate::store::{ChannelConfig, User};

/// A channel's `agent_identity` setting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentIdentity {
    /// The agent's display name (or user name) and avatar (the default).
    #[default]
    Profile,
    /// The same name and avatar for every agent of this channel.
    Channel {
        name: String,
        #[serde(default)]
        avatar_url: Option<String>,
    },
    /// Customers see no agent name at all.
    Hidden,
}

impl AgentIdentity {
    /// The setting in a channel's config JSON; absent means [`Profile`].
    /// A value that does not parse was refused when it was saved, so it
    /// falls back to the default here rather than failing a delivery.
    ///
    /// [`Profile`]: AgentIdentity::Profile
    pub fn of_channel_config(config: &ChannelConfig) -> AgentIdentity {
        config
            .get("agent_identity")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// Checks a setting an admin sends, naming what is wrong.
    pub fn parse(value: &serde_json::Value) -> Result<AgentIdentity, String> {
        let identity: AgentIdentity = serde_json::from_value(value.clone()).map_err(|e| {
            format!(
                "config.agent_identity: {e}; write {{\"mode\": \"profile\"}}, {{\"mode\": \"hidden\"}} \
                 or {{\"mode\": \"channel\", \"name\": \"Support\", \"avatar_url\": \"https://...\"}}"
            )
        })?;
        if let AgentIdentity::Channel { name, avatar_url } = &identity {
            if name.trim().is_empty() {
                return Err("config.agent_identity.name must not be empty".into());
            }
            if let Some(url) = avatar_url {
                check_avatar_url(url).map_err(|e| format!("config.agent_identity.{e}"))?;
            }
        }
        Ok(identity)
    }

    /// What the customer sees of `agent`; `None` when the channel hides agents.
    pub fn shown(&self, agent: &User) -> Option<AuthorIdentity> {
        self.shown_as(
            &agent.name,
            agent.display_name.as_deref(),
            agent.avatar_url.as_deref(),
        )
    }

    /// [`shown`](Self::shown) from an agent's user name, display name and avatar.
    pub fn shown_as(
        &self,
        name: &str,
        display_name: Option<&str>,
        avatar_url: Option<&str>,
    ) -> Option<AuthorIdentity> {
        match self {
            AgentIdentity::Profile => Some(AuthorIdentity {
                name: display_name.unwrap_or(name).to_string(),
                avatar_url: avatar_url.map(str::to_string),
            }),
            AgentIdentity::Channel { name, avatar_url } => Some(AuthorIdentity {
                name: name.clone(),
                avatar_url: avatar_url.clone(),
            }),
            AgentIdentity::Hidden => None,
        }
    }
}

/// An avatar is shown by customers' apps, so only web URLs make sense.
pub fn check_avatar_url(url: &str) -> Result<(), String> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(())
    } else {
        Err(format!(
            "avatar_url {url:?} must be an http:// or https:// URL"
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::Role;

    fn agent(display_name: Option<&str>) -> User {
        User {
            id: 7,
            name: "ada".into(),
            role: Role::Agent,
            disabled: false,
            dismissed: false,
            vacation: false,
            clocked_in: true,
            on_break: false,
            last_activity_at: None,
            created_at: 0,
            display_name: display_name.map(Into::into),
            avatar_url: Some("https://example.org/ada.png".into()),
        }
    }

    #[test]
    fn i1_each_mode_shows_what_the_channel_chose() {
        let profile = AgentIdentity::of_channel_config(&ChannelConfig::parse("{}"));
        assert_eq!(profile, AgentIdentity::Profile);
        let shown = profile.shown(&agent(Some("Ada L."))).unwrap();
        assert_eq!(shown.name, "Ada L.");
        assert_eq!(
            shown.avatar_url.as_deref(),
            Some("https://example.org/ada.png")
        );
        assert_eq!(profile.shown(&agent(None)).unwrap().name, "ada");

        let channel = AgentIdentity::of_channel_config(&ChannelConfig::parse(
            r#"{"agent_identity": {"mode": "channel", "name": "Support"}}"#,
        ));
        let shown = channel.shown(&agent(Some("Ada L."))).unwrap();
        assert_eq!((shown.name.as_str(), shown.avatar_url), ("Support", None));

        let hidden = AgentIdentity::of_channel_config(&ChannelConfig::parse(
            r#"{"agent_identity": {"mode": "hidden"}}"#,
        ));
        assert_eq!(hidden.shown(&agent(Some("Ada L."))), None);
    }

    #[test]
    fn i1_a_bad_setting_is_refused_with_the_forms_that_work() {
        let err = AgentIdentity::parse(&json!({"mode": "anonymous"})).unwrap_err();
        assert!(err.contains("\"mode\": \"hidden\""), "{err}");
        let err = AgentIdentity::parse(&json!({"mode": "channel", "name": " "})).unwrap_err();
        assert!(err.contains("name must not be empty"), "{err}");
        let err =
            AgentIdentity::parse(&json!({"mode": "channel", "name": "S", "avatar_url": "ftp://x"}))
                .unwrap_err();
        assert!(err.contains("avatar_url"), "{err}");
    }
}
