//! Who may get a session: R7, R8, R10 and R13, and R14's relaxed variant.

use crate::agent::AgentSnapshot;
use crate::config::QueueConfig;

/// R13 for a queue member: not dismissed, not on vacation, online if R8 is on,
/// clocked in and not on a break if R7 is on, under the limit if R10 is on.
/// `held` is the agent's counted sessions in this queue.
pub(crate) fn qualifies(agent: &AgentSnapshot, cfg: &QueueConfig, held: u32) -> bool {
    present(agent, cfg)
        && (!cfg.require_online || agent.online)
        && cfg.limit.is_none_or(|l| held < l.max)
}

/// R14: the responsible agent must pass R13 except the online check and the
/// limit, and need not be a member of the queue.
pub(crate) fn qualifies_as_responsible(agent: &AgentSnapshot, cfg: &QueueConfig) -> bool {
    present(agent, cfg)
}

/// The part of R13 that is about the person, not the load: employed, not on
/// vacation, and (R7) on shift.
fn present(agent: &AgentSnapshot, cfg: &QueueConfig) -> bool {
    let s = agent.status;
    !s.dismissed && !s.vacation && (!cfg.require_clocked_in || (s.clocked_in && !s.on_break))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentStatus;
    use crate::config::{LimitExclusion, SessionLimit};
    use crate::ids::{AgentId, QueueId};

    fn agent(f: impl FnOnce(&mut AgentSnapshot)) -> AgentSnapshot {
        let mut a = AgentSnapshot::new(
            AgentId(1),
            AgentStatus {
                clocked_in: true,
                ..AgentStatus::default()
            },
        );
        a.online = true;
        f(&mut a);
        a
    }

    #[test]
    fn r13_every_condition_excludes() {
        let mut cfg = QueueConfig::new(QueueId(1), vec![AgentId(1)]);
        cfg.require_clocked_in = true;
        cfg.require_online = true;
        cfg.limit = Some(SessionLimit {
            max: 2,
            exclude: LimitExclusion::ClosedOnly,
        });
        assert!(qualifies(&agent(|_| {}), &cfg, 1));
        assert!(!qualifies(&agent(|a| a.status.dismissed = true), &cfg, 0));
        assert!(!qualifies(&agent(|a| a.status.vacation = true), &cfg, 0));
        assert!(!qualifies(&agent(|a| a.online = false), &cfg, 0));
        assert!(!qualifies(&agent(|a| a.status.clocked_in = false), &cfg, 0));
        assert!(!qualifies(&agent(|a| a.status.on_break = true), &cfg, 0));
        assert!(!qualifies(&agent(|_| {}), &cfg, 2));
        // R14 ignores presence and load, but not the rest.
        assert!(qualifies_as_responsible(&agent(|a| a.online = false), &cfg));
        assert!(!qualifies_as_responsible(
            &agent(|a| a.status.on_break = true),
            &cfg
        ));
        // Options off: offline and off-shift agents qualify.
        let plain = QueueConfig::new(QueueId(1), vec![AgentId(1)]);
        assert!(qualifies(
            &agent(|a| {
                a.online = false;
                a.status.clocked_in = false
            }),
            &plain,
            99
        ));
    }
}
