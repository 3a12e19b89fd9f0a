//! O6: statistics of a scenario played on the manual clock through the real
//! engine, checked against figures computed by hand, on both backends.
//!
//! The queue has nobody in it, so each session waits until an agent writes
//! (which takes it, R18) and R6 marks the ones nobody answers within a minute.

use std::sync::Arc;

use frontdesk_routing::{AgentId, SessionId};

use super::{Engine, Event};
use crate::clock::{Clock, ManualClock};
use crate::store::{
    ChannelStats, Durations, InboundMessage, IngestItem, NewChannel, Queue, RatingStats, Role,
    Sender, StatsQuery, StatsRow, Store, Viewer,
};
use crate::test_support::{sqlite_store, with_postgres};

use super::tests::T0;

const SEC: i64 = 1000;
const ADMIN: Viewer = Viewer {
    user_id: 0,
    role: Role::Admin,
};

struct Play {
    store: Arc<dyn Store>,
    engine: Engine,
    clock: Arc<ManualClock>,
    channel: i64,
    bo: i64,
    cy: i64,
    sue: i64,
}

impl Play {
    async fn start(store: Arc<dyn Store>) -> Play {
        let admin = store.create_user("ada", Role::Admin, "h", 0).await.unwrap();
        let bo = store
            .create_user("bo", Role::Agent, "b", 0)
            .await
            .unwrap()
            .id;
        let cy = store
            .create_user("cy", Role::Agent, "c", 0)
            .await
            .unwrap()
            .id;
        let sue = store
            .create_user("sue", Role::Supervisor, "s", 0)
            .await
            .unwrap()
            .id;
        let new = NewChannel {
            name: "Site".into(),
            kind: "api".into(),
            secret: "s".into(),
            config: "{}".into(),
        };
        let channel = store.create_channel(admin.id, &new, 0).await.unwrap().id;
        let queue = Queue {
            unanswered_interval_secs: 60,
            ..Queue::default()
        };
        store.set_queue(admin.id, channel, &queue, 0).await.unwrap();
        // One minute before the range starts.
        let clock = Arc::new(ManualClock::new(T0 - 60 * SEC));
        let engine = Engine::start(store.clone(), clock.clone(), Arc::default())
            .await
            .unwrap();
        Play {
            store,
            engine,
            clock,
            channel,
            bo,
            cy,
            sue,
        }
    }

    /// Moves the clock to `T0 + secs` and lets the engine run what came due.
    async fn at(&self, secs: i64) {
        let target = T0 + secs * SEC;
        self.clock.advance(target - self.clock.now());
        self.engine
            .send(Event::Activity {
                agent: AgentId(self.bo),
            })
            .await
            .unwrap();
    }

    /// The customer of `chat` writes; returns the session.
    async fn customer(&self, chat: &str) -> i64 {
        let now = self.clock.now();
        let item = IngestItem {
            channel_id: self.channel,
            source: "api".into(),
            message: InboundMessage {
                external_id: format!("{chat}-{now}"),
                chat_id: chat.into(),
                sender: Sender {
                    verified: true,
                    id: chat.into(),
                    name: Some(format!("Customer {chat}")),
                    ..Sender::default()
                },
                text: "hello".into(),
                ..Default::default()
            },
        };
        let accepted = self.store.ingest(&[item], now).await.unwrap()[0];
        let event = Event::inbound(self.channel, &accepted).expect("a new message");
        self.engine.send(event).await.unwrap();
        accepted.session_id
    }

    /// An agent replies, as `POST /sessions/{id}/messages` does.
    async fn reply(&self, session: i64, agent: i64) {
        self.engine
            .send(Event::AgentMessage {
                session: SessionId(session),
                agent: AgentId(agent),
                text: "answer".into(),
            })
            .await
            .unwrap();
    }

    async fn close(&self, session: i64) {
        self.engine
            .send(Event::Close {
                session: SessionId(session),
            })
            .await
            .unwrap();
        let state = self.store.session(ADMIN, session).await.unwrap().unwrap();
        assert_eq!(
            state.state,
            crate::store::SessionState::Closed,
            "session {session} did not close"
        );
    }

    async fn stats(&self, agent: Option<i64>) -> ChannelStats {
        let query = StatsQuery {
            channel_id: self.channel,
            from: T0,
            to: T0 + 3600 * SEC,
            agent_id: agent,
        };
        self.store.channel_stats(&query).await.unwrap()
    }
}

fn durations(count: i64, median_secs: f64, p90_secs: i64) -> Durations {
    Durations {
        count,
        median_ms: Some(median_secs * 1000.0),
        p90_ms: Some(p90_secs * SEC),
    }
}

fn rating(count: i64, average: f64) -> RatingStats {
    RatingStats {
        count,
        average: Some(average),
    }
}

/// The scenario; times in seconds after T0, the range is [T0, T0 + 1 h).
async fn scenario(store: Arc<dyn Store>) {
    let p = Play::start(store).await;
    let (bo, cy) = (p.bo, p.cy);
    let before = p.customer("c0").await; // T0 - 60: before the range
    p.at(0).await;
    let s1 = p.customer("c1").await;
    p.at(10).await;
    let s2 = p.customer("c2").await;
    p.at(20).await;
    let s3 = p.customer("c3").await;
    p.at(30).await;
    p.reply(s1, bo).await; // s1 first response: 30 s
    p.at(40).await;
    assert_eq!(p.customer("c1").await, s1);
    p.at(50).await;
    let s4 = p.customer("c4").await;
    p.at(65).await;
    p.reply(s3, cy).await; // s3: 45 s
    p.at(70).await; // R6 marks s2 (opened at 10) unanswered
    p.at(100).await;
    p.reply(s2, bo).await; // s2: 90 s, though unanswered
    p.reply(s1, bo).await; // not a first response
    p.at(110).await; // R6 marks s4 unanswered; nobody ever takes it
    p.at(200).await;
    let s6 = p.customer("c6").await;
    p.at(215).await;
    p.reply(s6, cy).await; // s6: 15 s
    p.at(260).await;
    p.close(s6).await; // resolution 60 s
    p.at(300).await;
    p.close(s1).await; // 300 s
    p.at(1000).await;
    p.close(s2).await; // 990 s
    p.at(2000).await;
    p.close(s4).await; // closed by hand, never held by an agent: 1950 s
    let now = p.clock.now();
    p.store
        .rate(s1, crate::store::Rater::Customer, 5, None, None, now)
        .await
        .unwrap();
    p.store
        .rate(s2, crate::store::Rater::Customer, 1, None, None, now)
        .await
        .unwrap();
    // A replaced rating counts with its new score.
    p.store
        .rate(s2, crate::store::Rater::Customer, 3, None, None, now)
        .await
        .unwrap();
    p.store
        .rate(
            s2,
            crate::store::Rater::Supervisor,
            2,
            Some("slow"),
            Some(p.sue),
            now,
        )
        .await
        .unwrap();
    p.store
        .rate(s6, crate::store::Rater::Customer, 4, None, None, now)
        .await
        .unwrap();
    p.store
        .rate(before, crate::store::Rater::Customer, 1, None, None, now)
        .await
        .unwrap();
    p.at(3600).await;
    p.customer("c7").await; // at `to`: outside the range
    assert!(s4 > s3 && s6 > s4);

    let bo_row = StatsRow {
        agent_id: Some(bo),
        sessions: 2,
        unanswered: 1,
        first_response: durations(2, 60.0, 90),
        resolution: durations(2, 645.0, 990),
        customer_rating: rating(2, 4.0),
        supervisor_rating: rating(1, 2.0),
    };
    let cy_row = StatsRow {
        agent_id: Some(cy),
        sessions: 2,
        unanswered: 0,
        first_response: durations(2, 30.0, 45),
        resolution: durations(1, 60.0, 60),
        customer_rating: rating(1, 4.0),
        supervisor_rating: RatingStats::default(),
    };
    let nobody_row = StatsRow {
        agent_id: None,
        sessions: 1,
        unanswered: 1,
        resolution: durations(1, 1950.0, 1950),
        ..StatsRow::default()
    };
    let totals = StatsRow {
        agent_id: None,
        sessions: 5,
        unanswered: 2,
        first_response: durations(4, 37.5, 90),
        resolution: durations(4, 645.0, 1950),
        customer_rating: rating(3, 4.0),
        supervisor_rating: rating(1, 2.0),
    };
    let all = p.stats(None).await;
    assert_eq!(all.totals, totals);
    assert_eq!(all.agents, vec![bo_row.clone(), cy_row.clone(), nobody_row]);

    // One agent's row; the totals still cover the channel.
    let only_cy = p.stats(Some(cy)).await;
    assert_eq!((only_cy.totals, only_cy.agents), (totals, vec![cy_row]));
    let sue = p.stats(Some(p.sue)).await;
    assert_eq!(
        sue.agents,
        vec![StatsRow {
            agent_id: Some(p.sue),
            ..StatsRow::default()
        }]
    );

    // An empty range has zero sessions and no durations.
    let query = StatsQuery {
        channel_id: p.channel,
        from: T0 + 7200 * SEC,
        to: T0 + 7201 * SEC,
        agent_id: None,
    };
    let empty = p.store.channel_stats(&query).await.unwrap();
    assert_eq!((empty.totals, empty.agents), (StatsRow::default(), vec![]));
}

#[tokio::test]
async fn o6_statistics_match_a_hand_computed_scenario_on_sqlite() {
    let (store, _dir) = sqlite_store().await;
    scenario(store).await;
}

#[tokio::test]
async fn o6_statistics_match_a_hand_computed_scenario_on_postgres() {
    with_postgres(scenario).await;
}
