//! A virtual-clock driver for the router, in the spirit of quinn-proto's
//! `Pair::drive`: time jumps straight to the next deadline, and a step bound
//! turns a livelock (timers re-arming forever) into a test failure.
//!
//! It also plays the engine's store: every persistence command is applied to
//! a [`Store`], and after every call the store must equal the router's own
//! snapshot, which proves the command stream is enough to restore from.

use std::collections::BTreeMap;

use crate::{
    AgentId, AgentSnapshot, AgentStatus, Cause, Command, Hook, NewSession, QueueConfig, QueueId,
    Router, SessionId, SessionSnapshot, Snapshot, Span, State, Timer, Timestamp, Transition,
};

/// Monday 2026-01-05 09:00 UTC: a plausible start of a support shift.
pub const T0: Timestamp = Timestamp(1_767_603_600_000);

/// Most timer firings one `advance` may take before it is called a livelock.
const MAX_STEPS: usize = 100_000;

/// What the engine would have in its tables.
#[derive(Default, Clone, Debug)]
pub struct Store {
    pub agents: BTreeMap<AgentId, AgentSnapshot>,
    pub queues: BTreeMap<QueueId, QueueConfig>,
    pub sessions: BTreeMap<SessionId, SessionSnapshot>,
    pub timers: BTreeMap<Timer, Timestamp>,
}

impl Store {
    fn apply(&mut self, cmd: &Command) {
        match cmd {
            Command::SaveSession(s) => {
                self.sessions.insert(s.id, s.clone());
            }
            Command::ForgetSession(id) => {
                self.sessions.remove(id);
            }
            Command::SaveAgent(a) => {
                self.agents.insert(a.id, a.clone());
            }
            Command::SetTimer { timer, at } => {
                self.timers.insert(*timer, *at);
            }
            Command::ClearTimer { timer } => {
                assert!(
                    self.timers.remove(timer).is_some(),
                    "cleared {timer}, which was not stored"
                );
            }
            _ => {}
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut timers: Vec<(Timer, Timestamp)> =
            self.timers.iter().map(|(t, a)| (*t, *a)).collect();
        timers.sort_unstable();
        Snapshot {
            agents: self.agents.values().cloned().collect(),
            queues: self.queues.values().cloned().collect(),
            sessions: self.sessions.values().cloned().collect(),
            timers,
        }
    }
}

pub struct Sim {
    pub router: Router,
    pub now: Timestamp,
    /// Every command with the time it was emitted.
    pub log: Vec<(Timestamp, Command)>,
    pub store: Store,
    /// Compare the store with the router after every call (off for big runs).
    pub check_store: bool,
}

impl Sim {
    pub fn new() -> Self {
        let mut sim = Sim {
            router: Router::new(T0),
            now: T0,
            log: Vec::new(),
            store: Store::default(),
            check_store: true,
        };
        sim.collect();
        sim
    }

    /// Rebuilds the router from the store, as the engine does after a restart.
    pub fn restart(&mut self) {
        self.router = Router::restore(self.store.snapshot()).expect("the store restores");
        assert!(
            self.router.poll_command().is_none(),
            "restore emits nothing"
        );
    }

    /// Drains the router's commands into the log and the store.
    pub fn collect(&mut self) {
        while let Some(cmd) = self.router.poll_command() {
            self.store.apply(&cmd);
            self.log.push((self.now, cmd));
        }
        if self.check_store {
            assert_eq!(
                self.store.snapshot(),
                self.router.snapshot(),
                "the store drifted from the router"
            );
        }
        self.check_invariants();
    }

    /// Things that must hold after every call, whatever happened. Linear in
    /// the state, since it runs after every deadline of long jumps.
    pub fn check_invariants(&self) {
        let mut held = std::collections::HashMap::new();
        for a in self.router.agents() {
            for sid in self.router.held_by(a.id) {
                let s = self.router.session(sid).expect("held session is open");
                assert_eq!(s.holder, Some(a.id), "{sid} held by two agents");
                held.insert(sid, a.id);
            }
        }
        let mut waiting = std::collections::HashSet::new();
        for q in self.store.queues.keys() {
            waiting.extend(self.router.waiting(*q).map(|s| (*q, s)));
        }
        for s in self.router.sessions() {
            if let Some(h) = s.holder {
                assert_eq!(held.get(&s.id), Some(&h), "{} not in {h}'s held set", s.id);
                assert!(
                    s.offered_to.is_empty(),
                    "{} has a holder and open offers",
                    s.id
                );
            }
            let queued = s.state == State::Queued;
            assert_eq!(
                queued,
                waiting.contains(&(s.queue, s.id)),
                "{} is {} but waiting={}",
                s.id,
                s.state,
                !queued
            );
            if queued {
                assert!(s.holder.is_none());
            }
        }
    }

    pub fn agent(&mut self, id: i64, online: bool) -> AgentId {
        let id = AgentId(id);
        let status = AgentStatus {
            clocked_in: true,
            ..AgentStatus::default()
        };
        self.router.handle_agent_upsert(self.now, id, status);
        self.collect();
        if online {
            self.activity(id);
        }
        id
    }

    pub fn status(&mut self, id: AgentId, f: impl FnOnce(&mut AgentStatus)) {
        let mut status = self.router.agent(id).expect("known agent").status;
        f(&mut status);
        self.router.handle_agent_upsert(self.now, id, status);
        self.collect();
    }

    pub fn activity(&mut self, id: AgentId) {
        self.router.handle_agent_activity(self.now, id).unwrap();
        self.collect();
    }

    pub fn queue(&mut self, cfg: QueueConfig) {
        self.store.queues.insert(cfg.id, cfg.clone());
        self.router.handle_queue_config(self.now, cfg).unwrap();
        self.collect();
    }

    pub fn open(&mut self, id: i64, queue: QueueId) -> SessionId {
        self.open_with(NewSession {
            id: SessionId(id),
            queue,
            responsible: None,
            bot: false,
        })
    }

    pub fn open_with(&mut self, new: NewSession) -> SessionId {
        self.router.handle_session_opened(self.now, new).unwrap();
        self.collect();
        new.id
    }

    pub fn customer(&mut self, sid: SessionId) -> crate::MessageOutcome {
        let out = self.router.handle_customer_message(self.now, sid).unwrap();
        self.collect();
        out
    }

    pub fn reply(&mut self, sid: SessionId, agent: AgentId) {
        self.router
            .handle_agent_message(self.now, sid, agent)
            .unwrap();
        self.collect();
    }

    /// Runs `f` against the router at the current time and collects.
    pub fn act<T>(&mut self, f: impl FnOnce(&mut Router, Timestamp) -> T) -> T {
        let out = f(&mut self.router, self.now);
        self.collect();
        out
    }

    /// Moves the clock forward by `span`, firing every deadline on the way at
    /// its own time. Returns how many deadlines it jumped to.
    pub fn advance(&mut self, span: Span) -> usize {
        let target = self.now + span;
        let mut steps = 0;
        // Comparing the whole store per deadline makes long jumps quadratic;
        // once per jump finds the same drift.
        let check_store = std::mem::replace(&mut self.check_store, false);
        while let Some(at) = self.router.poll_timeout() {
            if at > target {
                break;
            }
            steps += 1;
            assert!(
                steps <= MAX_STEPS,
                "livelock: more than {MAX_STEPS} deadlines before {target}"
            );
            self.now = self.now.max(at);
            self.router.handle_timeout(self.now);
            self.collect();
        }
        self.check_store = check_store;
        if check_store {
            assert_eq!(
                self.store.snapshot(),
                self.router.snapshot(),
                "the store drifted from the router"
            );
        }
        self.now = target;
        steps
    }

    pub fn holder(&self, sid: SessionId) -> Option<AgentId> {
        self.router.session(sid).and_then(|s| s.holder)
    }

    pub fn state(&self, sid: SessionId) -> Option<State> {
        self.router.session(sid).map(|s| s.state)
    }

    /// Log position, for looking only at what happened after it.
    pub fn mark(&self) -> usize {
        self.log.len()
    }

    pub fn since(&self, mark: usize) -> impl Iterator<Item = &Command> {
        self.log[mark..].iter().map(|(_, c)| c)
    }

    /// Moves of `sid`, in order.
    pub fn transitions(&self, sid: SessionId) -> Vec<Transition> {
        self.log
            .iter()
            .filter_map(|(_, c)| match c {
                Command::Transition(t) if t.session == sid => Some(t.clone()),
                _ => None,
            })
            .collect()
    }

    /// Times at which `sid` was offered, with the agent.
    pub fn offers(&self, sid: SessionId) -> Vec<(Timestamp, AgentId)> {
        self.log
            .iter()
            .filter_map(|(at, c)| match c {
                Command::Offer { session, agent } if *session == sid => Some((*at, *agent)),
                _ => None,
            })
            .collect()
    }

    pub fn hooks(&self, sid: SessionId) -> Vec<(Timestamp, Hook)> {
        self.log
            .iter()
            .filter_map(|(at, c)| match c {
                Command::RunHook { session, hook } if *session == sid => Some((*at, *hook)),
                _ => None,
            })
            .collect()
    }

    pub fn causes(&self, sid: SessionId) -> Vec<(State, Cause)> {
        self.transitions(sid)
            .into_iter()
            .map(|t| (t.to, t.cause))
            .collect()
    }
}

/// A queue config with the given members.
pub fn queue(id: i64, members: &[AgentId]) -> QueueConfig {
    QueueConfig::new(QueueId(id), members.to_vec())
}
