//! [`TaskGroup`]: structured concurrency (asyncio's `TaskGroup`, Trio's nursery).

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use eddy_task::{AbortHandle, JoinError, Task};

/// A scope for child tasks: the first child that fails (returns `Err` or panics) cancels its
/// siblings, [`join`](TaskGroup::join) returns only when every child has ended and reports every
/// failure together, and dropping the group cancels its children. No child outlives its group.
///
/// Children are spawned on the executor running on this thread. Cancellation is immediate (the
/// children's futures are dropped, so their `Drop` cleanup runs); a child that needs async
/// cleanup on the way out can race its work against [`eddy_task::cancelled`] and be stopped with
/// the group's [`cancel`](TaskGroup::cancel) only after it had its chance. Groups nest: cancelling
/// a group drops its children, which drops the groups they own, and so on down.
///
/// ```
/// use eddy_combinators::TaskGroup;
/// # let ex = eddy_local::LocalExecutor::new();
/// # futures_lite::future::block_on(ex.run(async {
/// let mut group = TaskGroup::new();
/// group.spawn(async { Ok::<_, String>(1) });
/// group.spawn(async { Ok(2) });
/// assert_eq!(group.join().await.unwrap(), [1, 2]);
///
/// let mut group = TaskGroup::new();
/// group.spawn(async { Err::<u32, _>("bad input".to_string()) });
/// group.spawn(std::future::pending()); // cancelled when its sibling fails
/// let failure = group.join().await.unwrap_err();
/// assert_eq!(failure.errors, ["bad input"]);
/// assert_eq!(failure.cancelled, 1);
/// # }));
/// ```
pub struct TaskGroup<T, E> {
    state: Arc<GroupState>,
    children: Vec<Task<Result<T, E>>>,
}

#[derive(Default)]
struct GroupState {
    cancelled: AtomicBool,
    children: Mutex<Vec<AbortHandle>>,
}

impl GroupState {
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        let children = self.children.lock().unwrap_or_else(PoisonError::into_inner).clone();
        for child in children {
            child.abort();
        }
    }
}

/// Cancels the group when a child ends abnormally: a panic (its future is dropped after the
/// panic was caught) or any other way of being dropped before it returned.
struct CancelOnAbnormalEnd(Option<Arc<GroupState>>);

impl Drop for CancelOnAbnormalEnd {
    fn drop(&mut self) {
        if let Some(state) = self.0.take() {
            state.cancel();
        }
    }
}

/// Every failure of a [`TaskGroup`], reported together (the `ExceptionGroup` analog).
#[derive(Debug)]
pub struct GroupError<E> {
    /// The errors children returned, in spawn order.
    pub errors: Vec<E>,
    /// The panics of children, in spawn order.
    pub panics: Vec<JoinError>,
    /// How many children were cancelled before they finished.
    pub cancelled: usize,
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "task group failed: {} error(s), {} panic(s), {} cancelled",
            self.errors.len(),
            self.panics.len(),
            self.cancelled
        )?;
        for error in &self.errors {
            write!(f, "; {error}")?;
        }
        for panic in &self.panics {
            write!(f, "; {panic}")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GroupError<E> {}

impl<T: 'static, E: 'static> TaskGroup<T, E> {
    /// An empty group.
    pub fn new() -> TaskGroup<T, E> {
        TaskGroup { state: Arc::default(), children: Vec::new() }
    }

    /// Spawns a child on the current executor.
    ///
    /// # Panics
    ///
    /// Panics outside an eddy executor, like `eddy_task::spawn`.
    #[track_caller]
    pub fn spawn<F>(&mut self, child: F)
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send,
        E: Send,
    {
        let task = eddy_task::spawn(self.wrap(child));
        self.adopt(task);
    }

    /// Spawns a `!Send` child on the current single-threaded executor.
    ///
    /// # Panics
    ///
    /// Panics outside a single-threaded eddy executor, like `eddy_task::spawn_local`.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, child: F)
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        let task = eddy_task::spawn_local(self.wrap(child));
        self.adopt(task);
    }

    fn wrap<F>(&self, child: F) -> impl Future<Output = Result<T, E>> + use<F, T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let state = self.state.clone();
        async move {
            let mut guard = CancelOnAbnormalEnd(Some(state));
            let result = child.await;
            let state = guard.0.take().expect("the guard is armed until here");
            if result.is_err() {
                state.cancel();
            }
            result
        }
    }

    fn adopt(&mut self, task: Task<Result<T, E>>) {
        self.state.children.lock().unwrap_or_else(PoisonError::into_inner).push(task.abort_handle());
        if self.state.cancelled.load(Ordering::SeqCst) {
            task.abort();
        }
        self.children.push(task);
    }

    /// Cancels every child.
    pub fn cancel(&self) {
        self.state.cancel();
    }

    /// How many children were spawned.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether no child was spawned.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// Waits until every child has ended. Returns their values in spawn order if all
    /// succeeded; otherwise every error, every panic, and how many were cancelled.
    ///
    /// # Errors
    ///
    /// A [`GroupError`] if any child failed or was cancelled.
    pub async fn join(mut self) -> Result<Vec<T>, GroupError<E>> {
        let children = std::mem::take(&mut self.children);
        let mut values = Vec::with_capacity(children.len());
        let mut failure = GroupError { errors: Vec::new(), panics: Vec::new(), cancelled: 0 };
        for child in children {
            match child.await {
                Ok(Ok(value)) => values.push(value),
                Ok(Err(error)) => failure.errors.push(error),
                Err(join_error) if join_error.is_panic() => failure.panics.push(join_error),
                Err(_) => failure.cancelled += 1,
            }
        }
        if failure.errors.is_empty() && failure.panics.is_empty() && failure.cancelled == 0 {
            Ok(values)
        } else {
            Err(failure)
        }
    }
}

impl<T: 'static, E: 'static> Default for TaskGroup<T, E> {
    fn default() -> TaskGroup<T, E> {
        TaskGroup::new()
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    fn drop(&mut self) {
        // Dropped before `join` took the children: cancel them all at once (their handles,
        // dropped next, would cancel them one by one anyway).
        if !self.children.is_empty() {
            self.state.cancel();
        }
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("children", &self.children.len())
            .field("cancelled", &self.state.cancelled.load(Ordering::Relaxed))
            .finish()
    }
}
