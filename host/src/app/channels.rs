//! Changing a channel: what is checked before a channel's config is saved
//! (its `callback_url`, its plugin's schema) and how secrets in it are shown
//! and kept (P2).

use super::{App, Error};
use crate::store::Channel;

/// What the API shows in place of a secret config value.
const REDACTED: &str = "********";

impl App {
    /// Checks a channel config's `callback_url`, if it has one, against
    /// [`App::callbacks`]: the error names the field and the reason.
    pub async fn check_callback_url(&self, config: &serde_json::Value) -> Result<(), Error> {
        let Some(url) = config.get("callback_url") else {
            return Ok(());
        };
        let Some(url) = url.as_str() else {
            return Err(Error::invalid(
                "config.callback_url must be an http:// or https:// URL",
            ));
        };
        self.callbacks
            .check_url(url)
            .await
            .map_err(|e| Error::invalid(format!("config.callback_url {url:?}: {e}")))
    }

    /// Checks a plugin channel's config against the plugin's schema (errors name the field).
    pub fn validate_plugin_config(
        &self,
        kind: &str,
        config: &serde_json::Value,
    ) -> Result<(), Error> {
        let Some(host) = self
            .plugins
            .as_ref()
            .filter(|_| !self.connectors.contains_key(kind))
        else {
            return Ok(());
        };
        let channel = frontdesk_plugin_host::types::Channel {
            id: "new".into(),
            plugin: kind.into(),
            config: crate::ingest::plugin_config(config),
        };
        host.validate_channel(&channel)
            .map_err(|e| Error::invalid(format!("config: {e}")))
    }

    /// A channel as the API shows it: the values of fields its plugin's
    /// schema marks secret (bot tokens, app secrets) are replaced by
    /// `********`, for admins too. They are set, never read back (P2).
    pub fn present_channel(&self, mut channel: Channel) -> Channel {
        let Some(manifest) = self
            .plugins
            .as_ref()
            .and_then(|h| h.manifest(&channel.kind))
        else {
            return channel;
        };
        let shown =
            frontdesk_plugin_host::config_schema::redact(&manifest.config, channel.config.value());
        channel.config = shown.into();
        channel
    }

    /// A config an admin sends back as they read it keeps its secrets: a
    /// secret field still `********` keeps the stored value.
    pub fn keep_secrets(&self, current: &Channel, config: &mut serde_json::Value) {
        let Some(manifest) = self
            .plugins
            .as_ref()
            .and_then(|h| h.manifest(&current.kind))
        else {
            return;
        };
        let stored = current.config.value();
        let Some(fields) = config.as_object_mut() else {
            return;
        };
        for (name, value) in fields.iter_mut() {
            let secret = manifest.config.get(name).is_some_and(|spec| spec.secret);
            if secret
                && value.as_str() == Some(REDACTED)
                && let Some(kept) = stored.get(name)
            {
                *value = kept.clone();
            }
        }
    }
}
