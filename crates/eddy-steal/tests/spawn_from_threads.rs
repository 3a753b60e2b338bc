//! Spawning concurrently from many plain threads through handles.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::within;
use eddy_steal::Executor;

#[test]
fn many_threads_spawn_at_once() {
    within(Duration::from_secs(120), || {
        const THREADS: usize = 16;
        const PER_THREAD: usize = 5_000;
        let ex = Executor::builder().workers(4).build().unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let spawners: Vec<_> = (0..THREADS)
            .map(|t| {
                let handle = ex.handle();
                let ran = ran.clone();
                std::thread::spawn(move || {
                    (0..PER_THREAD)
                        .map(|i| {
                            let ran = ran.clone();
                            handle.spawn(async move {
                                ran.fetch_add(1, Ordering::Relaxed);
                                t * PER_THREAD + i
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let tasks: Vec<_> = spawners.into_iter().flat_map(|s| s.join().unwrap()).collect();
        let sum = ex.run(async move {
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            sum
        });
        let n = THREADS * PER_THREAD;
        assert_eq!(ran.load(Ordering::Relaxed), n);
        assert_eq!(sum, n * (n - 1) / 2);
    });
}
