//! Three coroutines run concurrently and their results come back in argument order.
//!
//! asyncio: `await asyncio.gather(count(), count(), count())` prints
//! `One One One Two Two Two` in about 1 s. Here each is a task and the handles are awaited in
//! order (the `gather` combinator arrives with eddy's combinators).
//!
//! Run with `cargo run --release --example gather`.

use std::time::{Duration, Instant};

/// Scales the delays down when the test matrix runs this as a smoke test.
fn scaled(seconds: f64) -> Duration {
    let factor = if std::env::var_os("EDDY_EXAMPLE_SMOKE").is_some() { 0.1 } else { 1.0 };
    Duration::from_secs_f64(seconds * factor)
}

async fn count(id: u32) -> u32 {
    println!("One");
    eddy::sleep(scaled(1.0)).await;
    println!("Two");
    id * 10
}

async fn main_async() {
    let start = Instant::now();
    let tasks: Vec<_> = (1..=3).map(|id| eddy::spawn(count(id))).collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("count failed"));
    }
    println!("Results in argument order: {results:?}");
    println!("Executed in {:.2} seconds.", start.elapsed().as_secs_f64());
}

fn main() {
    eddy::run(main_async());
}
