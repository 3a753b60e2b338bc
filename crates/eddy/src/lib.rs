//! eddy: asyncio's programming model on a fast Rust async runtime.
//!
//! Start an event loop with [`run`], create tasks with [`spawn`] and await them. A [`Task`] is a
//! future of `Result<T, JoinError>`; dropping it cancels the task (its `Drop` cleanup runs), and
//! [`Task::detach`] lets it run on in the background. Panics inside tasks are caught and handed
//! to whoever awaits them.
//!
//! Inside a runtime, the thread that runs tasks also waits for I/O and timers: [`sleep`],
//! [`timeout`], the sockets of [`net`] and [`Async`] for any file descriptor all work inside
//! [`run`].
//!
//! [`run`] starts the work-stealing runtime (one worker thread per core); [`run_local`] the
//! single-threaded one, where [`spawn_local`] accepts `!Send` futures. [`to_thread`] runs
//! blocking closures on a thread pool, and a [`Handle`] reaches a runtime from any thread.
//!
//! This crate is a facade over small crates that can also be used on their own: `eddy-task`
//! (tasks and the executor contract), `eddy-local` (the single-threaded executor), `eddy-steal`
//! (the work-stealing executor), `eddy-io` (reactor, timers, sockets) and `eddy-blocking` (the
//! pool behind `to_thread`).
//!
//! # Examples
//!
//! ```
//! let total = eddy::run(async {
//!     let tasks: Vec<_> = (1..=3).map(|i| eddy::spawn(async move { i * 10 })).collect();
//!     let mut total = 0;
//!     for task in tasks {
//!         total += task.await.expect("task failed");
//!     }
//!     total
//! });
//! assert_eq!(total, 60);
//! ```
//!
//! | asyncio | eddy |
//! |---|---|
//! | `asyncio.run(main())` | `eddy::run(main())` |
//! | `asyncio.create_task(coro)` | `eddy::spawn(fut)` |
//! | `await task` | `task.await?` |
//! | `task.cancel()` | `drop(task)`, `task.abort()`, `task.cancel().await` |
//! | `await asyncio.sleep(1)` | `eddy::sleep(Duration::from_secs(1)).await` |
//! | `asyncio.wait_for(aw, 5)` | `eddy::timeout(Duration::from_secs(5), fut).await` |
//! | `asyncio.open_connection(host, port)` | `eddy::net::TcpStream::connect("host:port").await` |
//! | `asyncio.start_server(cb, host, port)` | `eddy::net::TcpListener::bind("host:port").await` |
//! | `asyncio.sleep(0)` | `eddy::yield_now().await` |
//! | `asyncio.current_task()` | `eddy::task::current()` |
//! | `asyncio.Runner` | `eddy::Runtime` |
//! | `asyncio.Lock()`, `Event()`, `Semaphore(n)` … | `eddy::sync::Lock::new(())`, `Event::new()`, `Semaphore::new(n)` … |
//! | `asyncio.Queue(maxsize)` | `eddy::queue::Queue::new(maxsize)` |

mod combinators;
pub mod io;
mod runtime;
pub mod stream;
pub mod sync;
pub mod task;
pub mod time;

pub use combinators::{as_completed, wait};
#[doc(inline)]
pub use eddy_combinators::{
    gather, gather_limit, join, race, race_ok, shield, try_gather, try_join, Failure, GroupError, ReturnWhen,
    TaskGroup, TimedOut, ZeroLimit,
};
#[doc(inline)]
pub use eddy_io::net;
#[doc(inline)]
pub use eddy_io::{block_on, sleep, sleep_until, timeout, timeout_at, Async};
#[doc(inline)]
pub use eddy_sync::{channel, queue};
#[doc(inline)]
pub use eddy_task::{yield_now, JoinError, Task};
pub use runtime::{run, run_local, to_thread, Handle, Runtime, RuntimeBuilder, BLOCKING_THREADS_ENV};

use std::future::Future;

/// Spawns a task on the runtime running on this thread (asyncio's `create_task`).
///
/// The task starts at once in the background; await the returned [`Task`] for its output, or
/// [`detach`](Task::detach) it. Dropping the `Task` cancels it.
///
/// ```
/// eddy::run(async {
///     let task = eddy::spawn(async { "done" });
///     assert_eq!(task.await.unwrap(), "done");
/// });
/// ```
///
/// # Panics
///
/// Panics if called outside an eddy runtime, with a message that says how to fix it.
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    eddy_task::spawn(future)
}

/// Spawns a future that need not be `Send` on the single-threaded runtime running on this
/// thread; it is only ever polled on this thread.
///
/// ```
/// use std::rc::Rc;
///
/// eddy::run_local(async {
///     let shared = Rc::new(5);
///     let task = eddy::spawn_local({
///         let shared = shared.clone();
///         async move { *shared + 1 }
///     });
///     assert_eq!(task.await.unwrap(), 6);
/// });
/// ```
///
/// # Panics
///
/// Panics outside an eddy runtime, or inside a runtime whose tasks move between threads.
#[track_caller]
pub fn spawn_local<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    eddy_task::spawn_local(future)
}

/// The README's examples, compiled and run as doc tests so that they stay true.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The guide `docs/from-asyncio.md`, compiled and run as doc tests.
#[doc = include_str!("../../../docs/from-asyncio.md")]
#[cfg(doctest)]
pub struct FromAsyncioDoctests;
