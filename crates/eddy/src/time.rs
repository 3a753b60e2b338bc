//! Time: sleeping, timers, intervals and timeouts (asyncio's `sleep`, `wait_for`, `timeout`).
//!
//! ```
//! use std::time::Duration;
//!
//! eddy::run(async {
//!     let mut ticks = eddy::time::interval(Duration::from_millis(5));
//!     for _ in 0..3 {
//!         ticks.tick().await;
//!     }
//!     let slow = eddy::sleep(Duration::from_secs(60));
//!     assert!(eddy::timeout(Duration::from_millis(10), slow).await.is_err());
//! });
//! ```

#[doc(inline)]
pub use eddy_io::{
    interval, interval_at, sleep, sleep_until, timeout, timeout_at, Elapsed, Interval, Timeout, Timer,
};

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// eddy's timers as the [`Clock`](eddy_combinators::Clock) the combinators take: what gives
/// `eddy::wait(..).timeout(d)` and `eddy::as_completed(..).timeout(d)` their deadline.
#[derive(Debug, Clone, Copy, Default)]
pub struct EddyClock;

impl eddy_combinators::Clock for EddyClock {
    type Sleep = ClockSleep;

    fn sleep_until(&self, deadline: Instant) -> ClockSleep {
        ClockSleep(Timer::at(deadline))
    }
}

/// The timer of [`EddyClock`].
#[derive(Debug)]
pub struct ClockSleep(Timer);

impl Future for ClockSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}
