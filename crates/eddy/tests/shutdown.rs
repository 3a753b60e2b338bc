//! A runtime dropped with tasks pending cancels them and runs their `Drop`.

mod common;

use common::DropCounter;

#[test]
fn dropping_the_runtime_drops_pending_tasks() {
    let drops = DropCounter::new();
    let rt = common::runtime();
    let handles = rt.block_on(async {
        let detached: Vec<_> = (0..100)
            .map(|_| {
                let guard = drops.guard();
                eddy::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                })
            })
            .collect();
        // Some tasks are parked, some never polled, some are handed back still pending.
        common::yield_times(2).await;
        let late = eddy::spawn({
            let guard = drops.guard();
            async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }
        });
        let mut detached = detached;
        let kept = detached.split_off(50);
        for task in detached {
            task.detach();
        }
        (kept, late)
    });
    assert_eq!(drops.count(), 0);
    drop(rt);
    assert_eq!(drops.count(), 101, "every pending task's future is dropped at shutdown");
    let (kept, late) = handles;
    for task in kept {
        let err = futures_lite::future::block_on(task).unwrap_err();
        assert!(err.is_cancelled(), "{err}");
    }
    assert!(futures_lite::future::block_on(late).unwrap_err().is_cancelled());
}

#[test]
fn tasks_waiting_on_each_other_are_dropped_at_shutdown() {
    let drops = DropCounter::new();
    let rt = common::runtime();
    rt.block_on(async {
        // A waits on B, which waits forever: only the runtime can reach them.
        let guard_b = drops.guard();
        let b = eddy::spawn(async move {
            let _guard = guard_b;
            std::future::pending::<()>().await;
        });
        let guard_a = drops.guard();
        eddy::spawn(async move {
            let _guard = guard_a;
            b.await.unwrap();
        })
        .detach();
        common::yield_times(3).await;
    });
    drop(rt);
    assert_eq!(drops.count(), 2);
}

struct SpawnOnDrop(std::sync::mpsc::Sender<bool>);

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        // Spawning while the runtime shuts down gives back a cancelled task, not a panic.
        let task = eddy::spawn(async {});
        let cancelled = futures_lite::future::block_on(task).map_or_else(|e| e.is_cancelled(), |_| false);
        self.0.send(cancelled).unwrap();
    }
}

#[test]
fn spawning_during_shutdown_returns_a_cancelled_task() {
    let (tx, rx) = std::sync::mpsc::channel();
    let rt = common::runtime();
    rt.block_on(async move {
        let guard = SpawnOnDrop(tx);
        eddy::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        })
        .detach();
        common::yield_times(2).await;
    });
    drop(rt);
    assert!(rx.try_recv().unwrap(), "the task spawned during shutdown was not cancelled");
}

#[test]
fn run_cancels_what_remains_when_main_returns() {
    let drops = DropCounter::new();
    let value = eddy::run(async {
        let guard = drops.guard();
        eddy::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        })
        .detach();
        "main done"
    });
    assert_eq!(value, "main done");
    assert_eq!(drops.count(), 1);
}
