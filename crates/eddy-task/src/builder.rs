//! [`Builder`] and the spawn functions that go through the current executor.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use crate::executor::{current_executor, Spawn};
use crate::raw::spawn_raw;
use crate::Task;

/// Configures a task before spawning it: today, its name.
///
/// ```
/// # let ex = eddy_local::LocalExecutor::new();
/// # futures_lite::future::block_on(ex.run(async {
/// let task = eddy_task::Builder::new().name("fetch").spawn_on(&ex, async { 1 });
/// assert_eq!(task.name(), Some("fetch"));
/// # let _ = task.await;
/// # }));
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    name: Option<Arc<str>>,
}

impl Builder {
    /// A builder with no name set.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task; the name shows in [`JoinError`](crate::JoinError) messages, panic reports,
    /// `Debug` output and [`current`](crate::current).
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Spawns a `Send` future on the executor running on this thread.
    ///
    /// # Panics
    ///
    /// Panics if no eddy executor is running on this thread.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match current_executor() {
            Some(executor) => self.spawn_on(&*executor, future),
            None => panic!(
                "`spawn` was called outside of an eddy runtime. Call it from code running inside \
                 `eddy::run(async {{ .. }})`, `eddy::run_local` or `Runtime::block_on`, or spawn on \
                 an executor directly with `Builder::spawn_on`."
            ),
        }
    }

    /// Spawns a future that need not be `Send` on the single-threaded executor running on this
    /// thread; it will only ever be polled on this thread.
    ///
    /// # Panics
    ///
    /// Panics if no eddy executor is running on this thread, or if the running one moves tasks
    /// between threads.
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        match current_executor() {
            Some(executor) => self.spawn_local_on(&*executor, future),
            None => panic!(
                "`spawn_local` was called outside of an eddy runtime. Call it from code running \
                 inside `eddy::run_local(async {{ .. }})` or a runtime built with \
                 `Runtime::builder().local()`."
            ),
        }
    }

    /// Spawns a `Send` future on `executor`.
    #[track_caller]
    pub fn spawn_on<E, F>(self, executor: &E, future: F) -> Task<F::Output>
    where
        E: Spawn + ?Sized,
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // SAFETY: `F` and `F::Output` are `Send`.
        unsafe { spawn_raw(executor, self.name, Location::caller(), future, false) }
    }

    /// Spawns a future that need not be `Send` on `executor`, pinned to this thread.
    ///
    /// # Panics
    ///
    /// Panics if `executor` is not local (see [`Spawn::is_local`]).
    #[track_caller]
    pub fn spawn_local_on<E, F>(self, executor: &E, future: F) -> Task<F::Output>
    where
        E: Spawn + ?Sized,
        F: Future + 'static,
        F::Output: 'static,
    {
        assert!(
            executor.is_local(),
            "`spawn_local` needs a single-threaded executor, but the current one runs tasks on \
             several threads. Use `eddy::run_local` or `Runtime::builder().local()`, or make the \
             future `Send` and use `spawn`."
        );
        // SAFETY: `local` is true, which needs no promise beyond `is_local`.
        unsafe { spawn_raw(executor, self.name, Location::caller(), future, true) }
    }
}

/// Spawns a `Send` future on the executor running on this thread.
///
/// # Panics
///
/// Panics if no eddy executor is running on this thread.
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Builder::new().spawn(future)
}

/// Spawns a `!Send` future on the single-threaded executor running on this thread.
///
/// # Panics
///
/// Panics if no eddy executor is running on this thread, or if it is multi-threaded.
#[track_caller]
pub fn spawn_local<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new().spawn_local(future)
}

/// Spawns a `Send` future on `executor`.
#[track_caller]
pub fn spawn_on<E, F>(executor: &E, future: F) -> Task<F::Output>
where
    E: Spawn + ?Sized,
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Builder::new().spawn_on(executor, future)
}
