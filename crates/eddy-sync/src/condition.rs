//! [`Condition`]: asyncio's `Condition`, a lock plus a way to wait for a change under it.

use std::fmt;

use event_listener::{Event, IntoNotification};

use crate::lock::{Lock, LockGuard};

/// A condition variable for tasks (asyncio's `Condition`): tasks wait, with the lock released,
/// until another task that changed the guarded state notifies them.
///
/// The condition owns its [`Lock`]: take it with [`lock`](Self::lock), then
/// [`wait`](Self::wait) gives the guard up while waiting and returns it re-acquired.
/// [`wait_for`](Self::wait_for) loops until a predicate holds, which is how to use it: a wake-up
/// says "look again", not "your condition is true".
///
/// The waiter is registered before the lock is released, so a notification sent by a task that
/// took the lock after that is never missed. `notify(n)` wakes `n` more of the tasks waiting at
/// that moment, oldest first; notifying nobody is not an error. Unlike asyncio, notifying
/// does not require holding the lock (it is still the usual way: change the state, then notify,
/// under the lock).
///
/// ```
/// use eddy_sync::Condition;
/// use std::sync::Arc;
///
/// # let ex = eddy_local::LocalExecutor::new();
/// # ex.block_on(&mut eddy_task::ThreadPark::new(), async {
/// let ready = Arc::new(Condition::new(Vec::new()));
/// let consumer = eddy_task::spawn({
///     let ready = ready.clone();
///     async move {
///         let items = ready.wait_for(ready.lock().await, |items| !items.is_empty()).await;
///         items[0]
///     }
/// });
/// {
///     let mut items = ready.lock().await;
///     items.push(7);
///     ready.notify(1);
/// }
/// assert_eq!(consumer.await.unwrap(), 7);
/// # });
/// ```
pub struct Condition<T = ()> {
    lock: Lock<T>,
    event: Event,
}

impl<T> Condition<T> {
    /// Creates a condition whose lock guards `value`.
    pub fn new(value: T) -> Self {
        Self { lock: Lock::new(value), event: Event::new() }
    }

    /// Waits for the condition's lock.
    pub async fn lock(&self) -> LockGuard<'_, T> {
        self.lock.lock().await
    }

    /// The condition's lock.
    pub fn as_lock(&self) -> &Lock<T> {
        &self.lock
    }

    /// Releases the lock, waits to be notified, and returns with the lock held again.
    ///
    /// If this future is dropped after the notification arrived but before the lock was
    /// re-acquired, the notification is passed on to the next waiter, so it is not lost.
    ///
    /// # Panics
    ///
    /// Panics if `guard` holds another lock than this condition's.
    pub async fn wait<'a>(&'a self, guard: LockGuard<'a, T>) -> LockGuard<'a, T> {
        assert!(
            guard.holds(&self.lock),
            "Condition::wait: the guard holds another lock than this condition's"
        );
        let listener = self.event.listen();
        drop(guard);
        listener.await;
        let pass_on = PassOn(&self.event);
        let guard = self.lock.lock().await;
        std::mem::forget(pass_on);
        guard
    }

    /// Waits until `predicate` holds for the guarded value and returns with the lock held
    /// (asyncio's `wait_for`). The predicate is checked first, under the lock.
    ///
    /// # Panics
    ///
    /// Panics if `guard` holds another lock than this condition's.
    pub async fn wait_for<'a>(
        &'a self,
        mut guard: LockGuard<'a, T>,
        mut predicate: impl FnMut(&mut T) -> bool,
    ) -> LockGuard<'a, T> {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` of the tasks waiting now, oldest first; returns how many were woken.
    pub fn notify(&self, n: usize) -> usize {
        self.event.notify(n.additional())
    }

    /// Wakes every task waiting now.
    pub fn notify_all(&self) -> usize {
        self.event.notify(usize::MAX)
    }
}

impl<T: Default> Default for Condition<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition").field("lock", &self.lock).finish_non_exhaustive()
    }
}

/// Passes a consumed notification on if the waiter is dropped before it gets the lock back.
struct PassOn<'a>(&'a Event);

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        self.0.notify(1.additional());
    }
}
