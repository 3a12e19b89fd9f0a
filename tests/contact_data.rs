//! Issue 19, a customer's data on the real binary (SQLite): an admin's
//! export of a contact holds every row that names them, found by a direct
//! query of every table the schema gives a `contact_id` or `session_id`
//! column (so a table added later is checked too), and their attachments'
//! bytes; erasure is refused while a session of theirs is open, then leaves
//! no row of theirs by the same query, no byte of their attachment or words
//! in the database file, the other customer's data whole, and an audit
//! entry with counts only. (Failed inbound and plugin kv erasure: the store
//! tests in `host/src/store/tests_data.rs`.)

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use sqlx::Connection;
use support::{Http, Server, admin_token, plugin_package, sqlite_url};

const FILE: &[u8] = b"ALICE-RECEIPT-BYTES-0193";
const WORDS: &str = "alice-private-words-7731";

async fn provider() -> String {
    let files = get(|| async { ([("content-type", "image/png")], FILE.to_vec()).into_response() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, Router::new().route("/files/{name}", files))
            .await
            .unwrap()
    });
    url
}

/// Every table with a `contact_id` or `session_id` column, from the schema,
/// and the rows (by rowid) of each that name the contact or `sessions`.
async fn rows_naming(
    conn: &mut sqlx::SqliteConnection,
    contact: i64,
    sessions: &[i64],
) -> BTreeMap<String, BTreeSet<i64>> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.name IN ('contact_id', 'session_id')",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let ids = sessions
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut found = BTreeMap::new();
    for (table, column) in columns {
        let condition = match column.as_str() {
            "contact_id" => format!("contact_id = {contact}"),
            _ => format!("session_id IN ({ids})"),
        };
        let mut condition = condition;
        if table == "outbox" {
            condition = format!(
                "{condition} OR message_id IN (SELECT id FROM messages WHERE session_id IN ({ids}))"
            );
        }
        let rows: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT rowid FROM {table} WHERE {condition}"
        )))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        found
            .entry(table)
            .or_insert_with(BTreeSet::new)
            .extend(rows.into_iter().map(|(r,)| r));
    }
    let contacts: Vec<(i64,)> = sqlx::query_as("SELECT rowid FROM contacts WHERE id = $1")
        .bind(contact)
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    found.insert(
        "contacts".into(),
        contacts.into_iter().map(|(r,)| r).collect(),
    );
    found
}

/// The export's files: name → bytes.
fn unpack(archive: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let mut files = BTreeMap::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        files.insert(name, bytes);
    }
    files
}

async fn download(url: &str, token: &str) -> (u16, String, Vec<u8>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let request = hyper::Request::get(url)
        .header("authorization", format!("Bearer {token}"))
        .body(Empty::new())
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, kind, body.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_holds_every_row_of_the_contact_and_erasure_leaves_none() {
    let provider = provider().await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let db_file = dir.path().join("frontdesk.db");
    let data = dir.path().join("data");
    let echo = plugin_package("echo", "echo", dir.path());
    let admin = admin_token(&db);
    support::plugin_cli(&data, &["install", echo.to_str().unwrap()]);
    let data_env = data.to_str().unwrap().to_string();
    let mut server = Server::start(&db, &[("FRONTDESK_DATA_DIR", data_env.as_str())]);
    let http = Http::default();
    let api = |method: &'static str, path: String, body: Option<Value>| {
        let (http, url, admin) = (http.clone(), server.url(&path), admin.clone());
        async move { http.api(method, &url, &admin, body).await }
    };
    let config = json!({"api_base_url": provider, "token": "t0k"});
    let (status, created) = api(
        "POST",
        "/api/v1/channels".into(),
        Some(json!({"name": "Echo", "kind": "echo", "config": config})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let hook = server.url(&format!("/hooks/{}", created["channel"]["id"]));
    let send = |body: Value| {
        let (http, hook) = (http.clone(), hook.clone());
        async move {
            let headers = [("x-echo-token", "t0k".to_string())];
            let (status, answer) = http
                .send("POST", &hook, &headers, body.to_string().into_bytes())
                .await
                .unwrap();
            assert_eq!(status, 200, "{answer}");
            answer
        }
    };
    let alice = |n: usize, files: bool| {
        let mut m = json!({"chat": "chat-alice-0001", "id": format!("alice-m{n}"),
            "from": {"id": "cust-alice-0001", "name": "Alice Example"}, "text": format!("{WORDS} {n}")});
        if files {
            m["attachments"] = json!([{"kind": "image", "url": format!("{provider}/files/r.png"), "name": "r.png"}]);
        }
        json!({"messages": [m]})
    };
    let answer = send(alice(1, true)).await;
    send(alice(2, false)).await;
    let session = answer["messages"][0]["session_id"].as_i64().unwrap();
    let bob = send(
        json!({"messages": [{"chat": "chat-bob-0002", "id": "bob-m1",
        "from": {"id": "cust-bob-0002"}, "text": "bob's words"}]}),
    )
    .await;
    let bob_session = bob["messages"][0]["session_id"].as_i64().unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, messages) = api("GET", format!("/api/v1/sessions/{session}/messages"), None).await;
        if messages[0]["attachments"][0]["state"] == "stored" {
            break;
        }
        assert!(Instant::now() < deadline, "{messages}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, detail) = api("GET", format!("/api/v1/sessions/{session}"), None).await;
    let contact = detail["session"]["contact_id"].as_i64().unwrap();

    // Refused while her session is open.
    let (status, refused) = api("DELETE", format!("/api/v1/contacts/{contact}"), None).await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("close them first"),
        "{refused}"
    );
    let (status, closed) = api("POST", format!("/api/v1/sessions/{session}/close"), None).await;
    assert_eq!(status, 200, "{closed}");
    let (status, rated) = api(
        "POST",
        format!("/api/v1/sessions/{session}/ratings"),
        Some(json!({"score": 5, "comment": "fine"})),
    )
    .await;
    assert_eq!(status, 200, "{rated}");

    // The export against a direct query of every keyed table.
    let url = format!("sqlite://{}", db_file.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let expected = rows_naming(&mut conn, contact, &[session]).await;
    let (status, kind, body) = download(
        &server.url(&format!("/api/v1/contacts/{contact}/export")),
        &admin,
    )
    .await;
    assert_eq!((status, kind.as_str()), (200, "application/gzip"));
    let files = unpack(&body);
    let contact_json: Value = serde_json::from_slice(&files["contact.json"]).unwrap();
    assert_eq!(contact_json["id"], contact);
    for (table, rowids) in &expected {
        if table == "contacts" {
            continue;
        }
        let exported: Vec<Value> = serde_json::from_slice(
            files
                .get(&format!("{table}.json"))
                .unwrap_or_else(|| panic!("the export has no {table}.json")),
        )
        .unwrap();
        assert_eq!(
            exported.len(),
            rowids.len(),
            "{table}: the export has {} rows, the database {}",
            exported.len(),
            rowids.len()
        );
    }
    assert!(expected["messages"].len() >= 2 && expected["attachments"].len() == 1);
    assert_eq!(expected["ratings"].len(), 1);
    let messages: Vec<Value> = serde_json::from_slice(&files["messages.json"]).unwrap();
    assert!(messages.iter().any(|m| m["body"] == format!("{WORDS} 1")));
    assert!(!messages.iter().any(|m| m["session_id"] == bob_session));
    let attachment = files
        .iter()
        .find(|(name, _)| name.starts_with("attachments/"))
        .expect("the attachment's bytes");
    assert_eq!(attachment.1.as_slice(), FILE);

    // Erasure.
    let (status, erased) = api("DELETE", format!("/api/v1/contacts/{contact}"), None).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["removed"]["messages"], expected["messages"].len());
    assert_eq!(erased["removed"]["attachments"], 1);
    assert_eq!(erased["removed"]["attachment_bytes"], FILE.len());
    let left = rows_naming(&mut conn, contact, &[session]).await;
    for (table, rows) in &left {
        assert!(rows.is_empty(), "{table} still holds {rows:?}");
    }
    let (status, bob_messages) = api(
        "GET",
        format!("/api/v1/sessions/{bob_session}/messages"),
        None,
    )
    .await;
    assert_eq!(
        (status, bob_messages[0]["body"].clone()),
        (200, json!("bob's words"))
    );
    let (_, audit) = api("GET", "/api/v1/audit?action=contact.erase".into(), None).await;
    let entry = &audit[0];
    assert_eq!(entry["target"], format!("contact:{contact}"), "{audit}");
    let text = entry.to_string();
    for personal in ["Alice", "alice", "cust-", WORDS] {
        assert!(
            !text.contains(personal),
            "the audit names {personal}: {text}"
        );
    }
    conn.close().await.unwrap();

    // Not a byte of hers is left in the database files.
    server.terminate();
    server
        .exited_within(Duration::from_secs(30))
        .expect("server stops");
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    for file in ["frontdesk.db", "frontdesk.db-wal"] {
        let Ok(bytes) = std::fs::read(dir.path().join(file)) else {
            continue;
        };
        for needle in [FILE, WORDS.as_bytes()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{file} still holds {:?}",
                String::from_utf8_lossy(needle)
            );
        }
    }
}
