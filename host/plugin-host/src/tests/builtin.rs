//! Built-in packages: offered with nothing installed, compiled on their first
//! call and cached, overridden by an installed plugin of the same name, and
//! back once that is removed.

use super::guests::{self, echo_channel, echo_request, one_message};
use crate::{HostConfig, InstallError, PluginHost, PluginSource};

fn open_with_builtin_echo(dir: &std::path::Path) -> PluginHost {
    let mut config = HostConfig::new(dir);
    config.limits = guests::test_limits();
    config.builtins = vec![guests::echo()];
    PluginHost::open(config).expect("open the plugin host")
}

async fn served_version(host: &PluginHost) -> String {
    let channel = echo_channel("c", "t", "http://127.0.0.1:9");
    let served = host
        .handle_inbound(&channel, &echo_request("t", &one_message("m", "hi")))
        .await
        .expect("a plugin serves the call");
    assert!(served.value.is_ok(), "{:?}", served.value);
    served.version
}

#[tokio::test]
async fn a_built_in_plugin_serves_until_one_is_installed_and_again_after_removal() {
    let dir = tempfile::tempdir().unwrap();
    let host = open_with_builtin_echo(dir.path());
    assert_eq!(host.compilations(), 0, "nothing compiles at start");
    let listed = host.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].source, PluginSource::BuiltIn);
    assert_eq!(listed[0].builtin_version.as_deref(), Some("0.1.0"));
    assert!(
        host.manifest("echo").is_some(),
        "its config form needs no compile"
    );
    assert_eq!(host.compilations(), 0);

    assert_eq!(served_version(&host).await, "0.1.0");
    assert_eq!(host.compilations(), 1, "compiled on its first call");
    served_version(&host).await;
    assert_eq!(host.compilations(), 1, "and only then");

    // A built-in plugin is not installed: nothing to remove.
    match host.remove("echo", None) {
        Err(InstallError::BuiltIn { plugin, action }) => {
            assert_eq!((plugin.as_str(), action), ("echo", "removed"))
        }
        other => panic!("removing a built-in plugin: {other:?}"),
    }

    host.install(&guests::package("fixtures/echo-v2", "echo_v2"))
        .unwrap();
    assert_eq!(
        served_version(&host).await,
        "0.2.0",
        "the installed one wins"
    );
    let listed = host.list();
    assert_eq!(listed[0].source, PluginSource::Installed);
    assert_eq!(listed[0].active, "0.2.0");
    assert_eq!(listed[0].builtin_version.as_deref(), Some("0.1.0"));

    host.remove("echo", None).unwrap();
    assert_eq!(served_version(&host).await, "0.1.0", "removal falls back");
    assert_eq!(host.list()[0].source, PluginSource::BuiltIn);
    drop(host);

    // A restart loads the cached artifact.
    let host = open_with_builtin_echo(dir.path());
    assert_eq!(served_version(&host).await, "0.1.0");
    assert_eq!(host.compilations(), 0, "the cached artifact was loaded");
}
