//! [`Semaphore`] and [`BoundedSemaphore`]: asyncio's counting semaphores, FIFO-fair.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use crate::permits::Permits;

/// A counting semaphore for tasks (asyncio's `Semaphore`): at most `value` holders at once.
///
/// [`acquire`](Self::acquire) waits, in FIFO order, and returns a guard that gives the permit
/// back when dropped (`async with sem:`). For asyncio's manual style, [`SemaphoreGuard::forget`]
/// keeps the permit taken and [`release`](Self::release) adds one.
///
/// Waiting is cancellation-safe: dropping an `acquire` future at any point leaks no permit and
/// blocks nobody behind it.
///
/// ```
/// use eddy_sync::Semaphore;
///
/// # futures_lite::future::block_on(async {
/// let sem = Semaphore::new(2);
/// let a = sem.acquire().await;
/// let _b = sem.acquire().await;
/// assert!(sem.locked()); // a third acquire would wait
/// drop(a);
/// assert_eq!(sem.value(), 1);
/// # });
/// ```
#[derive(Debug)]
pub struct Semaphore {
    permits: Permits,
}

impl Semaphore {
    /// Creates a semaphore with `value` permits.
    pub const fn new(value: usize) -> Self {
        Self { permits: Permits::new(value) }
    }

    /// Waits for a permit, in FIFO order.
    pub async fn acquire(&self) -> SemaphoreGuard<'_> {
        self.permits.acquire().await;
        SemaphoreGuard { permits: &self.permits }
    }

    /// Like [`acquire`](Self::acquire), for a semaphore in an `Arc`; the guard is `'static`.
    pub async fn acquire_arc(self: &Arc<Self>) -> SemaphoreGuardArc {
        self.permits.acquire().await;
        SemaphoreGuardArc { owner: self.clone(), forgotten: false }
    }

    /// Takes a permit if one is free and nobody is waiting.
    pub fn try_acquire(&self) -> Option<SemaphoreGuard<'_>> {
        self.permits.try_acquire().then(|| SemaphoreGuard { permits: &self.permits })
    }

    /// Adds a permit (asyncio's `release()`): wakes the oldest waiter, or raises the value.
    /// A plain `Semaphore` has no upper bound; see [`BoundedSemaphore`] for one.
    pub fn release(&self) {
        self.permits.release();
    }

    /// Whether an `acquire` would wait now (asyncio's `locked()`).
    pub fn locked(&self) -> bool {
        self.permits.available() == 0
    }

    /// Permits free now.
    pub fn value(&self) -> usize {
        self.permits.available()
    }
}

/// A semaphore that refuses to be released above its initial value (asyncio's
/// `BoundedSemaphore`), catching a `release` without a matching `acquire`.
///
/// ```
/// use eddy_sync::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// assert!(sem.release().is_err()); // nobody holds it
/// let guard = sem.try_acquire().unwrap();
/// guard.forget();
/// assert!(sem.release().is_ok());
/// ```
#[derive(Debug)]
pub struct BoundedSemaphore {
    inner: Semaphore,
    bound: usize,
}

impl BoundedSemaphore {
    /// Creates a semaphore with `value` permits, which is also its upper bound.
    pub const fn new(value: usize) -> Self {
        Self { inner: Semaphore::new(value), bound: value }
    }

    /// Waits for a permit, in FIFO order.
    pub async fn acquire(&self) -> SemaphoreGuard<'_> {
        self.inner.acquire().await
    }

    /// Takes a permit if one is free and nobody is waiting.
    pub fn try_acquire(&self) -> Option<SemaphoreGuard<'_>> {
        self.inner.try_acquire()
    }

    /// Gives back a permit taken with a [forgotten](SemaphoreGuard::forget) guard.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if that would make more permits free than the semaphore started with;
    /// nothing changes then.
    pub fn release(&self) -> Result<(), ReleaseError> {
        if self.inner.permits.release_bounded(self.bound) {
            Ok(())
        } else {
            Err(ReleaseError { bound: self.bound })
        }
    }

    /// Whether an `acquire` would wait now.
    pub fn locked(&self) -> bool {
        self.inner.locked()
    }

    /// Permits free now.
    pub fn value(&self) -> usize {
        self.inner.value()
    }
}

/// [`BoundedSemaphore::release`] would go above the initial value (asyncio's `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseError {
    bound: usize,
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BoundedSemaphore released too many times (its bound is {})", self.bound)
    }
}

impl Error for ReleaseError {}

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`]; dropping it gives the permit back.
#[must_use = "the permit is given back as soon as the guard is dropped"]
#[derive(Debug)]
pub struct SemaphoreGuard<'a> {
    permits: &'a Permits,
}

impl SemaphoreGuard<'_> {
    /// Keeps the permit taken; a later `release()` gives it back (asyncio's manual style).
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        self.permits.release();
    }
}

/// A permit of a [`Semaphore`] in an `Arc` (from [`Semaphore::acquire_arc`]).
#[must_use = "the permit is given back as soon as the guard is dropped"]
#[derive(Debug)]
pub struct SemaphoreGuardArc {
    owner: Arc<Semaphore>,
    forgotten: bool,
}

impl SemaphoreGuardArc {
    /// Keeps the permit taken; a later `release()` gives it back.
    pub fn forget(mut self) {
        self.forgotten = true;
    }
}

impl Drop for SemaphoreGuardArc {
    fn drop(&mut self) {
        if !self.forgotten {
            self.owner.permits.release();
        }
    }
}
