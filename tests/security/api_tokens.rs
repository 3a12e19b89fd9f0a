//! P2: API tokens for integrations. Each user creates, names, lists and
//! revokes their own; a revoked token is refused at once and its live
//! socket closes (P1); admins see and revoke anyone's, audited (P4);
//! anyone else's tokens look like an unknown user's.

use serde_json::json;

use super::World;
use super::live_access::{closed, connect};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2_a_revoked_token_is_refused_at_once_and_its_live_socket_closes() {
    let w = World::start();
    let (ann, first) = w.user("ann", "agent").await;

    // The token made with the user is listed under its name, never shown again.
    let (status, listed) = w.call(&first, "GET", "/api/v1/me/tokens", None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["name"], "created with the user");
    assert!(listed[0]["last_used_at"].is_i64(), "use noted: {listed}");
    assert!(listed[0].get("token").is_none() && listed[0].get("token_hash").is_none());

    let (status, created) = w
        .call(
            &first,
            "POST",
            "/api/v1/me/tokens",
            Some(json!({"name": "CRM sync"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let crm = created["token"].as_str().unwrap().to_string();
    let crm_id = created["api_token"]["id"].as_i64().unwrap();
    assert!(crm.starts_with("fd_"));
    let (status, me) = w.call(&crm, "GET", "/api/v1/me", None).await;
    assert_eq!((status, me["id"].as_i64()), (200, Some(ann)), "{me}");
    let (status, _) = w
        .call(
            &first,
            "POST",
            "/api/v1/me/tokens",
            Some(json!({"name": " "})),
        )
        .await;
    assert_eq!(status, 400, "a token needs a name");

    let mut socket = connect(&w, &crm).await;
    let (status, _) = w
        .call(
            &first,
            "DELETE",
            &format!("/api/v1/me/tokens/{crm_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, refused) = w.call(&crm, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 401, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    closed(&mut socket, false).await;

    // The other token is untouched; the revoked one stays listed as revoked.
    let (status, listed) = w.call(&first, "GET", "/api/v1/me/tokens", None).await;
    assert_eq!(status, 200);
    let crm_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == crm_id)
        .unwrap();
    assert!(crm_row["revoked_at"].is_i64(), "{listed}");

    // An admin revokes Ann's first token; the audit log says so.
    let tokens = w
        .admin("GET", &format!("/api/v1/users/{ann}/tokens"), None)
        .await;
    let first_id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "created with the user")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    w.admin(
        "DELETE",
        &format!("/api/v1/users/{ann}/tokens/{first_id}"),
        None,
    )
    .await;
    let (status, _) = w.call(&first, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 401);
    let audit = w.admin("GET", "/api/v1/audit", None).await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "api_token.revoke"
                && e["target"] == format!("user:{ann}")
                && e["detail"]["token_id"] == first_id),
        "{audit}"
    );
}

#[tokio::test]
async fn p2_an_agent_cannot_list_or_revoke_another_users_tokens() {
    let w = World::start();
    let (ann, ann_token) = w.user("ann", "agent").await;
    let (_, ben_token) = w.user("ben", "agent").await;
    let (status, listed) = w.call(&ann_token, "GET", "/api/v1/me/tokens", None).await;
    assert_eq!(status, 200);
    let ann_token_id = listed[0]["id"].as_i64().unwrap();

    // Another user's tokens answer exactly like an unknown user's.
    let (status, theirs) = w
        .call(
            &ben_token,
            "GET",
            &format!("/api/v1/users/{ann}/tokens"),
            None,
        )
        .await;
    let (unknown_status, unknown) = w
        .call(&ben_token, "GET", "/api/v1/users/999999/tokens", None)
        .await;
    assert_eq!((status, unknown_status), (404, 404), "{theirs} {unknown}");
    assert_eq!(theirs["error"]["code"], unknown["error"]["code"]);

    let path = format!("/api/v1/users/{ann}/tokens/{ann_token_id}");
    let (status, _) = w.call(&ben_token, "DELETE", &path, None).await;
    assert_eq!(status, 404);
    // Nor through their own list: the id is not theirs.
    let path = format!("/api/v1/me/tokens/{ann_token_id}");
    let (status, _) = w.call(&ben_token, "DELETE", &path, None).await;
    assert_eq!(status, 404);

    let (status, _) = w.call(&ann_token, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 200, "Ann's token still works");
}
