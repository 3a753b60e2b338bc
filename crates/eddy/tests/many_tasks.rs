//! 100,000 tasks spawned, run and awaited.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn a_hundred_thousand_tasks() {
    const N: usize = 100_000;
    let ran = Arc::new(AtomicUsize::new(0));
    let sum = common::block_on({
        let ran = ran.clone();
        async move {
            let tasks: Vec<_> = (0..N)
                .map(|i| {
                    let ran = ran.clone();
                    eddy::spawn(async move {
                        eddy::yield_now().await;
                        ran.fetch_add(1, Ordering::Relaxed);
                        i
                    })
                })
                .collect();
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            sum
        }
    });
    assert_eq!(ran.load(Ordering::Relaxed), N);
    assert_eq!(sum, N * (N - 1) / 2);
}
