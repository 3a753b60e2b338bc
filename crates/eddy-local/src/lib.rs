//! The single-threaded executor of the eddy async runtime.
//!
//! [`LocalExecutor`] runs tasks on the one thread that owns it, so its tasks may hold `Rc`,
//! `RefCell` and other `!Send` state. It is driven by awaiting [`LocalExecutor::run`] under any
//! `block_on` (eddy's own, `futures_lite::future::block_on`, or another runtime's), or step by
//! step with [`LocalExecutor::try_tick`]. Dropping it cancels every task it still holds; their
//! futures are dropped, so their `Drop` cleanup runs.
//!
//! # Design
//!
//! Ready tasks wait in a plain `VecDeque` behind a `RefCell`: no lock and no atomic operation on
//! the spawn → schedule → poll path beyond async-task's own reference counting. A task woken
//! on the executor's thread while the executor is running goes straight into that queue. Only
//! a wake from another thread (or from this thread while the executor is not running) takes the
//! slow path: a lock-free queue, then a wake of whoever drives the executor.
//!
//! Tasks run in FIFO order, except that the task a running task spawns or wakes runs next (a
//! LIFO slot, at most three in a row while others wait), while the data the two share is hot in
//! cache. A task that keeps waking itself goes to the back of the queue each time, and `run`
//! yields to its `block_on` after a fixed budget of polls, so no task can starve the others,
//! the main future, or the `block_on` around it.
//!
//! # Examples
//!
//! ```
//! use std::cell::RefCell;
//! use std::rc::Rc;
//! use eddy_local::LocalExecutor;
//!
//! let ex = LocalExecutor::new();
//! let log = Rc::new(RefCell::new(Vec::new())); // not Send: fine on a local executor
//!
//! let tasks: Vec<_> = (0..3)
//!     .map(|i| {
//!         let log = log.clone();
//!         ex.spawn(async move { log.borrow_mut().push(i) })
//!     })
//!     .collect();
//!
//! futures_lite::future::block_on(ex.run(async {
//!     for task in tasks {
//!         task.await.unwrap();
//!     }
//! }));
//! assert_eq!(*log.borrow(), [0, 1, 2]);
//! ```

mod executor;

pub use executor::{LocalExecutor, LocalHandle};
