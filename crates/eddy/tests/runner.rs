//! A `Runtime` kept across several `block_on` calls (asyncio's `Runner`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn block_on_can_be_called_many_times() {
    let rt = common::runtime();
    for i in 0..10 {
        assert_eq!(rt.block_on(async move { eddy::spawn(async move { i * 2 }).await.unwrap() }), i * 2);
    }
}

#[test]
fn tasks_keep_running_across_block_on_calls() {
    let rt = common::runtime();
    let ticks = Arc::new(AtomicUsize::new(0));
    rt.block_on({
        let ticks = ticks.clone();
        async move {
            eddy::spawn(async move {
                loop {
                    ticks.fetch_add(1, Ordering::SeqCst);
                    eddy::yield_now().await;
                }
            })
            .detach();
        }
    });
    let before = ticks.load(Ordering::SeqCst);
    rt.block_on(common::eventually("the background task runs during the second block_on", || {
        ticks.load(Ordering::SeqCst) > before
    }));
}

#[test]
fn a_runtime_built_by_the_builder_runs_tasks() {
    let rt = eddy::Runtime::builder().local().build().unwrap();
    assert_eq!(rt.block_on(async { eddy::spawn(async { "ok" }).await.unwrap() }), "ok");
}
