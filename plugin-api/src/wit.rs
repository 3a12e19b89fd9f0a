//! The generated bindings. Hidden: authors use the re-exports in the crate
//! root, so a wit-bindgen upgrade does not change their code.

/// Bindings for the `connector` world; also the home of the shared interfaces.
// Generated code: its lowering helpers take one argument per flattened field.
#[allow(clippy::too_many_arguments)]
pub mod connector {
    wit_bindgen::generate!({
        path: "wit/since_v0.1.0",
        world: "connector",
        // The plugin crate, not this one, invokes the export macro, so the
        // component-type section lands in the plugin's binary.
        pub_export_macro: true,
        export_macro_name: "export_connector_world",
        default_bindings_module: "$crate::wit::connector",
    });
}

/// Bindings for the `bot` world. The interfaces both worlds import are mapped
/// to the connector module, so `InboundMessage` is one type, not two.
#[allow(clippy::too_many_arguments)]
pub mod bot {
    wit_bindgen::generate!({
        path: "wit/since_v0.1.0",
        world: "bot",
        pub_export_macro: true,
        export_macro_name: "export_bot_world",
        default_bindings_module: "$crate::wit::bot",
        with: {
            "frontdesk:plugin/types@0.1.0": crate::wit::connector::frontdesk::plugin::types,
            "frontdesk:plugin/http@0.1.0": crate::wit::connector::frontdesk::plugin::http,
            "frontdesk:plugin/kv@0.1.0": crate::wit::connector::frontdesk::plugin::kv,
            "frontdesk:plugin/log@0.1.0": crate::wit::connector::frontdesk::plugin::log,
            "frontdesk:plugin/clock@0.1.0": crate::wit::connector::frontdesk::plugin::clock,
        },
    });
}
