//! `eddy::sync`, `eddy::queue` and `eddy::channel` used the way asyncio code uses them, on
//! every executor: a worker pool fed by a queue, gets cut short by timeouts, a barrier, a lock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use eddy::queue::Queue;
use eddy::sync::{Barrier, Event, Lock};

#[test]
fn worker_pool_with_task_done_and_join() {
    let total = common::block_on(async {
        let queue = Arc::new(Queue::new(4));
        let sum = Arc::new(Lock::new(0u64));
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let (queue, sum) = (queue.clone(), sum.clone());
                eddy::spawn(async move {
                    while let Ok(n) = queue.get().await {
                        eddy::sleep(Duration::from_micros(50)).await;
                        *sum.lock().await += n;
                        queue.task_done().unwrap();
                    }
                })
            })
            .collect();
        for n in 1..=200u64 {
            queue.put(n).await.unwrap();
        }
        queue.join().await;
        let total = *sum.lock().await;
        queue.shutdown(false);
        for worker in workers {
            worker.await.unwrap();
        }
        total
    });
    assert_eq!(total, 200 * 201 / 2);
}

#[test]
fn gets_cut_short_by_timeouts_lose_no_item() {
    let got = common::block_on(async {
        let queue = Arc::new(Queue::new(0));
        let producer = eddy::spawn({
            let queue = queue.clone();
            async move {
                for n in 0..300u32 {
                    queue.put(n).await.unwrap();
                    if n % 7 == 0 {
                        eddy::sleep(Duration::from_micros(200)).await;
                    }
                }
                queue.shutdown(false);
            }
        });
        let mut got = Vec::new();
        loop {
            // Most of these time out while waiting: the dropped get must not take an item.
            match eddy::timeout(Duration::from_micros(100), queue.get()).await {
                Ok(Ok(n)) => got.push(n),
                Ok(Err(_shut_down)) => break,
                Err(_elapsed) => continue,
            }
        }
        producer.await.unwrap();
        got
    });
    assert_eq!(got, (0..300).collect::<Vec<_>>());
}

#[test]
fn barrier_and_event_coordinate_tasks() {
    common::block_on(async {
        let barrier = Arc::new(Barrier::new(4));
        let go = Arc::new(Event::new());
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (barrier, go) = (barrier.clone(), go.clone());
                eddy::spawn(async move {
                    go.wait().await;
                    barrier.wait().await.unwrap()
                })
            })
            .collect();
        go.set();
        let mut indexes = Vec::new();
        for task in tasks {
            indexes.push(task.await.unwrap());
        }
        indexes.sort();
        assert_eq!(indexes, [0, 1, 2, 3]);
    });
}

#[test]
fn channels_carry_values_between_tasks() {
    common::block_on(async {
        let (tx, rx) = eddy::channel::bounded(2);
        let (done_tx, done_rx) = eddy::channel::oneshot();
        eddy::spawn(async move {
            let mut sum = 0;
            while let Ok(n) = rx.recv().await {
                sum += n;
            }
            done_tx.send(sum).unwrap();
        })
        .detach();
        for n in 1..=10 {
            tx.send(n).await.unwrap();
        }
        drop(tx);
        assert_eq!(done_rx.await, Ok(55));
    });
}
