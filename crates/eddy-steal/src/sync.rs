//! The atomics and locks the scheduler uses, swapped for loom's under `cfg(loom)` so that the
//! sleep/wake protocol can be model-checked (`RUSTFLAGS="--cfg loom" cargo test -p eddy-steal
//! --test loom --release`).

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
// `Arc` is std's in both builds: the `Shared` it holds is handed to eddy-task as a std
// `Arc<dyn Schedule>`. The loom model covers the atomics of the sleep/wake protocol.
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning: critical sections here never leave data half-updated.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(not(loom))]
    return mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    #[cfg(loom)]
    return mutex.lock().unwrap();
}
