//! What a plugin package is and what it may do, as `plugin inspect`,
//! `plugin install` and `plugin build` print it for a person to read (B2).

use frontdesk_plugin_host::Package;

/// What a package is and what it may do, for the admin to read (B2).
pub fn describe(package: &Package) -> String {
    let m = &package.manifest;
    let mut out = format!("{} {} ({})", m.name, m.version, m.kind.as_str());
    if let Some(publisher) = &m.publisher {
        out.push_str(&format!(" by {publisher}"));
    }
    out.push('\n');
    if let Some(description) = &m.description {
        out.push_str(&format!("  {description}\n"));
    }
    out.push_str(&format!("  plugin API: {}\n", m.api));
    if m.open_channels == Some(true) {
        out.push_str("  works with open channels: yes\n");
    }
    let permissions = m.permissions();
    if permissions.is_empty() {
        out.push_str("  permissions: none (no network, mail or stored data)\n");
    } else {
        out.push_str("  permissions it asks for:\n");
        for line in permissions {
            out.push_str(&format!("    - {line}\n"));
        }
    }
    if !package.assets.is_empty() {
        out.push_str(&format!("  assets: {} file(s)\n", package.assets.len()));
    }
    out
}
