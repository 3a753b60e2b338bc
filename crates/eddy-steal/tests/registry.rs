//! A task joins the executor's registry the first time it waits, and leaves it when it ends;
//! shutdown reaches waiting tasks through it and the others through the queues.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{within, Door};
use eddy_steal::Executor;

#[test]
fn a_task_registers_when_it_first_waits_not_when_it_is_spawned() {
    within(Duration::from_secs(60), || {
        let ex = Executor::builder().workers(2).build().unwrap();
        let (started, release) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        // Runs without ever returning `Pending` until released.
        let busy = ex.spawn({
            let (started, release) = (started.clone(), release.clone());
            async move {
                started.store(true, Ordering::SeqCst);
                while !release.load(Ordering::SeqCst) {
                    std::thread::yield_now();
                }
            }
        });
        while !started.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        assert_eq!(ex.registered_tasks(), 0, "a running task that has not waited is not registered");

        let signal = Door::default();
        let waiting = ex.spawn({
            let signal = signal.clone();
            async move { signal.pass().await }
        });
        while ex.registered_tasks() == 0 {
            std::thread::yield_now();
        }
        assert_eq!(ex.registered_tasks(), 1, "only the task that waits");

        release.store(true, Ordering::SeqCst);
        signal.open();
        ex.run(async {
            busy.await.unwrap();
            waiting.await.unwrap();
        });
        assert_eq!(ex.registered_tasks(), 0, "ended tasks leave the registry");
    });
}

#[test]
fn shutdown_drops_waiting_and_never_run_tasks_alike() {
    within(Duration::from_secs(60), || {
        let ex = Executor::builder().workers(1).build().unwrap();
        let dropped = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        struct Count(Arc<std::sync::atomic::AtomicUsize>);
        impl Drop for Count {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let never = Door::default();
        // Waits forever: reached through the registry.
        let waiter = {
            let (count, never) = (Count(dropped.clone()), never.clone());
            ex.spawn(async move {
                let _count = count;
                never.pass().await;
            })
        };
        while ex.registered_tasks() == 0 {
            std::thread::yield_now();
        }
        // Blocks the only worker, so the tasks spawned behind it never run: reached through
        // the queues.
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let blocker = ex.spawn(async move {
            let _ = gate_rx.recv_timeout(Duration::from_millis(200));
        });
        let queued: Vec<_> = (0..10)
            .map(|_| {
                let count = Count(dropped.clone());
                ex.spawn(async move {
                    let _count = count;
                })
            })
            .collect();
        waiter.detach();
        blocker.detach();
        for task in queued {
            task.detach();
        }
        // The worker leaves the blocker after 200 ms, sees the executor closing and exits: the
        // queued tasks are dropped unrun.
        drop(ex);
        drop(gate_tx);
        assert_eq!(dropped.load(Ordering::SeqCst), 11, "every future dropped once, the waiter's included");
    });
}
