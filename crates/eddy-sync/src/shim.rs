//! What the one-shot channel synchronizes with, swapped for loom's under `cfg(eddy_sync_loom)`
//! so that its protocol can be model-checked (`RUSTFLAGS="--cfg eddy_sync_loom" cargo test -p
//! eddy-sync --lib --release`, as `cargo xtask test` does). The cfg is eddy-sync's own: plain
//! `cfg(loom)` would switch async-lock, event-listener and concurrent-queue to loom as well.

#[cfg(eddy_sync_loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(eddy_sync_loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(eddy_sync_loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};

/// `std`'s `UnsafeCell` behind loom's interface: the pointer is only lent to a closure, which
/// lets loom check every access.
#[cfg(not(eddy_sync_loom))]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(eddy_sync_loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
