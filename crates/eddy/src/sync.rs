//! Synchronization primitives for tasks, with asyncio's semantics: [`Lock`], [`Event`],
//! [`Condition`], [`Semaphore`], [`BoundedSemaphore`] and [`Barrier`].
//!
//! They work across threads and under either runtime; share them with an `Arc`. Queues are in
//! [`eddy::queue`](crate::queue), channels in [`eddy::channel`](crate::channel).
//!
//! ```
//! use eddy::sync::{Lock, Semaphore};
//! use std::sync::Arc;
//!
//! eddy::run(async {
//!     let total = Arc::new(Lock::new(0));
//!     let limit = Arc::new(Semaphore::new(2)); // at most two at a time
//!     let tasks: Vec<_> = (0..10)
//!         .map(|_| {
//!             let (total, limit) = (total.clone(), limit.clone());
//!             eddy::spawn(async move {
//!                 let _permit = limit.acquire().await;
//!                 *total.lock().await += 1;
//!             })
//!         })
//!         .collect();
//!     eddy::gather(tasks).await;
//!     assert_eq!(*total.lock().await, 10);
//! });
//! ```

#[doc(inline)]
pub use eddy_sync::{
    Barrier, BarrierWait, BoundedSemaphore, BrokenBarrierError, Condition, Event, Lock, LockGuard,
    ReleaseError, Semaphore, SemaphoreGuard, SemaphoreGuardArc,
};
