//! Each hostile fixture fails its own call with a clear error, and the
//! well-behaved echo plugin keeps working right after.

use serde_json::json;

use super::guests::{self, echo_channel, echo_request, one_message};
use crate::types::{Channel, ConnectorError};
use crate::{CallError, InstallError, PluginHost};

fn fixture_channel(plugin: &str) -> Channel {
    Channel {
        id: format!("{plugin}-channel"),
        plugin: plugin.to_string(),
        config: json!({}),
    }
}

async fn echo_still_works(host: &PluginHost) {
    let channel = echo_channel("healthy", "t0k", "http://127.0.0.1:9");
    let served = host
        .handle_inbound(
            &channel,
            &echo_request("t0k", &one_message("m-1", "still here?")),
        )
        .await
        .expect("echo is unaffected by another plugin's fault");
    let outcome = served.value.expect("echo parses its payload");
    assert_eq!(outcome.messages[0].text.as_deref(), Some("still here?"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_fails_one_call_with_a_clear_error() {
    let (_dir, host) = guests::host();
    host.install(&guests::echo()).unwrap();
    for (dir, wasm) in [
        ("fixtures/infinite-loop", "fixture_infinite_loop"),
        ("fixtures/memory-bomb", "fixture_memory_bomb"),
        ("fixtures/trap", "fixture_trap"),
        ("fixtures/huge-output", "fixture_huge_output"),
    ] {
        host.install(&guests::package(dir, wasm)).unwrap();
    }
    let request = echo_request("", &json!({}));

    let error = host
        .handle_inbound(&fixture_channel("infinite-loop"), &request)
        .await
        .unwrap_err();
    assert!(matches!(error, CallError::Timeout { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "plugin infinite-loop 0.1.0 did not finish within 1s and was stopped"
    );
    echo_still_works(&host).await;

    let error = host
        .handle_inbound(&fixture_channel("memory-bomb"), &request)
        .await
        .unwrap_err();
    assert!(
        matches!(error, CallError::MemoryLimit { limit_bytes, .. } if limit_bytes == 32 << 20),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("plugin memory-bomb 0.1.0 exceeded its memory limit"),
        "{error}"
    );
    echo_still_works(&host).await;

    let error = host
        .handle_inbound(&fixture_channel("trap"), &request)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, CallError::Trap { .. }), "{error:?}");
    assert!(
        message.starts_with("plugin trap 0.1.0 crashed: "),
        "{message}"
    );
    assert!(
        message.contains("fixture trap: refusing a 2-byte body"),
        "the guest's panic message is kept: {message}"
    );
    echo_still_works(&host).await;

    let error = host
        .handle_inbound(&fixture_channel("huge-output"), &request)
        .await
        .unwrap_err();
    assert!(
        matches!(error, CallError::OutputTooLarge { bytes, limit, .. } if bytes > 8 << 20 && limit == 1 << 20),
        "{error:?}"
    );
    echo_still_works(&host).await;
}

#[tokio::test]
async fn a_forbidden_host_is_refused_before_any_socket_opens() {
    let (_dir, host) = guests::host();
    host.install(&guests::package(
        "fixtures/forbidden-host",
        "fixture_forbidden_host",
    ))
    .unwrap();
    // A listener the plugin is not allowed to reach; if the host let the
    // request through, a connection would be waiting in its backlog.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let target = format!("http://{}/steal", listener.local_addr().unwrap());
    let channel = Channel {
        id: "sneaky".to_string(),
        plugin: "forbidden-host".to_string(),
        config: json!({"target": target}),
    };
    let served = host
        .handle_inbound(&channel, &echo_request("", &json!({})))
        .await
        .unwrap();
    let Err(ConnectorError::Permanent(message)) = served.value else {
        panic!(
            "expected the plugin to report the refusal, got {:?}",
            served.value
        )
    };
    let origin = target.trim_end_matches("/steal");
    assert_eq!(
        message,
        format!("host not allowed by the manifest: {origin}")
    );
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "no connection may reach a host off the allow-list: {accepted:?}"
    );
}

#[tokio::test]
async fn repeated_faults_quarantine_a_version_visibly_until_released() {
    let dir = tempfile::tempdir().unwrap();
    let host = guests::open(dir.path(), 2);
    host.install(&guests::package("fixtures/trap", "fixture_trap"))
        .unwrap();
    let channel = fixture_channel("trap");
    let request = echo_request("", &json!({}));
    for _ in 0..2 {
        let error = host.handle_inbound(&channel, &request).await.unwrap_err();
        assert!(matches!(error, CallError::Trap { .. }), "{error:?}");
    }
    let error = host.handle_inbound(&channel, &request).await.unwrap_err();
    let CallError::Quarantined { reason, .. } = &error else {
        panic!("expected quarantine, got {error:?}")
    };
    assert!(reason.starts_with("plugin trap 0.1.0 crashed"), "{reason}");
    assert!(
        error
            .to_string()
            .starts_with("plugin trap 0.1.0 is quarantined: plugin trap 0.1.0 crashed")
    );

    let listed = host.list();
    let quarantine = listed[0].versions[0]
        .quarantine
        .as_ref()
        .expect("admins see the quarantine");
    assert_eq!(
        (quarantine.faults, quarantine.reason.as_str()),
        (2, reason.as_str())
    );

    // It survives a restart: the registry file records it.
    drop(host);
    let host = guests::open(dir.path(), 2);
    assert!(matches!(
        host.handle_inbound(&channel, &request).await,
        Err(CallError::Quarantined { .. })
    ));

    host.release("trap", "0.1.0").unwrap();
    assert!(host.list()[0].versions[0].quarantine.is_none());
    let error = host.handle_inbound(&channel, &request).await.unwrap_err();
    assert!(
        matches!(error, CallError::Trap { .. }),
        "released: calls run again: {error:?}"
    );
}

#[test]
fn a_wrong_api_version_is_refused_at_install() {
    let (_dir, host) = guests::host();
    let echo = guests::echo();
    let manifest = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../plugins/fixtures/wrong-api/manifest.toml"),
    )
    .unwrap();
    let package = crate::Package::from_parts(&manifest, echo.wasm).unwrap();
    let error = host.install(&package).unwrap_err();
    assert!(
        matches!(error, InstallError::UnsupportedApi { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "plugin wrong-api 0.1.0 needs plugin API 9.0.0, but this host (frontdesk {}) implements 0.1.0: \
             a newer frontdesk release that implements plugin API 9.0.0 would run it; \
             upgrade frontdesk, or rebuild it against frontdesk-plugin-api 0.1.0",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert!(host.list().is_empty(), "nothing was recorded");
    assert_eq!(host.compilations(), 0, "refused before compiling");
}

#[test]
fn a_bot_cannot_pose_as_a_connector() {
    let (_dir, host) = guests::host();
    let echo = guests::echo();
    let manifest = echo.manifest_text.replace(
        "kind = \"connector\"",
        "kind = \"bot\"\npublisher = \"x\"\nopen_channels = true",
    );
    let error = host
        .install(&crate::Package::from_parts(&manifest, echo.wasm).unwrap())
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, InstallError::InvalidComponent { .. }),
        "{error:?}"
    );
    assert!(
        message.starts_with("plugin echo 0.1.0 is not a valid bot component: "),
        "{message}"
    );
}
