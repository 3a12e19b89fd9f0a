//! `serve`'s connection and shutdown flags, shared with `check`, which
//! validates them the same way.

use std::time::Duration;

use anyhow::bail;

/// Connections and shutdown: how long clients and in-flight work may take.
#[derive(clap::Args)]
pub struct LimitArgs {
    /// After SIGTERM or Ctrl-C: seconds in-flight requests and outbox deliveries get to finish before the rest is cut.
    #[arg(long, env = "FRONTDESK_DRAIN_SECS", default_value_t = 5)]
    pub drain_secs: u64,
    /// Seconds a client has to send a request's head, counted from the connection's start or the previous answer (also closes idle keep-alive connections).
    #[arg(long, env = "FRONTDESK_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's whole body.
    #[arg(long, env = "FRONTDESK_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,
    /// HTTP connections open at once; more wait for a free slot. Default: three quarters of the open-file limit (raised to its hard limit at start), at most 10,000.
    #[arg(long, env = "FRONTDESK_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// This node's name in outbox claims, kept across restarts so a restarted node resends its unfinished deliveries at once. Default: a random id kept in {data-dir}/node-id.
    #[arg(long, env = "FRONTDESK_NODE_ID")]
    pub node_id: Option<String>,
}

impl LimitArgs {
    pub fn serve_limits(&self) -> anyhow::Result<crate::server::ServeLimits> {
        for (flag, secs) in [
            ("--header-timeout-secs", self.header_timeout_secs),
            ("--body-timeout-secs", self.body_timeout_secs),
        ] {
            if secs == 0 {
                bail!("{flag} must be at least 1 second");
            }
        }
        let cap = crate::server::connection_cap_from_file_limit();
        let max_connections = match self.max_connections {
            Some(0) => bail!("--max-connections must be at least 1"),
            Some(n) => n,
            None => cap,
        };
        Ok(crate::server::ServeLimits {
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            body_timeout: Duration::from_secs(self.body_timeout_secs),
            max_connections,
            drain: Duration::from_secs(self.drain_secs),
        })
    }
}
