//! Issue 14 item 5 (L1, O3): an anonymous widget visitor cannot make the
//! server mail transcripts again and again: mails are limited per address,
//! per visitor and per IP, each refusal a 429 with `Retry-After` that says
//! which, and the relay gets only the mails that were allowed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::World;
use super::rate_limits::{
    Answer, assert_limited, new_visitor, next, open_chat, request, send, webchat_channel,
    webchat_server,
};

/// A relay that takes every mail and counts them (plain SMTP, no TLS).
async fn counting_relay() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let mails = Arc::new(AtomicUsize::new(0));
    let counted = mails.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let mails = counted.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 relay ESMTP\r\n").await.ok()?;
                let mut in_data = false;
                while let Some(line) = lines.next_line().await.ok()? {
                    let reply: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        mails.fetch_add(1, Ordering::SeqCst);
                        b"250 queued\r\n"
                    } else {
                        match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                            Some("EHLO") => b"250-relay\r\n250 8BITMIME\r\n",
                            Some("DATA") => {
                                in_data = true;
                                b"354 go on\r\n"
                            }
                            Some("QUIT") => {
                                write.write_all(b"221 bye\r\n").await.ok()?;
                                return Some(());
                            }
                            _ => b"250 ok\r\n",
                        }
                    };
                    write.write_all(reply).await.ok()?;
                }
                Some(())
            });
        }
    });
    (url, mails)
}

/// A visitor from `client` who has written once, so there is a chat to send.
async fn visitor_with_chat(w: &World, channel: i64, client: &str) -> String {
    let visitor = new_visitor(w, channel, client).await;
    assert_eq!(visitor.status, 200, "{}", visitor.text);
    let token = visitor.body["token"].as_str().unwrap().to_string();
    let mut ws = open_chat(w, channel, &token).await;
    send(
        &mut ws,
        json!({"type": "message", "client_id": "c-1", "text": "Where is order 42?"}),
    )
    .await;
    while next(&mut ws).await["type"] != "ack" {}
    token
}

async fn transcript(w: &World, channel: i64, token: &str, client: &str, to: &str) -> Answer {
    let headers = [
        ("authorization", format!("Bearer {token}")),
        ("content-type", "application/json".to_string()),
        ("x-forwarded-for", client.to_string()),
    ];
    let body = json!({"email": to}).to_string().into_bytes();
    let path = format!("/chat/{channel}/transcript");
    request(w, "POST", &path, &headers, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_o3_transcript_mails_are_limited_per_address_visitor_and_ip() {
    let (relay, mails) = counting_relay().await;
    let w = webchat_server(
        "transcripts-per-address=2/d,transcripts-per-visitor=3/h,transcripts-per-ip=5/h",
        &[("FRONTDESK_SMTP_RELAY", relay)],
    );
    let channel = webchat_channel(&w).await;
    let client = "198.51.100.1";
    let a = visitor_with_chat(&w, channel, client).await;
    for _ in 0..2 {
        let sent = transcript(&w, channel, &a, client, "victim@example.org").await;
        assert_eq!(sent.status, 200, "{}", sent.text);
    }
    // The same address however it is written: two a day.
    let third = transcript(&w, channel, &a, client, " Victim@Example.ORG ").await;
    let message = assert_limited(&third, 86_400 / 2);
    assert!(message.contains("this email address"), "{message}");
    // The visitor has asked three times now.
    let other = transcript(&w, channel, &a, client, "other@example.org").await;
    let message = assert_limited(&other, 3_600 / 3);
    assert!(message.contains("this chat"), "{message}");
    // A second visitor from the same address: one more, then the IP's five are used.
    let b = visitor_with_chat(&w, channel, client).await;
    let sent = transcript(&w, channel, &b, client, "b@example.org").await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    let by_ip = transcript(&w, channel, &b, client, "c@example.org").await;
    let message = assert_limited(&by_ip, 3_600 / 5);
    assert!(message.contains("from your address"), "{message}");
    // Only what was allowed reached the relay.
    assert_eq!(mails.load(Ordering::SeqCst), 3);
    let scraped = super::rate_limits::metrics(&w).await;
    assert!(
        scraped.contains("frontdesk_rate_limited_total{kind=\"transcript_mail\"} 3"),
        "{scraped}"
    );
}
