//! The per-task header stored inside the task's single allocation.
//!
//! async-task keeps one allocation per task holding its state word, the schedule function, this
//! header (async-task calls it "metadata") and the future. The header is created before the
//! future and dropped after it, so the future wrapper in `raw.rs` may borrow it.
//!
//! Fields and who touches them:
//! - `id`, `name`, `location`: written at spawn, read-only afterwards, read from any thread.
//! - `abort`: set by any thread through an [`AbortHandle`](crate::AbortHandle); read by the
//!   thread that polls the task.
//! - `cancel_requested`: set by any thread through the task's handle; read by
//!   [`cancelled`](crate::cancelled) inside the task.
//! - `key`: the executor's registry key, written once by the spawning thread before the task is
//!   first scheduled (scheduling publishes it), read when the future is dropped.

use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Waker;

use crate::TaskId;

/// Everything a task knows about itself, shared by its handle, its runnable and its future.
pub(crate) struct Header {
    pub(crate) id: TaskId,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) location: &'static Location<'static>,
    /// The address of the executor that registered the task, used to check that the executor
    /// current when the future is dropped is the one to unregister it from.
    pub(crate) executor: usize,
    pub(crate) key: AtomicUsize,
    pub(crate) abort: AtomicBool,
    /// Set by [`Task::request_cancel`](crate::Task::request_cancel): the task is asked to wind
    /// down on its own (see [`cancelled`](crate::cancelled)); nothing is dropped.
    pub(crate) cancel_requested: AtomicBool,
    /// The wakers of the [`cancelled`](crate::cancelled) futures waiting inside the task. A
    /// combinator re-polls only the branches whose own waker fired, so waking the task alone
    /// would not reach them. Boxed on the first wait, so a task that never waits for
    /// cancellation carries 8 bytes for it, not a whole `Vec`.
    #[allow(clippy::box_collection, reason = "a boxed Vec is 8 bytes in every task; a Vec is 24")]
    pub(crate) cancel_wakers: Mutex<Option<Box<Vec<Waker>>>>,
}

impl Header {
    pub(crate) fn info(&self) -> TaskInfo {
        TaskInfo { id: self.id, name: self.name.clone(), location: self.location }
    }

    /// Marks cancellation as requested and wakes every `cancelled()` future waiting for it.
    pub(crate) fn request_cancel(&self) {
        self.cancel_requested.store(true, Ordering::Release);
        let wakers = self.cancel_wakers.lock().unwrap_or_else(PoisonError::into_inner).take();
        for waker in wakers.into_iter().flat_map(|wakers| *wakers) {
            waker.wake();
        }
    }

    /// Registers `waker` to be woken by [`request_cancel`](Self::request_cancel); returns
    /// whether cancellation was requested already.
    pub(crate) fn wait_cancel(&self, waker: &Waker) -> bool {
        let mut wakers = self.cancel_wakers.lock().unwrap_or_else(PoisonError::into_inner);
        if self.cancel_requested.load(Ordering::Acquire) {
            return true;
        }
        let wakers = wakers.get_or_insert_with(Box::default);
        if !wakers.iter().any(|w| w.will_wake(waker)) {
            wakers.push(waker.clone());
        }
        false
    }

    pub(crate) fn abort_requested(&self) -> bool {
        self.abort.load(Ordering::Acquire)
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("location", &format_args!("{}", self.location))
            .finish()
    }
}

/// A description of a task: its id, optional name and where it was spawned.
///
/// Returned by [`current()`](crate::current) for the task that is running on this thread.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    id: TaskId,
    name: Option<Arc<str>>,
    location: &'static Location<'static>,
}

impl TaskInfo {
    /// The task's unique id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The name given with [`Builder::name`](crate::Builder::name), if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The source location of the `spawn` call that created the task.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

/// Formats a task for messages: `task 7` or `task 7 "fetch"`.
pub(crate) struct Describe<'a>(pub(crate) TaskId, pub(crate) Option<&'a str>);

impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(name) => write!(f, "task {} {:?}", self.0, name),
            None => write!(f, "task {}", self.0),
        }
    }
}
