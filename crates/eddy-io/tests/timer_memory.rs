//! Timers that are created and dropped leave nothing behind: a dropped sleep is removed from
//! the reactor, and a million of them leave memory where it was. One test per binary, since it
//! counts the process's live heap bytes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::task::{Context, Waker};
use std::time::Duration;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: defers to the system allocator and only counts the bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Polls `future` once with a no-op waker, so that a timer registers with the reactor.
fn poll_once(future: impl Future) {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
}

#[test]
fn created_and_dropped_timers_leave_nothing_behind() {
    // Warm up: the reactor and its queues are allocated once, on first use.
    poll_once(eddy_io::sleep(Duration::from_secs(60)));
    assert_eq!(eddy_io::registered_timers(), 0);

    // One sleep, registered, then dropped: removed.
    let sleep = eddy_io::sleep(Duration::from_secs(60));
    {
        let mut sleep = pin!(sleep);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        assert_eq!(eddy_io::registered_timers(), 1);
    }
    assert_eq!(eddy_io::registered_timers(), 0, "a dropped sleep stayed registered");

    // A million, each registered and dropped, with no reactor turn in between.
    let before = LIVE.load(Ordering::SeqCst);
    for i in 0..1_000_000u64 {
        poll_once(eddy_io::sleep(Duration::from_millis(1000 + i % 5000)));
    }
    assert_eq!(eddy_io::registered_timers(), 0);
    let after = LIVE.load(Ordering::SeqCst);
    assert!(
        (after - before).abs() <= 4096,
        "a million created-and-dropped timers changed live heap by {} bytes",
        after - before
    );
}
