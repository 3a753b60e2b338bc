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
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use async_task::WithInfo;

use crate::error::panic_message;
use crate::executor::{
    hand_over, task_scheduler, with_current_executor, Runnable, Schedule, ScheduleInfo, Scheduler, Spawn,
};
use crate::header::{Describe, Header, TaskInfo, UNREGISTERED};
use crate::task::waker_vtable;
use crate::{JoinError, Task, TaskId};

/// What a task's future produced: the value, or why there is none.
pub(crate) enum Outcome<T> {
    Ready(T),
    Aborted,
    /// Boxed: an `Outcome` is the output slot of every task's allocation, which a panic slot
    /// inline would make 56 bytes wide (24 boxed) for all tasks, to serve the few that panic.
    Panicked(Box<PanicSlot>),
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
    /// A small number naming this thread, for the `!Send` check (0 names no thread).
    static THREAD: u32 = {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let token = NEXT.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1));
        token.expect("more than four billion threads have run eddy tasks")
    };
}

fn thread_token() -> u32 {
    THREAD.with(|t| *t)
}

/// The header of the task being run or dropped on this thread.
///
/// # Safety
///
/// Only inside a task's `TaskFuture::poll` or `Drop`: those run only inside [`Runnable::run`]
/// or [`Runnable`]'s drop, which set `CURRENT_TASK` to that task's header for their duration.
unsafe fn current_header<'a>() -> &'a Header {
    let header = CURRENT_TASK.with(Cell::get);
    if header.is_null() {
        no_current_task();
    }
    // SAFETY: per the contract above, `header` is the header of the task whose future is on
    // this thread's stack, and a header outlives its future.
    unsafe { &*header }
}

/// A task's future ran outside `Runnable::run` or drop: a bug in this crate, which it does not
/// let turn into a read through a null pointer.
#[cold]
fn no_current_task() -> ! {
    eprintln!("eddy: a task's future was polled or dropped outside Runnable::run or drop");
    std::process::abort()
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

/// Sets `CURRENT_TASK` while a task's runnable runs or is dropped; restores the previous value
/// (tasks may run inside tasks, under a nested `block_on`).
pub(crate) struct CurrentTask(*const Header);

impl CurrentTask {
    pub(crate) fn enter(header: &Header) -> CurrentTask {
        CurrentTask(CURRENT_TASK.with(|c| c.replace(header)))
    }
}

impl Drop for CurrentTask {
    fn drop(&mut self) {
        CURRENT_TASK.with(|c| c.set(self.0));
    }
}

/// The future stored in a task's allocation: the user's future plus the task layer's duties.
///
/// It holds nothing but the user's future: its header (flags, owner, registry key) is found
/// through `current_header`, which saves a pointer in every task.
struct TaskFuture<F> {
    future: ManuallyDrop<F>,
}

impl<F: Future> Future for TaskFuture<F> {
    type Output = Outcome<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of `self`, and it is
        // dropped in place (in `Drop`) or leaked, never moved.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: this is `TaskFuture::poll`.
        let header = unsafe { current_header() };
        if header.abort_requested() {
            return Poll::Ready(Outcome::Aborted);
        }
        if header.owner != 0 && header.owner != thread_token() {
            let payload = Box::new("a !Send task was polled on a thread other than the one that spawned it");
            return Poll::Ready(Outcome::Panicked(panic_slot(header, payload)));
        }
        // SAFETY: see above; `this.future` stays where it is for the rest of its life.
        let future = unsafe { Pin::new_unchecked(&mut *this.future) };
        match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Outcome::Ready(value)),
            Ok(Poll::Pending) => {
                if header.key.load(Ordering::Relaxed) == UNREGISTERED {
                    register(header, cx.waker());
                }
                Poll::Pending
            }
            Err(payload) => Poll::Ready(Outcome::Panicked(panic_slot(header, payload))),
        }
    }
}

impl<F> Drop for TaskFuture<F> {
    fn drop(&mut self) {
        // SAFETY: this is `TaskFuture`'s drop.
        let header = unsafe { current_header() };
        if header.owner == 0 || header.owner == thread_token() {
            // SAFETY: `future` is dropped exactly once, here, and not used afterwards.
            unsafe { ManuallyDrop::drop(&mut self.future) };
        }
        // Otherwise a `!Send` future would be dropped on a foreign thread; it is leaked instead.
        let key = header.key.load(Ordering::Relaxed);
        if key != UNREGISTERED {
            let executor = header.scheduler.identity();
            with_current_executor(|current| match current {
                Some(current) if current.identity() == executor => current.unregister(key as usize),
                // Not dropped under its executor: only possible once that executor has shut
                // down and forgotten its registry, so there is nothing to remove.
                _ => {}
            });
        }
    }
}

/// Registers a task that is about to wait with the executor entered on this thread, which runs
/// it, so that shutdown can reach it (see [`Spawn::register`]). A task that completes in its
/// first poll never gets here: run-to-completion tasks cost the registry nothing.
fn register(header: &Header, waker: &Waker) {
    let executor = header.scheduler.identity();
    let key = with_current_executor(|current| match current {
        Some(current) if current.identity() == executor => Some(current.register(waker)),
        // Not run under its executor (a broken executor): nothing to register with.
        _ => None,
    });
    match key {
        Some(Some(key)) => match u32::try_from(key).ok().filter(|&key| key != UNREGISTERED) {
            // Relaxed: the key is read when the future is dropped, by this thread or by one that
            // later runs or drops the task, which the queues' synchronization orders after this.
            Some(key) => header.key.store(key, Ordering::Relaxed),
            // Four billion live tasks: this one stays out of the registry rather than break it.
            None => with_current_executor(|current| {
                if let Some(current) = current {
                    current.unregister(key);
                }
            }),
        },
        // Refused: the executor is shutting down. The task is cancelled at its next run, or
        // when its runnable is dropped.
        Some(None) => {
            header.abort();
            waker.wake_by_ref();
        }
        None => {}
    }
}

fn panic_slot(header: &Header, payload: Box<dyn Any + Send>) -> Box<PanicSlot> {
    let (id, name) = header.describe();
    Box::new(PanicSlot { payload: Some(payload), id, name, location: header.location() })
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
    let owner = if local { thread_token() } else { 0 };
    let header = Header::new(task_scheduler(executor), location, name, owner);
    // SAFETY: `spawn_unchecked` asks that
    // - a `!Send` future's runnable be used and dropped on its thread: the caller promises that
    //   `F` is `Send` unless `local`, and for a local task `TaskFuture` itself refuses to poll or
    //   drop the future anywhere but on `owner`;
    // - borrowed non-metadata data outlive the runnable: the future borrows nothing;
    // - the schedule function is `Send + Sync + 'static`: it captures nothing.
    let (runnable, task) = unsafe {
        async_task::Builder::new().metadata(header).spawn_unchecked(
            move |_: &Header| TaskFuture { future: ManuallyDrop::new(future) },
            WithInfo(hand_over),
        )
    };
    // `TaskFuture<F>` names the task's type: async-task's is fixed by the future's type, as the
    // schedule function and the metadata are the same for every task spawned here.
    let vtable = waker_vtable::<TaskFuture<F>>(&runnable);
    let (task, runnable) = Task::new(task, runnable, vtable);
    let runnable = Runnable::new(runnable);
    if executor.is_closed() {
        // The executor is shutting down: dropping the runnable cancels the task.
        drop(runnable);
    } else {
        executor.schedule_spawned(runnable);
    }
    task
}

/// A task that has already finished with `result`, with the id, name and location of `like`:
/// what [`Task::poll_outcome`] leaves in place of a handle whose result it took.
pub(crate) fn finished<T: 'static>(like: &Header, result: Result<T, JoinError>) -> Task<T> {
    let header = Header::like(noop_scheduler(), like);
    // The future completes at its first poll, which happens right here, so it is never
    // scheduled; a wake of the finished task does nothing.
    let schedule = |runnable: async_task::Runnable<Header>| drop(runnable);
    let outcome = match result {
        Ok(value) => Outcome::Ready(value),
        Err(err) => match err.try_into_panic() {
            Ok(payload) => Outcome::Panicked(panic_slot(like, payload)),
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
    // Asked, not cached: the cache keeps the vtable of the type spawned last, and a finished
    // task made between two spawns of one type would evict it.
    let vtable = runnable.waker().vtable();
    let (task, runnable) = Task::new(task, runnable, vtable);
    runnable.run();
    task
}

/// The scheduler of finished tasks, which are never scheduled.
fn noop_scheduler() -> Scheduler {
    struct Never;
    impl Schedule for Never {
        fn schedule(&self, runnable: Runnable, _info: ScheduleInfo) {
            drop(runnable);
        }
    }
    static NEVER: OnceLock<Scheduler> = OnceLock::new();
    NEVER.get_or_init(|| Scheduler::new(Arc::new(Never))).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `Task::new` relies on to build a task's waker without asking async-task for one:
    /// every task of a type has the same waker vtable, and a waker's data is the task's pointer.
    #[test]
    fn wakers_are_the_task_pointer_and_its_type_vtable() {
        let spawn = || {
            let header = Header::new(noop_scheduler(), Location::caller(), None, 0);
            // SAFETY: the future and the schedule function borrow nothing, and the runnables are
            // dropped on this thread.
            unsafe {
                async_task::Builder::new().metadata(header).spawn_unchecked(
                    |_: &Header| async { 1 },
                    |runnable: async_task::Runnable<Header>| drop(runnable),
                )
            }
        };
        let ((first, _task1), (second, _task2)) = (spawn(), spawn());
        let (one, two) = (first.waker(), second.waker());
        assert_eq!(one.vtable(), two.vtable(), "one vtable per task type");
        assert_ne!(one.data(), two.data());
        for (waker, runnable) in [(one, first), (two, second)] {
            let data = runnable.into_raw();
            assert_eq!(waker.data(), data.as_ptr() as *const (), "a waker's data is the task's pointer");
            // SAFETY: from `into_raw` just above, converted back once.
            drop(unsafe { async_task::Runnable::<Header>::from_raw(data) });
        }
    }

    #[test]
    fn a_task_output_slot_is_small_whatever_a_panic_needs() {
        // async-task keeps the output (or a panic payload) where the future was: a small
        // future's task is as large as this.
        type Slot<T> = Result<Outcome<T>, Box<dyn Any + Send>>;
        assert_eq!(std::mem::size_of::<Slot<()>>(), 24);
        assert_eq!(std::mem::size_of::<Slot<u64>>(), 24);
    }

    #[test]
    fn the_task_wrapper_adds_nothing_to_the_future() {
        assert_eq!(std::mem::size_of::<TaskFuture<[u64; 5]>>(), 40);
    }
}
