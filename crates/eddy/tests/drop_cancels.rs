//! Dropping a `Task` cancels it: its future is dropped, so its `Drop` cleanup runs.

mod common;

use common::DropCounter;

#[test]
fn dropping_the_handle_drops_the_future() {
    let drops = DropCounter::new();
    common::block_on(async {
        let task = drops.spawn_parked();
        common::yield_times(2).await; // the task is probably parked in `pending` by now
        assert_eq!(drops.count(), 0);
        drop(task);
        common::eventually("the cancelled task's future is dropped", || drops.count() == 1).await;
        common::yield_times(2).await;
        assert_eq!(drops.count(), 1, "dropped more than once");
    });
}

#[test]
fn dropping_the_handle_right_after_spawning_drops_the_future() {
    let drops = DropCounter::new();
    common::block_on(async {
        drop(drops.spawn_parked());
        common::eventually("the future is dropped", || drops.count() == 1).await;
    });
    assert_eq!(drops.count(), 1);
}

#[test]
fn on_one_thread_a_task_dropped_before_its_first_poll_never_runs() {
    let drops = DropCounter::new();
    eddy::run_local(async {
        let guard = drops.guard();
        drop(eddy::spawn(async move {
            let _guard = guard;
            unreachable!("a task cancelled before its first poll must not run");
        }));
        common::yield_times(2).await;
        assert_eq!(drops.count(), 1);
    });
}

#[test]
fn cancel_waits_until_cleanup_has_run() {
    let drops = DropCounter::new();
    common::block_on(async {
        let guard = drops.guard();
        let task = eddy::spawn(async move {
            let _guard = guard;
            std::future::pending::<u32>().await
        });
        common::yield_times(1).await;
        assert_eq!(task.cancel().await, None);
        assert_eq!(drops.count(), 1, "cancel() returned before the future was dropped");
    });
}

#[test]
fn cancel_after_completion_returns_the_output() {
    common::block_on(async {
        let task = eddy::spawn(async { 7 });
        common::eventually("the task is finished", || task.is_finished()).await;
        assert_eq!(task.cancel().await, Some(7));
    });
}

#[test]
fn cancellation_propagates_down_an_await_chain() {
    let drops = DropCounter::new();
    common::block_on(async {
        let inner_guard = drops.guard();
        let outer_guard = drops.guard();
        let outer = eddy::spawn(async move {
            let _outer = outer_guard;
            let inner = eddy::spawn(async move {
                let _inner = inner_guard;
                std::future::pending::<()>().await;
            });
            inner.await.unwrap();
        });
        common::yield_times(3).await;
        drop(outer);
        common::eventually("both futures are dropped", || drops.count() == 2).await;
    });
}
