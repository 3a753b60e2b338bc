//! [`Runtime`], its builder, [`Handle`], and the entry points [`run`], [`run_local`] and
//! [`to_thread`] (asyncio's `run`, `Runner`, `to_thread` and `run_coroutine_threadsafe`).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::{Arc, OnceLock};
use std::task::Waker;
use std::time::Duration;

use eddy_blocking::Pool;
use eddy_local::{LocalExecutor, LocalHandle};
use eddy_task::{Park, Task};

/// The environment variable that sets the blocking pool's thread limit when the builder does not.
pub const BLOCKING_THREADS_ENV: &str = "EDDY_BLOCKING_THREADS";

/// Runs `future` to completion on a new runtime, then cancels whatever tasks remain and shuts
/// the runtime down (asyncio's `asyncio.run`).
///
/// The runtime is the work-stealing one, with one worker thread per core. `future` itself runs
/// on the calling thread and need not be `Send`; the tasks it spawns run on the workers.
///
/// ```
/// let answer = eddy::run(async { eddy::spawn(async { 42 }).await.unwrap() });
/// assert_eq!(answer, 42);
/// ```
///
/// # Panics
///
/// Panics if the runtime cannot be built: the OS refuses to start threads, or
/// `EDDY_BLOCKING_THREADS` is set to something that is not a positive number. Build it with
/// [`Runtime::builder`] to handle those errors.
pub fn run<F: Future>(future: F) -> F::Output {
    let rt =
        Runtime::builder().build().unwrap_or_else(|e| panic!("eddy::run: cannot start the runtime: {e}"));
    rt.block_on(future)
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
///
/// # Panics
///
/// Panics if `EDDY_BLOCKING_THREADS` is set to something that is not a positive number.
pub fn run_local<F: Future>(future: F) -> F::Output {
    let rt = Runtime::builder().local().build().unwrap_or_else(|e| panic!("eddy::run_local: {e}"));
    rt.block_on(future)
}

/// Runs a blocking or CPU-heavy closure on the runtime's thread pool, and returns a task for
/// its result (asyncio's `to_thread`). Other tasks keep running meanwhile.
///
/// The pool grows on demand up to its limit (512 threads unless configured) and threads idle
/// for 10 s exit. A panic in `f` becomes a [`JoinError`](crate::JoinError). Dropping the task
/// before `f` starts cancels it; once started, `f` runs to the end.
///
/// ```
/// eddy::run(async {
///     let digest = eddy::to_thread(|| (0..1_000_000u64).sum::<u64>()).await.unwrap();
///     assert_eq!(digest, 499_999_500_000);
/// });
/// ```
///
/// # Panics
///
/// Panics if called outside an eddy runtime.
#[track_caller]
pub fn to_thread<F, T>(f: F) -> Task<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Handle::try_current() {
        Some(handle) => handle.to_thread(f),
        None => panic!(
            "`to_thread` was called outside of an eddy runtime. Call it from code running inside \
             `eddy::run(async {{ .. }})` or `Runtime::block_on`, or through a `Handle`."
        ),
    }
}

/// An event loop you keep: `block_on` as many futures as you like, then drop it
/// (asyncio's `Runner`, or `loop.run_until_complete` on a loop you close).
///
/// Tasks spawned during one `block_on` keep their state across calls and run again during the
/// next one (and, on the work-stealing runtime, in between). Dropping the runtime cancels every
/// task it still holds (their futures are dropped, so their `Drop` cleanup runs, and awaiting
/// their handles yields a cancelled [`JoinError`](crate::JoinError)), joins its worker threads,
/// and stops its blocking pool (closures still running are detached and reported).
///
/// The runtime has an I/O reactor of its own, driven by its workers (on the single-threaded
/// runtime, by the thread in `block_on`), so runtimes in one process never wait on each other's
/// events. Sockets made in a runtime can be used elsewhere while it is driven; once it is
/// dropped, their waits fail with an error that says so. Timers move to wherever they are
/// polled next.
///
/// ```
/// let rt = eddy::Runtime::builder().work_stealing(2).build()?;
/// let background = rt.block_on(async { eddy::spawn(async { 1 + 1 }) });
/// let value = rt.block_on(background).unwrap();
/// assert_eq!(value, 2);
/// drop(rt);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    /// `None` only while the runtime is being dropped.
    flavor: Option<Flavor>,
    handle: Handle,
    /// The runtime's own reactor: entered on its threads and in `block_on`, driven by its
    /// workers (or by the caller of `block_on`, single-threaded).
    io: eddy_io::Driver,
    /// The parker of the thread that calls `block_on` on the single-threaded runtime, kept
    /// between calls.
    park: RefCell<Option<IoPark>>,
}

enum Flavor {
    Local(LocalExecutor),
    Steal(eddy_steal::Executor),
}

impl Runtime {
    /// Returns a builder to configure a runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder { workers: None, local: false, blocking_threads: None, thread_name: None }
    }

    /// A handle to this runtime, usable from any thread.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs `future` on the calling thread until it completes, running the runtime's tasks
    /// meanwhile, and returns its output. May be called any number of times.
    ///
    /// On the single-threaded runtime the calling thread waits in the I/O driver, so sockets,
    /// timers and tasks all make progress on this one thread. On the work-stealing runtime the
    /// workers drive I/O and timers (an idle worker waits in the driver, busy ones take a
    /// non-blocking turn every 61 tasks) and the calling thread only sleeps until its future is
    /// woken.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _context = HandleGuard::enter(self.handle.clone());
        let _io = self.io.enter();
        match self.flavor.as_ref().expect("the executor lives until the runtime is dropped") {
            Flavor::Local(executor) => match self.park.try_borrow_mut() {
                Ok(mut park) => {
                    block_on_local(executor, park.get_or_insert_with(|| IoPark(self.io.parker())), future)
                }
                // A `block_on` nested inside a task of this runtime gets its own parker.
                Err(_) => block_on_local(executor, &mut IoPark(self.io.parker()), future),
            },
            // Not in the driver: a thread waiting there is woken by every readiness event and
            // hands each woken task to a worker through the injector, where a worker in the
            // driver queues it locally (tcp_echo, 2 workers: 1.6x tokio with the caller driving,
            // 1.0x without).
            Flavor::Steal(executor) => executor.run(future),
        }
    }
}

fn block_on_local<F: Future>(executor: &LocalExecutor, park: &mut IoPark, future: F) -> F::Output {
    let park = RelinquishOnExit(park);
    executor.block_on(&mut *park.0, future)
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Tasks first (their cleanup may still use `to_thread`), then the blocking pool, then
        // the reactor: its I/O objects that outlive the runtime fail their waits from now on,
        // its timers move to the reactor where they are polled next.
        let context = HandleGuard::enter(self.handle.clone());
        let io = self.io.enter();
        drop(self.flavor.take());
        self.handle.inner.blocking.shutdown();
        drop(io);
        drop(context);
        self.park.get_mut().take();
        self.io.shutdown();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Runtime");
        match &self.flavor {
            Some(Flavor::Local(executor)) => s.field("executor", executor),
            Some(Flavor::Steal(executor)) => s.field("executor", executor),
            None => s.field("executor", &"dropped"),
        };
        s.field("blocking", &self.handle.inner.blocking).finish()
    }
}

/// Configures and builds a [`Runtime`]; made by [`Runtime::builder`].
#[derive(Debug)]
pub struct RuntimeBuilder {
    workers: Option<usize>,
    local: bool,
    blocking_threads: Option<usize>,
    thread_name: Option<String>,
}

impl RuntimeBuilder {
    /// Uses the work-stealing executor with `workers` threads (the default, with one per core).
    pub fn work_stealing(mut self, workers: usize) -> RuntimeBuilder {
        self.local = false;
        self.workers = Some(workers.max(1));
        self
    }

    /// Uses the single-threaded executor: every task runs on the thread that calls
    /// [`Runtime::block_on`], and [`spawn_local`](crate::spawn_local) is available.
    pub fn local(mut self) -> RuntimeBuilder {
        self.local = true;
        self
    }

    /// Caps the blocking pool of [`to_thread`] at `threads` (default 512, or the value of the
    /// `EDDY_BLOCKING_THREADS` environment variable; this setting wins over both).
    pub fn blocking_threads(mut self, threads: usize) -> RuntimeBuilder {
        self.blocking_threads = Some(threads.max(1));
        self
    }

    /// Names the runtime's threads: workers `{name}-{index}`, blocking threads
    /// `{name}-blocking` (default `eddy-worker` and `eddy-blocking`).
    pub fn thread_name(mut self, name: impl Into<String>) -> RuntimeBuilder {
        self.thread_name = Some(name.into());
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    ///
    /// Fails if the OS refuses to start the worker threads, or if `EDDY_BLOCKING_THREADS` is
    /// set (and not overridden by [`blocking_threads`](Self::blocking_threads)) to something
    /// that is not a positive number.
    pub fn build(self) -> io::Result<Runtime> {
        let blocking_threads = match self.blocking_threads {
            Some(n) => n,
            None => blocking_threads_from_env()?,
        };
        let mut pool = Pool::builder().max_threads(blocking_threads);
        if let Some(name) = &self.thread_name {
            pool = pool.thread_name(format!("{name}-blocking"));
        }
        let blocking = pool.build();
        let handle = Handle { inner: Arc::new(HandleInner { spawner: OnceLock::new(), blocking }) };
        let io = eddy_io::Driver::new()?;
        if self.local {
            let executor = LocalExecutor::new();
            let _ = handle.inner.spawner.set(Spawner::Local(executor.handle()));
            return Ok(Runtime {
                flavor: Some(Flavor::Local(executor)),
                handle,
                io,
                park: RefCell::new(None),
            });
        }
        let steal = eddy_steal::Executor::builder();
        let steal = match self.workers {
            Some(workers) => steal.workers(workers),
            None => steal,
        };
        let steal = match &self.thread_name {
            Some(name) => steal.thread_name(name.clone()),
            None => steal,
        };
        // Workers make the runtime's handle and reactor current as they start, and park in the
        // reactor. The handle's spawner is filled in right after `build`, before any task
        // exists that could spawn through it.
        let worker_handle = handle.clone();
        let (park_io, worker_io) = (io.clone(), io.clone());
        let executor = steal
            .park_with(move || Box::new(IoPark(park_io.parker())))
            .on_thread_start(move || {
                CURRENT.with(|c| *c.borrow_mut() = Some(worker_handle.clone()));
                WORKER_IO.with(|c| *c.borrow_mut() = Some(worker_io.enter()));
            })
            .on_thread_stop(|| {
                drop(WORKER_IO.with(|c| c.borrow_mut().take()));
                drop(CURRENT.with(|c| c.borrow_mut().take()));
            })
            .build()?;
        let _ = handle.inner.spawner.set(Spawner::Steal(executor.handle()));
        Ok(Runtime { flavor: Some(Flavor::Steal(executor)), handle, io, park: RefCell::new(None) })
    }
}

/// Reads `EDDY_BLOCKING_THREADS`, defaulting to 512.
fn blocking_threads_from_env() -> io::Result<usize> {
    match std::env::var(BLOCKING_THREADS_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(eddy_blocking::DEFAULT_MAX_THREADS),
        Ok(value) => match value.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{BLOCKING_THREADS_ENV}={value:?} is not a positive number of threads"),
            )),
        },
        Err(e) => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{BLOCKING_THREADS_ENV}: {e}"))),
    }
}

/// A handle to a runtime, usable from any thread (asyncio's loop reference, for
/// `run_coroutine_threadsafe` and `call_soon_threadsafe`).
///
/// ```
/// let rt = eddy::Runtime::builder().build()?;
/// let handle = rt.handle().clone();
/// let result = std::thread::spawn(move || {
///     // A plain thread submits work to the running loop and waits for it.
///     let task = handle.spawn(async { 6 * 7 });
///     eddy::block_on(task).unwrap()
/// });
/// rt.block_on(async { eddy::sleep(std::time::Duration::from_millis(1)).await });
/// assert_eq!(result.join().unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    /// Set once, as the runtime is built.
    spawner: OnceLock<Spawner>,
    blocking: Pool,
}

enum Spawner {
    Local(LocalHandle),
    Steal(eddy_steal::Handle),
}

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    /// A worker thread's entry into its runtime's reactor, for the thread's life.
    static WORKER_IO: RefCell<Option<eddy_io::EnterGuard>> = const { RefCell::new(None) };
}

/// Makes a handle current on this thread for a scope.
struct HandleGuard(Option<Handle>);

impl HandleGuard {
    fn enter(handle: Handle) -> HandleGuard {
        HandleGuard(CURRENT.with(|c| c.borrow_mut().replace(handle)))
    }
}

impl Drop for HandleGuard {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _left = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), previous));
    }
}

impl Handle {
    fn spawner(&self) -> &Spawner {
        self.inner.spawner.get().expect("the spawner is set when the runtime is built")
    }

    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    ///
    /// Panics outside an eddy runtime; see [`try_current`](Self::try_current).
    #[track_caller]
    pub fn current() -> Handle {
        Handle::try_current().unwrap_or_else(|| {
            panic!(
                "`Handle::current()` was called outside of an eddy runtime. Call it from code running \
                 inside `eddy::run` or `Runtime::block_on`, or keep the handle from `Runtime::handle()`."
            )
        })
    }

    /// The handle of the runtime running on this thread, or `None`.
    pub fn try_current() -> Option<Handle> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// Spawns a task on the runtime from any thread (asyncio's `run_coroutine_threadsafe`).
    ///
    /// On a runtime that is shutting down or gone, the task comes back already cancelled.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.spawner() {
            Spawner::Local(handle) => eddy_task::spawn_on(handle, future),
            Spawner::Steal(handle) => eddy_task::spawn_on(handle, future),
        }
    }

    /// Runs a blocking closure on this runtime's pool; see [`to_thread`].
    #[track_caller]
    pub fn to_thread<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.inner.blocking.spawn(f)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.inner.spawner.get() {
            Some(Spawner::Local(_)) => "local",
            Some(Spawner::Steal(_)) => "work-stealing",
            None => "starting",
        };
        f.debug_struct("Handle").field("executor", &kind).finish_non_exhaustive()
    }
}

/// The park hook of eddy's executors, implemented with the I/O driver: an idle executor thread
/// waits for I/O and timers in its runtime's reactor.
struct IoPark(eddy_io::Parker);

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

/// When a `block_on` ends (returning or unwinding), passes on the I/O driver role if this
/// thread was handed it while parked: the thread will not park again until its next `block_on`.
struct RelinquishOnExit<'a>(&'a mut IoPark);

impl Drop for RelinquishOnExit<'_> {
    fn drop(&mut self) {
        self.0 .0.relinquish();
    }
}
