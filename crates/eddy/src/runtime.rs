//! [`Runtime`], its builder, and the [`run`] entry points (asyncio's `run` and `Runner`).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::task::Waker;
use std::time::Duration;

use eddy_local::LocalExecutor;
use eddy_task::Park;

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
    /// The parker of the thread that calls `block_on`, kept between calls.
    park: RefCell<Option<IoPark>>,
}

impl Runtime {
    /// Returns a builder to configure a runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder { _private: () }
    }

    fn local() -> Runtime {
        Runtime { executor: LocalExecutor::new(), park: RefCell::new(None) }
    }

    /// Runs `future` on the calling thread until it completes, running the runtime's tasks
    /// meanwhile, and returns its output. May be called any number of times.
    ///
    /// While no task is ready, the calling thread waits in the I/O driver, so sockets, timers
    /// and tasks all make progress on this one thread.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self.park.try_borrow_mut() {
            Ok(mut park) => {
                let park = park.get_or_insert_with(IoPark::new);
                self.executor.block_on(park, future)
            }
            // A `block_on` nested inside a task of this runtime gets its own parker.
            Err(_) => self.executor.block_on(&mut IoPark::new(), future),
        }
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

/// The park hook of eddy's executors, implemented with the I/O driver: an idle executor thread
/// waits for I/O and timers in the reactor.
struct IoPark(eddy_io::Parker);

impl IoPark {
    fn new() -> IoPark {
        IoPark(eddy_io::Parker::new())
    }
}

impl Park for IoPark {
    fn park(&mut self, timeout: Option<Duration>) {
        // The OS fails a wait for I/O only if the poller itself is broken, which no caller can
        // recover from.
        self.0.park_timeout(timeout).unwrap_or_else(|e| panic!("eddy: waiting for I/O failed: {e}"));
    }

    fn waker(&self) -> Waker {
        self.0.waker()
    }
}
