//! Timers: [`sleep`], [`sleep_until`], [`Timer`], [`interval`], [`timeout`], [`timeout_at`]
//! (asyncio's `sleep`, `wait_for`, `timeout`).
//!
//! Timers are served by the reactor (see the `timers` module for the queue design). A timer
//! never fires early: a `Timer` completes only once `Instant::now()` has reached its deadline.
//! It registers with the reactor current where it is polled (a runtime's, on its threads) on its
//! first poll, again if it is polled under another reactor, and unregisters when it completes or
//! is dropped, so timers that are created and dropped without firing leave nothing behind.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_lite::Stream;

use crate::reactor::Reactor;
use crate::timers::FAR_FUTURE;

/// Completes after `duration` (asyncio's `await asyncio.sleep(seconds)`).
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// eddy_io::block_on(eddy_io::sleep(Duration::from_millis(10)));
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// ```
pub fn sleep(duration: Duration) -> Timer {
    Timer::after(duration)
}

/// Completes at `deadline`.
pub fn sleep_until(deadline: Instant) -> Timer {
    Timer::at(deadline)
}

/// A future that completes at a deadline, with the `Instant` it was due; reusable and resettable.
///
/// A `Timer` can be set again after it fired ([`set_after`](Timer::set_after),
/// [`set_at`](Timer::set_at)) and awaited again (through `&mut timer`, as it is `Unpin`).
///
/// ```
/// use std::time::Duration;
/// use eddy_io::Timer;
///
/// eddy_io::block_on(async {
///     let mut timer = Timer::after(Duration::from_millis(5));
///     (&mut timer).await;
///     timer.set_after(Duration::from_millis(5));
///     (&mut timer).await;
/// });
/// ```
#[derive(Debug)]
pub struct Timer {
    when: Option<Instant>,
    /// The registration with a reactor: which reactor, the timer's id there, the waker it wakes.
    registered: Option<Registration>,
}

#[derive(Debug)]
struct Registration {
    reactor: u64,
    id: u64,
    waker: Waker,
}

impl Timer {
    /// A timer that fires after `duration`.
    pub fn after(duration: Duration) -> Timer {
        Timer::at_opt(Instant::now().checked_add(duration))
    }

    /// A timer that fires at `deadline`.
    pub fn at(deadline: Instant) -> Timer {
        Timer::at_opt(Some(deadline))
    }

    /// A timer that never fires.
    pub fn never() -> Timer {
        Timer { when: None, registered: None }
    }

    fn at_opt(when: Option<Instant>) -> Timer {
        // A deadline too far out to represent, or decades away, is treated as never.
        let when = when.filter(|&w| w.saturating_duration_since(Instant::now()) < FAR_FUTURE);
        Timer { when, registered: None }
    }

    /// The instant the timer fires at, or `None` for a timer that never fires.
    pub fn deadline(&self) -> Option<Instant> {
        self.when
    }

    /// Sets the timer to fire after `duration` from now, whether or not it fired before.
    pub fn set_after(&mut self, duration: Duration) {
        self.set(Instant::now().checked_add(duration));
    }

    /// Sets the timer to fire at `deadline`, whether or not it fired before.
    pub fn set_at(&mut self, deadline: Instant) {
        self.set(Some(deadline));
    }

    fn set(&mut self, when: Option<Instant>) {
        self.unregister();
        *self = Timer::at_opt(when);
    }

    fn unregister(&mut self) {
        if self.registered.is_some() {
            Reactor::with_current(|current| self.unregister_under(current));
        }
    }

    /// Unregisters the timer, `current` being the reactor current on this thread.
    fn unregister_under(&mut self, current: &Reactor) {
        if let (Some(registration), Some(when)) = (self.registered.take(), self.when) {
            if current.id == registration.reactor {
                current.timers.remove(when, registration.id);
            } else if let Some(reactor) = Reactor::by_id(registration.reactor) {
                // Dropped or polled under another reactor than its own (rare): find its own. One
                // that shut down holds no timers any more.
                if !reactor.is_closed() {
                    reactor.timers.remove(when, registration.id);
                }
            }
        }
    }

    pub(crate) fn poll_fire(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let Some(when) = self.when else { return Poll::Pending };
        if Instant::now() >= when {
            self.unregister();
            return Poll::Ready(when);
        }
        Reactor::with_current(|reactor| match &self.registered {
            Some(r) if r.reactor == reactor.id && r.waker.will_wake(cx.waker()) => {}
            _ => {
                self.unregister_under(reactor);
                let id = reactor.insert_timer(when, cx.waker());
                self.registered = Some(Registration { reactor: reactor.id, id, waker: cx.waker().clone() });
            }
        });
        Poll::Pending
    }
}

impl Future for Timer {
    type Output = Instant;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        self.get_mut().poll_fire(cx)
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// Ticks every `period`; the first tick completes at once.
///
/// Ticks are due at `start + k * period`, so the cadence does not drift. If the consumer falls
/// behind by more than a period, the missed ticks are skipped and the next one is the first
/// multiple of `period` after now.
///
/// ```
/// use std::time::Duration;
/// use futures_lite::StreamExt;
///
/// eddy_io::block_on(async {
///     let mut ticks = eddy_io::interval(Duration::from_millis(2));
///     ticks.tick().await;
///     ticks.tick().await;
///     let third = ticks.next().await; // Interval is also a Stream
///     assert!(third.is_some());
/// });
/// ```
///
/// # Panics
///
/// Panics if `period` is zero.
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Like [`interval`], with the first tick at `start`.
///
/// # Panics
///
/// Panics if `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "`interval` needs a period greater than zero");
    Interval { timer: Timer::at(start), period, next: start }
}

/// A stream of ticks every period; made by [`interval`].
#[derive(Debug)]
pub struct Interval {
    timer: Timer,
    period: Duration,
    next: Instant,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was due.
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        let due = match self.timer.poll_fire(cx) {
            Poll::Ready(due) => due,
            Poll::Pending => return Poll::Pending,
        };
        let now = Instant::now();
        let mut next = self.next + self.period;
        if next <= now {
            // Skip the ticks that were missed, keeping the phase.
            let behind = now.duration_since(self.next).as_nanos() / self.period.as_nanos();
            let skip = u32::try_from(behind).unwrap_or(u32::MAX);
            next = self.next + self.period * skip.saturating_add(1);
        }
        self.next = next;
        self.timer.set_at(next);
        Poll::Ready(due)
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the cadence: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.next = Instant::now() + self.period;
        self.timer.set_at(self.next);
    }
}

impl Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

/// Runs `future` for at most `duration` (asyncio's `wait_for`).
///
/// On expiry the future is dropped, so a [`Task`](https://docs.rs/eddy-task) inside it is
/// cancelled, and `Err(Elapsed)` is returned.
///
/// ```
/// use std::time::Duration;
///
/// eddy_io::block_on(async {
///     let slow = eddy_io::sleep(Duration::from_secs(60));
///     assert!(eddy_io::timeout(Duration::from_millis(5), slow).await.is_err());
///     let fast = async { 7 };
///     assert_eq!(eddy_io::timeout(Duration::from_secs(1), fast).await, Ok(7));
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout { future: Some(future), timer: Timer::after(duration) }
}

/// Runs `future` until `deadline` at the latest; see [`timeout`].
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout { future: Some(future), timer: Timer::at(deadline) }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: Option<F>,
        timer: Timer,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            panic!("`Timeout` polled after it completed");
        };
        if let Poll::Ready(output) = future.poll(cx) {
            this.future.set(None);
            return Poll::Ready(Ok(output));
        }
        match this.timer.poll_fire(cx) {
            Poll::Ready(_) => {
                // Drop the inner future now, as asyncio's `wait_for` cancels it on expiry.
                this.future.set(None);
                Poll::Ready(Err(Elapsed(())))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The error of a [`timeout`] that expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(err: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, err)
    }
}

/// The number of timers registered with the reactor current on this thread; for tests and
/// diagnostics.
#[doc(hidden)]
pub fn registered_timers() -> usize {
    Reactor::with_current(|reactor| reactor.timers.len())
}
