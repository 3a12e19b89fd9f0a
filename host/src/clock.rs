//! The clock every part of the server reads, so tests can control time.
//!
//! The engine both reads the time and sleeps until its next deadline through
//! this trait. With [`ManualClock`] nothing moves until a test advances it, so
//! "a forward interval later" costs no real time.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use crate::store::Millis;

/// A future the clock resolves when its time has come.
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A source of "now" in unix milliseconds.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Millis;
    /// Resolves once `now() >= deadline`.
    fn sleep_until(&self, deadline: Millis) -> Sleep<'_>;
}

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as Millis)
            .unwrap_or(0)
    }

    fn sleep_until(&self, deadline: Millis) -> Sleep<'_> {
        let wait = Duration::from_millis(deadline.saturating_sub(self.now()).max(0) as u64);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that moves only when a test moves it (`FRONTDESK_TEST_CLOCK`).
#[derive(Debug)]
pub struct ManualClock(watch::Sender<Millis>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Millis) -> Self {
        ManualClock(watch::Sender::new(start))
    }

    /// Moves the clock forward by `ms` and wakes every sleeper whose time came.
    pub fn advance(&self, ms: Millis) -> Millis {
        self.0.send_modify(|t| *t += ms.max(0));
        *self.0.borrow()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        *self.0.borrow()
    }

    fn sleep_until(&self, deadline: Millis) -> Sleep<'_> {
        let mut rx = self.0.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock, so this only ends at the deadline.
            let _ = rx.wait_for(|now| *now >= deadline).await;
        })
    }
}

/// The server's clock as the plugin host's `clock` import, so plugins (a
/// bot's `clock::now_ms`, install times) read the same time as the engine,
/// including the test clock.
#[derive(Clone)]
pub struct PluginClock(pub std::sync::Arc<dyn Clock>);

impl frontdesk_plugin_host::WallClock for PluginClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.now()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_sleepers_wake_only_when_advanced_past_their_deadline() {
        let clock = ManualClock::new(1_000);
        let sleep = clock.sleep_until(61_000);
        tokio::pin!(sleep);
        assert!(futures_poll(&mut sleep).is_pending());
        clock.advance(59_999);
        assert!(futures_poll(&mut sleep).is_pending());
        clock.advance(1);
        assert!(futures_poll(&mut sleep).is_ready());
    }

    #[test]
    fn plugins_read_the_servers_clock() {
        use frontdesk_plugin_host::WallClock;
        let clock = std::sync::Arc::new(ManualClock::new(5_000));
        let plugins = PluginClock(clock.clone());
        assert_eq!(plugins.now_ms(), 5_000);
        clock.advance(1_500);
        assert_eq!(plugins.now_ms(), 6_500);
    }

    fn futures_poll<F: Future + Unpin>(f: &mut F) -> std::task::Poll<F::Output> {
        let waker = std::task::Waker::noop();
        Pin::new(f).poll(&mut std::task::Context::from_waker(waker))
    }
}
