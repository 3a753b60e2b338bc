//! Many tasks on the work-stealing executor's threads: counts add up, nothing is lost.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::within;
use eddy_steal::Executor;
use eddy_sync::queue::Queue;
use eddy_sync::{Lock, Semaphore};

fn executor() -> Executor {
    Executor::builder().workers(4).build().unwrap()
}

#[test]
fn producers_and_consumers_across_threads() {
    within(Duration::from_secs(120), || {
        const PRODUCERS: u64 = 8;
        const ITEMS: u64 = 10_000;
        const CONSUMERS: usize = 4;
        let ex = executor();
        let queue = Arc::new(Queue::new(16));
        ex.run(async {
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let queue = queue.clone();
                    eddy_task::spawn(async move {
                        let (mut count, mut sum) = (0u64, 0u64);
                        while let Ok(item) = queue.get().await {
                            count += 1;
                            sum += item;
                            queue.task_done().unwrap();
                        }
                        (count, sum)
                    })
                })
                .collect();
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let queue = queue.clone();
                    eddy_task::spawn(async move {
                        for i in 0..ITEMS {
                            queue.put(p * ITEMS + i).await.unwrap();
                        }
                    })
                })
                .collect();
            for producer in producers {
                producer.await.unwrap();
            }
            queue.join().await;
            queue.shutdown(false);
            let (mut count, mut sum) = (0, 0);
            for consumer in consumers {
                let (c, s) = consumer.await.unwrap();
                count += c;
                sum += s;
            }
            let n = PRODUCERS * ITEMS;
            assert_eq!(count, n);
            assert_eq!(sum, n * (n - 1) / 2);
        });
    });
}

#[test]
fn lock_and_semaphore_across_threads() {
    within(Duration::from_secs(120), || {
        let ex = executor();
        let counter = Arc::new(Lock::new(0u64));
        let limit = Arc::new(Semaphore::new(3));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        ex.run(async {
            let tasks: Vec<_> = (0..16)
                .map(|_| {
                    let (counter, limit) = (counter.clone(), limit.clone());
                    let (inside, most) = (inside.clone(), most.clone());
                    eddy_task::spawn(async move {
                        for _ in 0..500 {
                            let _permit = limit.acquire().await;
                            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            {
                                let mut guard = counter.lock().await;
                                let seen = *guard;
                                eddy_task::yield_now().await;
                                *guard = seen + 1;
                            }
                            inside.fetch_sub(1, Ordering::SeqCst);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        assert_eq!(*futures_lite::future::block_on(counter.lock()), 16 * 500);
        assert!(most.load(Ordering::SeqCst) <= 3);
        assert_eq!(limit.value(), 3);
    });
}
