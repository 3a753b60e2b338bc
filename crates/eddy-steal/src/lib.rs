//! The work-stealing executor of the eddy async runtime.
//!
//! [`Executor`] runs `Send` futures on a pool of worker threads (one per core by default). Each
//! worker has a bounded local queue and a LIFO slot; a shared injector takes tasks woken or
//! spawned from outside the workers; an idle worker steals half of a random victim's queue. No
//! mutex is taken to spawn, schedule or complete a task: the queues are `concurrent-queue`s and
//! the registry of waiting tasks (needed to cancel them at shutdown; a task joins it the first
//! time it returns `Pending`) is sharded.
//!
//! Idle workers wait through a park hook (`eddy_task::Park`): on its own, this crate sleeps the
//! thread; the `eddy` facade plugs in its I/O driver, so the idle worker that waits is also the
//! one that waits for I/O and timers.
//!
//! On Linux, a worker that finds another busy worker on its CPU moves to a CPU of its affinity
//! mask that no busy worker holds, keeping that mask (a worker pinned to one CPU stays): the
//! kernel can queue a woken worker behind the one that woke it while another CPU idles. Workers
//! also keep off the CPU of a thread that is spawning a burst of tasks from outside while they
//! keep up with it: that thread bounds the burst.
//!
//! The `worker` module documents the queueing rules and the sleep/wake protocol, the `placement`
//! module the moves; the executor module documents shutdown.
//!
//! # Examples
//!
//! ```
//! use eddy_steal::Executor;
//!
//! let ex = Executor::builder().workers(2).build()?;
//! let handle = ex.handle();
//! // Spawn from another thread, then wait for the result here.
//! let task = std::thread::spawn(move || handle.spawn(async { 6 * 7 })).join().unwrap();
//! assert_eq!(ex.run(task).unwrap(), 42);
//! # std::io::Result::Ok(())
//! ```

mod executor;
mod idle;
mod injector;
mod placement;
mod registry;
mod sync;
mod worker;

pub use executor::{Builder, Executor};
pub use worker::Handle;
