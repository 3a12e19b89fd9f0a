//! The host side of the plugin imports other than `http` (see `http_import.rs`).

use crate::bindings::v0_1_0::bot::frontdesk::plugin::bot_types;
use crate::bindings::v0_1_0::connector::frontdesk::plugin::{
    clock, connector_types, kv, log, smtp, types,
};
use crate::call_state::CallState;
use crate::services::{KvError, MailError};

impl types::Host for CallState {}
impl connector_types::Host for CallState {}
impl bot_types::Host for CallState {}

impl log::Host for CallState {
    async fn log(&mut self, level: log::Level, message: String) {
        if self.log_budget == 0 {
            if !self.log_truncated {
                self.log_truncated = true;
                tracing::warn!(plugin = %self.grants.plugin, version = %self.grants.version,
                    channel = %self.grants.channel, "plugin log budget for this call used up; dropping the rest");
            }
            return;
        }
        let mut end = message.len().min(self.log_budget);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let text = &message[..end];
        self.log_budget -= end.max(1);
        let (plugin, version, channel) = (
            &*self.grants.plugin,
            &*self.grants.version,
            &self.grants.channel,
        );
        match level {
            log::Level::Trace => tracing::trace!(plugin, version, channel, "{text}"),
            log::Level::Debug => tracing::debug!(plugin, version, channel, "{text}"),
            log::Level::Info => tracing::info!(plugin, version, channel, "{text}"),
            log::Level::Warn => tracing::warn!(plugin, version, channel, "{text}"),
            log::Level::Error => tracing::error!(plugin, version, channel, "{text}"),
        }
    }
}

impl clock::Host for CallState {
    async fn now_ms(&mut self) -> u64 {
        self.services.clock.now_ms()
    }
}

impl kv::Host for CallState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, kv::Error> {
        self.check_kv(&key, 0)?;
        let store = self.services.kv.clone();
        store.get(&self.kv_scope(), &key).await.map_err(kv_error)
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), kv::Error> {
        self.check_kv(&key, value.len())?;
        let store = self.services.kv.clone();
        store
            .set(&self.kv_scope(), &key, value)
            .await
            .map_err(kv_error)
    }

    async fn delete(&mut self, key: String) -> Result<(), kv::Error> {
        self.check_kv(&key, 0)?;
        let store = self.services.kv.clone();
        store.delete(&self.kv_scope(), &key).await.map_err(kv_error)
    }
}

impl CallState {
    fn check_kv(&self, key: &str, value_len: usize) -> Result<(), kv::Error> {
        let limits = &self.services.limits;
        if !self.grants.kv {
            return Err(kv::Error::Unavailable(
                "the manifest does not grant kv (capabilities.kv = true)".to_string(),
            ));
        }
        if key.len() > limits.max_kv_key_bytes {
            return Err(kv::Error::TooLarge(format!(
                "keys are at most {} bytes",
                limits.max_kv_key_bytes
            )));
        }
        if value_len > limits.max_kv_value_bytes {
            return Err(kv::Error::TooLarge(format!(
                "values are at most {} bytes",
                limits.max_kv_value_bytes
            )));
        }
        Ok(())
    }
}

fn kv_error(error: KvError) -> kv::Error {
    match error {
        KvError::QuotaExceeded(why) => kv::Error::TooLarge(why),
        KvError::Unavailable(why) => kv::Error::Unavailable(why),
    }
}

impl smtp::Host for CallState {
    async fn send(
        &mut self,
        envelope: smtp::Envelope,
        message: Vec<u8>,
    ) -> Result<(), smtp::Error> {
        if !self.grants.smtp {
            return Err(smtp::Error::Forbidden(
                "the manifest does not grant smtp".to_string(),
            ));
        }
        let Some(mailer) = self.services.mailer.clone() else {
            return Err(smtp::Error::Forbidden(
                "this server has no mail relay configured".to_string(),
            ));
        };
        let remaining = self.remaining();
        let send = mailer.send(&envelope.mail_from, &envelope.rcpt_to, &message);
        match tokio::time::timeout(remaining, send).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(MailError::Rejected(why))) => Err(smtp::Error::Rejected(why)),
            Ok(Err(MailError::Transient(why))) => Err(smtp::Error::Transient(why)),
            Err(_) => Err(smtp::Error::Transient(
                "the relay did not answer in time".to_string(),
            )),
        }
    }
}
