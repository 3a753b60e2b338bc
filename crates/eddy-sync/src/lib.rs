//! asyncio's synchronization primitives and queues, for any Rust executor.
//!
//! - [`Lock`] (FIFO-fair, guard-based), [`Event`], [`Condition`], [`Semaphore`],
//!   [`BoundedSemaphore`] and [`Barrier`], with asyncio's semantics;
//! - [`queue`]: [`Queue`](queue::Queue), [`PriorityQueue`](queue::PriorityQueue) and
//!   [`LifoQueue`](queue::LifoQueue) with `put`/`get`, `put_nowait`/`get_nowait`,
//!   `task_done`/`join` and `shutdown`;
//! - [`channel`]: Rust-style `bounded`, `unbounded` and `oneshot` channels.
//!
//! Nothing here depends on a runtime: the types are `Send` and `Sync` (for `Send` contents),
//! work across threads, and wake tasks through their wakers, whichever executor polls them.
//! Waiting is built on `event-listener` (and the channels are `async-channel`'s); this crate
//! adds asyncio's shapes and rules on top, such as FIFO hand-off for `Lock` and `Semaphore`.
//!
//! Every wait is cancellation-safe: dropping a `lock`, `acquire`, `wait`, `put` or `get` future
//! at any point takes nothing and loses nothing (a dropped `put` keeps its item out of the
//! queue; it is dropped with the future).
//!
//! # Examples
//!
//! ```
//! use eddy_sync::{queue::Queue, Lock};
//! use std::sync::Arc;
//!
//! # futures_lite::future::block_on(async {
//! let seen = Arc::new(Lock::new(Vec::new()));
//! let queue = Queue::new(10);
//! for word in ["to", "be"] {
//!     queue.put(word).await.unwrap();
//! }
//! while let Ok(word) = queue.get_nowait() {
//!     seen.lock().await.push(word);
//!     queue.task_done().unwrap();
//! }
//! queue.join().await; // returns: every item was marked done
//! assert_eq!(*seen.lock().await, ["to", "be"]);
//! # });
//! ```

mod barrier;
pub mod channel;
mod condition;
mod event;
mod lock;
mod oneshot;
mod permits;
pub mod queue;
mod semaphore;
mod shim;

/// Locks a mutex, ignoring poisoning. Every mutex here guards plain counts or collections that
/// are consistent between statements; the only foreign code run while one is held is a waker's
/// `wake` (in event-listener's notify) or `Ord::cmp` (in `PriorityQueue`), and a panic there
/// leaves nothing half-updated.
fn lock<T: ?Sized>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub use barrier::{Barrier, BarrierWait, BrokenBarrierError};
pub use condition::Condition;
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use semaphore::{BoundedSemaphore, ReleaseError, Semaphore, SemaphoreGuard, SemaphoreGuardArc};
