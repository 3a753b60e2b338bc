//! What a parked task costs on the heap: its future plus a fixed header, nothing per task
//! elsewhere once the executor's own tables have grown.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use eddy_local::LocalExecutor;

/// The system allocator, counting live bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const TASKS: usize = 1000;

/// A future that parks for good, holding 64 bytes of state across its wait.
fn parked() -> impl std::future::Future<Output = ()> {
    let state = std::hint::black_box([0u64; 8]);
    async move {
        std::future::pending::<()>().await;
        std::hint::black_box(state);
    }
}

/// Spawns `TASKS` parked tasks, runs them to their wait, and returns the live bytes that added
/// per task.
fn bytes_per_parked_task(ex: &LocalExecutor) -> isize {
    let before = LIVE.load(Ordering::SeqCst);
    for _ in 0..TASKS {
        ex.spawn(parked()).detach();
    }
    while ex.try_tick() {}
    (LIVE.load(Ordering::SeqCst) - before) / TASKS as isize
}

/// The same for bare async-task tasks (no metadata, a schedule function that captures
/// nothing): the floor eddy builds on.
fn bytes_per_bare_task() -> isize {
    let mut runnables = Vec::with_capacity(TASKS);
    let mut handles = Vec::with_capacity(TASKS);
    let before = LIVE.load(Ordering::SeqCst);
    for _ in 0..TASKS {
        let (runnable, task) = async_task::spawn_local(parked(), |_| {});
        runnables.push(runnable);
        handles.push(task);
    }
    let bytes = (LIVE.load(Ordering::SeqCst) - before) / TASKS as isize;
    for runnable in runnables {
        runnable.run();
    }
    bytes
}

#[test]
fn a_parked_task_costs_three_words_more_than_a_bare_async_task() {
    let ex = LocalExecutor::new();
    // A first batch grows the executor's ready queue and its registry of waiting tasks (each
    // waits once), which keep their capacity.
    for _ in 0..TASKS {
        ex.spawn(eddy_task::yield_now()).detach();
    }
    while ex.try_tick() {}
    let eddy = bytes_per_parked_task(&ex);
    let bare = bytes_per_bare_task();
    // Three words: the scheduler, the location-or-extra word, the 32-bit key and owner. No
    // name, id or cancellation state until a task uses them; nothing else per task.
    let words = 3 * std::mem::size_of::<usize>() as isize;
    assert!(bare >= std::mem::size_of_val(&parked()) as isize, "{bare} bytes: allocations were not counted");
    assert!(eddy <= bare + words, "{eddy} bytes per parked task against {bare} for a bare async-task task");
}
