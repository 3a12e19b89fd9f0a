//! `serve`'s rate-limit flags (L1); the rules themselves are in `limits`.

use std::sync::Arc;

use crate::limits::{Limits, RateLimits, TrustedProxies};

/// Rate limits and the proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, clap::Args)]
pub struct RateLimitArgs {
    /// Rate limits to change, comma-separated: RULE=COUNT/UNIT (units s, min, h, d), RULE=off, or off for all (docs/security.md lists the rules and defaults). E.g. visitors-per-ip=60/min,transcripts-per-ip=off.
    #[arg(long, env = "FRONTDESK_RATE_LIMITS", value_delimiter = ',')]
    pub rate_limits: Vec<String>,
    /// Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client for per-IP limits. Without it the connection's address counts.
    #[arg(long, env = "FRONTDESK_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
}

impl RateLimitArgs {
    /// The limiters these flags ask for; errors name the flag and the fix.
    pub fn limits(&self) -> anyhow::Result<Arc<Limits>> {
        let config = RateLimits::parse(self.rate_limits.iter().map(String::as_str))
            .map_err(|e| anyhow::anyhow!("--rate-limits: {e}"))?;
        let proxies = TrustedProxies::parse(self.trusted_proxies.iter().map(String::as_str))
            .map_err(|e| anyhow::anyhow!("--trusted-proxies: {e}"))?;
        Ok(Limits::new(config, proxies))
    }
}
