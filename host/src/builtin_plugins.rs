//! The first-party plugins this binary carries: the connectors in `plugins/`
//! (webchat, telegram, facebook, email) and the bots in `bots/` (faq,
//! lead-form), built for `wasm32-wasip2` by `build.rs` and embedded here. The
//! plugin host offers each while nothing of the same name is installed.

use frontdesk_plugin_host::Package;

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// Every embedded package, read from its manifest and component.
pub fn packages() -> Vec<Package> {
    EMBEDDED
        .iter()
        .filter_map(
            |(dir, manifest, wasm)| match Package::from_parts(manifest, wasm.to_vec()) {
                Ok(package) => Some(package),
                // The test below keeps this from happening; if it did, the
                // server still starts, without that one plugin.
                Err(error) => {
                    tracing::error!(%dir, %error, "a built-in plugin's manifest does not parse");
                    None
                }
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_first_party_plugin_is_embedded_and_parses() {
        let mut names: Vec<String> = packages().into_iter().map(|p| p.manifest.name).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "email",
                "facebook",
                "faq",
                "lead-form",
                "telegram",
                "webchat"
            ]
        );
        assert_eq!(EMBEDDED.len(), names.len(), "every manifest parsed");
    }
}
