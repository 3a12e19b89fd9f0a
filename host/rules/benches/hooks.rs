//! Running a cached default hook: the per-event cost of auto-actions.
//! Target: under 20 µs per call.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use frontdesk_routing::{SessionId, State, Timestamp};
use frontdesk_rules::{
    Author, ChannelInfo, ContactInfo, Hook, HookEvent, RatingInfo, Rules, ScriptScope, SessionInfo,
    WorkingHours, WorkingHoursConfig,
};

fn event() -> HookEvent {
    // Monday 2026-01-05 10:00 in Berlin: open, so A1 greets.
    let now = Timestamp::from_millis(1_767_603_600_000);
    let hours = WorkingHours::from_config(WorkingHoursConfig {
        time_zone: "Europe/Berlin".into(),
        days: ["mon", "tue", "wed", "thu", "fri"]
            .iter()
            .map(|d| (d.to_string(), vec!["09:00-17:00".to_string()]))
            .collect(),
        holidays: vec!["2026-12-25".into()],
    })
    .expect("valid hours");
    let mut channel = ChannelInfo::named("Support");
    channel.working_hours = Some(Arc::new(hours));
    HookEvent {
        hook: None,
        now,
        session: SessionInfo {
            id: SessionId(7),
            state: State::Queued,
            started_at: now,
            last_message_at: now,
            last_customer_message_at: Some(now),
            previous_customer_message_at: None,
            last_agent_message_at: None,
            customer_messages: 1,
            agent_messages: 0,
            last_author: Some(Author::Customer),
            unanswered: false,
            agent_name: Some("Ana".into()),
        },
        contact: ContactInfo {
            name: Some("Jonas".into()),
            ..ContactInfo::default()
        },
        channel,
        message: Some("Hi, my order is late".into()),
        rating: Some(RatingInfo {
            score: 5,
            comment: None,
        }),
    }
}

fn hooks(c: &mut Criterion) {
    let rules = Rules::new();
    let event = event();
    for hook in [
        Hook::FirstMessage,
        Hook::NoAnswer,
        Hook::AskRating,
        Hook::RatingReceived,
    ] {
        assert!(
            rules.run(ScriptScope::AllChannels, hook, &event).is_ok(),
            "{hook} default must run"
        );
        c.bench_function(&format!("default_{}", hook.name()), |b| {
            b.iter(|| {
                rules.run_or_default(ScriptScope::AllChannels, black_box(hook), black_box(&event))
            })
        });
    }
    let mut closed = event.clone();
    closed.now = Timestamp::from_millis(1_767_474_000_000); // Saturday
    c.bench_function("default_off_hours", |b| {
        b.iter(|| {
            rules.run_or_default(
                ScriptScope::AllChannels,
                black_box(Hook::OffHours),
                black_box(&closed),
            )
        })
    });

    // What a runaway script costs before the operation cap stops it and the
    // default runs instead: the worst case an admin's mistake can cause.
    rules
        .save(
            ScriptScope::AllChannels,
            Hook::FirstMessage,
            "let n = 0; loop { n += 1; }",
        )
        .expect("compiles");
    c.bench_function("runaway_loop_then_default", |b| {
        b.iter(|| {
            rules.run_or_default(
                ScriptScope::AllChannels,
                black_box(Hook::FirstMessage),
                black_box(&event),
            )
        })
    });
}

criterion_group!(benches, hooks);
criterion_main!(benches);
