//! Stops asking a tier that keeps failing, for a while.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

/// Consecutive failed requests after which a tier is skipped.
const FAILURES_BEFORE_SKIP: u32 = 3;
/// How long a failing tier is skipped.
pub(crate) const SKIP_FOR: Duration = Duration::from_secs(60);

/// One tier's recent failures.
#[derive(Debug, Default)]
pub(crate) struct Breaker(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    failures: u32,
    skip_until: Option<Instant>,
}

impl Breaker {
    /// Whether the tier may be asked now.
    pub(crate) fn available(&self) -> bool {
        let state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        state.skip_until.is_none_or(|until| Instant::now() >= until)
    }

    /// A request succeeded.
    pub(crate) fn succeeded(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = State::default();
    }

    /// A request failed; an unreachable tier is skipped at once (another 2 s connect would
    /// fail the same way). Returns whether the tier is now skipped.
    pub(crate) fn failed(&self, unreachable: bool) -> bool {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        state.failures += 1;
        if unreachable || state.failures >= FAILURES_BEFORE_SKIP {
            state.skip_until = Some(Instant::now() + SKIP_FOR);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_or_unreachable_failures_skip_the_tier() {
        let breaker = Breaker::default();
        assert!(!breaker.failed(false));
        breaker.succeeded();
        assert!(!breaker.failed(false));
        assert!(!breaker.failed(false));
        assert!(breaker.available());
        assert!(breaker.failed(false));
        assert!(!breaker.available());
        let breaker = Breaker::default();
        assert!(breaker.failed(true));
        assert!(!breaker.available());
    }
}
