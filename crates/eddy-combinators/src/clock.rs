//! The clock the time-limited combinators use: this crate keeps no timers of its own, so that
//! it works on any runtime; the `eddy` facade passes eddy's.

use std::fmt;
use std::future::Future;
use std::time::Instant;

/// A source of timers.
pub trait Clock {
    /// A future that completes at a deadline.
    type Sleep: Future<Output = ()>;

    /// A future that completes at `deadline`, never before.
    fn sleep_until(&self, deadline: Instant) -> Self::Sleep;
}

/// The clock of a combinator built without one: it has no timers, so such a combinator offers no
/// `timeout` (a compile error rather than a limit that never fires).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoClock;

/// What a combinator needs from its clock to await a deadline: real clocks have timers;
/// [`NoClock`] has none, and is never asked for one.
pub trait MaybeClock {
    /// The timer future.
    type Sleep: Future<Output = ()>;

    /// A timer for `deadline`, if this clock has timers.
    fn timer(&self, deadline: Instant) -> Option<Self::Sleep>;
}

impl<C: Clock> MaybeClock for C {
    type Sleep = C::Sleep;

    fn timer(&self, deadline: Instant) -> Option<C::Sleep> {
        Some(self.sleep_until(deadline))
    }
}

impl MaybeClock for NoClock {
    type Sleep = std::future::Pending<()>;

    fn timer(&self, _deadline: Instant) -> Option<Self::Sleep> {
        None
    }
}

/// The error of a combinator whose time limit passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the time limit passed")
    }
}

impl std::error::Error for TimedOut {}

impl From<TimedOut> for std::io::Error {
    fn from(err: TimedOut) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, err)
    }
}
