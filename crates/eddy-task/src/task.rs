//! [`Task`], the handle to a spawned task, and [`AbortHandle`].

use std::any::TypeId;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::header::Header;
use crate::raw::Outcome;
use crate::{JoinError, TaskId};

/// A pointer to a task's header, valid while something holds a reference on the task's
/// allocation (the `async_task` handle or a waker) next to it.
#[derive(Clone, Copy)]
struct HeaderRef(NonNull<Header>);

// SAFETY: `Header` is `Send + Sync`; a `HeaderRef` is only ever dereferenced as `&Header`.
unsafe impl Send for HeaderRef {}
// SAFETY: as above.
unsafe impl Sync for HeaderRef {}

impl HeaderRef {
    /// # Safety
    ///
    /// The caller must hold a reference on the task's allocation for the returned lifetime.
    unsafe fn get<'a>(self) -> &'a Header {
        // SAFETY: the allocation, and with it the header, outlives the caller's reference.
        unsafe { self.0.as_ref() }
    }
}

/// A handle to a spawned task; awaiting it yields the task's output.
///
/// `Task<T>` is a `Future<Output = Result<T, JoinError>>`:
///
/// - `Ok(value)` when the task returned `value`;
/// - `Err(e)` with `e.is_panic()` when it panicked (the panic never reaches the executor);
/// - `Err(e)` with `e.is_cancelled()` when it was aborted or its executor shut down first.
///
/// **Dropping a `Task` cancels it**: the future is dropped the next time its executor gets to
/// it, so its `Drop` cleanup runs, as `task.cancel()` does in asyncio. Call
/// [`detach`](Task::detach) to let it run on in the background instead.
///
/// ```
/// # let ex = eddy_local::LocalExecutor::new();
/// # futures_lite::future::block_on(ex.run(async {
/// let task = eddy_task::spawn_on(&ex, async { 6 * 7 });
/// assert_eq!(task.await.unwrap(), 42);
/// # }));
/// ```
#[must_use = "dropping a Task cancels it; use `.detach()` to let it run in the background"]
pub struct Task<T> {
    inner: async_task::FallibleTask<Outcome<T>, Header>,
    header: HeaderRef,
    /// Wakes the task, for [`abort`](Task::abort) and [`AbortHandle`]s. It holds no reference
    /// of its own on the task's allocation (`inner` keeps it alive), so it is never dropped.
    waker: ManuallyDrop<Waker>,
}

impl<T> Task<T> {
    /// Called before `runnable` is first scheduled, with the waker vtable of the task's type
    /// (see [`waker_vtable`]). Hands `runnable` back.
    pub(crate) fn new(
        inner: async_task::Task<Outcome<T>, Header>,
        runnable: async_task::Runnable<Header>,
        vtable: &'static RawWakerVTable,
    ) -> (Task<T>, async_task::Runnable<Header>) {
        let header = HeaderRef(NonNull::from(inner.metadata()));
        // A waker that owned a reference would take it now and give it back in `detach`, after
        // the task was scheduled: by then another worker may be running it, and the release is
        // a write to a cache line that core owns (two such writes per spawn, with the detach
        // itself, at W = 2 in `spawn_many_remote`). The handle keeps a reference-free copy
        // instead, made of the task's pointer and its type's waker vtable.
        let data = runnable.into_raw();
        // SAFETY: `data` comes from `into_raw` just above, and is converted back once.
        let runnable = unsafe { async_task::Runnable::from_raw(data) };
        // SAFETY: a waker of this task has `data` and `vtable` (see `waker_vtable`), and they
        // stay valid while the task's allocation lives, which `inner` guarantees for as long as
        // `self` lives; the copy is never dropped, so it gives back no reference it did not take.
        let waker = unsafe { Waker::from_raw(RawWaker::new(data.as_ptr(), vtable)) };
        (Task { inner: inner.fallible(), header, waker: ManuallyDrop::new(waker) }, runnable)
    }

    fn header(&self) -> &Header {
        // SAFETY: `self.inner` holds a reference on the allocation for as long as `self` lives.
        unsafe { self.header.get() }
    }

    /// Lets the task run on in the background; its output is dropped when it finishes.
    ///
    /// A panic in a detached task is reported once on stderr, since no one will await it.
    pub fn detach(self) {
        self.inner.detach()
    }

    /// Cancels the task and waits until its future has been dropped, so its cleanup has run.
    ///
    /// Returns `Some(value)` if the task had already finished with a value, `None` otherwise.
    /// (A panic the task had already ended with is reported on stderr, as nobody observes it.)
    pub async fn cancel(self) -> Option<T> {
        match self.inner.cancel().await {
            Some(Outcome::Ready(value)) => Some(value),
            _ => None,
        }
    }

    /// Asks the task to wind down on its own: [`cancelled`](crate::cancelled) completes inside
    /// it. Unlike [`abort`](Self::abort), nothing is dropped; the task decides when to return.
    pub fn request_cancel(&self) {
        self.header().request_cancel();
    }

    /// Graceful cancellation: asks the task to stop (see [`request_cancel`](Self::request_cancel)),
    /// gives it until `grace` completes to finish its cleanup, then cancels it for good (its
    /// future is dropped). Returns the task's value if it finished with one in time.
    ///
    /// `grace` is any future, usually a timer: `task.cancel_with_grace(eddy::sleep(d)).await`.
    pub async fn cancel_with_grace(mut self, grace: impl Future) -> Option<T> {
        self.request_cancel();
        let mut grace = std::pin::pin!(grace);
        let finished = std::future::poll_fn(|cx| {
            if let Poll::Ready(result) = Pin::new(&mut self).poll(cx) {
                return Poll::Ready(Some(result));
            }
            grace.as_mut().poll(cx).map(|_| None)
        })
        .await;
        match finished {
            Some(result) => result.ok(),
            None => self.cancel().await,
        }
    }

    /// Polls for the task's end without giving up the handle: when it has finished, calls
    /// `inspect` on its result and returns what `inspect` returns; awaiting the handle later
    /// still yields that result. This is what `wait` needs to sort tasks into done and pending.
    pub fn poll_outcome<R>(
        &mut self,
        cx: &mut Context<'_>,
        inspect: impl FnOnce(&Result<T, JoinError>) -> R,
    ) -> Poll<R>
    where
        T: 'static,
    {
        let result = match Pin::new(&mut *self).poll(cx) {
            Poll::Ready(result) => result,
            Poll::Pending => return Poll::Pending,
        };
        let seen = inspect(&result);
        // The handle has given its result away: hold it in a finished task of the same id.
        let header = self.header();
        let replacement = crate::raw::finished(header, result);
        *self = replacement;
        Poll::Ready(seen)
    }

    /// Returns a handle that can abort the task from any thread.
    pub fn abort_handle(&self) -> AbortHandle {
        // The clone takes its own reference on the allocation.
        AbortHandle { header: self.header, waker: Waker::clone(&self.waker) }
    }

    /// Requests cancellation; shorthand for `task.abort_handle().abort()`.
    pub fn abort(&self) {
        abort(self.header(), &self.waker)
    }

    /// Whether the task has finished: completed, panicked or been cancelled.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// The task's unique id.
    pub fn id(&self) -> TaskId {
        self.header().id()
    }

    /// The task's name, if it was spawned with [`Builder::name`](crate::Builder::name).
    pub fn name(&self) -> Option<&str> {
        self.header().name()
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outcome = match Pin::new(&mut self.inner).poll(cx) {
            Poll::Ready(outcome) => outcome,
            Poll::Pending => return Poll::Pending,
        };
        let header = self.header();
        Poll::Ready(match outcome {
            Some(Outcome::Ready(value)) => Ok(value),
            Some(Outcome::Panicked(slot)) => Err(slot.into_join_error()),
            Some(Outcome::Aborted) | None => {
                let (id, name) = header.describe();
                Err(JoinError::cancelled(id, name))
            }
        })
    }
}

/// The waker vtable of `runnable`'s task, whose type `K` names.
///
/// async-task has one waker vtable per task type, and a task's wakers carry its pointer (what
/// [`Runnable::into_raw`](async_task::Runnable::into_raw) returns) as their data; the test
/// `wakers_are_the_task_pointer_and_its_type_vtable` pins both facts. The only way to ask for
/// the vtable is to make a waker, which takes a reference on the task and gives it back when
/// dropped: two atomic read-modify-writes and two indirect calls, about 8% of a spawn that runs
/// at once on the local executor. So each thread keeps the vtable of the last type it spawned,
/// and a burst of spawns of one type asks once.
pub(crate) fn waker_vtable<K: 'static>(runnable: &async_task::Runnable<Header>) -> &'static RawWakerVTable {
    thread_local! {
        static LAST: Cell<Option<(TypeId, &'static RawWakerVTable)>> = const { Cell::new(None) };
    }
    let ask = || runnable.waker().vtable();
    let key = TypeId::of::<K>();
    LAST.try_with(|last| match last.get() {
        Some((cached, vtable)) if cached == key => vtable,
        _ => {
            let vtable = ask();
            last.set(Some((key, vtable)));
            vtable
        }
    })
    .unwrap_or_else(|_| ask())
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = self.header();
        f.debug_struct("Task")
            .field("id", &header.id())
            .field("name", &header.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Requests a task's cancellation from any thread; made by [`Task::abort_handle`].
///
/// After [`abort`](AbortHandle::abort), the task's future is dropped the next time its executor
/// would poll it, and awaiting the [`Task`] yields a [`JoinError`] whose `is_cancelled()` is true.
/// Aborting a task that has already finished does nothing.
#[derive(Clone)]
pub struct AbortHandle {
    header: HeaderRef,
    waker: Waker,
}

impl AbortHandle {
    /// Requests cancellation of the task.
    pub fn abort(&self) {
        // SAFETY: `self.waker` holds a reference on the task's allocation.
        abort(unsafe { self.header.get() }, &self.waker)
    }

    /// The id of the task this handle aborts.
    pub fn id(&self) -> TaskId {
        // SAFETY: `self.waker` holds a reference on the task's allocation.
        unsafe { self.header.get() }.id()
    }
}

fn abort(header: &Header, waker: &Waker) {
    // Release pairs with the Acquire load in `TaskFuture::poll`; the wake makes sure a poll
    // follows even if the task is parked on something that will never wake it.
    header.abort();
    waker.wake_by_ref();
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle").field("id", &self.id()).finish()
    }
}
