//! Spawning from outside the workers allocates the tasks and nothing else: the injector's ring
//! is allocated once (an unbounded `concurrent-queue` allocated a block per 31 tasks, which a
//! worker then freed under the spawner's allocator lock; see the `injector` module).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use eddy_steal::Executor;

/// Counts the allocations made on a thread while its counter is set.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<Option<usize>> = const { Cell::new(None) };
}

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get().map(|n| n + 1)));
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn spawning_from_outside_the_workers_allocates_only_the_tasks() {
    const SPAWNS: usize = 500;
    let ex = Executor::builder().workers(2).build().unwrap();
    let handle = ex.handle();
    // Warm up whatever is set up lazily on first use.
    ex.run(handle.spawn(async {})).unwrap();

    let mut tasks = Vec::with_capacity(SPAWNS);
    ALLOCATIONS.with(|count| count.set(Some(0)));
    for i in 0..SPAWNS {
        tasks.push(handle.spawn(async move { i }));
    }
    let allocations = ALLOCATIONS.with(|count| count.replace(None)).unwrap();

    let sum: usize = ex.run(async {
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..SPAWNS).sum::<usize>());
    assert_eq!(allocations, SPAWNS, "{SPAWNS} spawns made {allocations} allocations, not one per task");
}
