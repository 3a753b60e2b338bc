//! Spawning a task and awaiting its output.

mod common;

#[test]
fn awaiting_a_task_returns_its_output() {
    let out = common::block_on(async { eddy::spawn(async { 6 * 7 }).await });
    assert_eq!(out.unwrap(), 42);
}

#[test]
fn tasks_run_concurrently_with_the_main_future() {
    common::block_on(async {
        let (tx, rx) = std::sync::mpsc::channel();
        let task = eddy::spawn(async move { tx.send("from task").unwrap() });
        // The main future has not awaited the task, yet it runs.
        let mut received = None;
        common::eventually("the task sends", || {
            received = rx.try_recv().ok();
            received.is_some()
        })
        .await;
        assert_eq!(received, Some("from task"));
        common::eventually("the task is finished", || task.is_finished()).await;
        task.await.unwrap();
    });
}

#[test]
fn outputs_come_back_to_their_own_handles() {
    common::block_on(async {
        let tasks: Vec<_> = (0..50u64).map(|i| eddy::spawn(async move { i * i })).collect();
        for (i, task) in tasks.into_iter().enumerate().rev() {
            assert_eq!(task.await.unwrap(), (i * i) as u64);
        }
    });
}

#[test]
#[allow(clippy::async_yields_async)] // The task's handle is handed out of `block_on` on purpose.
fn a_finished_task_can_be_awaited_later() {
    let rt = common::runtime();
    let task = rt.block_on(async {
        let task = eddy::spawn(async { String::from("kept") });
        common::eventually("the task is finished", || task.is_finished()).await;
        task
    });
    assert!(task.is_finished());
    assert_eq!(rt.block_on(task).unwrap(), "kept");
}
