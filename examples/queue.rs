//! Workers take jobs from a queue; `join` waits until every job is done.
//!
//! asyncio (the `asyncio.Queue` documentation's example): put 20 "sleep for a while" jobs in a
//! `Queue`, start three workers that `get` a job, sleep, and call `task_done`; `await
//! queue.join()` returns when all jobs are processed, the workers are then cancelled, and the
//! program prints how long the jobs took in total against the wall-clock time. In eddy the
//! workers are stopped with `queue.shutdown(false)`: their `get` fails once the queue is empty,
//! which ends their loop (cancelling them by dropping or aborting works too).
//!
//! Run with `cargo run --release --example queue`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use eddy::queue::Queue;

/// Scales the delays down when the test matrix runs this as a smoke test.
fn scale() -> f64 {
    if std::env::var_os("EDDY_EXAMPLE_SMOKE").is_some() {
        0.1
    } else {
        1.0
    }
}

async fn worker(name: String, queue: Arc<Queue<Duration>>) -> Duration {
    let mut slept = Duration::ZERO;
    while let Ok(job) = queue.get().await {
        eddy::sleep(job).await;
        slept += job;
        queue.task_done().expect("one task_done per job taken");
        println!("{name} has slept for {:.2} seconds", job.as_secs_f64());
    }
    slept
}

async fn main_async() {
    let queue = Arc::new(Queue::new(0));
    // Deterministic "random" delays between 0.05 and 1.0 s, so runs can be compared.
    let mut total = Duration::ZERO;
    for i in 0..20u64 {
        let job = Duration::from_secs_f64((0.05 + ((i * 7919) % 20) as f64 * 0.05) * scale());
        total += job;
        queue.put_nowait(job).expect("an unbounded queue always has room");
    }

    let workers: Vec<_> = (0..3).map(|i| eddy::spawn(worker(format!("worker-{i}"), queue.clone()))).collect();

    let start = Instant::now();
    queue.join().await;
    let elapsed = start.elapsed();
    queue.shutdown(false);

    let mut slept = Duration::ZERO;
    for task in workers {
        slept += task.await.expect("the worker finished");
    }
    assert_eq!(slept, total);
    println!("====");
    println!("3 workers slept in parallel for {:.2} seconds", elapsed.as_secs_f64());
    println!("total expected sleep time: {:.2} seconds", total.as_secs_f64());
}

fn main() {
    eddy::run(main_async());
}
