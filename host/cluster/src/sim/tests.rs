//! The seed sweep, the replay of one seed, and proof that the invariants
//! catch planted bugs.

#![cfg(test)]

use std::time::Duration;

use super::{Failure, Report, run};
use crate::model::Flaw;

/// Seeds the sweep runs by default; `FRONTDESK_SIM_SEEDS=N` runs more.
const SEEDS: u64 = 500;

fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let number = value.trim().parse().unwrap_or_else(|_| {
        panic!("{name} must be a whole number (a seed or a count), not {value:?}")
    });
    Some(number)
}

#[test]
fn seeds() {
    if let Some(seed) = env_number("FRONTDESK_SIM_SEED") {
        let report = run(seed, None, true).unwrap_or_else(|failure| panic!("{failure}"));
        eprintln!("seed {seed} passed: {report:#?}");
        return;
    }
    let count = env_number("FRONTDESK_SIM_SEEDS").unwrap_or(SEEDS);
    let mut total = Report::default();
    for seed in 0..count {
        let report = run(seed, None, false).unwrap_or_else(|failure| panic!("{failure}"));
        total.steps += report.steps;
        total.handovers.extend(report.handovers);
        let (t, r) = (&mut total.counters, report.counters);
        t.fenced += r.fenced;
        t.uncertain += r.uncertain;
        t.held_writes += r.held_writes;
        t.terms += r.terms;
        t.acked += r.acked;
        t.applied += r.applied;
        t.fired += r.fired;
        t.max_timer_lateness = t.max_timer_lateness.max(r.max_timer_lateness);
        for (reason, n) in r.step_downs {
            *t.step_downs.entry(reason).or_default() += n;
        }
    }
    let handovers = &mut total.handovers;
    handovers.sort();
    let median = handovers[handovers.len() / 2];
    let max = *handovers.last().expect("every seed times two takeovers");
    eprintln!(
        "{count} seeds, {} steps; takeovers after a leader kill: {} (median {median:?}, max {max:?}); {:#?}",
        total.steps,
        handovers.len(),
        total.counters
    );
    // Every calm phase timed its takeover, and the faults really happened:
    // otherwise the invariants above held vacuously.
    let c = &total.counters;
    assert_eq!(
        handovers.len() as u64,
        2 * count,
        "each of the two calm phases per seed times one takeover"
    );
    assert!(
        max < Duration::from_secs(5),
        "the issue's target: a takeover under 5 s, but the slowest took {max:?}"
    );
    assert!(
        c.fenced > 0 && c.held_writes > 0 && c.uncertain > 0,
        "{c:#?}"
    );
    // A renew that finds the lease taken is rare (about one seed in fifty),
    // so only a sweep as long as the default one must see every reason.
    let reasons: &[&str] = if count >= SEEDS {
        &["lost", "expired", "fenced", "write_uncertain", "shutdown"]
    } else {
        &["expired", "write_uncertain"]
    };
    for reason in reasons {
        assert!(
            c.step_downs.get(reason).is_some_and(|&n| n > 0),
            "no step-down for {reason:?}: {c:#?}"
        );
    }
    assert!(c.acked > 0 && c.applied >= c.acked && c.fired > 0, "{c:#?}");
}

#[test]
fn a_seed_replays_exactly() {
    let first = run(7, None, false).unwrap_or_else(|failure| panic!("{failure}"));
    let second = run(7, None, false).unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(first.steps, second.steps);
    assert_eq!(first.handovers, second.handovers);
    assert_eq!(
        format!("{:?}", first.counters),
        format!("{:?}", second.counters)
    );
}

/// The first seed below `limit` on which the planted flaw breaks an invariant.
fn first_failure(flaw: Flaw, limit: u64) -> Failure {
    (0..limit)
        .find_map(|seed| run(seed, Some(flaw), false).err())
        .unwrap_or_else(|| {
            panic!("{limit} seeds with {flaw:?} planted found nothing: the invariants are too weak")
        })
}

#[test]
fn without_fencing_a_paused_leader_writes_and_the_simulation_sees_it() {
    let failure = first_failure(Flaw::NoFencing, 100);
    assert!(failure.what.starts_with("(a)"), "{failure}");
    assert!(
        failure
            .to_string()
            .contains(&format!("FRONTDESK_SIM_SEED={}", failure.seed)),
        "{failure}"
    );
}

#[test]
fn reacquire_keeping_a_led_token_loses_updates() {
    let failure = first_failure(Flaw::ReacquireKeepsToken, 300);
    assert!(failure.what.starts_with("(f)"), "{failure}");
}
