//! P3, issue 14 item 9: an unauthenticated webhook caller learns that a
//! request was refused, never the connector's internals; admins find the
//! detail with the request in failed inbound.

use serde_json::json;

use super::World;
use super::support::{plugin_cli, plugin_package};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_webhook_refusals_show_no_plugin_internals_and_admins_get_the_detail() {
    let w = World::start_with(|dir| {
        let data = dir.join("data");
        for (crate_dir, wasm) in [("fixtures/trap", "fixture_trap"), ("echo", "echo")] {
            let package = plugin_package(crate_dir, wasm, &dir.join("packages"));
            plugin_cli(&data, &["install", package.to_str().unwrap()]);
        }
        vec![("FRONTDESK_DATA_DIR".into(), data.display().to_string())]
    });
    let trap = w
        .admin(
            "POST",
            "/api/v1/channels",
            Some(json!({"name": "Trap", "kind": "trap", "config": {}})),
        )
        .await["channel"]["id"]
        .as_i64()
        .unwrap();
    let echo = w
        .admin(
            "POST",
            "/api/v1/channels",
            Some(json!({"name": "Echo", "kind": "echo",
                "config": {"api_base_url": "http://127.0.0.1:9", "token": "t0k3n"}})),
        )
        .await["channel"]["id"]
        .as_i64()
        .unwrap();

    // A guest that panics: a generic 503, no panic text or source path.
    let (status, body) = w
        .http
        .send(
            "POST",
            &w.server.url(&format!("/hooks/{trap}")),
            &[],
            b"{}".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(status, 503, "{body}");
    let shown = body.to_string();
    for secret in ["fixture trap", "lib.rs", "panicked", "trap 0.1.0"] {
        assert!(
            !shown.contains(secret),
            "the caller saw {secret:?}: {shown}"
        );
    }

    // A wrong token: the kind of refusal, not the connector's words.
    let headers = [("x-echo-token", "guess".to_string())];
    let (status, body) = w
        .http
        .send(
            "POST",
            &w.server.url(&format!("/hooks/{echo}")),
            &headers,
            b"{}".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "bad_signature", "{body}");
    assert!(!body.to_string().contains("x-echo-token"), "{body}");

    // The admin sees what happened, with the request.
    let failed = w
        .admin(
            "GET",
            &format!("/api/v1/inbound/failed?channel={trap}"),
            None,
        )
        .await;
    let reasons: Vec<String> = failed
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("fixture trap")),
        "the detail is kept for admins: {failed}"
    );
}
