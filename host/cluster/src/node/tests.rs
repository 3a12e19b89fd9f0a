use std::time::{Duration, Instant};

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn actions(node: &mut Node) -> Vec<Action> {
    std::iter::from_fn(|| node.poll_action()).collect()
}

/// A node that acquired token 1 with a call sent at `t0`, answered at once.
fn leader(t0: Instant) -> Node {
    let mut node = Node::new(t0, Settings::default()).unwrap();
    node.handle_timeout(t0);
    assert_eq!(actions(&mut node), [Action::Acquire { led: None }]);
    node.handle_reply(t0, Reply::Acquired { token: Token(1) })
        .unwrap();
    assert_eq!(
        actions(&mut node),
        [Action::BecomeLeader { token: Token(1) }]
    );
    node
}

#[test]
fn a_new_node_acquires_at_once_and_a_leader_renews_every_second() {
    let t0 = Instant::now();
    let mut node = Node::new(t0, Settings::default()).unwrap();
    assert_eq!(node.role(), Role::Follower);
    assert_eq!(node.poll_timeout(), Some(t0));
    node.handle_timeout(t0);
    assert_eq!(actions(&mut node), [Action::Acquire { led: None }]);
    assert_eq!(node.role(), Role::Acquiring);
    node.handle_reply(t0 + ms(20), Reply::Acquired { token: Token(1) })
        .unwrap();
    assert_eq!(
        actions(&mut node),
        [Action::BecomeLeader { token: Token(1) }]
    );
    assert_eq!(
        node.role(),
        Role::Leader {
            token: Token(1),
            valid_until: t0 + ms(2_500)
        }
    );
    assert_eq!(node.write_token(t0 + ms(20)), Some(Token(1)));
    // The renew rhythm counts from when the acquire was sent.
    assert_eq!(node.poll_timeout(), Some(t0 + ms(1_000)));
    node.handle_timeout(t0 + ms(1_000));
    assert_eq!(actions(&mut node), [Action::Renew { token: Token(1) }]);
    // While the renew is in flight, only the expiry is a deadline.
    assert_eq!(node.poll_timeout(), Some(t0 + ms(2_500)));
    node.handle_reply(t0 + ms(1_300), Reply::Renewed).unwrap();
    assert_eq!(
        node.role(),
        Role::Leader {
            token: Token(1),
            valid_until: t0 + ms(3_500)
        }
    );
    assert_eq!(node.poll_timeout(), Some(t0 + ms(2_000)));
}

#[test]
fn validity_counts_from_when_the_call_was_sent_not_answered() {
    let t0 = Instant::now();
    let mut node = Node::new(t0, Settings::default()).unwrap();
    node.handle_timeout(t0);
    actions(&mut node);
    node.handle_reply(t0 + ms(2_000), Reply::Acquired { token: Token(4) })
        .unwrap();
    assert_eq!(node.write_token(t0 + ms(2_499)), Some(Token(4)));
    assert_eq!(node.write_token(t0 + ms(2_500)), None);

    // An answer that arrives after the validity it would grant is useless:
    // stay a follower and ask again at once (the row keeps token 5 for us).
    let mut node = Node::new(t0, Settings::default()).unwrap();
    node.handle_timeout(t0);
    actions(&mut node);
    node.handle_reply(t0 + ms(2_600), Reply::Acquired { token: Token(5) })
        .unwrap();
    assert_eq!(actions(&mut node), []);
    assert_eq!(node.role(), Role::Follower);
    node.handle_timeout(t0 + ms(2_600));
    assert_eq!(actions(&mut node), [Action::Acquire { led: None }]);
}

#[test]
fn a_busy_lease_is_tried_again_one_interval_after_the_last_attempt() {
    let t0 = Instant::now();
    let mut node = Node::new(t0, Settings::default()).unwrap();
    node.handle_timeout(t0);
    actions(&mut node);
    node.handle_reply(t0 + ms(30), Reply::Busy).unwrap();
    assert_eq!(node.role(), Role::Follower);
    assert_eq!(node.poll_timeout(), Some(t0 + ms(1_000)));
    node.handle_timeout(t0 + ms(999));
    assert_eq!(actions(&mut node), []);
    node.handle_timeout(t0 + ms(1_000));
    assert_eq!(actions(&mut node), [Action::Acquire { led: None }]);
}

#[test]
fn a_leader_whose_renewals_fail_stops_on_its_own_and_reacquires_as_a_new_term() {
    let t0 = Instant::now();
    let mut node = leader(t0);
    for second in [1_000, 2_000] {
        node.handle_timeout(t0 + ms(second));
        assert_eq!(actions(&mut node), [Action::Renew { token: Token(1) }]);
        node.handle_reply(t0 + ms(second + 1_000), Reply::Failed)
            .unwrap();
    }
    // Still leading just before the end of the validity the acquire gave.
    node.handle_timeout(t0 + ms(2_499));
    assert_eq!(node.write_token(t0 + ms(2_499)), Some(Token(1)));
    assert_eq!(node.poll_timeout(), Some(t0 + ms(2_500)));
    node.handle_timeout(t0 + ms(2_500));
    assert_eq!(
        actions(&mut node),
        [
            Action::StepDown {
                token: Token(1),
                reason: StepDownReason::Expired
            },
            Action::Acquire {
                led: Some(Token(1))
            }
        ]
    );
    assert_eq!(node.write_token(t0 + ms(2_500)), None);
}

#[test]
fn a_leader_steps_down_at_its_deadline_even_with_a_renew_in_flight() {
    let t0 = Instant::now();
    let mut node = leader(t0);
    node.handle_timeout(t0 + ms(1_000));
    actions(&mut node);
    node.handle_timeout(t0 + ms(2_500));
    assert_eq!(
        actions(&mut node),
        [Action::StepDown {
            token: Token(1),
            reason: StepDownReason::Expired
        }]
    );
    // The renew lands late; the term is over all the same, and the next
    // acquire fences whatever that term left in flight.
    node.handle_reply(t0 + ms(2_600), Reply::Renewed).unwrap();
    assert_eq!(node.write_token(t0 + ms(2_600)), None);
    node.handle_timeout(t0 + ms(2_600));
    assert_eq!(
        actions(&mut node),
        [Action::Acquire {
            led: Some(Token(1))
        }]
    );
}

#[test]
fn a_lost_renewal_ends_the_term_and_waits_an_interval() {
    let t0 = Instant::now();
    let mut node = leader(t0);
    node.handle_timeout(t0 + ms(1_000));
    actions(&mut node);
    node.handle_reply(t0 + ms(1_010), Reply::Lost).unwrap();
    assert_eq!(
        actions(&mut node),
        [Action::StepDown {
            token: Token(1),
            reason: StepDownReason::Lost
        }]
    );
    assert_eq!(node.role(), Role::Follower);
    assert_eq!(node.poll_timeout(), Some(t0 + ms(2_010)));
}

#[test]
fn a_fenced_or_uncertain_write_ends_only_its_own_term() {
    let t0 = Instant::now();
    let mut node = leader(t0);
    // A write of some older term: nothing to do with this one.
    node.handle_write_failure(t0 + ms(10), Token(0), WriteFailure::Fenced);
    assert_eq!(actions(&mut node), []);
    node.handle_write_failure(t0 + ms(10), Token(1), WriteFailure::Uncertain);
    assert_eq!(
        actions(&mut node),
        [Action::StepDown {
            token: Token(1),
            reason: StepDownReason::WriteUncertain
        }]
    );
    // Re-acquire at once: the bump makes a new term and fences the write.
    assert_eq!(node.poll_timeout(), Some(t0 + ms(10)));
    node.handle_timeout(t0 + ms(10));
    assert_eq!(
        actions(&mut node),
        [Action::Acquire {
            led: Some(Token(1))
        }]
    );
    node.handle_reply(t0 + ms(20), Reply::Acquired { token: Token(2) })
        .unwrap();
    assert_eq!(
        actions(&mut node),
        [Action::BecomeLeader { token: Token(2) }]
    );

    node.handle_write_failure(t0 + ms(30), Token(2), WriteFailure::Fenced);
    assert_eq!(
        actions(&mut node),
        [Action::StepDown {
            token: Token(2),
            reason: StepDownReason::Fenced
        }]
    );
    assert_eq!(node.poll_timeout(), Some(t0 + ms(1_030)));
}

#[test]
fn shutting_down_a_leader_steps_down_and_releases() {
    let t0 = Instant::now();
    let mut node = leader(t0);
    node.shutdown(t0 + ms(100));
    assert_eq!(
        actions(&mut node),
        [
            Action::StepDown {
                token: Token(1),
                reason: StepDownReason::Shutdown
            },
            Action::Release { token: Token(1) }
        ]
    );
    assert_eq!(node.role(), Role::SteppingDown);
    assert_eq!(node.write_token(t0 + ms(100)), None);
    node.handle_reply(t0 + ms(110), Reply::Released).unwrap();
    assert_eq!(node.role(), Role::Stopped);
    assert_eq!(node.poll_timeout(), None);
    node.handle_timeout(t0 + ms(10_000));
    assert_eq!(actions(&mut node), []);
}

#[test]
fn shutting_down_mid_call_releases_once_the_call_is_answered() {
    let t0 = Instant::now();
    // A renew in flight: release after its answer.
    let mut node = leader(t0);
    node.handle_timeout(t0 + ms(1_000));
    actions(&mut node);
    node.shutdown(t0 + ms(1_001));
    assert_eq!(
        actions(&mut node),
        [Action::StepDown {
            token: Token(1),
            reason: StepDownReason::Shutdown
        }]
    );
    node.handle_reply(t0 + ms(1_010), Reply::Renewed).unwrap();
    assert_eq!(actions(&mut node), [Action::Release { token: Token(1) }]);

    // A renew that finds the lease gone leaves nothing to release.
    let mut node = leader(t0);
    node.handle_timeout(t0 + ms(1_000));
    actions(&mut node);
    node.shutdown(t0 + ms(1_001));
    actions(&mut node);
    node.handle_reply(t0 + ms(1_010), Reply::Lost).unwrap();
    assert_eq!(actions(&mut node), []);
    assert_eq!(node.role(), Role::Stopped);

    // An acquire in flight that succeeds: give that token straight back.
    let mut node = Node::new(t0, Settings::default()).unwrap();
    node.handle_timeout(t0);
    actions(&mut node);
    node.shutdown(t0 + ms(1));
    assert_eq!(node.role(), Role::SteppingDown);
    node.handle_reply(t0 + ms(5), Reply::Acquired { token: Token(9) })
        .unwrap();
    assert_eq!(actions(&mut node), [Action::Release { token: Token(9) }]);
    node.handle_reply(t0 + ms(9), Reply::Failed).unwrap();
    assert_eq!(node.role(), Role::Stopped);
}

#[test]
fn a_follower_shuts_down_without_any_call() {
    let t0 = Instant::now();
    let mut node = Node::new(t0, Settings::default()).unwrap();
    node.shutdown(t0);
    assert_eq!(actions(&mut node), []);
    assert_eq!(node.role(), Role::Stopped);
    assert_eq!(node.poll_timeout(), None);
}

#[test]
fn replies_the_core_did_not_ask_for_are_refused_and_keep_the_call() {
    let t0 = Instant::now();
    let mut node = Node::new(t0, Settings::default()).unwrap();
    let error = node.handle_reply(t0, Reply::Busy).unwrap_err();
    assert_eq!(error, Error::NoCallInFlight { reply: Reply::Busy });
    assert!(error.to_string().contains("exactly once"), "{error}");

    node.handle_timeout(t0);
    actions(&mut node);
    let error = node.handle_reply(t0, Reply::Renewed).unwrap_err();
    assert_eq!(
        error,
        Error::ReplyMismatch {
            call: "acquire",
            reply: Reply::Renewed
        }
    );
    // The acquire is still in flight and its real answer still counts.
    node.handle_reply(t0, Reply::Acquired { token: Token(1) })
        .unwrap();
    assert_eq!(
        actions(&mut node),
        [Action::BecomeLeader { token: Token(1) }]
    );
}

#[test]
fn invalid_settings_are_refused_up_front() {
    let settings = Settings {
        ttl: Duration::from_secs(1),
        ..Settings::default()
    };
    assert!(matches!(
        Node::new(Instant::now(), settings),
        Err(Error::TtlTooShort { .. })
    ));
}
