//! [`Runtime`], its builder, and the [`run`] entry points (asyncio's `run` and `Runner`).

use std::fmt;
use std::future::Future;
use std::io;

use eddy_local::LocalExecutor;

/// Runs `future` to completion on a new runtime, then cancels whatever tasks remain and shuts
/// the runtime down (asyncio's `asyncio.run`).
///
/// The future runs on the calling thread and need not be `Send`. Until eddy's work-stealing
/// executor lands, `run` uses the single-threaded executor, exactly like [`run_local`].
///
/// ```
/// let answer = eddy::run(async { eddy::spawn(async { 42 }).await.unwrap() });
/// assert_eq!(answer, 42);
/// ```
pub fn run<F: Future>(future: F) -> F::Output {
    run_local(future)
}

/// Runs `future` to completion on a new single-threaded runtime, in which
/// [`spawn_local`](crate::spawn_local) works; then cancels the remaining tasks.
///
/// ```
/// let greeting = eddy::run_local(async {
///     let name = std::rc::Rc::new("eddy");
///     eddy::spawn_local(async move { format!("hello, {name}") }).await.unwrap()
/// });
/// assert_eq!(greeting, "hello, eddy");
/// ```
pub fn run_local<F: Future>(future: F) -> F::Output {
    Runtime::local().block_on(future)
}

/// An event loop you keep: `block_on` as many futures as you like, then drop it
/// (asyncio's `Runner`, or `loop.run_until_complete` on a loop you close).
///
/// Tasks spawned during one `block_on` keep their state across calls and run again during the
/// next one. Dropping the runtime cancels every task it still holds: their futures are dropped,
/// so their `Drop` cleanup runs, and awaiting their handles yields a cancelled
/// [`JoinError`](crate::JoinError).
///
/// ```
/// let rt = eddy::Runtime::builder().local().build()?;
/// let background = rt.block_on(async { eddy::spawn(async { 1 + 1 }) });
/// let value = rt.block_on(background).unwrap();
/// assert_eq!(value, 2);
/// drop(rt);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    executor: LocalExecutor,
}

impl Runtime {
    /// Returns a builder to configure a runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder { _private: () }
    }

    fn local() -> Runtime {
        Runtime { executor: LocalExecutor::new() }
    }

    /// Runs `future` on the calling thread until it completes, running the runtime's tasks
    /// meanwhile, and returns its output. May be called any number of times.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        futures_lite::future::block_on(self.executor.run(future))
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").field("executor", &self.executor).finish()
    }
}

/// Configures and builds a [`Runtime`]; made by [`Runtime::builder`].
#[derive(Debug)]
pub struct RuntimeBuilder {
    _private: (),
}

impl RuntimeBuilder {
    /// Uses the single-threaded executor: every task runs on the thread that calls
    /// [`Runtime::block_on`], and [`spawn_local`](crate::spawn_local) is available.
    pub fn local(self) -> RuntimeBuilder {
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    ///
    /// Fails if the operating system refuses a resource the runtime needs.
    pub fn build(self) -> io::Result<Runtime> {
        Ok(Runtime::local())
    }
}
