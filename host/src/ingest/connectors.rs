//! Which connector serves a channel kind: a built-in one (`api`, X3) or the
//! active version of an installed connector plugin.

use std::collections::HashMap;
use std::sync::Arc;

use frontdesk_plugin_host::{PluginHost, PluginKind};

use super::{Connector, WasmChannel};

/// The connectors of this node, by channel kind.
#[derive(Clone)]
pub struct Connectors {
    /// Built into the host, by kind.
    pub builtins: Arc<HashMap<String, Arc<dyn Connector>>>,
    /// Installed connector plugins; `None` runs with built-ins only.
    pub plugins: Option<PluginHost>,
}

impl Connectors {
    /// The connector for `kind`, if one is built in or installed.
    pub fn get(&self, kind: &str) -> Option<Arc<dyn Connector>> {
        if let Some(builtin) = self.builtins.get(kind) {
            return Some(builtin.clone());
        }
        let host = self.plugins.as_ref()?;
        let manifest = host.manifest(kind)?;
        (manifest.kind == PluginKind::Connector).then(|| {
            Arc::new(WasmChannel {
                host: host.clone(),
                plugin: kind.to_string(),
            }) as Arc<dyn Connector>
        })
    }
}
