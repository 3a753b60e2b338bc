//! Combinators and structured concurrency for eddy: asyncio's `gather`, `wait`,
//! `as_completed`, `shield` and `TaskGroup`, plus `race`, `race_ok` and `gather_limit`.
//!
//! Everything here is a plain future or stream built on `futures-lite`, so it works on any
//! executor. Combinators that take a time limit take a [`Clock`]; the `eddy` facade passes its
//! own timers. [`TaskGroup`] spawns its children on the eddy executor running on this thread.
//!
//! Each combinator polls only the futures that were woken (each gets its own waker), so waiting
//! for n futures costs O(n) polls in all.
//!
//! # Examples
//!
//! ```
//! use futures_lite::StreamExt;
//! # futures_lite::future::block_on(async {
//! // Results in input order, whatever order the futures finish in.
//! let squares = eddy_combinators::gather((1..=4).map(|i| async move { i * i })).await;
//! assert_eq!(squares, [1, 4, 9, 16]);
//!
//! // Results in completion order.
//! let mut finished = eddy_combinators::as_completed(['a', 'b'].map(|c| async move { c }));
//! assert!(finished.next().await.is_some());
//! # });
//! ```

mod clock;
mod gather;
mod group;
mod join;
mod set;
mod shield;
mod wait;

pub use clock::{Clock, MaybeClock, NoClock, TimedOut};
pub use gather::{
    as_completed, as_completed_with_clock, gather, gather_limit, race, race_ok, try_gather, AsCompleted,
    AsCompletedTimeout, Gather, GatherLimit, Race, RaceOk, TryGather, ZeroLimit,
};
pub use group::{GroupError, TaskGroup};
pub use shield::{shield, Shield};
pub use wait::{wait, wait_with_clock, Failure, ReturnWhen, Wait, WaitFuture};

#[doc(hidden)]
pub mod __private {
    pub use crate::join::MaybeDone;
}
