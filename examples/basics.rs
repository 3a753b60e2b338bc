//! `asyncio.run(main())` with two tasks created up front and awaited.
//!
//! Task 1 sleeps 1 s and task 2 sleeps 2 s; awaiting both takes about 2 s, not 3 s, because
//! they sleep at the same time.
//!
//! Run with `cargo run --release --example basics`.

use std::time::{Duration, Instant};

/// Scales the delays down when the test matrix runs this as a smoke test.
fn scaled(seconds: f64) -> Duration {
    let factor = if std::env::var_os("EDDY_EXAMPLE_SMOKE").is_some() { 0.1 } else { 1.0 };
    Duration::from_secs_f64(seconds * factor)
}

async fn task(name: &str, seconds: f64) -> String {
    println!("{name} started");
    eddy::sleep(scaled(seconds)).await;
    println!("{name} completed");
    format!("{name} result")
}

async fn main_async() {
    let start = Instant::now();
    // `asyncio.create_task`: both start running now.
    let task1 = eddy::spawn(task("Task 1", 1.0));
    let task2 = eddy::spawn(task("Task 2", 2.0));

    // `await task1; await task2`
    let r1 = task1.await.expect("task 1 failed");
    let r2 = task2.await.expect("task 2 failed");
    println!("{r1}, {r2}");
    println!("Total: {:.2}s (the sleeps overlapped)", start.elapsed().as_secs_f64());
}

fn main() {
    eddy::run(main_async());
}
