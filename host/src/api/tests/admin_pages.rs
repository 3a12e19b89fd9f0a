//! The admin endpoints the settings pages added (issue 16): the audit log's
//! filters, an admin setting someone's profile, and the plugin upload's
//! refusals (its success is walked in `tests/console_browser/settings_admin.rs`).

use frontdesk_plugin_host::{HostConfig, PluginHost};

use super::*;

fn actions(entries: &Value) -> Vec<&str> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn p4_the_audit_log_filters_by_action_actor_and_time() {
    let w = world().await;
    w.channel("Support").await;
    let (status, created) = call(
        &w.app,
        "POST",
        "/api/v1/users",
        Some(&w.admin),
        Some(json!({"name": "cy", "role": "agent", "display_name": "Cy", "avatar_url": "https://example.org/cy.png"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["user"]["display_name"], "Cy");
    let cy = created["user"]["id"].as_i64().unwrap();
    let (status, _) = call(
        &w.app,
        "PATCH",
        &format!("/api/v1/users/{cy}"),
        Some(&w.admin),
        Some(json!({"vacation": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let get = |q: String| {
        let app = w.app.clone();
        let admin = w.admin.clone();
        async move {
            call(
                &app,
                "GET",
                &format!("/api/v1/audit{q}"),
                Some(&admin),
                None,
            )
            .await
        }
    };
    let (_, all) = get("".to_string()).await;
    assert_eq!(
        actions(&all),
        ["user.status", "user.create", "channel.create"]
    );
    let (_, users) = get("?action=user.".to_string()).await;
    assert_eq!(actions(&users), ["user.status", "user.create"]);
    let (_, exact) = get("?action=user.create".to_string()).await;
    assert_eq!(actions(&exact), ["user.create"]);
    let (_, nobody) = get("?action=user".to_string()).await;
    assert_eq!(
        actions(&nobody),
        Vec::<&str>::new(),
        "an exact name, not a prefix"
    );
    let (_, by_ada) = get("?actor=1".to_string()).await;
    assert_eq!(by_ada.as_array().unwrap().len(), 3);
    let (_, by_cy) = get(format!("?actor={cy}")).await;
    assert_eq!(by_cy, json!([]));
    let at = all[0]["at"].as_i64().unwrap();
    let (_, later) = get(format!("?since={}", at + 1)).await;
    assert_eq!(later, json!([]));
    let (_, earlier) = get(format!("?until={}", at + 1)).await;
    assert_eq!(earlier.as_array().unwrap().len(), 3);
    let (status, body) = get(format!("?since={at}&until={at}")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("until")
    );
}

#[tokio::test]
async fn i1_p4_an_admin_sets_someones_profile_audited_and_nobody_else_may() {
    let w = world().await;
    let (status, user) = call(
        &w.app,
        "PATCH",
        "/api/v1/users/2/profile",
        Some(&w.admin),
        Some(json!({"display_name": "  Bo B.  ", "avatar_url": "https://example.org/bo.png"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["display_name"], "Bo B.");
    assert_eq!(user["avatar_url"], "https://example.org/bo.png");
    let (_, audit) = call(&w.app, "GET", "/api/v1/audit", Some(&w.admin), None).await;
    assert_eq!(audit[0]["action"], "user.profile");
    assert_eq!(audit[0]["target"], "user:2");

    let (status, body) = call(
        &w.app,
        "PATCH",
        "/api/v1/users/2/profile",
        Some(&w.admin),
        Some(json!({"avatar_url": "javascript:alert(1)"})),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("avatar_url")
    );
    let (status, body) = call(
        &w.app,
        "PATCH",
        "/api/v1/users/1/profile",
        Some(&w.agent_a),
        Some(json!({"display_name": "Boss"})),
    )
    .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = call(
        &w.app,
        "PATCH",
        "/api/v1/users/99/profile",
        Some(&w.admin),
        Some(json!({})),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "user_not_found");
}

#[tokio::test]
async fn b2_an_upload_that_is_no_package_is_refused_at_its_field_and_agents_may_not_upload() {
    let (store, _db) = sqlite_store().await;
    let plugins = tempfile::tempdir().unwrap();
    let host = PluginHost::open(HostConfig::new(plugins.path())).unwrap();
    let state = AppState::new(
        App::start(Config {
            plugins: Some(host),
            ..Config::new(store.clone(), Arc::new(SystemClock))
        })
        .await
        .unwrap(),
    );
    let app = app(state);
    let (_, admin) = user(&store, "ada", Role::Admin).await;
    let (_, agent) = user(&store, "bo", Role::Agent).await;
    let upload = |token: &str, body: &'static [u8]| {
        Request::post("/api/v1/plugins/upload")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/gzip")
            .body(Body::from(body))
            .unwrap()
    };
    let (status, body) = raw(&app, upload(&agent, b"anything")).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = raw(&app, upload(&admin, b"not a gzip archive")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("package: "),
        "{body}"
    );
    let (status, body) = raw(&app, upload(&admin, b"")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_input");
    let (_, listed) = call(&app, "GET", "/api/v1/plugins", Some(&admin), None).await;
    assert_eq!(listed, json!([]));
}
