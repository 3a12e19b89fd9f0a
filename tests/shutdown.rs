//! Stopping with clients that stall, and slow clients while running
//! (issue 22 item 2, issue 14 item 4): the listener closes at once on
//! SIGTERM, the process exits within `--drain-secs` whatever clients do, an
//! outbox delivery in flight finishes and is recorded (S5), and the header,
//! body and idle timeouts cut slow clients while 1,000 idle sockets leave
//! `/healthz` answering.

use crate::support;

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use support::callback::{Callback, api_channel, customer_writes, eventually, outbox_item, reply};
use support::{ALLOW_PRIVATE_CALLBACKS, Http, Server, admin_token, binary, sqlite_url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection; `Err` if it is still open
/// after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Result<Vec<u8>, String> {
    let mut seen = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut seen)).await {
        Ok(_) => Ok(seen),
        Err(_) => Err(format!(
            "still open after {within:?}, answer so far: {:?}",
            String::from_utf8_lossy(&seen)
        )),
    }
}

async fn send_partial(addr: SocketAddr, bytes: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes.as_bytes()).await.unwrap();
    stream
}

/// A server with an `api` channel; returns (server, admin token, channel).
async fn server_with_channel(dir: &std::path::Path, env: &[(&str, &str)]) -> (Server, String, i64) {
    let db = sqlite_url(dir);
    let token = admin_token(&db);
    let server = Server::start(&db, env);
    let (status, created) = Http::default()
        .api(
            "POST",
            &server.url("/api/v1/channels"),
            &token,
            Some(json!({"name": "Site"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let channel = created["channel"]["id"].as_i64().unwrap();
    (server, token, channel)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_clients_do_not_keep_a_stopped_server_past_its_drain_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = [
        ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
        ("FRONTDESK_DRAIN_SECS", "2"),
        // Long enough that only the drain can end these clients.
        ("FRONTDESK_HEADER_TIMEOUT_SECS", "120"),
        ("FRONTDESK_BODY_TIMEOUT_SECS", "120"),
    ];
    let (mut server, _token, channel) = server_with_channel(dir.path(), &env).await;
    let _half_head = send_partial(
        server.addr,
        "POST /api/v1/channels HTTP/1.1\r\nHost: x\r\nContent-Le",
    )
    .await;
    let _half_body = send_partial(
        server.addr,
        &format!(
            "POST /hooks/{channel} HTTP/1.1\r\nHost: x\r\nContent-Length: 64\r\n\r\n{{\"chat_id\":"
        ),
    )
    .await;
    // A client that finishes its request during the drain gets its answer.
    let body = r#"{"message_id":"late","chat_id":"c","text":"sent during the drain"}"#;
    let (first, rest) = body.split_at(20);
    let mut finishing = send_partial(
        server.addr,
        &format!(
            "POST /hooks/{channel} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{first}",
            body.len()
        ),
    )
    .await;
    // Accepted in order: once this is answered, the stalled ones are in.
    let (status, _) = Http::default()
        .send("GET", &server.url("/healthz"), &[], vec![])
        .await
        .unwrap();
    assert_eq!(status, 200);

    let stopped_at = Instant::now();
    server.terminate();
    let mut refused = false;
    while stopped_at.elapsed() < Duration::from_millis(1_500) {
        if TcpStream::connect(server.addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "the listener still accepts 1.5 s after SIGTERM");
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the listener closed because the process had already gone, not at once"
    );
    finishing.write_all(rest.as_bytes()).await.unwrap();
    let answer = closed_within(&mut finishing, Duration::from_secs(2))
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    // Unsigned, so refused (403): but answered, and then the connection closes.
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let exit = tokio::task::block_in_place(|| server.exited_within(Duration::from_secs(5)));
    let took = stopped_at.elapsed();
    let exit = exit.unwrap_or_else(|| {
        panic!(
            "still running {took:?} after SIGTERM with a 2 s drain time: stalled clients hold it"
        )
    });
    assert!(exit.success(), "exited with {exit}");
    assert!(
        took < Duration::from_millis(4_000),
        "exit took {took:?} with a 2 s drain time"
    );
}

#[tokio::test]
async fn header_body_and_idle_timeouts_cut_slow_clients() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = [
        ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
        ("FRONTDESK_HEADER_TIMEOUT_SECS", "1"),
        ("FRONTDESK_BODY_TIMEOUT_SECS", "1"),
    ];
    let (server, _token, channel) = server_with_channel(dir.path(), &env).await;
    let addr = server.addr;
    let limit = Duration::from_secs(4);

    let idle = tokio::spawn(async move {
        let mut idle = TcpStream::connect(addr).await.unwrap();
        closed_within(&mut idle, limit).await
    });
    let no_final_crlf = tokio::spawn(async move {
        let mut half = send_partial(addr, "GET /healthz HTTP/1.1").await;
        closed_within(&mut half, limit).await
    });
    let slow_body = tokio::spawn(async move {
        let head =
            format!("POST /hooks/{channel} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
        let (mut read, mut write) = send_partial(addr, &head).await.into_split();
        // One byte every 200 ms: never idle long, but never done either.
        let trickle = tokio::spawn(async move {
            for _ in 0..100 {
                if write.write_all(b" ").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        let mut seen = Vec::new();
        let read = tokio::time::timeout(limit, read.read_to_end(&mut seen)).await;
        trickle.abort();
        match read {
            Ok(_) => Ok(seen),
            Err(_) => Err(format!("a body trickling in is still read after {limit:?}")),
        }
    });
    for (what, task) in [
        ("an idle connection", idle),
        ("a request line with no final CRLF", no_final_crlf),
        ("a body at 5 bytes/s", slow_body),
    ] {
        let answer = task
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
            "{what} got {answer:?}"
        );
    }
    // The server itself is fine.
    let (status, _) = Http::default()
        .send("GET", &server.url("/healthz"), &[], vec![])
        .await
        .unwrap();
    assert_eq!(status, 200);
}

/// Issue 14 item 4: with a 256 soft file limit, 260 half-sent requests made
/// `/healthz` time out. `serve` raises the soft limit to the hard one and
/// caps connections below it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_half_open_sockets_leave_healthz_answering() {
    const SOCKETS: usize = 1_000;
    let ours = rlimit::increase_nofile_limit(4_096).unwrap();
    assert!(
        ours >= 2 * SOCKETS as u64,
        "this test needs a hard open-file limit of at least {} (ulimit -Hn), found {ours}",
        2 * SOCKETS
    );
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let mut command = Command::new("sh");
    command
        .args(["-c", r#"ulimit -S -n 256 && exec "$0" "$@""#])
        .arg(binary())
        .args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Server::start_command(
        command,
        &db,
        &[("FRONTDESK_DATA_DIR", data.to_str().unwrap())],
    );

    let mut sockets = Vec::with_capacity(SOCKETS);
    for i in 0..SOCKETS {
        let opened = tokio::time::timeout(
            Duration::from_secs(3),
            send_partial(server.addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n"),
        )
        .await;
        sockets
            .push(opened.unwrap_or_else(|_| {
                panic!("socket {i}: the server stopped accepting connections")
            }));
    }
    let started = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(3),
        Http::default().send("GET", &server.url("/healthz"), &[], vec![]),
    )
    .await;
    let answer = answer.unwrap_or_else(|_| {
        panic!("/healthz did not answer within 3 s beside {SOCKETS} idle sockets")
    });
    assert_eq!(answer.unwrap().0, 200);
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(sockets);
}

/// S5 across SIGTERM: a delivery whose receiver is still answering when the
/// stop comes is finished and recorded `sent` within the drain time, and the
/// next start does not send it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_delivery_in_flight_at_sigterm_is_recorded_sent_and_not_sent_again() {
    let callback = Callback::start(Duration::from_millis(500)).await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let env = [
        ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
        ALLOW_PRIVATE_CALLBACKS,
    ];
    let token = admin_token(&db);
    let http = Http::default();
    let mut server = Server::start(&db, &env);
    let base = server.url("");
    let (channel, secret) = api_channel(&http, &base, &token, "Site", &callback.url).await;
    let session = customer_writes(&http, &base, channel, &secret, "chat-1", "m1").await;
    let first = reply(&http, &base, &token, session, "first answer").await;
    eventually(
        "the reply reaches the receiver",
        Duration::from_secs(10),
        || callback.times(first) == 1,
    )
    .await;

    // The receiver answers 500 ms from now.
    let stopped_at = Instant::now();
    server.terminate();
    let exit = tokio::task::block_in_place(|| server.exited_within(Duration::from_secs(7)));
    let exit = exit.expect("exits within the 5 s drain time");
    assert!(exit.success(), "exited with {exit}");
    assert!(
        stopped_at.elapsed() >= Duration::from_millis(300),
        "exited after {:?}, before the receiver answered",
        stopped_at.elapsed()
    );

    let server = Server::start(&db, &env);
    let base = server.url("");
    let item = outbox_item(&http, &base, &token, first).await;
    assert_eq!(item["state"], "sent", "{item}");
    assert_eq!(item["attempts"], 1, "{item}");
    // The chat's next reply goes out only after every earlier one of the
    // chat: once it arrives, a resend of the first would have come before it.
    let second = reply(&http, &base, &token, session, "second answer").await;
    eventually("the next reply arrives", Duration::from_secs(10), || {
        callback.times(second) == 1
    })
    .await;
    assert_eq!(callback.times(first), 1, "{:?}", callback.deliveries());
}

/// Beyond `--max-connections`, a client waits for a slot instead of taking
/// the server's file descriptors; the header timeout frees the slots idle
/// clients hold, so `/healthz` still answers, late but surely.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_a_client_waits_for_a_slot_the_header_timeout_frees() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let env = [
        ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
        ("FRONTDESK_MAX_CONNECTIONS", "8"),
        ("FRONTDESK_HEADER_TIMEOUT_SECS", "1"),
    ];
    let server = Server::start(&db, &env);
    // Their header timeouts start no earlier than this.
    let started = Instant::now();
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(send_partial(server.addr, "GET /healthz HTTP/1.1\r\n").await);
    }
    let health = tokio::spawn(async move {
        let url = format!("http://{}/healthz", server.addr);
        let answer = Http::default().send("GET", &url, &[], vec![]).await;
        (answer, server)
    });
    // The idle clients are cut after their second, which frees the slots.
    for mut stream in idle {
        closed_within(&mut stream, Duration::from_secs(4))
            .await
            .unwrap();
    }
    let (answer, _server) = tokio::time::timeout(Duration::from_secs(4), health)
        .await
        .expect("/healthz answers once a slot is free")
        .unwrap();
    assert_eq!(answer.unwrap().0, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "answered after {:?}: the cap of 8 did not hold it back",
        started.elapsed()
    );
}
