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
