//! Host-side bindings for the WIT package, one module per API version.
//!
//! Only `0.1.0` exists. When `0.2.0` arrives it gets its own module and its
//! calls convert into the newest types, the way zed's extension host does, so
//! the rest of the host and its callers see one set of types.

/// `frontdesk:plugin@0.1.0`.
pub mod v0_1_0 {
    /// The `connector` world, also home to the interfaces both worlds share.
    pub mod connector {
        wasmtime::component::bindgen!({
            path: "../../plugin-api/wit/since_v0.1.0",
            world: "connector",
            imports: { default: async },
            exports: { default: async },
        });
    }

    /// The `bot` world; shared interfaces map onto the connector module so a
    /// host implements each import once.
    pub mod bot {
        wasmtime::component::bindgen!({
            path: "../../plugin-api/wit/since_v0.1.0",
            world: "bot",
            imports: { default: async },
            exports: { default: async },
            with: {
                "frontdesk:plugin/types": super::connector::frontdesk::plugin::types,
                "frontdesk:plugin/http": super::connector::frontdesk::plugin::http,
                "frontdesk:plugin/kv": super::connector::frontdesk::plugin::kv,
                "frontdesk:plugin/log": super::connector::frontdesk::plugin::log,
                "frontdesk:plugin/clock": super::connector::frontdesk::plugin::clock,
            },
        });
    }
}
