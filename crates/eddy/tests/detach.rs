//! A detached task keeps running to completion.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn detached_task_runs_to_completion() {
    let steps = Arc::new(AtomicUsize::new(0));
    common::block_on({
        let steps = steps.clone();
        async move {
            let task_steps = steps.clone();
            eddy::spawn(async move {
                for _ in 0..10 {
                    task_steps.fetch_add(1, Ordering::SeqCst);
                    eddy::yield_now().await;
                }
            })
            .detach();
            while steps.load(Ordering::SeqCst) < 10 {
                eddy::yield_now().await;
            }
        }
    });
    assert_eq!(steps.load(Ordering::SeqCst), 10);
}

#[test]
fn a_detached_task_can_spawn_and_finish_others() {
    let (tx, rx) = std::sync::mpsc::channel();
    let received = common::block_on(async move {
        eddy::spawn(async move {
            let child = eddy::spawn(async { 5 });
            tx.send(child.await.unwrap()).unwrap();
        })
        .detach();
        let mut received = None;
        common::eventually("the detached task reports", || {
            received = rx.try_recv().ok();
            received.is_some()
        })
        .await;
        received
    });
    assert_eq!(received, Some(5));
}
