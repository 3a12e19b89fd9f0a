//! One installed version, ready to run: its `InstancePre`, limits and health,
//! and the call path (fresh store, instantiate, call, classify the outcome).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use wasmtime::component::Component;
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::allow_list::{AllowList, HostPattern};
use crate::bindings::v0_1_0::{bot, connector};
use crate::call_state::{CallState, Grants, Services};
use crate::config_schema;
use crate::engine::PluginEngine;
use crate::error::CallError;
use crate::health::Health;
use crate::manifest::{Manifest, PluginKind};
use crate::output_size::OutputSize;
use crate::services::HostLimits;
use crate::types::{
    Attachment, BotAction, BotEvent, Channel, ChannelContext, ConnectorError, FetchedFile,
    InboundOutcome, InboundRequest, OutboundMessage, SendReceipt, Session,
};

/// The pre-linked component of one kind.
enum Pre {
    Connector(connector::ConnectorPre<CallState>),
    Bot(bot::BotPre<CallState>),
}

/// Channels whose validated config one version keeps.
const MAX_CACHED_CHANNELS: usize = 4096;

/// A channel's config as checked for one version.
pub(crate) struct PreparedChannel {
    /// The config it was derived from; a different one is validated afresh.
    config: serde_json::Value,
    /// What the plugin's exports receive, built once rather than per call.
    pub context: ChannelContext,
    allow: Arc<AllowList>,
}

/// The limits one call runs under: webhook, send, setup and bot calls share
/// the standard ones; `fetch-attachment` downloads get their own size and time.
pub(crate) struct CallProfile {
    timeout: Duration,
    http_timeout: Duration,
    max_response_bytes: usize,
    max_output_bytes: usize,
}

impl CallProfile {
    pub(crate) fn standard(timeout: Duration, limits: &HostLimits) -> CallProfile {
        CallProfile {
            timeout,
            http_timeout: limits.http_timeout,
            max_response_bytes: limits.max_http_response_bytes,
            max_output_bytes: limits.max_output_bytes,
        }
    }

    /// The host's attachment limits, whatever the manifest asks: its
    /// `timeout_ms` is sized for parsing, not for downloading a file.
    fn attachment(limits: &HostLimits) -> CallProfile {
        CallProfile {
            timeout: limits.attachment_timeout,
            http_timeout: limits.attachment_timeout,
            max_response_bytes: limits.max_attachment_bytes,
            max_output_bytes: limits
                .max_attachment_bytes
                .saturating_add(limits.max_output_bytes),
        }
    }
}

/// Where a call failed, which decides how its error reads.
enum Failure {
    Instantiate(wasmtime::Error),
    Call(wasmtime::Error),
}

/// An installed plugin version, linked and ready to instantiate per call.
pub(crate) struct LoadedPlugin {
    pub manifest: Manifest,
    pub health: Health,
    name: Arc<str>,
    version: Arc<str>,
    pre: Pre,
    patterns: Vec<HostPattern>,
    /// Per channel id, what `prepare` derived from its config last time.
    channels: RwLock<HashMap<String, Arc<PreparedChannel>>>,
    timeout: Duration,
    memory_bytes: usize,
}

impl LoadedPlugin {
    /// Links `component` for its manifest's kind; fails if it lacks the
    /// world's exports or imports something the host does not provide.
    pub fn link(
        engine: &PluginEngine,
        manifest: Manifest,
        component: &Component,
        services: &Services,
        health: Health,
    ) -> wasmtime::Result<LoadedPlugin> {
        let pre = match manifest.kind {
            PluginKind::Connector => Pre::Connector(connector::ConnectorPre::new(
                engine.connector_linker.instantiate_pre(component)?,
            )?),
            PluginKind::Bot => Pre::Bot(bot::BotPre::new(
                engine.bot_linker.instantiate_pre(component)?,
            )?),
        };
        let limits = &services.limits;
        let timeout = manifest
            .limits
            .timeout_ms
            .map(Duration::from_millis)
            .map_or(limits.timeout, |asked| asked.min(limits.timeout));
        let memory_bytes = manifest
            .limits
            .memory_mb
            .map(|mb| (mb as usize).saturating_mul(1 << 20))
            .map_or(limits.memory_bytes, |asked| asked.min(limits.memory_bytes));
        Ok(LoadedPlugin {
            name: manifest.name.as_str().into(),
            version: manifest.version.as_str().into(),
            patterns: manifest.allowed_hosts(),
            channels: RwLock::new(HashMap::new()),
            manifest,
            health,
            pre,
            timeout,
            memory_bytes,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// How long one standard call may run.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connector's `InstancePre`; a bot is the wrong kind.
    pub(crate) fn connector_pre(&self) -> Result<&connector::ConnectorPre<CallState>, CallError> {
        match &self.pre {
            Pre::Connector(pre) => Ok(pre),
            Pre::Bot(_) => Err(self.wrong_kind(PluginKind::Connector)),
        }
    }

    /// Registers the channel with the provider (e.g. Telegram's `setWebhook`).
    pub async fn setup(
        &self,
        engine: &PluginEngine,
        services: &Arc<Services>,
        channel: &Channel,
        webhook_url: &str,
    ) -> Result<Result<(), ConnectorError>, CallError> {
        self.call_connector(engine, services, channel, async |plugin, store, ctx| {
            plugin.call_setup(store, ctx, webhook_url).await
        })
        .await
    }

    /// Verifies and parses one webhook request.
    pub async fn handle_inbound(
        &self,
        engine: &PluginEngine,
        services: &Arc<Services>,
        channel: &Channel,
        request: &InboundRequest,
    ) -> Result<Result<InboundOutcome, ConnectorError>, CallError> {
        self.call_connector(engine, services, channel, async |plugin, store, ctx| {
            plugin.call_handle_inbound(store, ctx, request).await
        })
        .await
    }

    /// Renders and sends one reply.
    pub async fn send(
        &self,
        engine: &PluginEngine,
        services: &Arc<Services>,
        channel: &Channel,
        message: &OutboundMessage,
    ) -> Result<Result<SendReceipt, ConnectorError>, CallError> {
        self.call_connector(engine, services, channel, async |plugin, store, ctx| {
            plugin.call_send(store, ctx, message).await
        })
        .await
    }

    /// Downloads one attachment a parsed message named, under the attachment
    /// limits: a response over [`HostLimits::max_attachment_bytes`] fails the
    /// call with [`CallError::AttachmentTooLarge`] whatever the plugin makes
    /// of the refused read, so the caller can tell "too big" from "try again".
    pub async fn fetch_attachment(
        &self,
        engine: &PluginEngine,
        services: &Arc<Services>,
        channel: &Channel,
        attachment: &Attachment,
    ) -> Result<Result<FetchedFile, ConnectorError>, CallError> {
        let profile = CallProfile::attachment(&services.limits);
        let (result, too_large) = self
            .call_connector_with(
                engine,
                services,
                channel,
                &profile,
                async |plugin, store, ctx| {
                    plugin.call_fetch_attachment(store, ctx, attachment).await
                },
            )
            .await;
        match result {
            Ok(Err(_)) if too_large => Err(CallError::AttachmentTooLarge {
                plugin: self.name.to_string(),
                version: self.version.to_string(),
                limit: services.limits.max_attachment_bytes,
            }),
            other => other,
        }
    }

    /// One connector export on a fresh instance, under the call's limits.
    async fn call_connector<T: OutputSize>(
        &self,
        engine: &PluginEngine,
        services: &Arc<Services>,
        channel: &Channel,
        call: impl AsyncFnOnce(
            &connector::Connector,
            &mut Store<CallState>,
            &ChannelContext,
        ) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        let profile = CallProfile::standard(self.timeout, &services.limits);
        self.call_connector_with(engine, services, channel, &profile, call)
            .await
            .0
    }

    /// Like `call_connector`, under `profile`; also says whether the `http`
    /// import refused a response for its size.
    async fn call_connector_with<T: OutputSize>(
        &self,
        engine: &PluginEngine,
        services: &Arc<Services>,
        channel: &Channel,
        profile: &CallProfile,
        call: impl AsyncFnOnce(
            &connector::Connector,
            &mut Store<CallState>,
            &ChannelContext,
        ) -> wasmtime::Result<T>,
    ) -> (Result<T, CallError>, bool) {
        let prepared = self
            .connector_pre()
            .and_then(|pre| Ok((pre, self.prepare(engine, services, channel, profile)?)));
        let (pre, (mut store, prepared)) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return (Err(error), false),
        };
        let run = async {
            let instance = pre
                .instantiate_async(&mut store)
                .await
                .map_err(Failure::Instantiate)?;
            call(&instance, &mut store, &prepared.context)
                .await
                .map_err(Failure::Call)
        };
        let result = tokio::time::timeout(profile.timeout, run).await;
        let too_large = store.data().response_too_large;
        (self.classify(&store, result, profile), too_large)
    }

    /// Hands one session event to a bot.
    pub async fn bot_event(
        &self,
        engine: &PluginEngine,
        services: &Arc<Services>,
        channel: &Channel,
        session: &Session,
        event: &BotEvent,
    ) -> Result<Result<Vec<BotAction>, String>, CallError> {
        let Pre::Bot(pre) = &self.pre else {
            return Err(self.wrong_kind(PluginKind::Bot));
        };
        let profile = CallProfile::standard(self.timeout, &services.limits);
        let (mut store, prepared) = self.prepare(engine, services, channel, &profile)?;
        let run = async {
            let instance = pre
                .instantiate_async(&mut store)
                .await
                .map_err(Failure::Instantiate)?;
            instance
                .call_on_event(&mut store, &prepared.context, session, event)
                .await
                .map_err(Failure::Call)
        };
        let result = tokio::time::timeout(profile.timeout, run).await;
        self.classify(&store, result, &profile)
    }

    /// Checks quarantine and config, then builds the call's store; the
    /// prepared channel holds the context to pass the plugin.
    pub(crate) fn prepare(
        &self,
        engine: &PluginEngine,
        services: &Arc<Services>,
        channel: &Channel,
        profile: &CallProfile,
    ) -> Result<(Store<CallState>, Arc<PreparedChannel>), CallError> {
        if let Some(quarantine) = self.health.quarantine() {
            return Err(CallError::Quarantined {
                plugin: self.name.to_string(),
                version: self.version.to_string(),
                reason: quarantine.reason,
            });
        }
        let prepared = self.prepared_channel(channel)?;
        let deadline = Instant::now() + profile.timeout;
        let grants = Grants {
            plugin: self.name.clone(),
            version: self.version.clone(),
            channel: channel.id.clone(),
            allow: prepared.allow.clone(),
            smtp: self.manifest.capabilities.smtp,
            kv: self.manifest.capabilities.kv,
            deadline,
            http_timeout: profile.http_timeout,
            max_response_bytes: profile.max_response_bytes,
        };
        let mut store = Store::new(
            &engine.engine,
            CallState::new(grants, services.clone(), self.memory_bytes),
        );
        store.limiter(|state| &mut state.limiter);
        // Check the deadline at every epoch tick, yielding to the runtime in
        // between so a spinning guest shares its thread.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        Ok((store, prepared))
    }

    /// The channel's validated config and resolved allow-list, from the cache
    /// while the channel's config is unchanged: validating parses URLs, which
    /// was a tenth of a call.
    fn prepared_channel(&self, channel: &Channel) -> Result<Arc<PreparedChannel>, CallError> {
        let cached = self
            .channels
            .read()
            .expect("channel cache lock")
            .get(&channel.id)
            .cloned();
        if let Some(prepared) = cached
            && prepared.config == channel.config
        {
            return Ok(prepared);
        }
        let valid = config_schema::validate(
            &self.name,
            &self.version,
            &self.manifest.config,
            &channel.config,
        )?;
        let prepared = Arc::new(PreparedChannel {
            config: channel.config.clone(),
            allow: Arc::new(AllowList::resolve(&self.patterns, &channel.config)),
            context: ChannelContext {
                channel_id: channel.id.clone(),
                config_json: valid.config_json,
                secrets: valid.secrets,
            },
        });
        let mut channels = self.channels.write().expect("channel cache lock");
        // Deleted channels never leave on their own; a wholesale reset now
        // and then bounds the cache at the cost of revalidating.
        if channels.len() >= MAX_CACHED_CHANNELS {
            channels.clear();
        }
        channels.insert(channel.id.clone(), prepared.clone());
        Ok(prepared)
    }

    /// Turns what happened to a call into its result or a [`CallError`]
    /// naming this plugin and version.
    fn classify<T: OutputSize>(
        &self,
        store: &Store<CallState>,
        result: Result<Result<T, Failure>, tokio::time::error::Elapsed>,
        profile: &CallProfile,
    ) -> Result<T, CallError> {
        let max_output_bytes = profile.max_output_bytes;
        let (plugin, version) = (self.name.to_string(), self.version.to_string());
        let state = store.data();
        let failure = match result {
            Err(_) => {
                return Err(CallError::Timeout {
                    plugin,
                    version,
                    limit: profile.timeout,
                });
            }
            Ok(Ok(value)) => {
                let bytes = value.output_size();
                if bytes > max_output_bytes {
                    return Err(CallError::OutputTooLarge {
                        plugin,
                        version,
                        bytes,
                        limit: max_output_bytes,
                    });
                }
                return Ok(value);
            }
            Ok(Err(failure)) => failure,
        };
        if state.limiter.hit {
            return Err(CallError::MemoryLimit {
                plugin,
                version,
                limit_bytes: self.memory_bytes,
            });
        }
        match failure {
            Failure::Call(error) if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) => {
                Err(CallError::Timeout {
                    plugin,
                    version,
                    limit: profile.timeout,
                })
            }
            Failure::Call(error) => {
                let trap = match error.downcast_ref::<Trap>() {
                    Some(trap) => trap.to_string(),
                    None => error.to_string(),
                };
                let stderr = state.stderr_text();
                let message = if stderr.is_empty() {
                    trap
                } else {
                    format!("{trap}; it printed: {stderr}")
                };
                Err(CallError::Trap {
                    plugin,
                    version,
                    message,
                })
            }
            Failure::Instantiate(error) => Err(CallError::Unavailable {
                plugin,
                version,
                why: format!("{error:#}"),
            }),
        }
    }

    fn wrong_kind(&self, expected: PluginKind) -> CallError {
        CallError::WrongKind {
            plugin: self.name.to_string(),
            version: self.version.to_string(),
            expected: expected.as_str(),
            actual: self.manifest.kind.as_str(),
        }
    }
}
