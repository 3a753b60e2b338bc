//! `Handle`: the runtime reached from any thread (asyncio's `run_coroutine_threadsafe`).

mod common;

use std::time::Duration;

#[test]
fn the_current_handle_is_there_in_main_and_in_tasks_only() {
    assert!(eddy::Handle::try_current().is_none());
    common::block_on(async {
        assert!(eddy::Handle::try_current().is_some());
        let in_task = eddy::spawn(async { eddy::Handle::try_current().is_some() }).await.unwrap();
        assert!(in_task, "tasks see their runtime's handle");
    });
    assert!(eddy::Handle::try_current().is_none());
}

#[test]
fn handle_current_outside_a_runtime_says_how_to_fix_it() {
    let payload = std::panic::catch_unwind(|| drop(eddy::Handle::current())).unwrap_err();
    let msg = common::panic_text(payload);
    assert!(msg.contains("outside of an eddy runtime"), "{msg}");
}

#[test]
fn a_plain_thread_submits_work_and_waits_for_the_result() {
    let rt = common::runtime();
    let handle = rt.handle().clone();
    let submitter = std::thread::spawn(move || {
        let task = handle.spawn(async {
            eddy::sleep(Duration::from_millis(5)).await;
            6 * 7
        });
        eddy::block_on(task).unwrap()
    });
    // The runtime serves the task while its owner is in `block_on`.
    rt.block_on(common::eventually("the submitter got its result", || submitter.is_finished()));
    assert_eq!(submitter.join().unwrap(), 42);
}

#[test]
fn a_handle_spawns_from_inside_a_task_too() {
    common::block_on(async {
        let handle = eddy::Handle::current();
        let inner = eddy::spawn(async move { handle.spawn(async { "nested" }).await.unwrap() });
        assert_eq!(inner.await.unwrap(), "nested");
    });
}

#[test]
fn spawning_through_the_handle_of_a_dropped_runtime_returns_a_cancelled_task() {
    let rt = common::runtime();
    let handle = rt.handle().clone();
    drop(rt);
    let task = handle.spawn(async { 1 });
    let err = eddy::block_on(task).unwrap_err();
    assert!(err.is_cancelled(), "{err}");
}
