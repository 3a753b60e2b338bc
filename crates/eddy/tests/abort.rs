//! `AbortHandle::abort` cancels a task from anywhere, including another thread.

mod common;

use common::DropCounter;

#[test]
fn abort_from_another_thread_cancels_a_parked_task() {
    let drops = DropCounter::new();
    let err = common::block_on(async {
        let task = drops.spawn_parked();
        common::yield_times(2).await;
        let handle = task.abort_handle();
        std::thread::spawn(move || handle.abort()).join().unwrap();
        task.await.unwrap_err()
    });
    assert!(err.is_cancelled(), "{err}");
    assert!(!err.is_panic());
    assert_eq!(drops.count(), 1);
}

#[test]
fn an_aborted_task_never_completes() {
    common::block_on(async {
        let gate = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let opened = gate.clone();
        let task = eddy::spawn(async move {
            // Stays pending until the gate opens, which happens only after the abort.
            std::future::poll_fn(|cx| {
                if opened.load(std::sync::atomic::Ordering::SeqCst) {
                    unreachable!("an aborted task must not get past its next poll");
                }
                cx.waker().wake_by_ref();
                std::task::Poll::<()>::Pending
            })
            .await
        });
        task.abort();
        gate.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn on_one_thread_abort_before_the_first_poll_prevents_running() {
    eddy::run_local(async {
        let task = eddy::spawn(async { unreachable!("an aborted task must not be polled") });
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn abort_after_completion_keeps_the_output() {
    common::block_on(async {
        let task = eddy::spawn(async { "done" });
        common::eventually("the task is finished", || task.is_finished()).await;
        task.abort_handle().abort();
        assert_eq!(task.await.unwrap(), "done");
    });
}

#[test]
fn abort_handles_are_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<eddy::task::AbortHandle>();
    common::block_on(async {
        let task = eddy::spawn(std::future::pending::<()>());
        let handle = task.abort_handle();
        assert_eq!(handle.id(), task.id());
        let copies: Vec<_> = (0..4).map(|_| handle.clone()).collect();
        for copy in copies {
            std::thread::spawn(move || copy.abort()).join().unwrap();
        }
        assert!(task.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn an_abort_handle_outlives_the_task_and_its_handle() {
    let drops = DropCounter::new();
    common::block_on(async {
        // Detached and parked: only the abort handle still reaches it.
        let task = drops.spawn_parked();
        let handle = task.abort_handle();
        task.detach();
        common::yield_times(2).await;
        handle.abort();
        common::eventually("the aborted task's future is dropped", || drops.count() == 1).await;
        // The task is gone and so is its `Task` handle; the abort handle keeps what it points
        // to alive, so using it again is harmless.
        handle.abort();
        assert_eq!(handle.clone().id(), handle.id());

        // The same for a task that ran to completion before its handle went away.
        let task = eddy::spawn(async { 1 });
        let handle = task.abort_handle();
        assert_eq!(task.await.unwrap(), 1);
        std::thread::spawn(move || handle.abort()).join().unwrap();
    });
    assert_eq!(drops.count(), 1);
}
