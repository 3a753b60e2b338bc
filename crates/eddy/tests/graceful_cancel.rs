//! Graceful cancellation: the task learns it was asked to stop and cleans up asynchronously
//! within the grace period, or is dropped when the grace period ends.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::DropCounter;

#[test]
fn the_task_runs_its_async_cleanup_within_the_grace_period() {
    let cleaned = Arc::new(AtomicBool::new(false));
    let value = common::block_on({
        let cleaned = cleaned.clone();
        async move {
            let task = eddy::spawn(async move {
                // Works until asked to stop, then cleans up asynchronously.
                eddy::race([
                    Box::pin(async {
                        eddy::sleep(Duration::from_secs(3600)).await;
                        "finished the work"
                    })
                        as std::pin::Pin<Box<dyn std::future::Future<Output = &str> + Send>>,
                    Box::pin(async {
                        eddy::task::cancelled().await;
                        eddy::sleep(Duration::from_millis(5)).await; // async cleanup
                        cleaned.store(true, Ordering::SeqCst);
                        "stopped cleanly"
                    }),
                ])
                .await
            });
            common::yield_times(2).await;
            task.cancel_with_grace(eddy::sleep(Duration::from_secs(10))).await
        }
    });
    assert_eq!(value, Some("stopped cleanly"));
    assert!(cleaned.load(Ordering::SeqCst));
}

#[test]
fn a_task_that_ignores_the_request_is_dropped_after_the_grace_period() {
    let drops = DropCounter::new();
    let value = common::block_on(async {
        let guard = drops.guard();
        let task = eddy::spawn(async move {
            let _guard = guard;
            eddy::sleep(Duration::from_secs(3600)).await; // never looks at `cancelled()`
            "too late"
        });
        common::yield_times(2).await;
        task.cancel_with_grace(eddy::sleep(Duration::from_millis(20))).await
    });
    assert_eq!(value, None);
    assert_eq!(drops.count(), 1, "the future was not dropped when the grace period ended");
}

#[test]
fn cancelled_outside_a_task_never_completes() {
    common::block_on(async {
        let outcome = eddy::timeout(Duration::from_millis(10), eddy::task::cancelled()).await;
        assert!(outcome.is_err());
    });
}

#[test]
fn a_timeout_around_a_task_cancels_it_hard() {
    // Documented composition: `timeout` drops what it wraps; a task inside is aborted without a
    // grace period. Use `cancel_with_grace` for the graceful path.
    let drops = DropCounter::new();
    common::block_on(async {
        let guard = drops.guard();
        let task = eddy::spawn(async move {
            let _guard = guard;
            eddy::task::cancelled().await;
            unreachable!("an aborted task gets no cleanup turn");
        });
        assert!(eddy::timeout(Duration::from_millis(5), task).await.is_err());
        common::eventually("the task is dropped", || drops.count() == 1).await;
    });
}
