//! [`Lock`]: asyncio's `Lock`, FIFO-fair, with a guard that unlocks on drop.

use async_lock::{Mutex, MutexGuard};
use std::fmt;
use std::ops::{Deref, DerefMut};

use crate::permits::Permits;

/// A mutual-exclusion lock for tasks (asyncio's `Lock`), optionally guarding a value.
///
/// `Lock::new(())` (or [`Lock::default`]) is asyncio's plain `Lock`; `Lock::new(value)` guards a
/// value like `std::sync::Mutex` does. Holding the lock across `.await` is fine: waiting tasks
/// are suspended, not blocked.
///
/// The lock is **fair**: tasks get it in the order they started waiting, and a task arriving
/// while others wait queues behind them even if the lock happens to be free. Unlocking hands the
/// lock straight to the oldest waiter.
///
/// Waiting is cancellation-safe: dropping a [`lock`](Self::lock) future, at any point, neither
/// takes the lock nor blocks the tasks queued behind it.
///
/// ```
/// use eddy_sync::Lock;
/// use std::sync::Arc;
///
/// # futures_lite::future::block_on(async {
/// let total = Arc::new(Lock::new(0));
/// {
///     let mut guard = total.lock().await; // `async with lock:`
///     *guard += 1;
/// } // unlocked here
/// assert_eq!(*total.lock().await, 1);
/// assert!(!total.locked());
/// # });
/// ```
pub struct Lock<T: ?Sized = ()> {
    permits: Permits,
    // The permit decides who owns the lock; the mutex only carries the value across threads
    // with the right `Send`/`Sync` bounds. Whoever holds the permit finds it unlocked.
    value: Mutex<T>,
}

impl<T> Lock<T> {
    /// Creates an unlocked lock guarding `value`.
    pub fn new(value: T) -> Self {
        Self { permits: Permits::new(1), value: Mutex::new(value) }
    }

    /// Consumes the lock and returns the value it guards.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Lock<T> {
    /// Waits for the lock, in FIFO order, and returns a guard that unlocks it when dropped
    /// (asyncio's `async with lock:`).
    pub async fn lock(&self) -> LockGuard<'_, T> {
        self.permits.acquire().await;
        let unlock = Unlock(&self.permits);
        // Uncontended: the previous owner released the mutex before handing over the permit.
        let value = self.value.lock().await;
        LockGuard { value, _unlock: unlock }
    }

    /// The same as [`lock`](Self::lock), under asyncio's name.
    pub async fn acquire(&self) -> LockGuard<'_, T> {
        self.lock().await
    }

    /// Takes the lock if it is free and nobody is waiting for it.
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        if !self.permits.try_acquire() {
            return None;
        }
        let unlock = Unlock(&self.permits);
        self.value.try_lock().map(|value| LockGuard { value, _unlock: unlock })
    }

    /// Whether the lock is held (asyncio's `locked()`).
    pub fn locked(&self) -> bool {
        self.permits.available() == 0
    }

    /// A mutable reference to the value; no locking needed, the borrow proves exclusivity.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .field("waiting", &self.permits.waiting())
            .finish_non_exhaustive()
    }
}

/// Releases the lock's permit when dropped. It is the guard's last field, so the value's mutex
/// is unlocked before the next owner is handed the permit.
struct Unlock<'a>(&'a Permits);

impl Drop for Unlock<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Holds a [`Lock`]; dropping it unlocks. Dereferences to the guarded value.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a, T: ?Sized> {
    value: MutexGuard<'a, T>,
    _unlock: Unlock<'a>,
}

impl<T: ?Sized> LockGuard<'_, T> {
    /// Whether this guard holds `lock`.
    pub(crate) fn holds(&self, lock: &Lock<T>) -> bool {
        std::ptr::eq(self._unlock.0, &lock.permits)
    }
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LockGuard").field(&&*self.value).finish()
    }
}
