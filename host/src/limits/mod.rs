//! Rate limits (L1): what an unauthenticated or anonymous caller may do how
//! often, per IP, channel, visitor and email address.
//!
//! Each [`Rule`] is a keyed GCRA limiter (`governor`): a burst of
//! `count`, refilled evenly over `per`. Failures are what is counted for
//! sign-ins and webhooks (a wrong token, a bad signature), so a caller with
//! the right token or signature is never slowed by them; widget visitors,
//! messages and transcript mails are counted whatever their outcome. A
//! refusal is [`RateLimited`]: HTTP 429 with `Retry-After`, or the widget
//! socket's error frame with `retry_after`.
//!
//! Memory stays bounded: keys are 64-bit hashes, a sweeper drops keys that
//! are back to a full burst every minute, and a rule holding
//! [`MAX_KEYS`] keys sweeps at once and, if still full, refuses until keys
//! age out.

mod client_ip;
mod rate;

use std::hash::{BuildHasher, Hash, RandomState};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use governor::clock::MonotonicClock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

pub use client_ip::{ClientIp, TrustedProxies, ip_key};
pub use rate::{Rate, RateLimits};

/// Keys one rule remembers at most (each costs a few dozen bytes).
pub const MAX_KEYS: usize = 100_000;
/// How often keys back at a full burst are dropped.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// One limit: what is counted, by which key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Wrong or unknown API and visitor tokens, per client IP.
    AuthFailuresPerIp,
    /// Webhooks refused (bad or missing signature, unknown channel), per IP.
    WebhookRefusalsPerIp,
    /// Webhooks refused for a bad or missing signature, per channel.
    WebhookRefusalsPerChannel,
    /// New widget visitors (`POST /chat/{channel}/visitors`), per IP.
    VisitorsPerIp,
    /// New widget visitors, per channel.
    VisitorsPerChannel,
    /// Widget messages, per visitor.
    MessagesPerVisitor,
    /// Widget message text in KiB, per visitor.
    MessageKibPerVisitor,
    /// Widget messages, per IP (all its visitors together).
    MessagesPerIp,
    /// Transcript mails a visitor asks for, per visitor.
    TranscriptsPerVisitor,
    /// Transcript mails, per recipient address.
    TranscriptsPerAddress,
    /// Transcript mails, per IP.
    TranscriptsPerIp,
}

impl Rule {
    /// Every rule, in the order of the docs' table.
    pub const ALL: [Rule; 11] = [
        Rule::AuthFailuresPerIp,
        Rule::WebhookRefusalsPerIp,
        Rule::WebhookRefusalsPerChannel,
        Rule::VisitorsPerIp,
        Rule::VisitorsPerChannel,
        Rule::MessagesPerVisitor,
        Rule::MessageKibPerVisitor,
        Rule::MessagesPerIp,
        Rule::TranscriptsPerVisitor,
        Rule::TranscriptsPerAddress,
        Rule::TranscriptsPerIp,
    ];

    /// The `kind` label values of `frontdesk_rate_limited_total`.
    pub const KINDS: [&'static str; 5] = [
        "auth_failure",
        "webhook_refused",
        "widget_visitor",
        "widget_message",
        "transcript_mail",
    ];

    /// The rule's name in `--rate-limits`.
    pub fn name(self) -> &'static str {
        self.describe().0
    }

    /// The rule called `name`, if any.
    pub fn named(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.name() == name)
    }

    /// Its `kind` in `frontdesk_rate_limited_total`.
    pub fn kind(self) -> &'static str {
        self.describe().1
    }

    /// The rate a server runs with unless told otherwise: well above what a
    /// real site or person does, well below a hostile loop (docs/security.md).
    pub fn default_rate(self) -> Rate {
        self.describe().2
    }

    /// What the refused caller is told, before "; try again in N s".
    fn refusal(self) -> &'static str {
        self.describe().3
    }

    /// The smallest count the rule may be set to (one whole widget frame).
    fn min_count(self) -> Option<u32> {
        (self == Rule::MessageKibPerVisitor).then_some(64)
    }

    fn describe(self) -> (&'static str, &'static str, Rate, &'static str) {
        use Rule::*;
        match self {
            AuthFailuresPerIp => (
                "auth-failures-per-ip",
                "auth_failure",
                Rate::per_minute(30),
                "too many wrong tokens from your address",
            ),
            WebhookRefusalsPerIp => (
                "webhook-refusals-per-ip",
                "webhook_refused",
                Rate::per_minute(60),
                "too many refused webhooks from your address",
            ),
            WebhookRefusalsPerChannel => (
                "webhook-refusals-per-channel",
                "webhook_refused",
                Rate::per_minute(120),
                "too many refused webhooks for this channel",
            ),
            VisitorsPerIp => (
                "visitors-per-ip",
                "widget_visitor",
                Rate::per_minute(30),
                "too many new chats from your address",
            ),
            VisitorsPerChannel => (
                "visitors-per-channel",
                "widget_visitor",
                Rate::per_minute(1_200),
                "too many new chats on this channel",
            ),
            MessagesPerVisitor => (
                "messages-per-visitor",
                "widget_message",
                Rate::per_minute(60),
                "you are sending messages too fast",
            ),
            MessageKibPerVisitor => (
                "message-kib-per-visitor",
                "widget_message",
                Rate::per_minute(512),
                "you are sending too much text too fast",
            ),
            MessagesPerIp => (
                "messages-per-ip",
                "widget_message",
                Rate::per_minute(300),
                "too many messages from your address",
            ),
            TranscriptsPerVisitor => (
                "transcripts-per-visitor",
                "transcript_mail",
                Rate::per_hour(5),
                "this chat asked for too many transcripts",
            ),
            TranscriptsPerAddress => (
                "transcripts-per-address",
                "transcript_mail",
                Rate::per_day(10),
                "too many transcripts went to this email address",
            ),
            TranscriptsPerIp => (
                "transcripts-per-ip",
                "transcript_mail",
                Rate::per_hour(20),
                "too many transcripts were asked for from your address",
            ),
        }
    }
}

/// A request over a limit: what the caller is told and when to come back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}; try again in {retry_after_secs} s", rule.refusal())]
pub struct RateLimited {
    pub rule: Rule,
    /// Whole seconds until the rule lets the next one through (at least 1).
    pub retry_after_secs: u64,
}

type Limiter = RateLimiter<u64, DashMapStateStore<u64>, MonotonicClock, NoOpMiddleware<Instant>>;

/// The server's limiters, shared by every request.
pub struct Limits {
    config: RateLimits,
    limiters: [Option<Limiter>; Rule::ALL.len()],
    proxies: TrustedProxies,
    /// Keys are hashed with a per-process secret, so nobody can pick values
    /// that share a key with someone else's.
    hasher: RandomState,
    /// Held while a full rule sweeps, so concurrent requests don't all sweep.
    sweeping: Mutex<()>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("config", &self.config)
            .field("proxies", &self.proxies)
            .finish_non_exhaustive()
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::build(RateLimits::default(), TrustedProxies::default())
    }
}

impl Limits {
    /// Limiters for `config`, believing `X-Forwarded-For` from `proxies`;
    /// [`Limits::sweep_under`] keeps their memory bounded.
    pub fn new(config: RateLimits, proxies: TrustedProxies) -> Arc<Limits> {
        Arc::new(Limits::build(config, proxies))
    }

    /// Starts the sweeper that keeps the limiters' memory bounded, under
    /// `workers`: it ends when they stop, or when the limits are gone.
    pub fn sweep_under(self: &Arc<Self>, workers: &crate::node::Workers) {
        workers
            .tracker
            .spawn(sweep(Arc::downgrade(self), workers.stop.clone()));
    }

    fn build(config: RateLimits, proxies: TrustedProxies) -> Limits {
        let limiters = Rule::ALL.map(|rule| {
            let rate = config.rate(rule)?;
            let count = NonZeroU32::new(rate.count)?;
            let quota = Quota::with_period(rate.per / rate.count)?.allow_burst(count);
            Some(RateLimiter::dashmap_with_clock(quota, MonotonicClock))
        });
        Limits {
            config,
            limiters,
            proxies,
            hasher: RandomState::new(),
            sweeping: Mutex::new(()),
        }
    }

    /// The rates in force.
    pub fn config(&self) -> &RateLimits {
        &self.config
    }

    /// Whose `X-Forwarded-For` is believed.
    pub fn proxies(&self) -> &TrustedProxies {
        &self.proxies
    }

    /// A token was presented and was wrong: counted per IP.
    pub fn auth_failed(&self, ip: ClientIp) -> Result<(), RateLimited> {
        self.per_ip(Rule::AuthFailuresPerIp, ip)
    }

    /// A webhook was refused: counted per IP, and per channel when the
    /// channel exists (`channel` is `None` for an unknown one).
    pub fn webhook_refused(&self, ip: ClientIp, channel: Option<i64>) -> Result<(), RateLimited> {
        self.per_ip(Rule::WebhookRefusalsPerIp, ip)?;
        match channel {
            Some(channel) => self.take(Rule::WebhookRefusalsPerChannel, channel, 1),
            None => Ok(()),
        }
    }

    /// A widget visitor is about to be created on `channel`.
    pub fn new_visitor(&self, ip: ClientIp, channel: i64) -> Result<(), RateLimited> {
        self.per_ip(Rule::VisitorsPerIp, ip)?;
        self.take(Rule::VisitorsPerChannel, channel, 1)
    }

    /// A widget message frame of `bytes` is about to be stored.
    pub fn widget_message(
        &self,
        ip: ClientIp,
        channel: i64,
        visitor: &str,
        bytes: usize,
    ) -> Result<(), RateLimited> {
        self.per_ip(Rule::MessagesPerIp, ip)?;
        self.take(Rule::MessagesPerVisitor, (channel, visitor), 1)?;
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
        self.take(Rule::MessageKibPerVisitor, (channel, visitor), kib)
    }

    /// A transcript of `visitor`'s chat is about to be mailed to `address`
    /// (normalized, so case and spacing make no other key).
    pub fn transcript(
        &self,
        ip: ClientIp,
        channel: i64,
        visitor: &str,
        address: &str,
    ) -> Result<(), RateLimited> {
        self.per_ip(Rule::TranscriptsPerIp, ip)?;
        self.take(Rule::TranscriptsPerVisitor, (channel, visitor), 1)?;
        self.take(Rule::TranscriptsPerAddress, address, 1)
    }

    fn per_ip(&self, rule: Rule, ip: ClientIp) -> Result<(), RateLimited> {
        match ip.0 {
            Some(ip) => self.take(rule, ip_key(ip), 1),
            None => Ok(()),
        }
    }

    /// Takes `n` from `key`'s allowance under `rule` (all or nothing).
    fn take(&self, rule: Rule, key: impl Hash, n: u32) -> Result<(), RateLimited> {
        let Some(limiter) = &self.limiters[rule as usize] else {
            return Ok(());
        };
        let key = self.hasher.hash_one((rule as usize, key));
        if limiter.len() >= MAX_KEYS {
            self.make_room(rule, limiter)?;
        }
        // A frame larger than the whole burst takes the whole burst.
        let burst = self.config.rate(rule).map_or(1, |r| r.count);
        let n = NonZeroU32::new(n.clamp(1, burst)).expect("clamped to at least 1");
        match limiter.check_key_n(&key, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(Instant::now());
                Err(refused(rule, wait))
            }
            Err(_) => Err(refused(rule, Duration::from_secs(1))),
        }
    }

    /// A full rule sweeps (one request at a time); still full, it refuses.
    fn make_room(&self, rule: Rule, limiter: &Limiter) -> Result<(), RateLimited> {
        if let Ok(_sweeping) = self.sweeping.try_lock() {
            limiter.retain_recent();
        }
        if limiter.len() >= MAX_KEYS {
            tracing::warn!(
                rule = rule.name(),
                keys = limiter.len(),
                "rate limit has too many keys to remember; refusing until they age out"
            );
            return Err(refused(rule, SWEEP_EVERY));
        }
        Ok(())
    }

    /// Drops the keys that are back at a full burst.
    fn sweep_now(&self) {
        for limiter in self.limiters.iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

fn refused(rule: Rule, wait: Duration) -> RateLimited {
    metrics::counter!("frontdesk_rate_limited_total", "kind" => rule.kind()).increment(1);
    let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    tracing::debug!(
        rule = rule.name(),
        retry_after_secs,
        "request refused: rate limited"
    );
    RateLimited {
        rule,
        retry_after_secs: retry_after_secs.max(1),
    }
}

/// Sweeps every minute while the limits are in use.
async fn sweep(limits: Weak<Limits>, stop: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let Some(limits) = limits.upgrade() else {
            return;
        };
        limits.sweep_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn ip(text: &str) -> ClientIp {
        ClientIp(Some(text.parse::<IpAddr>().unwrap()))
    }

    fn with(spec: &[&str]) -> Limits {
        Limits::build(
            RateLimits::parse(spec.iter().copied()).unwrap(),
            TrustedProxies::default(),
        )
    }

    #[test]
    fn a_burst_passes_then_the_next_waits_for_its_refill() {
        let limits = with(&["visitors-per-ip=3/min"]);
        for _ in 0..3 {
            limits.new_visitor(ip("192.0.2.1"), 7).unwrap();
        }
        let refused = limits.new_visitor(ip("192.0.2.1"), 7).unwrap_err();
        assert_eq!(refused.rule, Rule::VisitorsPerIp);
        // One of three per minute comes back after 20 s.
        assert!((19..=20).contains(&refused.retry_after_secs), "{refused:?}");
        assert_eq!(
            refused.to_string(),
            format!(
                "too many new chats from your address; try again in {} s",
                refused.retry_after_secs
            )
        );
        // Another address, and in-process calls with no address, are not held back.
        limits.new_visitor(ip("192.0.2.2"), 7).unwrap();
        limits.new_visitor(ClientIp(None), 7).unwrap();
    }

    #[test]
    fn rules_that_are_off_never_refuse() {
        let limits = Limits::build(RateLimits::off(), TrustedProxies::default());
        for _ in 0..1_000 {
            limits.auth_failed(ip("192.0.2.1")).unwrap();
        }
    }

    #[test]
    fn message_text_counts_in_kib_and_a_huge_frame_takes_the_whole_burst() {
        let limits = with(&["message-kib-per-visitor=64/min", "messages-per-visitor=off"]);
        let client = ip("192.0.2.1");
        limits.widget_message(client, 1, "v:a", 40 * 1024).unwrap();
        let refused = limits
            .widget_message(client, 1, "v:a", 40 * 1024)
            .unwrap_err();
        assert_eq!(refused.rule, Rule::MessageKibPerVisitor);
        // Another visitor has an allowance of their own.
        limits
            .widget_message(client, 1, "v:b", 1 << 20)
            .expect("a frame over the burst takes the burst");
        assert!(limits.widget_message(client, 1, "v:b", 10).is_err());
    }

    #[test]
    fn transcripts_are_counted_per_ip_visitor_and_address() {
        let limits = with(&[
            "transcripts-per-address=1/d",
            "transcripts-per-visitor=1/h",
            "transcripts-per-ip=3/h",
        ]);
        let client = ip("192.0.2.1");
        limits
            .transcript(client, 1, "v:a", "x@example.org")
            .unwrap();
        let to_x = limits.transcript(client, 1, "v:b", "x@example.org");
        assert_eq!(to_x.unwrap_err().rule, Rule::TranscriptsPerAddress);
        let again = limits.transcript(client, 1, "v:a", "y@example.org");
        assert_eq!(again.unwrap_err().rule, Rule::TranscriptsPerVisitor);
        let third = limits.transcript(client, 1, "v:c", "z@example.org");
        assert_eq!(third.unwrap_err().rule, Rule::TranscriptsPerIp);
    }

    #[test]
    fn names_kinds_and_defaults_are_complete() {
        for (index, rule) in Rule::ALL.into_iter().enumerate() {
            assert_eq!(rule as usize, index, "ALL is in declaration order");
            assert_eq!(Rule::named(rule.name()), Some(rule));
            assert!(Rule::KINDS.contains(&rule.kind()), "{rule:?}");
            assert!(rule.default_rate().count >= rule.min_count().unwrap_or(1));
        }
    }

    /// Issue 15: the sweeper runs under the node's workers, so their stop
    /// ends it (SIGTERM drains every worker), not only the last handle.
    #[tokio::test]
    async fn the_sweeper_runs_under_the_workers_and_ends_with_them() {
        let workers = crate::node::Workers::default();
        let limits = Limits::new(RateLimits::default(), TrustedProxies::default());
        limits.sweep_under(&workers);
        assert_eq!(workers.tracker.len(), 1, "the sweeper is a tracked task");
        workers.stop.cancel();
        workers.tracker.close();
        tokio::time::timeout(Duration::from_secs(10), workers.tracker.wait())
            .await
            .expect("the sweeper ends on stop while the limits are still held");
        drop(limits);
    }

    #[test]
    fn sweeping_forgets_keys_back_at_a_full_burst() {
        let limits = with(&[]);
        limits.auth_failed(ip("192.0.2.1")).unwrap();
        let limiter = limits.limiters[Rule::AuthFailuresPerIp as usize]
            .as_ref()
            .unwrap();
        assert_eq!(limiter.len(), 1);
        limits.sweep_now();
        // Used one of 30 a moment ago: still remembered.
        assert_eq!(limiter.len(), 1);
    }
}
