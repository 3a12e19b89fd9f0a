//! What the host lends plugins: storage, mail, a clock and limits. Each is a
//! trait or a plain value so the server can wire its own (the database, lettre,
//! the injected clock) and tests can use the in-memory ones here.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Whose key-value store a call uses: one plugin on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KvScope {
    /// The plugin name (not version: data survives upgrades).
    pub plugin: String,
    /// The channel id.
    pub channel: String,
}

/// Why a key-value operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The scope's quota is full.
    #[error("key-value quota exceeded: {0}")]
    QuotaExceeded(String),
    /// The backing store failed.
    #[error("key-value store unavailable: {0}")]
    Unavailable(String),
}

/// Storage behind the `kv` import. The server implements it on its database.
#[async_trait::async_trait]
pub trait KvStore: Send + Sync {
    /// Reads a value.
    async fn get(&self, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, KvError>;
    /// Writes a value.
    async fn set(&self, scope: &KvScope, key: &str, value: Vec<u8>) -> Result<(), KvError>;
    /// Deletes a value; deleting a missing key is not an error.
    async fn delete(&self, scope: &KvScope, key: &str) -> Result<(), KvError>;
}

/// A [`KvStore`] in memory with a per-scope byte quota; for tests and single
/// runs. Data is lost on restart.
#[derive(Debug)]
pub struct MemoryKv {
    quota_bytes: usize,
    scopes: Mutex<HashMap<KvScope, BTreeMap<String, Vec<u8>>>>,
}

impl MemoryKv {
    /// A store allowing `quota_bytes` of keys plus values per scope.
    pub fn new(quota_bytes: usize) -> MemoryKv {
        MemoryKv {
            quota_bytes,
            scopes: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait::async_trait]
impl KvStore for MemoryKv {
    async fn get(&self, scope: &KvScope, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let scopes = self.scopes.lock().expect("kv lock");
        Ok(scopes
            .get(scope)
            .and_then(|entries| entries.get(key).cloned()))
    }

    async fn set(&self, scope: &KvScope, key: &str, value: Vec<u8>) -> Result<(), KvError> {
        let mut scopes = self.scopes.lock().expect("kv lock");
        let entries = scopes.entry(scope.clone()).or_default();
        let used: usize = entries
            .iter()
            .filter(|(k, _)| k.as_str() != key)
            .map(|(k, v)| k.len() + v.len())
            .sum();
        if used + key.len() + value.len() > self.quota_bytes {
            return Err(KvError::QuotaExceeded(format!(
                "{} bytes per plugin and channel",
                self.quota_bytes
            )));
        }
        entries.insert(key.to_string(), value);
        Ok(())
    }

    async fn delete(&self, scope: &KvScope, key: &str) -> Result<(), KvError> {
        let mut scopes = self.scopes.lock().expect("kv lock");
        if let Some(entries) = scopes.get_mut(scope) {
            entries.remove(key);
        }
        Ok(())
    }
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Refused for good (bad address, policy).
    #[error("mail rejected: {0}")]
    Rejected(String),
    /// A temporary failure.
    #[error("mail relay failed temporarily: {0}")]
    Transient(String),
}

/// The relay behind the `smtp` import. The server implements it with lettre.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    /// Sends a complete RFC 5322 message to `rcpt_to`.
    async fn send(
        &self,
        mail_from: &str,
        rcpt_to: &[String],
        message: &[u8],
    ) -> Result<(), MailError>;
}

/// The clock behind the `clock` import; the server passes its injected one.
pub trait WallClock: Send + Sync {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl WallClock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// The host's ceilings. A manifest may ask for less, never more.
#[derive(Debug, Clone)]
pub struct HostLimits {
    /// Deadline of one call, including time waiting on HTTP or SMTP.
    pub timeout: Duration,
    /// Linear memory of one instance.
    pub memory_bytes: usize,
    /// Total size of what one call may return.
    pub max_output_bytes: usize,
    /// Deadline of one outbound HTTP request (never past the call's deadline).
    pub http_timeout: Duration,
    /// Largest outbound HTTP request body.
    pub max_http_request_bytes: usize,
    /// Largest HTTP response body handed to a plugin.
    pub max_http_response_bytes: usize,
    /// Log bytes one call may write; the rest is dropped with a note.
    pub max_log_bytes_per_call: usize,
    /// Largest key-value key.
    pub max_kv_key_bytes: usize,
    /// Largest key-value value.
    pub max_kv_value_bytes: usize,
    /// Instances that may run at once, across all plugins: the size of the
    /// wasmtime instance pool.
    pub max_concurrent_instances: u32,
    /// Largest attachment a `fetch-attachment` call may download. In that
    /// call every HTTP response body is capped at this instead of
    /// `max_http_response_bytes`, and the result at this plus
    /// `max_output_bytes`; a response over it fails the call with
    /// [`CallError::AttachmentTooLarge`](crate::CallError::AttachmentTooLarge).
    pub max_attachment_bytes: usize,
    /// Deadline of a `fetch-attachment` call and of its HTTP requests, in
    /// place of `timeout` and `http_timeout`: downloads take longer than a
    /// webhook parse.
    pub attachment_timeout: Duration,
}

impl Default for HostLimits {
    fn default() -> HostLimits {
        HostLimits {
            timeout: Duration::from_secs(5),
            memory_bytes: 64 << 20,
            max_output_bytes: 1 << 20,
            http_timeout: Duration::from_secs(4),
            max_http_request_bytes: 1 << 20,
            max_http_response_bytes: 4 << 20,
            max_log_bytes_per_call: 16 << 10,
            max_kv_key_bytes: 256,
            max_kv_value_bytes: 64 << 10,
            max_concurrent_instances: 128,
            max_attachment_bytes: 20 << 20,
            attachment_timeout: Duration::from_secs(60),
        }
    }
}

/// Everything [`PluginHost::open`](crate::PluginHost::open) needs.
#[derive(Clone)]
pub struct HostConfig {
    /// Where packages, compiled artifacts and the registry file live.
    pub data_dir: PathBuf,
    /// Ceilings for every plugin.
    pub limits: HostLimits,
    /// Consecutive faults (traps, timeouts, limits) after which a version is
    /// quarantined.
    pub quarantine_after: u32,
    /// Storage for the `kv` import.
    pub kv: Arc<dyn KvStore>,
    /// The relay for the `smtp` import; `None` refuses all mail.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// The clock for the `clock` import.
    pub clock: Arc<dyn WallClock>,
    /// Packages the binary carries, offered while no plugin of the same name
    /// is installed (see `builtin.rs`); compiled on their first call.
    pub builtins: Vec<crate::Package>,
}

impl HostConfig {
    /// Defaults: in-memory kv (1 MiB per scope), no mail, the system clock.
    pub fn new(data_dir: impl Into<PathBuf>) -> HostConfig {
        HostConfig {
            data_dir: data_dir.into(),
            limits: HostLimits::default(),
            quarantine_after: 5,
            kv: Arc::new(MemoryKv::new(1 << 20)),
            mailer: None,
            clock: Arc::new(SystemClock),
            builtins: Vec::new(),
        }
    }
}
