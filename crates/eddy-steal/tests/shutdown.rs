//! Dropping the executor with tasks pending, running and being woken: every future is dropped
//! exactly once, shutdown returns, and spawns afterwards come back cancelled.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{wait_until, within, Signal};
use eddy_steal::Executor;

struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn shutdown_with_tasks_pending_running_and_mid_wake() {
    within(Duration::from_secs(60), || {
        let ex = Executor::builder().workers(2).build().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        // Pending forever.
        for _ in 0..100 {
            let guard = Guard(drops.clone());
            ex.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            })
            .detach();
        }
        // Running: spinning through yields.
        for _ in 0..4 {
            let (guard, started) = (Guard(drops.clone()), started.clone());
            ex.spawn(async move {
                let _guard = guard;
                started.fetch_add(1, Ordering::SeqCst);
                loop {
                    eddy_task::yield_now().await;
                }
            })
            .detach();
        }
        // Being woken from another thread while the executor shuts down.
        let signal = Signal::default();
        let stop = Arc::new(AtomicBool::new(false));
        let woken = {
            let (guard, signal) = (Guard(drops.clone()), signal.clone());
            ex.spawn(async move {
                let _guard = guard;
                let mut n = 0;
                loop {
                    n += 1;
                    signal.reached(n).await;
                    // The storm outpaces this loop, so `reached` is often ready at once; a future
                    // that never returns `Pending` keeps its worker forever, so yield each round.
                    eddy_task::yield_now().await;
                }
            })
        };
        let storm = {
            let (signal, stop) = (signal.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    signal.bump();
                }
            })
        };
        assert!(wait_until(|| started.load(Ordering::SeqCst) == 4));
        drop(ex);
        stop.store(true, Ordering::SeqCst);
        storm.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 105, "every task's future is dropped exactly once");
        let err = futures_lite::future::block_on(woken).unwrap_err();
        assert!(err.is_cancelled());
    });
}

#[test]
fn spawning_on_a_closed_executor_returns_a_cancelled_task() {
    let ex = Executor::builder().workers(1).build().unwrap();
    let handle = ex.handle();
    drop(ex);
    assert!(handle.is_closed());
    let task = handle.spawn(async { 1 });
    let err = futures_lite::future::block_on(task).unwrap_err();
    assert!(err.is_cancelled());
}
