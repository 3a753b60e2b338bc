//! [`shield`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use eddy_task::{JoinError, Task};

/// Awaits `task`, but dropping the shield (for example because the caller was cancelled or
/// timed out) detaches the task instead of cancelling it (asyncio's `shield`).
///
/// The task is protected from the moment the shield holds it. A caller cancelled before its
/// first poll never made the shield: its future still holds the `Task` itself, and dropping that
/// cancels the task as usual. Create the shield before handing it to code that may be cancelled
/// early, or make sure the caller has started.
///
/// ```
/// # let ex = eddy_local::LocalExecutor::new();
/// # futures_lite::future::block_on(ex.run(async {
/// let task = ex.spawn(async { "saved" });
/// let shielded = eddy_combinators::shield(task);
/// drop(shielded); // the task runs on, detached
/// # }));
/// ```
pub fn shield<T>(task: Task<T>) -> Shield<T> {
    Shield { task: Some(task) }
}

/// The future returned by [`shield`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Shield<T> {
    task: Option<Task<T>>,
}

impl<T> Future for Shield<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let task = this.task.as_mut().expect("`Shield` polled after it completed");
        let output = std::task::ready!(Pin::new(task).poll(cx));
        this.task = None;
        Poll::Ready(output)
    }
}

impl<T> Drop for Shield<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}
