//! A million tasks spread over the workers, spawned from the main future and from tasks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use eddy_steal::Executor;

#[test]
fn a_million_tasks_across_workers() {
    const N: usize = 1_000_000;
    let ex = Executor::builder().workers(4).build().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let threads = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let total = ex.run({
        let (ran, threads) = (ran.clone(), threads.clone());
        async move {
            // Spawned in batches of tasks that themselves spawn, so both paths are exercised.
            let spawners: Vec<_> = (0..100)
                .map(|_| {
                    let (ran, threads) = (ran.clone(), threads.clone());
                    eddy_task::spawn(async move {
                        let tasks: Vec<_> = (0..N / 100)
                            .map(|i| {
                                let ran = ran.clone();
                                eddy_task::spawn(async move {
                                    ran.fetch_add(1, Ordering::Relaxed);
                                    i
                                })
                            })
                            .collect();
                        threads.lock().unwrap().insert(std::thread::current().id());
                        let mut sum = 0usize;
                        for task in tasks {
                            sum += task.await.unwrap();
                        }
                        sum
                    })
                })
                .collect();
            let mut total = 0;
            for spawner in spawners {
                total += spawner.await.unwrap();
            }
            total
        }
    });
    assert_eq!(ran.load(Ordering::Relaxed), N);
    assert_eq!(total, 100 * (N / 100) * (N / 100 - 1) / 2);
    assert!(threads.lock().unwrap().len() > 1, "all the work ran on one worker");
    assert_eq!(ex.registered_tasks(), 0);
}
