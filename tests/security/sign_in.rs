//! P5, P6: people sign in with a name and password into an `HttpOnly`,
//! `SameSite=Strict` cookie; changes need the CSRF token; wrong passwords
//! lock the name for a while; signing out or being disabled ends the
//! session on the server; the first-run link works once.

use serde_json::{Value, json};

use super::World;
use super::support::{Log, Server, sqlite_url};

const PASSWORD: &str = "ann's long passphrase";

/// A browser's cookies after a sign-in: the session and the CSRF token.
struct Browser {
    session: String,
    csrf: String,
}

impl Browser {
    fn cookie(&self) -> String {
        format!(
            "frontdesk_session={}; frontdesk_csrf={}",
            self.session, self.csrf
        )
    }
}

async fn post(
    world: &World,
    path: &str,
    headers: &[(&str, String)],
    body: Value,
) -> (u16, hyper::HeaderMap, Value) {
    let mut all = vec![("content-type", "application/json".to_string())];
    all.extend(headers.iter().cloned());
    world
        .http
        .exchange(
            "POST",
            &world.server.url(path),
            &all,
            body.to_string().into_bytes(),
        )
        .await
        .expect("server answered")
}

async fn sign_in(world: &World, name: &str, password: &str) -> (u16, hyper::HeaderMap, Value) {
    post(
        world,
        "/api/v1/sign-in",
        &[],
        json!({"name": name, "password": password}),
    )
    .await
}

fn cookies(headers: &hyper::HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn browser(headers: &hyper::HeaderMap) -> Browser {
    let value = |name: &str| {
        cookies(headers)
            .iter()
            .find_map(|c| {
                c.strip_prefix(&format!("{name}="))
                    .map(|rest| rest.split(';').next().unwrap().to_string())
            })
            .unwrap_or_else(|| panic!("no {name} cookie in {:?}", cookies(headers)))
    };
    Browser {
        session: value("frontdesk_session"),
        csrf: value("frontdesk_csrf"),
    }
}

async fn me(world: &World, browser: &Browser) -> u16 {
    let (status, _) = world
        .http
        .send(
            "GET",
            &world.server.url("/api/v1/me"),
            &[("cookie", browser.cookie())],
            Vec::new(),
        )
        .await
        .unwrap();
    status
}

async fn ann(world: &World) -> i64 {
    let created = world
        .admin(
            "POST",
            "/api/v1/users",
            Some(json!({"name": "ann", "role": "agent", "password": PASSWORD})),
        )
        .await;
    created["user"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn p5_a_password_signs_in_with_a_strict_http_only_cookie_and_changes_need_the_csrf_token() {
    let world = World::start();
    let id = ann(&world).await;

    let (status, headers, body) = sign_in(&world, "ann", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["id"], id);
    let set = cookies(&headers);
    let session = set
        .iter()
        .find(|c| c.starts_with("frontdesk_session="))
        .unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(session.contains(attribute), "{session} lacks {attribute}");
    }
    let browser = browser(&headers);
    assert_eq!(body["csrf_token"], browser.csrf.as_str());
    assert_eq!(me(&world, &browser).await, 200);

    // A change with the cookie alone (what a forged cross-site form sends) is refused.
    let change = json!({"clocked_in": true});
    let (status, _, body) = world
        .http
        .exchange(
            "PUT",
            &world.server.url("/api/v1/me/shift"),
            &[
                ("cookie", browser.cookie()),
                ("content-type", "application/json".into()),
            ],
            change.to_string().into_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("X-CSRF-Token")
    );
    // With the token the console copies from its cookie, it goes through.
    let (status, _, body) = world
        .http
        .exchange(
            "PUT",
            &world.server.url("/api/v1/me/password"),
            &[
                ("cookie", browser.cookie()),
                ("x-csrf-token", browser.csrf.clone()),
                ("content-type", "application/json".into()),
            ],
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})
                .to_string()
                .into_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    // A new password ends the old sessions.
    assert_eq!(me(&world, &browser).await, 401);
    let (status, _, _) = sign_in(&world, "ann", "a brand new passphrase").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn p5_wrong_passwords_lock_the_name_and_say_when_to_try_again() {
    let clock = "1700000000000".to_string();
    let world = World::start_with(|_| vec![("FRONTDESK_TEST_CLOCK".into(), clock)]);
    ann(&world).await;

    // An unknown name and a wrong password read the same.
    let (status, _, unknown) = sign_in(&world, "nobody", PASSWORD).await;
    assert_eq!(status, 401);
    let (status, _, wrong) = sign_in(&world, "ann", "not the passphrase").await;
    assert_eq!(status, 401);
    assert_eq!(unknown, wrong);

    for _ in 0..3 {
        assert_eq!(sign_in(&world, "ann", "not the passphrase").await.0, 401);
    }
    // The fifth wrong password locks the name for 30 s.
    let (status, headers, body) = sign_in(&world, "ann", "not the passphrase").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(headers["retry-after"], "30");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("try again in 30 s")
    );
    // While locked even the right password is refused.
    let (status, _, _) = sign_in(&world, "ann", PASSWORD).await;
    assert_eq!(status, 429);

    world
        .admin(
            "POST",
            "/api/v1/test/clock",
            Some(json!({"advance_ms": 31_000})),
        )
        .await;
    let (status, _, body) = sign_in(&world, "ann", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn p5_signing_out_or_being_disabled_ends_the_session_on_the_server() {
    let world = World::start();
    let id = ann(&world).await;

    let (_, headers, _) = sign_in(&world, "ann", PASSWORD).await;
    let first = browser(&headers);
    let (status, headers, _) = post(
        &world,
        "/api/v1/sign-out",
        &[("cookie", first.cookie())],
        json!({}),
    )
    .await;
    assert_eq!(status, 204);
    assert!(
        cookies(&headers)
            .iter()
            .any(|c| c.starts_with("frontdesk_session=;") && c.contains("Max-Age=0"))
    );
    // A copy of the old cookie signs nobody in.
    assert_eq!(me(&world, &first).await, 401);

    let (_, headers, _) = sign_in(&world, "ann", PASSWORD).await;
    let second = browser(&headers);
    assert_eq!(me(&world, &second).await, 200);
    world
        .admin(
            "PATCH",
            &format!("/api/v1/users/{id}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(me(&world, &second).await, 401);
    let (status, _, _) = sign_in(&world, "ann", PASSWORD).await;
    assert_eq!(status, 401, "a disabled user cannot sign in");
}

#[tokio::test]
async fn p6_the_first_run_link_creates_one_admin_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let log = Log::default();
    let server = Server::start_logged(&db, &[], log.clone());
    // The link is logged before the address line that `start_logged` waits for.
    let url = log
        .lock()
        .unwrap()
        .iter()
        .find_map(|line| line["fields"]["setup_url"].as_str().map(str::to_string))
        .expect("the server logged a setup_url");
    assert!(url.starts_with(&server.url("/console/#setup=")), "{url}");
    let token = url.split("#setup=").nth(1).unwrap().to_string();
    let http = super::support::Http::default();
    let call = |path: &'static str, body: Value| {
        let http = http.clone();
        let url = server.url(path);
        async move {
            http.exchange(
                "POST",
                &url,
                &[("content-type", "application/json".into())],
                body.to_string().into_bytes(),
            )
            .await
            .unwrap()
        }
    };

    let (status, _, info) = call("/api/v1/setup/inspect", json!({"token": token})).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["first_admin"], true);
    let (status, _, body) = call(
        "/api/v1/setup",
        json!({"token": token, "name": "ada", "password": "short"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("password: ")
    );
    let (status, _, body) = call(
        "/api/v1/setup",
        json!({"token": token, "name": "ada", "password": "ada's long passphrase"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["role"], "admin");
    let (status, _, body) = call(
        "/api/v1/setup",
        json!({"token": token, "name": "eve", "password": "eve's long passphrase"}),
    )
    .await;
    assert_eq!(status, 400, "a used link: {body}");
    assert_eq!(body["error"]["code"], "setup_link_invalid");
    drop(server);

    // With an admin, a restart offers no link.
    let log = Log::default();
    let server = Server::start_logged(&db, &[], log.clone());
    let (status, _) = http
        .send("GET", &server.url("/healthz"), &[], Vec::new())
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert!(
        log.lock()
            .unwrap()
            .iter()
            .all(|line| line["fields"]["setup_url"].is_null())
    );
}
