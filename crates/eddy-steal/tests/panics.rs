//! A panicking task never takes down a worker: every worker keeps serving.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::within;
use eddy_steal::Executor;

#[test]
fn every_worker_keeps_serving_after_panics() {
    within(Duration::from_secs(60), || {
        const WORKERS: usize = 3;
        let ex = Executor::builder().workers(WORKERS).build().unwrap();
        let failures: Vec<_> = (0..300).map(|i| ex.spawn(async move { panic!("task {i} fails") })).collect();
        let threads = ex.run(async move {
            for failure in failures {
                assert!(failure.await.unwrap_err().is_panic());
            }
            // Tasks that can only finish together need every worker to be alive.
            let barrier = Arc::new(Barrier::new(WORKERS));
            let tasks: Vec<_> = (0..WORKERS)
                .map(|_| {
                    let barrier = barrier.clone();
                    eddy_task::spawn(async move {
                        barrier.wait();
                        std::thread::current().id()
                    })
                })
                .collect();
            let mut threads = HashSet::new();
            for task in tasks {
                threads.insert(task.await.unwrap());
            }
            threads
        });
        assert_eq!(threads.len(), WORKERS);
    });
}
