//! Tasks for the eddy async runtime: the handle you await, the error it can yield, and the
//! contract executors implement.
//!
//! A task is a future running on an executor. Spawning one returns a [`Task<T>`], which is
//! itself a future resolving to `Result<T, JoinError>`: the value, or a [`JoinError`] saying the
//! task panicked or was cancelled. As in asyncio, **dropping a `Task` cancels it** (its future is
//! dropped, so `Drop` cleanup runs); [`Task::detach`] lets it run on unobserved.
//!
//! Each task is one allocation (built with `async-task`) holding its state, a three-word header
//! (scheduler, spawn location, registry key) and the future: a parked task costs what smol's
//! does. Its [`TaskId`], name and cancellation state are boxed on first use. Panics inside a task
//! are caught and handed to whoever awaits it; a panic nobody awaits is reported once on stderr.
//!
//! Executors (`eddy-local`, `eddy-steal`, or your own) implement [`Spawn`] and [`Schedule`], and
//! [`enter`] themselves on the threads that run tasks; [`spawn`] and [`spawn_local`] reach the
//! executor entered on the calling thread. The [`executor`] module documents the contract.
//!
//! # Examples
//!
//! ```
//! use eddy_local::LocalExecutor;
//! use eddy_task::{Builder, JoinError};
//!
//! let ex = LocalExecutor::new();
//! futures_lite::future::block_on(ex.run(async {
//!     let answer = eddy_task::spawn(async { 42 });
//!     let failed = Builder::new().name("doomed").spawn(async { panic!("oops") });
//!     let pending = eddy_task::spawn(std::future::pending::<()>());
//!     pending.abort();
//!
//!     assert_eq!(answer.await.unwrap(), 42);
//!     let err: JoinError = failed.await.unwrap_err();
//!     assert_eq!(err.to_string(), "task 2 \"doomed\" panicked: oops".replace('2', &err.id().to_string()));
//!     assert!(pending.await.unwrap_err().is_cancelled());
//! }));
//! ```

mod builder;
mod error;
pub mod executor;
mod header;
mod id;
pub mod park;
mod raw;
mod task;
mod yield_now;

pub use builder::{spawn, spawn_local, spawn_on, Builder};
pub use error::JoinError;
pub use executor::{current_executor, enter, EnterGuard, Runnable, Schedule, ScheduleInfo, Scheduler, Spawn};
pub use header::TaskInfo;
pub use id::TaskId;
pub use park::{Park, ThreadPark};
pub use raw::{cancelled, current, Cancelled};
pub use task::{AbortHandle, Task};
pub use yield_now::{yield_now, YieldNow};
