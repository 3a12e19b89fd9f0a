//! Issue 14 item 13: agents see what a mail is about. The subject opens the
//! text of the mail that starts a thread, and of a mail that changes the
//! topic; a reply on the same topic (`Re:`, `AW:`) shows only its text. So
//! the subject is in the session's messages, the export, the transcript and
//! the console, which all show message texts.

use serde_json::json;

use super::peers::smtp_send;
use super::support::Http;
use super::{SHOP, create_channel, customer_texts, get, mail, sessions, setup, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subject_shows_where_agents_read_the_mail() {
    let s = setup();
    let env = [
        ("FRONTDESK_DATA_DIR", s.data.as_str()),
        ("FRONTDESK_SMTP_LISTEN", "127.0.0.1:0"),
    ];
    let (server, smtp) = start(&s.db, &env);
    let smtp = smtp.unwrap();
    let http = Http::default();
    let token = &s.token;
    create_channel(&http, &server, token, json!({"address": SHOP})).await;

    let first = mail("s1@example.org", "", "Where is my parcel?");
    assert_eq!(
        smtp_send(smtp, "bob@example.org", &[SHOP], &first)["data"][0],
        250
    );
    let same_topic = mail(
        "s2@example.org",
        "In-Reply-To: <s1@example.org>\nReferences: <s1@example.org>",
        "Any news?",
    )
    .replace("Subject: Order 42", "Subject: AW: Re: Order 42");
    assert_eq!(
        smtp_send(smtp, "bob@example.org", &[SHOP], &same_topic)["data"][0],
        250
    );
    let new_topic = mail(
        "s3@example.org",
        "In-Reply-To: <s2@example.org>\nReferences: <s1@example.org> <s2@example.org>",
        "Also, the invoice is wrong.",
    )
    .replace("Subject: Order 42", "Subject: Re: Invoice 7");
    assert_eq!(
        smtp_send(smtp, "bob@example.org", &[SHOP], &new_topic)["data"][0],
        250
    );

    let list = sessions(&http, &server, token).await;
    assert_eq!(list.len(), 1, "one thread, one session: {list:?}");
    let session = list[0]["id"].as_i64().unwrap();
    assert_eq!(
        customer_texts(&http, &server, token, session).await,
        [
            "Subject: Order 42\n\nWhere is my parcel?",
            "Any news?",
            "Subject: Re: Invoice 7\n\nAlso, the invoice is wrong.",
        ]
    );

    let export = get(
        &http,
        &server,
        token,
        &format!("/api/v1/sessions/{session}/export.json"),
    )
    .await;
    assert_eq!(
        export["messages"][0]["body"], "Subject: Order 42\n\nWhere is my parcel?",
        "{export}"
    );

    let transcript = text_get(
        &server.url(&format!("/api/v1/sessions/{session}/transcript.txt")),
        token,
    );
    assert!(transcript.contains(": Subject: Order 42\n"), "{transcript}");
    assert!(
        transcript.contains("  Where is my parcel?\n"),
        "{transcript}"
    );
    assert!(
        transcript.contains(": Subject: Re: Invoice 7\n"),
        "{transcript}"
    );
}

/// A GET whose answer is text, with the admin's token.
fn text_get(url: &str, token: &str) -> String {
    let script = "import sys, urllib.request as u; \
                  r = u.Request(sys.argv[1], headers={'Authorization': 'Bearer ' + sys.argv[2]}); \
                  sys.stdout.write(u.urlopen(r).read().decode())";
    let out = std::process::Command::new("python3")
        .args(["-c", script, url, token])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
