//! Attachments on the real binary (issue 6): a webhook names two files on
//! the provider's host; the server fetches the small one through the echo
//! connector's allow-listed `http`, fails the one over
//! `FRONTDESK_MAX_ATTACHMENT_BYTES` with the reason, stores nothing twice
//! when the webhook is repeated (S3), and serves the bytes to an admin.

use crate::support;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path;
use axum::response::IntoResponse;
use axum::routing::get;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use support::{Http, Server, admin_token, plugin_package, sqlite_url};
use tokio::sync::mpsc;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n a picture of a receipt";

/// The provider's file server, reporting each file it is asked for.
async fn provider() -> (String, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let files = get(move |Path(name): Path<String>| {
        let tx = tx.clone();
        async move {
            tx.send(name.clone()).unwrap();
            match name.as_str() {
                "receipt.png" => ([("content-type", "image/png")], PNG.to_vec()).into_response(),
                _ => vec![0u8; 4096].into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, Router::new().route("/files/{name}", files))
            .await
            .unwrap()
    });
    (url, rx)
}

/// A GET whose body is bytes, not JSON: status, content type, body.
async fn download(url: &str, token: &str) -> (u16, String, Vec<u8>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let request = hyper::Request::get(url)
        .header("authorization", format!("Bearer {token}"))
        .body(Empty::new())
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, content_type, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_are_fetched_capped_stored_once_and_served() {
    let (provider, mut asked) = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let echo = plugin_package("echo", "echo", dir.path());
    let token = admin_token(&db);
    support::plugin_cli(&data, &["install", echo.to_str().unwrap()]);
    let data_dir = data.to_str().unwrap().to_string();
    let server = Server::start(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data_dir.as_str()),
            ("FRONTDESK_MAX_ATTACHMENT_BYTES", "1000"),
        ],
    );
    let http = Http::default();
    let config = json!({"api_base_url": provider, "token": "t0k"});
    let (status, created) = http
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "Echo", "kind": "echo", "config": config})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let hook = server.url(&format!("/hooks/{}", created["channel"]["id"]));

    let body = json!({"messages": [{"chat": "c1", "id": "m1", "from": {"id": "u1"}, "text": "my receipt",
        "attachments": [
            {"kind": "image", "url": format!("{provider}/files/receipt.png"), "name": "receipt.png"},
            {"kind": "file", "url": format!("{provider}/files/scan.tiff"), "name": "scan.tiff"}]}]});
    let headers = [("x-echo-token", "t0k".to_string())];
    let first = http
        .send("POST", &hook, &headers, body.to_string().into_bytes())
        .await
        .unwrap();
    assert_eq!(first.0, 200, "{}", first.1);
    let again = http
        .send("POST", &hook, &headers, body.to_string().into_bytes())
        .await
        .unwrap();
    assert_eq!(
        again, first,
        "a repeated webhook gets the first answer (S3)"
    );
    let session = first.1["messages"][0]["session_id"].as_i64().unwrap();

    // Wait for the worker: poll the API until neither attachment is pending.
    let messages_url = server.url(&format!("/api/v1/sessions/{session}/messages"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let messages: Value = loop {
        let (status, messages) = http.api("GET", &messages_url, &token, None).await;
        assert_eq!(status, 200, "{messages}");
        let states: Vec<&str> = messages[0]["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["state"].as_str().unwrap())
            .collect();
        if !states.contains(&"pending") {
            break messages;
        }
        assert!(
            Instant::now() < deadline,
            "attachments still pending: {messages}"
        );
    };
    let inbound = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "in")
        .count();
    assert_eq!(
        inbound, 1,
        "stored once although the webhook came twice: {messages}"
    );
    assert_eq!(messages[0]["body"], "my receipt");
    let files = messages[0]["attachments"].as_array().unwrap();
    assert_eq!(
        files.len(),
        2,
        "stored once although the webhook came twice"
    );
    assert_eq!(
        (
            &files[0]["state"],
            &files[0]["mime_type"],
            &files[0]["size"]
        ),
        (&json!("stored"), &json!("image/png"), &json!(PNG.len()))
    );
    assert_eq!(files[1]["state"], "failed");
    assert!(
        files[1]["error"]
            .as_str()
            .unwrap()
            .contains("larger than the limit of 1000 bytes"),
        "{}",
        files[1]
    );
    let mut seen = vec![asked.recv().await.unwrap(), asked.recv().await.unwrap()];
    seen.sort();
    assert_eq!(seen, ["receipt.png", "scan.tiff"]);
    assert!(asked.try_recv().is_err(), "each file was asked for once");

    let id = files[0]["id"].as_str().unwrap();
    let (status, content_type, bytes) =
        download(&server.url(&format!("/api/v1/attachments/{id}")), &token).await;
    assert_eq!(
        (status, content_type.as_str(), bytes.as_slice()),
        (200, "image/png", PNG)
    );
}
