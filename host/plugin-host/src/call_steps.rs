//! The steps of one connector call taken one at a time, for the per-step
//! breakdown in `benches/connector_call.rs` (and its table in
//! `docs/benchmarks.md`). Each step runs the code
//! [`PluginHost::handle_inbound`] runs, so timing growing prefixes of them
//! says what each step costs. Not part of the API: hidden from the docs.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use crate::PluginHost;
use crate::bindings::v0_1_0::connector;
use crate::call_state::{CallState, STDERR_BYTES, wasi_context};
use crate::error::CallError;
use crate::loaded::{CallProfile, LoadedPlugin, PreparedChannel};
use crate::types::{Channel, ConnectorError, InboundOutcome, InboundRequest};

/// One connector on one channel, looked up once.
pub struct CallSteps {
    host: PluginHost,
    loaded: Arc<LoadedPlugin>,
    channel: Channel,
}

/// A call's store, ready to instantiate into.
pub struct StepStore {
    store: Store<CallState>,
    prepared: Arc<PreparedChannel>,
}

/// The connector instantiated in a [`StepStore`].
pub struct StepInstance(connector::Connector);

impl PluginHost {
    /// The steps of a call to `channel`'s connector; see [`CallSteps`].
    #[doc(hidden)]
    pub fn call_steps(&self, channel: &Channel) -> Result<CallSteps, CallError> {
        let loaded = self.active(&channel.plugin)?;
        loaded.connector_pre()?;
        Ok(CallSteps {
            host: self.clone(),
            loaded,
            channel: channel.clone(),
        })
    }
}

impl CallSteps {
    /// Finds the active version, as every call does first.
    pub fn lookup(&self) -> Result<(), CallError> {
        self.host.active(&self.channel.plugin).map(drop)
    }

    /// The WASI context and resource table a guest's first WASI import
    /// builds (part of a call only if the guest makes one).
    pub fn wasi_context(&self) -> (wasmtime_wasi::WasiCtx, ResourceTable) {
        let stderr = MemoryOutputPipe::new(STDERR_BYTES);
        (wasi_context(&stderr), ResourceTable::new())
    }

    /// The quarantine check, the channel's config from the cache, and a
    /// fresh store with its limits and deadline.
    pub fn store(&self) -> Result<StepStore, CallError> {
        let services = &self.host.inner.services;
        let profile = CallProfile::standard(self.loaded.timeout(), &services.limits);
        let (store, prepared) =
            self.loaded
                .prepare(&self.host.inner.engine, services, &self.channel, &profile)?;
        Ok(StepStore { store, prepared })
    }

    /// A fresh instance from the `InstancePre`, in the pooling allocator.
    pub async fn instantiate(&self, store: &mut StepStore) -> Result<StepInstance, String> {
        let pre = self.loaded.connector_pre().map_err(|e| e.to_string())?;
        let instance = pre
            .instantiate_async(&mut store.store)
            .await
            .map_err(|e| format!("{e:#}"))?;
        Ok(StepInstance(instance))
    }

    /// The `handle-inbound` export: lowering the request into the guest,
    /// the guest's verify and parse, and lifting its answer.
    pub async fn handle_inbound(
        &self,
        store: &mut StepStore,
        instance: &StepInstance,
        request: &InboundRequest,
    ) -> Result<Result<InboundOutcome, ConnectorError>, String> {
        let StepStore { store, prepared } = store;
        instance
            .0
            .call_handle_inbound(store, &prepared.context, request)
            .await
            .map_err(|e| format!("{e:#}"))
    }
}
