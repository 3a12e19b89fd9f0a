//! P5: two-factor sign-in. A person enrols an authenticator app (RFC 6238)
//! and confirms it with a code; from then on a right password alone
//! answers `totp_required`; a code works once, a wrong one counts toward
//! the lockout like a wrong password, and each recovery code works once.
//! Codes are computed here for the server's test clock.

use serde_json::{Value, json};

use super::{World, env};
use frontdesk::auth::totp::code_at;

const PASSWORD: &str = "ann's long passphrase";
const START: i64 = 1_700_000_000_000;

async fn sign_in(w: &World, body: Value) -> (u16, Value) {
    let (status, _, answer) = w
        .http
        .exchange(
            "POST",
            &w.server.url("/api/v1/sign-in"),
            &[("content-type", "application/json".to_string())],
            body.to_string().into_bytes(),
        )
        .await
        .expect("server answered");
    (status, answer)
}

fn with(code: &str) -> Value {
    json!({"name": "ann", "password": PASSWORD, "code": code})
}

fn password_only() -> Value {
    json!({"name": "ann", "password": PASSWORD})
}

#[tokio::test]
async fn p5_totp_enrols_signs_in_with_a_code_once_counts_wrong_codes_and_takes_recovery_codes() {
    let w = World::start_with(|_| vec![env(("FRONTDESK_TEST_CLOCK", &START.to_string()))]);
    let created = w
        .admin(
            "POST",
            "/api/v1/users",
            Some(json!({"name": "ann", "role": "agent", "password": PASSWORD})),
        )
        .await;
    let token = created["token"].as_str().unwrap().to_string();
    let mut now = START;
    let advance = |ms: i64| {
        let w = &w;
        async move {
            w.admin(
                "POST",
                "/api/v1/test/clock",
                Some(json!({"advance_ms": ms})),
            )
            .await;
        }
    };

    let (status, enrolment) = w.call(&token, "POST", "/api/v1/me/totp", None).await;
    assert_eq!(status, 201, "{enrolment}");
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let uri = enrolment["uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/frontdesk:ann?"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    // Not asked for until confirmed.
    assert_eq!(sign_in(&w, password_only()).await.0, 200);

    let confirm = |code: String| json!({"code": code});
    let wrong = if code_at(&secret, now).unwrap() == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, refused) = w
        .call(
            &token,
            "POST",
            "/api/v1/me/totp/confirm",
            Some(confirm(wrong.into())),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("code:")
    );
    let (status, confirmed) = w
        .call(
            &token,
            "POST",
            "/api/v1/me/totp/confirm",
            Some(confirm(code_at(&secret, now).unwrap())),
        )
        .await;
    assert_eq!(status, 200, "{confirmed}");
    let recovery: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(recovery.len(), 10);

    // A right password alone is not enough any more.
    let (status, answer) = sign_in(&w, password_only()).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (401, &json!("totp_required")),
        "{answer}"
    );
    // The code that confirmed enrolment was used already.
    let (status, answer) = sign_in(&w, with(&code_at(&secret, now).unwrap())).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (401, &json!("totp_invalid")),
        "{answer}"
    );
    advance(30_000).await;
    now += 30_000;
    let code = code_at(&secret, now).unwrap();
    let (status, answer) = sign_in(&w, with(&code)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(sign_in(&w, with(&code)).await.0, 401, "a code works once");

    // Wrong codes count with wrong passwords: the fifth in a row locks.
    let wrong = if code_at(&secret, now).unwrap() == "123456" {
        "654321"
    } else {
        "123456"
    };
    for attempt in 2..=4 {
        let (status, answer) = sign_in(&w, with(wrong)).await;
        assert_eq!(status, 401, "attempt {attempt}: {answer}");
    }
    let (status, answer) =
        sign_in(&w, json!({"name": "ann", "password": "not the password"})).await;
    assert_eq!(status, 429, "the fifth failure locks: {answer}");
    advance(30_000).await;
    now += 30_000;
    assert_eq!(
        sign_in(&w, with(&code_at(&secret, now).unwrap())).await.0,
        200
    );

    // Each recovery code works once, typed however.
    let typed = recovery[3].to_uppercase();
    let by_recovery =
        |code: &str| json!({"name": "ann", "password": PASSWORD, "recovery_code": code});
    assert_eq!(sign_in(&w, by_recovery(&typed)).await.0, 200);
    let (status, answer) = sign_in(&w, by_recovery(&recovery[3])).await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (401, &json!("totp_invalid")),
        "{answer}"
    );
    let (_, state) = w.call(&token, "GET", "/api/v1/me/totp", None).await;
    assert_eq!(
        state,
        json!({"enabled": true, "pending": false, "recovery_codes_left": 9})
    );

    // Turning it off takes the password (or a code).
    let (status, _) = w
        .call(
            &token,
            "DELETE",
            "/api/v1/me/totp",
            Some(json!({"password": "wrong password!"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, answer) = w
        .call(
            &token,
            "DELETE",
            "/api/v1/me/totp",
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 204, "{answer}");
    assert_eq!(sign_in(&w, password_only()).await.0, 200);
}
