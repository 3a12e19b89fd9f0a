//! The auto-action scripts (X1) as the engine runs them, loaded from the store.

use frontdesk_rules::{Hook, ScriptScope};

use crate::engine::EngineError;
use crate::store::Store;

/// The auto-action scripts admins saved, per channel and for all channels;
/// one that no longer compiles (after an upgrade, say) is logged and its hook
/// falls back.
pub async fn load(store: &dyn Store) -> Result<frontdesk_rules::Rules, EngineError> {
    let rules = frontdesk_rules::Rules::new();
    let active = store.active_scripts().await?;
    let stored = active.iter().filter_map(|v| {
        let hook = v.hook.parse::<Hook>().ok()?;
        Some((scope_of(v.channel_id), hook, v.source.as_deref()?))
    });
    for failed in rules.load(stored) {
        tracing::error!(hook = %failed.hook, scope = ?failed.scope, error = %failed.error,
            "saved script does not compile; the hook falls back");
    }
    Ok(rules)
}

fn scope_of(channel: Option<i64>) -> ScriptScope {
    channel.map_or(ScriptScope::AllChannels, ScriptScope::Channel)
}
