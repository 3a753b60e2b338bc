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
