//! Work is stolen from a worker whose task blocks its thread, including the task it just woke
//! into its LIFO slot.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::within;
use eddy_steal::Executor;

/// Blocks the calling thread (a worker, when called from a task) until `released` is set.
fn block_thread_until(released: &AtomicBool) {
    while !released.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_task_woken_just_before_its_worker_blocks_runs_elsewhere() {
    within(Duration::from_secs(60), || {
        let ex = Executor::builder().workers(2).build().unwrap();
        let released = Arc::new(AtomicBool::new(false));
        let blocker = ex.spawn({
            let released = released.clone();
            async move {
                // The child lands in this worker's LIFO slot...
                let child = eddy_task::spawn({
                    let released = released.clone();
                    async move { released.store(true, Ordering::SeqCst) }
                });
                // ...and then this task blocks the worker's thread until the child has run,
                // which only another worker can make happen.
                block_thread_until(&released);
                child.await.unwrap();
            }
        });
        ex.run(blocker).unwrap();
    });
}

#[test]
fn a_task_that_yielded_just_before_its_worker_blocks_runs_elsewhere() {
    within(Duration::from_secs(60), || {
        let ex = Executor::builder().workers(2).build().unwrap();
        let released = Arc::new(AtomicBool::new(false));
        let yielder = ex.spawn({
            let released = released.clone();
            async move {
                // The blocker lands in this worker's LIFO slot, so it runs next...
                let blocker = eddy_task::spawn({
                    let released = released.clone();
                    async move { block_thread_until(&released) }
                });
                // ...while this task, yielding, waits in the worker's queue behind it: only
                // another worker can resume it.
                eddy_task::yield_now().await;
                released.store(true, Ordering::SeqCst);
                blocker.await.unwrap();
            }
        });
        ex.run(yielder).unwrap();
    });
}

#[test]
fn queued_tasks_behind_a_blocked_worker_are_stolen() {
    within(Duration::from_secs(60), || {
        let ex = Executor::builder().workers(2).build().unwrap();
        let released = Arc::new(AtomicBool::new(false));
        let blocker = ex.spawn({
            let released = released.clone();
            async move {
                let children: Vec<_> = (0..50).map(|i| eddy_task::spawn(async move { i })).collect();
                let last = eddy_task::spawn({
                    let released = released.clone();
                    async move { released.store(true, Ordering::SeqCst) }
                });
                block_thread_until(&released);
                let mut sum = 0;
                for child in children {
                    sum += child.await.unwrap();
                }
                last.await.unwrap();
                sum
            }
        });
        assert_eq!(ex.run(blocker).unwrap(), (0..50).sum::<i32>());
    });
}
