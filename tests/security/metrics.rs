//! X4, issue 14 item 16: `/metrics` shows every series from the first
//! scrape (counters at zero, the process's own metrics, the build), and the
//! batch-size histogram counts what it saw.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::World;

/// The body of `GET /metrics`, as Prometheus reads it (plain text).
async fn scrape(w: &World) -> String {
    let mut stream = tokio::net::TcpStream::connect(w.server.addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: frontdesk\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x4_metrics_shows_every_series_from_the_first_scrape() {
    let w = World::start();
    let first = scrape(&w).await;
    for series in [
        "frontdesk_webhook_refused_total 0",
        "frontdesk_inbound_messages_total 0",
        "frontdesk_outbox_attempts_total{outcome=\"sent\"} 0",
        "frontdesk_outbox_attempts_total{outcome=\"failed\"} 0",
        "frontdesk_attachment_fetches_total{outcome=\"stored\"} 0",
        "frontdesk_build_info{version=\"",
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_cpu_seconds_total ",
    ] {
        assert!(
            first.contains(series),
            "no {series:?} on the first scrape:\n{first}"
        );
    }

    // Three messages, each in a batch of one: the histogram counts them.
    let (channel, secret) = w.api_channel("Site").await;
    for n in 0..3 {
        let payload =
            serde_json::json!({"message_id": format!("m{n}"), "chat_id": "c", "text": "hi"})
                .to_string()
                .into_bytes();
        let headers = [(
            frontdesk::ingest::SIGNATURE_HEADER,
            frontdesk::ingest::sign(&secret, &payload),
        )];
        let (status, body) = w
            .http
            .send(
                "POST",
                &w.server.url(&format!("/hooks/{channel}")),
                &headers,
                payload,
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let later = scrape(&w).await;
    assert!(
        later.contains("frontdesk_inbound_messages_total 3"),
        "{later}"
    );
    let ones = later
        .lines()
        .find(|l| l.starts_with("frontdesk_ingest_batch_size_bucket{le=\"1\"}"))
        .unwrap_or_else(|| panic!("the batch size is a histogram with buckets:\n{later}"));
    let count: f64 = ones.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{ones}");
}
