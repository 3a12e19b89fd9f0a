//! The outbox across `kill -9` and beside a slow receiver (issue 22 item 3,
//! S5): a restarted node sends what it had claimed at once (not after the
//! 60 s lease), only the deliveries in flight at the crash are repeated,
//! a chat's replies keep their order, and a slow channel does not hold up
//! another one.

use crate::support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use support::callback::{Callback, api_channel, customer_writes, eventually, reply};
use support::{ALLOW_PRIVATE_CALLBACKS, Http, Server, admin_token, sqlite_url};

const CHATS: usize = 8;
const REPLIES_PER_CHAT: usize = 5;
/// `frontdesk::outbox::CAPS.per_lane`: deliveries in flight to one channel.
const PER_CHANNEL: usize = 4;

/// Queues `REPLIES_PER_CHAT` replies in each of `CHATS` chats, round robin;
/// returns their delivery ids with their chat.
async fn queue_replies(
    http: &Http,
    base: &str,
    token: &str,
    channel: (i64, &str),
    prefix: &str,
) -> Vec<(i64, String)> {
    let mut sessions = Vec::new();
    for c in 0..CHATS {
        let chat = format!("{prefix}-{c}");
        let session = customer_writes(http, base, channel.0, channel.1, &chat, &chat).await;
        sessions.push((session, chat));
    }
    let mut ids = Vec::new();
    for r in 0..REPLIES_PER_CHAT {
        for (session, chat) in &sessions {
            let id = reply(http, base, token, *session, &format!("{chat} reply {r}")).await;
            ids.push((id, chat.clone()));
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_a_node_sends_its_claimed_replies_at_once_and_repeats_only_those_in_flight() {
    let slow = Callback::start(Duration::from_millis(250)).await;
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
    let (channel, secret) = api_channel(&http, &base, &token, "Slow", &slow.url).await;
    let replies = queue_replies(&http, &base, &token, (channel, &secret), "chat").await;
    let ours = |id: i64| replies.iter().any(|(r, _)| *r == id);

    // Crash with deliveries in flight and most replies still queued.
    eventually("the first replies arrive", Duration::from_secs(10), || {
        slow.deliveries().iter().filter(|d| ours(d.id)).count() >= 8
    })
    .await;
    server.kill9();
    let before_crash = slow.deliveries().len();

    let restarted = Instant::now();
    let _server = Server::start(&db, &env);
    eventually(
        "every reply arrives after the restart",
        Duration::from_secs(15),
        || replies.iter().all(|(id, _)| slow.times(*id) >= 1),
    )
    .await;
    let took = restarted.elapsed();
    // 32 replies at 250 ms, 4 at a time: about 2 s; the lease is 60 s.
    assert!(
        took < Duration::from_secs(8),
        "the replies took {took:?} after the restart"
    );

    let deliveries = slow.deliveries();
    let mut times: HashMap<i64, usize> = HashMap::new();
    for d in deliveries.iter().filter(|d| ours(d.id)) {
        *times.entry(d.id).or_default() += 1;
    }
    let repeated: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.len() <= PER_CHANNEL && repeated.iter().all(|(_, n)| **n == 2),
        "only the deliveries in flight at the crash may repeat, once: {repeated:?}"
    );
    // A repeat is one the dead process had started.
    for (id, _) in &repeated {
        assert!(
            deliveries[..before_crash].iter().any(|d| d.id == **id),
            "delivery {id} repeated but was not in flight at the crash"
        );
    }
    // A chat's replies arrive in the order they were queued, repeats included.
    for c in 0..CHATS {
        let chat = format!("chat-{c}");
        let seen: Vec<i64> = deliveries
            .iter()
            .filter(|d| d.chat_id == chat && ours(d.id))
            .map(|d| d.id)
            .collect();
        assert!(
            seen.windows(2).all(|w| w[0] <= w[1]),
            "{chat} got its replies out of order: {seen:?}"
        );
    }
    eprintln!(
        "restart to last reply: {took:?}; repeated: {} of {}",
        repeated.len(),
        replies.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_channel_does_not_hold_up_another_channel() {
    let slow = Callback::start(Duration::from_millis(250)).await;
    let fast = Callback::start(Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let data = dir.path().join("data");
    let token = admin_token(&db);
    let http = Http::default();
    let server = Server::start(
        &db,
        &[
            ("FRONTDESK_DATA_DIR", data.to_str().unwrap()),
            ALLOW_PRIVATE_CALLBACKS,
        ],
    );
    let base = server.url("");
    let (slow_channel, slow_secret) = api_channel(&http, &base, &token, "Slow", &slow.url).await;
    let (fast_channel, fast_secret) = api_channel(&http, &base, &token, "Fast", &fast.url).await;
    let fast_session =
        customer_writes(&http, &base, fast_channel, &fast_secret, "fast-chat", "f1").await;
    // 40 replies at 250 ms each: 2.5 s four at a time, 10 s one at a time.
    let backlog = queue_replies(&http, &base, &token, (slow_channel, &slow_secret), "slow").await;

    let queued = Instant::now();
    let id = reply(&http, &base, &token, fast_session, "no waiting").await;
    eventually(
        "the other channel's reply arrives",
        Duration::from_secs(5),
        || fast.times(id) == 1,
    )
    .await;
    let took = queued.elapsed();
    let slow_done = backlog.iter().filter(|(r, _)| slow.times(*r) > 0).count();
    assert!(
        took < Duration::from_millis(1_500),
        "a reply to another channel waited {took:?} behind the slow one"
    );
    assert!(
        slow_done < backlog.len(),
        "the slow channel's backlog was already through, so this shows nothing"
    );
}
