//! Task creation and the future wrapper every task runs inside.
//!
//! [`spawn_raw`] builds the task's single allocation with async-task: the [`Header`] as its
//! metadata, a [`TaskFuture`] wrapping the user's future, and the executor's [`Scheduler`] as its
//! schedule function. The wrapper is where the task layer's guarantees live:
//!
//! - a panic in `poll` is caught and becomes the task's output, never unwinding into the
//!   executor; if nobody takes that output, it is reported once when it is dropped;
//! - an abort request is honoured at the next poll: the future is dropped and the task ends as
//!   cancelled;
//! - while the future is polled, [`current`] describes it;
//! - when the future is dropped (completion, cancellation, shutdown), the task leaves its
//!   executor's registry;
//! - a `!Send` future is never polled or dropped on another thread than the one that spawned it.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_task::WithInfo;

use crate::error::panic_message;
use crate::executor::{address, with_current_executor, Runnable, Spawn};
use crate::header::{Describe, Header, TaskInfo};
use crate::{JoinError, Task, TaskId};

/// A registry key that means "not registered (yet)".
const UNREGISTERED: usize = crate::executor::DEFERRED;

/// What a task's future produced: the value, or why there is none.
pub(crate) enum Outcome<T> {
    Ready(T),
    Aborted,
    Panicked(PanicSlot),
}

/// A caught panic waiting for an awaiter. Dropped untaken, it reports the panic on stderr.
pub(crate) struct PanicSlot {
    payload: Option<Box<dyn Any + Send>>,
    id: TaskId,
    name: Option<Arc<str>>,
    location: &'static Location<'static>,
}

impl PanicSlot {
    pub(crate) fn into_join_error(mut self) -> JoinError {
        let payload = self.payload.take().expect("panic payload is taken once");
        JoinError::panic(self.id, self.name.take(), payload)
    }
}

impl Drop for PanicSlot {
    fn drop(&mut self) {
        if let Some(payload) = &self.payload {
            // One write for the whole line, so that output of other threads (a panic message
            // printed meanwhile) cannot land in the middle of it.
            let line = format!(
                "eddy: {} (spawned at {}) panicked and no one awaited it: {}\n",
                Describe(self.id, self.name.as_deref()),
                self.location,
                panic_message(&**payload),
            );
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
        }
    }
}

thread_local! {
    /// The header of the task being polled on this thread, or null.
    static CURRENT_TASK: Cell<*const Header> = const { Cell::new(ptr::null()) };
    /// A small number naming this thread, for the `!Send` check.
    static THREAD: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    };
}

fn thread_token() -> usize {
    THREAD.with(|t| *t)
}

/// Returns the id, name and spawn location of the task running on this thread, or `None`
/// outside a task.
///
/// ```
/// # let ex = eddy_local::LocalExecutor::new();
/// # futures_lite::future::block_on(ex.run(async {
/// let task = eddy_task::Builder::new().name("worker").spawn_on(&ex, async {
///     eddy_task::current().unwrap().name().map(str::to_owned)
/// });
/// assert_eq!(task.await.unwrap().as_deref(), Some("worker"));
/// # }));
/// assert!(eddy_task::current().is_none());
/// ```
pub fn current() -> Option<TaskInfo> {
    let header = CURRENT_TASK.with(Cell::get);
    // SAFETY: `CURRENT_TASK` is non-null only while `TaskFuture::poll` of that header's task is on
    // this thread's stack (the `Polling` guard restores the previous value when the poll ends,
    // unwinding included), and the header lives at least as long as the future being polled.
    unsafe { header.as_ref() }.map(Header::info)
}

/// Completes once cancellation of the running task has been requested (asyncio's
/// `CancelledError`, delivered as a future you can await alongside your work).
///
/// A task asked to stop with [`Task::request_cancel`] or [`Task::cancel_with_grace`] keeps
/// running; `cancelled()` lets it notice and run asynchronous cleanup (flush a buffer, say
/// goodbye to a peer) before it returns. Outside a task it never completes.
///
/// ```
/// # let ex = eddy_local::LocalExecutor::new();
/// # futures_lite::future::block_on(ex.run(async {
/// let task = ex.spawn(async {
///     eddy_task::cancelled().await; // park until asked to stop...
///     "cleaned up"                  // ...then finish on our own terms
/// });
/// task.request_cancel();
/// assert_eq!(task.await.unwrap(), "cleaned up");
/// # }));
/// ```
pub fn cancelled() -> Cancelled {
    Cancelled { _private: () }
}

/// The future returned by [`cancelled`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Cancelled {
    _private: (),
}

impl Future for Cancelled {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let header = CURRENT_TASK.with(Cell::get);
        // SAFETY: as in `current`: non-null only while that task's poll is on this stack.
        match unsafe { header.as_ref() } {
            Some(header) if header.wait_cancel(cx.waker()) => Poll::Ready(()),
            _ => Poll::Pending,
        }
    }
}

/// Sets `CURRENT_TASK` for the duration of one poll.
struct Polling(*const Header);

impl Polling {
    fn enter(header: &Header) -> Polling {
        Polling(CURRENT_TASK.with(|c| c.replace(header)))
    }
}

impl Drop for Polling {
    fn drop(&mut self) {
        CURRENT_TASK.with(|c| c.set(self.0));
    }
}

/// The future stored in a task's allocation: the user's future plus the task layer's duties.
struct TaskFuture<'h, F> {
    header: &'h Header,
    /// For a `!Send` future, the thread that spawned it; 0 (no thread's token) for a `Send`
    /// future. A plain `usize` rather than an `Option`: 8 bytes less in every task.
    owner: usize,
    future: ManuallyDrop<F>,
}

impl<F: Future> Future for TaskFuture<'_, F> {
    type Output = Outcome<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `self`, and it is
        // dropped in place (in `Drop`) or leaked, never moved.
        let this = unsafe { self.get_unchecked_mut() };
        let header = this.header;
        if header.abort_requested() {
            return Poll::Ready(Outcome::Aborted);
        }
        if this.owner != 0 && this.owner != thread_token() {
            let payload = Box::new("a !Send task was polled on a thread other than the one that spawned it");
            return Poll::Ready(Outcome::Panicked(panic_slot(header, payload)));
        }
        // SAFETY: see above; `this.future` stays where it is for the rest of its life.
        let future = unsafe { Pin::new_unchecked(&mut *this.future) };
        let _polling = Polling::enter(header);
        match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Outcome::Ready(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Outcome::Panicked(panic_slot(header, payload))),
        }
    }
}

impl<F> Drop for TaskFuture<'_, F> {
    fn drop(&mut self) {
        if self.owner == 0 || self.owner == thread_token() {
            // SAFETY: `future` is dropped exactly once, here, and not used afterwards.
            unsafe { ManuallyDrop::drop(&mut self.future) };
        }
        // Otherwise a `!Send` future would be dropped on a foreign thread; it is leaked instead.
        let key = self.header.key.load(Ordering::Relaxed);
        if key != UNREGISTERED {
            let executor = self.header.executor;
            with_current_executor(|current| match current {
                Some(current) if address(current) == executor => current.unregister(key),
                // Not dropped under its executor: only possible once that executor has shut
                // down and forgotten its registry, so there is nothing to remove.
                _ => {}
            });
        }
    }
}

fn panic_slot(header: &Header, payload: Box<dyn Any + Send>) -> PanicSlot {
    PanicSlot { payload: Some(payload), id: header.id, name: header.name.clone(), location: header.location }
}

/// Creates a task running `future` on `executor` and schedules it.
///
/// If `local` is true the future need not be `Send`; it is then pinned to this thread.
///
/// # Safety
///
/// If `local` is false, `F` and `F::Output` must be `Send`. (If it is true, the caller must
/// only have checked that `executor.is_local()`, which the wrapper enforces by itself.)
pub(crate) unsafe fn spawn_raw<E, F>(
    executor: &E,
    name: Option<Arc<str>>,
    location: &'static Location<'static>,
    future: F,
    local: bool,
) -> Task<F::Output>
where
    E: Spawn + ?Sized,
    F: Future + 'static,
    F::Output: 'static,
{
    let header = Header {
        id: TaskId::next(),
        name,
        location,
        executor: address(executor),
        key: AtomicUsize::new(UNREGISTERED),
        abort: AtomicBool::new(false),
        cancel_requested: AtomicBool::new(false),
        cancel_wakers: Mutex::new(None),
    };
    let owner = if local { thread_token() } else { 0 };
    let scheduler = executor.scheduler();
    let schedule = WithInfo(move |runnable, info| scheduler.schedule(Runnable(runnable), info));
    // SAFETY: `spawn_unchecked` asks that
    // - a `!Send` future's runnable be used and dropped on its thread: the caller promises that
    //   `F` is `Send` unless `local`, and for a local task `TaskFuture` itself refuses to poll or
    //   drop the future anywhere but on `owner`;
    // - borrowed non-metadata data outlive the runnable: the future borrows only the header, which
    //   is the task's metadata and outlives the future by async-task's construction;
    // - the schedule function is `Send + Sync + 'static`, as `Scheduler` is.
    let (runnable, task) = unsafe {
        async_task::Builder::new().metadata(header).spawn_unchecked(
            move |header: &Header| TaskFuture { header, owner, future: ManuallyDrop::new(future) },
            schedule,
        )
    };
    let task = Task::new(task, &runnable);
    let runnable = Runnable(runnable);
    match executor.register(&runnable) {
        Some(key) => {
            // Relaxed: `schedule` hands the runnable over with the synchronization that makes
            // this store visible to whichever thread later drops the future.
            runnable.0.metadata().key.store(key, Ordering::Relaxed);
            runnable.schedule();
        }
        // The executor is shutting down: dropping the runnable cancels the task.
        None => drop(runnable),
    }
    task
}

/// A task that has already finished with `result`, with the id, name and location of `like`:
/// what [`Task::poll_outcome`] leaves in place of a handle whose result it took.
pub(crate) fn finished<T: 'static>(like: &Header, result: Result<T, JoinError>) -> Task<T> {
    let header = Header {
        id: like.id,
        name: like.name.clone(),
        location: like.location,
        executor: 0,
        key: AtomicUsize::new(UNREGISTERED),
        abort: AtomicBool::new(false),
        cancel_requested: AtomicBool::new(false),
        cancel_wakers: Mutex::new(None),
    };
    // The future completes at its first poll, which happens right here, so it is never
    // scheduled; a wake of the finished task does nothing.
    let schedule = |runnable: async_task::Runnable<Header>| drop(runnable);
    let outcome = match result {
        Ok(value) => Outcome::Ready(value),
        Err(err) => match err.try_into_panic() {
            Ok(payload) => Outcome::Panicked(PanicSlot {
                payload: Some(payload),
                id: like.id,
                name: like.name.clone(),
                location: like.location,
            }),
            Err(_cancelled) => Outcome::Aborted,
        },
    };
    // SAFETY: the future borrows nothing and is run at once on this thread, and the schedule
    // function captures nothing; `Outcome<T>` need not be `Send` because the future is polled
    // here, never elsewhere.
    let (runnable, task) = unsafe {
        async_task::Builder::new()
            .metadata(header)
            .spawn_unchecked(move |_: &Header| async move { outcome }, schedule)
    };
    let task = Task::new(task, &runnable);
    runnable.run();
    task
}
