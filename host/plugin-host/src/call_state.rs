//! The data of one call's store: WASI, the memory limiter and the
//! capabilities granted to this plugin on this channel. A store lives for one
//! call, so nothing a plugin does can leak into the next call or channel.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::allow_list::AllowList;
use crate::services::{HostLimits, KvScope, KvStore, Mailer, WallClock};

/// Bytes of guest stderr kept per call: enough for a panic message.
pub(crate) const STDERR_BYTES: usize = 4096;

/// Shared, long-lived services a call's imports use.
pub(crate) struct Services {
    pub http: reqwest::Client,
    pub kv: Arc<dyn KvStore>,
    pub mailer: Option<Arc<dyn Mailer>>,
    pub clock: Arc<dyn WallClock>,
    pub limits: HostLimits,
}

/// What this plugin may do on this channel, fixed at the start of the call.
pub(crate) struct Grants {
    pub plugin: Arc<str>,
    pub version: Arc<str>,
    pub channel: String,
    pub allow: Arc<AllowList>,
    pub smtp: bool,
    pub kv: bool,
    /// When the call must be over; host calls never wait past it.
    pub deadline: Instant,
    /// Deadline of one outbound HTTP request in this call.
    pub http_timeout: std::time::Duration,
    /// Largest HTTP response body this call may receive.
    pub max_response_bytes: usize,
}

/// Wasmtime's `StoreLimits`, plus a note of whether a memory growth was
/// refused, so that the resulting trap (Rust guests abort when an allocation
/// fails) is reported as a memory limit rather than a crash.
pub(crate) struct MemoryLimiter {
    limits: StoreLimits,
    pub hit: bool,
}

impl MemoryLimiter {
    fn new(memory_bytes: usize) -> MemoryLimiter {
        let limits = StoreLimitsBuilder::new()
            .memory_size(memory_bytes)
            // Tables hold function references; a legitimate plugin needs few.
            .table_elements(100_000)
            .build();
        MemoryLimiter { limits, hit: false }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        self.hit |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// The store data of one call.
pub(crate) struct CallState {
    /// Built on the guest's first WASI call: most calls make none, and
    /// building one seeds two random generators (see `docs/benchmarks.md`).
    wasi: Option<WasiCtx>,
    table: ResourceTable,
    stderr: MemoryOutputPipe,
    pub limiter: MemoryLimiter,
    pub grants: Grants,
    pub services: Arc<Services>,
    /// Log bytes still allowed in this call.
    pub log_budget: usize,
    /// Whether a log line was dropped for the budget; noted once.
    pub log_truncated: bool,
    /// Whether the `http` import refused a response over `max_response_bytes`.
    pub response_too_large: bool,
}

impl CallState {
    pub fn new(grants: Grants, services: Arc<Services>, memory_limit: usize) -> CallState {
        let log_budget = services.limits.max_log_bytes_per_call;
        CallState {
            wasi: None,
            table: ResourceTable::new(),
            stderr: MemoryOutputPipe::new(STDERR_BYTES),
            limiter: MemoryLimiter::new(memory_limit),
            grants,
            services,
            log_budget,
            log_truncated: false,
            response_too_large: false,
        }
    }

    /// What the guest wrote to stderr (a panic message, usually), trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_string()
    }

    pub fn kv_scope(&self) -> KvScope {
        KvScope {
            plugin: self.grants.plugin.to_string(),
            channel: self.grants.channel.clone(),
        }
    }

    /// Time left before the call's deadline.
    pub fn remaining(&self) -> std::time::Duration {
        self.grants
            .deadline
            .saturating_duration_since(Instant::now())
    }
}

/// The WASI context of a call whose guest writes panics to `stderr`.
///
/// No preopened directories, no environment, no network: the WASI defaults
/// deny files and sockets, so `http` and `smtp` are the only ways out, and
/// those check the grants.
pub(crate) fn wasi_context(stderr: &MemoryOutputPipe) -> WasiCtx {
    wasmtime_wasi::WasiCtxBuilder::new()
        .stderr(stderr.clone())
        .build()
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let stderr = &self.stderr;
        WasiCtxView {
            ctx: self.wasi.get_or_insert_with(|| wasi_context(stderr)),
            table: &mut self.table,
        }
    }
}
