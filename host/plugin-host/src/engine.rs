//! The wasmtime engine, its linkers, the epoch ticker, and compiled-artifact
//! caching.

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::v0_1_0::{bot, connector};
use crate::call_state::CallState;
use crate::services::HostLimits;

/// How often the epoch advances. Deadlines are counted in these ticks, and a
/// running guest yields to the async runtime once per tick, so a spinning
/// plugin never holds a runtime thread longer than this.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Memory kept resident per pooled slot between calls, when the kernel can
/// tell which pages are dirty; see `PluginEngine::new`.
const KEEP_RESIDENT_BYTES: usize = 4 << 20;

/// One engine for all plugins, with a linker per world.
pub(crate) struct PluginEngine {
    pub engine: Engine,
    pub connector_linker: Linker<CallState>,
    pub bot_linker: Linker<CallState>,
    /// Names compiled artifacts: a different wasmtime or engine config makes a
    /// different name, so a stale artifact is never loaded.
    pub artifact_name: String,
    /// How many components were compiled since start (a restart should add none).
    pub compilations: AtomicU64,
    _ticker: EpochTicker,
}

impl PluginEngine {
    pub fn new(limits: &HostLimits) -> wasmtime::Result<PluginEngine> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Concurrency support costs ~2.6x per async call (STACK.md) and no
        // plugin API uses component-model async.
        config.concurrency_support(false);
        let slots = limits.max_concurrent_instances;
        let mut pool = PoolingAllocationConfig::default();
        // A Rust wasip2 component is one main module plus a few adapter
        // shims: a handful of core instances, one memory, a few tables.
        pool.total_component_instances(slots)
            .total_core_instances(slots * 8)
            .total_memories(slots * 2)
            .total_tables(slots * 4)
            .total_stacks(slots)
            .max_memory_size(limits.memory_bytes);
        // Between calls, reset only the pages a guest dirtied, with memset
        // instead of madvise, so the next call on the slot does not page-fault
        // through the guest's stack and heap again: that was a third of a call
        // (PAGEMAP_SCAN, Linux 6.7+). Without it, keeping memory resident
        // would memset the whole span every call, which costs more than the
        // faults; wasmtime's madvise default stays.
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            pool.pagemap_scan(Enabled::Yes)
                .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
                .table_keep_resident(KEEP_RESIDENT_BYTES / 16);
        }
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;

        let mut connector_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut connector_linker)?;
        connector::Connector::add_to_linker::<_, HasSelf<_>>(&mut connector_linker, |state| state)?;
        let mut bot_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut bot_linker)?;
        bot::Bot::add_to_linker::<_, HasSelf<_>>(&mut bot_linker, |state| state)?;

        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let artifact_name = format!("{:016x}.cwasm", hasher.finish());
        let ticker = EpochTicker::start(engine.clone());
        Ok(PluginEngine {
            engine,
            connector_linker,
            bot_linker,
            artifact_name,
            compilations: AtomicU64::new(0),
            _ticker: ticker,
        })
    }

    /// Compiles a component to an artifact that loads without compiling.
    pub fn precompile(&self, wasm: &[u8]) -> wasmtime::Result<Vec<u8>> {
        self.compilations.fetch_add(1, Ordering::Relaxed);
        self.engine.precompile_component(wasm)
    }

    /// Loads an artifact written by [`precompile`](Self::precompile).
    pub fn load(&self, artifact: &Path) -> wasmtime::Result<Component> {
        // SAFETY: wasmtime requires that the file is an artifact it produced
        // and that nobody else modifies it; it lives in the host's own data
        // directory and is only ever written by `precompile` through an
        // atomic rename.
        unsafe { Component::deserialize_file(&self.engine, artifact) }
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> EpochTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("plugin-epoch".to_string())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawn the plugin epoch thread");
        EpochTicker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
