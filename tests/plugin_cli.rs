//! `frontdesk plugin ...` on a data directory (B2, O4, X2): install checks and
//! records the package, upgrade and rollback switch the active version, and a
//! package for another API version is refused.

use crate::support;

use support::{plugin_cli, plugin_command, plugin_package};

#[test]
fn x2_install_upgrade_rollback_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let v1 = plugin_package("echo", "echo", dir.path());
    let v2 = plugin_package("fixtures/echo-v2", "echo_v2", dir.path());
    let wrong_api = plugin_package("fixtures/wrong-api", "echo", dir.path());

    let installed = plugin_cli(&data, &["install", v1.to_str().unwrap()]);
    assert!(
        installed.contains("installed echo 0.1.0 (sha256 "),
        "{installed}"
    );
    plugin_cli(&data, &["upgrade", v2.to_str().unwrap()]);
    let list = plugin_cli(&data, &["list"]);
    assert!(
        list.contains("active 0.2.0") && list.contains("* 0.2.0"),
        "{list}"
    );
    assert!(plugin_cli(&data, &["rollback", "echo"]).contains("echo 0.1.0 is now active"));
    assert!(plugin_cli(&data, &["list"]).contains("* 0.1.0"));

    let refused = plugin_command(&data, &["install", wrong_api.to_str().unwrap()]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("api") || stderr.contains("API"), "{stderr}");
    let active_removal = plugin_command(&data, &["remove", "echo", "0.1.0"]);
    assert!(
        !active_removal.status.success(),
        "the active version must not be removable"
    );
}
