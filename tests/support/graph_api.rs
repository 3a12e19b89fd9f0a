//! A mock of Meta's Graph API for Messenger, since Meta ships no emulator,
//! and the signing Meta does on webhook deliveries.
//!
//! It follows the published Send API: `POST /{version}/me/messages` with the
//! Page token in the `access_token` query and a JSON body
//! `{"recipient":{"id"},"messaging_type","message":{"text"|"attachment"}}`,
//! answered `{"recipient_id","message_id"}`; errors are Graph error bodies
//! (`{"error":{"message","type","code","error_subcode","fbtrace_id"}}`) with
//! the codes and statuses Meta documents. Also `POST /{version}/me/subscribed_apps`
//! and the User Profile API, `GET /{version}/{psid}?fields=first_name,last_name`.
//! Tests can make it fail: a 500 (code 2), a rate limit (code 613) or no
//! answer at all, for the next N sends whose text contains a marker.

#![allow(dead_code)] // each test file uses a different part of this

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::watch;

/// How long a test waits for the server to call the mock before it fails.
const WAIT: Duration = Duration::from_secs(30);

/// A fault the mock produces instead of Meta's normal answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 500 with Graph error code 2 ("An unexpected error has occurred").
    ServerError,
    /// HTTP 400 with code 613 ("Calls to this api have exceeded the rate limit").
    RateLimit,
    /// No answer at all: the caller's timeout has to fire.
    Timeout,
}

/// What the mock did with one call.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Sent; this is the `message_id` it answered.
    Delivered(String),
    /// Refused with a Graph error as Meta would (bad token, unknown user, ...).
    Refused { status: u16, code: i64 },
    /// An injected failure.
    Failed(Failure),
}

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct Call {
    /// e.g. `/v24.0/me/messages`.
    pub path: String,
    pub query: HashMap<String, String>,
    pub content_type: Option<String>,
    /// The JSON body (`Null` when there was none or it was not JSON).
    pub body: Value,
    pub outcome: Outcome,
}

impl Call {
    /// The message text of a Send API call, if it had one.
    pub fn text(&self) -> Option<&str> {
        self.body["message"]["text"].as_str()
    }

    /// Whether this call was a send that Meta would have delivered.
    pub fn delivered(&self) -> bool {
        matches!(self.outcome, Outcome::Delivered(_))
    }
}

struct Rule {
    failure: Failure,
    left: usize,
    marker: String,
}

/// A user's access token, not a Page's: a common mistake. Graph reads `me`
/// as that user, who has no `subscribed_apps` edge.
pub const USER_TOKEN: &str = "EAAGuserTokenNotAPage";

struct Mock {
    page_token: String,
    known_psids: HashSet<String>,
    /// First and last name per PSID, for the User Profile API.
    profiles: Mutex<HashMap<String, (String, String)>>,
    calls: Mutex<Vec<Call>>,
    rules: Mutex<Vec<Rule>>,
    count: watch::Sender<usize>,
}

/// The running mock; stops when dropped.
pub struct GraphApi {
    addr: SocketAddr,
    mock: Arc<Mock>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for GraphApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl GraphApi {
    /// Starts on a loopback port. `page_token` is the only valid access
    /// token; `known_psids` are the customers the Page may message.
    pub async fn start(page_token: &str, known_psids: &[&str]) -> GraphApi {
        let mock = Arc::new(Mock {
            page_token: page_token.to_string(),
            known_psids: known_psids.iter().map(|s| s.to_string()).collect(),
            profiles: Mutex::new(HashMap::new()),
            calls: Mutex::new(Vec::new()),
            rules: Mutex::new(Vec::new()),
            count: watch::Sender::new(0),
        });
        let app = Router::new()
            .route("/{version}/me/messages", post(send_message))
            .route("/{version}/me/subscribed_apps", post(subscribe))
            .route("/{version}/{psid}", axum::routing::get(profile))
            // Stands in for Meta's attachment CDN (scontent.*.fbcdn.net).
            .route("/cdn/{*file}", axum::routing::get(cdn_file))
            .fallback(|uri: axum::http::Uri| async move {
                graph_error(
                    StatusCode::BAD_REQUEST,
                    2500,
                    None,
                    &format!("Unknown path components: {}", uri.path()),
                )
            })
            .with_state(mock.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        GraphApi { addr, mock, task }
    }

    /// The base URL to configure as the channel's `graph_base_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `times` sends whose text contains `marker` fail with `failure`.
    pub fn fail(&self, failure: Failure, times: usize, marker: &str) {
        self.mock.rules.lock().unwrap().push(Rule {
            failure,
            left: times,
            marker: marker.to_string(),
        });
    }

    /// Gives `psid` a profile: the User Profile API answers these names.
    /// A PSID without one is answered as Meta answers an id it will not
    /// show (error 100/33).
    pub fn set_profile(&self, psid: &str, first_name: &str, last_name: &str) {
        self.mock.profiles.lock().unwrap().insert(
            psid.to_string(),
            (first_name.to_string(), last_name.to_string()),
        );
    }

    /// User Profile API calls so far, for `psid`.
    pub fn profile_calls(&self, psid: &str) -> Vec<Call> {
        let path = format!("/{psid}");
        self.calls()
            .into_iter()
            .filter(|c| c.path.ends_with(&path) && !c.path.contains("/me/"))
            .collect()
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.mock.calls.lock().unwrap().clone()
    }

    /// Calls whose message text contains `marker`.
    pub fn sends_with(&self, marker: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.text().is_some_and(|t| t.contains(marker)))
            .collect()
    }

    /// Waits (up to 30 s, woken by each call) until `done` holds for the calls.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        let mut changes = self.mock.count.subscribe();
        let waited = tokio::time::timeout(WAIT, async {
            loop {
                let calls = self.calls();
                if done(&calls) {
                    return calls;
                }
                changes.changed().await.unwrap();
            }
        })
        .await;
        waited
            .unwrap_or_else(|_| panic!("the Graph API mock never saw {what}: {:#?}", self.calls()))
    }

    /// Waits until `n` sends whose text contains `marker` were received.
    pub async fn wait_for_sends(&self, marker: &str, n: usize) -> Vec<Call> {
        self.wait_for(&format!("{n} sends with {marker:?}"), |calls| {
            calls
                .iter()
                .filter(|c| c.text().is_some_and(|t| t.contains(marker)))
                .count()
                >= n
        })
        .await;
        self.sends_with(marker)
    }
}

impl Mock {
    fn record(&self, call: Call) {
        self.calls.lock().unwrap().push(call);
        self.count.send_modify(|n| *n += 1);
    }

    /// The injected failure for a send with this text, if one is armed.
    fn injected(&self, text: &str) -> Option<Failure> {
        let mut rules = self.rules.lock().unwrap();
        let rule = rules
            .iter_mut()
            .find(|r| r.left > 0 && text.contains(&r.marker))?;
        rule.left -= 1;
        Some(rule.failure)
    }

    /// Graph's checks on the version and the token, in Graph's order.
    fn authorize(&self, version: &str, query: &HashMap<String, String>) -> Result<(), Refusal> {
        let valid_version = version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
            });
        if !valid_version {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                2500,
                None,
                &format!("Unknown path components: /{version}/me/messages"),
            ));
        }
        match query.get("access_token") {
            None => Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                2500,
                None,
                "An active access token must be used to query information about the current user.",
            )),
            Some(token) if *token != self.page_token => Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                190,
                None,
                "Invalid OAuth access token - Cannot parse access token",
            )),
            Some(_) => Ok(()),
        }
    }
}

/// A Graph error Meta answers a bad request with.
struct Refusal {
    status: StatusCode,
    code: i64,
    subcode: Option<i64>,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, code: i64, subcode: Option<i64>, message: &str) -> Refusal {
        Refusal {
            status,
            code,
            subcode,
            message: message.to_string(),
        }
    }

    fn outcome(&self) -> Outcome {
        Outcome::Refused {
            status: self.status.as_u16(),
            code: self.code,
        }
    }

    fn response(&self) -> Response {
        graph_error(self.status, self.code, self.subcode, &self.message)
    }
}

/// A Graph error body with the status Meta uses for it.
fn graph_error(status: StatusCode, code: i64, subcode: Option<i64>, message: &str) -> Response {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AzX9mockTrace",
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    if code == 2 {
        error["is_transient"] = json!(true);
    }
    (status, axum::Json(json!({ "error": error }))).into_response()
}

fn param_error(message: &str) -> Refusal {
    Refusal::new(StatusCode::BAD_REQUEST, 100, None, message)
}

/// What Meta's Send API checks in the body, in order; `Ok` is the recipient.
fn check_send(body: &Value, known: &HashSet<String>) -> Result<String, Refusal> {
    let recipient = body["recipient"]["id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| param_error("(#100) The parameter recipient is required"))?;
    match body["messaging_type"].as_str() {
        Some("RESPONSE" | "UPDATE" | "MESSAGE_TAG") => {}
        _ => {
            return Err(param_error(
                "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}",
            ));
        }
    }
    let message = &body["message"];
    let text = message.get("text");
    let attachment = message.get("attachment");
    match (text, attachment) {
        (None, None) => {
            return Err(param_error(
                "(#100) Must send either message or sender_action",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(param_error(
                "(#100) Only one of text or attachment can be specified",
            ));
        }
        (Some(text), None) => {
            let text = text
                .as_str()
                .ok_or_else(|| param_error("(#100) Param message[text] must be a string"))?;
            if text.is_empty() {
                return Err(param_error("(#100) Param message[text] must be non-empty"));
            }
            if text.chars().count() > 2000 {
                return Err(param_error(
                    "(#100) Length of param message[text] must be less than or equal to 2000",
                ));
            }
        }
        (None, Some(attachment)) => {
            let kind = attachment["type"].as_str().unwrap_or("");
            if !matches!(kind, "image" | "audio" | "video" | "file" | "template") {
                return Err(param_error(
                    "(#100) Param message[attachment][type] is invalid",
                ));
            }
        }
    }
    if !known.contains(recipient) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            100,
            Some(2018001),
            "(#100) No matching user found",
        ));
    }
    Ok(recipient.to_string())
}

async fn send_message(
    State(mock): State<Arc<Mock>>,
    Path(version): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut call = Call {
        path: format!("/{version}/me/messages"),
        query: query.clone(),
        content_type,
        body: json.clone(),
        outcome: Outcome::Refused {
            status: 400,
            code: 0,
        },
    };
    if let Err(refused) = mock.authorize(&version, &query) {
        call.outcome = refused.outcome();
        mock.record(call);
        return refused.response();
    }
    let text = json["message"]["text"].as_str().unwrap_or("").to_string();
    if let Some(failure) = mock.injected(&text) {
        call.outcome = Outcome::Failed(failure);
        mock.record(call);
        return match failure {
            Failure::ServerError => graph_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.",
            ),
            Failure::RateLimit => graph_error(
                StatusCode::BAD_REQUEST,
                613,
                None,
                "(#613) Calls to this api have exceeded the rate limit.",
            ),
            Failure::Timeout => std::future::pending().await,
        };
    }
    match check_send(&json, &mock.known_psids) {
        Err(refused) => {
            call.outcome = refused.outcome();
            mock.record(call);
            refused.response()
        }
        Ok(recipient) => {
            let n = mock.calls.lock().unwrap().len();
            let message_id = format!("m_mock{n:06}");
            call.outcome = Outcome::Delivered(message_id.clone());
            mock.record(call);
            axum::Json(json!({"recipient_id": recipient, "message_id": message_id})).into_response()
        }
    }
}

async fn subscribe(
    State(mock): State<Arc<Mock>>,
    Path(version): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut call = Call {
        path: format!("/{version}/me/subscribed_apps"),
        query: query.clone(),
        content_type: None,
        body: Value::Null,
        outcome: Outcome::Delivered(String::new()),
    };
    if query.get("access_token").map(String::as_str) == Some(USER_TOKEN) {
        let refused = param_error(
            "(#100) Tried accessing nonexisting field (subscribed_apps) on node type (User)",
        );
        call.outcome = refused.outcome();
        mock.record(call);
        return refused.response();
    }
    if let Err(refused) = mock.authorize(&version, &query) {
        call.outcome = refused.outcome();
        mock.record(call);
        return refused.response();
    }
    if !query.contains_key("subscribed_fields") {
        let refused = param_error("(#100) The parameter subscribed_fields is required");
        call.outcome = refused.outcome();
        mock.record(call);
        return refused.response();
    }
    mock.record(call);
    axum::Json(json!({"success": true})).into_response()
}

/// The User Profile API: the `fields` asked for, of the ones a Page may
/// read; Graph's default (`name`, `id`) without `fields`.
async fn profile(
    State(mock): State<Arc<Mock>>,
    Path((version, psid)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut call = Call {
        path: format!("/{version}/{psid}"),
        query: query.clone(),
        content_type: None,
        body: Value::Null,
        outcome: Outcome::Delivered(String::new()),
    };
    let refuse = |call: &mut Call, refused: Refusal| {
        call.outcome = refused.outcome();
        mock.record(call.clone());
        refused.response()
    };
    if let Err(refused) = mock.authorize(&version, &query) {
        return refuse(&mut call, refused);
    }
    let Some((first, last)) = mock.profiles.lock().unwrap().get(&psid).cloned() else {
        return refuse(
            &mut call,
            Refusal::new(
                StatusCode::BAD_REQUEST,
                100,
                Some(33),
                &format!(
                    "Unsupported get request. Object with ID '{psid}' does not exist, cannot be \
                     loaded due to missing permissions, or does not support this operation. \
                     Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
                ),
            ),
        );
    };
    let mut answer = json!({"id": psid});
    let fields = query.get("fields").map_or("name", String::as_str);
    for field in fields.split(',').map(str::trim) {
        let value = match field {
            "first_name" => json!(first),
            "last_name" => json!(last),
            "name" => json!(format!("{first} {last}")),
            "id" => continue,
            "profile_pic" => {
                json!("https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=1")
            }
            other => {
                return refuse(
                    &mut call,
                    param_error(&format!(
                        "(#100) Tried accessing nonexisting field ({other}) on node type (User)"
                    )),
                );
            }
        };
        answer[field] = value;
    }
    mock.record(call);
    axum::Json(answer).into_response()
}

/// The bytes the mock CDN serves for every file.
pub const CDN_BYTES: &[u8] = b"\xff\xd8\xff\xe0 not really a JPEG";

async fn cdn_file(Path(file): Path<String>) -> Response {
    if !file.ends_with(".jpg") {
        return (StatusCode::NOT_FOUND, "URL signature mismatch").into_response();
    }
    ([("content-type", "image/jpeg")], CDN_BYTES).into_response()
}

/// Serialises a webhook delivery as Meta sends it: compact JSON with every
/// non-ASCII character escaped as `\uXXXX` (lowercase hex, UTF-16).
pub fn meta_json(value: &Value) -> String {
    let compact = serde_json::to_string(value).unwrap();
    let mut out = String::with_capacity(compact.len());
    for c in compact.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The `X-Hub-Signature-256` value Meta sends: `sha256=` + hex HMAC-SHA256
/// of the body bytes with the app secret.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
